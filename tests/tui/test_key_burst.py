"""Fast hands: bursts of keys sent faster than the screens change never crash the app.

The bursts go straight into the App's queue with no pause between keys (as a terminal
delivers a stuck key or a barcode scanner), from every screen of the app, with a fixed seed;
fuzz/key_burst.py runs the same for 100,000 keys and more."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "fuzz"))

from key_burst import STARTS, burst_run, key_event  # noqa: E402

from tests.tui_support import wait_until  # noqa: E402

KEYS_PER_SCREEN = 200


@pytest.mark.slow
@pytest.mark.parametrize("start", sorted(STARTS))
async def test_a_key_burst_from_every_screen_raises_nothing(app_factory, start):
    seed = sorted(STARTS).index(start) + 2026
    result = await burst_run(app_factory, start, KEYS_PER_SCREEN, seed, size=(80, 24))
    assert result["keys"] == KEYS_PER_SCREEN


async def test_a_burst_of_enter_after_f2_inserts_one_card_and_goes_on(app_factory):
    """The issue's crash: F2, then Enter faster than the picker closes (Enter and Esc both
    close it): one card inserted, no ScreenStackError, the keys meant for the picker not
    applied to the screens that came after it."""
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.creation.binding is not None, what="service")
        await pilot.press("f2")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DemoCardPicker")
        for key in ["enter"] * 10 + ["escape"] * 5 + ["enter"] * 10:
            app.post_message(key_event(key))
        await wait_until(pilot, lambda: app.flow.card is not None, what="card read")
        assert type(app.screen).__name__ == "IdentifyScreen"
        assert app.is_running
    assert not app.return_code


async def test_down_typed_before_the_picker_list_has_the_focus_still_moves_the_highlight(
    app_factory,
):
    """The CI's tmux flake: F2, then Down and Enter as soon as the picker shows, before its
    list took the focus: the Down was lost and the first card inserted instead of the
    second. The picker's own Up and Down move the highlight whoever has the focus."""
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.creation.binding is not None, what="service")
        await pilot.press("f2")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DemoCardPicker")
        picker = app.screen
        second = picker._cards[1]
        chosen: list[str | None] = []
        dismiss = picker.dismiss
        picker.dismiss = lambda result=None: (chosen.append(result), dismiss(result))[1]
        picker.set_focus(None)  # as before the list is focused
        for key in ("down", "down", "up", "enter"):
            app.post_message(key_event(key))
        await wait_until(pilot, lambda: app.flow.card is not None, what="card read")
        assert chosen == [second.key]


async def test_an_unexpected_error_is_one_french_sentence_and_a_failing_status(app_factory, capfd):
    """What nothing caught ends the app with status 1 and the unexpected-error sentence, not
    a traceback."""
    app = app_factory()
    with pytest.raises(ZeroDivisionError):
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: app.creation.binding is not None, what="service")
            app.call_later(lambda: 1 / 0)
            await pilot.pause()
    assert app.return_code == 1
    said = capfd.readouterr().err
    assert "proclient s'est arrêté" in said and "Traceback" not in said


async def test_a_burst_of_enter_on_step_1_is_not_applied_to_step_2(app_factory):
    """Enter, Enter, Enter… on step 1: the first one goes to step 2; the others were handled
    by step 1's list and asked for step 1 again — dropped, not shown as an error on step 2."""
    from tests.tui_support import insert, screen_text

    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await insert(pilot, app, "legoff")
        for _ in range(6):
            app.post_message(key_event("enter"))
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ConnectScreen")
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "pas possible à cette étape" not in text
        assert "Saisissez votre code porteur." not in text.replace("puis Entrée", "")
        assert app.flow.step.name == "CONNECT"


async def test_keys_typed_before_a_screen_came_up_are_dropped(app_factory):
    """F2, Down, Enter in one burst: Down and Enter were pressed before the picker came up
    (meant for the home screen): dropped, no card inserted behind the professional's back."""
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.creation.binding is not None, what="service")
        for key in ("f2", "down", "enter"):
            app.post_message(key_event(key))
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DemoCardPicker")
        await pilot.pause(0.5)
        assert type(app.screen).__name__ == "DemoCardPicker"
        assert app.flow.card is None and not app.cards.present


async def test_a_burst_of_enter_in_the_command_palette_closes_it_once(app_factory):
    """fuzz/key_burst.py found it: Enter twice on a command of Textual's palette dismissed it
    twice, the second time popping the screen under it (ScreenStackError)."""
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.creation.binding is not None, what="service")
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "Palette", what="palette")
        await pilot.press(*"journal")
        await pilot.pause(0.6)
        for key in ["down"] + ["enter"] * 6:
            app.post_message(key_event(key))
        await pilot.pause(0.5)
        assert app.is_running
    assert not app.return_code


async def test_space_then_f8_at_once_on_the_consent_step_gives_the_consent_first(app_factory):
    """The CI's second tmux flake: Space (tick the consent) and F8 typed together. F8 was a
    priority binding, acted on at once, while Space still went through the checkbox and back
    up to the App: step 3 refused « Sans le consentement… » with the box shown ticked. F8
    now waits its turn behind the keys typed before it."""
    from proclient.screens.consent import ConsentScreen
    from proclient.screens.online_access import OnlineAccessScreen
    from tests.tui_support import connect, insert

    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await insert(pilot, app, "legoff")
        await pilot.press("enter")
        await connect(pilot, app)
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="consent")
        for key in ("space", "f8"):
            app.post_message(key_event(key))
        await wait_until(
            pilot, lambda: isinstance(app.screen, OnlineAccessScreen), what="step 4 reached"
        )
        assert app.flow.consent.creation
