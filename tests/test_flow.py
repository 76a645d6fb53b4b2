"""The creation flow's transitions, without Textual, card or network."""

from datetime import UTC, date, datetime

import pytest

from proclient.core.domain import (
    Action,
    Beneficiary,
    BirthDate,
    Consent,
    DmpState,
    DmpStatus,
    DomainError,
    Professional,
    VitaleCard,
    WebAccess,
    make_legal_representative,
)
from proclient.core.flow import ConsentDraft, CreationFlow, Step, WebDraft
from proclient.core.identity import (
    Document,
    IdentityStatus,
    InsiAnswer,
    InsiCode,
    InsiIdentity,
    InsiTraits,
)
from proclient.core.records import CreationResult
from proclient.core.submission import creation_request

TODAY = date(2026, 11, 23)
PHARMACIST = Professional("899700024450", "MARTIN", "Claire", "21", "Pharmacie de la Gare")
LEGOFF = VitaleCard(
    "3B7513000047", (Beneficiary("LE GOFF", "Gérard", BirthDate("19520314"), "152033523804587"),)
)
DURAND = VitaleCard(
    "3B7513000047",
    (
        Beneficiary("DURAND", "Sophie", BirthDate("19850722"), "285077505612370"),
        Beneficiary("DURAND", "Léa", BirthDate("20150603"), "215067511203450"),
        Beneficiary("DURAND", "Hugo", BirthDate("20140610"), "114067511203551"),
    ),
)


def register_answer(nir: str) -> InsiAnswer:
    """INSi's 00 answer for the demo register's person whose INS is ``nir``."""
    from proclient.core.demo_people import DEMO_REGISTER
    from proclient.core.domain import Ins, Sex

    entry = next(e for e in DEMO_REGISTER if e.ins == nir)
    identity = InsiIdentity(
        Ins(entry.ins, entry.oid),
        InsiTraits(
            entry.birth_name,
            entry.given_names,
            Sex(entry.sex),
            BirthDate(entry.birth_date),
            entry.birthplace,
        ),
        tuple(Ins(v, o) for v, o in entry.history),
    )
    return InsiAnswer(InsiCode.FOUND, identity)


def checked(flow: CreationFlow, nir: str, document=Document.PASSPORT) -> CreationFlow:
    """Step 2's identity vigilance: INSi's answer for ``nir``, the document seen."""
    flow.insi_answered(register_answer(nir))
    flow.document_seen(document)
    return flow


def flow_at_consent(card=LEGOFF, index=0, status=DmpStatus.NOT_FOUND) -> CreationFlow:
    flow = CreationFlow(today=TODAY)
    flow.card_read(card)
    flow.choose_beneficiary(index)
    flow.confirm_identity()
    checked(flow, card.beneficiaries[index].nir)
    flow.connected(PHARMACIST, DmpState(status))
    flow.confirm_connection()
    return flow


def test_single_beneficiary_is_preselected():
    flow = CreationFlow(today=TODAY)
    flow.card_read(LEGOFF)
    assert flow.step is Step.IDENTIFY
    assert flow.held.last_name == "LE GOFF" and flow.patient is None  # INSi has not answered


def test_family_card_waits_for_a_choice():
    flow = CreationFlow(today=TODAY)
    flow.card_read(DURAND)
    assert flow.held is None
    with pytest.raises(DomainError):
        flow.confirm_identity()
    flow.choose_beneficiary(2)
    assert flow.held.first_name == "Hugo"
    flow.confirm_identity()
    assert flow.step is Step.CONNECT


def test_choosing_outside_the_list_is_refused():
    flow = CreationFlow(today=TODAY)
    flow.card_read(DURAND)
    with pytest.raises(DomainError):
        flow.choose_beneficiary(3)


def test_not_found_leads_to_creation():
    flow = flow_at_consent()
    assert flow.step is Step.CONSENT and flow.action is Action.CREATION


def test_closed_dmp_leads_to_reactivation():
    assert flow_at_consent(status=DmpStatus.CLOSED).action is Action.REACTIVATION


def test_active_dmp_stops_the_flow():
    flow = CreationFlow(today=TODAY)
    flow.card_read(LEGOFF)
    flow.confirm_identity()
    checked(flow, "152033523804587")
    flow.connected(PHARMACIST, DmpState(DmpStatus.ACTIVE))
    with pytest.raises(DomainError) as caught:
        flow.confirm_connection()
    assert caught.value.code == "DMPFound"
    assert flow.step is Step.CONNECT


