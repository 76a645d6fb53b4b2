"""The Textual App: life cycle, bindings, and one dispatch from an intent's type to its route.

Everything else lives below: the routes (proclient/routes/: one plain class per concern,
each declaring the intents it handles) over the controllers and the creation flow. Screens
post intents; the App hands each to the one route that takes it. The reader's watch callback
only posts a message.

Fast hands: a key pressed before the screen on top came up is dropped, not applied to the
screen that replaced the one it was meant for (a burst of Enter from a stuck key or a
scanner). An unexpected error is logged without health data, said in one French sentence,
and the program exits with a non-zero status.
"""

from __future__ import annotations

import gc
import logging

from textual import events, on
from textual._time import get_time
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from proclient.controllers.card import CardController
from proclient.controllers.creation import CreationController
from proclient.controllers.outbox import OutboxController, send_lock_path
from proclient.controllers.paper import PaperController
from proclient.controllers.session import SessionController
from proclient.core.flow import CreationFlow
from proclient.core.i18n import _
from proclient.core.logsafe import UNEXPECTED, log_unexpected
from proclient.jobs import JobRunner
from proclient.messages import Intent
from proclient.ports import Wiring
from proclient.routes import CardEventMessage, Desk, Routes
from proclient.routes.palette import commands
from proclient.routes.stage import TOAST_MAX_SECONDS, TOAST_SECONDS, Stage
from proclient.screens.home import HomeScreen
from proclient.widgets.theme import apply_theme

log = logging.getLogger(__name__)

IDLE_CHECK_SECONDS = 5.0
_ACTIVITY = (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)


