"""Home visits without network: the creation recorded by keyboard with the service cut, then
created once when it answers again; what the outbox shows, and quitting with entries left."""

from __future__ import annotations

import pytest

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
    if not (app.session.offline or app.session.authenticated):
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


@pytest.mark.slow
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
        assert "la plus ancienne : à l'instant" in _words(app)  # its age

        await pilot.press("f12")  # the network is back: the probe sees it, the entry leaves
        await wait_until(pilot, lambda: app.outbox.pending == 0, timeout=30, what="sent")
        await wait_until(pilot, lambda: notified(app, "1 DMP créé(s)"), what="said")
        (accuse,) = receipts.glob("accuse-*.pdf")
        from tests.tui_support import pdf_text

        text = " ".join(pdf_text(accuse).split())
        assert "Recueilli hors connexion le" in text
        assert "LE GOFF" in text
        # Once sent, the real accusé carries the service's signed code (the slip had none).
        from pypdf import PdfReader

        assert PdfReader(accuse).metadata["/ProclientStatement"].startswith("DMP1:")
        assert not list(app.outbox.outbox.directory.glob("*.entry"))
        await wait_until(
            pilot, lambda: "Créations enregistrées en attente" not in _words(app), what="home"
        )


@pytest.mark.slow
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


async def _open_outbox_and_sign_in(pilot, app):
    from proclient.screens.outbox import OutboxScreen

    await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
    await wait_until(pilot, lambda: app.outbox.pending > 0, what="count read")
    await pilot.press("f7")
    await wait_until(pilot, lambda: isinstance(app.screen, OutboxScreen), what="outbox screen")
    if not app.session.authenticated:
        await wait_until(
            pilot, lambda: "Code porteur de votre carte CPS" in _words(app), what="PIN asked"
        )
        await pilot.press(*"1234", "enter")


@pytest.mark.slow
async def test_a_dmp_created_meanwhile_keeps_the_entry_with_its_reason(app_factory):
    """CASANOVA-ORSINI has an active DMP on the demo service: recorded offline, her entry is
    held with DMPFound when the service answers, and the outbox screen says so."""
    app = app_factory(_cut)
    async with app.run_test(size=SIZE) as pilot:
        await record_offline(pilot, app, "casanova")
        await pilot.press("enter")
        await pilot.press("f12")  # the network is back
        await wait_until(pilot, lambda: notified(app, "retenue"), timeout=30, what="held")
        await _open_outbox_and_sign_in(pilot, app)
        await wait_until(pilot, lambda: "retenue — DMP déjà actif" in _words(app), what="listed")
        words = _words(app)
        assert "déjà un DMP actif" in words  # the reason in words, for the highlighted entry
        assert "CASANOVA" not in words  # the list names nobody
        await pilot.press("enter")  # the detail names the patient, to decide
        await wait_until(pilot, lambda: "CASANOVA" in _words(app), what="detail")
        assert app.outbox.pending == 1  # kept: nothing is dropped silently
        await pilot.press("delete")
        await wait_until(pilot, lambda: "Abandonner cette création" in _words(app), what="ask")
        await pilot.press("f8")
        await wait_until(pilot, lambda: app.outbox.pending == 0, what="given up")


def _pki_issued_days_ago(settings, days: int) -> None:
    """The demo CA and the demo pharmacist's certificate issued ``days`` ago (a consent signed
    then must have been signed with a chain valid then); the rest of the demo PKI is made as
    usual around them."""
    from datetime import UTC, datetime, timedelta

    from proclient.core.fileutil import write_private
    from proclient.server.demo import DEMO_PIN, DEMO_PROFESSIONALS, ensure_demo_pki
    from proclient.server.pki import create_ca, issue_professional

    target = settings.paths.demo_dir / "demo-pki"
    target.mkdir(parents=True, mode=0o700)
    then = datetime.now(UTC) - timedelta(days=days)
    ca = create_ca(now=then)
    write_private(target / "ca.key", ca.key_pem())
    write_private(target / "ca.pem", ca.certificate_pem)
    professional = DEMO_PROFESSIONALS[0]
    issued = issue_professional(ca, professional, now=then)
    write_private(target / f"{professional.id_nat}.key", issued.key_pem(DEMO_PIN))
    write_private(target / f"{professional.id_nat}.pem", issued.certificate_pem)
    ensure_demo_pki(target)  # the other demo professionals, by the same CA


