"""Home visits without network: the creation recorded by keyboard with the service cut, then
created once when it answers again; what the outbox shows, and quitting with entries left."""

from __future__ import annotations

from proclient.controllers.creation import Reachability
from proclient.screens.home import HomeScreen
from tests.tui_support import SIZE, insert, notified, screen_text, wait_until


def _cut(wiring):
    wiring.network.cut = True  # what `proclient demo --offline` does


def _words(app) -> str:
    """The screen's words on one line (a modal's borders left out)."""
    text = screen_text(app)
    for border in "│┃║▌▐█":
        text = text.replace(border, " ")
    return " ".join(text.split())


async def record_offline(pilot, app, key: str = "legoff", document: int = 0) -> None:
    """From the card to « Création enregistrée » with the service unreachable."""
    from proclient.screens.connect import ConnectScreen
    from proclient.screens.consent import ConsentScreen
    from proclient.screens.online_access import OnlineAccessScreen
    from proclient.screens.recorded import RecordedScreen
    from proclient.screens.summary import SummaryScreen

    await insert(pilot, app, key)
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="connect")
    if not (app.session.offline or app.authenticated):
        await pilot.press(*"1234", "enter")
    await wait_until(pilot, lambda: app.flow.offline, what="offline capture")
    await wait_until(pilot, lambda: "ENREGISTRÉE" in _words(app), what="said on screen")
    await pilot.press(*(["down"] * document), "enter")
    await wait_until(pilot, lambda: app.flow.document is not None, what="document")
    await pilot.press("f8")
    await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="consent")
    await pilot.press("space", "f8")
    await wait_until(pilot, lambda: isinstance(app.screen, OnlineAccessScreen), what="online")
    assert "ne peut pas être demandé hors connexion" in _words(app)
    await pilot.press("f8")
    await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen), what="summary")
    words = _words(app)
    assert "PAS ENCORE FAITE" in words and "⏎ Enregistrer" in words
    assert "Créer le DMP" not in words
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, RecordedScreen), what="recorded")


async def test_offline_capture_by_keyboard_then_created_once_when_the_service_is_back(
    app_factory, settings
):
    app = app_factory(_cut)
    receipts = settings.paths.receipts_dir
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: app.creation.probe.state is Reachability.UNREACHABLE, what="cut"
        )
        await record_offline(pilot, app)
        words = _words(app)
        assert "le DMP n'est PAS encore créé" in words
        assert "Demande de création du DMP enregistrée" in words  # the slip's preview
        assert "LE GOFF" in words
        assert app.outbox.pending == 1
        assert not list(receipts.glob("accuse-*.pdf"))  # nothing created, no accusé

        await pilot.press("enter")  # next patient
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        await wait_until(
            pilot, lambda: "Créations enregistrées en attente : 1" in _words(app), what="count"
        )

        await pilot.press("f12")  # the network is back: the probe sees it, the entry leaves
        await wait_until(pilot, lambda: app.outbox.pending == 0, timeout=30, what="sent")
        await wait_until(pilot, lambda: notified(app, "1 DMP créé(s)"), what="said")
        (accuse,) = receipts.glob("accuse-*.pdf")
        from tests.tui_support import pdf_text

        text = " ".join(pdf_text(accuse).split())
        assert "Recueilli hors connexion le" in text
        assert "LE GOFF" in text
        assert not list(app.outbox.outbox.directory.glob("*.entry"))
        await wait_until(
            pilot, lambda: "Créations enregistrées en attente" not in _words(app), what="home"
        )


async def test_quitting_with_a_recorded_creation_asks_and_says_when_it_leaves(app_factory):
    from proclient.screens.outbox import QuitModal

    app = app_factory(_cut)
    async with app.run_test(size=SIZE) as pilot:
        await record_offline(pilot, app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, QuitModal), what="asked")
        assert "seront envoyées au prochain démarrage" in _words(app)
        await pilot.press("escape")  # stays
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="stayed")
        assert app.is_running
        await pilot.press("f10")
        await wait_until(pilot, lambda: isinstance(app.screen, QuitModal), what="asked again")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not app.is_running, what="quit")
