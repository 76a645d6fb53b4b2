"""Shared expectations for the card tests: the demo cards as the DESIGN table gives them."""

from __future__ import annotations

import pytest

# (last name, first name, birth date as on the card, NIR), in card order.
EXPECTED_DEMO = {
    "legoff": [("LE GOFF", "Gérard", "19520314", "152033523804587")],
    "durand": [
        ("DURAND", "Sophie", "19850722", "285077505612370"),
        ("DURAND", "Léa", "20150603", "215067511203450"),
        ("DURAND", "Hugo", "20140610", "114067511203551"),
    ],
    "casanova": [("CASANOVA-ORSINI", "Marie-Ange", "19910905", "291092A00401281")],
    "bensaid": [("BEN SAÏD", "Karim", "19550000", "155009935000780")],
}

# Every way the emulator can make the reader work harder: plain, T=0 GET RESPONSE, wrong Le,
# both, and GET RESPONSE chains handing out 16 bytes at a time.
CARD_MODES = {
    "plain": {},
    "t0": {"t0_mode": True},
    "wrong_le": {"wrong_le": True},
    "t0_wrong_le": {"t0_mode": True, "wrong_le": True},
    "t0_chained": {"t0_mode": True, "t0_chunk": 16},
}


@pytest.fixture(params=sorted(EXPECTED_DEMO))
def demo_key(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(params=sorted(CARD_MODES))
def card_mode(request: pytest.FixtureRequest) -> dict[str, object]:
    return CARD_MODES[request.param]