async def test_a_stale_consent_is_held_and_said(app_factory, settings):
    """A consent recorded ten days ago (the service keeps seven by default): CONSENT_STALE."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    from proclient.core.domain import BirthDate, Consent, IdentitySource, Sex
    from proclient.core.identity import Document, HeldIdentity
    from proclient.outbox.entry import capture

    _pki_issued_days_ago(settings, 30)
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.creation.binding is not None, what="service ready")
        credential = await asyncio.to_thread(
            app.creation.binding.credentials.unlock, bytearray(b"1234")
        )
        held = HeldIdentity(
            "LE GOFF",
            "Gérard",
            BirthDate("19520314"),
            Sex.MALE,
            "152033523804587",
            IdentitySource.CARD,
            1,
        )
        old = capture(
            held,
            Document.PASSPORT,
            Consent(creation=True),
            None,
            credential,
            now=datetime.now(UTC) - timedelta(days=10),
        )
        app.outbox.outbox.put(old)
        app.routes.outbox.refresh()
        await _open_outbox_and_sign_in(pilot, app)
        await wait_until(
            pilot, lambda: "consentement trop ancien" in _words(app), timeout=30, what="held"
        )
        assert "il y a trop longtemps" in _words(app)
        assert app.outbox.pending == 1


@pytest.mark.slow
async def test_a_minor_without_own_nir_recorded_offline_then_created_by_traits(
    app_factory, settings
):
    """MOREAU Tom: the card does not carry his NIR (nor his sex). Offline, the traits form
    asks the sex (kept for INSi), the birth certificate is offered (a minor), his mother is
    the legal representative; the network back, INSi is asked by the traits and the DMP made
    with the representative and the capture time on the accusé."""
    from proclient.screens.connect import ConnectScreen
    from proclient.screens.recorded import RecordedScreen
    from tests.tui_support import minor_to_summary, pdf_text

    minor_documents = ("passport", "id_card", "residence_permit", "birth_certificate")
    app = app_factory(_cut)
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "moreau")
        await pilot.press("down", "enter")  # Tom, second on the card
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="connect")
        await pilot.press(*"1234", "enter")
        await wait_until(pilot, lambda: app.flow.offline, what="offline")
        await wait_until(pilot, lambda: "le sexe au moins" in _words(app), what="traits asked")
        assert not app.flow.offline_ready
        await pilot.press("M", "enter", "enter", "enter")  # sex, birth date (read), place
        await wait_until(pilot, lambda: app.flow.offline_ready, what="traits kept")
        await wait_until(pilot, lambda: "Acte de naissance" in _words(app), what="documents")
        await pilot.press(*(["down"] * minor_documents.index("birth_certificate")), "enter")
        await wait_until(pilot, lambda: app.flow.document is not None, what="document")
        assert app.flow.document.value == "birth_certificate"
        await minor_to_summary(pilot, app)
        assert "Représentant légal : MOREAU Julie" in _words(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RecordedScreen), what="recorded")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")

        await pilot.press("f12")
        await wait_until(pilot, lambda: app.outbox.pending == 0, timeout=30, what="sent")
        (accuse,) = settings.paths.receipts_dir.glob("accuse-*.pdf")
        text = " ".join(pdf_text(accuse).split())
        assert "TOM" in text and "MOREAU Julie" in text
        assert "Acte de naissance" in text and "Recueilli hors connexion le" in text


@pytest.mark.slow
async def test_a_card_pulled_during_an_offline_capture_resumes_offline(app_factory):
    """The card pulled by mistake at step 3, put back: the capture goes on offline, the
    professional still the card's holder (no PIN again), and it is recorded."""
    from proclient.screens.consent import ConsentScreen
    from proclient.screens.recorded import RecordedScreen
    from proclient.screens.resume import ResumeModal

    app = app_factory(_cut)
    async with app.run_test(size=SIZE) as pilot:
        await insert(pilot, app, "legoff")
        await pilot.press("enter", *"1234", "enter")
        await wait_until(pilot, lambda: app.flow.offline, what="offline")
        await wait_until(pilot, lambda: "ENREGISTRÉE" in _words(app), what="said")
        await pilot.press("enter", "f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="consent")
        await pilot.press("f3")  # pulled
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        assert "LE GOFF" not in screen_text(app)
        app.routes.cards.insert_demo_card("legoff")
        await wait_until(pilot, lambda: isinstance(app.screen, ResumeModal), what="resume?")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), what="back")
        assert app.flow.offline and app.flow.professional is not None
        await pilot.press("space", "f8", "f8", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RecordedScreen), what="recorded")
        assert app.outbox.pending == 1


