"""The demo's patients (DESIGN.md, "Demo cards"): one source for the emulated Vitale cards and
for the demo service's seeded DMPs.

Everything here is fictitious and public; the demo's INS carry the TEST OID. Core: plain data,
nothing heavy (the server seeds from it without importing the card reader).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from proclient.i18n import _

DmpSeed = Literal["active", "closed"]


@dataclass(frozen=True)
class DemoPerson:
    """One beneficiary of a demo card, as the card holds them."""

    last_name: str
    first_name: str
    birth_date: str  # AAAAMMJJ as on the card (00 where the day or month is unknown)
    nir: str  # 15 characters, key included, no spaces
    sex: Literal["M", "F"]
    dmp: DmpSeed | None = None  # the DMP the demo service gives them; None: no DMP

    @property
    def identity(self) -> dict[str, str]:
        """The identity the demo service records for a seeded DMP."""
        return {
            "last_name": self.last_name,
            "first_name": self.first_name,
            "birth_date": self.birth_date,
            "sex": self.sex,
        }


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
            _("CASANOVA-ORSINI Marie-Ange — NIR corse (2A), trait d'union, accents"),
            # Already has an active DMP: the demo shows the "already exists" path.
            (
                DemoPerson(
                    "CASANOVA-ORSINI",
                    "Marie-Ange",
                    "19910905",
                    "291092A00401281",
                    "F",
                    dmp="active",
                ),
            ),
        ),
        DemoHousehold(
            "bensaid",
            _("BEN SAÏD Karim — né à l'étranger, date de naissance lunaire"),
            # A closed DMP: the demo shows the reactivation.
            (DemoPerson("BEN SAÏD", "Karim", "19550000", "155009935000780", "M", dmp="closed"),),
        ),
    )


DEMO_HOUSEHOLDS: tuple[DemoHousehold, ...] = _households()


def demo_people() -> tuple[DemoPerson, ...]:
    """Every demo patient, card by card."""
    return tuple(person for household in DEMO_HOUSEHOLDS for person in household.people)
