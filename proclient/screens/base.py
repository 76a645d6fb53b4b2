"""What the screens share.

:class:`BaseScreen`: the top bar, the footer, an error line, F1 for the screen's help, and
the App's failures (``JobFailed``) shown in that error line. :class:`StepScreen` adds Esc to
go back and F8 to go on, for the four steps and the summary only.

Screens render the state they are given (the creation flow, read only, and a
:class:`ScreenContext`) and post intents (proclient/messages.py). They never import the App
nor call it: the App decides what happens next.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import OptionList, Select, Static

from proclient.core.domain import DomainError
from proclient.core.flow import CreationFlow
from proclient.core.i18n import N_, _
from proclient.messages import BackRequested, JobFailed, ServiceState, WaitCancelRequested
from proclient.widgets.fields import LimitedInput
from proclient.widgets.footer import KeyFooter
from proclient.widgets.modal import GuardedScreen
from proclient.widgets.topbar import TopBar

STEP_TITLES = {
    1: N_("Identification du patient"),
    2: N_("Connexion au service DMP"),
    3: N_("Consentement du patient"),
    4: N_("Accès en ligne (facultatif)"),
}


@dataclass(frozen=True)
class ScreenContext:
    """What a screen may show of the workstation (made by the App for each screen)."""

    demo: bool = False
    demo_cards: tuple = ()
    printer: str | None = None
    auto_print: bool = False
    credential_label: str = ""
    credential_hint: str = ""
    authenticated: bool = False
    offline_session: bool = False
    """The CPS is unlocked but the service could not be reached: creations are recorded."""
    outbox: bool = False
    """Creations can be recorded on this workstation (an outbox is wired, and the session
    can sign them: not an e-CPS one)."""
    card_less: bool = False
    """The session was opened with e-CPS: no card to sign an offline capture."""
    service_label: str = ""
    """The DMP service's state in words when the screen is made ("" before the service is
    opened); ``ServiceState`` messages tell every screen when it changes."""
    service_reachable: bool | None = None
    """The same as a fact: None while unknown."""


class BaseScreen(GuardedScreen):
    """A full screen of the application: top bar, body, error line, footer, F1 help."""

    title_text: str = ""
    HELP_TEXT: str = ""  # French; shown by F1 with the screen's keys

    BINDINGS = [Binding("f1", "help", _("Aide"), id="help")]

    DEFAULT_CSS = """
    BaseScreen #body { padding: 1 2; height: 1fr; }
    /* A group of fields takes the room it needs: the body scrolls, nothing is clipped. */
    BaseScreen #body Vertical { height: auto; }
    BaseScreen #error { color: $error; text-style: bold; height: auto; padding: 0 2; }
    BaseScreen #waiting { height: auto; padding: 0 2; text-style: bold; display: none; }
    BaseScreen .hint { color: $text-muted; }
    BaseScreen .section { text-style: bold; margin-top: 1; }
    /* An open list (a minor's relationship) stays above the footer, down to 60x20. */
    BaseScreen Select > SelectOverlay { max-height: 5; }
    """

    def __init__(self, context: ScreenContext) -> None:
        super().__init__()
        self.station = context

    @property
    def where(self) -> str:
        return _(self.title_text)

    def compose(self) -> ComposeResult:
        yield TopBar(self.where, self.station.demo, self.station.service_label)
        with VerticalScroll(id="body"):
            yield from self.compose_body()
        yield Static("", id="waiting")
        yield Static("", id="error", classes="error")
        # The palette (Ctrl+P) is named in F1's help rather than in the footer: the footer's
        # room goes to the screen's own keys (on two lines when the terminal is narrow).
        yield KeyFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    # --- down to 60×20: what has the focus is in view ----------------------------------------

    @on(events.DescendantFocus)
    def _reveal_focus(self, event: events.DescendantFocus) -> None:
        """The focused field scrolled into the body's view; a list to choose from (Select) to
        the top, so that it opens inside the screen, above the footer."""
        self._reveal(event.widget)

    @on(OptionList.OptionHighlighted)
    def _reveal_highlight(self, event: OptionList.OptionHighlighted) -> None:
        """Arrows in a list: the list, its highlighted row with it, stays in view."""
        self._reveal(event.option_list)

    def _reveal(self, widget: Widget) -> None:
        bodies = self.query("#body")
        if not bodies:
            return
        body = bodies.first()
        select = next(
            (node for node in widget.ancestors_with_self if isinstance(node, Select)), None
        )
        target = select or widget
        if body not in target.ancestors:
            return
        self.call_after_refresh(
            body.scroll_to_widget, target, animate=False, top=select is not None
        )

    def show_error(self, error: DomainError | str) -> None:
        text = error.message if isinstance(error, DomainError) else error
        self.query_one("#error", Static).update(Content(text))

    def clear_error(self) -> None:
        self.query_one("#error", Static).update("")

    def on_job_failed(self, failure: JobFailed) -> None:
        self.stop_wait()
        self.show_error(failure.message)

    # --- a wait for the service: its seconds shown, Esc stops it ---------------------------

    _wait_text = ""
    _wait_timer = None
    _wait_began = 0.0
    _wait_retrying = False

    @property
    def waiting(self) -> bool:
        return bool(self._wait_text)

    def start_wait(self, text: str) -> None:
        """``text`` (« Interrogation de l'INSi… ») with the seconds waited so far and how to
        stop, until :meth:`stop_wait` (a result, a failure, Esc)."""
        import time

        self._wait_text, self._wait_began = text, time.monotonic()
        self._wait_retrying = False
        if self._wait_timer is None:
            self._wait_timer = self.set_interval(1.0, self._show_wait)
        self._wait_timer.resume()
        self._show_wait()

    def retrying(self) -> None:
        """The service did not answer and the request goes again (with its Idempotency-Key:
        never twice): said on the wait line, the seconds still counted from the first try."""
        if self._wait_text and not self._wait_retrying:
            self._wait_retrying = True
            self._wait_text = _("{what} nouvelle tentative…", what=self._wait_text)
            self._show_wait()

    def _show_wait(self) -> None:
        import time

        if not self._wait_text:
            return
        seconds = int(time.monotonic() - self._wait_began)
        line = self.query_one("#waiting", Static)
        line.update(
            Content(
                _(
                    "{what} {n} s — Échap arrête l'attente.",
                    what=self._wait_text,
                    n=seconds,
                )
            )
        )
        line.display = True

    def stop_wait(self) -> None:
        self._wait_text = ""
        if self._wait_timer is not None:
            self._wait_timer.pause()
        if self.is_mounted:
            self.query_one("#waiting", Static).display = False

    def cancel_wait(self) -> bool:
        """Esc while waiting: stop it (True), else False (Esc does what it does here)."""
        if not self.waiting:
            return False
        self.stop_wait()
        self.post_message(WaitCancelRequested())
        return True

    def on_limited_input_limit_reached(self, message: LimitedInput.LimitReached) -> None:
        self.show_error(
            _(
                "« {field} » : {n} caractères au plus ; ce qui dépassait n'a pas été pris.",
                field=message.label,
                n=message.limit,
            )
        )

    def on_service_state(self, message: ServiceState) -> None:
        """The service's state changed: the top bar follows (screens that say more about it
        extend this)."""
        self.query_one(TopBar).show_service(message.label)

    def action_help(self) -> None:
        from proclient.widgets.help import HelpModal

        self.app.push_screen(HelpModal(self.where, _(self.HELP_TEXT), self))


class StepScreen(BaseScreen):
    """One of the four steps, or the summary: Esc goes back, F8 goes on."""

    step_number: int = 0

    # F8 is not a priority binding: it goes through the focused widget like the keys typed
    # before it, so a Space ticking a box just before F8 is applied first (as priority, F8
    # acted at once and step 3 refused the consent shown ticked).
    BINDINGS = [
        Binding("escape", "back", _("Retour"), id="back"),
        Binding("f8", "next", _("Continuer"), id="next"),
    ]

    def __init__(self, flow: CreationFlow, context: ScreenContext) -> None:
        super().__init__(context)
        self.flow = flow

    @property
    def where(self) -> str:
        if self.step_number:
            return _(
                "Étape {n}/4 — {title}", n=self.step_number, title=_(STEP_TITLES[self.step_number])
            )
        return _(self.title_text)

    def action_back(self) -> None:
        if not self.cancel_wait():
            self.post_message(BackRequested())

    def action_next(self) -> None:
        self.clear_error()
        try:
            self.go_on()
        except DomainError as error:
            self.show_error(error)

    def go_on(self) -> None:
        """Post the intent that moves the flow on (with what was typed)."""
        raise NotImplementedError