@pytest.mark.slow
async def test_an_outbox_whose_key_is_gone_is_said_not_ignored(app_factory, settings):
    """The key file deleted (a reinstalled workstation): the entries cannot be read, and the
    professional is told so at start."""
    app = app_factory(_cut)
    async with app.run_test(size=SIZE) as pilot:
        await record_offline(pilot, app)
    (settings.paths.config_dir / "outbox.key").unlink()
    again = app_factory()
    async with again.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: notified(again, "clé de chiffrement"), what="key missing said"
        )
        assert len(list((settings.paths.demo_dir / "outbox").glob("*.entry"))) == 1  # kept


@pytest.mark.slow
async def test_insi_differing_from_the_card_holds_the_entry_until_the_professional_accepts(
    app_factory, settings
):
    """LEROY Nathalie on her card, FONTAINE for INSi (her birth name): recorded offline, the
    replay holds her entry (INSI_DIFFERENCES) rather than create under a name nobody checked;
    the detail shows the card's identity, F6 accepts INSi's and the DMP is made with it."""
    from tests.tui_support import pdf_text

    app = app_factory(_cut)
    async with app.run_test(size=SIZE) as pilot:
        await record_offline(pilot, app, "leroy")
        await pilot.press("enter")
        await pilot.press("f12")
        await wait_until(pilot, lambda: notified(app, "retenue"), timeout=30, what="held")
        assert not list(settings.paths.receipts_dir.glob("accuse-*.pdf"))
        await _open_outbox_and_sign_in(pilot, app)
        await wait_until(pilot, lambda: "identité INSi à vérifier" in _words(app), what="listed")
        assert "f6 Accepter l'INSi" in _words(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "LEROY" in _words(app), what="detail")
        await pilot.press("f6")
        await wait_until(pilot, lambda: app.outbox.pending == 0, timeout=30, what="created")
        (accuse,) = settings.paths.receipts_dir.glob("accuse-*.pdf")
        assert "FONTAINE" in pdf_text(accuse)


@pytest.mark.slow
async def test_a_closed_dmp_keeps_the_entry_with_its_reason(app_factory, settings):
    """BEN SAÏD's DMP is closed on the demo service: a creation recorded offline for him is
    not turned into a reactivation behind the professional's back; it stays, « DMP fermé »."""
    app = app_factory(_cut)
    async with app.run_test(size=SIZE) as pilot:
        await record_offline(pilot, app, "bensaid")
        await pilot.press("enter")
        await pilot.press("f12")
        await wait_until(pilot, lambda: notified(app, "retenue"), timeout=30, what="held")
        await _open_outbox_and_sign_in(pilot, app)
        await wait_until(pilot, lambda: "retenue — DMP fermé" in _words(app), what="closed")
        assert "proposez-lui sa réactivation" in _words(app)
        assert app.outbox.pending == 1
        assert not list(settings.paths.receipts_dir.glob("accuse-*.pdf"))


async def _to_summary_online(pilot, app) -> None:
    from tests.tui_support import connect, through_consent_and_online

    await insert(pilot, app, "legoff")
    await pilot.press("enter")
    await connect(pilot, app)
    await through_consent_and_online(pilot, app)


