"""Identity vigilance rules (proclient.core.identity; ../shared/DOMAIN.md §5), without INSi, card or
terminal: INSi's way of writing traits, the differences shown, the look-ups, the answer, the
document seen and the RNIV status."""

from datetime import date

import pytest

from proclient.core.demo_people import DEMO_HOUSEHOLDS, DEMO_REGISTER, DemoPerson, RegisterEntry
from proclient.core.domain import BirthDate, DomainError, IdentitySource, Ins, Patient, Sex
from proclient.core.identity import (
    CardQuery,
    Difference,
    Document,
    HeldIdentity,
    IdentityCheck,
    IdentityStatus,
    InsiAnswer,
    InsiCode,
    InsiIdentity,
    InsiTraits,
    differences,
    documents_for,
    identity_status,
    insi_form,
    insi_refusal,
    normalize_birthplace,
    trait_key,
    traits_query,
)
from proclient.core.problems import problem_message

OID_TEST = "1.2.250.1.213.1.4.10"
TODAY = date(2026, 11, 29)


# --- Helpers: the demo cards and the demo INSi register -----------------------------------------


def register_entry(ins: str) -> RegisterEntry:
    (entry,) = [e for e in DEMO_REGISTER if e.ins == ins]
    return entry


def insi_identity(entry: RegisterEntry) -> InsiIdentity:
    """The identity INSi gives for a register entry (what the demo INSi answers with 00)."""
    return InsiIdentity(
        ins=Ins(entry.ins, entry.oid),
        traits=InsiTraits(
            birth_name=entry.birth_name,
            given_names=entry.given_names,
            sex=Sex(entry.sex),
            birth_date=BirthDate(entry.birth_date),
            birthplace=entry.birthplace,
        ),
        history=tuple(Ins(value, oid) for value, oid in entry.history),
    )


def card_person(household: str, first_name: str) -> DemoPerson:
    (found,) = [
        p
        for h in DEMO_HOUSEHOLDS
        if h.key == household
        for p in h.people
        if p.first_name == first_name
    ]
    return found


def held_from_card(person: DemoPerson, **changes) -> HeldIdentity:
    """The beneficiary as read from the demo card (source CARD, the card's NIR for them)."""
    values = dict(
        last_name=person.last_name,
        first_name=person.first_name,
        birth_date=BirthDate(person.birth_date),
        sex=Sex(person.sex),
        nir=person.nir,
        source=IdentitySource.CARD,
    )
    values.update(changes)
    return HeldIdentity(**values)


def robert() -> InsiIdentity:
    return insi_identity(register_entry("175023306311210"))


def held_robert(**changes) -> HeldIdentity:
    return held_from_card(card_person("robert", "Jean"), **changes)


# --- insi_form ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Saïd", "SAID"),
        ("Gérard", "GERARD"),
        ("Hélène", "HELENE"),
        ("BEN SAÏD", "BEN SAID"),
        ("Léa", "LEA"),
        ("François", "FRANCOIS"),
        ("Noël", "NOEL"),
        ("Jérôme", "JEROME"),
        ("Ångström", "ANGSTROM"),
    ],
)
def test_insi_form_drops_accents_and_upper_cases(text, expected):
    assert insi_form(text) == expected


def test_insi_form_of_decomposed_accents_is_the_same():
    # "é" written as "e" + COMBINING ACUTE ACCENT (NFD) gives the same trait.
    assert insi_form("He\u0301le\u0300ne") == "HELENE"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Œillet", "OEILLET"),
        ("œuvre", "OEUVRE"),
        ("Lætitia", "LAETITIA"),
        ("Æsa", "AESA"),
        ("Straße", "STRASSE"),
        ("Ørsted", "ORSTED"),
        ("Łukasz", "LUKASZ"),
        ("Đorđe", "DORDE"),
    ],
)
def test_insi_form_spells_out_ligatures_and_barred_letters(text, expected):
    assert insi_form(text) == expected


def test_insi_form_spells_out_capital_sharp_s():
    assert insi_form("STRAẞE") == "STRASSE"


def test_insi_form_makes_the_typographic_apostrophe_plain():
    assert insi_form("d\u2019Almeida") == "D'ALMEIDA"
    assert insi_form("O\u2019Neill") == "O'NEILL"


