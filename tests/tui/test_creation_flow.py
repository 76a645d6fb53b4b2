"""The whole flow driven by keyboard for each demo card, down to the PDF's text."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest

from proclient.core.submission import creation_request
from proclient.screens.connect import ConnectScreen
from proclient.screens.consent import ConsentScreen
from proclient.screens.done import DoneScreen
from proclient.screens.home import HomeScreen
from proclient.screens.identify import IdentifyScreen
from proclient.screens.online_access import OnlineAccessScreen
from proclient.screens.summary import SummaryScreen
from tests.tui_support import (
    SIZE,
    connect,
    create,
    create_for,
    files_containing,
    insert,
    notified,
    pdf_text,
    screen_text,
    through_consent_and_online,
    wait_until,
)


@pytest.mark.slow
async def test_le_goff_single_beneficiary_creation_prints_an_accuse(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "legoff")
        assert "LE GOFF Gérard" in screen_text(app)
        await pilot.press("enter")
        await connect(pilot, app)
        assert "Aucun DMP" in screen_text(app)
        await through_consent_and_online(pilot, app, refuse_samu=True)
        done = await create(pilot, app)
        text = pdf_text(done.receipt_path)
        assert "LE GOFF" in text and "GERARD" in text  # INSi's traits, not the card's
        assert "1 52 03 35 238 045 87" in text
        assert "INS-NIR TEST" in text
        assert "refusé" in text  # SAMU refused, printed as such
        assert not done.has_secrets


@pytest.mark.slow
async def test_durand_family_card_choose_a_minor_with_legal_representative(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "durand")
        assert app.flow.patient is None  # three beneficiaries: nobody chosen yet
        await pilot.press("down", "enter")  # Léa, 2015
        await connect(pilot, app)
        assert app.flow.held.first_name == "Léa" and app.flow.patient.first_name == "LEA"
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen))
        await pilot.press("space", "f8")
        assert "mineur" in screen_text(app)  # refused without a legal representative
        assert isinstance(app.screen, ConsentScreen)
        app.screen.query_one("#relationship").value = "MTH"
        app.screen.query_one("#rep_last").focus()
        await pilot.press(*"Durand", "tab", *"Sophie", "f8")
        await wait_until(pilot, lambda: isinstance(app.screen, OnlineAccessScreen))
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        done = await create(pilot, app)
        text = pdf_text(done.receipt_path)
        assert "DURAND" in text and "LEA" in text
        assert "Sophie" in text  # the legal representative


@pytest.mark.slow
async def test_closed_dmp_takes_the_reactivation_path(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "bensaid")
        assert "00/00/1955" in screen_text(app)  # lunar date shown as read
        await pilot.press("enter")
        await connect(pilot, app)
        assert "fermé" in screen_text(app)
        await through_consent_and_online(pilot, app)
        done = await create(pilot, app)
        text = pdf_text(done.receipt_path)
        assert "réactivation" in text.lower()
        assert "BEN SAID" in text and "00/00/1955" in text


@pytest.mark.slow
async def test_existing_dmp_stops_with_nothing_to_create(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "casanova")
        await pilot.press("enter")
        await connect(pilot, app)
        assert "déjà un DMP" in screen_text(app)
        await pilot.press("f8")
        assert isinstance(app.screen, ConnectScreen)  # no way forward
        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert app.flow.patient is None


@pytest.mark.slow
async def test_online_access_warns_and_issues_a_secrets_sheet_never_stored(
    app_factory, settings, tmp_path
):
    started = time.time() - 1
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "legoff")
        await pilot.press("enter")
        await connect(pilot, app)
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen))
        await pilot.press("space", "f8")
        await wait_until(pilot, lambda: isinstance(app.screen, OnlineAccessScreen))
        await pilot.press("space", "tab")  # tick, then Tab to the email field
        assert "compte web sera créé" in screen_text(app)
        await pilot.press(*"pas-une-adresse", "f8")
        await pilot.pause()
        assert isinstance(app.screen, OnlineAccessScreen)
        assert "e-mail n'est pas valide" in screen_text(app)
        app.screen.query_one("#email").value = "gerard.legoff@exemple.fr"
        app.screen.query_one("#mobile").value = "06 12 34 56 78"
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        done = await create(pilot, app)
        assert done.has_secrets
        password = app.paper.secrets.initial_password
        receipt = pdf_text(done.receipt_path)
        assert password not in receipt
        # No file holds the password: not the data dir, not the temp dir, not the log.
        assert files_containing(password.encode(), settings.paths.data_dir, since=started) == []
        assert files_containing(password.encode(), Path(tempfile.gettempdir()), since=started) == []
        await pilot.press("f7")
        await wait_until(pilot, lambda: password in screen_text(app), what="secrets shown")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, DoneScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert app.paper.secrets is None and app.flow.result is None


@pytest.mark.slow
async def test_second_creation_for_the_same_patient_is_refused(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await create_for(pilot, app, "legoff")
        await pilot.press("enter")
        await pilot.press("f5")  # read the same card again
        await wait_until(pilot, lambda: isinstance(app.screen, IdentifyScreen))
        await pilot.press("enter")
        await connect(pilot, app)
        assert "déjà un DMP" in screen_text(app)


async def test_card_pulled_clears_the_patient_from_screen_and_memory(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "casanova")
        assert "CASANOVA-ORSINI" in screen_text(app)
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert app.flow.card is None and app.flow.patient is None
        assert "CASANOVA" not in screen_text(app)


async def test_wrong_pin_is_refused_and_can_be_retried(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "legoff")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen))
        await pilot.press(*"9999", "enter")
        await wait_until(pilot, lambda: "incorrect" in screen_text(app), what="wrong PIN")
        assert not app.session.authenticated
        await connect(pilot, app)
        assert app.session.authenticated


@pytest.mark.parametrize("key", ["F2"])
async def test_demo_card_inserted_from_the_keyboard(app_factory, key):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.creation.binding is not None)
        assert "DÉMONSTRATION" in screen_text(app)
        await pilot.press(key.lower())
        await pilot.press("enter")  # the first card in the picker
        await wait_until(pilot, lambda: isinstance(app.screen, IdentifyScreen))
        assert app.flow.card is not None


@pytest.mark.slow
async def test_printing_without_cups_says_so_in_french(app_factory, monkeypatch, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await create_for(pilot, app, "legoff", email="g.legoff@exemple.fr")
        monkeypatch.setenv("PATH", str(empty))
        await pilot.press("f6")
        await wait_until(
            pilot,
            lambda: notified(app, "impression"),
            what="printer error",
        )


@pytest.mark.parametrize("pulled_at", [1, 2, 3, 4])
async def test_card_pulled_during_read_leaves_no_patient_and_next_card_reads(
    app_factory, pulled_at
):
    from proclient.cardreader.emulator import VitaleEmulator

    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.creation.binding is not None)
        reader = app.wiring.patient_reader
        app.wiring.readers.insert(reader, VitaleEmulator.from_demo("durand", pull_at=pulled_at))
        await wait_until(pilot, lambda: "retirée" in screen_text(app), what="removal message")
        assert isinstance(app.screen, HomeScreen)
        assert app.flow.card is None and "DURAND" not in screen_text(app)
        app.wiring.readers.remove(reader)
        app.routes.cards.insert_demo_card("durand")
        await wait_until(pilot, lambda: isinstance(app.screen, IdentifyScreen))
        # The new screen's first frame may not be composed yet: wait for it, not a fixed time.
        await wait_until(pilot, lambda: "DURAND Hugo" in screen_text(app), what="identity")


@pytest.mark.slow
async def test_no_patient_data_reaches_the_log(app_factory, caplog):
    caplog.set_level("DEBUG")
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await create_for(pilot, app, "bensaid", email="k.bensaid@exemple.fr")
    for secret in (
        "155009935000780",
        "1 55 00 99 350 007 80",
        "BEN SAÏD",
        "Karim",
        "1234",
        "bensaid@",
    ):
        assert secret not in caplog.text


@pytest.mark.slow
async def test_answer_lost_after_the_service_committed_is_recovered_with_the_same_key(
    app_factory, settings
):
    """The workstation died after the service created the DMP but before the answer came
    back: the same request made again is sent with the key saved before the first sending,
    and the service replays its answer instead of refusing a second DMP."""

    from proclient.service.journal import IdempotencyJournal

    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "legoff")
        await pilot.press("enter")
        await connect(pilot, app)
        await through_consent_and_online(pilot, app, email="g.legoff@exemple.fr")
        # The first sending: its key is saved, the service commits, the answer is "lost".
        request = creation_request(app.flow)
        key = IdempotencyJournal(app.wiring.pending_dir).key_for(request)
        first = await app.creation.binding.client.submit(request, key)
        assert first.web.initial_password  # issued once, to the lost answer
        # The professional sends again (after a restart the flow would be walked again).
        done = await create(pilot, app)
        assert app.flow.result.dmp_id == first.dmp_id
        # The lost password never reached the patient: a new one was asked for, the sheet is
        # offered as after any creation (the service never hands the same password twice).
        assert done.has_secrets
        assert app.paper.secrets.login == first.web.login
        assert app.paper.secrets.initial_password != first.web.initial_password
        assert "F6 imprime la feuille de codes" in screen_text(app)
        assert "LE GOFF" in pdf_text(done.receipt_path)
        assert IdempotencyJournal(app.wiring.pending_dir).pending() == 0