@pytest.mark.slow
async def test_the_network_known_gone_at_the_summary_says_so_at_once_and_f9_records(
    app_factory, settings
):
    """Signed in, INSi and the existence test done, the consent given: the network goes
    (the probe sees it) before Enter on the summary. Nothing is sent: the failure comes
    from one health check, not from the write's retries; F9 records the creation and it is
    created once when the network is back."""
    from proclient.screens.recorded import RecordedScreen

    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await _to_summary_online(pilot, app)
        await pilot.press("f12")  # the network goes; the probe checks at once
        await wait_until(
            pilot,
            lambda: app.creation.probe.state is Reachability.UNREACHABLE,
            what="probe",
        )
        await pilot.press("enter")
        await wait_until(pilot, lambda: "F9 enregistre la création" in _words(app), what="offered")
        assert "f9 Enregistrer" in _words(app)
        # Nothing was sent (no key waits in the journal): the failure came from the health
        # check, not from the write's retries.
        assert not list((settings.paths.data_dir / "pending").glob("*.key"))
        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(app.screen, RecordedScreen), what="recorded")
        assert not list((settings.paths.data_dir / "pending").glob("*.key"))
        await pilot.press("enter")
        await pilot.press("f12")  # back
        await wait_until(pilot, lambda: app.outbox.pending == 0, timeout=30, what="created")
        assert len(list(settings.paths.receipts_dir.glob("accuse-*.pdf"))) == 1


@pytest.mark.slow
@pytest.mark.real_budgets  # the write's own 20 s: the one TUI test that waits it out
async def test_the_network_gone_unnoticed_at_the_summary_records_under_the_live_key(
    app_factory, settings
):
    """The network goes without the probe knowing yet: the live creation is tried for its
    write budget, its key waits in the journal; F9 records the creation under that key (had
    the request reached the service, it would replay its answer: tests/service), and the
    outbox owns the key from then on."""
    from proclient.screens.recorded import RecordedScreen

    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await _to_summary_online(pilot, app)
        app.wiring.network.cut = True  # no F12: the probe does not know
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: "F9 enregistre la création" in _words(app), timeout=40, what="offered"
        )
        pending = settings.paths.data_dir / "pending"
        live_keys = [path.read_text().strip() for path in pending.glob("*.key")]
        assert len(live_keys) == 1  # the live request's key waits in the journal
        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(app.screen, RecordedScreen), what="recorded")
        assert not list(pending.glob("*.key"))  # the outbox owns it
        entry = app.outbox.get(app.outbox.summaries[0].id)
        assert entry.idempotency_key == live_keys[0]  # sent under the live request's key
        assert entry.capture.document.value == "passport"


@pytest.mark.slow
async def test_a_tampered_entry_is_refused_and_said_once_not_at_every_probe(app_factory, settings):
    """An entry changed on disk is never sent; it is said when the professional sends, and
    the background sends after each health check do not repeat it every 30 seconds."""
    import asyncio

    app = app_factory(_cut)
    async with app.run_test(size=SIZE) as pilot:
        await record_offline(pilot, app)
        await pilot.press("enter")
    (path,) = (settings.paths.demo_dir / "outbox").glob("*.entry")
    raw = bytearray(path.read_bytes())
    at = raw.index(b'"ct":"') + 20
    raw[at] = ord("A") if raw[at] != ord("A") else ord("B")
    path.write_bytes(bytes(raw))

    again = app_factory()
    async with again.run_test(size=SIZE) as pilot:
        await _open_outbox_and_sign_in(pilot, again)
        await wait_until(pilot, lambda: "altérée" in _words(again), what="listed as altered")
        await wait_until(pilot, lambda: notified(again, "modifiée(s) sur le disque"), what="said")
        for _ in range(3):  # what each health check does while the service answers
            again.routes.outbox.send()
            await asyncio.sleep(0.3)
            await pilot.pause()
        said = [n for n in again.notices if "modifiée(s) sur le disque" in n]
        assert len(said) == 1
        assert path.exists()  # kept for the professional to see, never sent
        assert not list(settings.paths.receipts_dir.glob("accuse-*.pdf"))
