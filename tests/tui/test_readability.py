"""Counter-grade screens (issue 12): every choice readable without colour, nothing cut at
80×24 or 60×20, every key in the footer, short-lived toasts, one vocabulary, plain text where
a settings key carries brackets."""

from __future__ import annotations

import re

import pytest
import textual.app

from proclient.screens.consent import ConsentScreen
from proclient.screens.done import DoneScreen, SecretsModal
from proclient.screens.home import HomeScreen
from proclient.screens.manual_entry import ManualEntryScreen
from tests.tui_support import (
    SIZE,
    connect,
    create,
    create_for,
    insert,
    screen_text,
    through_consent_and_online,
    wait_until,
)

COUNTER = (80, 24)
NARROW = (60, 20)


def footer(app) -> str:
    """The footer's text: its last three lines at most (it wraps when the keys do not fit on
    one). Keys read "f1 Aide", lower case, as only the footer writes them."""
    return " ".join(screen_text(app).rstrip("\n").splitlines()[-3:])


@pytest.mark.slow
async def test_emergency_choices_read_in_words_without_colour(app_factory, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_factory()
    async with app.run_test(size=COUNTER) as pilot:
        await insert(pilot, app, "legoff")
        await pilot.press("enter")
        await connect(pilot, app)
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="consent")
        text = screen_text(app)
        assert re.search(r"\[ \]\s*Le patient consent", text)  # never ticked in advance
        assert re.search(r"\[x\]\s*Médecin régulateur du SAMU \(centre 15\) : autorisé", text)
        await pilot.press("space", "tab", "space")  # consent given, SAMU refused
        await pilot.pause()
        text = screen_text(app)
        assert re.search(r"\[x\]\s*Le patient consent", text)
        assert re.search(r"\[ \]\s*Médecin régulateur du SAMU \(centre 15\) : refusé", text)
        assert re.search(r"\[x\]\s*Bris de glace[^\[]*:\s*autorisé", text)  # wrapped, not cut


@pytest.mark.slow
async def test_footer_at_80_columns_keeps_every_key_and_f10_quits_from_done(app_factory):
    app = app_factory()
    async with app.run_test(size=COUNTER) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        home = footer(app)
        for key in ("f1 Aide", "f2", "f5", "f6", "f9", "f10 Quitter", "f3", "f4 CPS"):
            assert key in home, (key, home)
        await create_for(pilot, app, "legoff", email="gerard.legoff@exemple.fr")
        done = footer(app)
        for key in ("f1 Aide", "Suivant", "f5", "f6", "f7", "f10 Quitter"):
            assert key in done, (key, done)
        # The codes sheet shown first: leaving it unseen would ask (tests/tui/test_codes_sheet).
        await pilot.press("f7")
        await wait_until(pilot, lambda: not isinstance(app.screen, DoneScreen), what="shown")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, DoneScreen), what="done")
        await pilot.press("f10")
        await pilot.pause()
        assert app.return_code is not None  # the app is quitting


@pytest.mark.slow
async def test_reactivation_done_screen_says_reactivated_like_the_pdf(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "bensaid")
        await pilot.press("enter")
        await connect(pilot, app)
        await through_consent_and_online(pilot, app)
        await create(pilot, app)
        text = screen_text(app)
        assert "DMP réactivé" in text and "Accusé de réactivation enregistré" in text
        assert "DMP créé" not in text and "Accusé de création" not in text


@pytest.mark.slow
async def test_print_error_toast_keeps_the_settings_key_and_goes_with_the_next_patient(
    app_factory, monkeypatch
):
    from proclient.receipts import printing

    def refused(pdf, printer):
        raise printing._error(b"lp: Error - no default destination available.", printer)

    timeouts: list[float | None] = []
    notify = textual.app.App.notify

    def recorded(self, message, *, timeout=None, **kwargs):
        timeouts.append(timeout)
        return notify(self, message, timeout=timeout, **kwargs)

    monkeypatch.setattr(printing, "print_pdf", refused)
    monkeypatch.setattr(textual.app.App, "notify", recorded)
    app = app_factory()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await create_for(pilot, app, "legoff")
        await pilot.press("f5")
        await wait_until(pilot, lambda: "[printer] name" in screen_text(app), what="toast")
        assert timeouts and all(t is not None and t <= 10 for t in timeouts), timeouts
        await pilot.press("enter")  # next patient
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        assert "[printer] name" not in screen_text(app)


@pytest.mark.slow
async def test_secrets_on_screen_say_where_to_use_them(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await create_for(pilot, app, "legoff", email="gerard.legoff@exemple.fr")
        await pilot.press("f7")
        await wait_until(pilot, lambda: isinstance(app.screen, SecretsModal), what="secrets")
        assert "https://www.monespacesante.fr" in screen_text(app)


async def test_manual_entry_labels_stay_once_a_field_is_filled(app_factory):
    app = app_factory()
    async with app.run_test(size=COUNTER) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, ManualEntryScreen), what="entry")
        await pilot.press(*"DUPONT", "enter", *"Michel")
        await pilot.pause()
        text = screen_text(app)
        assert "DUPONT" in text and "Michel" in text
        assert "Nom de naissance" in text and "Prénom" in text


async def test_family_card_nirs_never_wrap_mid_number_at_60_columns(app_factory):
    app = app_factory()
    async with app.run_test(size=NARROW) as pilot:
        await insert(pilot, app, "durand")
        lines = screen_text(app).splitlines()
        for nir in ("2 85 07 75 056 123 70", "2 15 06 75 112 034 50", "1 14 06 75 112 035 51"):
            assert any(nir in line for line in lines), nir


async def test_toasts_of_one_patient_leave_when_the_next_card_is_read(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        app.notify("Avis du patient précédent", timeout=10)
        await pilot.pause()
        assert "Avis du patient précédent" in screen_text(app)
        await insert(pilot, app, "legoff")
        assert "Avis du patient précédent" not in screen_text(app)
