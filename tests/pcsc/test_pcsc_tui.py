"""The application on the real stack: pyscard → pcscd → vpcd → virtual cards, driven by a pilot."""

from __future__ import annotations

import pytest

from proclient.cardreader.emulator import VITALE1_ATR, VitaleEmulator
from proclient.screens.connect import ConnectScreen
from proclient.screens.home import HomeScreen
from proclient.screens.identify import IdentifyScreen
from tests.pcsc.conftest import PATIENT_READER, wait_present
from tests.tui_support import screen_text, wait_until

SIZE = (100, 30)


async def test_insertion_drives_identify_and_removal_clears_the_patient(pcsc_app, slots):
    app = pcsc_app
    async with app.run_test(size=SIZE) as pilot:
        bridge = slots.insert(VitaleEmulator.from_demo("durand"), settle=False)
        await wait_until(pilot, lambda: isinstance(app.screen, IdentifyScreen), what="identify")
        await wait_until(pilot, lambda: "DURAND Hugo" in screen_text(app), what="beneficiaries")
        await pilot.press("down", "enter")  # Léa, the second beneficiary
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="connect")
        assert app.flow.held.first_name == "Léa"
        bridge.remove()
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        await wait_until(pilot, lambda: "pas de carte" in screen_text(app), what="reader state")
        assert app.flow.patient is None and "DURAND" not in screen_text(app)


@pytest.mark.slow
async def test_card_pulled_mid_read_leaves_nothing_then_the_next_card_reads(pcsc_app, slots):
    app = pcsc_app
    async with app.run_test(size=SIZE) as pilot:
        bridge = slots.insert(VitaleEmulator.from_demo("durand", pull_at=3), settle=False)
        await wait_until(pilot, lambda: "retirée" in screen_text(app), what="removal message")
        assert isinstance(app.screen, HomeScreen)
        assert app.flow.card is None and "DURAND" not in screen_text(app)
        wait_present(PATIENT_READER, present=False)
        bridge.replace(VitaleEmulator.from_demo("legoff"))
        await wait_until(pilot, lambda: isinstance(app.screen, IdentifyScreen), what="identify")
        await wait_until(pilot, lambda: "LE GOFF" in screen_text(app), what="identity")


async def test_pcscd_stopped_is_shown_and_monitoring_recovers_without_restart(
    pcsc_app, slots, pcscd
):
    app = pcsc_app
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
            pcscd.stop()
            await wait_until(
                pilot,
                lambda: "pcscd) est arrêté" in screen_text(app),
                what="service lost on the home screen",
            )
            pcscd.start()
            await wait_until(pilot, lambda: "revenu" in screen_text(app), what="service back")
            slots.insert(VitaleEmulator.from_demo("casanova"), settle=False)
            await wait_until(
                pilot,
                lambda: isinstance(app.screen, IdentifyScreen),
                what="identify after the restart",
            )
            await wait_until(pilot, lambda: "CASANOVA" in screen_text(app), what="identity")
    finally:
        if not pcscd.serving_our_reader():
            pcscd.start()


@pytest.mark.slow
async def test_vitale1_is_named_and_f6_types_the_identity(pcsc_app, slots):
    from proclient.core.domain import IdentitySource
    from proclient.screens.manual_entry import ManualEntryScreen

    app = pcsc_app
    async with app.run_test(size=SIZE) as pilot:
        bridge = slots.insert(VitaleEmulator.from_demo("legoff", atr=VITALE1_ATR), settle=False)
        await wait_until(
            pilot, lambda: "première génération" in screen_text(app), what="Vitale 1 message"
        )
        assert "F6" in screen_text(app)
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, ManualEntryScreen), what="entry")
        await pilot.press(*"Le Goff", "enter", *"Gérard", "enter", "M", "enter")
        await pilot.press(*"14/03/1952", "enter", "enter")  # no birthplace code
        await pilot.press(*"152033523804588", "enter")  # a wrong key first
        await wait_until(pilot, lambda: "clé du NIR" in screen_text(app), what="key refused")
        bridge.remove()  # the Vitale 1 leaves the reader: what was typed stays
        await pilot.press(*["backspace"] * 15, *"152033523804587", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="connect")
        held = app.flow.held
        assert held.source is IdentitySource.TYPED and held.last_name == "LE GOFF"


@pytest.mark.slow
async def test_beneficiary_without_own_nir_gets_a_dmp_with_the_ins_found_by_traits(pcsc_app, slots):
    """The MOREAU card through pcscd: Tom has no NIR of his own on his mother's card; INSi is
    asked by the traits (his sex given at the counter) and the DMP is created with the INS it
    returned, never a number from the card."""
    from tests.tui_support import choose_document, create, minor_to_summary, pdf_text

    app = pcsc_app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.creation.binding is not None, what="service ready")
        slots.insert(VitaleEmulator.from_demo("moreau"), settle=False)
        await wait_until(pilot, lambda: "MOREAU Tom" in screen_text(app), what="beneficiaries")
        assert "NIR absent" in screen_text(app)
        await pilot.press("down", "enter")  # Tom
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="connect")
        await pilot.press(*"1234", "enter")
        await wait_until(
            pilot, lambda: app.screen.query_one("#traits").display, what="the traits form"
        )
        await pilot.press("M", "enter", "enter", "enter")
        await wait_until(pilot, lambda: app.flow.dmp_state is not None, what="INSi and status")
        await choose_document(pilot, app, 3)  # birth certificate (a minor)
        await minor_to_summary(pilot, app)
        done = await create(pilot, app)
        patient = app.paper.receipt.request.patient
        assert (patient.ins.value, patient.last_name, patient.first_name) == (
            "118046912304533",
            "MOREAU",
            "TOM",
        )
        state = await app.creation.binding.client.status(patient.ins)
        assert state.status.value == "active"
        assert "1 18 04 69 123 045 33" in pdf_text(done.receipt_path)
