"""The four public demo cards (DESIGN.md): fictitious people, each showing one point of the trade.

The people come from :mod:`proclient.core.demo_people`, which the demo service seeds from too.
"""

from __future__ import annotations

from dataclasses import dataclass

from proclient.core.demo_people import DEMO_HOUSEHOLDS, DemoHousehold
from proclient.core.domain import Beneficiary, BirthDate


@dataclass(frozen=True)
class DemoCard:
    key: str
    label: str  # French, for the card picker
    beneficiaries: tuple[Beneficiary, ...]
    validity_start: str = "20190102"  # AAAAMMJJ, in the card's 66 template


def _card(household: DemoHousehold) -> DemoCard:
    return DemoCard(
        household.key,
        household.label,
        tuple(
            Beneficiary(p.last_name, p.first_name, BirthDate(p.birth_date), p.nir)
            for p in household.people
        ),
    )


def _cards() -> dict[str, DemoCard]:
    return {household.key: _card(household) for household in DEMO_HOUSEHOLDS}


DEMO_CARDS: dict[str, DemoCard] = _cards()


def demo_card(key: str) -> DemoCard:
    """The demo card ``key`` (KeyError names the known keys)."""
    try:
        return DEMO_CARDS[key]
    except KeyError:
        raise KeyError(f"unknown demo card {key!r}; known: {', '.join(DEMO_CARDS)}") from None