def test_insi_form_keeps_hyphens_and_apostrophes():
    assert insi_form("Casanova-Orsini") == "CASANOVA-ORSINI"
    assert insi_form("Marie-Ange") == "MARIE-ANGE"
    assert insi_form("d'Almeida") == "D'ALMEIDA"
    assert insi_form("Jean-Pierre d'Estaing") == "JEAN-PIERRE D'ESTAING"


def test_insi_form_collapses_spaces_and_trims():
    assert insi_form("  Ben    Saïd  ") == "BEN SAID"
    assert insi_form("Le\tGoff") == "LE GOFF"
    assert insi_form("") == ""


def test_insi_form_is_idempotent():
    once = insi_form("Œillet d\u2019Hélène-Saïd")
    assert once == "OEILLET D'HELENE-SAID"
    assert insi_form(once) == once


# --- trait_key ----------------------------------------------------------------------------------


def test_trait_key_reads_a_hyphen_as_a_space():
    assert trait_key("CASANOVA-ORSINI") == "CASANOVA ORSINI"
    assert trait_key("CASANOVA-ORSINI") == trait_key("Casanova Orsini")


def test_trait_key_reads_an_apostrophe_as_a_space():
    assert trait_key("D'ALMEIDA") == "D ALMEIDA"
    assert trait_key("D'ALMEIDA") == trait_key("d Almeida")
    assert trait_key("d\u2019Almeida") == "D ALMEIDA"


def test_trait_key_ignores_case_accents_and_extra_spaces():
    assert trait_key("  ben   Saïd ") == trait_key("BEN SAID") == "BEN SAID"
    assert trait_key("Marie - Ange") == "MARIE ANGE"


def test_trait_key_keeps_different_names_different():
    assert trait_key("LEROY") != trait_key("FONTAINE")
    assert trait_key("CASANOVA-ORSINI") != trait_key("CASANOVAORSINI")


# --- differences --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("household", "first_name", "ins"),
    [
        ("legoff", "Gérard", "152033523804587"),
        ("durand", "Sophie", "285077505612370"),
        ("durand", "Léa", "215067511203450"),
        ("durand", "Hugo", "114067511203551"),
        ("casanova", "Marie-Ange", "291092A00401281"),
        ("bensaid", "Karim", "155009935000780"),
    ],
)
def test_no_difference_between_the_demo_cards_and_their_register_traits(household, first_name, ins):
    person = card_person(household, first_name)
    assert person.nir == ins
    assert differences(held_from_card(person), insi_identity(register_entry(ins))) == ()


def test_ben_said_with_lunar_birth_date_has_no_difference():
    held = held_from_card(card_person("bensaid", "Karim"))
    assert held.last_name == "BEN SAÏD"
    assert held.birth_date.raw == "19550000"
    identity = insi_identity(register_entry("155009935000780"))
    assert identity.traits.birth_name == "BEN SAID"
    assert differences(held, identity) == ()


def test_casanova_orsini_marie_ange_has_no_difference_even_written_with_spaces():
    identity = insi_identity(register_entry("291092A00401281"))
    card = card_person("casanova", "Marie-Ange")
    assert differences(held_from_card(card), identity) == ()
    spaced = held_from_card(card, last_name="Casanova Orsini", first_name="Marie Ange")
    assert differences(spaced, identity) == ()


def test_a_spaced_nir_is_the_same_nir():
    identity = insi_identity(register_entry("152033523804587"))
    held = held_from_card(card_person("legoff", "Gérard"), nir="1 52 03 35 238 045 87")
    assert differences(held, identity) == ()


def test_used_name_on_the_card_is_a_birth_name_difference():
    identity = insi_identity(register_entry("269085935002747"))
    held = held_from_card(card_person("leroy", "Nathalie"))
    assert held.last_name == "LEROY"
    assert identity.traits.birth_name == "FONTAINE"
    assert differences(held, identity) == (Difference.BIRTH_NAME,)


def test_one_given_name_on_the_card_two_at_insi_is_given_name_missing():
    assert robert().traits.given_names == ("JEAN", "LOUIS")
    assert differences(held_robert(), robert()) == (Difference.GIVEN_NAME_MISSING,)


