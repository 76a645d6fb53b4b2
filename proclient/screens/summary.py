"""Summary: everything that will be sent, one last look before the creation."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from proclient.core.domain import Action, format_mobile, format_nir
from proclient.core.flow import CreationFlow
from proclient.core.i18n import N_, _
from proclient.messages import CreateRequested, JobFailed, RecordRequested, ServiceState
from proclient.screens.base import StepScreen


def consent_line(flow: CreationFlow) -> str:
    """Whose consent it is: the patient's, or a minor's legal representative's."""
    if flow.legal_representative is not None:
        return _("Consentement du représentant légal : recueilli")
    return _("Consentement du patient : recueilli")


def offline_summary_lines(flow: CreationFlow) -> list[str]:
    """Offline: what will be recorded (the identity as held: INSi is asked at the replay)."""
    held = flow.held
    assert held is not None and flow.document is not None
    yes, no = _("autorisé"), _("refusé")
    lines = [
        _(
            "Patient : {name}, né(e) le {birth}",
            name=held.display_name,
            birth=held.birth_date.display,
        ),
        _(
            "Identité : {source}, pièce vue : {document}",
            source=_("carte Vitale") if flow.card is not None else _("saisie"),
            document=flow.document.label,
        ),
        _("Action : création du DMP, ENREGISTRÉE sur ce poste — PAS ENCORE FAITE"),
        consent_line(flow),
        _("Accès SAMU (centre 15) : {v}", v=yes if flow.consent.samu_access else no),
        _("Accès bris de glace : {v}", v=yes if flow.consent.break_glass_access else no),
    ]
    if flow.legal_representative:
        lines.append(_("Représentant légal : {rep}", rep=flow.legal_representative.display))
    lines.append(_("Accès en ligne : impossible hors connexion"))
    return lines


def summary_lines(flow: CreationFlow) -> list[str]:
    if flow.offline:
        return offline_summary_lines(flow)
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
        consent_line(flow),
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
                # Whole, both, to be read back to the patient before the account is made
                # (a typo is caught here; the paper masks them: see receipts).
                web.email or "",
                format_mobile(web.mobile) if web.mobile else "",
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

    BINDINGS = [
        Binding("enter", "create_online", _("Créer le DMP"), id="create"),
        Binding("enter", "record_offline", _("Enregistrer"), id="record"),
        Binding("f9", "record_instead", _("Enregistrer"), id="record_instead"),
    ]

    # After a failure, the service unreachable: F9 records the creation on the workstation.
    UNREACHABLE = ("SERVICE_UNAVAILABLE", "SERVICE_TLS_REFUSED")

    def __init__(self, flow, context) -> None:
        super().__init__(flow, context)
        self.sending = False
        self.record_offered = False

    def compose_body(self) -> ComposeResult:
        yield Static("\n".join(summary_lines(self.flow)), id="summary")
        if self.flow.offline:
            yield Static(
                _(
                    "Service DMP injoignable : la demande est enregistrée, chiffrée, sur ce "
                    "poste ; le DMP sera créé au retour du réseau (INSi d'abord), l'accusé "
                    "édité alors. Entrée ou F8 pour enregistrer ; Échap pour corriger."
                ),
                classes="section",
                id="state",
            )
            return
        verb = _("réactiver") if self.flow.action is Action.REACTIVATION else _("créer")
        yield Static(
            _("Entrée ou F8 pour {verb} le DMP ; Échap pour corriger.", verb=verb),
            classes="section",
            id="state",
        )

    def on_service_state(self, message: ServiceState) -> None:
        """Recording offline, the service came back (or went again): the body says so too."""
        super().on_service_state(message)
        if not self.flow.offline or self.sending:
            return
        self.query_one("#state", Static).update(
            _(
                "Le service DMP répond de nouveau : Entrée enregistre la création, qui part "
                "aussitôt ; ou Échap jusqu'à l'étape 2 puis F5 pour la faire en ligne."
            )
            if message.reachable
            else _(
                "Service DMP injoignable : la demande est enregistrée, chiffrée, sur ce "
                "poste ; le DMP sera créé au retour du réseau (INSi d'abord), l'accusé "
                "édité alors. Entrée ou F8 pour enregistrer ; Échap pour corriger."
            )
        )

    def go_on(self) -> None:
        if self.sending:
            return  # a second press while the first is on its way sends nothing
        self.sending = True
        self.query_one("#state", Static).update("")
        self.start_wait(
            _("Enregistrement sur ce poste…") if self.flow.offline else _("Envoi au service DMP…")
        )
        self.post_message(CreateRequested())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Enter says what it does: « Créer le DMP » online, « Enregistrer » offline.
        if action == "create_online":
            return not self.flow.offline
        if action == "record_offline":
            return self.flow.offline
        if action == "record_instead":
            return self.record_offered
        return super().check_action(action, parameters)

    def action_record_instead(self) -> None:
        if not self.record_offered or self.sending:
            return
        self.clear_error()
        self.sending = True
        self.query_one("#state", Static).update("")
        self.start_wait(_("Enregistrement sur ce poste…"))
        self.post_message(RecordRequested())

    def action_create_online(self) -> None:
        self.action_next()

    def action_record_offline(self) -> None:
        self.action_next()

    def on_job_failed(self, failure: JobFailed) -> None:
        self.stop_wait()
        self.sending = False
        flow = self.flow
        self.record_offered = (
            self.station.outbox
            and not flow.offline
            and failure.code in (*self.UNREACHABLE, "CANCELLED")
            and flow.action is Action.CREATION
        )
        self.refresh_bindings()
        if self.record_offered and flow.web_access is None:
            text = _(
                "Service injoignable : F9 enregistre la création sur ce poste (faite au retour "
                "du réseau, sans doublon) ; Entrée réessaie ; Échap pour corriger."
            )
        elif self.record_offered:
            text = _(
                "Service injoignable : pour enregistrer la création sur ce poste, retirez "
                "d'abord l'accès en ligne (Échap jusqu'à l'étape 4) ; Entrée réessaie."
            )
        elif flow.offline:
            text = _("Entrée ou F8 pour réessayer ; Échap pour corriger.")
        elif self.station.card_less and failure.code in self.UNREACHABLE:
            text = _(
                "Service injoignable : vous êtes connecté avec e-CPS et la création ne peut "
                "pas être enregistrée sur ce poste sans la carte CPS qui la signe ; Entrée "
                "réessaie."
            )
        else:
            text = _("Entrée ou F8 pour réessayer (sans risque de doublon) ; Échap pour corriger.")
        self.query_one("#state", Static).update(text)
        self.show_error(failure.message)
