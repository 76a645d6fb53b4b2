"""Identity vigilance through the whole flow by keyboard, for each identity of the demo INSi
register (proclient.core.demo_people.DEMO_REGISTER): INSi asked after the CPS login, by the card or
by the traits; INSi's traits beside the card's with every difference in words; the document
seen; the DMP created with INSi's INS and traits; 01 and 02 ending with no DMP.

The service is the demo's embedded one (the real server app, in process); only the INSi
outage test puts a failing route in front of it.
"""

from __future__ import annotations

import pytest

from proclient.core.domain import OID_INS_NIR_TEST, DmpStatus, Ins
from proclient.screens.connect import ConnectScreen
from proclient.screens.home import HomeScreen
from proclient.screens.identify import IdentifyScreen
from tests.tui.test_password_reissue import Outage, behind
from tests.tui_support import (
    SIZE,
    choose_document,
    connect,
    create,
    insert,
    minor_to_summary,
    pdf_text,
    screen_text,
    through_consent_and_online,
    wait_until,
)

pytestmark = pytest.mark.slow  # the longest tier: scripts/test.sh -m "not slow" leaves it out

ADULT_DOCUMENTS = ("passport", "id_card", "residence_permit", "none")
MINOR_DOCUMENTS = (
    "passport",
    "id_card",
    "residence_permit",
    "birth_certificate",
    "family_book",
    "none",
)


def flat(app) -> str:
    return " ".join(screen_text(app).split())


async def sign_in(pilot, app, key: str, downs: int = 0) -> None:
    """Card ``key`` in, the beneficiary ``downs`` below the first chosen, the code typed."""
    await insert(pilot, app, key)
    await pilot.press(*(["down"] * downs), "enter")
    await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="connect")
    if not app.session.authenticated:
        await pilot.press(*"1234", "enter")
    await wait_until(pilot, lambda: app.flow.professional is not None, what="signed in")


async def traits_form(pilot, app) -> None:
    await wait_until(pilot, lambda: app.screen.query_one("#traits").display, what="the traits form")


async def answered(pilot, app) -> None:
    await wait_until(pilot, lambda: app.flow.insi is not None, what="INSi's answer")


async def adult_to_accuse(pilot, app, key: str, document: str):
    """An adult's card to the accusé: INSi's answer and the status shown (the caller checks
    the screen first through ``seen``), ``document`` seen, consent, no online access."""
    await sign_in(pilot, app, key)
    await wait_until(pilot, lambda: app.flow.dmp_state is not None)
    seen = flat(app)
    await choose_document(pilot, app, ADULT_DOCUMENTS.index(document))
    await through_consent_and_online(pilot, app)
    return seen, await create(pilot, app)


async def test_durand_hugo_is_created_with_insi_ins_and_marked_qualified(app_factory):
    """The issue's "done when": the DURAND card, Hugo, the family book seen: qualifiée."""
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, app, "durand", downs=2)
        await wait_until(pilot, lambda: app.flow.dmp_state is not None, what="status")
        text = flat(app)
        assert "HUGO" in text and "Hugo" in text  # INSi's traits beside the card's
        assert "Aucune différence avec la carte." in text
        await choose_document(pilot, app, MINOR_DOCUMENTS.index("family_book"))
        assert "qualifiée" in flat(app)
        await minor_to_summary(pilot, app)
        assert "traits de l'INSi, qualifiée" in flat(app)
        done = await create(pilot, app)
        request = app.paper.receipt.request
        assert request.patient.ins == Ins("114067511203551", OID_INS_NIR_TEST)
        assert (request.patient.last_name, request.patient.first_name) == ("DURAND", "HUGO")
        pdf = pdf_text(done.receipt_path)
        assert "qualifiée" in pdf and "Livret de famille" in pdf
        assert "1 14 06 75 112 035 51" in pdf


