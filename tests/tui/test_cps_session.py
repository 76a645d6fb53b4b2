"""The professional's CPS in the app: the PIN screen, the card pulled, the idle lock.

The demo's CPS is a SoftHSM2 token (a real PKCS#11 module) provisioned with the demo
pharmacist's key; the PIN screen tests need it and skip (or fail under
PROCLIENT_REQUIRE_REAL=1) without it. The idle clock is the test's: no sleeping.
"""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from proclient.core.flow import Step
from proclient.credentials.pin import CKF_USER_PIN_FINAL_TRY, CKF_USER_PIN_LOCKED
from proclient.credentials.pkcs11 import Pkcs11Credential
from proclient.credentials.sources import Pkcs11CredentialSource
from proclient.screens.connect import ConnectScreen, PinField
from proclient.screens.consent import ConsentScreen
from proclient.screens.done import DoneScreen
from proclient.screens.home import HomeScreen
from proclient.screens.identify import IdentifyScreen
from proclient.screens.lock import LockScreen
from proclient.screens.online_access import OnlineAccessScreen
from proclient.screens.summary import SummaryScreen
from tests.credentials.conftest import card_states, require_softhsm
from tests.tui_support import SIZE, choose_document, screen_text, wait_until


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += minutes * 60


def adjusted(clock=None, states=None):
    """Wiring changes: the test's clock; a double at the PKCS#11 boundary (see card_states)."""

    def adjust(wiring):
        if clock is not None:
            wiring.clock = clock
        if states is not None:
            open_service = wiring.open_service

            def with_states():
                binding = open_service()
                real = binding.credentials
                assert isinstance(real, Pkcs11CredentialSource)
                binding.credentials = Pkcs11CredentialSource(
                    real.token.module_path,
                    real.label,
                    real.hint,
                    token_label=real.token.token_label,
                    environment=real.token.environment,
                    present=real.present,
                    boundary=states,
                )
                return binding

            wiring.open_service = with_states

    return adjust


async def to_connect(pilot, app, card: str = "legoff") -> ConnectScreen:
    await wait_until(pilot, lambda: app.creation.binding is not None, what="service ready")
    app.routes.cards.insert_demo_card(card)
    await wait_until(pilot, lambda: isinstance(app.screen, IdentifyScreen), what="identify")
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="connect")
    return app.screen


async def type_code(pilot, app, code: str) -> None:
    await pilot.press(*code, "enter")


async def signed_in(pilot, app) -> None:
    """A card read, the right PIN typed, the existence test answered."""
    await to_connect(pilot, app)
    await type_code(pilot, app, "1234")
    await connected(pilot, app)


async def connected(pilot, app) -> None:
    """INSi and the existence test answered; the passport seen."""
    await wait_until(pilot, lambda: app.flow.dmp_state is not None, what="status")
    if app.flow.identity.status is None:
        await choose_document(pilot, app, 0)


async def test_right_code_unlocks_the_cps_token_and_connects(app_factory):
    require_softhsm()
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_connect(pilot, app)
        assert isinstance(app.creation.binding.credentials, Pkcs11CredentialSource)
        await wait_until(pilot, lambda: "Claire MARTIN" in screen_text(app), what="holder")
        await type_code(pilot, app, "1234")
        await connected(pilot, app)
        assert app.session.authenticated and isinstance(app.session.credential, Pkcs11Credential)
        assert app.flow.professional.id_nat == "899700024450"
        assert "Aucun DMP" in screen_text(app)
        assert screen.query_one("#pin", PinField).length == 0


@pytest.mark.slow
async def test_wrong_code_says_two_tries_left_and_is_not_tried_again(app_factory):
    require_softhsm()
    states = card_states()
    app = app_factory(adjusted(states=states))
    async with app.run_test(size=SIZE) as pilot:
        await to_connect(pilot, app)
        await type_code(pilot, app, "9999")
        await wait_until(
            pilot, lambda: "Code porteur incorrect" in screen_text(app), what="refusal"
        )
        await pilot.pause(0.3)
        assert states.logins and len(states.logins) == 1  # one Enter, one attempt
        assert "il reste 2 essais" in screen_text(app)
        assert not app.session.authenticated and app.flow.dmp_state is None
        assert app.screen.query_one("#pin", PinField).has_focus
        await type_code(pilot, app, "1234")
        await connected(pilot, app)
        assert len(states.logins) == 2


