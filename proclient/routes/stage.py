"""The stage: what a route may do to the screens, and nothing else of the App.

Routes decide what happens; the stage shows it. It is narrow on purpose: push, switch or close
a screen, tell the screens something (a message each screen takes if it handles it), toasts,
timers. Every change is safe when the screen it concerns has already gone (fast hands: a
burst of keys can ask twice for what the first key already did).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer

TOAST_SECONDS = 5.0  # a notice
TOAST_MAX_SECONDS = 10.0  # an error: longer, never so long that it covers the next patient's hints


class Stage:
    def __init__(self, app: App) -> None:
        self._app = app

    # --- the screens -------------------------------------------------------------------------

    @property
    def top(self) -> Screen:
        """The screen on top (the one the professional sees and types into)."""
        return self._app.screen

    def is_top(self, screen: Screen) -> bool:
        return self._app.screen is screen

    @property
    def on_home(self) -> bool:
        """Only the home screen is shown."""
        return len(self._app.screen_stack) <= 1

    def push(self, screen: Screen, answered: Callable[[Any], None] | None = None) -> None:
        self._app.push_screen(screen, answered)

    def show(self, screen: Screen) -> None:
        """``screen`` over the home screen: pushed from home, else in place of the top one."""
        if self.on_home:
            self._app.push_screen(screen)
        else:
            self._app.switch_screen(screen)

    def home(self) -> None:
        """Back to the home screen, whatever is above it."""
        while len(self._app.screen_stack) > 1:
            self._app.pop_screen()

    def close(self, kind: type[Screen]) -> bool:
        """Close the top screen if it is a ``kind`` (a modal answered, a lock undone); nothing
        when it has gone already."""
        if isinstance(self._app.screen, kind) and len(self._app.screen_stack) > 1:
            self._app.pop_screen()
            return True
        return False

    def shown(self, kind: type[Screen]) -> list[Screen]:
        """The screens of the stack that are ``kind`` (bottom first)."""
        return [screen for screen in self._app.screen_stack if isinstance(screen, kind)]

    def tell(self, message_factory: Callable[[], Message]) -> None:
        """A message to every screen of the stack (each takes it if it handles it): what
        changed for all (the service's state, the home's lines)."""
        for screen in self._app.screen_stack:
            screen.post_message(message_factory())

    # --- toasts and time ---------------------------------------------------------------------

    def notify(self, text: str, severity: str = "information", long: bool = False) -> None:
        """A toast, plain text (a settings key such as ``[printer] name`` is not markup)."""
        self._app.notify(
            text,
            severity=severity,
            timeout=TOAST_MAX_SECONDS if long else TOAST_SECONDS,
            markup=False,
        )

    def clear_notices(self) -> None:
        self._app.clear_notifications()

    def later(self, callback: Callable[..., Any], *args: Any) -> None:
        """After the next refresh (a screen just shown is mounted by then)."""
        self._app.call_after_refresh(callback, *args)

    def after(self, seconds: float, callback: Callable[[], Any]) -> Timer:
        return self._app.set_timer(seconds, callback)

    def every(self, seconds: float, callback: Callable[[], Any]) -> Timer:
        return self._app.set_interval(seconds, callback)

    def exit(self) -> None:
        self._app.exit()
