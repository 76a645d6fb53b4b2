"""What every step screen shares: the top bar, the footer, Esc to go back, F8 to go on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from proclient.domain import DomainError
from proclient.i18n import _
from proclient.widgets.topbar import TopBar

if TYPE_CHECKING:
    from proclient.app import ProclientApp

STEP_TITLES = {
    1: "Identification du patient",
    2: "Connexion au service DMP",
    3: "Consentement du patient",
    4: "Accès en ligne (facultatif)",
}


class StepScreen(Screen):
    """A screen of the creation flow. Subclasses compose the body and implement ``go_on``."""

    step_number: int = 0
    title_text: str = ""

    BINDINGS = [
        Binding("escape", "back", _("Retour"), id="back"),
        Binding("f8", "next", _("Continuer"), id="next", priority=True),
    ]

    DEFAULT_CSS = """
    StepScreen #body { padding: 1 2; height: 1fr; }
    StepScreen #error { color: $error; text-style: bold; height: auto; padding: 0 2; }
    StepScreen .hint { color: $text-muted; }
    StepScreen .section { text-style: bold; margin-top: 1; }
    """

    @property
    def proclient(self) -> ProclientApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        if self.step_number:
            where = _(
                "Étape {n}/4 — {title}", n=self.step_number, title=_(STEP_TITLES[self.step_number])
            )
        else:
            where = _(self.title_text)
        yield TopBar(where, self.proclient.wiring.demo)
        with VerticalScroll(id="body"):
            yield from self.compose_body()
        yield Static("", id="error", classes="error")
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def show_error(self, error: DomainError | str) -> None:
        text = error.message if isinstance(error, DomainError) else error
        self.query_one("#error", Static).update(text)

    def clear_error(self) -> None:
        self.query_one("#error", Static).update("")

    def action_back(self) -> None:
        self.proclient.go_back()

    def action_next(self) -> None:
        self.clear_error()
        try:
            self.go_on()
        except DomainError as error:
            self.show_error(error)

    def go_on(self) -> None:
        raise NotImplementedError
