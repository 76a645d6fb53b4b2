"""Screens that close themselves safely, whatever the keyboard does.

A burst of keys (a stuck key, a barcode scanner, fast hands) can ask a screen to close twice
before it has gone: Textual's ``dismiss`` then pops whatever screen is on top — the one
underneath, or raises ``ScreenStackError`` on the last one. Here a screen that is not the top
one any more, or is already closing, closes nothing.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.await_complete import AwaitComplete
from textual.screen import ModalScreen, Screen

from proclient.messages import Intent


class SafeDismiss:
    """Mixed into a Screen: ``dismiss`` only closes it while it is on top, once."""

    _dismissed = False

    def dismiss(self, result: Any = None) -> AwaitComplete:
        screen: Screen = self  # type: ignore[assignment]
        if self._dismissed or not screen.is_active:
            return AwaitComplete.nothing()
        self._dismissed = True
        return super().dismiss(result)  # type: ignore[misc]


def _stamp(screen: Screen, intent: Intent) -> None:
    if intent.origin is None:
        intent.origin = screen


class GuardedScreen(SafeDismiss, Screen):
    """A screen of the application: closes once, and stamps the intents asked on it."""

    @on(Intent)
    def _stamp(self, intent: Intent) -> None:
        _stamp(self, intent)


class Modal(SafeDismiss, ModalScreen):
    """A modal screen (a question, a picker, the help): closes once, stamps its intents.
    (Not a GuardedScreen: a ModalScreen's own style, the screen below showing through,
    must come after Screen's.)"""

    @on(Intent)
    def _stamp(self, intent: Intent) -> None:
        _stamp(self, intent)
