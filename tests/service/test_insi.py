"""INSi in the service (issue 11): the look-ups by card and by traits over the demo register's
hard cases, the verification, the creation gate, the audit trail, and a person's DMP across
their INS history; the real service over HTTPS, on SQLite and PostgreSQL.

The look-ups go through the workstation's client (proclient.service.client), so the answers
are read as the workstation reads them; refusals of malformed requests are sent by hand."""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest

from proclient.core.demo_people import DEMO_HOUSEHOLDS, DEMO_REGISTER, OID_NIA
from proclient.core.domain import (
    OID_INS_NIA,
    OID_INS_NIR,
    Action,
    BirthDate,
    Consent,
    DmpStatus,
    Ins,
    Sex,
    make_legal_representative,
)
from proclient.core.identity import (
    CardQuery,
    Document,
    HeldIdentity,
    IdentityCheck,
    IdentityStatus,
    InsiAnswer,
    InsiCode,
    InsiIdentity,
    TraitsQuery,
)
from proclient.core.records import CreationRequest
from proclient.credentials.software import unlock_demo
from proclient.server.demo import register_identity
from proclient.service.client import DmpServiceClient, creation_body, insi_answer
from proclient.service.errors import ServiceError

from .helpers import put_in_register

PHARMACIST_ID = "899700024450"


def key() -> str:
    return str(uuid.uuid4())


def card_person(household: str, first_name: str):
    """A beneficiary of a demo card, as the card holds them."""
    found = next(h for h in DEMO_HOUSEHOLDS if h.key == household)
    return next(p for p in found.people if p.first_name == first_name)


def card_query(person) -> CardQuery:
    return CardQuery(person.last_name, person.first_name, BirthDate(person.birth_date), person.nir)


def traits(birth_name, first, sex, birth, birthplace=None) -> TraitsQuery:
    return TraitsQuery(birth_name, first, Sex(sex), BirthDate(birth), birthplace)


def entry(ins: str):
    return next(e for e in DEMO_REGISTER if e.ins == ins)


def insi_identity(ins: str) -> InsiIdentity:
    """A register identity as the workstation would hold it after a 00 (without asking)."""
    shape = register_identity(entry(ins)).as_answer()
    return insi_answer({"code": "00", "identity": shape}, by_card=True).identity


def request_for(
    identity: InsiIdentity,
    *,
    document: Document = Document.NONE,
    status: IdentityStatus | None = None,
    action: Action = Action.CREATION,
    representative=None,
) -> CreationRequest:
    """The creation the workstation sends for INSi's identity (its INS and traits)."""
    held = HeldIdentity(
        identity.traits.birth_name, identity.traits.given_names_text, identity.traits.birth_date
    )
    check = IdentityCheck(
        identity,
        held,
        (),
        document,
        status
        or (IdentityStatus.RETRIEVED if document is Document.NONE else IdentityStatus.QUALIFIED),
    )
    return CreationRequest(
        action, check.patient, Consent(creation=True), representative, None, check
    )


async def refused(call) -> ServiceError:
    with pytest.raises(ServiceError) as error:
        await call
    return error.value


@pytest.fixture
def register(server):
    """The demo INSi register in the service (as test mode seeds it)."""
    put_in_register(server.storage, *(register_identity(e) for e in DEMO_REGISTER))
    return server


def audit_rows(server, action: str) -> list[tuple]:
    with server.storage.read() as conn:
        return conn.execute(
            "SELECT id_nat, outcome, patient_ref, dmp_id FROM audit WHERE action = ? ORDER BY id",
            (action,),
        ).fetchall()


def dmp_count(server) -> int:
    with server.storage.read() as conn:
        return conn.execute("SELECT COUNT(*) FROM dmps").fetchone()[0]


# --- look-ups by card --------------------------------------------------------------------------


