"""The four public demo cards (DESIGN.md): fictitious people, each showing one point of the trade."""

from __future__ import annotations

from dataclasses import dataclass

from proclient.domain import Beneficiary, BirthDate
from proclient.i18n import _


@dataclass(frozen=True)
class DemoCard:
    key: str
    label: str  # French, for the card picker
    beneficiaries: tuple[Beneficiary, ...]
    validity_start: str = "20190102"  # AAAAMMJJ, in the card's 66 template


def _b(last: str, first: str, born: str, nir: str | None) -> Beneficiary:
    return Beneficiary(last, first, BirthDate(born), nir)


def _cards() -> dict[str, DemoCard]:
    cards = (
        DemoCard(
            "legoff",
            _("LE GOFF Gérard — un bénéficiaire, cas simple"),
            (_b("LE GOFF", "Gérard", "19520314", "152033523804587"),),
        ),
        DemoCard(
            "durand",
            _("Famille DURAND — Sophie, Léa et Hugo : choisir le bénéficiaire, mineurs"),
            (
                _b("DURAND", "Sophie", "19850722", "285077505612370"),
                _b("DURAND", "Léa", "20150603", "215067511203450"),
                _b("DURAND", "Hugo", "20140610", "114067511203551"),
            ),
        ),
        DemoCard(
            "casanova",
            _("CASANOVA-ORSINI Marie-Ange — NIR corse (2A), trait d'union, accents"),
            (_b("CASANOVA-ORSINI", "Marie-Ange", "19910905", "291092A00401281"),),
        ),
        DemoCard(
            "bensaid",
            _("BEN SAÏD Karim — né à l'étranger, date de naissance lunaire"),
            (_b("BEN SAÏD", "Karim", "19550000", "155009935000780"),),
        ),
    )
    return {card.key: card for card in cards}


DEMO_CARDS: dict[str, DemoCard] = _cards()


def demo_card(key: str) -> DemoCard:
    """The demo card ``key`` (KeyError names the known keys)."""
    try:
        return DEMO_CARDS[key]
    except KeyError:
        raise KeyError(f"unknown demo card {key!r}; known: {', '.join(DEMO_CARDS)}") from None
