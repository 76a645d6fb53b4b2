"""An authenticated request takes one thread-pool hop: the session is looked up by the route,
in its own thread, after an ``async`` dependency that only checks the token's presence
(server/ecps_sessions.py). The order of refusals that follows from it."""

from __future__ import annotations

import anyio.to_thread
import httpx
import pytest

from proclient.server.app import create_app
from proclient.server.settings import ServerSettings

from .helpers import LE_GOFF
from .test_openapi import login

STATUS = {"ins": {"value": LE_GOFF.ins.value, "oid": LE_GOFF.ins.oid}}


@pytest.fixture
def app(database_url, pki):
    app = create_app(ServerSettings(database=database_url(), trusted_ca_pem=pki.ca_pem))
    yield app
    app.state.storage.close()


async def test_an_authenticated_request_takes_one_thread_pool_hop(app, credential, monkeypatch):
    token = await login(app, credential)
    hops: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counting(func, *args, **kwargs):
        hops.append(getattr(func, "__name__", repr(func)))
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dmp.test") as http:
        answer = await http.post(
            "/v1/dmp/status", json=STATUS, headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "not_found"
    assert len(hops) == 1, hops  # the route alone: the session is read in its thread


async def test_refusals_keep_their_order_without_the_dependency_hop(app, credential):
    token = await login(app, credential)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dmp.test") as http:
        # No token: 401 before the body is looked at, even a malformed one.
        missing = await http.post("/v1/dmp/status", json={})
        # A token, malformed body: 422, nothing read for the token.
        malformed = await http.post(
            "/v1/dmp/status", json={}, headers={"Authorization": "Bearer forged"}
        )
        # A token unknown to the service, a well-formed body: 401.
        forged = await http.post(
            "/v1/dmp/status", json=STATUS, headers={"Authorization": "Bearer forged"}
        )
        # The real session: its answer.
        good = await http.post(
            "/v1/dmp/status", json=STATUS, headers={"Authorization": f"Bearer {token}"}
        )
    assert (missing.status_code, missing.json()["code"]) == (401, "AUTH_REQUIRED")
    assert malformed.status_code == 422, malformed.text
    assert (forged.status_code, forged.json()["code"]) == (401, "AUTH_REQUIRED")
    assert good.status_code == 200, good.text
