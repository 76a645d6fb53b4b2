"""The creation flow's transitions, without Textual, card or network."""

from datetime import UTC, date, datetime

import pytest

from proclient.domain import (
    OID_INS_NIR_TEST,
    Action,
    Beneficiary,
    BirthDate,
    Consent,
    CreationResult,
    DmpState,
    DmpStatus,
    DomainError,
    Professional,
    VitaleCard,
    WebAccess,
    make_legal_representative,
)
from proclient.flow import CreationFlow, Step

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


def flow_at_consent(card=LEGOFF, index=0, status=DmpStatus.NOT_FOUND) -> CreationFlow:
    flow = CreationFlow(today=TODAY, ins_oid=OID_INS_NIR_TEST)
    flow.card_read(card)
    flow.choose_beneficiary(index)
    flow.confirm_identity()
    flow.connected(PHARMACIST, DmpState(status))
    flow.confirm_connection()
    return flow


def test_single_beneficiary_is_preselected():
    flow = CreationFlow(today=TODAY, ins_oid=OID_INS_NIR_TEST)
    flow.card_read(LEGOFF)
    assert flow.step is Step.IDENTIFY
    assert flow.patient.last_name == "LE GOFF"


def test_family_card_waits_for_a_choice():
    flow = CreationFlow(today=TODAY, ins_oid=OID_INS_NIR_TEST)
    flow.card_read(DURAND)
    assert flow.patient is None
    with pytest.raises(DomainError):
        flow.confirm_identity()
    flow.choose_beneficiary(2)
    assert flow.patient.first_name == "Hugo"
    flow.confirm_identity()
    assert flow.step is Step.CONNECT


def test_choosing_outside_the_list_is_refused():
    flow = CreationFlow(today=TODAY, ins_oid=OID_INS_NIR_TEST)
    flow.card_read(DURAND)
    with pytest.raises(DomainError):
        flow.choose_beneficiary(3)


def test_not_found_leads_to_creation():
    flow = flow_at_consent()
    assert flow.step is Step.CONSENT and flow.action is Action.CREATION


def test_closed_dmp_leads_to_reactivation():
    assert flow_at_consent(status=DmpStatus.CLOSED).action is Action.REACTIVATION


def test_active_dmp_stops_the_flow():
    flow = CreationFlow(today=TODAY, ins_oid=OID_INS_NIR_TEST)
    flow.card_read(LEGOFF)
    flow.confirm_identity()
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
    request = flow.request()
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
    flow.request()
    flow.completed(CreationResult(Action.CREATION, "DMP-1", datetime.now(UTC)))
    assert flow.step is Step.DONE
    flow.reset()
    assert flow.patient is None and flow.result is None and flow.step is Step.HOME
    assert flow.professional == PHARMACIST


def test_actions_out_of_order_are_refused():
    flow = CreationFlow(today=TODAY, ins_oid=OID_INS_NIR_TEST)
    with pytest.raises(DomainError):
        flow.set_consent(Consent(creation=True))
    with pytest.raises(DomainError):
        flow.request()


def test_online_access_is_refused_when_the_patient_already_has_one():
    flow = CreationFlow(today=TODAY, ins_oid=OID_INS_NIR_TEST)
    flow.card_read(LEGOFF)
    flow.confirm_identity()
    flow.connected(PHARMACIST, DmpState(DmpStatus.CLOSED, web_access=True))
    flow.confirm_connection()
    flow.set_consent(Consent(creation=True))
    with pytest.raises(DomainError) as caught:
        flow.set_web_access(WebAccess(email="a@exemple.fr"))
    assert caught.value.code == "DMPPatientAccessAlreadyExists"
    flow.set_web_access(None)
    assert flow.step is Step.SUMMARY


# --- manual entry (Vitale 1, forgotten card) ---------------------------------------------------


def typed(last="ben saïd", first="Karim", birth="00/00/1955", nir="1 55 00 99 350 007 80"):
    from proclient.flow import typed_patient

    return typed_patient(last, first, birth, nir, OID_INS_NIR_TEST, TODAY)


def test_typed_identity_goes_on_to_connection_and_says_it_was_typed():
    from proclient.domain import IdentitySource, Sex

    flow = CreationFlow(today=TODAY, ins_oid=OID_INS_NIR_TEST)
    flow.start_manual_entry()
    assert flow.step is Step.IDENTIFY and flow.typed
    flow.identity_typed(typed())
    flow.confirm_identity()
    assert flow.step is Step.CONNECT
    patient = flow.patient
    assert patient.source is IdentitySource.TYPED
    assert (patient.last_name, patient.sex, patient.birth_date.raw) == (
        "BEN SAÏD",
        Sex.MALE,
        "19550000",
    )
    assert patient.ins.value == "155009935000780"


def test_typed_lunar_birth_date_is_kept_as_written():
    patient = typed(birth="00/13/1955")
    assert patient.birth_date.raw == "19551300" and patient.birth_date.is_lunar


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
    ],
)
def test_typed_identity_mistakes_are_named(field, value, code):
    with pytest.raises(DomainError) as caught:
        typed(**{field: value})
    assert caught.value.code == code
    assert caught.value.message.endswith(".")


def test_a_card_identity_cannot_pass_as_typed_and_back_forgets_it():
    flow = CreationFlow(today=TODAY, ins_oid=OID_INS_NIR_TEST)
    flow.card_read(LEGOFF)
    with pytest.raises(DomainError):
        flow.identity_typed(typed())  # a card was read: its identity wins
    flow.start_manual_entry()
    flow.identity_typed(typed())
    assert flow.back() is Step.HOME and flow.patient is None and not flow.typed
