"""The demo's patients (DESIGN.md, "Demo cards"): the people on the emulated Vitale cards, and
the demo INSi register (:data:`DEMO_REGISTER`) the demo service answers from and seeds its
DMPs from (CASANOVA-ORSINI's active, BEN SAID's closed).

Everything here is fictitious and public; the demo's INS carry the TEST OID. Core: plain data,
nothing heavy (the server seeds from it without importing the card reader).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from proclient.core.i18n import _

DmpSeed = Literal["active", "closed"]


@dataclass(frozen=True)
class DemoPerson:
    """One beneficiary of a demo card, as the card holds them."""

    last_name: str
    first_name: str
    birth_date: str  # AAAAMMJJ as on the card (00 where the day or month is unknown)
    nir: str | None  # on the card: 15 characters, key included, no spaces; None: absent
    sex: Literal["M", "F"]


@dataclass(frozen=True)
class DemoHousehold:
    """One demo Vitale card: its key (``legoff``…), its French label for the card picker, and
    its beneficiaries in the card's order."""

    key: str
    label: str
    people: tuple[DemoPerson, ...]


def _households() -> tuple[DemoHousehold, ...]:
    return (
        DemoHousehold(
            "legoff",
            _("LE GOFF Gérard — un bénéficiaire, cas simple"),
            (DemoPerson("LE GOFF", "Gérard", "19520314", "152033523804587", "M"),),
        ),
        DemoHousehold(
            "durand",
            _("Famille DURAND — Sophie, Léa et Hugo : choisir le bénéficiaire, mineurs"),
            (
                DemoPerson("DURAND", "Sophie", "19850722", "285077505612370", "F"),
                DemoPerson("DURAND", "Léa", "20150603", "215067511203450", "F"),
                DemoPerson("DURAND", "Hugo", "20140610", "114067511203551", "M"),
            ),
        ),
        DemoHousehold(
            "casanova",
            _(
                "CASANOVA-ORSINI Marie-Ange — a déjà un DMP ; NIR corse (2A), trait d'union, "
                "accents"
            ),
            # Already has an active DMP: the demo shows the "already exists" path.
            (
                DemoPerson(
                    "CASANOVA-ORSINI",
                    "Marie-Ange",
                    "19910905",
                    "291092A00401281",
                    "F",
                ),
            ),
        ),
        DemoHousehold(
            "bensaid",
            _("BEN SAÏD Karim — DMP fermé (réactivation) ; né à l'étranger, date lunaire"),
            # A closed DMP: the demo shows the reactivation.
            (DemoPerson("BEN SAÏD", "Karim", "19550000", "155009935000780", "M"),),
        ),
    )


def _training_households() -> tuple[DemoHousehold, ...]:
    """Cards for the hard cases of identity vigilance (issue 11): each shows one way the card
    and INSi differ. In the demo's card picker after the four cards above."""
    return (
        DemoHousehold(
            "moreau",
            _("INSi : MOREAU Tom, enfant sans NIR propre"),
            (
                DemoPerson("MOREAU", "Julie", "19881102", "288116912307827", "F"),
                DemoPerson("MOREAU", "Tom", "20180412", None, "M"),
            ),
        ),
        DemoHousehold(
            "robert",
            _("INSi : ROBERT Jean, un seul des deux prénoms"),
            (DemoPerson("ROBERT", "Jean", "19750220", "175023306311210", "M"),),
        ),
        DemoHousehold(
            "leroy",
            _("INSi : LEROY Nathalie, née FONTAINE"),
            (DemoPerson("LEROY", "Nathalie", "19690830", "269085935002747", "F"),),
        ),
        DemoHousehold(
            "okafor",
            _("INSi : OKAFOR Chidi, né à l'étranger, INS-NIA"),
            (DemoPerson("OKAFOR", "Chidi", "19900715", "190079933600464", "M"),),
        ),
        DemoHousehold(
            "garnier",
            _("INSi : GARNIER Paul, ancien matricule"),
            (DemoPerson("GARNIER", "Paul", "19621005", "162104410901073", "M"),),
        ),
        DemoHousehold(
            "martin",
            _("INSi : MARTIN Marie, homonymes"),
            (
                DemoPerson("MARTIN", "Pierre", "19680303", "168031305504453", "M"),
                DemoPerson("MARTIN", "Marie", "19700101", None, "F"),
            ),
        ),
        DemoHousehold(
            "bernard",
            _("INSi : BERNARD Lucas et Louis, jumeaux"),
            (
                DemoPerson("BERNARD", "Claire", "19900606", "290066748206609", "F"),
                DemoPerson("BERNARD", "Lucas", "20200315", None, "M"),
                DemoPerson("BERNARD", "Louis", "20200315", None, "M"),
            ),
        ),
        DemoHousehold(
            "dupont",
            _("INSi : DUPONT Michel, inconnu de l'INSi"),
            (DemoPerson("DUPONT", "Michel", "19580600", "158069205032177", "M"),),
        ),
    )


