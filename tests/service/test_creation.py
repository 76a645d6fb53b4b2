"""TD0.2, TD1.1, TD1.2 and TD1.5 against the real service over HTTPS (each creation after the
INSi look-up the service requires: tests/service/test_insi.py tests that rule itself)."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from proclient.core.domain import (
    OID_INS_NIR,
    Action,
    Authorization,
    Consent,
    DmpStatus,
    Ins,
    Relationship,
    WebAccess,
    make_legal_representative,
)
from proclient.server.operations import PASSWORD_ALPHABET
from proclient.service.client import DmpServiceClient, creation_body
from proclient.service.errors import ServiceError

from .helpers import (
    BEN_SAID,
    LE_GOFF,
    LEA_DURAND,
    creation,
    insi_ready,
    make_nir,
    patient,
)

WEB = WebAccess(email="gerard.legoff@exemple.fr", mobile="+33612345678")


def key() -> str:
    return str(uuid.uuid4())


@pytest.fixture
async def insi(server, connected):
    """``await insi(*patients)``: put them in the register and look them up."""

    async def ready(*people):
        await insi_ready(server.storage, connected, *people)

    return ready


async def refused(call) -> ServiceError:
    with pytest.raises(ServiceError) as error:
        await call
    return error.value


async def test_creation_without_web_access_makes_the_dmp_active(insi, connected):
    await insi(LE_GOFF)
    before = await connected.status(LE_GOFF.ins)
    assert before.status is DmpStatus.NOT_FOUND
    assert before.authorization is Authorization.NON_EXISTE

    result = await connected.submit(creation(), key())

    assert result.action is Action.CREATION
    assert re.fullmatch(r"DMP-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", result.dmp_id)
    assert result.web is None
    assert abs((result.at - datetime.now(UTC)).total_seconds()) < 60
    after = await connected.status(LE_GOFF.ins)
    assert (after.status, after.web_access, after.authorization) == (
        DmpStatus.ACTIVE,
        False,
        Authorization.VALIDE,
    )


async def test_creation_with_web_access_hands_out_login_and_password(insi, connected):
    await insi(LE_GOFF)
    result = await connected.submit(creation(web=WEB), key())

    assert result.web is not None
    assert re.fullmatch(r"P[0-9]{10}", result.web.login)
    password = result.web.initial_password
    assert password is not None and len(password) >= 10
    assert set(password) <= set(PASSWORD_ALPHABET)
    assert not set(password) & set("O0lI1")
    assert (await connected.status(LE_GOFF.ins)).web_access


async def test_second_creation_for_the_same_patient_is_dmp_found(insi, connected):
    await insi(LE_GOFF)
    await connected.submit(creation(), key())
    error = await refused(connected.submit(creation(), key()))
    assert (error.code, error.status) == ("DMPFound", 409)
    assert "déjà un DMP" in error.message


async def test_same_key_and_payload_replays_the_answer_without_the_password(insi, connected):
    await insi(LE_GOFF)
    same = key()
    first = await connected.submit(creation(web=WEB), same)
    again = await connected.submit(creation(web=WEB), same)

    assert again.dmp_id == first.dmp_id
    assert first.web.initial_password
    assert again.web.login == first.web.login
    assert again.web.initial_password is None


async def test_replayed_answer_says_already_issued(server, tls, connected, insi):
    await insi(LE_GOFF)
    body = creation_body(creation(web=WEB))
    headers = {"Authorization": f"Bearer {connected._token}", "Idempotency-Key": key()}
    async with httpx.AsyncClient(base_url=server.base_url, verify=tls.context) as http:
        first = await http.post("/v1/dmp", json=body, headers=headers)
        again = await http.post("/v1/dmp", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["web_access"]["already_issued"] is False
    replay = again.json()
    assert replay["web_access"] == {
        "login": first.json()["web_access"]["login"],
        "initial_password": None,
        "already_issued": True,
    }
    assert again.headers["Idempotent-Replayed"] == "true"


async def test_same_key_with_another_payload_is_refused(insi, connected):
    await insi(LE_GOFF)
    same = key()
    await connected.submit(creation(), same)
    error = await refused(connected.submit(creation(web=WEB), same))
    assert (error.code, error.status) == ("IDEMPOTENCY_KEY_REUSED", 422)


async def test_idempotency_key_is_required(server, tls, connected):
    async with httpx.AsyncClient(base_url=server.base_url, verify=tls.context) as http:
        response = await http.post(
            "/v1/dmp",
            json=creation_body(creation()),
            headers={"Authorization": f"Bearer {connected._token}"},
        )
    assert response.status_code == 400
    assert response.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"


async def test_minor_requires_legal_representative(insi, connected):
    await insi(LEA_DURAND)
    error = await refused(connected.submit(creation(LEA_DURAND), key()))
    assert error.code == "PATIENT_MINOR"
    assert (await connected.status(LEA_DURAND.ins)).status is DmpStatus.NOT_FOUND

    mother = make_legal_representative("MTH", "Durand", "Sophie")
    result = await connected.submit(creation(LEA_DURAND, representative=mother), key())
    assert result.action is Action.CREATION


async def test_lunar_birth_date_counts_as_the_latest_possible_day(insi, connected):
    year = datetime.now(UTC).year
    # Born "year-18, month 00": perhaps 31 December, so perhaps still 17.
    maybe_minor = patient(make_nir(1, year - 18, "99"), f"{year - 18}0000", "BEN", "ALI")
    error = await refused(connected.submit(creation(maybe_minor), key()))
    assert error.code == "PATIENT_MINOR"
    surely_adult = patient(make_nir(1, year - 19, "99", 124), f"{year - 19}0000", "BEN", "OMAR")
    await insi(surely_adult)
    assert (await connected.submit(creation(surely_adult), key())).dmp_id


async def test_creation_without_consent_is_refused(connected):
    error = await refused(connected.submit(creation(consent=Consent(creation=False)), key()))
    assert error.code == "CONSENT_MISSING"


async def test_web_access_without_channel_is_refused(connected):
    error = await refused(connected.submit(creation(web=WebAccess()), key()))
    assert error.code == "MISSING_CHANNEL"
    assert (await connected.status(LE_GOFF.ins)).status is DmpStatus.NOT_FOUND


async def test_consent_and_representative_are_stored_with_the_dmp(insi, connected, server):
    await insi(LEA_DURAND)
    consent = Consent(creation=True, samu_access=False, break_glass_access=True)
    father = make_legal_representative(Relationship.FTH.value, "Durand", "Marc")
    await connected.submit(creation(LEA_DURAND, consent=consent, representative=father), key())
    with server.storage.read() as conn:
        stored = conn.execute(
            "SELECT consent_creation, samu_access, break_glass_access, legal_representative "
            "FROM dmps"
        ).fetchone()
        history = conn.execute("SELECT action, id_nat FROM consents").fetchall()
    assert stored[:3] == (1, 0, 1)
    assert '"FTH"' in stored[3]
    assert history == [("creation", "899700024450")]


async def test_reactivation_of_a_closed_dmp(insi, connected, server):
    await insi(BEN_SAID)
    dmp_id = server.storage.seed_dmp(
        BEN_SAID.ins,
        {"last_name": "BEN SAID", "first_name": "KARIM", "birth_date": "19550000", "sex": "M"},
        "closed",
    )
    assert (await connected.status(BEN_SAID.ins)).status is DmpStatus.CLOSED
    error = await refused(connected.submit(creation(BEN_SAID), key()))
    assert error.code == "DMPClosed"

    result = await connected.submit(creation(BEN_SAID, action=Action.REACTIVATION, web=WEB), key())

    assert (result.action, result.dmp_id) == (Action.REACTIVATION, dmp_id)
    assert result.web.initial_password
    state = await connected.status(BEN_SAID.ins)
    assert (state.status, state.web_access, state.authorization) == (
        DmpStatus.ACTIVE,
        True,
        Authorization.VALIDE,
    )
    again = await refused(connected.submit(creation(BEN_SAID, action=Action.REACTIVATION), key()))
    assert again.code == "DMPFound"


async def test_reactivation_without_dmp_is_dmp_not_found(insi, connected):
    await insi(LE_GOFF)
    error = await refused(connected.submit(creation(action=Action.REACTIVATION), key()))
    assert (error.code, error.status) == ("DMPNotFound", 404)


async def test_web_access_on_an_existing_dmp_is_opened_once(insi, connected):
    await insi(LE_GOFF)
    await connected.submit(creation(), key())
    credentials = await connected.open_web_access(LE_GOFF.ins, WEB, key())
    assert credentials.login.startswith("P") and credentials.initial_password
    error = await refused(connected.open_web_access(LE_GOFF.ins, WEB, key()))
    assert error.code == "DMPPatientAccessAlreadyExists"
    missing = await refused(connected.open_web_access(LEA_DURAND.ins, WEB, key()))
    assert missing.code == "DMPNotFound"


async def test_test_service_refuses_real_ins(connected):
    real = Ins(LE_GOFF.ins.value, OID_INS_NIR)
    error = await refused(connected.status(real))
    assert error.code == "INS_REAL_ON_TEST"


async def test_production_service_refuses_test_ins(serve, tls, credential):
    production = serve(mode="production")
    client = DmpServiceClient(production.base_url, verify=tls.context)
    try:
        await client.login(credential)
        for call in (client.status(LE_GOFF.ins), client.submit(creation(), key())):
            error = await refused(call)
            assert error.code == "INS_TEST_ON_PRODUCTION"
    finally:
        await client.aclose()


async def test_concurrent_creations_for_one_patient_create_one_dmp(insi, connected):
    await insi(LE_GOFF)
    outcomes = await asyncio.gather(
        *(connected.submit(creation(web=WEB), key()) for _ in range(8)), return_exceptions=True
    )
    created = [o for o in outcomes if not isinstance(o, BaseException)]
    codes = sorted(o.code for o in outcomes if isinstance(o, ServiceError))
    assert len(created) == 1
    assert codes == ["DMPFound"] * 7


async def test_concurrent_retries_with_one_key_hand_out_one_password(insi, connected):
    await insi(LE_GOFF)
    same = key()
    outcomes = await asyncio.gather(
        *(connected.submit(creation(web=WEB), same) for _ in range(6)), return_exceptions=True
    )
    answers = [o for o in outcomes if not isinstance(o, BaseException)]
    # A retry that arrives while the first is running is told so (409), never served twice.
    assert {o.code for o in outcomes if isinstance(o, ServiceError)} <= {"IDEMPOTENCY_IN_PROGRESS"}
    assert len({o.dmp_id for o in answers}) == 1
    assert len([o for o in answers if o.web.initial_password]) == 1
    again = await connected.submit(creation(web=WEB), same)
    assert again.dmp_id == answers[0].dmp_id and again.web.initial_password is None
