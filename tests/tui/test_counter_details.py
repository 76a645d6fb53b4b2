"""Issue 21, point 9: the smaller things a counter sees, each checked."""

from __future__ import annotations

import pytest

from proclient.core.domain import DomainError, normalize_mobile
from proclient.screens.home import DemoCardPicker, HomeScreen
from tests.tui_support import SIZE, connect, insert, screen_text, wait_until


async def test_ctrl_q_with_a_patient_half_way_asks_first(app_factory):
    from proclient.screens.outbox import QuitModal

    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "legoff")
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, QuitModal), what="asked")
        assert "ce qui a été saisi est perdu" in screen_text(app)
        await pilot.press("escape")  # stay: nothing lost
        await wait_until(pilot, lambda: not isinstance(app.screen, QuitModal), what="stayed")
        assert app.is_running and app.flow.card is not None


@pytest.mark.slow
async def test_a_minors_summary_says_the_representative_consented(app_factory):
    from tests.tui_support import minor_to_summary

    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "durand")
        await pilot.press("down", "enter")  # Léa, a minor
        await connect(pilot, app)
        await minor_to_summary(pilot, app)
        text = screen_text(app)
        assert "Consentement du représentant légal : recueilli" in text
        assert "Consentement du patient" not in text


async def test_a_card_without_the_beneficiarys_nir_says_so_once(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "moreau")
        text = screen_text(app)
        assert "NIR absent de la carte" in text and "NIR NIR" not in text


async def test_the_demo_cards_say_which_have_a_dmp(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, DemoCardPicker), what="picker")
        text = screen_text(app)
        assert "CASANOVA-ORSINI Marie-Ange — a déjà un DMP" in text
        assert "BEN SAÏD Karim — DMP fermé" in text


@pytest.mark.slow
async def test_the_mobile_is_shown_whole_on_the_summary_to_read_it_back(app_factory):
    from tests.tui_support import through_consent_and_online

    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "legoff")
        await pilot.press("enter")
        await connect(pilot, app)
        await through_consent_and_online(pilot, app, mobile="0612345678")
        assert "06 12 34 56 78" in screen_text(app)


def test_a_foreign_mobile_is_refused_saying_the_field_may_stay_empty():
    with pytest.raises(DomainError) as caught:
        normalize_mobile("+44 7700 900123")
    assert "laissez ce champ vide" in caught.value.message