DEMO_HOUSEHOLDS: tuple[DemoHousehold, ...] = _households() + _training_households()


def demo_people() -> tuple[DemoPerson, ...]:
    """Every demo patient, card by card."""
    return tuple(person for household in DEMO_HOUSEHOLDS for person in household.people)


# --- The demo INSi register ---------------------------------------------------------------------

OID_TEST = "1.2.250.1.213.1.4.10"  # INS-NIR TEST (proclient.core.domain.OID_INS_NIR_TEST)
OID_NIA = "1.2.250.1.213.1.4.9"  # INS-NIA: no test variant exists (proclient.core.identity)


@dataclass(frozen=True)
class RegisterEntry:
    """One identity of the demo and test INSi register: the active INS, the earlier
    matricules (value, OID; most recent first), INSi's reference traits (upper case without
    diacritics; birth date AAAAMMJJ, lunar as written; birthplace INSEE code)."""

    ins: str
    birth_name: str
    given_names: tuple[str, ...]
    sex: Literal["M", "F"]
    birth_date: str
    birthplace: str | None
    oid: str = OID_TEST
    history: tuple[tuple[str, str], ...] = ()
    case: str = ""  # what it shows, for tests and the docs
    dmp: DmpSeed | None = None  # the DMP the demo service gives them; None: no DMP


DEMO_REGISTER: tuple[RegisterEntry, ...] = (
    # The four demo cards
    RegisterEntry("152033523804587", "LE GOFF", ("GERARD",), "M", "19520314", "35238"),
    RegisterEntry("285077505612370", "DURAND", ("SOPHIE",), "F", "19850722", "75056"),
    RegisterEntry("215067511203450", "DURAND", ("LEA",), "F", "20150603", "75112"),
    RegisterEntry("114067511203551", "DURAND", ("HUGO",), "M", "20140610", "75112"),
    RegisterEntry(
        "291092A00401281",
        "CASANOVA-ORSINI",
        ("MARIE-ANGE",),
        "F",
        "19910905",
        "2A004",
        dmp="active",
    ),
    RegisterEntry(
        "155009935000780", "BEN SAID", ("KARIM",), "M", "19550000", "99350", dmp="closed"
    ),
    # The hard cases
    RegisterEntry("288116912307827", "MOREAU", ("JULIE",), "F", "19881102", "69123"),
    RegisterEntry(
        "118046912304533",
        "MOREAU",
        ("TOM",),
        "M",
        "20180412",
        "69123",
        case="a beneficiary without their own NIR on the card: found by traits",
    ),
    RegisterEntry(
        "175023306311210",
        "ROBERT",
        ("JEAN", "LOUIS"),
        "M",
        "19750220",
        "33063",
        case="two given names at INSi, one on the card",
    ),
    RegisterEntry(
        "269085935002747",
        "FONTAINE",
        ("NATHALIE",),
        "F",
        "19690830",
        "59350",
        case="the card carries the used name, INSi the birth name",
    ),
    RegisterEntry(
        "190079933600464",
        "OKAFOR",
        ("CHIDI",),
        "M",
        "19900715",
        "99336",
        oid=OID_NIA,
        case="born abroad, an INS-NIA",
    ),
    RegisterEntry(
        "162104410902360",
        "GARNIER",
        ("PAUL",),
        "M",
        "19621005",
        "44109",
        history=(("162104410901073", OID_TEST),),
        case="the INS changed: the card carries the earlier matricule",
    ),
    RegisterEntry("168031305504453", "MARTIN", ("PIERRE",), "M", "19680303", "13055"),
    RegisterEntry(
        "270011305521095",
        "MARTIN",
        ("MARIE",),
        "F",
        "19700101",
        "13055",
        case="homonyms: same names and birth date (02 unless the birthplace is given)",
    ),
    RegisterEntry(
        "270013155513312",
        "MARTIN",
        ("MARIE", "LOUISE"),
        "F",
        "19700101",
        "31555",
        case="homonyms: same names and birth date (02 unless the birthplace is given)",
    ),
    RegisterEntry("290066748206609", "BERNARD", ("CLAIRE",), "F", "19900606", "67482"),
    RegisterEntry(
        "120036748210111",
        "BERNARD",
        ("LUCAS",),
        "M",
        "20200315",
        "67482",
        case="twins: same birth date and birth name, different given names",
    ),
    RegisterEntry(
        "120036748210210",
        "BERNARD",
        ("LOUIS",),
        "M",
        "20200315",
        "67482",
        case="twins: same birth date and birth name, different given names",
    ),
    # DUPONT Michel (158069205032177) is in no register: INSi answers 01.
)
