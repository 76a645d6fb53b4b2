"""The trade's rules, without card, network or terminal."""

from datetime import date

import pytest

from proclient.core.domain import (
    OID_INS_NIA,
    OID_INS_NIR,
    OID_INS_NIR_DEMO,
    OID_INS_NIR_TEST,
    BirthDate,
    Consent,
    DomainError,
    Ins,
    Relationship,
    Sex,
    WebAccess,
    age_on,
    format_nir,
    has_hidden_characters,
    is_minor,
    make_legal_representative,
    mask_email,
    mask_mobile,
    normalize_email,
    normalize_mobile,
    normalize_name,
    person_key,
    sex_from_nir,
    validate_ins,
    validate_nir,
)
from proclient.core.problems import problem_message

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


# --- The rules the client and the service share (issue 10, point 5) --------------------------


@pytest.mark.parametrize("value", ["<script>alert(1)</script>", "ABCDEFGHIJKLMNOP", "9" * 32])
def test_an_nia_has_the_nir_shape(value):
    with pytest.raises(DomainError) as caught:
        validate_ins(value, OID_INS_NIA)
    assert caught.value.code == "NIR_FORMAT"
    assert caught.value.message == problem_message("NIR_FORMAT")


def test_an_nia_has_the_nir_key():
    assert validate_ins("1 52 03 35 238 045 87", OID_INS_NIA) == Ins("152033523804587", OID_INS_NIA)
    with pytest.raises(DomainError) as caught:
        validate_ins("152033523804588", OID_INS_NIA)
    assert caught.value.code == "NIR_KEY"


@pytest.mark.parametrize(
    "value", ["１５２０３３５２３８０４５８７", "1520335238045８7", "15203352380458\u200b7"]
)
def test_nir_digits_are_ascii_digits(value):
    with pytest.raises(DomainError) as caught:
        validate_nir(value)
    assert caught.value.code == "NIR_FORMAT"


def test_an_unknown_oid_is_no_ins():
    with pytest.raises(DomainError) as caught:
        validate_ins("152033523804587", "1.2.3")
    assert caught.value.code == "INS_OID_UNKNOWN"


def test_one_person_key_across_nir_and_nia_and_across_test_and_demo():
    nir = "152033523804587"
    assert person_key(Ins(nir, OID_INS_NIR)) == person_key(Ins(nir, OID_INS_NIA))
    assert person_key(Ins(nir, OID_INS_NIR_TEST)) == person_key(Ins(nir, OID_INS_NIR_DEMO))
    # A test person is never a real one, whatever the digits.
    assert person_key(Ins(nir, OID_INS_NIR)) != person_key(Ins(nir, OID_INS_NIR_TEST))
    assert person_key(Ins(nir, OID_INS_NIR)) == "real:152033523804587"


@pytest.mark.parametrize(
    "typed, kept",
    [
        ("LE GOFF", "LE GOFF"),
        ("  Marie-Ange   Zoé ", "Marie-Ange Zoé"),
        ("D\u2019ARTAGNAN", "D'ARTAGNAN"),
        ("e\u0301lodie", "\u00e9lodie"),  # NFC
        ("BEN SAÏD", "BEN SAÏD"),
        ("Łukasz Nguyễn", "Łukasz Nguyễn"),
        ("Œdipe", "Œdipe"),
    ],
)
def test_names_keep_letters_spaces_hyphens_and_apostrophes(typed, kept):
    assert normalize_name(typed) == kept


@pytest.mark.parametrize(
    "value",
    [
        "\x1b[31mDUPONT\x1b[0m",
        "DUPONT\r\nMARTIN",
        "DUPONT\tX",
        "DUPONT\u202eTNOPUD",
        "DU\u200bPONT",
        "DUPONT\u2066X",
        "\ufeffDUPONT",
        "DUPONT\x85",
        "DUPONT\u00a0X",
        "   ",
        "",
        "-'",
        "K4rim",
        "DUPONT.",
        "Иван",
        "ＤＵＰＯＮＴ",
        "a\u0308\u0308\u0308",
    ],
)
def test_names_refuse_other_characters_with_one_code(value):
    with pytest.raises(DomainError) as caught:
        normalize_name(value)
    assert caught.value.code == "NAME_CHARSET"
    assert caught.value.message == problem_message("NAME_CHARSET")


def test_an_optional_name_may_be_empty_but_not_blank():
    assert normalize_name("", required=False) == ""
    with pytest.raises(DomainError):
        normalize_name("   ", required=False)


