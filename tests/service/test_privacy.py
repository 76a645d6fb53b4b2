"""Health data rules: what the service writes to disk and to the logs."""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest

from proclient.core.domain import WebAccess, format_nir
from proclient.service.errors import ServiceError

from .helpers import LE_GOFF, creation, insi_ready, patient

CASANOVA = patient("291092A00401281", "19910905", "CASANOVA-ORSINI", "MARIE-ANGE")

TABLES = (
    "meta",
    "challenges",
    "sessions",
    "dmps",
    "web_accounts",
    "consents",
    "authorizations",
    "idempotency",
    "audit",
    "auth_failures",
    "schema_version",
    "insi_identities",
    "insi_history",
    "insi_answers",
)


def stored_bytes(server) -> bytes:
    """Everything the service keeps: the SQLite files (with -wal and -shm), or every row of
    every table on PostgreSQL."""
    if server.storage.db.dialect == "sqlite":
        database = server.storage.path
        return b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))
    rows = []
    with server.storage.read() as conn:
        for table in TABLES:
            rows += conn.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608
    return repr(rows).encode()


async def test_initial_password_and_token_are_neither_stored_nor_logged(connected, server, caplog):
    caplog.set_level(logging.DEBUG)
    await insi_ready(server.storage, connected, LE_GOFF, CASANOVA)
    web = WebAccess(email="gerard.legoff@exemple.fr", mobile="+33612345678")
    key = str(uuid.uuid4())
    result = await connected.submit(creation(web=web), key)
    await connected.submit(creation(web=web), key)  # the replay is stored too
    await connected.status(LE_GOFF.ins)
    await connected.submit(creation(CASANOVA), str(uuid.uuid4()))
    opened = await connected.open_web_access(CASANOVA.ins, web, str(uuid.uuid4()))
    password, token = result.web.initial_password, connected._token
    assert password and opened.initial_password and token

    stored = stored_bytes(server)
    assert password.encode() not in stored
    assert opened.initial_password.encode() not in stored
    assert token.encode() not in stored
    # The NIR is stored (DMPs are looked up by INS): this proves the check reads the data.
    assert LE_GOFF.ins.value.encode() in stored

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/v1/dmp" in logged, "the access log was not captured"
    for secret in (
        password,
        opened.initial_password,
        token,
        LE_GOFF.ins.value,
        format_nir(LE_GOFF.ins.value),
        CASANOVA.ins.value,
        LE_GOFF.last_name,
        LE_GOFF.first_name,
        CASANOVA.last_name,
        CASANOVA.first_name,
        "gerard.legoff",
        "612345678",
    ):
        assert secret not in logged


async def test_refusals_quote_nothing_from_the_request(connected):
    bad = creation(web=WebAccess(email="not-an-address-" + LE_GOFF.ins.value, mobile=None))
    with pytest.raises(ServiceError) as refused:
        await connected.submit(bad, str(uuid.uuid4()))
    assert refused.value.code == "EMAIL"
    assert LE_GOFF.ins.value not in str(refused.value)
    assert LE_GOFF.ins.value not in repr(refused.value)


async def test_malformed_request_is_refused_without_echoing_it(server, tls, connected):
    body = {
        "patient": {
            "ins": {"value": LE_GOFF.ins.value, "oid": LE_GOFF.ins.oid},
            "last_name": LE_GOFF.last_name,
            "birth_date": "1952-03-14",
        },
        "consent": {"creation": "oui", "samu_access": True, "break_glass_access": True},
    }
    headers = {"Authorization": f"Bearer {connected._token}", "Idempotency-Key": "k1"}
    async with httpx.AsyncClient(base_url=server.base_url, verify=tls.context) as http:
        response = await http.post("/v1/dmp", json=body, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "VALIDATION"
    assert "patient.birth_date" in problem["detail"] and "consent.creation" in problem["detail"]
    assert LE_GOFF.ins.value not in response.text and LE_GOFF.last_name not in response.text