async def test_the_four_demo_cards_find_their_people_with_insi_traits(register, connected):
    cards = [h for h in DEMO_HOUSEHOLDS if h.key in ("legoff", "durand", "casanova", "bensaid")]
    people = [person for household in cards for person in household.people]
    assert len(people) == 6
    for person in people:
        answer = await connected.insi_by_card(card_query(person))
        assert answer.code is InsiCode.FOUND, person.last_name
        expected = entry(person.nir)
        assert answer.identity.ins == Ins(person.nir, expected.oid)
        assert answer.identity.traits.birth_name == expected.birth_name
        assert answer.identity.traits.given_names == expected.given_names
        assert answer.identity.traits.birth_date.raw == expected.birth_date
        assert answer.identity.traits.birthplace == expected.birthplace
        assert answer.identity.history == ()
    ben_said = await connected.insi_by_card(card_query(card_person("bensaid", "Karim")))
    # INSi's form: upper case without diacritics; the lunar date as written.
    assert ben_said.identity.traits.birth_name == "BEN SAID"
    assert ben_said.identity.traits.birth_date.raw == "19550000"


async def test_two_given_names_at_insi_one_on_the_card(register, connected):
    answer = await connected.insi_by_card(card_query(card_person("robert", "Jean")))
    assert answer.code is InsiCode.FOUND
    assert answer.identity.traits.given_names == ("JEAN", "LOUIS")


async def test_the_used_name_on_the_card_finds_the_birth_name(register, connected):
    answer = await connected.insi_by_card(card_query(card_person("leroy", "Nathalie")))
    assert answer.code is InsiCode.FOUND
    assert answer.identity.traits.birth_name == "FONTAINE"


async def test_a_card_nir_matches_by_birth_date_or_by_first_name(register, connected):
    leroy = card_person("leroy", "Nathalie")
    nir = leroy.nir
    other_date = CardQuery("LEROY", "Nathalie", BirthDate("19690900"), nir)
    assert (await connected.insi_by_card(other_date)).code is InsiCode.FOUND
    other_name = CardQuery("LEROY", "Natacha", BirthDate("19690830"), nir)
    assert (await connected.insi_by_card(other_name)).code is InsiCode.FOUND
    neither = CardQuery("LEROY", "Natacha", BirthDate("19690900"), nir)
    assert (await connected.insi_by_card(neither)).code is InsiCode.NONE


async def test_a_parent_nir_does_not_find_the_child(register, connected):
    julie = card_person("moreau", "Julie")
    query = CardQuery("MOREAU", "Tom", BirthDate("20180412"), julie.nir, rank=2)
    assert (await connected.insi_by_card(query)).code is InsiCode.NONE


async def test_an_nia_is_found_with_its_oid_and_creates_on_a_test_service(
    register, connected, server
):
    answer = await connected.insi_by_card(card_query(card_person("okafor", "Chidi")))
    assert answer.code is InsiCode.FOUND
    assert answer.identity.ins.oid == OID_NIA == OID_INS_NIA
    result = await connected.submit(request_for(answer.identity), key())
    assert result.action is Action.CREATION
    assert (await connected.status(answer.identity.ins)).status is DmpStatus.ACTIVE


async def test_an_earlier_matricule_gives_the_active_ins_and_its_history(register, connected):
    garnier = card_person("garnier", "Paul")
    answer = await connected.insi_by_card(card_query(garnier))
    assert answer.code is InsiCode.FOUND
    assert answer.identity.ins.value == "162104410902360" != garnier.nir
    assert answer.identity.history == (Ins(garnier.nir, answer.identity.ins.oid),)
    assert answer.identity.known_as(garnier.nir)


async def test_nobody_is_01_by_card_and_by_traits(register, connected):
    dupont = card_person("dupont", "Michel")
    assert (await connected.insi_by_card(card_query(dupont))).code is InsiCode.NONE
    by_traits = traits("DUPONT", "Michel", "M", "19580600")
    assert (await connected.insi_by_traits(by_traits)).code is InsiCode.NONE


# --- look-ups by traits ------------------------------------------------------------------------


