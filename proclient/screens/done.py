"""Done: the DMP exists; where the accusé is, and the secrets sheet when one was issued.

The accusé is saved first, then printed: by itself when a printer is named in the settings
(``[printer] name``, ``auto``), or with F5. The preview below has the printed page's shape.

The secrets sheet (login and initial password) is printed through lp's standard input or
shown on screen, never written to a file (HOM 112); it leaves memory with the next patient.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from proclient.domain import Action, SecretsSheet
from proclient.i18n import _
from proclient.messages import (
    NextPatientRequested,
    ReceiptPrintRequested,
    SecretsPrintRequested,
    SecretsShowRequested,
)
from proclient.screens.base import StepScreen


class DoneScreen(StepScreen):
    title_text = "DMP créé"
    HELP_TEXT = (
        "Le DMP existe et l'accusé est enregistré. F5 imprime l'accusé. Avec un accès en "
        "ligne, F6 imprime la feuille de codes à remettre au patient et F7 l'affiche : elle "
        "n'est enregistrée nulle part et disparaît au patient suivant (Entrée)."
    )

    BINDINGS = [
        Binding("enter", "next", _("Patient suivant"), id="next_patient"),
        Binding("f5", "print_receipt", _("Imprimer l'accusé"), id="print_receipt"),
        Binding("f6", "print_secrets", _("Imprimer la feuille de codes"), id="print_secrets"),
        Binding("f7", "show_secrets", _("Afficher la feuille de codes"), id="show_secrets"),
    ]

    DEFAULT_CSS = """
    DoneScreen #outcome { text-style: bold; color: $success; }
    DoneScreen #secrets { color: $warning; margin-top: 1; }
    DoneScreen #preview { margin-top: 1; border: round $panel; padding: 0 1; height: auto; }
    """

    def __init__(
        self, flow, context, receipt_path: Path | None, preview: str, has_secrets: bool
    ) -> None:
        super().__init__(flow, context)
        self.receipt_path, self.preview, self.has_secrets = receipt_path, preview, has_secrets

    def compose_body(self) -> ComposeResult:
        flow = self.flow
        reactivated = flow.result is not None and flow.result.action is Action.REACTIVATION
        yield Static(_("DMP réactivé.") if reactivated else _("DMP créé."), id="outcome")
        if self.receipt_path:
            yield Static(
                _("Accusé de création enregistré : {path}", path=self.receipt_path), id="receipt"
            )
        station = self.station
        printer = station.printer or _("imprimante par défaut de CUPS")
        if station.auto_print:
            yield Static(
                _(
                    "Accusé envoyé automatiquement à l'imprimante {printer} ; F5 le réimprime.",
                    printer=printer,
                ),
                id="printing",
            )
        else:
            yield Static(_("F5 imprime l'accusé ({printer}).", printer=printer), id="printing")
        web = flow.result.web if flow.result else None
        if self.has_secrets:
            yield Static(
                _(
                    "Accès en ligne ouvert. F6 imprime la feuille de codes (identifiant et mot de "
                    "passe provisoire) à remettre au patient ; F7 l'affiche. Elle n'est "
                    "enregistrée nulle part et disparaît au patient suivant."
                ),
                id="secrets",
            )
        elif web is not None:
            yield Static(
                _(
                    "Accès en ligne ouvert. Le mot de passe provisoire a déjà été remis lors du "
                    "premier envoi : il n'est jamais délivré deux fois."
                ),
                id="secrets",
            )
        yield Static(self.preview, id="preview")
        yield Static(_("Entrée : patient suivant."), classes="hint")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("print_secrets", "show_secrets"):
            return self.has_secrets
        return True

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


class SecretsModal(ModalScreen[None]):
    """The login and initial password, on screen only, for the patient to copy or photograph."""

    BINDINGS = [Binding("escape,enter", "dismiss(None)", _("Fermer"), id="close_secrets")]
    DEFAULT_CSS = """
    SecretsModal { align: center middle; }
    SecretsModal > Vertical { width: 64; height: auto; border: thick $warning; padding: 1 2;
                              background: $surface; }
    SecretsModal .secret { text-style: bold; margin: 1 0; }
    """

    def __init__(self, sheet: SecretsSheet) -> None:
        super().__init__()
        self._sheet = sheet

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(_("Accès en ligne de {name}", name=self._sheet.patient_name))
            yield Static(_("Identifiant : {login}", login=self._sheet.login), classes="secret")
            yield Static(
                _("Mot de passe provisoire : {password}", password=self._sheet.initial_password),
                classes="secret",
            )
            yield Static(_("À changer à la première connexion. Échap pour fermer."))
