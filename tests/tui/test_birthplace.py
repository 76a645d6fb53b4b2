"""The place of birth typed as a town (proclient.widgets.birthplace) on the two screens that
ask for it, by keyboard against the demo's INSi register: the manual entry (LE GOFF Gérard,
born in Rennes, 35238) and the traits form after a 02 (MARTIN Marie, the one born in
Toulouse, 31555)."""

from __future__ import annotations

import pytest

from proclient.screens.connect import ConnectScreen
from proclient.screens.home import HomeScreen
from proclient.screens.manual_entry import ManualEntryScreen
from proclient.widgets.birthplace import BirthplaceInput
from tests.tui.test_identity_vigilance import answered, flat, sign_in, traits_form
from tests.tui_support import SIZE, connect, wait_until


def line(app) -> str:
    return str(app.screen.query_one("#birthplace-line").render())


@pytest.mark.slow
async def test_manual_entry_completes_a_town_and_insi_finds_the_person(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, ManualEntryScreen), what="entry")
        await pilot.press(*"le goff", "tab", *"Gérard", "tab", "M", "tab", *"14/03/1952", "tab")
        field = app.screen.query_one("#birthplace", BirthplaceInput)
        assert field.has_focus
        await pilot.press(*"renn")
        await wait_until(pilot, lambda: "Rennes (35)" in line(app), what="a suggestion")
        await pilot.press("right")  # takes the completion
        await wait_until(pilot, lambda: field.value == "Rennes (35)", what="completed")
        await wait_until(pilot, lambda: "code 35238" in line(app), what="the code")
        assert "Rennes (35) — code 35238" in flat(app)
        await pilot.press("f8")
        await connect(pilot, app, document=None)
        assert app.flow.held.birthplace == "35238"
        assert app.flow.insi.code.value == "00" and app.flow.insi.by_card is False
        assert "Aucune différence avec la saisie." in flat(app)


@pytest.mark.slow
async def test_manual_entry_says_why_a_name_is_refused_and_keeps_the_step(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, ManualEntryScreen), what="entry")
        await pilot.press(*"le goff", "tab", *"Gérard", "tab", "M", "tab", *"14/03/1952", "tab")
        await pilot.press(*"Saint-Denis")
        await wait_until(pilot, lambda: "précisez le département" in line(app), what="refusal")
        await pilot.press("f8")
        await pilot.pause()
        assert isinstance(app.screen, ManualEntryScreen) and app.flow.held is None
        # Born in 1952: Saint-Denis was in the Seine (75) then.
        assert "« Saint-Denis (75) »" in flat(app)


@pytest.mark.slow
async def test_traits_form_splits_homonyms_by_a_town_name(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, app, "martin", downs=1)
        await traits_form(pilot, app)
        await pilot.press("F", "enter", "enter", "enter")
        await answered(pilot, app)
        assert app.flow.insi.code.value == "02"
        assert isinstance(app.screen, ConnectScreen)
        await pilot.press(*"toulouse")  # the birthplace field has the focus
        await wait_until(pilot, lambda: "code 31555" in line(app), what="the code")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.flow.dmp_state is not None, what="status")
        assert app.flow.patient.ins.value == "270013155513312"
        assert app.flow.patient.first_name == "MARIE LOUISE"
