"""The routes: one plain class per concern, each declaring the intents it handles.

:class:`Routes` builds them over one :class:`~proclient.routes.desk.Desk` (the flow, the
controllers, the job runner, the stage), wires the few hand-overs between them (the card
pulled → the session's end; the creation in flight → the outbox waits…) and answers the
App's one question: which handler takes this intent.
"""

from __future__ import annotations

from collections.abc import Callable

from proclient.messages import Intent
from proclient.routes.cards import CardEventMessage, CardsRoute
from proclient.routes.creation import CreationRoute
from proclient.routes.desk import Desk, HomeBoard, Route
from proclient.routes.ecps import EcpsRoute
from proclient.routes.identity import IdentityRoute
from proclient.routes.outbox import OutboxRoute
from proclient.routes.paper import PaperRoute
from proclient.routes.quit import QuitRoute
from proclient.routes.service import ServiceRoute
from proclient.routes.session import SessionRoute
from proclient.routes.steps import StepsRoute
from proclient.routes.verify import VerifyRoute

__all__ = ["CardEventMessage", "Desk", "Routes"]


class Routes:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.board = HomeBoard(desk.stage, desk.wiring.patient_reader)
        self.service = ServiceRoute(desk, self.board)
        self.outbox = OutboxRoute(desk, self.board, self.service)
        self.identity = IdentityRoute(desk, self.service)
        self.paper = PaperRoute(desk)
        self.steps = StepsRoute(desk, self.board, self.paper)
        self.steps.on_connect_shown = self.identity.connect_shown
        self.cards = CardsRoute(desk, self.board, self.steps)
        self.session = SessionRoute(desk, self.steps, self.identity, self.outbox)
        self.cards.on_cps_removed = self.session.cps_removed
        self.ecps = EcpsRoute(desk, self.session)
        desk.jobs.refused = self.session.refused
        self.verify = VerifyRoute(desk)
        self.creation = CreationRoute(desk, self.board, self.paper, self.outbox)
        self.quit = QuitRoute(desk, self.paper)
        self._handlers: dict[type[Intent], Callable[[Intent], None]] = {}
        for route in (
            self.outbox,
            self.identity,
            self.steps,
            self.cards,
            self.session,
            self.ecps,
            self.verify,
            self.paper,
            self.creation,
        ):
            self._add(route)

    def _add(self, route: Route) -> None:
        for kind, name in route.HANDLES.items():
            if kind in self._handlers:
                raise ValueError(f"{kind.__name__} has two routes")
            self._handlers[kind] = getattr(route, name)

    def leave(self) -> None:
        """Ctrl+Q or F10."""
        self.quit.leave()

    def handler(self, intent: Intent) -> Callable[[Intent], None] | None:
        """The handler of ``intent``'s type (None: no route takes it)."""
        return self._handlers.get(type(intent))

    @property
    def intents(self) -> frozenset[type[Intent]]:
        return frozenset(self._handlers)
