"""The codes sheet (the patient's login and initial password): the question asked before it
is left behind unseen, and the screen of a new password asked for an existing DMP.

The sheet is never saved (HOM 112): once the professional moves on it is gone, and the patient
leaves without a password. So leaving while it was neither printed nor shown asks first, and
only a key of its own (F9) leaves it: a burst of Enter prints it instead.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from proclient.core.i18n import N_, _
from proclient.messages import NextPatientRequested, SecretsPrintRequested, SecretsShowRequested
from proclient.screens.base import BaseScreen
from proclient.widgets.modal import Modal


class SheetUnseenModal(Modal):
    """Answers "print", "show", "leave", or None (Esc: stay)."""

    BINDINGS = [
        Binding("enter", "dismiss('print')", _("Imprimer"), id="sheet_print", priority=True),
        Binding("f7", "dismiss('show')", _("Afficher"), id="sheet_show"),
        Binding("f9", "dismiss('leave')", _("Partir sans"), id="sheet_leave"),
        Binding("escape", "dismiss(None)", _("Rester"), id="sheet_stay"),
    ]
    DEFAULT_CSS = """
    SheetUnseenModal { align: center middle; }
    SheetUnseenModal > Vertical { width: 64; max-width: 100%; height: auto; max-height: 100%;
                                  border: thick $warning; padding: 1 2; background: $surface; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                _(
                    "La feuille de codes (identifiant et mot de passe provisoire) n'a été ni "
                    "imprimée ni affichée : elle n'est enregistrée nulle part et sera perdue. "
                    "Entrée l'imprime ; F7 l'affiche ; Échap revient à l'écran ; F9 passe au "
                    "patient suivant sans la remettre."
                )
            )


class NewPasswordScreen(BaseScreen):
    """A new initial password for an existing DMP's online access: the codes sheet to print
    or show, then the next patient."""

    title_text = N_("Nouveau mot de passe provisoire")
    HELP_TEXT = N_(
        "Le service DMP a donné un nouveau mot de passe provisoire pour l'accès en ligne du "
        "patient ; l'ancien ne vaut plus. F6 imprime la feuille de codes, F7 l'affiche : elle "
        "n'est enregistrée nulle part et disparaît au patient suivant (Entrée)."
    )
    BINDINGS = [
        Binding("enter", "next_patient", _("Suivant"), id="new_password_done"),
        Binding("escape", "next_patient", _("Retour"), id="new_password_back", show=False),
        Binding("f6", "print_secrets", _("Codes"), id="new_password_print"),
        Binding("f7", "show_secrets", _("Afficher"), id="new_password_show"),
    ]

    def __init__(self, context, patient_name: str) -> None:
        super().__init__(context)
        self.patient_name = patient_name

    def compose_body(self) -> ComposeResult:
        yield Static(
            _("Nouveau mot de passe provisoire obtenu pour {name}.", name=self.patient_name),
            id="outcome",
            markup=False,
        )
        yield Static(
            _(
                "L'ancien mot de passe ne vaut plus. F6 imprime la feuille de codes à remettre "
                "au patient ; F7 l'affiche. Elle n'est enregistrée nulle part."
            ),
            id="secrets",
        )
        yield Static(_("Entrée : patient suivant."), classes="hint")

    def action_next_patient(self) -> None:
        self.post_message(NextPatientRequested())

    def action_print_secrets(self) -> None:
        self.post_message(SecretsPrintRequested())

    def action_show_secrets(self) -> None:
        self.post_message(SecretsShowRequested())