class ProclientApp(App):
    TITLE = "proclient"
    BINDINGS = [
        Binding("f3", "remove_demo_card", _("Retirer"), id="remove_card"),
        Binding("f4", "toggle_demo_cps", _("CPS"), id="toggle_cps"),
        Binding("f12", "toggle_demo_network", _("Réseau"), id="toggle_network"),
        Binding("ctrl+q", "quit", _("Quitter"), id="quit", show=False),
        # The screens answer F1 themselves; this one is for those that do not (the lock screen).
        Binding("f1", "help", _("Aide"), id="help_anywhere"),
        Binding(
            "ctrl+p", "command_palette", _("Commandes"), id="palette", show=False, priority=True
        ),
    ]
    NOTIFICATION_TIMEOUT = TOAST_SECONDS

    def run(self, *args, **kwargs):  # type: ignore[override]
        """Textual's run, after moving what start-up made (modules, classes, settings, all
        alive as long as the app) out of the garbage collector's reach: otherwise the first
        full collection walks it while the first frame is built (about 30 ms of a cold start,
        see benchmarks/startup.py)."""
        gc.freeze()
        return super().run(*args, **kwargs)

    def __init__(self, wiring: Wiring) -> None:
        super().__init__()
        apply_theme(self)  # AA contrast, and focus/selection that read without colour
        self.wiring = wiring
        self.flow = CreationFlow(today=wiring.today())
        self.cards = CardController(
            wiring.readers, wiring.patient_reader, wiring.professional_reader, wiring.clock
        )
        self.session = SessionController(wiring.clock, wiring.idle_lock_minutes)
        self.creation = CreationController(wiring.open_service, wiring.pending_dir)
        self.paper = PaperController(
            wiring.receipts_dir,
            wiring.receipt_format,
            wiring.printer,
            wiring.auto_print,
            wiring.demo,
        )
        self.outbox = OutboxController(
            wiring.outbox, wiring.today, lock_path=send_lock_path(wiring.outbox)
        )
        self.routes = Routes(
            Desk(
                wiring,
                self.flow,
                self.cards,
                self.session,
                self.creation,
                self.paper,
                self.outbox,
                JobRunner(self),
                Stage(self),
            )
        )
        self._screen_since = 0.0  # when the screen on top came up (stale keys are dropped)
        if wiring.keymap:
            self.set_keymap(dict(wiring.keymap))

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity="information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A toast, as plain text by default (a settings key such as ``[printer] name`` must not
        be read as markup), shown ``TOAST_MAX_SECONDS`` at most."""
        timeout = min(timeout if timeout is not None else TOAST_SECONDS, TOAST_MAX_SECONDS)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    # --- life cycle ----------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        return HomeScreen(self.routes.desk.context())

    def on_mount(self) -> None:
        # immediate: the moment of the change itself, not when the App gets round to it (keys
        # typed in between would be taken for stale ones).
        self.screen_change_signal.subscribe(self, self._screen_changed, immediate=True)
        self.routes.board.refresh()
        self.cards.watch(lambda event: self.post_message(CardEventMessage(event)))
        self.set_interval(IDLE_CHECK_SECONDS, self.routes.session.check_idle_lock)
        self.set_interval(IDLE_CHECK_SECONDS, self.routes.cards.expire_pulled_card)

    def on_ready(self) -> None:
        # After the first frame: the service's imports and keys must not delay the home screen.
        if self.outbox.available:
            self.routes.outbox.refresh()
        self.routes.service.start()

    async def on_unmount(self) -> None:
        self.cards.unwatch()
        await self.creation.aclose()

    def _screen_changed(self, _screen: Screen) -> None:
        self._screen_since = get_time()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and event.time < self._screen_since:
            return  # pressed before this screen came up: meant for one that has gone
        if isinstance(event, _ACTIVITY) and not event.is_forwarded:
            self.session.touch()
        await super().on_event(event)

    def _handle_exception(self, error: Exception) -> None:
        """An error nothing caught: logged without its text (it may hold health data), one
        French sentence instead of a traceback, and a non-zero exit status."""
        log_unexpected(log, "unexpected error in the interface", error)
        self._return_code = 1
        if self._exception is None:  # under the pilot, the test sees it (Textual re-raises)
            self._exception = error
            self._exception_event.set()
        self._exit_renderables.append(
            _("{unexpected} proclient s'est arrêté.", unexpected=_(UNEXPECTED))
        )
        self._close_messages_no_wait()

    # --- the one dispatch ----------------------------------------------------------------------

    @on(Intent)
    def _route(self, intent: Intent) -> None:
        handler = self.routes.handler(intent)
        if handler is None:
            return
        intent.stop()
        if intent.origin is not None:
            stack = self.screen_stack  # empty while the App closes: self.screen would raise
            if not stack or intent.origin is not stack[-1]:
                return  # asked on a screen that has gone since (a burst): not for this one
        handler(intent)

    def on_card_event_message(self, message: CardEventMessage) -> None:
        self.routes.cards.card_event(message.event)

    # --- the App's own keys ---------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("remove_demo_card", "toggle_demo_cps"):
            return self.wiring.deck is not None
        if action == "toggle_demo_network":
            return self.wiring.network is not None
        return True

    def action_remove_demo_card(self) -> None:
        self.routes.cards.remove_demo_card()

    def action_toggle_demo_cps(self) -> None:
        self.routes.cards.toggle_demo_cps()

    def action_toggle_demo_network(self) -> None:
        self.routes.service.toggle_demo_network()

    async def action_quit(self) -> None:
        """Ctrl+Q / F10: asks first when something would be left behind (see routes/quit)."""
        self.routes.leave()

    def action_help(self) -> None:
        """F1 on a screen without its own help: its ``HELP_TEXT`` and its keys."""
        from proclient.widgets.help import HelpModal

        screen = self.screen
        if isinstance(screen, HelpModal):
            return
        title = _(getattr(screen, "title_text", "")) or self.TITLE
        self.push_screen(HelpModal(title, _(getattr(screen, "HELP_TEXT", "")), screen))

    def get_system_commands(self, screen: Screen):
        """The command palette lists the application's own actions, in the UI language."""
        for title, help_text, action in commands(self.routes.desk, screen):
            yield SystemCommand(title, help_text, _runner(self, action))

    def action_command_palette(self) -> None:
        """Textual's palette, its search prompt in the UI language."""
        from textual.command import CommandPalette

        from proclient.widgets.palette import Palette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(Palette())


def _runner(app: App, action: str):
    async def run() -> None:
        await app.run_action(action)

    return run