def test_given_names_in_another_order():
    assert differences(held_robert(first_name="Louis Jean"), robert()) == (
        Difference.GIVEN_NAMES_ORDER,
    )


def test_all_given_names_in_the_same_order_is_no_difference():
    assert differences(held_robert(first_name="Jean Louis"), robert()) == ()
    assert differences(held_robert(first_name="jean  louis"), robert()) == ()


def test_another_first_name_is_a_given_name_difference():
    assert differences(held_robert(first_name="Pierre"), robert()) == (Difference.GIVEN_NAME,)
    assert differences(held_robert(first_name="Jean Pierre"), robert()) == (Difference.GIVEN_NAME,)


def test_compound_given_name_with_a_space_or_a_hyphen_is_the_same():
    base = insi_identity(register_entry("291092A00401281"))
    assert base.traits.given_names == ("MARIE-ANGE",)
    held = held_from_card(card_person("casanova", "Marie-Ange"), first_name="Marie Ange")
    assert differences(held, base) == ()


def test_another_birth_date_is_a_birth_date_difference():
    held = held_robert(birth_date=BirthDate("19750221"))
    assert differences(held, robert()) == (Difference.GIVEN_NAME_MISSING, Difference.BIRTH_DATE)
    gerard = held_from_card(card_person("legoff", "Gérard"), birth_date=BirthDate("19520300"))
    assert differences(gerard, insi_identity(register_entry("152033523804587"))) == (
        Difference.BIRTH_DATE,
    )


def test_another_sex_is_a_sex_difference():
    held = held_from_card(card_person("legoff", "Gérard"), sex=Sex.FEMALE)
    assert differences(held, insi_identity(register_entry("152033523804587"))) == (Difference.SEX,)


def test_an_unknown_held_sex_is_no_difference():
    held = held_from_card(card_person("legoff", "Gérard"), sex=None)
    assert differences(held, insi_identity(register_entry("152033523804587"))) == ()


def test_an_earlier_matricule_on_the_card_is_ins_changed():
    entry = register_entry("162104410902360")
    identity = insi_identity(entry)
    held = held_from_card(card_person("garnier", "Paul"))
    assert held.nir == "162104410901073"
    assert held.nir != identity.ins.value
    assert identity.history == (Ins("162104410901073", OID_TEST),)
    assert differences(held, identity) == (Difference.INS_CHANGED,)


def test_an_unrelated_nir_is_nir_other():
    identity = insi_identity(register_entry("152033523804587"))
    held = held_from_card(card_person("legoff", "Gérard"), nir="285077505612370")
    assert differences(held, identity) == (Difference.NIR_OTHER,)


def test_an_unrelated_nir_typed_is_nir_other_too():
    identity = insi_identity(register_entry("152033523804587"))
    held = held_from_card(
        card_person("legoff", "Gérard"), nir="285077505612370", source=IdentitySource.TYPED
    )
    assert differences(held, identity) == (Difference.NIR_OTHER,)


def test_a_card_beneficiary_without_own_nir_is_no_own_nir():
    tom = card_person("moreau", "Tom")
    assert tom.nir is None
    identity = insi_identity(register_entry("118046912304533"))
    assert differences(held_from_card(tom), identity) == (Difference.NO_OWN_NIR,)
    assert differences(held_from_card(tom, nir=""), identity) == (Difference.NO_OWN_NIR,)


def test_a_typed_identity_without_nir_has_no_no_own_nir():
    tom = card_person("moreau", "Tom")
    held = held_from_card(tom, source=IdentitySource.TYPED)
    assert differences(held, insi_identity(register_entry("118046912304533"))) == ()


def test_differences_come_in_the_documented_order():
    identity = robert()
    held = HeldIdentity(
        last_name="DUPONT",
        first_name="Pierre",
        birth_date=BirthDate("19750221"),
        sex=Sex.FEMALE,
        nir="285077505612370",
    )
    assert differences(held, identity) == (
        Difference.BIRTH_NAME,
        Difference.GIVEN_NAME,
        Difference.BIRTH_DATE,
        Difference.SEX,
        Difference.NIR_OTHER,
    )


