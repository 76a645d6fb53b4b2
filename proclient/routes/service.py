"""The DMP service's state: started after the first frame, then a health probe with back-off.

One truth: the probe's state (controllers/creation.py ``ServiceProbe``) is the only source.
Every change is told to every screen (``ServiceState``: the top bar and the screens that
speak of the service follow it) and to the home's lines; listeners (the outbox, an offline
session) hear when the service answers again.
"""

from __future__ import annotations

from collections.abc import Callable

from proclient.controllers.creation import Reachability
from proclient.core.i18n import _
from proclient.messages import JobFailed, ServiceState
from proclient.routes.desk import Desk, HomeBoard, Route, reachable_of


class ServiceRoute(Route):
    def __init__(self, desk: Desk, board: HomeBoard) -> None:
        super().__init__(desk)
        self.board = board
        self.creation = desk.creation
        self._timer = None
        self._listeners: list[Callable[[Reachability], None]] = []

    def listen(self, listener: Callable[[Reachability], None]) -> None:
        """``listener(state)`` after every health check (and at start)."""
        self._listeners.append(listener)

    @property
    def state(self) -> Reachability:
        return self.creation.probe.state

    @property
    def label(self) -> str:
        """The state in words (joignable, injoignable depuis HH:MM, état inconnu)."""
        return self.creation.probe.label()

    def start(self) -> None:
        """After the first frame: the service's imports and keys must not delay it."""
        self.jobs.run("service-start", self.creation.start, done=self.checked, failed=self._failed)

    def _failed(self, failure: JobFailed) -> None:
        self.board.service = failure.message
        self.board.refresh()

    def probe(self) -> None:
        """A health check now (then again after the probe's back-off)."""
        if self.creation.binding is None:
            return
        self.jobs.run("service-probe", self.creation.check, done=self.checked)

    def checked(self, _result=None) -> None:
        """A health check answered: say it everywhere, schedule the next one."""
        binding = self.creation.binding
        label, state = self.label, self.state
        what = binding.description if binding is not None else ""
        self.board.service = _("{what} — {state}", what=what, state=label)
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.stage.after(self.creation.probe.next_delay(), self.probe)
        self.board.refresh()
        reachable = reachable_of(state)
        self.stage.tell(lambda: ServiceState(label, reachable))
        for listener in self._listeners:
            listener(state)

    def toggle_demo_network(self) -> None:
        """Demo: cut or restore the embedded service's network, then probe it at once."""
        network = self.desk.wiring.network
        if network is None:
            return
        cut = network.toggle()
        self.stage.notify(
            _("Démonstration : réseau coupé.") if cut else _("Démonstration : réseau rétabli.")
        )
        self.probe()
