"""Nothing typed is lost (issue 12): Esc at step 4, Tab after the tick, the email read back,
a minor's representative chosen from the card, a card pulled by mistake and put back."""

from __future__ import annotations

from datetime import date

import pytest

from proclient.controllers.card import RESUME_SECONDS, CardController
from proclient.core.domain import LegalRepresentative, Relationship
from proclient.core.flow import CreationFlow, Step
from proclient.screens.consent import ConsentScreen
from proclient.screens.home import HomeScreen
from proclient.screens.identify import IdentifyScreen
from proclient.screens.online_access import OnlineAccessScreen
from proclient.screens.resume import ResumeModal
from proclient.screens.summary import SummaryScreen
from tests.tui_support import (
    SIZE,
    connect,
    insert,
    screen_text,
    through_consent_and_online,
    wait_until,
)

EMAIL = "g.legoff@exemple.fr"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def with_clock(clock):
    def adjust(wiring):
        wiring.clock = clock

    return adjust


async def to_online_access(pilot, app, key: str = "legoff") -> None:
    await insert(pilot, app, key)
    await pilot.press("enter")
    await connect(pilot, app)
    await pilot.press("f8")
    await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="consent")
    await pilot.press("space", "f8")
    await wait_until(pilot, lambda: isinstance(app.screen, OnlineAccessScreen), what="online")


def fields(app) -> tuple[bool, str, str]:
    screen = app.screen
    return (
        screen.query_one("#wanted").value,
        screen.query_one("#email").value,
        screen.query_one("#mobile").value,
    )


@pytest.mark.slow
async def test_esc_from_step_4_keeps_the_tick_and_what_was_typed(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await to_online_access(pilot, app)
        await pilot.press("space", "tab", *EMAIL, "tab", *"06 12 34 56 78")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="consent")
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, OnlineAccessScreen), what="online")
        assert fields(app) == (True, EMAIL, "06 12 34 56 78")


@pytest.mark.slow
async def test_tab_after_the_tick_puts_email_and_mobile_in_their_own_fields(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await to_online_access(pilot, app)
        await pilot.press("space", "tab", *EMAIL, "tab", *"0612345678", "f8")
        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen), what="summary")
        assert app.flow.web_access.email == EMAIL
        assert app.flow.web_access.mobile == "+33612345678"


@pytest.mark.slow
async def test_esc_from_step_3_keeps_the_ticks(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "legoff")
        await pilot.press("enter")
        await connect(pilot, app)
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="consent")
        await pilot.press("space", "tab", "space")  # consent given, SAMU refused
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConsentScreen), what="step 2")
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="consent")
        screen = app.screen
        assert screen.query_one("#creation").value is True
        assert screen.query_one("#samu").value is False
        assert screen.query_one("#break_glass").value is True


@pytest.mark.slow
async def test_the_summary_shows_the_email_whole_to_read_it_back(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "legoff")
        await pilot.press("enter")
        await connect(pilot, app)
        await through_consent_and_online(pilot, app, email=EMAIL)
        text = screen_text(app)
        assert EMAIL in text and "g***@" not in text


@pytest.mark.slow
async def test_a_minor_s_representative_is_chosen_from_the_card_s_adults(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "durand")
        await pilot.press("down", "enter")  # Léa, 2015
        await connect(pilot, app)
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="consent")
        text = screen_text(app)
        assert "Le représentant légal consent à la création du DMP de l'enfant" in text
        assert "Le patient consent" not in text
        app.screen.query_one("#rep_choice").value = "0"  # DURAND Sophie, the only adult
        await pilot.pause()
        assert app.screen.query_one("#rep_last").value == "DURAND"
        assert app.screen.query_one("#rep_first").value == "Sophie"
        app.screen.query_one("#relationship").value = "MTH"  # the relationship is still chosen
        await pilot.press("space", "f8")
        await wait_until(pilot, lambda: isinstance(app.screen, OnlineAccessScreen), what="online")
        assert app.flow.legal_representative == LegalRepresentative(
            Relationship.MTH, "DURAND", "Sophie"
        )


