"""The trade's rules, without card, network or terminal."""

from datetime import date

import pytest

from proclient.domain import (
    OID_INS_NIR_TEST,
    Beneficiary,
    BirthDate,
    Consent,
    DomainError,
    Patient,
    Relationship,
    Sex,
    WebAccess,
    age_on,
    format_nir,
    is_minor,
    make_legal_representative,
    mask_email,
    mask_mobile,
    normalize_email,
    normalize_mobile,
    sex_from_nir,
    validate_nir,
)

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    "nir",
    [
        "152033523804587",
        "285077505612370",
        "215067511203450",
        "114067511203551",
        "291092A00401281",
        "155009935000780",
        "1 52 03 35 238 045 87",
    ],
)
def test_demo_nirs_have_valid_keys(nir):
    assert len(validate_nir(nir)) == 15


def test_wrong_nir_key_is_refused_with_a_french_message():
    with pytest.raises(DomainError) as caught:
        validate_nir("152033523804588")
    assert caught.value.code == "NIR_KEY"
    assert "clé" in caught.value.message


def test_corsican_nir_key_uses_the_2a_substitution():
    assert validate_nir("291092a00401281") == "291092A00401281"
    with pytest.raises(DomainError):
        validate_nir("291092B00401281")


def test_short_nir_is_a_format_error():
    with pytest.raises(DomainError) as caught:
        validate_nir("1520335")
    assert caught.value.code == "NIR_FORMAT"


def test_sex_comes_from_the_first_digit():
    assert sex_from_nir("152033523804587") is Sex.MALE
    assert sex_from_nir("285077505612370") is Sex.FEMALE
    assert sex_from_nir("") is None


def test_nir_is_formatted_as_on_the_card():
    assert format_nir("152033523804587") == "1 52 03 35 238 045 87"


def test_lunar_birth_date_is_kept_and_shown_as_read():
    lunar = BirthDate("19550000")
    assert lunar.is_lunar
    assert lunar.as_date is None
    assert lunar.display == "00/00/1955"
    assert lunar.raw == "19550000"


def test_lunar_date_counts_with_its_latest_possible_day():
    assert BirthDate("20080000").latest_possible() == date(2008, 12, 31)
    assert BirthDate("20080200").latest_possible() == date(2008, 2, 29)
    assert BirthDate("20081340").latest_possible() == date(2008, 12, 31)


def test_age_changes_on_the_birthday():
    born = BirthDate("20081123")
    assert age_on(born, date(2026, 11, 22)) == 17
    assert age_on(born, date(2026, 11, 23)) == 18


def test_minor_is_under_eighteen_on_the_day():
    assert is_minor(BirthDate("20150603"), TODAY)
    assert not is_minor(BirthDate("19850722"), TODAY)
    assert is_minor(BirthDate("20081124"), TODAY)
    assert not is_minor(BirthDate("20081123"), TODAY)


def test_lunar_date_in_doubt_counts_as_minor():
    # Born some day of 2008: the latest possible day (31 Dec 2008) is still under 18.
    assert is_minor(BirthDate("20080000"), TODAY)
    assert not is_minor(BirthDate("19550000"), TODAY)


def test_unreadable_year_counts_as_minor():
    assert is_minor(BirthDate("????0101"), TODAY)


def test_patient_from_beneficiary_carries_test_ins_and_sex():
    b = Beneficiary("LE GOFF", "Gérard", BirthDate("19520314"), "152033523804587")
    patient = Patient.from_beneficiary(b, OID_INS_NIR_TEST)
    assert patient.ins.value == "152033523804587"
    assert patient.ins.label == "INS-NIR TEST"
    assert patient.sex is Sex.MALE


def test_beneficiary_without_own_nir_cannot_become_a_patient():
    b = Beneficiary("DURAND", "Léa", BirthDate("20150603"), None)
    with pytest.raises(DomainError) as caught:
        Patient.from_beneficiary(b, OID_INS_NIR_TEST)
    assert caught.value.code == "NIR_ABSENT"


def test_consent_to_creation_is_unchecked_and_emergencies_authorised_by_default():
    consent = Consent()
    assert consent.creation is False
    assert consent.samu_access is True and consent.break_glass_access is True


def test_consent_codes_carry_oppositions():
    codes = Consent(creation=True, samu_access=False, break_glass_access=False).codes
    assert codes == (
        "CONSENTEMENT_OUVERTURE_DMP",
        "OPPOSITION_ACCES_URGENCE",
        "OPPOSITION_BRIS_DE_GLACE",
    )


def test_legal_representative_needs_a_known_relationship_and_names():
    rep = make_legal_representative("MTH", " durand ", "Sophie")
    assert rep.relationship is Relationship.MTH and rep.last_name == "DURAND"
    with pytest.raises(DomainError):
        make_legal_representative("NEIGHBOUR", "X", "Y")
    with pytest.raises(DomainError):
        make_legal_representative("FTH", "", "Paul")


def test_french_mobile_is_kept_in_e164():
    assert normalize_mobile("06 12 34 56 78") == "+33612345678"
    assert normalize_mobile("+33 7 81 23 45 67") == "+33781234567"


@pytest.mark.parametrize("value", ["01 23 45 67 89", "12345", "06 12 34", "bonjour"])
def test_landline_or_garbage_is_not_a_mobile(value):
    with pytest.raises(DomainError):
        normalize_mobile(value)


def test_email_is_checked_and_normalised():
    assert normalize_email(" Jean.Dupont@Exemple.FR ") == "Jean.Dupont@exemple.fr"
    for bad in ["jean", "jean@", "@exemple.fr", "jean dupont@exemple.fr"]:
        with pytest.raises(DomainError):
            normalize_email(bad)


def test_online_access_needs_at_least_one_channel():
    with pytest.raises(DomainError) as caught:
        WebAccess.from_input("", "  ")
    assert caught.value.code == "MISSING_CHANNEL"
    assert WebAccess.from_input("", "0612345678").mobile == "+33612345678"


def test_channels_are_masked_on_paper():
    assert mask_email("jean.dupont@exemple.fr") == "j***@exemple.fr"
    assert mask_mobile("+33612345678") == "+33 6 ** ** ** 78"