async def test_a_beneficiary_without_own_nir_is_found_by_traits(register, connected):
    answer = await connected.insi_by_traits(traits("Moreau", "Tom", "M", "20180412"))
    assert answer.code is InsiCode.FOUND
    assert answer.identity.ins.value == "118046912304533"
    assert answer.identity.traits.given_names == ("TOM",)


async def test_homonyms_are_02_until_the_birthplace_splits_them(register, connected):
    marie = traits("MARTIN", "Marie", "F", "19700101")
    several = await connected.insi_by_traits(marie)
    assert (several.code, several.identity) == (InsiCode.SEVERAL, None)
    marseille = await connected.insi_by_traits(traits("MARTIN", "Marie", "F", "19700101", "13055"))
    assert marseille.code is InsiCode.FOUND
    assert marseille.identity.ins.value == "270011305521095"
    toulouse = await connected.insi_by_traits(traits("MARTIN", "Marie", "F", "19700101", "31555"))
    assert toulouse.identity.ins.value == "270013155513312"
    assert toulouse.identity.traits.given_names == ("MARIE", "LOUISE")
    elsewhere = await connected.insi_by_traits(traits("MARTIN", "Marie", "F", "19700101", "75056"))
    assert elsewhere.code is InsiCode.NONE


async def test_twins_are_one_identity_each_by_their_given_name(register, connected):
    lucas = await connected.insi_by_traits(traits("BERNARD", "Lucas", "M", "20200315"))
    louis = await connected.insi_by_traits(traits("Bernard", "LOUIS", "M", "20200315"))
    assert (lucas.code, louis.code) == (InsiCode.FOUND, InsiCode.FOUND)
    assert lucas.identity.ins.value == "120036748210111"
    assert louis.identity.ins.value == "120036748210210"


async def test_traits_compare_without_case_accents_or_hyphens(register, connected):
    spelled = traits("Casanova Orsini", "Marie-Ange", "F", "19910905")
    answer = await connected.insi_by_traits(spelled)
    assert answer.code is InsiCode.FOUND and answer.identity.ins.value == "291092A00401281"
    assert (await connected.insi_by_traits(traits("Ben Saïd", "Karim", "M", "19550000"))).code is (
        InsiCode.FOUND
    )
    wrong_sex = traits("BEN SAID", "KARIM", "F", "19550000")
    assert (await connected.insi_by_traits(wrong_sex)).code is InsiCode.NONE


# --- malformed look-ups ------------------------------------------------------------------------