async def test_last_try_is_shown_before_the_code_is_typed(app_factory):
    require_softhsm()
    app = app_factory(adjusted(states=card_states(CKF_USER_PIN_FINAL_TRY)))
    async with app.run_test(size=SIZE) as pilot:
        await to_connect(pilot, app)
        await wait_until(pilot, lambda: "dernier essai" in screen_text(app), what="warning")
        await type_code(pilot, app, "9999")
        await wait_until(pilot, lambda: "Vérifiez le code avant" in screen_text(app))
        assert not app.session.authenticated


async def test_blocked_card_says_how_to_unblock_and_takes_no_code(app_factory):
    require_softhsm()
    states = card_states(CKF_USER_PIN_LOCKED)
    app = app_factory(adjusted(states=states))
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_connect(pilot, app)
        await wait_until(pilot, lambda: "Carte CPS bloquée" in screen_text(app), what="locked")
        assert "CPS en ligne" in screen_text(app) and "PUK" in screen_text(app)
        assert screen.query_one("#pin", PinField).disabled
        await pilot.press(*"1234", "enter")
        await pilot.pause(0.3)
        assert states.logins == [] and not app.session.authenticated


@pytest.mark.slow
async def test_demo_cps_blocks_after_three_wrong_codes_and_f7_unblocks_it(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_connect(pilot, app)
        assert "F7" not in screen_text(app)  # nothing to unblock
        await type_code(pilot, app, "9999")
        await wait_until(pilot, lambda: "il reste 2 essais" in screen_text(app), what="2 left")
        await type_code(pilot, app, "9999")
        await wait_until(pilot, lambda: "dernier essai" in screen_text(app), what="last try")
        await type_code(pilot, app, "9999")
        await wait_until(pilot, lambda: "Carte CPS bloquée" in screen_text(app), what="blocked")
        field = screen.query_one("#pin", PinField)
        await wait_until(pilot, lambda: field.disabled, what="field disabled")
        assert "Débloquer (démo)" in screen_text(app)
        await pilot.press(*"1234", "enter")
        await pilot.pause(0.3)
        assert not app.session.authenticated  # a blocked card takes no code, even the right one
        await pilot.press("f7")
        await wait_until(pilot, lambda: not field.disabled, what="unblocked")
        assert "Carte CPS bloquée" not in screen_text(app)
        assert "Débloquer (démo)" not in screen_text(app)
        assert field.has_focus
        await type_code(pilot, app, "1234")
        await connected(pilot, app)
        assert app.session.authenticated


async def test_a_short_code_is_refused_without_spending_a_try(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await to_connect(pilot, app)
        await type_code(pilot, app, "123")
        await wait_until(pilot, lambda: "aucun essai" in screen_text(app), what="refusal")
        assert "Le code porteur compte de 4 à" in screen_text(app)
        assert "il reste" not in screen_text(app) and "Code porteur incorrect" not in screen_text(
            app
        )
        assert not app.session.authenticated
        await type_code(pilot, app, "1234")
        await connected(pilot, app)


@pytest.mark.slow
async def test_pulling_the_cps_clears_the_patient_and_closes_the_session(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot, app)
        credential = app.session.credential
        await pilot.press("f4")  # the demo's hand pulls the CPS
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        assert app.flow.step is Step.HOME and app.flow.patient is None
        assert not app.session.authenticated and app.flow.professional is None
        assert not app.creation.binding.client.connected
        assert "LE GOFF" not in screen_text(app)
        if isinstance(credential, Pkcs11Credential):
            await wait_until(pilot, lambda: credential.closed, what="card logged out")
        # Without the CPS, the code opens nothing.
        app.routes.cards.insert_demo_card("legoff")
        await wait_until(pilot, lambda: isinstance(app.screen, IdentifyScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen))
        await type_code(pilot, app, "1234")
        await wait_until(pilot, lambda: "Aucune carte CPS" in screen_text(app), what="absent")
        assert not app.session.authenticated


@pytest.mark.slow
async def test_idle_time_locks_the_screen_and_the_code_unlocks_it(app_factory):
    clock = FakeClock()
    app = app_factory(adjusted(clock=clock))
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot, app)
        connect_screen = app.screen
        clock.advance(4.9)
        app.routes.session.check_idle_lock()
        assert not app.session.locked  # five minutes by default: not yet
        clock.advance(0.2)
        app.routes.session.check_idle_lock()
        await wait_until(pilot, lambda: "Session verrouillée" in screen_text(app), what="lock")
        assert isinstance(app.screen, LockScreen) and "LE GOFF" not in screen_text(app)
        assert not app.session.authenticated and not app.creation.binding.client.connected
        await pilot.press("escape", "f8")
        assert isinstance(app.screen, LockScreen)  # no way round the code
        await type_code(pilot, app, "0000")
        await wait_until(pilot, lambda: "Code porteur incorrect" in screen_text(app))
        assert isinstance(app.screen, LockScreen) and app.session.locked
        await type_code(pilot, app, "1234")
        await wait_until(pilot, lambda: app.screen is connect_screen, what="unlocked")
        assert (
            app.session.authenticated
            and app.creation.binding.client.connected
            and not app.session.locked
        )
        assert app.flow.held.last_name == "LE GOFF"
        assert app.flow.professional.id_nat == "899700024450"
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="consent")


