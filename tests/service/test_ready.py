"""Readiness (``GET /v1/ready``), distinct from liveness (``/v1/health``): ready only when the
database answers and its schema is this release's; what a load balancer's health check asks
(docs/service.md)."""

from __future__ import annotations

import socket

import httpx

from proclient.server.app import create_app
from proclient.server.database import SCHEMA_VERSION, PostgresDatabase, open_database
from proclient.server.settings import ServerSettings


async def test_the_running_service_is_ready(server, tls):
    async with httpx.AsyncClient(base_url=server.base_url, verify=tls.context) as http:
        ready = await http.get("/v1/ready")
        live = await http.get("/v1/health")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}
    assert live.status_code == 200


def test_a_schema_behind_this_release_is_not_ready(database_url):
    db = open_database(database_url())
    try:
        db.migrate()
        assert db.ready()
        with db.transaction() as conn:
            conn.execute("DELETE FROM schema_version WHERE version = ?", (SCHEMA_VERSION,))
        assert not db.ready()
    finally:
        db.close()


async def test_not_ready_is_503_with_retry_after(tmp_path, pki):
    app = create_app(ServerSettings(database=tmp_path / "d.db", trusted_ca_pem=pki.ca_pem))
    storage = app.state.storage
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            assert (await http.get("/v1/ready")).status_code == 200
            with storage.transaction() as conn:  # as during a release's migration
                conn.execute("DELETE FROM schema_version WHERE version = ?", (SCHEMA_VERSION,))
            refused = await http.get("/v1/ready")
            assert refused.status_code == 503 and refused.json() == {"status": "not_ready"}
            assert refused.headers["Retry-After"] == "5"
            assert (await http.get("/v1/health")).status_code == 200  # alive all the same
    finally:
        storage.close()


def test_an_unreachable_postgresql_is_not_ready():
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    db = PostgresDatabase(f"postgresql://postgres@127.0.0.1:{port}/none?connect_timeout=1")
    try:
        assert not db.ready()  # within PROBE_TIMEOUT, not the pool's 30 s
    finally:
        db.close()