async def test_malformed_look_ups_are_refused_with_their_code(register, server, tls, connected):
    headers = {"Authorization": f"Bearer {connected._token}"}
    card = {"last_name": "LE GOFF", "first_name": "Gérard", "birth_date": "19520314", "rank": 1}
    person = {"birth_name": "MARTIN", "first_given_name": "Marie", "sex": "F"}
    cases = [
        ("/v1/insi/card", {**card, "nir": "152033523804588"}, "NIR_KEY"),
        ("/v1/insi/card", {**card, "nir": "15203352380458X7"}, "NIR_FORMAT"),
        ("/v1/insi/card", {**card, "nir": "1520335238045"}, "NIR_FORMAT"),
        (
            "/v1/insi/card",
            {**card, "nir": "152033523804587", "last_name": "LE\x1bGOFF"},
            "NAME_CHARSET",
        ),
        (
            "/v1/insi/card",
            {**card, "nir": "152033523804587", "birth_date": "1952-03-14"},
            "VALIDATION",
        ),
        ("/v1/insi/card", {**card, "nir": "152033523804587", "rank": 0}, "VALIDATION"),
        (
            "/v1/insi/traits",
            {**person, "birth_date": "19700101", "birthplace": "1305"},
            "BIRTHPLACE",
        ),
        (
            "/v1/insi/traits",
            {**person, "birth_date": "19700101", "birthplace": "2C004"},
            "BIRTHPLACE",
        ),
        (
            "/v1/insi/traits",
            {**person, "birth_date": "19700101", "first_given_name": "M4rie"},
            "NAME_CHARSET",
        ),
        ("/v1/insi/traits", {**person, "birth_date": "19700101", "sex": "X"}, "VALIDATION"),
        ("/v1/insi/traits", {**person}, "VALIDATION"),
    ]
    async with httpx.AsyncClient(base_url=server.base_url, verify=tls.context) as http:
        for path, body, code in cases:
            answer = await http.post(path, json=body, headers=headers)
            assert answer.status_code == 422, (path, body, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["code"] == code, (body, answer.json())
            assert "152033523804" not in answer.text and "MARTIN" not in answer.text
        corsica = {**person, "birth_date": "19700101", "birthplace": "2a004"}
        assert (await http.post("/v1/insi/traits", json=corsica, headers=headers)).json() == {
            "code": "01",
            "identity": None,
        }
    # A refused request is no look-up: nothing audited, nothing recorded.
    assert audit_rows(server, "insi_card") == []
    assert audit_rows(server, "insi_traits") == [(PHARMACIST_ID, "01", None, None)]


# --- verification ------------------------------------------------------------------------------


async def test_verification_holds_the_active_ins_to_its_traits(register, connected):
    found = (await connected.insi_by_card(card_query(card_person("robert", "Jean")))).identity
    assert await connected.insi_verify(found.ins, found.traits)
    # Case and accents are no difference; the order of the given names is.
    respelled = found.traits.__class__(
        "Robert", ("Jean", "Louis"), found.traits.sex, found.traits.birth_date
    )
    assert await connected.insi_verify(found.ins, respelled)
    swapped = found.traits.__class__(
        "ROBERT", ("LOUIS", "JEAN"), found.traits.sex, found.traits.birth_date
    )
    assert not await connected.insi_verify(found.ins, swapped)
    one_name = found.traits.__class__(
        "ROBERT", ("JEAN",), found.traits.sex, found.traits.birth_date
    )
    assert not await connected.insi_verify(found.ins, one_name)
    other_date = found.traits.__class__(
        "ROBERT", ("JEAN", "LOUIS"), found.traits.sex, BirthDate("19750221")
    )
    assert not await connected.insi_verify(found.ins, other_date)
    # An earlier matricule is no longer a valid INS.
    garnier = (await connected.insi_by_card(card_query(card_person("garnier", "Paul")))).identity
    assert await connected.insi_verify(garnier.ins, garnier.traits)
    assert not await connected.insi_verify(garnier.history[0], garnier.traits)
    # Nobody: invalid; a real INS on a test service: refused.
    assert not await connected.insi_verify(Ins("158069205032177", found.ins.oid), found.traits)
    error = await refused(connected.insi_verify(Ins(found.ins.value, OID_INS_NIR), found.traits))
    assert error.code == "INS_REAL_ON_TEST"


# --- the creation gate -------------------------------------------------------------------------


async def test_a_creation_without_an_insi_answer_is_refused(register, connected, server):
    identity = insi_identity("152033523804587")  # INSi's very identity, but not asked
    same = key()
    error = await refused(connected.submit(request_for(identity), same))
    assert (error.code, error.status) == ("INSI_REQUIRED", 422)
    assert "INSi" in error.message
    assert dmp_count(server) == 0
    with server.storage.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM idempotency").fetchone()[0] == 0
    # Asked again: the same key and payload now create (the refusal stored nothing).
    await connected.insi_by_card(card_query(card_person("legoff", "Gérard")))
    result = await connected.submit(request_for(identity), same)
    assert result.action is Action.CREATION and dmp_count(server) == 1


async def test_the_answer_lasts_one_hour(register, connected, server):
    sophie = (await connected.insi_by_card(card_query(card_person("durand", "Sophie")))).identity
    server.clock.advance(minutes=59, seconds=59)
    hugo_card = card_query(card_person("durand", "Hugo"))
    hugo = (await connected.insi_by_card(hugo_card)).identity
    assert (await connected.submit(request_for(sophie), key())).dmp_id
    server.clock.advance(seconds=2)
    mother = make_legal_representative("MTH", "Durand", "Sophie")
    assert (await connected.submit(request_for(hugo, representative=mother), key())).dmp_id
    lea = (await connected.insi_by_card(card_query(card_person("durand", "Léa")))).identity
    server.clock.advance(hours=1, seconds=1)
    error = await refused(connected.submit(request_for(lea, representative=mother), key()))
    assert error.code == "INSI_REQUIRED"


async def test_the_answer_is_the_professional_s_not_another_s(
    register, server, tls, pki, connected
):
    nurse = DmpServiceClient(server.base_url, verify=tls.context)
    try:
        await nurse.login(unlock_demo(pki.professionals[1]))
        found = await nurse.insi_by_card(card_query(card_person("legoff", "Gérard")))
        error = await refused(connected.submit(request_for(found.identity), key()))
        assert error.code == "INSI_REQUIRED"
        assert (await nurse.submit(request_for(found.identity), key())).dmp_id
    finally:
        await nurse.aclose()


async def test_the_answer_outlives_the_session_token(register, connected, credential):
    """Bound to the professional, not the token: a renewed session keeps its answers."""
    found = await connected.insi_by_card(card_query(card_person("legoff", "Gérard")))
    first_token = connected._token
    await connected.login(credential)
    assert connected._token != first_token
    assert (await connected.submit(request_for(found.identity), key())).dmp_id


async def test_a_valid_verification_opens_the_gate_too(register, connected, server):
    insi = insi_identity("152033523804587")  # held from an earlier visit
    assert not await connected.insi_verify(
        insi.ins, insi.traits.__class__("LE GOFF", ("GERALD",), Sex.MALE, BirthDate("19520314"))
    )
    error = await refused(connected.submit(request_for(insi), key()))
    assert error.code == "INSI_REQUIRED"  # an invalid verification proves nothing
    assert await connected.insi_verify(insi.ins, insi.traits)
    assert (await connected.submit(request_for(insi), key())).dmp_id


async def test_the_card_spelling_is_not_insi_s(register, connected, server, tls):
    found = (await connected.insi_by_card(card_query(card_person("bensaid", "Karim")))).identity
    body = creation_body(request_for(found, action=Action.REACTIVATION))
    variants = {
        "accent": {"last_name": "BEN SAÏD"},
        "case": {"first_name": "Karim"},
        "date": {"birth_date": "19550101"},
        "sex": {"sex": "F"},
        "no sex": {"sex": None},
        "one more name": {"first_name": "KARIM ALI"},
    }
    headers = {"Authorization": f"Bearer {connected._token}"}
    server.storage.seed_dmp(
        found.ins,
        {"last_name": "BEN SAID", "first_name": "KARIM", "birth_date": "19550000", "sex": "M"},
        "closed",
    )
    async with httpx.AsyncClient(base_url=server.base_url, verify=tls.context) as http:
        for label, change in variants.items():
            changed = {**body, "patient": {**body["patient"], **change}}
            answer = await http.post(
                "/v1/dmp/reactivation", json=changed, headers={**headers, "Idempotency-Key": key()}
            )
            assert answer.status_code == 422, label
            assert answer.json()["code"] == "INSI_TRAITS_MISMATCH", (label, answer.json())
        # Spaces and a typographic apostrophe are the same name once normalised.
        spaced = {**body, "patient": {**body["patient"], "last_name": "BEN  SAID"}}
        answer = await http.post(
            "/v1/dmp/reactivation", json=spaced, headers={**headers, "Idempotency-Key": key()}
        )
        assert answer.status_code == 200, answer.text
    assert (await connected.status(found.ins)).status is DmpStatus.ACTIVE


async def test_status_follows_the_document_and_minors_documents_are_for_minors(
    register, connected, server, tls
):
    gerard = (await connected.insi_by_card(card_query(card_person("legoff", "Gérard")))).identity
    hugo = (await connected.insi_by_card(card_query(card_person("durand", "Hugo")))).identity
    body = creation_body(request_for(gerard))
    headers = {"Authorization": f"Bearer {connected._token}"}
    wrong = [
        ({"status": "qualifiee", "document": "none"}, "IDENTITY_STATUS"),
        ({"status": "recuperee", "document": "passport"}, "IDENTITY_STATUS"),
        ({"status": "qualifiee", "document": "birth_certificate"}, "DOCUMENT_MINORS_ONLY"),
        ({"status": "qualifiee", "document": "family_book"}, "DOCUMENT_MINORS_ONLY"),
        ({"status": "provisoire", "document": "none"}, "VALIDATION"),
        ({"status": "qualifiee", "document": "vitale"}, "VALIDATION"),
    ]
    async with httpx.AsyncClient(base_url=server.base_url, verify=tls.context) as http:
        for identity, code in wrong:
            answer = await http.post(
                "/v1/dmp",
                json={**body, "identity": identity},
                headers={**headers, "Idempotency-Key": key()},
            )
            assert answer.status_code == 422 and answer.json()["code"] == code, identity
    assert dmp_count(server) == 0
    created = await connected.submit(request_for(gerard, document=Document.PASSPORT), key())
    mother = make_legal_representative("MTH", "Durand", "Sophie")
    minor = request_for(hugo, document=Document.BIRTH_CERTIFICATE, representative=mother)
    child = await connected.submit(minor, key())
    with server.storage.read() as conn:
        stored = dict(
            (row[0], (row[1], row[2]))
            for row in conn.execute(
                "SELECT dmp_id, identity_status, identity_document FROM dmps"
            ).fetchall()
        )
    assert stored == {
        created.dmp_id: ("qualifiee", "passport"),
        child.dmp_id: ("qualifiee", "birth_certificate"),
    }


async def test_without_identity_block_the_identity_is_recuperee(register, connected, server):
    found = (await connected.insi_by_card(card_query(card_person("legoff", "Gérard")))).identity
    request = request_for(found)
    plain = CreationRequest(request.action, request.patient, request.consent)
    assert creation_body(plain)["identity"] is None
    created = await connected.submit(plain, key())
    with server.storage.read() as conn:
        row = conn.execute(
            "SELECT identity_status, identity_document, last_name, first_name FROM dmps "
            "WHERE dmp_id = ?",
            (created.dmp_id,),
        ).fetchone()
    assert tuple(row) == ("recuperee", "none", "LE GOFF", "GERARD")


async def test_reactivation_needs_insi_and_stores_the_status(register, connected, server):
    karim = card_person("bensaid", "Karim")
    server.storage.seed_dmp(
        Ins(karim.nir, entry(karim.nir).oid),
        {"last_name": "BEN SAID", "first_name": "KARIM", "birth_date": "19550000", "sex": "M"},
        "closed",
    )
    found = (await connected.insi_by_card(card_query(karim))).identity
    server.clock.advance(hours=1, minutes=1)
    request = request_for(found, action=Action.REACTIVATION, document=Document.ID_CARD)
    error = await refused(connected.submit(request, key()))
    assert error.code == "INSI_REQUIRED"
    await connected.insi_by_card(card_query(karim))
    result = await connected.submit(request, key())
    assert result.action is Action.REACTIVATION
    with server.storage.read() as conn:
        row = conn.execute("SELECT identity_status, identity_document FROM dmps").fetchone()
    assert tuple(row) == ("qualifiee", "id_card")


async def test_an_accepted_creation_is_still_replayed_once_its_answer_is_old(
    register, connected, server
):
    found = (await connected.insi_by_card(card_query(card_person("legoff", "Gérard")))).identity
    same = key()
    first = await connected.submit(request_for(found), same)
    server.clock.advance(hours=3)
    again = await connected.submit(request_for(found), same)
    assert again.dmp_id == first.dmp_id


# --- one person across their INS history -------------------------------------------------------


async def test_a_dmp_under_an_earlier_matricule_is_the_person_s(register, connected, server):
    garnier = entry("162104410902360")
    active, old = Ins(garnier.ins, garnier.oid), Ins(*garnier.history[0])
    traits_ = {"last_name": "GARNIER", "first_name": "PAUL", "birth_date": "19621005", "sex": "M"}
    dmp_id = server.storage.seed_dmp(old, traits_, "active")
    for ins in (active, old):
        assert (await connected.status(ins)).status is DmpStatus.ACTIVE
    with server.storage.read() as conn:
        assert server.storage.person_keys(conn, active) == server.storage.person_keys(conn, old)
    found = (await connected.insi_by_card(card_query(card_person("garnier", "Paul")))).identity
    assert found.ins == active
    error = await refused(connected.submit(request_for(found), key()))
    assert error.code == "DMPFound"
    assert dmp_count(server) == 1
    server.storage.remove_dmp(active)  # found by the active INS, removed
    assert dmp_count(server) == 0 and dmp_id


async def test_a_dmp_under_the_active_ins_is_found_by_the_earlier_matricule(
    register, connected, server
):
    found = (await connected.insi_by_card(card_query(card_person("garnier", "Paul")))).identity
    created = await connected.submit(request_for(found), key())
    old = found.history[0]
    state = await connected.status(old)
    assert (state.status, state.authorization.value) == (DmpStatus.ACTIVE, "VALIDE")
    web = await connected.open_web_access(old, _web(), key())
    assert web.login
    with server.storage.read() as conn:
        assert server.storage.find_dmp(conn, old, "").dmp_id == created.dmp_id


def _web():
    from proclient.core.domain import WebAccess

    return WebAccess(email="paul.garnier@exemple.fr")


async def test_outside_the_register_a_person_is_their_one_ins(server, connected):
    from proclient.core.domain import OID_INS_NIR_DEMO, OID_INS_NIR_TEST

    value = "152033523804587"
    with server.storage.read() as conn:
        keys = server.storage.person_keys(conn, Ins(value, OID_INS_NIR_TEST))
        demo = server.storage.person_keys(conn, Ins(value, OID_INS_NIR_DEMO))
    assert keys == demo == ("test:152033523804587",)


# --- the audit trail and the log ---------------------------------------------------------------


async def test_every_look_up_is_audited_without_traits_and_logged_without_them(
    register, connected, server, caplog
):
    caplog.set_level(logging.INFO)
    legoff = await connected.insi_by_card(card_query(card_person("legoff", "Gérard")))
    await connected.insi_by_card(card_query(card_person("dupont", "Michel")))
    await connected.insi_by_traits(traits("MARTIN", "Marie", "F", "19700101"))
    tom = await connected.insi_by_traits(traits("MOREAU", "Tom", "M", "20180412"))
    assert await connected.insi_verify(tom.identity.ins, tom.identity.traits)
    wrong = tom.identity.traits.__class__("MOREAU", ("THOMAS",), Sex.MALE, BirthDate("20180412"))
    assert not await connected.insi_verify(tom.identity.ins, wrong)

    ref = server.storage.patient_ref
    assert audit_rows(server, "insi_card") == [
        (PHARMACIST_ID, "00", ref(legoff.identity.ins), None),
        (PHARMACIST_ID, "01", None, None),
    ]
    assert audit_rows(server, "insi_traits") == [
        (PHARMACIST_ID, "02", None, None),
        (PHARMACIST_ID, "00", ref(tom.identity.ins), None),
    ]
    assert audit_rows(server, "insi_verification") == [
        (PHARMACIST_ID, "valid", ref(tom.identity.ins), None),
        (PHARMACIST_ID, "invalid", ref(tom.identity.ins), None),
    ]
    with server.storage.read() as conn:
        audit = repr(conn.execute("SELECT * FROM audit").fetchall())
        answers = conn.execute("SELECT id_nat, ins_value FROM insi_answers ORDER BY id").fetchall()
    # 00 answers and the valid verification are the gate's proofs; 01, 02, invalid are not.
    assert [tuple(a) for a in answers] == [
        (PHARMACIST_ID, legoff.identity.ins.value),
        (PHARMACIST_ID, tom.identity.ins.value),
        (PHARMACIST_ID, tom.identity.ins.value),
    ]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/v1/insi/card" in logged and "insi_card by" in logged  # the logs were captured
    for secret in (
        "LE GOFF",
        "GERARD",
        "Gérard",
        "DUPONT",
        "MARTIN",
        "MOREAU",
        "TOM",
        "Marie",
        "19520314",
        "20180412",
        "19700101",
        legoff.identity.ins.value,
        tom.identity.ins.value,
        "158069205032177",
    ):
        assert secret not in logged, secret
        assert secret not in audit, secret


async def test_old_answers_are_purged(register, connected, server):
    await connected.insi_by_card(card_query(card_person("legoff", "Gérard")))
    now = server.clock().timestamp()
    kept = server.storage.auth.purge(now, 60, 60, 3600)
    assert kept["insi_answers"] == 0
    removed = server.storage.auth.purge(now + 3601, 60, 60, 3600)
    assert removed["insi_answers"] == 1


# --- the demo seeding ---------------------------------------------------------------------------


def test_the_seeded_dmps_carry_insi_s_traits(tmp_path):
    from proclient.server.demo import seed_demo_dmps
    from proclient.server.storage import Storage

    database = tmp_path / "dmp.sqlite3"
    seed_demo_dmps(database)
    seed_demo_dmps(database, reset=True)  # idempotent
    storage = Storage(database)
    try:
        storage.initialize()
        with storage.read() as conn:
            dmps = sorted(
                tuple(row)
                for row in conn.execute(
                    "SELECT ins_value, last_name, first_name, birth_date, sex, status FROM dmps"
                ).fetchall()
            )
            identities = conn.execute("SELECT COUNT(*) FROM insi_identities").fetchone()[0]
            history = conn.execute("SELECT ins_value FROM insi_history").fetchall()
    finally:
        storage.close()
    assert dmps == [
        ("155009935000780", "BEN SAID", "KARIM", "19550000", "M", "closed"),
        ("291092A00401281", "CASANOVA-ORSINI", "MARIE-ANGE", "19910905", "F", "active"),
    ]
    assert identities == len(DEMO_REGISTER)
    assert [tuple(h) for h in history] == [("162104410901073",)]


def test_answer_shapes_agree_with_the_client(register, server):
    """The register's identity, as the service answers it, is what the client reads."""
    from proclient.service.client import insi_answer

    for item in DEMO_REGISTER:
        shape = register_identity(item).as_answer()
        read = insi_answer({"code": "00", "identity": shape}, by_card=True)
        assert isinstance(read, InsiAnswer) and read.identity.ins.value == item.ins
        assert read.identity.traits.given_names == item.given_names
        assert [h.value for h in read.identity.history] == [v for v, _oid in item.history]


async def test_insi_and_status_answers_hold_exactly_their_models_fields(register, connected):
    """The INSi and status routes answer their JSON without a second validation through the
    response model (CPU per creation, issue 24): what they send must still be exactly the
    model's shape, no field more (a field the model would have filtered out)."""
    from proclient.server.schemas import InsiAnswerOut, InsiVerificationOut, StatusOut
    from proclient.service.client import card_query_body

    person = card_person("legoff", "Gérard")
    found = await connected._call("/v1/insi/card", card_query_body(card_query(person)))
    assert found["code"] == "00"
    stranger = CardQuery("PERSONNE", "NUL", BirthDate("19700101"), "170017500099911")
    nobody = await connected._call("/v1/insi/card", card_query_body(stranger))
    assert nobody["code"] == "01"
    status = await connected._call("/v1/dmp/status", {"ins": found["identity"]["ins"]})
    identity = found["identity"]
    held = identity["traits"]
    fields = ("birth_name", "given_names", "sex", "birth_date")
    verified = await connected._call(
        "/v1/insi/verification", {"ins": identity["ins"], **{n: held[n] for n in fields}}
    )
    assert verified == {"valid": True}
    for answer, model in (
        (found, InsiAnswerOut),
        (nobody, InsiAnswerOut),
        (status, StatusOut),
        (verified, InsiVerificationOut),
    ):
        assert model.model_validate(answer).model_dump(mode="json") == answer