def test_differences_order_with_order_and_history_and_no_nir():
    garnier = insi_identity(register_entry("162104410902360"))
    held = HeldIdentity(
        last_name="GARNIER-DUVAL",
        first_name="Paul",
        birth_date=BirthDate("19621006"),
        sex=Sex.MALE,
        nir="162104410901073",
    )
    assert differences(held, garnier) == (
        Difference.BIRTH_NAME,
        Difference.BIRTH_DATE,
        Difference.INS_CHANGED,
    )
    held = held_robert(first_name="Louis Jean", sex=Sex.FEMALE, nir=None)
    assert differences(held, robert()) == (
        Difference.GIVEN_NAMES_ORDER,
        Difference.SEX,
        Difference.NO_OWN_NIR,
    )


# --- Difference.label ---------------------------------------------------------------------------


def test_every_difference_has_a_french_label():
    labels = {member: member.label for member in Difference}
    assert len(labels) == 9
    for member, label in labels.items():
        assert isinstance(label, str) and label.strip(), member
    assert len(set(labels.values())) == len(labels)
    assert Difference.BIRTH_NAME.label == (
        "Le nom de naissance de l'INSi diffère du nom de la carte (nom d'usage ?)."
    )
    assert Difference.SEX.label == "Le sexe diffère."
    assert Difference.NO_OWN_NIR.label == "La carte ne porte pas le NIR de ce bénéficiaire."


# --- normalize_birthplace -----------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "   "])
def test_empty_birthplace_is_none(value):
    assert normalize_birthplace(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("75056", "75056"),
        (" 75056 ", "75056"),
        ("2a004", "2A004"),
        ("2A004", "2A004"),
        ("2b033", "2B033"),
        ("99350", "99350"),
        ("97411", "97411"),
    ],
)
def test_valid_birthplace(value, expected):
    assert normalize_birthplace(value) == expected


@pytest.mark.parametrize(
    "value", ["7505", "750560", "ABCDE", "2C004", "2A04", "75 056", "7505A", "٧٥٠٥٦"]
)
def test_malformed_birthplace_is_refused(value):
    with pytest.raises(DomainError) as caught:
        normalize_birthplace(value)
    assert caught.value.code == "BIRTHPLACE"
    assert caught.value.message == problem_message("BIRTHPLACE")


# --- traits_query -------------------------------------------------------------------------------


def test_traits_query_in_insi_form():
    query = traits_query("Ben Saïd", "Karim", Sex.MALE, BirthDate("19550000"), "99350")
    assert query.birth_name == "BEN SAID"
    assert query.first_given_name == "KARIM"
    assert query.sex is Sex.MALE
    assert query.birth_date == BirthDate("19550000")
    assert query.birthplace == "99350"


def test_traits_query_keeps_the_first_given_name_only():
    query = traits_query("Robert", "Jean  Louis", Sex.MALE, BirthDate("19750220"))
    assert query.first_given_name == "JEAN"
    assert query.birthplace is None


def test_traits_query_keeps_a_compound_first_given_name_whole():
    query = traits_query(
        "casanova-orsini", "Marie-Ange Françoise", Sex.FEMALE, BirthDate("19910905")
    )
    assert query.birth_name == "CASANOVA-ORSINI"
    assert query.first_given_name == "MARIE-ANGE"


def test_traits_query_normalizes_the_birthplace():
    query = traits_query("Casanova-Orsini", "Marie", Sex.FEMALE, BirthDate("19910905"), "2a004")
    assert query.birthplace == "2A004"
    with pytest.raises(DomainError) as caught:
        traits_query("Casanova", "Marie", Sex.FEMALE, BirthDate("19910905"), "2C004")
    assert caught.value.code == "BIRTHPLACE"


def test_traits_query_makes_the_typographic_apostrophe_plain():
    query = traits_query("d\u2019Almeida", "Hélène", Sex.FEMALE, BirthDate("19800101"))
    assert query.birth_name == "D'ALMEIDA"
    assert query.first_given_name == "HELENE"