async def pull(pilot, app) -> None:
    await pilot.press("f3")
    await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")


async def put_back(pilot, app, key: str = "legoff") -> None:
    app.routes.cards.insert_demo_card(key)
    await wait_until(
        pilot, lambda: isinstance(app.screen, (ResumeModal, IdentifyScreen)), what="card read"
    )


@pytest.mark.slow
async def test_the_same_card_put_back_resumes_where_it_was(app_factory):
    clock = FakeClock()
    app = app_factory(with_clock(clock))
    async with app.run_test(size=SIZE) as pilot:
        await to_online_access(pilot, app)
        await pilot.press("space", "tab", *EMAIL)  # typed, not yet taken with F8
        await pull(pilot, app)
        assert "LE GOFF" not in screen_text(app) and app.flow.patient is None
        clock.advance(RESUME_SECONDS - 10)
        await put_back(pilot, app)
        assert isinstance(app.screen, ResumeModal)
        assert "Entrée : reprendre" in screen_text(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, OnlineAccessScreen), what="online")
        assert fields(app) == (True, EMAIL, "")
        assert app.session.authenticated  # the CPS session was not touched: no PIN again
        assert not app.cards.holds_pulled
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen), what="summary")


@pytest.mark.slow
async def test_a_minor_s_card_pulled_at_step_3_comes_back_with_what_was_typed(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "durand")
        await pilot.press("down", "enter")  # Léa, 2015
        await connect(pilot, app)
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="consent")
        await pilot.press("space")
        app.screen.query_one("#relationship").value = "FTH"
        app.screen.query_one("#rep_last").focus()
        await pilot.press(*"Durand", "tab", *"Marc")  # the father, not on the card
        await pull(pilot, app)
        assert "DURAND" not in screen_text(app)
        await put_back(pilot, app, "durand")
        assert isinstance(app.screen, ResumeModal)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="consent")
        screen = app.screen
        assert screen.query_one("#creation").value is True
        assert screen.query_one("#relationship").value == "FTH"
        assert screen.query_one("#rep_choice").value == "other"
        assert (screen.query_one("#rep_last").value, screen.query_one("#rep_first").value) == (
            "Durand",
            "Marc",
        )
        assert app.flow.patient.first_name == "LEA"


@pytest.mark.slow
async def test_esc_on_the_offer_starts_afresh(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await to_online_access(pilot, app)
        await pull(pilot, app)
        await put_back(pilot, app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, IdentifyScreen), what="step 1")
        assert app.flow.step is Step.IDENTIFY and app.flow.patient is None
        assert not app.cards.holds_pulled


@pytest.mark.slow
async def test_another_card_or_too_late_starts_afresh(app_factory):
    clock = FakeClock()
    app = app_factory(with_clock(clock))
    async with app.run_test(size=SIZE) as pilot:
        await to_online_access(pilot, app)
        await pull(pilot, app)
        await put_back(pilot, app, "durand")
        assert isinstance(app.screen, IdentifyScreen) and not app.cards.holds_pulled
        await pull(pilot, app)
        await to_online_access(pilot, app)
        await pull(pilot, app)
        clock.advance(RESUME_SECONDS + 1)
        app.routes.cards.expire_pulled_card()  # the timer's tick: the patient leaves memory
        assert not app.cards.holds_pulled
        await put_back(pilot, app)
        await pilot.pause()
        assert isinstance(app.screen, IdentifyScreen)


def test_what_is_kept_leaves_memory_after_the_short_time():
    clock = FakeClock()
    cards = CardController(readers=None, patient_reader="r", clock=clock)
    flow = CreationFlow(today=date(2026, 11, 23))
    cards.keep_pulled(flow)
    clock.advance(RESUME_SECONDS)
    assert cards.holds_pulled
    clock.advance(1)
    assert cards.expire_pulled() and not cards.holds_pulled
