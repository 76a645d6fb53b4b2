"""Pilot tests: the done screen prints the accusé (by itself when a printer is set) and the
secrets sheet to the real CUPS queue; the journal screen reprints a past accusé."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest
from cups_support import files_holding, pdf_file_text, printed_file, require_cups, wait_for_job

from proclient.screens.done import DoneScreen
from proclient.screens.home import HomeScreen
from proclient.screens.journal import JournalScreen
from tests.tui_support import (
    SIZE,
    connect,
    create,
    create_for,
    insert,
    notified,
    screen_text,
    through_consent_and_online,
    wait_until,
)

pytestmark = pytest.mark.slow  # the longest tier: scripts/test.sh -m "not slow" leaves it out


@pytest.fixture(autouse=True)
def printer(monkeypatch):
    """The cups-pdf queue, named in the settings (so the accusé prints by itself)."""
    queue, out = require_cups()
    monkeypatch.setenv("PROCLIENT_PRINTER", queue)
    return queue, out


async def _job(pilot, app, previous: str) -> str:
    await wait_until(pilot, lambda: app.paper.last_job not in ("", previous), what="print job")
    return app.paper.last_job


async def test_done_screen_prints_accuse_and_secrets_sheet_and_leaves_no_password(
    app_factory, settings, printer
):
    _queue, out = printer
    started = time.time()
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "legoff")
        await pilot.press("enter")
        await connect(pilot, app)
        await through_consent_and_online(pilot, app, email="g.legoff@exemple.fr")
        done = await create(pilot, app)
        assert "Accusé envoyé automatiquement à l'imprimante proclient-pdf" in screen_text(app)
        auto = await _job(pilot, app, "")
        wait_for_job(auto)
        accuse = printed_file(out, auto)
        assert "LE GOFF" in pdf_file_text(accuse)
        accuse.unlink()

        await pilot.press("f5")  # print it again
        again = await _job(pilot, app, auto)
        wait_for_job(again)
        printed_file(out, again).unlink()

        password = app.paper.secrets.initial_password
        await pilot.press("f6")
        secrets_job = await _job(pilot, app, again)
        assert notified(app, f"Feuille de codes envoyée à l'imprimante (tâche {secrets_job})")
        wait_for_job(secrets_job)
        paper = printed_file(out, secrets_job)
        assert password in pdf_file_text(paper)
        paper.unlink()  # the patient takes the paper
        assert isinstance(done, DoneScreen)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
    roots = [settings.paths.data_dir, Path(tempfile.gettempdir()), out, Path("/var/spool/cups")]
    assert files_holding(password, roots, started) == []


async def test_journal_screen_reprints_a_past_accuse(app_factory, printer):
    _queue, out = printer
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await create_for(pilot, app, "bensaid")
        auto = await _job(pilot, app, "")
        wait_for_job(auto)
        printed_file(out, auto).unlink()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))

        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(app.screen, JournalScreen))
        await wait_until(pilot, lambda: bool(app.screen.entries), what="journal entries")
        text = screen_text(app)
        assert "réactivation" in text and app.screen.entries[0].dmp_id in text
        assert "BEN SAÏD" not in text  # the list names no patient
        await pilot.press("enter")
        reprint = await _job(pilot, app, auto)
        wait_for_job(reprint)
        printed = printed_file(out, reprint)
        try:
            assert "BEN SA" in pdf_file_text(printed) and "1955" in pdf_file_text(printed)
        finally:
            printed.unlink()
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