def test_consent_to_creation_is_mandatory():
    flow = flow_at_consent()
    with pytest.raises(DomainError) as caught:
        flow.set_consent(Consent())
    assert caught.value.code == "CONSENT_MISSING"
    assert flow.step is Step.CONSENT


def test_minor_requires_legal_representative():
    flow = flow_at_consent(DURAND, 1)
    assert flow.needs_legal_representative
    with pytest.raises(DomainError) as caught:
        flow.set_consent(Consent(creation=True))
    assert caught.value.code == "PATIENT_MINOR"
    flow.set_consent(Consent(creation=True), make_legal_representative("MTH", "DURAND", "Sophie"))
    assert flow.step is Step.ONLINE_ACCESS


def test_adult_keeps_no_legal_representative():
    flow = flow_at_consent(DURAND, 0)
    flow.set_consent(Consent(creation=True), make_legal_representative("MTH", "X", "Y"))
    assert flow.legal_representative is None


def test_refused_emergency_accesses_reach_the_request():
    flow = flow_at_consent()
    flow.set_consent(Consent(creation=True, samu_access=False, break_glass_access=False))
    flow.set_web_access(None)
    request = creation_request(flow)
    assert request.consent.codes[1:] == ("OPPOSITION_ACCES_URGENCE", "OPPOSITION_BRIS_DE_GLACE")


def test_back_and_forward_keeps_the_choices():
    flow = flow_at_consent()
    flow.set_consent(Consent(creation=True, samu_access=False))
    assert flow.back() is Step.CONSENT
    assert flow.consent.samu_access is False
    assert flow.back() is Step.CONNECT
    assert flow.back() is Step.IDENTIFY
    assert flow.back() is Step.HOME
    assert flow.patient is None and flow.card is None


def test_done_after_result_and_reset_forgets_the_patient_but_not_the_professional():
    flow = flow_at_consent()
    flow.set_consent(Consent(creation=True))
    flow.set_web_access(None)
    creation_request(flow)
    flow.completed(CreationResult(Action.CREATION, "DMP-1", datetime.now(UTC)))
    assert flow.step is Step.DONE
    flow.reset()
    assert flow.patient is None and flow.result is None and flow.step is Step.HOME
    assert flow.professional == PHARMACIST


def test_actions_out_of_order_are_refused():
    flow = CreationFlow(today=TODAY)
    with pytest.raises(DomainError):
        flow.set_consent(Consent(creation=True))
    with pytest.raises(DomainError):
        creation_request(flow)


def test_online_access_is_refused_when_the_patient_already_has_one():
    flow = CreationFlow(today=TODAY)
    flow.card_read(LEGOFF)
    flow.confirm_identity()
    checked(flow, "152033523804587")
    flow.connected(PHARMACIST, DmpState(DmpStatus.CLOSED, web_access=True))
    flow.confirm_connection()
    flow.set_consent(Consent(creation=True))
    with pytest.raises(DomainError) as caught:
        flow.set_web_access(WebAccess(email="a@exemple.fr"))
    assert caught.value.code == "DMPPatientAccessAlreadyExists"
    flow.set_web_access(None)
    assert flow.step is Step.SUMMARY


# --- manual entry (Vitale 1, forgotten card) ---------------------------------------------------


def typed(last="ben saïd", first="Karim", birth="00/00/1955", nir="1 55 00 99 350 007 80", sex=""):
    from proclient.core.typed import typed_identity

    return typed_identity(last, first, birth, nir, TODAY, sex=sex)


def test_typed_identity_goes_on_to_connection_and_says_it_was_typed():
    from proclient.core.domain import IdentitySource, Sex

    flow = CreationFlow(today=TODAY)
    flow.start_manual_entry()
    assert flow.step is Step.IDENTIFY and flow.typed
    flow.identity_typed(typed())
    flow.confirm_identity()
    assert flow.step is Step.CONNECT
    held = flow.held
    assert held.source is IdentitySource.TYPED
    assert (held.last_name, held.sex, held.birth_date.raw, held.nir) == (
        "BEN SAÏD",
        Sex.MALE,
        "19550000",
        "155009935000780",
    )
    # A typed identity asks INSi by the traits, in INSi's form.
    query = flow.insi_query()
    assert (query.birth_name, query.first_given_name, query.sex) == ("BEN SAID", "KARIM", Sex.MALE)
    checked(flow, "155009935000780")
    assert flow.patient.source is IdentitySource.INSI
    assert flow.patient.last_name == "BEN SAID"


def test_typed_lunar_birth_date_is_kept_as_written():
    held = typed(birth="00/13/1955")
    assert held.birth_date.raw == "19551300" and held.birth_date.is_lunar


