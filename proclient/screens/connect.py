"""Step 2: the professional authenticates (CPS + code porteur), INSi gives the patient's INS,
the professional checks it against the person, then the existence test (TD0.2).

The code is typed into :class:`~proclient.widgets.pin.PinEntry`, which hands it to the App in
a bytearray wiped after the one attempt (proclient/credentials/pin.py says how far that goes).
The card's flags are shown before typing: few tries left, last try, or blocked.

Identity vigilance (../shared/DOMAIN.md §5): INSi's traits are shown beside the card's (or
the typed ones), every difference in words; the professional says which high-trust document
they saw (or none): the status is *qualifiée* or *récupérée*. INSi's traits cannot be edited.
With no identity (01) or several (02), the traits form asks INSi again; Échap stops: no DMP on
a doubtful identity.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from proclient.core.domain import Action, Authorization, DmpStatus, format_nir
from proclient.core.flow import Step
from proclient.core.i18n import N_, _
from proclient.core.identity import Document, InsiCode, insi_refusal
from proclient.messages import (
    Connected,
    ConnectionConfirmed,
    DocumentChosen,
    EcpsRequested,
    InsiRetryRequested,
    InsiTraitsGiven,
    JobFailed,
    NewPasswordRequested,
    PinEntered,
    PinPurpose,
    PinStatusRead,
    PinStatusRequested,
    ServiceState,
)
from proclient.screens.base import StepScreen
from proclient.widgets.birthplace import BirthplaceInput, BirthplaceLine
from proclient.widgets.fields import field_input
from proclient.widgets.pin import PinEntry, PinField

__all__ = ["ConnectScreen", "PinField"]

TRAIT_FIELDS = ("birth_name", "first_name", "sex", "birth", "birthplace")


def _birth_display(raw: str) -> str:
    return f"{raw[6:8]}/{raw[4:6]}/{raw[:4]}" if len(raw) == 8 else raw


CONNECT_HELP = N_(
    "Saisissez le code porteur de votre carte CPS puis Entrée : un seul essai par Entrée, "
    "jamais d'essai automatique. Après trois codes faux la carte se bloque. Sans carte, F2 "
    "vous connecte avec e-CPS (l'application de votre téléphone). L'INSi donne ensuite l'INS "
    "du patient et ses traits de référence : comparez-les avec la carte, choisissez la pièce "
    "d'identité vue (ou « aucune ») avec les flèches puis Entrée. F6 cherche par les traits, "
    "F5 interroge l'INSi à nouveau. Le service dit enfin si le patient a déjà un DMP. En "
    "démonstration, F7 débloque la carte CPS de démonstration après trois codes faux."
)


class ConnectScreen(StepScreen):
    step_number = 2
    HELP_TEXT = CONNECT_HELP

    BINDINGS = [
        Binding("f2", "ecps", _("e-CPS"), id="ecps"),
        Binding("f5", "insi_retry", _("INSi"), id="insi_retry"),
        Binding("f6", "insi_traits", _("Traits"), id="insi_traits"),
        Binding("f7", "unblock_demo_cps", _("Débloquer (démo)"), id="unblock_demo_cps"),
        Binding("f9", "new_password", _("Mot de passe"), id="new_password"),
    ]

    DEFAULT_CSS = """
    ConnectScreen #identity, ConnectScreen #traits { height: auto; display: none; }
    ConnectScreen #documents { height: auto; max-height: 6; border: none; padding: 0; }
    ConnectScreen #documents:focus { border: none; }
    ConnectScreen .trait { height: 1; }
    ConnectScreen .trait Static { width: 19; }
    ConnectScreen .trait Input { width: 1fr; max-width: 50; }
    """

    def __init__(self, flow, context) -> None:
        super().__init__(flow, context)
        self._retry_possible = False

    @property
    def retry_possible(self) -> bool:
        """F5 asks INSi again: after a failure once signed in."""
        return self._retry_possible

    @retry_possible.setter
    def retry_possible(self, value: bool) -> None:
        self._retry_possible = value
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """F5 and F6 are shown when they can act: F5 after a failure, F6 once signed in."""
        if action == "insi_retry":
            return self._retry_possible
        if action == "insi_traits":
            return self.flow.professional is not None or self.station.authenticated
        if action == "new_password":
            return new_password_possible(self.flow)
        if action == "next":
            return not dmp_active(self.flow)
        if action == "ecps":  # before signing in only
            flow = self.flow
            return (
                flow.professional is None
                and flow.identity is None
                and not self.station.authenticated
            )
        if action == "unblock_demo_cps":  # a blocked demo CPS only
            entries = self.query(PinEntry)
            return bool(entries) and entries.first().demo_unblock_offered
        return super().check_action(action, parameters)

    def compose_body(self) -> ComposeResult:
        station = self.station
        yield Static(
            _("Patient : {name}", name=self.flow.display_name), classes="section", id="patient"
        )
        with Vertical(id="login"):
            yield Static(_("Professionnel : {who}", who=station.credential_label), id="who")
            yield Static(_("Saisissez votre code porteur puis Entrée (sans carte : F2 e-CPS)."))
            yield PinEntry(id="pin-entry")
            if station.credential_hint:
                yield Static(station.credential_hint, classes="hint")
        with Vertical(id="identity"):
            yield Static("", id="compare")
            yield Static("", id="differences")
            yield Static(
                _("Pièce d'identité vue (flèches puis Entrée) :"), classes="section", id="seen"
            )
            yield OptionList(id="documents")
            yield Static("", id="status")
        with Vertical(id="traits"):
            yield Static(_("Recherche INSi par les traits (d'après une pièce d'identité) :"))
            for name, label, hint in (
                ("birth_name", _("Nom de naissance"), ""),
                ("first_name", _("Premier prénom"), ""),
                ("sex", _("Sexe"), _("F ou M")),
                ("birth", _("Né(e) le"), _("JJ/MM/AAAA (00 si inconnu)")),
                (
                    "birthplace",
                    _("Lieu de naissance"),
                    _("commune ou pays, facultatif, ex. Toulouse"),
                ),
            ):
                with Horizontal(classes="trait"):
                    yield Static(label)
                    if name == "birthplace":
                        yield BirthplaceInput(placeholder=hint, compact=True, id=name)
                    else:
                        yield field_input(name, label, placeholder=hint, compact=True)
            yield BirthplaceLine(id="birthplace-line")
            yield Static(
                _("Tab passe au champ suivant ; Entrée sur le dernier interroge l'INSi."),
                classes="hint",
            )
        yield Static("", id="state")

    @property
    def entry(self) -> PinEntry:
        return self.query_one("#pin-entry", PinEntry)

    def on_mount(self) -> None:
        if self.station.offline_session:
            self.query_one("#login").display = False  # the App says so with Connected
        elif self.station.authenticated:
            self.query_one("#login").display = False  # the App asks INSi and the status itself
            self.start_wait(_("Interrogation de l'INSi…"))
        else:
            self.entry.field.focus()
            self.post_message(PinStatusRequested())

    def on_pin_entry_empty(self, event: PinEntry.Empty) -> None:
        self.show_error(_("Saisissez votre code porteur."))

    def on_pin_entered(self, event: PinEntered) -> None:
        # On its way up to the App: say what is happening meanwhile.
        self.clear_error()
        self.set_state("")
        self.start_wait(_("Connexion au service DMP, puis interrogation de l'INSi…"))

    def on_pin_status_read(self, message: PinStatusRead) -> None:
        status = message.status
        if status.holder:
            self.query_one("#who", Static).update(_("Professionnel : {who}", who=status.holder))
        self.entry.show_status(status)

    def set_state(self, text: str) -> None:
        self.query_one("#state", Static).update(text)

    # --- what INSi and the service said ---------------------------------------------------------

    def on_connected(self, message: Connected) -> None:
        """INSi and the existence test have answered, or INSi needs the traits."""
        self.stop_wait()
        self.entry.succeeded()
        flow = self.flow
        self.retry_possible = False  # refreshes the footer's keys too
        self.query_one("#login").display = False
        patient = flow.patient
        self.query_one("#patient", Static).update(
            _(
                "Patient : {name}\nINS : {nir} ({label})",
                name=flow.display_name,
                nir=format_nir(patient.ins.value),
                label=patient.ins.label,
            )
            if patient is not None
            else _("Patient : {name}", name=flow.display_name)
        )
        if flow.offline:
            self._show_offline()
            return
        if flow.identity is None:
            self._no_identity()
            return
        self.query_one("#traits").display = False
        self._show_identity()
        self._show_dmp_state()

    def _no_identity(self) -> None:
        flow = self.flow
        self.query_one("#identity").display = False
        refusal = insi_refusal(flow.insi) if flow.insi is not None else None
        if refusal is not None:
            self.show_error(refusal.message)
        if flow.insi is not None and flow.insi.code is InsiCode.NONE and flow.insi.by_card:
            self.set_state(_("F6 pour chercher par les traits ; Échap pour arrêter."))
            return
        self.set_state(
            _(
                "La carte ne porte pas le NIR de ce bénéficiaire : l'INSi est interrogé par les traits."
            )
            if flow.insi is None
            else _("Corrigez ou complétez les traits ; Échap pour arrêter : pas de DMP.")
        )
        self.show_traits(focus="birthplace" if flow.insi is not None else None)

    def _show_offline(self) -> None:
        """The service cannot be reached: the creation will be recorded. The identity held
        (INSi is asked at the replay), the document seen; the traits form first when the
        card does not give the sex (INSi will be asked by the traits)."""
        flow = self.flow
        held = flow.held
        assert held is not None
        self.show_error(offline_sentence(self.station.service_reachable))
        if not flow.offline_ready:
            self.query_one("#identity").display = False
            self.set_state(
                _(
                    "La carte ne porte pas le NIR de ce bénéficiaire : saisissez les traits "
                    "d'après une pièce d'identité (le sexe au moins) ; Entrée sur le dernier "
                    "champ les garde pour l'INSi."
                )
            )
            self.show_traits()
            return
        self.query_one("#traits").display = False
        source = _("carte") if flow.card is not None else _("saisie")
        lines = [
            _("Identité ({source}) ; l'INSi sera interrogé au retour du réseau :", source=source),
            "  "
            + _(
                "{sex}, né(e) le {birth}",
                sex=held.sex.label if held.sex else "—",
                birth=held.birth_date.display,
            ),
        ]
        if held.nir:
            lines.append("  " + _("NIR {nir}", nir=format_nir(held.nir)))
        self.query_one("#compare", Static).update("\n".join(lines))
        self.query_one("#differences", Static).update("")
        documents = self._show_documents(flow.document)
        self.query_one("#identity").display = True
        self.retry_possible = True  # F5: the service again (the live flow, if it answers)
        if flow.document is None:
            self.query_one("#status", Static).update(_("Pièce vue : choisissez-la."))
            documents.focus()
            self.set_state("")
        else:
            self.query_one("#status", Static).update(
                _("Pièce vue : {document}.", document=flow.document.label)
            )
            self.set_state(_("F8 pour continuer : la création sera enregistrée sur ce poste."))

    def show_traits(self, focus: str | None = None) -> None:
        """The traits form, filled with what is known (the card, the typed identity)."""
        held = self.flow.held
        form = self.query_one("#traits")
        if not form.display and held is not None:
            values = {
                "birth_name": held.last_name,
                "first_name": held.first_name.split(" ")[0],
                "sex": held.sex.value if held.sex else "",
                "birth": held.birth_date.display,
                "birthplace": held.birthplace or "",
            }
            for name, value in values.items():
                field = self.query_one(f"#{name}", Input)
                if not field.value:
                    field.value = value
        form.display = True
        if focus is None:
            focus = next(
                (n for n in TRAIT_FIELDS[:4] if not self.query_one(f"#{n}", Input).value),
                "birthplace",
            )
        self.query_one(f"#{focus}", Input).focus()

    def _show_identity(self) -> None:
        check = self.flow.identity
        assert check is not None
        compare, differences = comparison_text(self.flow)
        self.query_one("#compare", Static).update(compare)
        self.query_one("#differences", Static).update(differences)
        documents = self._show_documents(check.document)
        self.query_one("#identity").display = True
        active = dmp_active(self.flow)  # nothing to create: no document to choose
        for part in ("#seen", "#documents", "#status"):
            self.query_one(part).display = not active
        self._show_status()
        if check.document is None and not active:
            documents.focus()

    def _show_documents(self, chosen: Document | None) -> OptionList:
        """The documents offered for this patient, « (•) » before the one chosen."""
        documents = self.query_one("#documents", OptionList)
        offered = self.flow.documents
        if documents.option_count != len(offered):
            documents.clear_options()
            documents.add_options(Option(d.label, id=d.value) for d in offered)
            documents.highlighted = 0
        for index, document in enumerate(offered):
            mark = "(•)" if chosen is document else "( )"
            documents.replace_option_prompt_at_index(index, f"{mark} {document.label}")
        return documents

    def _show_status(self) -> None:
        check = self.flow.identity
        if check is None or check.status is None:
            text = _("Statut de l'identité : choisissez la pièce vue.")
        else:
            text = _("Statut de l'identité : {status}.", status=check.status.label)
        self.query_one("#status", Static).update(text)

    def on_service_state(self, message: ServiceState) -> None:
        """Recording offline, the service came back (or went again): one truth on screen."""
        super().on_service_state(message)
        if self.flow.offline and self.flow.step is Step.CONNECT:
            self.show_error(offline_sentence(message.reachable))

    def _show_dmp_state(self) -> None:
        self.set_state(dmp_state_text(self.flow))
        self.refresh_bindings()

    def action_new_password(self) -> None:
        if new_password_possible(self.flow):
            self.clear_error()
            self.start_wait(_("Demande d'un nouveau mot de passe provisoire…"))
            self.post_message(NewPasswordRequested())

    # --- what the professional does -------------------------------------------------------------

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_list.id == "documents" and event.option.id:
            self.clear_error()
            self.post_message(DocumentChosen(Document(event.option.id)))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = event.input.id or "birthplace"
        index = TRAIT_FIELDS.index(name)
        if index < len(TRAIT_FIELDS) - 1:
            self.query_one(f"#{TRAIT_FIELDS[index + 1]}", Input).focus()
            return
        self.ask_by_traits()

    def ask_by_traits(self) -> None:
        values = {name: self.query_one(f"#{name}", Input).value for name in TRAIT_FIELDS}
        self.clear_error()
        if self.flow.offline:
            self.set_state(_("Traits gardés pour l'INSi…"))
        else:
            self.set_state("")
            self.start_wait(_("Interrogation de l'INSi par les traits…"))
        self.post_message(
            InsiTraitsGiven(
                values["birth_name"],
                values["first_name"],
                values["sex"],
                values["birth"],
                values["birthplace"],
            )
        )

    def action_insi_traits(self) -> None:
        if self.flow.offline:
            self.query_one("#identity").display = False
            self.show_traits()
            return
        if self.flow.professional is None and not self.station.authenticated:
            self.show_error(_("Connectez-vous d'abord avec votre carte CPS."))
            return
        self.query_one("#identity").display = False
        self.show_traits()

    def action_ecps(self) -> None:
        self.post_message(EcpsRequested(PinPurpose.LOGIN))

    def action_unblock_demo_cps(self) -> None:
        if self.entry.demo_unblock_offered:
            self.clear_error()
            self.entry.request_demo_unblock()

    def action_insi_retry(self) -> None:
        if not self.retry_possible:
            return
        self.retry_possible = False
        self.clear_error()
        self.set_state("")
        self.start_wait(_("Nouvelle interrogation de l'INSi…"))
        self.post_message(InsiRetryRequested())

    def on_job_failed(self, failure: JobFailed) -> None:
        self.stop_wait()
        if failure.job == "document":
            self.show_error(failure.message)
            return
        if self.flow.professional is None:  # the login itself failed (or the session ended)
            if self.entry.refused(failure):
                return
            self.show_error(failure.message)
            self.set_state("")
            self.query_one("#login").display = True
            return
        # Signed in: INSi or the existence test failed; what was typed stays.
        self.show_error(failure.message)
        self.retry_possible = failure.code.startswith("SERVICE") or failure.code in (
            "IDEMPOTENCY_IN_PROGRESS",
            "UNEXPECTED",
            "CANCELLED",
        )
        self.set_state(
            _("F5 pour interroger l'INSi à nouveau ; rien de ce qui est saisi n'est perdu.")
            if self.retry_possible
            else ""
        )

    def go_on(self) -> None:
        self.post_message(ConnectionConfirmed())


def comparison_text(flow) -> tuple[str, str]:
    """INSi's traits beside the card's (or the typed ones), and every difference in words."""
    check = flow.identity
    traits, held = check.identity.traits, check.held
    card = _("Carte") if flow.card is not None else _("Saisie")
    width = 24
    rows = [
        ("", _("INSi"), card),
        (_("Nom de naissance"), traits.birth_name, held.last_name),
        (_("Prénom(s)"), traits.given_names_text, held.first_name),
        (_("Sexe"), traits.sex.label, held.sex.label if held.sex else "—"),
        (_("Né(e) le"), _birth_display(traits.birth_date.raw), held.birth_date.display),
        (_("Lieu de naissance"), traits.birthplace or "—", held.birthplace or "—"),
    ]
    lines = [f"{label:<18} {insi:<{width}} {mine}" for label, insi, mine in rows]
    for old in check.identity.history:
        lines.append(
            _("  ancien matricule : {nir} ({label})", nir=format_nir(old.value), label=old.label)
        )
    if check.differences:
        differences = (
            _("Différences à vérifier avec le patient :")
            + "\n"
            + "\n".join(f"  • {d.label}" for d in check.differences)
        )
    elif flow.card:
        differences = _("Aucune différence avec la carte.")
    else:
        differences = _("Aucune différence avec la saisie.")
    return "\n".join(lines), differences


def dmp_state_text(flow) -> str:
    """What the existence test said, and what F8 will do."""
    if flow.dmp_state is None:
        return ""
    if flow.dmp_state.status is DmpStatus.ACTIVE:
        if new_password_possible(flow):
            return _(
                "Ce patient a déjà un DMP actif : il n'y a rien à créer. Son accès en ligne "
                "est ouvert : s'il a perdu son mot de passe provisoire, F9 lui en donne un "
                "nouveau. Échap pour revenir, ou retirez la carte."
            )
        return _(
            "Ce patient a déjà un DMP actif : il n'y a rien à créer. "
            "Échap pour revenir, ou retirez la carte."
        )
    if flow.action is Action.REACTIVATION:
        return _(
            "Le DMP de ce patient est fermé : il peut être réactivé avec son "
            "consentement. F8 pour continuer."
        )
    return _("Aucun DMP pour ce patient : création possible. F8 pour continuer.")


def dmp_active(flow) -> bool:
    return flow.dmp_state is not None and flow.dmp_state.status is DmpStatus.ACTIVE


def new_password_possible(flow) -> bool:
    """An active DMP whose online access is open, the professional authorised on it."""
    state = flow.dmp_state
    return (
        dmp_active(flow)
        and state.web_access
        and state.authorization is Authorization.VALIDE
        and flow.patient is not None
    )


def offline_sentence(reachable: bool | None) -> str:
    """What step 2 says while the creation is to be recorded, as the service stands now."""
    if reachable:
        return _(
            "Le service DMP répond de nouveau : F5 continue en ligne (INSi, puis la "
            "création) ; sinon la création sera ENREGISTRÉE sur ce poste."
        )
    return _(
        "Service DMP injoignable : création ENREGISTRÉE sur ce poste, faite au retour "
        "du réseau (sans accès en ligne)."
    )
