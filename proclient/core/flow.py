"""The creation flow: a pure state machine over the four steps.

identify → connect → consent → online access → summary → done.

The flow holds what has been chosen so far and enforces the rules of each step; the
application performs the I/O (card, service, printer) and feeds the results in. No Textual,
no card, no network here: every transition is testable on its own. A method that breaks a
rule raises DomainError and leaves the state as it was.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import date

from proclient.core.domain import (
    Action,
    Beneficiary,
    Consent,
    DmpState,
    DmpStatus,
    DomainError,
    IdentitySource,
    LegalRepresentative,
    Patient,
    Professional,
    VitaleCard,
    WebAccess,
    is_minor,
    refusal,
    sex_from_nir,
    validate_nir,
)
from proclient.core.i18n import _
from proclient.core.identity import (
    CardQuery,
    Document,
    HeldIdentity,
    IdentityCheck,
    InsiAnswer,
    InsiCode,
    TraitsQuery,
    differences,
    documents_for,
    identity_status,
    insi_query_for,
    insi_refusal,
    traits_query,
)
from proclient.core.records import CreationResult


@dataclass(frozen=True)
class WebDraft:
    """Step 4 as it was left with Esc (or a card pulled), before F8 checked it: the tick and
    the email and mobile exactly as typed, so that coming back shows them again."""

    wanted: bool = False
    email: str = ""
    mobile: str = ""


@dataclass(frozen=True)
class ConsentDraft:
    """Step 3 as it was left with Esc (or a card pulled), before F8 checked it: the ticks and
    the representative as chosen and typed."""

    consent: Consent
    relationship: str = ""
    last_name: str = ""
    first_name: str = ""


class Step(enum.IntEnum):
    HOME = 0
    IDENTIFY = 1
    CONNECT = 2
    CONSENT = 3
    ONLINE_ACCESS = 4
    SUMMARY = 5
    DONE = 6


# The steps after which a card pulled by mistake may be put back to go on (see set_aside).
RESUMABLE = (Step.CONNECT, Step.CONSENT, Step.ONLINE_ACCESS)


@dataclass
class CreationFlow:
    """One patient's creation, from the card read to the receipt.

    Identity vigilance (proclient.core.identity): the card or the typed entry gives the *held*
    identity; at step 2, once the professional is connected, INSi answers (by the card, or by
    the traits); with one identity found, the professional sees the differences and says which
    document they saw. Only then is there a ``patient``: INSi's INS and traits, never the
    card's spelling, and the existence test (TD0.2) is for that INS."""

    today: date
    majority: int = 18
    step: Step = Step.HOME
    card: VitaleCard | None = None
    beneficiary_index: int | None = None
    held: HeldIdentity | None = None
    insi: InsiAnswer | None = None
    identity: IdentityCheck | None = None
    patient: Patient | None = None
    professional: Professional | None = None
    dmp_state: DmpState | None = None
    consent: Consent = field(default_factory=Consent)
    legal_representative: LegalRepresentative | None = None
    consent_draft: ConsentDraft | None = None
    web_access: WebAccess | None = None
    web_draft: WebDraft | None = None
    result: CreationResult | None = None
    offline: bool = False
    """The service could not be reached at step 2: the creation is *recorded* on the
    workstation (proclient.core.capture), to be done when the service answers again."""
    document: Document | None = None
    """Offline only: the document seen (online, it is part of ``identity``)."""
    recorded: str | None = None
    """Offline only: the outbox entry the capture was recorded as (step DONE)."""

    # --- step 1: identify ---------------------------------------------------------------

    def card_read(self, card: VitaleCard) -> None:
        """A card was read: go to identification; a single beneficiary is pre-selected."""
        if not card.beneficiaries:
            raise DomainError("NO_BENEFICIARY", _("La carte ne porte aucun bénéficiaire lisible."))
        self.reset()
        self.card = card
        self.step = Step.IDENTIFY
        if len(card.beneficiaries) == 1:
            self.choose_beneficiary(0)

    def choose_beneficiary(self, index: int) -> HeldIdentity:
        """The beneficiary at ``index`` becomes the identity held. A beneficiary without
        their own NIR on the card is allowed: INSi is then asked by the traits."""
        self._expect(Step.IDENTIFY)
        assert self.card is not None
        if not 0 <= index < len(self.card.beneficiaries):
            raise DomainError("BENEFICIARY", _("Choisissez un bénéficiaire dans la liste."))
        person = self.card.beneficiaries[index]
        nir = validate_nir(person.nir) if person.nir else None
        held = HeldIdentity(
            last_name=person.last_name,
            first_name=person.first_name,
            birth_date=person.birth_date,
            sex=sex_from_nir(nir) if nir else None,
            nir=nir,
            source=IdentitySource.CARD,
            rank=index + 1,
        )
        if held != self.held:
            self._forget_identity()
        self.beneficiary_index, self.held = index, held
        return held

    @property
    def typed(self) -> bool:
        """The identity is being typed (no readable card: Vitale 1, forgotten card)."""
        return self.step is not Step.HOME and self.card is None

    def start_manual_entry(self) -> None:
        """Identify the patient by typing the identity instead of reading a card."""
        self.reset()
        self.step = Step.IDENTIFY

    def identity_typed(self, held: HeldIdentity) -> None:
        """The typed identity (see ``typed_identity``) becomes the identity held."""
        self._expect(Step.IDENTIFY)
        if self.card is not None or held.source is not IdentitySource.TYPED:
            raise not_at_this_step()
        if held != self.held:
            self._forget_identity()
        self.beneficiary_index, self.held = None, held

    def confirm_identity(self) -> None:
        self._expect(Step.IDENTIFY)
        if self.held is None:
            raise DomainError("BENEFICIARY", _("Choisissez un bénéficiaire dans la liste."))
        self.step = Step.CONNECT

    @property
    def display_name(self) -> str:
        """Who the creation is for, as far as it is known: INSi's traits once they came."""
        if self.patient is not None:
            return self.patient.display_name
        return self.held.display_name if self.held is not None else ""

    # --- step 2: identity vigilance (INSi, the document seen) ----------------------------------

    def _forget_identity(self) -> None:
        self.insi = self.identity = self.patient = self.dmp_state = None
        self.document = None

    def insi_query(self) -> CardQuery | TraitsQuery:
        """The look-up to make first: by the card when it carries the beneficiary's own NIR,
        by the traits otherwise (TRAITS_INCOMPLETE when the sex is unknown: a card without
        the beneficiary's NIR does not carry it; the professional then gives it)."""
        if self.held is None:
            raise refusal("INSI_MISSING")
        return insi_query_for(self.held)

    def insi_answered(self, answer: InsiAnswer) -> None:
        """INSi answered: with one identity, compare it with the identity held; with none
        or several, there is no patient (no DMP on a doubtful identity)."""
        self._expect(Step.CONNECT)
        assert self.held is not None
        self._forget_identity()
        self.insi = answer
        if answer.code is InsiCode.FOUND and answer.identity is not None:
            self.identity = IdentityCheck(
                answer.identity, self.held, differences(self.held, answer.identity)
            )
            self.patient = self.identity.patient

    @property
    def documents(self) -> tuple[Document, ...]:
        """The documents offered for this patient (a minor's included when they are one)."""
        return documents_for(self.needs_legal_representative)

    def document_seen(self, document: Document) -> None:
        """The high-trust document the professional saw (or none): the identity's status."""
        self._expect(Step.CONNECT)
        if self.offline:
            assert self.held is not None
            identity_status(document, self.held.birth_date, self.today, self.majority)
            self.document = document
            return
        if self.identity is None or self.patient is None:
            raise refusal("INSI_MISSING")
        status = identity_status(document, self.patient.birth_date, self.today, self.majority)
        self.identity = replace(self.identity, document=document, status=status)

    # --- step 2: connect and existence test (TD0.2) -----------------------------------------

    def connected(self, professional: Professional, state: DmpState) -> None:
        """The professional is authenticated and the existence test has answered."""
        self._expect(Step.CONNECT)
        self.professional, self.dmp_state = professional, state

    def work_offline(self, professional: Professional) -> None:
        """The service cannot be reached, the CPS was unlocked by its PIN on the card itself:
        this patient's creation is to be recorded, not done. No INSi now (the replay asks it
        first), no existence test, no online access."""
        self._expect(Step.CONNECT)
        self._forget_identity()
        self.professional, self.offline = professional, True
        self.web_access = self.web_draft = None

    def leave_offline(self) -> None:
        """The service answers again before the creation was recorded: step 2 goes on live
        (INSi, the existence test; the document is chosen against INSi's traits)."""
        self._expect(Step.CONNECT)
        self.offline, self.document = False, None

    def offline_traits(self, held: HeldIdentity) -> None:
        """Offline, a card without the beneficiary's own NIR: the traits typed from a document
        (the sex above all) are what INSi will be asked by later."""
        self._expect(Step.CONNECT)
        if not self.offline:
            raise not_at_this_step()
        traits_query(held.last_name, held.first_name, held.sex, held.birth_date, held.birthplace)
        self.held = held
        if self.document is not None and self.document not in self.documents:
            self.document = None  # a minor's document, and the birth date typed is an adult's

    @property
    def offline_ready(self) -> bool:
        """Offline: INSi can be asked later from what is held (the sex is known, or the card
        carries the beneficiary's own NIR)."""
        if self.held is None:
            return False
        try:
            self.insi_query()
        except DomainError:
            return False
        return True

    @property
    def action(self) -> Action | None:
        """What the flow will do: create (no DMP), reactivate (closed), or nothing (active)."""
        if self.offline:
            return Action.CREATION  # recorded: the service says at replay if it can be
        if self.dmp_state is None:
            return None
        return {
            DmpStatus.NOT_FOUND: Action.CREATION,
            DmpStatus.CLOSED: Action.REACTIVATION,
        }.get(self.dmp_state.status)

    def confirm_connection(self) -> None:
        self._expect(Step.CONNECT)
        if self.professional is None:
            raise DomainError("NOT_CONNECTED", _("Connectez-vous au service DMP pour continuer."))
        if self.offline:
            if not self.offline_ready:
                raise refusal("TRAITS_INCOMPLETE")
            if self.document is None:
                raise refusal("DOCUMENT_MISSING")
            self.step = Step.CONSENT
            return
        if self.identity is None:
            raise (insi_refusal(self.insi) if self.insi else None) or refusal("INSI_MISSING")
        if self.dmp_state is not None and self.dmp_state.status is DmpStatus.ACTIVE:
            raise DomainError(
                "DMPFound", _("Ce patient a déjà un DMP actif : il n'y a rien à créer.")
            )
        if self.identity.status is None:
            raise refusal("DOCUMENT_MISSING")
        if self.dmp_state is None:
            raise DomainError("NOT_CONNECTED", _("Connectez-vous au service DMP pour continuer."))
        self.step = Step.CONSENT

    # --- step 3: consent -----------------------------------------------------------------

    @property
    def needs_legal_representative(self) -> bool:
        if self.patient is not None:
            return self.patient.is_minor(self.today, self.majority)
        if self.offline and self.held is not None:
            return is_minor(self.held.birth_date, self.today, self.majority)
        return False

    @property
    def adults_on_card(self) -> tuple[Beneficiary, ...]:
        """The card's adult beneficiaries other than the patient: a minor's legal
        representative is most often one of them (offered at step 3, the relationship still
        to choose)."""
        if self.card is None or not self.needs_legal_representative:
            return ()
        return tuple(
            person
            for index, person in enumerate(self.card.beneficiaries)
            if index != self.beneficiary_index
            and not is_minor(person.birth_date, self.today, self.majority)
        )

    def set_consent(
        self, consent: Consent, legal_representative: LegalRepresentative | None = None
    ) -> None:
        self._expect(Step.CONSENT)
        if not consent.creation:
            message = (
                _("Sans le consentement du patient, le DMP ne peut pas être réactivé.")
                if self.action is Action.REACTIVATION
                else _("Sans le consentement du patient, le DMP ne peut pas être créé.")
            )
            raise DomainError("CONSENT_MISSING", message)
        if self.needs_legal_representative and legal_representative is None:
            raise DomainError(
                "PATIENT_MINOR",
                _("Le patient est mineur : saisissez son représentant légal."),
            )
        self.consent = consent
        self.legal_representative = (
            legal_representative if self.needs_legal_representative else None
        )
        self.consent_draft = None
        self.step = Step.ONLINE_ACCESS

    def keep_consent_draft(self, draft: ConsentDraft) -> None:
        """Step 3 left without F8 (Esc, the card pulled): the ticks and the representative
        are kept, unchecked, to be shown again when the step comes back."""
        self._expect(Step.CONSENT)
        self.consent_draft = draft

    @property
    def consent_shown(self) -> ConsentDraft:
        """What step 3 shows: the draft left there, else the consent given (or the default)."""
        if self.consent_draft is not None:
            return self.consent_draft
        rep = self.legal_representative
        if rep is None:
            return ConsentDraft(self.consent)
        return ConsentDraft(self.consent, rep.relationship.value, rep.last_name, rep.first_name)

    # --- step 4: online access -----------------------------------------------------------

    def set_web_access(self, web_access: WebAccess | None) -> None:
        """None when the patient wants no online access (the step is optional)."""
        self._expect(Step.ONLINE_ACCESS)
        if web_access is not None and self.offline:
            raise refusal("WEB_ACCESS_OFFLINE")
        if web_access is not None and self.dmp_state is not None and self.dmp_state.web_access:
            raise DomainError(
                "DMPPatientAccessAlreadyExists",
                _("Le patient a déjà un accès en ligne à son DMP : décochez la case."),
            )
        self.web_access, self.web_draft = web_access, None
        self.step = Step.SUMMARY

    def keep_web_draft(self, draft: WebDraft) -> None:
        """Step 4 left without F8 (Esc, the card pulled): what was ticked and typed is kept,
        unchecked, to be shown again when the step comes back."""
        self._expect(Step.ONLINE_ACCESS)
        self.web_draft = draft

    @property
    def web_shown(self) -> WebDraft:
        """What step 4 shows: the draft left there, else the access chosen, else nothing."""
        if self.web_draft is not None:
            return self.web_draft
        web = self.web_access
        if web is None:
            return WebDraft()
        return WebDraft(True, web.email or "", web.mobile or "")

    # --- summary and submission ------------------------------------------------------------

    def completed(self, result: CreationResult) -> None:
        self._expect(Step.SUMMARY)
        self.result = result
        self.step = Step.DONE

    def was_recorded(self, entry_id: str) -> None:
        """Offline: the capture is kept in the outbox (the creation is not done yet)."""
        self._expect(Step.SUMMARY)
        self.recorded = entry_id
        self.step = Step.DONE

    # --- moving around ---------------------------------------------------------------------

    def back(self) -> Step:
        """One step back; what was entered is kept so that going forward again is quick."""
        if self.step is Step.CONNECT:
            # Step 2 starts afresh when it comes back: online again if the service answers.
            self.offline, self.document = False, None
        previous = {
            Step.IDENTIFY: Step.HOME,
            Step.CONNECT: Step.IDENTIFY,
            Step.CONSENT: Step.CONNECT,
            Step.ONLINE_ACCESS: Step.CONSENT,
            Step.SUMMARY: Step.ONLINE_ACCESS,
        }.get(self.step, self.step)
        if previous is Step.HOME:
            self.reset()
        self.step = previous
        return previous

    def set_aside(self) -> CreationFlow | None:
        """The card was pulled: this flow forgets the patient at once. Pulled at steps 2–4,
        a copy of what was done (without the professional) is returned, for the App to keep
        in memory a short time in case the same card comes back (see ``resume``)."""
        kept = None
        if self.step in RESUMABLE and self.card is not None:
            kept = replace(self, professional=None)
        self.reset()
        return kept

    def resume(self, kept: CreationFlow) -> None:
        """The same card was put back (step 1, just read): go on where ``kept`` was, with the
        professional signed in now."""
        self._expect(Step.IDENTIFY)
        if kept.card != self.card or kept.step not in RESUMABLE:
            raise not_at_this_step()
        professional = self.professional
        self.__dict__.update(replace(kept).__dict__)
        self.professional = professional

    def reset(self) -> None:
        """Forget the patient entirely (card removed, flow ended). The professional's session
        is not patient data and survives."""
        professional = self.professional
        fresh = CreationFlow(today=self.today, majority=self.majority)
        self.__dict__.update(replace(fresh).__dict__)
        self.professional = professional

    def _expect(self, step: Step) -> None:
        expect_step(self, step)


def not_at_this_step() -> DomainError:
    """The refusal of an action the flow's current step does not take."""
    return DomainError("STEP", _("Cette action n'est pas possible à cette étape."))


def expect_step(flow: CreationFlow, step: Step) -> None:
    """Refuse (STEP) unless ``flow`` is at ``step``."""
    if flow.step is not step:
        raise not_at_this_step()
