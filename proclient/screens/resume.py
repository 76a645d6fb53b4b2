"""The card pulled by mistake and put back: resume where it was (Enter) or start afresh (Esc)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Static

from proclient.core.i18n import _
from proclient.messages import ResumeAnswered
from proclient.screens.base import STEP_TITLES
from proclient.widgets.modal import Modal


class ResumeModal(Modal):
    """Shown over step 1 when the card read is the one pulled at steps 2–4 a moment ago."""

    BINDINGS = [
        Binding("enter", "answer(True)", _("Reprendre"), id="resume"),
        Binding("escape", "answer(False)", _("Recommencer"), id="start_afresh"),
    ]
    DEFAULT_CSS = """
    ResumeModal { align: center middle; }
    ResumeModal > Vertical { width: 64; max-width: 100%; height: auto; max-height: 100%;
                             border: round $accent; padding: 0 1; background: $surface; }
    ResumeModal #resume-title { text-style: bold; }
    """

    def __init__(self, name: str, step: int) -> None:
        super().__init__()
        self._name, self._step = name, step

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(_("Carte remise"), id="resume-title")
            yield Static(
                _(
                    "{name} : la saisie en cours a été gardée (étape {n}/4 — {title}).",
                    name=self._name,
                    n=self._step,
                    title=_(STEP_TITLES[self._step]),
                ),
                id="resume-text",
                markup=False,
            )
            yield Static(_("Entrée : reprendre là où vous en étiez ; Échap : recommencer."))
        yield Footer(compact=True)

    def action_answer(self, resume: bool) -> None:
        self.post_message(ResumeAnswered(resume))
