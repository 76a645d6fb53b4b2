"""The patient's codes sheet cannot be lost unseen, and a lost one can be replaced from
step 2 by a professional authorised on the DMP (issue 21, point 2)."""

from __future__ import annotations

import pytest

from proclient.screens.codes import NewPasswordScreen, SheetUnseenModal
from proclient.screens.done import DoneScreen, SecretsModal
from proclient.screens.home import HomeScreen
from tests.tui_support import SIZE, connect, create_for, insert, screen_text, wait_until

pytestmark = pytest.mark.slow  # the longest tier: scripts/test.sh -m "not slow" leaves it out


def _on(app, kind) -> bool:
    return isinstance(app.screen, kind)


async def test_enter_on_the_done_screen_asks_before_losing_an_unseen_codes_sheet(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await create_for(pilot, app, "legoff", email="g.legoff@exemple.fr")
        assert app.paper.secrets is not None
        await pilot.press("enter")  # « Suivant »: the sheet was neither printed nor shown
        await wait_until(pilot, lambda: _on(app, SheetUnseenModal), what="the question")
        assert "ni imprimée ni affichée" in screen_text(app)
        assert app.paper.secrets is not None and app.flow.result is not None  # nothing lost
        await pilot.press("escape")  # stay
        await wait_until(pilot, lambda: _on(app, DoneScreen), what="back on done")
        await pilot.press("f7")  # shown on screen: handed over
        await wait_until(pilot, lambda: _on(app, SecretsModal), what="secrets shown")
        await pilot.press("escape")
        await wait_until(pilot, lambda: _on(app, DoneScreen), what="done again")
        await pilot.press("enter")  # now the next patient, no question
        await wait_until(pilot, lambda: _on(app, HomeScreen), what="home")
        assert app.paper.secrets is None


async def test_a_burst_of_enter_cannot_leave_the_sheet_only_f9_does(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await create_for(pilot, app, "legoff", email="g.legoff@exemple.fr")
        await pilot.press("enter")
        await wait_until(pilot, lambda: _on(app, SheetUnseenModal), what="the question")
        await pilot.press("f9")  # leave without it, on purpose
        await wait_until(pilot, lambda: _on(app, HomeScreen), what="home")
        assert app.paper.secrets is None


async def test_quitting_with_an_unseen_sheet_asks_first(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await create_for(pilot, app, "legoff", email="g.legoff@exemple.fr")
        await pilot.press("f10")
        await wait_until(pilot, lambda: _on(app, SheetUnseenModal), what="the question")
        assert app.is_running


async def test_a_lost_sheet_is_replaced_from_step_2_with_a_new_password(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await create_for(pilot, app, "legoff", email="g.legoff@exemple.fr")
        first = app.paper.secrets.initial_password
        await pilot.press("enter", "f9")  # left without the sheet: the patient has nothing
        await wait_until(pilot, lambda: _on(app, HomeScreen), what="home")
        app.routes.cards.remove_demo_card()
        await pilot.pause(0.7)

        await insert(pilot, app, "legoff")
        await pilot.press("enter")
        await connect(pilot, app, document=None)
        await wait_until(pilot, lambda: "F9 lui en donne un nouveau" in screen_text(app))
        assert "Pièce d'identité vue" not in screen_text(app)  # nothing to create, no document
        await pilot.press("f9")
        await wait_until(pilot, lambda: _on(app, NewPasswordScreen), what="new password")
        second = app.paper.secrets.initial_password
        assert second and second != first
        await pilot.press("enter")  # unseen: asked
        await wait_until(pilot, lambda: _on(app, SheetUnseenModal), what="the question")
        await pilot.press("f7")
        await wait_until(pilot, lambda: _on(app, SecretsModal), what="shown")
        assert second in screen_text(app)
