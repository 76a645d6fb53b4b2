"""The service's signed statement in its answers (server/statements.py): creation,
reactivation and password reissue, on both backends; a replay carries the same statement;
what it asserts matches what was recorded; it holds no full NIR, name or password."""

from __future__ import annotations

import uuid
import zlib

import base45
import httpx
import pytest

from proclient.core.domain import Consent, LegalRepresentative, Relationship, WebAccess
from proclient.core.proof.statement import PREFIX, verify_code

from .helpers import BEN_SAID, LE_GOFF, LEA_DURAND, creation, insi_ready

WEB = WebAccess(email="gerard.legoff@exemple.fr")


def key() -> str:
    return str(uuid.uuid4())


def check(server, statement: str | None):
    assert statement is not None and statement.startswith(PREFIX)
    signer = server.settings.document_signer
    verdict = verify_code(statement, signer.all_certificates(), server.clock())
    assert verdict.outcome == "valid", verdict.sentence
    assert verdict.details["key_id"] == signer.key_id
    return verdict.details


def payload(statement: str) -> bytes:
    return zlib.decompress(base45.b45decode(statement[len(PREFIX) :]))


async def test_a_creation_answer_carries_a_signed_statement_of_what_was_recorded(connected, server):
    await insi_ready(server.storage, connected, LE_GOFF)
    consent = Consent(creation=True, samu_access=True, break_glass_access=False)
    result = await connected.submit(creation(consent=consent, web=WEB), key())
    details = check(server, result.statement)
    assert details["kind"] == "creation" and details["reference"] == result.dmp_id
    assert details["at"] == result.at.isoformat()
    assert details["ins_masked"] == "1**********4587" and details["ins_oid"] == LE_GOFF.ins.oid
    assert details["initials"] == "GL" and details["birth_year"] == 1952
    assert details["professional_id"] == "899700024450" and details["profession_code"] == "21"
    assert details["consent_by"] == "patient"
    assert (details["samu_access"], details["break_glass_access"]) == (True, False)
    assert details["online_access"] is True
    raw = payload(result.statement)
    for secret in (LE_GOFF.ins.value, LE_GOFF.last_name, "GERARD", result.web.initial_password):
        assert secret.encode() not in raw and secret not in result.statement


async def test_a_replay_carries_the_same_statement(connected, server):
    await insi_ready(server.storage, connected, LE_GOFF)
    same = key()
    first = await connected.submit(creation(web=WEB), same)
    server.clock.advance(seconds=30)
    again = await connected.submit(creation(web=WEB), same)
    assert again.web.initial_password is None  # a replay indeed
    assert again.statement == first.statement


async def test_a_minor_s_statement_says_the_representative_consented(connected, server):
    await insi_ready(server.storage, connected, LEA_DURAND)
    mother = LegalRepresentative(Relationship.MTH, "DURAND", "Sophie")
    result = await connected.submit(creation(LEA_DURAND, representative=mother), key())
    details = check(server, result.statement)
    assert details["consent_by"] == "representative" and details["online_access"] is False
    assert b"DURAND" not in payload(result.statement)


async def test_reactivation_and_password_reissue_are_signed_too(connected, server, tls):
    from proclient.core.domain import Action

    await insi_ready(server.storage, connected, BEN_SAID)
    created = await connected.submit(creation(BEN_SAID, web=WebAccess(mobile="0612345678")), key())
    with server.storage.transaction() as conn:  # the patient closed the DMP
        conn.execute("UPDATE dmps SET status = 'closed' WHERE dmp_id = ?", (created.dmp_id,))
    await insi_ready(server.storage, connected, BEN_SAID)
    again = await connected.submit(creation(BEN_SAID, action=Action.REACTIVATION), key())
    details = check(server, again.statement)
    assert (details["kind"], details["reference"]) == ("reactivation", created.dmp_id)
    assert details["birth_year"] == 1955

    headers = {"Authorization": f"Bearer {connected._token}", "Idempotency-Key": key()}
    body = {"ins": {"value": BEN_SAID.ins.value, "oid": BEN_SAID.ins.oid}}
    async with httpx.AsyncClient(base_url=server.base_url, verify=tls.context) as http:
        first = await http.post("/v1/dmp/web-access/password", json=body, headers=headers)
        replay = await http.post("/v1/dmp/web-access/password", json=body, headers=headers)
    reissue = check(server, first.json()["statement"])
    assert reissue["kind"] == "password_reissue" and "consent_by" not in reissue
    assert replay.json()["statement"] == first.json()["statement"]
    assert first.json()["initial_password"] not in first.json()["statement"]


def test_the_statement_field_is_in_the_openapi_schemas():
    import json

    from proclient.server.app import openapi_json

    schemas = json.loads(openapi_json())["components"]["schemas"]
    assert "statement" in schemas["CreationOut"]["properties"]
    assert "statement" in schemas["WebReissueOut"]["properties"]


def _garbling_statements(app):
    """ASGI middleware: the creation answer's statement replaced by something not a code."""
    import json

    async def middleware(scope, receive, send):
        if scope["type"] != "http" or scope["path"] != "/v1/dmp":
            return await app(scope, receive, send)
        held = {}

        async def capture(message):
            if message["type"] == "http.response.start":
                held["start"] = message
                return None
            body = json.loads(message["body"]) if message["body"] else {}
            if "statement" in body:
                body["statement"] = "DMP1:é\u0000" * 3
            data = json.dumps(body).encode()
            start = dict(held["start"])
            start["headers"] = [
                (k, str(len(data)).encode() if k == b"content-length" else v)
                for k, v in start["headers"]
            ]
            await send(start)
            await send({"type": "http.response.body", "body": data})

        await app(scope, receive, capture)

    return middleware


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"document_signer": None}, id="no-signing-key"),
        pytest.param({"wrap": _garbling_statements}, id="statement-not-a-code"),
    ],
)
async def test_a_creation_without_a_statement_is_still_a_creation(serve, pki, tls, overrides):
    """A service without a signing key answers no statement; a statement that is not a code
    is dropped by the client, not the creation."""
    from proclient.credentials.software import unlock_demo
    from proclient.service.client import DmpServiceClient

    server = serve(**overrides)
    async with DmpServiceClient(server.base_url, verify=tls.context) as client:
        await client.login(unlock_demo(pki.default))
        await insi_ready(server.storage, client, LE_GOFF)
        result = await client.submit(creation(), key())
    assert result.dmp_id and result.statement is None