def test_typed_identity_without_nir_needs_the_sex():
    from proclient.core.domain import Sex

    with pytest.raises(DomainError) as caught:
        typed(nir="")
    assert caught.value.code == "SEX"
    assert typed(nir="", sex="f").sex is Sex.FEMALE


@pytest.mark.parametrize(
    "field, value, code",
    [
        ("nir", "1 55 00 99 350 007 81", "NIR_KEY"),
        ("nir", "1550099", "NIR_FORMAT"),
        ("birth", "1955-01-01", "TYPED_BIRTH"),
        ("birth", "01/01/2099", "TYPED_BIRTH"),
        ("birth", "14/03/1960", "TYPED_NIR_YEAR"),
        ("last", "  ", "TYPED_NAME"),
        ("first", "K4rim", "TYPED_NAME"),
        ("sex", "X", "SEX"),
        ("sex", "F", "TYPED_SEX_NIR"),
    ],
)
def test_typed_identity_mistakes_are_named(field, value, code):
    with pytest.raises(DomainError) as caught:
        typed(**{field: value})
    assert caught.value.code == code
    assert caught.value.message.endswith(".")


def test_a_card_identity_cannot_pass_as_typed_and_back_forgets_it():
    flow = CreationFlow(today=TODAY)
    flow.card_read(LEGOFF)
    with pytest.raises(DomainError):
        flow.identity_typed(typed())  # a card was read: its identity wins
    flow.start_manual_entry()
    flow.identity_typed(typed())
    assert flow.back() is Step.HOME and flow.held is None and not flow.typed


# --- identity vigilance at step 2 ----------------------------------------------------------------


def at_connect(card=LEGOFF, index=0) -> CreationFlow:
    flow = CreationFlow(today=TODAY)
    flow.card_read(card)
    flow.choose_beneficiary(index)
    flow.confirm_identity()
    return flow


def test_no_creation_without_insi_or_without_the_document():
    flow = at_connect()
    flow.connected(PHARMACIST, DmpState(DmpStatus.NOT_FOUND))
    with pytest.raises(DomainError) as caught:
        flow.confirm_connection()
    assert caught.value.code == "INSI_MISSING"
    flow.insi_answered(register_answer("152033523804587"))
    flow.connected(PHARMACIST, DmpState(DmpStatus.NOT_FOUND))
    with pytest.raises(DomainError) as caught:
        flow.confirm_connection()
    assert caught.value.code == "DOCUMENT_MISSING"
    flow.document_seen(Document.NONE)
    flow.confirm_connection()
    assert flow.step is Step.CONSENT
    assert flow.identity.status is IdentityStatus.RETRIEVED


@pytest.mark.parametrize(
    "code, by_card, refusal",
    [
        (InsiCode.NONE, True, "INSI_NONE_CARD"),
        (InsiCode.NONE, False, "INSI_NONE"),
        (InsiCode.SEVERAL, False, "INSI_SEVERAL"),
    ],
)
def test_none_or_several_identities_stop_the_flow(code, by_card, refusal):
    flow = at_connect()
    flow.insi_answered(InsiAnswer(code, None, by_card=by_card))
    flow.professional = PHARMACIST
    assert flow.patient is None and flow.identity is None
    with pytest.raises(DomainError) as caught:
        flow.confirm_connection()
    assert caught.value.code == refusal
    with pytest.raises(DomainError):
        flow.document_seen(Document.PASSPORT)


def test_the_dmp_is_made_with_insi_traits_not_the_card_spelling():
    flow = flow_at_consent()
    flow.set_consent(Consent(creation=True))
    flow.set_web_access(None)
    request = creation_request(flow)
    patient = request.patient
    assert (patient.last_name, patient.first_name) == ("LE GOFF", "GERARD")  # card: Gérard
    assert request.identity.status is IdentityStatus.QUALIFIED
    assert request.identity.document is Document.PASSPORT


