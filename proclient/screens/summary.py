"""Summary: everything that will be sent, one last look before the creation."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from proclient.domain import Action, format_nir, mask_mobile
from proclient.flow import CreationFlow
from proclient.i18n import N_, _
from proclient.messages import CreateRequested, JobFailed
from proclient.screens.base import StepScreen


def summary_lines(flow: CreationFlow) -> list[str]:
    patient = flow.patient
    assert patient is not None
    yes, no = _("autorisé"), _("refusé")
    lines = [
        _(
            "Patient : {name}, né(e) le {birth}",
            name=patient.display_name,
            birth=patient.birth_date.display,
        ),
        _("INS : {nir} ({label})", nir=format_nir(patient.ins.value), label=patient.ins.label),
    ]
    check = flow.identity
    if check is not None and check.status is not None and check.document is not None:
        lines.append(
            _(
                "Identité : traits de l'INSi, {status} ({document})",
                status=check.status.label,
                document=check.document.label,
            )
        )
    lines += [
        _(
            "Action : {what}",
            what=_("réactivation du DMP fermé")
            if flow.action is Action.REACTIVATION
            else _("création du DMP"),
        ),
        _("Consentement du patient : recueilli"),
        _("Accès SAMU (centre 15) : {v}", v=yes if flow.consent.samu_access else no),
        _("Accès bris de glace : {v}", v=yes if flow.consent.break_glass_access else no),
    ]
    if flow.legal_representative:
        lines.append(_("Représentant légal : {rep}", rep=flow.legal_representative.display))
    web = flow.web_access
    if web:
        channels = ", ".join(
            c
            for c in (
                # Whole, to be read back to the patient before the account is made (the
                # paper masks it: see receipts).
                web.email or "",
                mask_mobile(web.mobile) if web.mobile else "",
            )
            if c
        )
        lines.append(
            _("Accès en ligne : oui ({channels}) — un compte web sera créé", channels=channels)
        )
    else:
        lines.append(_("Accès en ligne : non"))
    return lines


class SummaryScreen(StepScreen):
    title_text = N_("Récapitulatif")

    HELP_TEXT = N_(
        "Relisez avec le patient ce qui sera envoyé. Entrée crée (ou réactive) le DMP ; "
        "après un échec, Entrée renvoie la même demande sans risque de doublon. Échap pour "
        "corriger."
    )

    BINDINGS = [Binding("enter", "next", _("Créer le DMP"), id="create")]

    def __init__(self, flow, context) -> None:
        super().__init__(flow, context)
        self.sending = False

    def compose_body(self) -> ComposeResult:
        yield Static("\n".join(summary_lines(self.flow)), id="summary")
        verb = _("réactiver") if self.flow.action is Action.REACTIVATION else _("créer")
        yield Static(
            _("Entrée ou F8 pour {verb} le DMP ; Échap pour corriger.", verb=verb),
            classes="section",
            id="state",
        )

    def go_on(self) -> None:
        if self.sending:
            return  # a second press while the first is on its way sends nothing
        self.sending = True
        self.query_one("#state", Static).update(_("Envoi au service DMP…"))
        self.post_message(CreateRequested())

    def on_job_failed(self, failure: JobFailed) -> None:
        self.sending = False
        self.query_one("#state", Static).update(
            _("Entrée ou F8 pour réessayer (sans risque de doublon) ; Échap pour corriger.")
        )
        self.show_error(failure.message)
