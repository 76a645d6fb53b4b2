"""What every route is given: the flow, the controllers, the job runner and the stage.

A route is a plain class owning one concern (cards, steps, session and INSi, creation, paper,
outbox and the service's state, the palette). It declares the intents it handles in
``HANDLES`` (intent type → method name); the App dispatches each intent to the one route that
declares it. Routes never see the App: they talk to the controllers, run I/O through the job
runner, and change screens through the stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from proclient.controllers.card import CardController
from proclient.controllers.creation import CreationController, Reachability
from proclient.controllers.outbox import OutboxController
from proclient.controllers.paper import PaperController
from proclient.controllers.session import SessionController
from proclient.core.flow import CreationFlow
from proclient.core.i18n import _
from proclient.jobs import JobRunner
from proclient.messages import HomeStatus, Intent
from proclient.ports import Wiring
from proclient.routes.stage import Stage
from proclient.screens.base import ScreenContext


@dataclass
class Desk:
    wiring: Wiring
    flow: CreationFlow
    cards: CardController
    session: SessionController
    creation: CreationController
    paper: PaperController
    outbox: OutboxController
    jobs: JobRunner
    stage: Stage

    def context(self) -> ScreenContext:
        """What a screen made now may show of the workstation."""
        binding = self.creation.binding
        deck = self.wiring.deck
        return ScreenContext(
            demo=self.wiring.demo,
            demo_cards=deck.choices if deck is not None else (),
            printer=self.wiring.printer,
            auto_print=self.wiring.auto_print,
            credential_label=binding.credentials.label if binding else _("carte CPS"),
            credential_hint=binding.credentials.hint if binding else "",
            authenticated=self.session.authenticated,
            offline_session=self.session.offline,
            outbox=self.outbox.available and not self.session.card_less,
            card_less=self.session.card_less,
            service_label=self.creation.probe.label() if binding else "",
            service_reachable=reachable_of(self.creation.probe.state),
        )


class Route:
    """One concern's handlers; ``HANDLES``: intent type → the name of its method."""

    HANDLES: ClassVar[dict[type[Intent], str]] = {}

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.flow = desk.flow
        self.stage = desk.stage
        self.jobs = desk.jobs


class HomeBoard:
    """The home screen's lines: the reader, the service, the prompt, the outbox."""

    def __init__(self, stage: Stage, reader: str) -> None:
        self.stage = stage
        self.reader = reader
        self.service = _("démarrage…")
        self.prompt = ""
        self.outbox = ""

    def refresh(self) -> None:
        lines = (self.reader, self.service, self.prompt, self.outbox)
        self.stage.tell(lambda: HomeStatus(*lines))


def reachable_of(state: Reachability) -> bool | None:
    return None if state is Reachability.UNKNOWN else state is Reachability.REACHABLE