@pytest.mark.parametrize(
    ("birth_name", "first_given_name", "sex", "birth_date"),
    [
        ("Durand", "Sophie", None, "19850722"),
        ("", "Sophie", Sex.FEMALE, "19850722"),
        ("   ", "Sophie", Sex.FEMALE, "19850722"),
        ("Durand", "", Sex.FEMALE, "19850722"),
        ("Durand", "  ", Sex.FEMALE, "19850722"),
        ("Durand", "Sophie", Sex.FEMALE, ""),
        ("Durand", "Sophie", Sex.FEMALE, "AAAA0722"),
        ("Durand", "Sophie", Sex.FEMALE, "1985"),
        ("Durand", "Sophie", Sex.FEMALE, "198507"),
    ],
)
def test_traits_query_incomplete(birth_name, first_given_name, sex, birth_date):
    with pytest.raises(DomainError) as caught:
        traits_query(birth_name, first_given_name, sex, BirthDate(birth_date))
    assert caught.value.code == "TRAITS_INCOMPLETE"
    assert caught.value.message == problem_message("TRAITS_INCOMPLETE")


def test_traits_query_refuses_an_all_zero_birth_date():
    with pytest.raises(DomainError) as caught:
        traits_query("Durand", "Sophie", Sex.FEMALE, BirthDate("00000000"))
    assert caught.value.code == "TRAITS_INCOMPLETE"


def test_card_query_defaults_to_rank_one():
    query = CardQuery("LE GOFF", "Gérard", BirthDate("19520314"), "152033523804587")
    assert query.rank == 1


# --- InsiAnswer and insi_refusal ----------------------------------------------------------------


def test_insi_codes_are_the_teleservice_codes():
    assert [code.value for code in InsiCode] == ["00", "01", "02"]


def test_found_answer_requires_an_identity():
    with pytest.raises(ValueError):
        InsiAnswer(InsiCode.FOUND)
    answer = InsiAnswer(InsiCode.FOUND, robert())
    assert answer.identity == robert()
    assert answer.by_card is True


@pytest.mark.parametrize("code", [InsiCode.NONE, InsiCode.SEVERAL])
def test_none_and_several_answers_forbid_an_identity(code):
    with pytest.raises(ValueError):
        InsiAnswer(code, robert())
    assert InsiAnswer(code).identity is None


def test_insi_refusal_for_none_by_card():
    error = insi_refusal(InsiAnswer(InsiCode.NONE, by_card=True))
    assert isinstance(error, DomainError)
    assert error.code == "INSI_NONE_CARD"
    assert error.message == problem_message("INSI_NONE_CARD")


def test_insi_refusal_for_none_by_traits():
    error = insi_refusal(InsiAnswer(InsiCode.NONE, by_card=False))
    assert isinstance(error, DomainError)
    assert error.code == "INSI_NONE"
    assert error.message == problem_message("INSI_NONE")


@pytest.mark.parametrize("by_card", [True, False])
def test_insi_refusal_for_several(by_card):
    error = insi_refusal(InsiAnswer(InsiCode.SEVERAL, by_card=by_card))
    assert isinstance(error, DomainError)
    assert error.code == "INSI_SEVERAL"


@pytest.mark.parametrize("by_card", [True, False])
def test_insi_refusal_none_for_found(by_card):
    assert insi_refusal(InsiAnswer(InsiCode.FOUND, robert(), by_card=by_card)) is None


# --- InsiIdentity.known_as and InsiTraits --------------------------------------------------------


def garnier() -> InsiIdentity:
    return insi_identity(register_entry("162104410902360"))


def test_known_as_the_active_ins():
    assert garnier().known_as("162104410902360") is True


def test_known_as_an_earlier_matricule():
    assert garnier().known_as("162104410901073") is True


def test_known_as_with_spaces_in_the_input():
    assert garnier().known_as("1 62 10 44 109 023 60") is True
    assert garnier().known_as("1 62 10 44 109 010 73") is True


def test_known_as_with_lower_case_corsica():
    casanova = insi_identity(register_entry("291092A00401281"))
    assert casanova.known_as("2 91 09 2a 004 012 81") is True


def test_not_known_as_an_unrelated_nir():
    assert garnier().known_as("152033523804587") is False
    assert robert().known_as("162104410901073") is False


