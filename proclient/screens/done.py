"""Done: the DMP exists; where the accusé is, and the secrets sheet when one was issued.

The accusé is saved first, then printed: by itself when a printer is named in the settings
(``[printer] name``, ``auto``), or with F5. The preview below has the printed page's shape.

The secrets sheet (login and initial password) is printed through lp's standard input or
shown on screen, never written to a file (HOM 112); it leaves memory with the next patient.

When the service's answer was lost and the new password asked for after it could not be had
(controllers/creation.py), the screen says that the DMP and its online access exist but the
patient has no password yet, and F9 asks for it again.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from proclient.core.domain import Action
from proclient.core.i18n import N_, _
from proclient.core.records import SecretsSheet
from proclient.messages import (
    NextPatientRequested,
    PasswordIssued,
    PasswordReissueRequested,
    ReceiptPrintRequested,
    SecretsPrintRequested,
    SecretsShowRequested,
)
from proclient.receipts.content import PORTAL_URL
from proclient.screens.base import StepScreen
from proclient.widgets.modal import Modal


class DoneScreen(StepScreen):
    title_text = N_("DMP créé")
    HELP_TEXT = N_(
        "Le DMP existe et l'accusé est enregistré. F5 imprime l'accusé. Avec un accès en "
        "ligne, F6 imprime la feuille de codes à remettre au patient et F7 l'affiche : elle "
        "n'est enregistrée nulle part et disparaît au patient suivant (Entrée). Si le "
        "mot de passe provisoire n'a pas pu être obtenu, F9 le redemande au service DMP."
    )

    # Short labels: at 80 columns the footer holds every key of this screen (the sentences
    # above the footer say what each one prints). Esc and F8 still go to the next patient but
    # leave the footer to Enter.
    BINDINGS = [
        Binding("escape", "back", _("Retour"), id="back", show=False),
        Binding("f8", "next", _("Continuer"), id="next", priority=True, show=False),
        Binding("enter", "next", _("Suivant"), id="next_patient"),
        Binding("f5", "print_receipt", _("Accusé"), id="print_receipt"),
        Binding("f6", "print_secrets", _("Codes"), id="print_secrets"),
        Binding("f7", "show_secrets", _("Afficher"), id="show_secrets"),
        Binding("f9", "reissue_password", _("Mot de passe"), id="reissue_password"),
        Binding("f10", "app.quit", _("Quitter"), id="quit_done"),
    ]

    DEFAULT_CSS = """
    DoneScreen #outcome { text-style: bold; color: $success; }
    DoneScreen #secrets { color: $warning; margin-top: 1; }
    DoneScreen #preview { margin-top: 1; border: round $foreground 45%; padding: 0 1;
                          height: auto; }
    """

    def __init__(
        self,
        flow,
        context,
        receipt_path: Path | None,
        preview: str,
        has_secrets: bool,
        password_error: str = "",
    ) -> None:
        """``password_error``: why the initial password could not be issued after a lost
        answer ("" when it was, or none was asked for)."""
        super().__init__(flow, context)
        self.receipt_path, self.preview, self.has_secrets = receipt_path, preview, has_secrets
        self.password_error = password_error

    @property
    def reactivated(self) -> bool:
        result = self.flow.result
        return result is not None and result.action is Action.REACTIVATION

    @property
    def where(self) -> str:
        return _("DMP réactivé") if self.reactivated else _("DMP créé")

    def compose_body(self) -> ComposeResult:
        flow = self.flow
        reactivated = self.reactivated
        yield Static(_("DMP réactivé.") if reactivated else _("DMP créé."), id="outcome")
        if self.receipt_path:
            saved = (
                _("Accusé de réactivation enregistré : {path}", path=self.receipt_path)
                if reactivated
                else _("Accusé de création enregistré : {path}", path=self.receipt_path)
            )
            yield Static(saved, id="receipt", markup=False)
        station = self.station
        printer = station.printer or _("imprimante par défaut de CUPS")
        if station.auto_print:
            yield Static(
                _(
                    "Accusé envoyé automatiquement à l'imprimante {printer} ; F5 le réimprime.",
                    printer=printer,
                ),
                id="printing",
                markup=False,
            )
        else:
            yield Static(
                _("F5 imprime l'accusé ({printer}).", printer=printer), id="printing", markup=False
            )
        web = flow.result.web if flow.result else None
        if self.has_secrets:
            yield Static(_(_SECRETS_READY), id="secrets")
        elif self.password_error:
            yield Static(_password_missing(self.password_error), id="secrets", markup=False)
        elif web is not None:
            yield Static(
                _(
                    "Accès en ligne ouvert. Le mot de passe provisoire a déjà été remis lors du "
                    "premier envoi : il n'est jamais délivré deux fois."
                ),
                id="secrets",
            )
        yield Static(self.preview, id="preview", markup=False)
        yield Static(_("Entrée : patient suivant ; F10 quitte proclient."), classes="hint")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("print_secrets", "show_secrets"):
            return self.has_secrets
        if action == "reissue_password":
            return bool(self.password_error) and not self.has_secrets
        return True

    def on_password_issued(self, message: PasswordIssued) -> None:
        """The password was had again on F9: the sheet can be printed now."""
        self.has_secrets, self.password_error = True, ""
        self.query_one("#secrets", Static).update(_(_SECRETS_READY))
        self.clear_error()
        self.refresh_bindings()

    def action_reissue_password(self) -> None:
        self.clear_error()
        self.post_message(PasswordReissueRequested())

    def action_print_receipt(self) -> None:
        self.post_message(ReceiptPrintRequested())

    def action_print_secrets(self) -> None:
        self.post_message(SecretsPrintRequested())

    def action_show_secrets(self) -> None:
        self.post_message(SecretsShowRequested())

    def go_on(self) -> None:
        self.post_message(NextPatientRequested())

    def action_back(self) -> None:
        self.post_message(NextPatientRequested())


_SECRETS_READY = N_(
    "Accès en ligne ouvert. F6 imprime la feuille de codes (identifiant et mot de passe "
    "provisoire) à remettre au patient ; F7 l'affiche. Elle n'est enregistrée nulle part et "
    "disparaît au patient suivant."
)


def _password_missing(reason: str) -> str:
    return _(
        "Accès en ligne ouvert, mais le patient n'a pas encore de mot de passe provisoire : la "
        "réponse du service DMP s'est perdue et le nouveau mot de passe demandé ensuite n'a "
        "pas pu être obtenu. {reason} Appuyez sur F9 pour le redemander, puis sur F6 pour "
        "imprimer la feuille de codes, avant de passer au patient suivant : ce poste ne pourra "
        "plus le demander ensuite.",
        reason=reason.strip(),
    )


class SecretsModal(Modal):
    """The login and initial password, on screen only, for the patient to copy or photograph."""

    BINDINGS = [Binding("escape,enter", "dismiss(None)", _("Fermer"), id="close_secrets")]
    DEFAULT_CSS = """
    SecretsModal { align: center middle; }
    SecretsModal > Vertical { width: 64; max-width: 100%; height: auto; max-height: 100%;
                              border: thick $warning; padding: 0 1; background: $surface; }
    SecretsModal .secret { text-style: bold; margin-top: 1; }
    SecretsModal #portal { margin: 1 0; }
    """

    def __init__(self, sheet: SecretsSheet) -> None:
        super().__init__()
        self._sheet = sheet

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(_("Accès en ligne de {name}", name=self._sheet.patient_name), markup=False)
            yield Static(
                _("Identifiant : {login}", login=self._sheet.login),
                classes="secret",
                markup=False,
            )
            yield Static(
                _("Mot de passe provisoire : {password}", password=self._sheet.initial_password),
                classes="secret",
                markup=False,
            )
            yield Static(
                _("À saisir sur Mon espace santé : {url}", url=PORTAL_URL),
                id="portal",
                markup=False,
            )
            yield Static(_("À changer à la première connexion. Échap pour fermer."))