async def test_le_goff_keys_from_card_to_accuse(app_factory):
    """≤ 12 keys from the card to the accusé, plus the code and the document choice."""
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        keys: list[str] = []
        press = pilot.press

        async def counting(*pressed):
            keys.extend(pressed)
            await press(*pressed)

        pilot.press = counting
        await insert(pilot, app, "legoff")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen))
        await pilot.press(*"1234")
        pin_keys = len(keys)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.flow.dmp_state is not None, what="status")
        before_document = len(keys)
        await pilot.press("enter")  # the passport, first in the list
        await wait_until(pilot, lambda: app.flow.identity.status is not None)
        document_keys = len(keys) - before_document
        await through_consent_and_online(pilot, app)
        await create(pilot, app)
        counted = len(keys) - 4 - document_keys
        assert pin_keys == 5 and document_keys == 1
        assert counted <= 12, keys
        assert app.flow.identity.status.value == "qualifiee"


async def test_le_goff_qualified_accuse_text(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        _seen, done = await adult_to_accuse(pilot, app, "legoff", "passport")
        pdf = pdf_text(done.receipt_path)
        assert "traits de l'INSi" in pdf
        assert "LE GOFF" in pdf and "GERARD" in pdf and "Gérard" not in pdf
        assert "qualifiée" in pdf and "Passeport" in pdf
        assert "INS-NIR TEST" in pdf


async def test_leroy_used_name_on_card_insi_birth_name_recuperee(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, app, "leroy")
        await wait_until(pilot, lambda: app.flow.dmp_state is not None)
        assert "nom d'usage" in flat(app)
        await pilot.press("f8")  # no document chosen yet: refused
        assert "pièce d'identité vue" in flat(app)
        assert isinstance(app.screen, ConnectScreen)
        await choose_document(pilot, app, ADULT_DOCUMENTS.index("none"))
        assert "récupérée" in flat(app)
        await through_consent_and_online(pilot, app)
        done = await create(pilot, app)
        pdf = pdf_text(done.receipt_path)
        assert "FONTAINE" in pdf and "LEROY" not in pdf
        assert "récupérée" in pdf and "Aucune pièce d'identité vue" in pdf


async def test_robert_insi_knows_a_second_given_name(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        seen, done = await adult_to_accuse(pilot, app, "robert", "id_card")
        assert "prénoms que la carte ne porte pas" in seen
        assert app.paper.receipt.request.patient.first_name == "JEAN LOUIS"
        assert "JEAN LOUIS" in pdf_text(done.receipt_path)


async def test_okafor_born_abroad_has_an_ins_nia(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        seen, done = await adult_to_accuse(pilot, app, "okafor", "residence_permit")
        assert "INS-NIA" in seen
        assert app.paper.receipt.request.patient.ins.oid == "1.2.250.1.213.1.4.9"
        assert "INS-NIA" in pdf_text(done.receipt_path)


async def test_garnier_card_with_the_earlier_matricule_gets_the_active_ins(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        seen, done = await adult_to_accuse(pilot, app, "garnier", "passport")
        assert "ancien matricule" in seen
        assert "1 62 10 44 109 010 73" in seen  # the card's, in INSi's history
        assert app.paper.receipt.request.patient.ins.value == "162104410902360"
        assert "1 62 10 44 109 023 60" in pdf_text(done.receipt_path)


async def test_moreau_tom_without_own_nir_is_found_by_traits(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, app, "moreau", downs=1)
        await traits_form(pilot, app)
        assert "ne porte pas le NIR" in flat(app)
        assert app.flow.insi is None  # nothing asked without the sex
        await pilot.press("M", "enter", "enter", "enter")  # sex, birth date (read), place
        await wait_until(pilot, lambda: app.flow.dmp_state is not None, what="status")
        assert app.flow.insi.by_card is False
        await choose_document(pilot, app, MINOR_DOCUMENTS.index("birth_certificate"))
        await minor_to_summary(pilot, app)
        done = await create(pilot, app)
        assert app.paper.receipt.request.patient.ins.value == "118046912304533"
        pdf = pdf_text(done.receipt_path)
        assert "TOM" in pdf and "Acte de naissance" in pdf


async def test_bernard_twins_are_told_apart_by_their_given_names(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        found = []
        for downs in (1, 2):  # Lucas, then Louis
            await sign_in(pilot, app, "bernard", downs=downs)
            await traits_form(pilot, app)
            await pilot.press("M", "enter", "enter", "enter")
            await wait_until(pilot, lambda: app.flow.dmp_state is not None, what="status")
            await choose_document(pilot, app, MINOR_DOCUMENTS.index("family_book"))
            await minor_to_summary(pilot, app)
            await create(pilot, app)
            request = app.paper.receipt.request
            found.append((request.patient.first_name, request.patient.ins.value))
            await pilot.press("enter")  # next patient
            await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert found == [("LUCAS", "120036748210111"), ("LOUIS", "120036748210210")]


async def test_martin_homonyms_end_with_no_dmp(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, app, "martin", downs=1)
        await traits_form(pilot, app)
        await pilot.press("F", "enter", "enter", "enter")
        await answered(pilot, app)
        assert app.flow.insi.code.value == "02"
        assert app.flow.patient is None
        text = flat(app)
        assert "plusieurs identités" in text and "pas de DMP" in text
        await pilot.press("f8")
        assert isinstance(app.screen, ConnectScreen)  # no way forward
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, IdentifyScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert app.flow.result is None
        client = app.creation.binding.client
        for nir in ("270011305521095", "270013155513312"):
            state = await client.status(Ins(nir, OID_INS_NIR_TEST))
            assert state.status is DmpStatus.NOT_FOUND


async def test_martin_homonyms_refined_by_birthplace(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, app, "martin", downs=1)
        await traits_form(pilot, app)
        await pilot.press("F", "enter", "enter", "enter")
        await answered(pilot, app)
        assert app.flow.insi.code.value == "02"
        await pilot.press(*"31555", "enter")  # the birthplace field has the focus
        await wait_until(pilot, lambda: app.flow.dmp_state is not None, what="status")
        assert app.flow.patient.ins.value == "270013155513312"
        assert app.flow.patient.first_name == "MARIE LOUISE"


async def test_dupont_unknown_to_insi_by_card_then_by_traits_ends_with_no_dmp(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, app, "dupont")
        await answered(pilot, app)
        assert app.flow.insi.code.value == "01" and app.flow.insi.by_card
        assert "aucune identité pour cette carte" in flat(app)
        await pilot.press("f6")
        await traits_form(pilot, app)
        await pilot.press("enter")  # every trait filled from the card: the birthplace's turn
        await wait_until(pilot, lambda: not app.flow.insi.by_card, what="by traits")
        assert app.flow.insi.code.value == "01"
        assert "aucune identité avec ces traits" in flat(app)
        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert app.flow.result is None and app.flow.patient is None


async def test_typed_identity_is_asked_by_traits(app_factory):
    from proclient.screens.manual_entry import ManualEntryScreen

    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.creation.binding is not None)
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, ManualEntryScreen))
        await pilot.press(*"le goff", "tab", *"Gérard", "tab", "M", "tab", *"14/03/1952")
        await pilot.press("f8")
        await connect(pilot, app, document=None)
        assert app.flow.insi.by_card is False
        assert "Aucune différence avec la saisie." in flat(app)
        await choose_document(pilot, app, 0)
        await through_consent_and_online(pilot, app)
        done = await create(pilot, app)
        assert app.paper.receipt.request.patient.ins.value == "152033523804587"
        assert "traits de l'INSi" in pdf_text(done.receipt_path)


async def test_insi_unreachable_is_said_and_f5_asks_again(app_factory, settings):
    outage = Outage("/v1/insi/card")
    app = app_factory(behind(outage, settings))
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, app, "legoff")
        await wait_until(pilot, lambda: "ne répond pas" in flat(app), what="the failure")
        assert "F5" in flat(app)
        assert app.flow.held is not None and app.flow.insi is None  # nothing lost
        outage.down = False
        await pilot.press("f5")
        await wait_until(pilot, lambda: app.flow.dmp_state is not None, what="status")
        assert app.flow.patient.ins.value == "152033523804587"
        assert outage.reissues >= 2
