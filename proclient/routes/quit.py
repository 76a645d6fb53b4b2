"""Leaving proclient (Ctrl+Q, F10): ask first when something would be left behind — a codes
sheet never handed over, a patient half-way through, creations recorded offline."""

from __future__ import annotations

from proclient.core.flow import Step
from proclient.routes.desk import Desk, Route
from proclient.routes.paper import PaperRoute


class QuitRoute(Route):
    def __init__(self, desk: Desk, paper: PaperRoute) -> None:
        super().__init__(desk)
        self.paper = paper
        self._confirmed = False

    def leave(self) -> None:
        self.paper.before_leaving(self._patient_then_outbox)

    def _patient_then_outbox(self) -> None:
        """A patient between the card and the accusé: their work would be lost; ask."""
        if self.flow.step not in (Step.HOME, Step.DONE) and not self._confirmed:
            from proclient.screens.outbox import QuitModal

            self.stage.push(QuitModal(self.desk.outbox.pending, patient=True), self._answered)
            return
        self._outbox()

    def _outbox(self) -> None:
        """With creations still recorded, say they stay and ask first."""
        pending = self.desk.outbox.pending
        if pending and not self._confirmed:
            from proclient.screens.outbox import QuitModal

            self.stage.push(QuitModal(pending), self._answered)
            return
        self.stage.exit()

    def _answered(self, quit_now: bool | None) -> None:
        if quit_now:
            self._confirmed = True
            self.stage.exit()