def test_insi_traits_given_names():
    traits = robert().traits
    assert traits.first_given_name == "JEAN"
    assert traits.given_names_text == "JEAN LOUIS"
    empty = InsiTraits("X", (), Sex.MALE, BirthDate("20000101"))
    assert empty.first_given_name == ""
    assert empty.given_names_text == ""


# --- Documents and identity status --------------------------------------------------------------


def test_documents_for_an_adult_exclude_the_minors_documents():
    assert documents_for(minor=False) == (
        Document.PASSPORT,
        Document.ID_CARD,
        Document.RESIDENCE_PERMIT,
        Document.NONE,
    )


def test_documents_for_a_minor_include_all_six_none_last():
    choices = documents_for(minor=True)
    assert choices == (
        Document.PASSPORT,
        Document.ID_CARD,
        Document.RESIDENCE_PERMIT,
        Document.BIRTH_CERTIFICATE,
        Document.FAMILY_BOOK,
        Document.NONE,
    )
    assert len(choices) == 6
    assert choices[-1] is Document.NONE


def test_minors_only_documents():
    assert {d for d in Document if d.minors_only} == {
        Document.BIRTH_CERTIFICATE,
        Document.FAMILY_BOOK,
    }


def test_no_document_gives_retrieved():
    assert identity_status(Document.NONE, BirthDate("19850722"), TODAY) is (
        IdentityStatus.RETRIEVED
    )
    assert identity_status(Document.NONE, BirthDate("20140610"), TODAY) is (
        IdentityStatus.RETRIEVED
    )


@pytest.mark.parametrize(
    "document", [Document.PASSPORT, Document.ID_CARD, Document.RESIDENCE_PERMIT]
)
@pytest.mark.parametrize("birth_date", ["19850722", "20140610", "19550000"])
def test_a_high_trust_document_gives_qualified(document, birth_date):
    assert identity_status(document, BirthDate(birth_date), TODAY) is IdentityStatus.QUALIFIED


@pytest.mark.parametrize("document", [Document.FAMILY_BOOK, Document.BIRTH_CERTIFICATE])
def test_minors_documents_qualify_a_minor(document):
    assert identity_status(document, BirthDate("20140610"), TODAY) is IdentityStatus.QUALIFIED


@pytest.mark.parametrize("document", [Document.FAMILY_BOOK, Document.BIRTH_CERTIFICATE])
@pytest.mark.parametrize("birth_date", ["19850722", "20081129", "19550000"])
def test_minors_documents_refused_for_an_adult(document, birth_date):
    with pytest.raises(DomainError) as caught:
        identity_status(document, BirthDate(birth_date), TODAY)
    assert caught.value.code == "DOCUMENT_MINORS_ONLY"
    assert caught.value.message == problem_message("DOCUMENT_MINORS_ONLY")


def test_the_day_before_the_eighteenth_birthday_is_still_minor():
    assert identity_status(Document.FAMILY_BOOK, BirthDate("20081130"), TODAY) is (
        IdentityStatus.QUALIFIED
    )


def test_a_lunar_birth_date_counts_as_minor_when_in_doubt():
    today = date(2026, 6, 1)
    assert identity_status(Document.FAMILY_BOOK, BirthDate("20080000"), today) is (
        IdentityStatus.QUALIFIED
    )
    # The same year with a known day: 18 on 2026-01-01, an adult.
    with pytest.raises(DomainError) as caught:
        identity_status(Document.FAMILY_BOOK, BirthDate("20080101"), today)
    assert caught.value.code == "DOCUMENT_MINORS_ONLY"


def test_the_majority_age_is_a_parameter():
    assert (
        identity_status(Document.FAMILY_BOOK, BirthDate("20060101"), TODAY, majority=21)
        is IdentityStatus.QUALIFIED
    )
    with pytest.raises(DomainError):
        identity_status(Document.FAMILY_BOOK, BirthDate("20060101"), TODAY)


def test_every_document_has_a_french_label():
    labels = {d: d.label for d in Document}
    assert len(labels) == 6
    for document, label in labels.items():
        assert isinstance(label, str) and label.strip(), document
    assert len(set(labels.values())) == 6
    assert Document.PASSPORT.label == "Passeport"
    assert Document.ID_CARD.label == "Carte nationale d'identité"
    assert Document.NONE.label == "Aucune pièce d'identité vue"


