"""The service's state told honestly: reachable, unreachable since HH:MM, never « prêt » for a
service that does not answer; the demo cuts and restores its embedded service (F12,
``proclient demo --offline``) as an unreachable network would."""

from __future__ import annotations

import pytest

from proclient.controllers.creation import Reachability
from proclient.screens.home import HomeScreen
from tests.tui_support import SIZE, screen_text, wait_until


def _state(app) -> Reachability:
    return app.creation.probe.state


async def test_demo_cut_makes_the_service_unreachable_and_restore_brings_it_back(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: _state(app) is Reachability.REACHABLE, what="service reachable"
        )
        await wait_until(pilot, lambda: "joignable" in screen_text(app), what="shown")
        assert "f12 Réseau" in screen_text(app)  # the key is in the footer

        await pilot.press("f12")
        await wait_until(pilot, lambda: _state(app) is Reachability.UNREACHABLE, what="service cut")
        await wait_until(pilot, lambda: "injoignable depuis" in screen_text(app), what="shown")
        text = screen_text(app)
        assert "prêt" not in text.split("Service DMP", 1)[1].splitlines()[0]

        await pilot.press("f12")
        await wait_until(
            pilot, lambda: _state(app) is Reachability.REACHABLE, what="service restored"
        )
        await wait_until(
            pilot, lambda: "injoignable depuis" not in screen_text(app), what="restored on screen"
        )


async def test_demo_offline_starts_with_the_service_unreachable(app_factory):
    def offline(wiring):
        wiring.network.cut = True  # what `proclient demo --offline` does

    app = app_factory(offline)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: _state(app) is Reachability.UNREACHABLE, what="service unreachable"
        )
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        await wait_until(pilot, lambda: "injoignable depuis" in screen_text(app), what="shown")


@pytest.mark.slow
async def test_login_with_the_network_cut_records_offline_and_f5_goes_online_once_restored(
    app_factory,
):
    """The network goes as the professional types the code: the card checks the PIN itself,
    the step says the creation will be recorded; the network back, F5 signs in to the
    service (no PIN again) and asks INSi: the live flow goes on."""
    from proclient.screens.connect import ConnectScreen
    from tests.tui_support import insert

    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "legoff")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="connect")
        await pilot.press("f12")  # the network goes as the professional types the code
        await pilot.press(*"1234", "enter")
        await wait_until(pilot, lambda: app.flow.offline, what="offline capture")
        words = " ".join(screen_text(app).split())
        assert "ENREGISTRÉE sur ce poste" in words
        assert not app.session.authenticated and app.session.offline
        assert app.flow.professional is not None  # the card's holder
        await wait_until(pilot, lambda: _state(app) is Reachability.UNREACHABLE, what="state")
        assert "injoignable depuis" in screen_text(app)  # in the step header

        await pilot.press("f12")
        await wait_until(pilot, lambda: app.session.authenticated, what="signed in to the service")
        await pilot.press("f5")
        await wait_until(pilot, lambda: app.flow.dmp_state is not None, what="online again")
        assert not app.flow.offline
        assert app.flow.patient is not None  # INSi answered


@pytest.mark.slow
async def test_one_truth_when_the_network_comes_back_on_step_2_and_on_the_recorded_screen(
    app_factory,
):
    """Issue 21 point 5: the network back (F12), step 2 recording offline stops saying
    « injoignable » in its body while the header says « joignable »; the recorded screen
    says the creation was made once the outbox has sent it."""
    from proclient.screens.connect import ConnectScreen
    from proclient.screens.recorded import RecordedScreen
    from tests.tui.test_offline_capture import record_offline
    from tests.tui_support import insert

    def offline(wiring):
        wiring.network.cut = True

    app = app_factory(offline)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: _state(app) is Reachability.UNREACHABLE, what="cut")
        await insert(pilot, app, "legoff")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="connect")
        await pilot.press(*"1234", "enter")
        await wait_until(pilot, lambda: "ENREGISTRÉE sur ce poste" in screen_text(app))
        await pilot.press("f12")
        await wait_until(pilot, lambda: "répond de nouveau" in screen_text(app), what="body")
        text = screen_text(app)
        assert "Service DMP : joignable" in text and "injoignable" not in text
        await pilot.press("f12")  # gone again: the body follows
        await wait_until(pilot, lambda: "Service DMP injoignable" in screen_text(app))
        await pilot.press("escape", "escape")

    again = app_factory(offline)
    async with again.run_test(size=SIZE) as pilot:
        await record_offline(pilot, again)
        assert isinstance(again.screen, RecordedScreen)
        assert "PAS encore créé" in screen_text(again)
        await pilot.press("f12")
        await wait_until(pilot, lambda: "le DMP est créé" in screen_text(again), what="said sent")
        text = screen_text(again)
        assert "PAS encore créé" not in text and "Service DMP : joignable" in text


@pytest.mark.slow
async def test_esc_stops_a_wait_for_the_service_and_f5_asks_again(app_factory):
    """Issue 21 point 6: the network gone with a session open, step 2 for the next patient
    shows how long it has waited and Esc stops the wait; nothing typed is lost, F5 asks
    again once the network is back."""
    from proclient.screens.connect import ConnectScreen
    from tests.tui_support import connect, insert

    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "legoff")
        await pilot.press("enter")
        await connect(pilot, app)
        await pilot.press("f12")  # the network goes
        await wait_until(pilot, lambda: _state(app) is Reachability.UNREACHABLE, what="cut")
        await pilot.press("escape")  # back to step 1…
        await wait_until(pilot, lambda: not isinstance(app.screen, ConnectScreen), what="step 1")
        await pilot.press("enter")  # …and step 2 again: the service is asked again
        await wait_until(pilot, lambda: "Échap arrête l'attente" in screen_text(app))
        await pilot.press("escape")
        await wait_until(pilot, lambda: "Attente arrêtée" in screen_text(app), what="stopped")
        assert isinstance(app.screen, ConnectScreen) and app.flow.step.name == "CONNECT"
        text = screen_text(app)
        assert "Échap arrête l'attente" not in text and "création possible" not in text
        await pilot.press("f12")  # the network is back
        await wait_until(pilot, lambda: _state(app) is Reachability.REACHABLE, what="back")
        await pilot.press("f5")
        await wait_until(pilot, lambda: "création possible" in screen_text(app), what="asked")


@pytest.mark.real_budgets
async def test_a_network_lost_during_the_creation_says_so_and_makes_one_dmp(app_factory, settings):
    """The network dies after the last look at the service (a host killed, a failover): the
    creation goes again with its Idempotency-Key, the wait line says « nouvelle
    tentative… », and once the service answers again one DMP is created."""
    import sqlite3

    from proclient.screens.done import DoneScreen
    from tests.tui_support import connect, insert, through_consent_and_online

    wirings = []
    app = app_factory(adjust=wirings.append)
    database = settings.paths.demo_dir / "dmp-service.sqlite3"

    def dmps() -> int:
        with sqlite3.connect(database) as conn:
            return conn.execute("SELECT COUNT(*) FROM dmps").fetchone()[0]

    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "legoff")
        await pilot.press("enter")
        await connect(pilot, app)
        await through_consent_and_online(pilot, app)
        before = dmps()
        wirings[0].network.cut = True  # not F12: the workstation has not seen it go
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: "nouvelle tentative" in screen_text(app), what="the retry said"
        )
        assert _state(app) is Reachability.REACHABLE  # told by the retry, not by a probe
        wirings[0].network.cut = False
        await wait_until(pilot, lambda: isinstance(app.screen, DoneScreen), what="created")
    assert dmps() == before + 1
