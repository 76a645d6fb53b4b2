"""e-CPS in the TUI, on the demo's real parts: the embedded service signs the professional in
through the Pro Santé Connect stand-in, which runs as a real HTTPS server on loopback; the
demo's phone keys approve or refuse on the « e-CPS app ».

The nurse (ROUX Julien, RPPS 99700031216) signs in by phone while the demo CPS in the reader
is the pharmacist's: the accusé must name the nurse, as PSC's user-info gives her."""

from __future__ import annotations

import pytest

from proclient.core.flow import Step
from proclient.messages import JobFailed
from proclient.screens.connect import ConnectScreen
from proclient.screens.done import DoneScreen
from proclient.screens.ecps import EcpsScreen
from proclient.screens.lock import LockScreen
from tests.conftest import TEST_BUDGETS
from tests.tui_support import (
    SIZE,
    choose_document,
    create,
    insert,
    pdf_text,
    screen_text,
    through_consent_and_online,
    wait_until,
)

NURSE_RPPS = "99700031216"
NURSE = "899700031216"


def fast_polls(wiring) -> None:
    wiring.ecps_poll_pause = 0.05


def standin(app):
    return app.creation.binding.phone._standin


async def at_step2(pilot, app) -> None:
    await insert(pilot, app, "legoff")
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="step 2")


async def open_ecps(pilot, app) -> None:
    """F2 at step 2: the e-CPS screen, its national id field emptied."""
    await pilot.press("f2")
    await wait_until(pilot, lambda: isinstance(app.screen, EcpsScreen), what="e-CPS screen")
    app.screen.query_one("#national-id").value = ""


async def ecps_to_phone(pilot, app, typed: str = NURSE_RPPS) -> None:
    """F2 at step 2, the national id typed, Enter: the phone is asked."""
    await open_ecps(pilot, app)
    await pilot.press(*typed, "enter")
    await wait_until(
        pilot,
        lambda: standin(app).pending(NURSE) and "Temps restant" in screen_text(app),
        what="the phone asked",
    )


async def test_a_nurse_signs_in_by_phone_and_creates_a_dmp(app_factory, tmp_path):
    app = app_factory(fast_polls)
    async with app.run_test(size=SIZE) as pilot:
        await at_step2(pilot, app)
        await ecps_to_phone(pilot, app)
        assert "Validez la connexion dans l'application e-CPS" in screen_text(app)
        await pilot.press("f6")  # the demo's phone: approve
        await wait_until(pilot, lambda: app.flow.dmp_state is not None, what="status")
        assert app.session.card_less and app.session.credential is None
        assert app.flow.professional.id_nat == NURSE
        await choose_document(pilot, app, 0)
        await through_consent_and_online(pilot, app)
        done = await create(pilot, app)
        assert isinstance(done, DoneScreen)
        receipt = pdf_text(done.receipt_path)
        assert "ROUX" in receipt and "MARTIN" not in receipt
        # no card signed in: the accusé is unsigned and says why (never signed by the CPS
        # in the reader, which is the pharmacist's)
        assert "non signé électroniquement : le professionnel s'est connecté par e-CPS" in (
            " ".join(receipt.split())
        )
        assert b"/ByteRange" not in done.receipt_path.read_bytes()
        # the national id is remembered for the next time, in a private file
        remembered = app.wiring.national_id_file
        assert remembered.read_text().strip() == NURSE


async def test_refused_on_the_phone_says_so_and_enter_asks_again(app_factory):
    app = app_factory(fast_polls)
    async with app.run_test(size=SIZE) as pilot:
        await at_step2(pilot, app)
        await ecps_to_phone(pilot, app)
        await pilot.press("f7")  # the demo's phone: refuse
        await wait_until(
            pilot, lambda: "refusée dans l'application" in screen_text(app), what="refused"
        )
        assert isinstance(app.screen, EcpsScreen) and not app.session.authenticated
        await pilot.press("enter")  # the number is still there: ask again
        await wait_until(pilot, lambda: standin(app).pending(NURSE), what="asked again")
        await pilot.press("f6")
        await wait_until(pilot, lambda: app.flow.dmp_state is not None, what="status")
        assert app.session.card_less


async def test_esc_cancels_and_the_service_stops_asking_psc(app_factory):
    app = app_factory(fast_polls)
    async with app.run_test(size=SIZE) as pilot:
        await at_step2(pilot, app)
        await ecps_to_phone(pilot, app)
        [auth_req_id] = standin(app).pending(NURSE)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="back")
        await pilot.pause(0.3)
        polls = standin(app).token_polls[auth_req_id]
        standin(app).approve(NURSE)  # too late: nobody asks for the token any more
        # the service asks PSC once an interval: wait two, long enough for a poll to come
        await pilot.pause(2 * TEST_BUDGETS["psc_interval"] + 0.2)
        assert standin(app).token_polls[auth_req_id] == polls
        assert not app.session.authenticated
        assert app.flow.step is Step.CONNECT


async def test_unknown_number_and_malformed_number_each_have_their_sentence(app_factory):
    app = app_factory(fast_polls)
    async with app.run_test(size=SIZE) as pilot:
        await at_step2(pilot, app)
        await open_ecps(pilot, app)
        await pilot.press(*"12345", "enter")
        await wait_until(pilot, lambda: "Numéro non reconnu" in screen_text(app), what="shape")
        app.screen.query_one("#national-id").value = ""
        await pilot.press(*"10000000009", "enter")  # Luhn-valid, not a professional of PSC
        await wait_until(
            pilot, lambda: "Pro Santé Connect" in screen_text(app), what="unknown professional"
        )
        assert not app.session.authenticated


async def test_an_ended_e_cps_session_locks_and_the_phone_unlocks(app_factory):
    app = app_factory(fast_polls)
    async with app.run_test(size=SIZE) as pilot:
        await at_step2(pilot, app)
        await ecps_to_phone(pilot, app)
        await pilot.press("f6")
        await wait_until(pilot, lambda: app.flow.dmp_state is not None, what="status")
        # the CPS in the reader pulled: an e-CPS session does not hang on it
        await pilot.press("f4")
        await pilot.pause(0.2)
        assert app.session.authenticated and app.flow.step is Step.CONNECT
        # the service ended the session (30 min idle, 4 h, PSC's session over)
        app.routes.session.refused(JobFailed("status", "AUTH_SESSION_EXPIRED", "fin"))
        await wait_until(pilot, lambda: isinstance(app.screen, LockScreen), what="locked")
        assert "F2" in screen_text(app)
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, EcpsScreen), what="e-CPS")
        assert app.screen.query_one("#national-id").value == NURSE  # remembered
        await pilot.press("enter")
        await wait_until(pilot, lambda: standin(app).pending(NURSE), what="asked")
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="unlocked")
        assert app.session.card_less and app.flow.step is Step.CONNECT


@pytest.mark.parametrize("language", ["en"])
async def test_the_e_cps_screen_in_english(app_factory, language):
    from proclient.core.i18n import use_language

    use_language(language)
    try:
        app = app_factory(fast_polls)
        async with app.run_test(size=SIZE) as pilot:
            await at_step2(pilot, app)
            await open_ecps(pilot, app)
            await pilot.press(*NURSE_RPPS, "enter")
            await wait_until(pilot, lambda: standin(app).pending(NURSE), what="asked")
            text = screen_text(app)
            assert "e-CPS app" in text and "Validez" not in text
            await pilot.press("f6")
            await wait_until(pilot, lambda: app.flow.dmp_state is not None, what="status")
    finally:
        use_language("fr")