def test_legal_representative_names_follow_the_name_rule():
    rep = make_legal_representative("MTH", "d\u2019arc", "Jeanne  Marie")
    assert (rep.last_name, rep.first_name) == ("D'ARC", "Jeanne Marie")
    with pytest.raises(DomainError) as caught:
        make_legal_representative("MTH", "DUPONT\r\nX", "Anne")
    assert caught.value.code == "NAME_CHARSET"
    with pytest.raises(DomainError) as caught:
        make_legal_representative("MTH", "DUPONT", "   ")
    assert caught.value.code == "REPRESENTATIVE_NAME"


def test_hidden_characters_are_found():
    assert not has_hidden_characters("Jean-Pierre d'Été")
    for ch in ("\x00", "\x1b", "\x7f", "\x9b", "\u200b", "\u200d", "\u202e", "\u2028", "\ufeff"):
        assert has_hidden_characters(f"a{ch}b"), repr(ch)


@pytest.mark.parametrize(
    "typed, e164",
    [
        ("06 12 34 56 78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("0690 12 34 56", "+590690123456"),  # Guadeloupe, typed in national form
        ("+596 696 12 34 56", "+596696123456"),  # Martinique
        ("0694 20 12 34", "+594694201234"),  # Guyane
        ("+262 692 12 34 56", "+262692123456"),  # La Réunion
        ("0639 40 12 34", "+262639401234"),  # Mayotte
    ],
)
def test_mobiles_of_france_and_its_overseas_departments_are_kept(typed, e164):
    assert normalize_mobile(typed) == e164


@pytest.mark.parametrize(
    "value",
    [
        "+1 202 555 0143",
        "+44 7911 123456",
        "+49 151 12345678",
        "0044 7911 123456",
        "+508 55 12 34",  # Saint-Pierre-et-Miquelon: not an overseas département
        "+687 75 12 34",  # New Caledonia
        "\u202e0612345678",
        "06 12 34 56 78\x1b",
        "06 12 34 56 78 ext 12",
    ],
)
def test_foreign_and_odd_mobiles_are_refused(value):
    with pytest.raises(DomainError) as caught:
        normalize_mobile(value)
    assert caught.value.code == "MOBILE"
    assert caught.value.message == problem_message("MOBILE")


def test_a_french_landline_is_not_a_mobile():
    with pytest.raises(DomainError) as caught:
        normalize_mobile("01 23 45 67 89")
    assert caught.value.code == "MOBILE_NOT_MOBILE"


def test_overseas_mobiles_are_masked_on_paper():
    assert mask_mobile("+590690123456") == "+590 690 ** ** 56"
    assert mask_mobile("+262639401234") == "+262 639 ** ** 34"


def test_email_follows_rfc_5321_limits():
    assert normalize_email("a" * 64 + "@exemple.fr") == "a" * 64 + "@exemple.fr"
    domain = ".".join(["d" * 63] * 3) + ".fr"  # 194 characters
    longest = "a" * (254 - 1 - len(domain)) + "@" + domain
    assert normalize_email(longest) == longest
    for bad in (
        "a" * 65 + "@exemple.fr",
        "é" * 33 + "@exemple.fr",  # 66 octets in UTF-8
        "a" + longest,
    ):
        with pytest.raises(DomainError) as caught:
            normalize_email(bad)
        assert caught.value.code == "EMAIL"
        assert caught.value.message == problem_message("EMAIL")


@pytest.mark.parametrize(
    "value",
    ["jean\u200b@exemple.fr", "jean\x1b@exemple.fr", "jean@exemple.fr\n", "je\u202ean@x.fr"],
)
def test_email_refuses_control_and_invisible_characters(value):
    with pytest.raises(DomainError) as caught:
        normalize_email(value)
    assert caught.value.code == "EMAIL"


@pytest.mark.parametrize("value", ["DUPONT\r\nMARTIN", "\x1b[31mDUPONT", "DU\u200bPONT", "   "])
def test_manual_entry_refuses_what_the_service_refuses_with_the_same_sentence(value):
    from proclient.core.typed import typed_identity

    with pytest.raises(DomainError) as caught:
        typed_identity(value, "Karim", "00/00/1955", "155009935000780", TODAY)
    assert caught.value.code == "TYPED_NAME"
    assert caught.value.message == problem_message("NAME_CHARSET")
    assert (
        typed_identity("d\u2019artagnan", "Zoé", "00/00/1955", "155009935000780", TODAY).last_name
        == "D'ARTAGNAN"
    )
