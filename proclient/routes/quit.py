"""Leaving proclient (Ctrl+Q, F10): ask first when something would be left behind."""

from __future__ import annotations

from proclient.routes.desk import Desk, Route


class QuitRoute(Route):
    def __init__(self, desk: Desk) -> None:
        super().__init__(desk)
        self._confirmed = False

    def leave(self) -> None:
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
