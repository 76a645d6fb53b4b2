"""Recorded: the service could not be reached, the creation is kept on the workstation.

Says plainly that the DMP is *not* created yet, when it will be, and shows the slip for the
patient (« demande de création enregistrée »: no DMP id, no secret), which F5 prints. The
slip is never saved: it goes to the printer through lp's standard input.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from proclient.core.i18n import N_, _
from proclient.messages import NextPatientRequested, OutboxSent, ServiceState, SlipPrintRequested
from proclient.screens.base import StepScreen


class RecordedScreen(StepScreen):
    title_text = N_("Création enregistrée — pas encore faite")
    HELP_TEXT = N_(
        "Le service DMP n'était pas joignable : la demande de création est enregistrée, "
        "chiffrée, sur ce poste, avec le consentement signé par votre carte CPS. Le DMP sera "
        "créé dès que le service répondra (l'INSi d'abord) et l'accusé édité alors. F5 "
        "imprime le récépissé du patient ; F7 sur l'accueil liste les créations en attente. "
        "Entrée : patient suivant."
    )

    BINDINGS = [
        Binding("escape", "back", _("Retour"), id="back", show=False),
        Binding("f8", "next", _("Continuer"), id="next", priority=True, show=False),
        Binding("enter", "next", _("Suivant"), id="next_patient"),
        Binding("f5", "print_slip", _("Récépissé"), id="print_slip"),
        Binding("f10", "app.quit", _("Quitter"), id="quit_done"),
    ]

    DEFAULT_CSS = """
    RecordedScreen #outcome { text-style: bold; color: $warning; }
    RecordedScreen #preview { margin-top: 1; border: round $foreground 45%; padding: 0 1;
                              height: auto; }
    """

    def __init__(self, flow, context, preview: str, pending: int) -> None:
        super().__init__(flow, context)
        self.preview, self.pending = preview, pending

    def compose_body(self) -> ComposeResult:
        yield Static(
            _("Création ENREGISTRÉE sur ce poste : le DMP n'est PAS encore créé."), id="outcome"
        )
        yield Static(self._waiting(self.pending), id="what-next")
        printer = self.station.printer or _("imprimante par défaut de CUPS")
        yield Static(
            _("F5 imprime le récépissé à remettre au patient ({printer}).", printer=printer),
            id="printing",
            markup=False,
        )
        yield Static(self.preview, id="preview", markup=False)
        yield Static(_("Entrée : patient suivant ; F10 quitte proclient."), classes="hint")

    def on_outbox_sent(self, message: OutboxSent) -> None:
        """The service answered meanwhile and the outbox was sent: one truth on screen."""
        if self.flow.recorded not in message.created:
            self.query_one("#what-next", Static).update(self._waiting(message.pending))
            return
        self.query_one("#outcome", Static).update(
            _("Création faite depuis : le service DMP a répondu, le DMP est créé.")
        )
        self.query_one("#what-next", Static).update(
            _(
                "La création enregistrée a été envoyée ; l'accusé de création est édité et "
                "enregistré (F9 sur l'accueil : journal des accusés). Créations encore en "
                "attente sur ce poste : {n}.",
                n=message.pending,
            )
        )

    def on_service_state(self, message: ServiceState) -> None:
        super().on_service_state(message)
        if self.flow.recorded is not None and message.reachable:
            self.query_one("#what-next", Static).update(
                _(
                    "Le service DMP répond de nouveau : la création enregistrée part dès "
                    "que votre session est ouverte (INSi d'abord, puis la création)."
                )
            )

    @staticmethod
    def _waiting(pending: int) -> str:
        return _(
            "Elle sera envoyée dès que le service DMP répondra, avec votre carte CPS "
            "(INSi d'abord, puis la création) ; l'accusé de création sera édité alors. "
            "Créations en attente sur ce poste : {n}.",
            n=pending,
        )

    def action_print_slip(self) -> None:
        self.post_message(SlipPrintRequested())

    def go_on(self) -> None:
        self.post_message(NextPatientRequested())

    def action_back(self) -> None:
        self.post_message(NextPatientRequested())