async def test_key_presses_keep_the_session_open(app_factory):
    clock = FakeClock()
    app = app_factory(adjusted(clock=clock))
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot, app)
        clock.advance(4)
        await pilot.press("tab")
        clock.advance(4)
        app.routes.session.check_idle_lock()
        assert not app.session.locked
        clock.advance(1.5)
        app.routes.session.check_idle_lock()
        assert app.session.locked


async def test_idle_home_screen_without_session_does_not_lock(app_factory):
    clock = FakeClock()
    app = app_factory(adjusted(clock=clock))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.creation.binding is not None, what="service ready")
        clock.advance(60)
        app.routes.session.check_idle_lock()
        assert not app.session.locked and isinstance(app.screen, HomeScreen)


async def test_pulling_the_cps_on_the_lock_screen_ends_the_session(app_factory):
    clock = FakeClock()
    app = app_factory(adjusted(clock=clock))
    async with app.run_test(size=SIZE) as pilot:
        await to_connect(pilot, app)
        clock.advance(10)
        app.routes.session.check_idle_lock()  # a patient on screen, no session yet: locked all the same
        await wait_until(pilot, lambda: isinstance(app.screen, LockScreen), what="lock")
        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        assert not app.session.locked and app.flow.patient is None


@pytest.mark.slow
async def test_creation_end_to_end_authenticated_by_the_softhsm_cps(app_factory):
    require_softhsm()
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot, app)
        assert isinstance(app.creation.binding.client._credential, Pkcs11Credential)
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="consent")
        await pilot.press("space", "f8")
        await wait_until(pilot, lambda: isinstance(app.screen, OnlineAccessScreen))
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DoneScreen), what="done")
        reader = PdfReader(io.BytesIO(app.screen.receipt_path.read_bytes()))
        text = "\n".join(page.extract_text() for page in reader.pages)
        assert "LE GOFF" in text and "MARTIN" in text


@pytest.mark.slow
async def test_a_card_read_while_locked_stays_behind_the_lock(app_factory):
    clock = FakeClock()
    app = app_factory(adjusted(clock=clock))
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot, app)
        clock.advance(6)
        app.routes.session.check_idle_lock()
        await wait_until(pilot, lambda: "Session verrouillée" in screen_text(app), what="lock")
        app.routes.cards.insert_demo_card(
            "casanova"
        )  # someone swaps the Vitale card at the counter
        await wait_until(
            pilot,
            lambda: app.flow.held is not None and app.flow.held.last_name == "CASANOVA-ORSINI",
            what="read",
        )
        await pilot.pause(0.2)
        assert isinstance(app.screen, LockScreen)
        assert "CASANOVA" not in screen_text(app)
        await type_code(pilot, app, "1234")
        await wait_until(pilot, lambda: isinstance(app.screen, IdentifyScreen), what="unlocked")
        assert not app.session.locked


@pytest.mark.slow
async def test_demo_cps_blocked_while_locked_is_unblocked_by_f7_then_unlocks(app_factory):
    clock = FakeClock()
    app = app_factory(adjusted(clock=clock))
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot, app)
        connect_screen = app.screen
        clock.advance(6)
        app.routes.session.check_idle_lock()
        await wait_until(pilot, lambda: isinstance(app.screen, LockScreen), what="lock")
        assert "Débloquer (démo)" not in screen_text(app)  # nothing to unblock yet
        for left in ("il reste 2 essais", "dernier essai", "Carte CPS bloquée"):
            await type_code(pilot, app, "9999")
            await wait_until(pilot, lambda left=left: left in screen_text(app), what=left)
        assert "Débloquer (démo)" in screen_text(app)
        await type_code(pilot, app, "1234")
        await pilot.pause(0.3)
        assert (
            isinstance(app.screen, LockScreen) and app.session.locked
        )  # blocked: no code, not even right
        await pilot.press("f7")
        await wait_until(
            pilot, lambda: "Carte CPS bloquée" not in screen_text(app), what="unblocked"
        )
        assert "Débloquer (démo)" not in screen_text(app)
        await type_code(pilot, app, "1234")
        await wait_until(pilot, lambda: app.screen is connect_screen, what="unlocked")
        assert app.session.authenticated and not app.session.locked
