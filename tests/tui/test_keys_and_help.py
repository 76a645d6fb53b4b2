"""Keys as data: the [keys] table remaps a binding by its id; F1 opens the screen's help; the
command palette lists the application's own actions in French."""

from __future__ import annotations

import pytest

from proclient.core.settings import Paths, load_settings
from proclient.screens.home import HomeScreen
from proclient.screens.journal import JournalScreen
from proclient.widgets.help import HelpModal
from tests.tui_support import SIZE, screen_text, wait_until


async def test_keys_table_remaps_a_binding_by_its_id(app_factory, settings):
    settings.paths.config_dir.mkdir(parents=True, exist_ok=True)
    settings.paths.config_file.write_text('[keys]\njournal = "f11"\n', encoding="utf-8")
    remapped = load_settings(Paths.resolve())
    assert remapped.keys == {"journal": "f11"}

    def adjust(wiring):
        wiring.keymap = dict(remapped.keys)

    app = app_factory(adjust)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        await pilot.press("f9")  # no longer the journal
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("f11")
        await wait_until(pilot, lambda: isinstance(app.screen, JournalScreen), what="journal")


async def test_f1_opens_the_help_of_the_current_screen(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpModal), what="help")
        text = screen_text(app)
        assert "Aide — Accueil" in text and "Journal" in text
        assert "Focus Next" not in text  # Textual's own keys are not the screen's help
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home again")


async def test_command_palette_lists_the_applications_actions_in_french(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Journal des accusés" in titles and "Saisie manuelle de l'identité" in titles
        assert "Keys" not in titles and "Screenshot" not in titles
        journal = next(
            c for c in app.get_system_commands(app.screen) if c.title == "Journal des accusés"
        )
        await journal.callback()
        await wait_until(pilot, lambda: isinstance(app.screen, JournalScreen), what="journal")


@pytest.mark.slow
async def test_f1_opens_a_help_on_the_lock_screen_too(app_factory):
    from proclient.screens.lock import LockScreen
    from tests.tui_support import connect, insert

    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "legoff")
        await pilot.press("enter")
        await connect(pilot, app)
        app.routes.session.lock()
        await wait_until(pilot, lambda: isinstance(app.screen, LockScreen), what="lock")
        assert "f1 Aide" in screen_text(app)  # named in the footer
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpModal), what="help")
        text = screen_text(app)
        assert "Aide — Session verrouillée" in text and "Fermer la session" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, LockScreen), what="lock again")


# --- every key on screen at 60x20 and 80x24; Textual's own words in the UI language ----------

COUNTER, NARROW = (80, 24), (60, 20)


def keys_missing_from_the_footer(app) -> list[str]:
    """The screen's shown keys ("f10 Quitter") that its last lines do not carry."""
    footer = app.screen.query_one("KeyFooter")
    bottom = "\n".join(screen_text(app).rstrip("\n").splitlines()[-footer.size.height * 2 :])
    missing = []
    for _node, binding, enabled, _tooltip in app.screen.active_bindings.values():
        if binding.show and enabled:
            label = f"{app.get_key_display(binding)} {binding.description}"
            if label not in bottom:
                missing.append(label)
    return missing


@pytest.mark.slow
@pytest.mark.parametrize("size", [NARROW, COUNTER], ids=["60x20", "80x24"])
async def test_every_key_of_home_and_done_is_on_screen(app_factory, size):
    from tests.tui_support import create_for

    app = app_factory()
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        await wait_until(pilot, lambda: app.creation.binding is not None, what="service ready")
        assert not keys_missing_from_the_footer(app), screen_text(app)
        assert "f10 Quitter" in screen_text(app) and "f4 CPS" in screen_text(app)
        await create_for(pilot, app, "legoff", email="gerard.legoff@exemple.fr")
        assert not keys_missing_from_the_footer(app), screen_text(app)
        assert "f3 Retirer" in screen_text(app) and "f4 CPS" in screen_text(app)


async def test_an_open_list_is_closed_with_french_words_in_the_footer(app_factory):
    from tests.tui_support import connect, insert

    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "durand")
        await pilot.press("down", "enter")  # Léa, a minor: her representative is chosen
        await connect(pilot, app)
        await pilot.press("f8")
        await wait_until(pilot, lambda: app.screen.query("#rep_choice"), what="consent")
        app.screen.query_one("#rep_choice").focus()
        await pilot.press("enter")  # the list opens
        await wait_until(pilot, lambda: "Fermer la liste" in screen_text(app), what="open list")
        assert "Dismiss menu" not in screen_text(app)


@pytest.mark.parametrize(
    ("language", "prompt", "other"),
    [("fr", "Rechercher une commande…", "Search for"), ("en", "Search for a command…", "Recherch")],
)
async def test_the_command_palette_searches_in_the_ui_language(
    app_factory, language, prompt, other
):
    from proclient.core.i18n import use_language

    use_language(language)
    try:
        app = app_factory()
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
            await pilot.press("ctrl+p")
            await wait_until(pilot, lambda: prompt in screen_text(app), what=prompt)
            assert other not in screen_text(app)
    finally:
        use_language("fr")