def test_every_identity_status_has_a_french_label():
    assert {s: s.label for s in IdentityStatus} == {
        IdentityStatus.PROVISIONAL: "provisoire",
        IdentityStatus.RETRIEVED: "récupérée",
        IdentityStatus.VALIDATED: "validée",
        IdentityStatus.QUALIFIED: "qualifiée",
    }


# --- IdentityCheck.patient ----------------------------------------------------------------------


def test_identity_check_patient_takes_insi_ins_and_traits():
    identity = robert()
    held = held_robert()
    check = IdentityCheck(identity, held, differences(held, identity))
    patient = check.patient
    assert isinstance(patient, Patient)
    assert patient == Patient(
        ins=Ins("175023306311210", OID_TEST),
        last_name="ROBERT",
        first_name="JEAN LOUIS",
        birth_date=BirthDate("19750220"),
        sex=Sex.MALE,
        source=IdentitySource.INSI,
    )
    assert check.document is None and check.status is None


def test_identity_check_patient_takes_the_birth_name_not_the_used_name():
    identity = insi_identity(register_entry("269085935002747"))
    held = held_from_card(card_person("leroy", "Nathalie"))
    patient = IdentityCheck(identity, held, differences(held, identity)).patient
    assert patient.last_name == "FONTAINE"
    assert patient.first_name == "NATHALIE"
    assert patient.sex is Sex.FEMALE
    assert patient.source is IdentitySource.INSI


def test_identity_check_patient_takes_the_active_ins_not_the_card_matricule():
    identity = garnier()
    held = held_from_card(card_person("garnier", "Paul"))
    patient = IdentityCheck(
        identity, held, differences(held, identity), Document.PASSPORT, IdentityStatus.QUALIFIED
    ).patient
    assert patient.ins == Ins("162104410902360", OID_TEST)
    assert patient.display_name == "GARNIER PAUL"


def test_identity_check_patient_keeps_insi_spelling_and_lunar_date():
    identity = insi_identity(register_entry("155009935000780"))
    held = held_from_card(card_person("bensaid", "Karim"))
    patient = IdentityCheck(identity, held, ()).patient
    assert patient.last_name == "BEN SAID"
    assert patient.birth_date.raw == "19550000"


# --- HeldIdentity -------------------------------------------------------------------------------


def test_by_card_when_the_card_has_the_beneficiary_nir():
    assert held_from_card(card_person("legoff", "Gérard")).by_card is True


def test_not_by_card_when_the_card_has_no_nir_for_them():
    assert held_from_card(card_person("moreau", "Tom")).by_card is False
    assert held_from_card(card_person("legoff", "Gérard"), nir="").by_card is False


def test_not_by_card_when_typed_even_with_a_nir():
    held = held_from_card(card_person("legoff", "Gérard"), source=IdentitySource.TYPED)
    assert held.nir == "152033523804587"
    assert held.by_card is False


def test_held_identity_defaults_and_display_name():
    held = HeldIdentity("LE GOFF", "Gérard", BirthDate("19520314"))
    assert held.sex is None and held.nir is None and held.rank is None
    assert held.source is IdentitySource.CARD
    assert held.display_name == "LE GOFF Gérard"


def test_every_demo_card_person_but_dupont_is_in_the_demo_register():
    """The training cards and the register agree: a beneficiary with a NIR is known by it
    (active or earlier matricule), one without by their traits; DUPONT is nobody (01), MARTIN
    Marie two people (the homonyms: 02)."""
    from proclient.core.demo_people import DEMO_HOUSEHOLDS

    for household in DEMO_HOUSEHOLDS:
        for person in household.people:
            if person.nir:
                known = [
                    e
                    for e in DEMO_REGISTER
                    if person.nir == e.ins or person.nir in (v for v, _o in e.history)
                ]
            else:
                known = [
                    e
                    for e in DEMO_REGISTER
                    if e.birth_date == person.birth_date
                    and insi_form(person.first_name) in e.given_names
                ]
            expected = {"dupont": 0, "martin": 2 if not person.nir else 1}.get(household.key, 1)
            assert len(known) == expected, person