def test_a_beneficiary_without_own_nir_is_asked_by_traits_once_the_sex_is_known():
    from proclient.core.domain import Sex
    from proclient.core.identity import Difference, TraitsQuery

    moreau = VitaleCard(
        "3B7513000047",
        (
            Beneficiary("MOREAU", "Julie", BirthDate("19881102"), "288116912307827"),
            Beneficiary("MOREAU", "Tom", BirthDate("20180412"), None),
        ),
    )
    flow = at_connect(moreau, 1)
    assert not flow.held.by_card and flow.held.rank == 2
    with pytest.raises(DomainError) as caught:
        flow.insi_query()
    assert caught.value.code == "TRAITS_INCOMPLETE"
    flow.insi_answered(register_answer("118046912304533"))
    assert flow.identity.differences == (Difference.NO_OWN_NIR,)
    assert flow.documents[-3:] == (Document.BIRTH_CERTIFICATE, Document.FAMILY_BOOK, Document.NONE)
    flow.document_seen(Document.FAMILY_BOOK)
    assert flow.identity.status is IdentityStatus.QUALIFIED
    assert isinstance(at_connect().insi_query(), TraitsQuery) is False
    assert Sex.MALE is flow.patient.sex


def test_an_adult_cannot_be_qualified_by_a_family_book():
    flow = at_connect()
    flow.insi_answered(register_answer("152033523804587"))
    assert Document.FAMILY_BOOK not in flow.documents
    with pytest.raises(DomainError) as caught:
        flow.document_seen(Document.FAMILY_BOOK)
    assert caught.value.code == "DOCUMENT_MINORS_ONLY"
    assert flow.identity.status is None


def test_choosing_another_beneficiary_forgets_insi_answer():
    flow = at_connect(DURAND, 0)
    checked(flow, "285077505612370")
    flow.back()
    flow.choose_beneficiary(0)  # the same one: kept
    assert flow.identity is not None
    flow.choose_beneficiary(2)
    assert flow.identity is None and flow.insi is None and flow.patient is None


# --- nothing typed is lost (issue 12) ---------------------------------------------------------


def test_step_4_left_with_esc_keeps_the_tick_and_what_was_typed():
    flow = flow_at_consent()
    flow.set_consent(Consent(creation=True))
    flow.keep_web_draft(WebDraft(True, "g.legoff@exemple", "06 12"))  # not valid yet: kept
    assert flow.back() is Step.CONSENT
    flow.set_consent(Consent(creation=True))
    assert flow.web_shown == WebDraft(True, "g.legoff@exemple", "06 12")
    flow.set_web_access(WebAccess.from_input("g.legoff@exemple.fr", ""))
    assert flow.web_draft is None  # once checked, the access chosen is what step 4 shows
    assert flow.web_shown == WebDraft(True, "g.legoff@exemple.fr", "")
    flow.reset()
    assert flow.web_draft is None and flow.web_access is None


def test_a_minor_s_representative_is_offered_among_the_card_s_adults():
    lea = flow_at_consent(DURAND, 1)
    assert [p.first_name for p in lea.adults_on_card] == ["Sophie"]  # not Hugo, a minor
    assert flow_at_consent(DURAND, 0).adults_on_card == ()  # an adult needs no representative


def test_a_card_pulled_at_step_3_sets_the_patient_aside_for_the_same_card_only():
    flow = flow_at_consent(DURAND, 1)
    flow.set_consent(
        Consent(creation=True, samu_access=False),
        make_legal_representative("MTH", "Durand", "Sophie"),
    )
    kept = flow.set_aside()
    assert flow.patient is None and flow.step is Step.HOME and flow.card is None
    assert flow.professional == PHARMACIST  # the CPS session is not the card's
    assert kept is not None and kept.professional is None  # patient data only
    flow.card_read(DURAND)
    flow.resume(kept)
    assert flow.step is Step.ONLINE_ACCESS and flow.patient.first_name == "LEA"
    assert flow.consent.samu_access is False and flow.legal_representative.first_name == "Sophie"
    assert flow.professional == PHARMACIST
    other = CreationFlow(today=TODAY)
    other.card_read(LEGOFF)
    with pytest.raises(DomainError):
        other.resume(kept)  # another card starts afresh


def test_a_card_pulled_at_step_1_or_after_the_accuse_is_not_set_aside():
    flow = CreationFlow(today=TODAY)
    flow.card_read(LEGOFF)
    assert flow.set_aside() is None


def test_step_3_left_with_esc_keeps_the_ticks_and_the_representative_typed():
    flow = flow_at_consent(DURAND, 1)
    draft = ConsentDraft(Consent(creation=True, samu_access=False), "MTH", "Durand", "")
    flow.keep_consent_draft(draft)
    assert flow.back() is Step.CONNECT
    flow.confirm_connection()
    assert flow.consent_shown == draft
    flow.set_consent(Consent(creation=True), make_legal_representative("MTH", "Durand", "Sophie"))
    assert flow.consent_draft is None
    assert flow.consent_shown == ConsentDraft(Consent(creation=True), "MTH", "DURAND", "Sophie")
