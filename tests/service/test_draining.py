"""SIGTERM drains (server/draining.py), on a real ``proclient serve`` over HTTPS on loopback.

A request is held in flight by sending its head and only part of its body. After SIGTERM
the process turns new requests away (503 SERVICE_BUSY, Retry-After, Connection: close),
answers ``/v1/ready`` not_ready and ``/v1/health`` ok, finishes the held request (its
answer closes its connection), and only then exits, with status 0."""

from __future__ import annotations

import os
import re
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from proclient.server.demo import ensure_demo_pki

from .test_workers import (
    Service,
    alive,
    free_port,
    port_is_free,
    stop_service,
    wait_until,
)


def start(tmp_path: Path, workers: int, settings: str) -> Service:
    """``proclient serve --init-demo --workers N`` on SQLite, ``settings`` in its [server]."""
    home = tmp_path / "home"
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f"[server]\n{settings}\n", encoding="utf-8")
    port = free_port()
    log = home / "serve.log"
    env = {**os.environ, "PROCLIENT_HOME": str(home)}
    env.pop("PROCLIENT_SERVER_DATABASE", None)
    command = [sys.executable, "-m", "proclient.cli", "serve", "--init-demo"]
    command += ["--workers", str(workers), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--database", f"sqlite:///{tmp_path / 'dmp.sqlite3'}"]
    with log.open("ab") as stderr:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    ca = home / "data" / "server" / "demo" / "pki" / "ca.pem"
    service = Service(process, f"https://127.0.0.1:{port}", None, None, log, port, "")  # type: ignore[arg-type]

    def started() -> bool:
        if process.poll() is not None:
            raise AssertionError(log.read_text())
        text = log.read_text(encoding="utf-8", errors="replace")
        if workers == 1:  # one process starts its app, then listens
            return "Uvicorn running on" in text and ca.exists()
        up = [pid for pid in service.workers() if f"[{pid}] Application startup complete" in text]
        return len(up) == workers and ca.exists()

    try:
        wait_until(started, "the service to start", 60)
    except BaseException:
        process.kill()
        process.wait(30)
        raise
    service.pki = ensure_demo_pki(ca.parent)
    service.context = ssl.create_default_context(cafile=str(ca))
    return service


BODY = b'{"ins": "x"}'


def _held_request(service: Service) -> ssl.SSLSocket:
    """A POST whose head and half its body reached the service: in flight until the rest."""
    raw = socket.create_connection(("127.0.0.1", service.port))
    conn = service.context.wrap_socket(raw, server_hostname="127.0.0.1")
    body = BODY
    head = (
        "POST /v1/auth/session HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    conn.sendall(head.encode() + body[:5])
    return conn


def _answer(conn: ssl.SSLSocket) -> bytes:
    conn.settimeout(30)
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return data


def _drain_started(service: Service, since: int, count: int) -> None:
    """Wait for ``count`` processes to say they drain with the held request in flight (the
    health check's may still be finishing: one or two)."""
    seen = re.compile(r"SIGTERM: draining \(([12]) request\(s\) in flight\)")
    try:
        wait_until(lambda: len(seen.findall(service.text()[since:])) == count, "the drain", 30)
    except AssertionError:
        raise AssertionError(f"the drain did not start as expected:\n{service.text()}") from None


def _in_flight(service: Service) -> ssl.SSLSocket:
    """A held request, then a health check on another connection answered after it: by then
    the held request's head has been read and its handler started (the drain's log line
    says how many were in flight, so a lost race fails the test rather than passing it)."""
    held = _held_request(service)
    with httpx.Client(base_url=service.url, verify=service.context) as http:
        assert http.get("/v1/health").status_code == 200
    return held


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_turns_new_requests_away_and_finishes_the_one_in_flight(tmp_path, workers):
    service = start(tmp_path, workers, "drain_seconds = 30")
    held = None
    try:
        if workers == 2:
            # SIGTERM to the supervisor reaches every worker: hold a request on each.
            held = []
            for worker in service.workers():
                with service.only(worker):
                    held.append(_in_flight(service))
        else:
            held = [_in_flight(service)]
        since = len(service.text())
        service.process.send_signal(signal.SIGTERM)
        _drain_started(service, since, workers)
        with httpx.Client(base_url=service.url, verify=service.context) as http:
            refused = http.post("/v1/auth/challenge")
            ready = http.get("/v1/ready")
            health = http.get("/v1/health")
        assert refused.status_code == 503
        assert refused.json()["code"] == "SERVICE_BUSY"
        assert refused.headers["retry-after"] == "1"
        assert refused.headers["connection"] == "close"
        assert ready.status_code == 503 and ready.json() == {"status": "not_ready"}
        assert health.status_code == 200
        assert service.process.poll() is None  # still waiting for the held requests
        for conn in held:
            conn.sendall(BODY[5:])  # the rest of the body: the request ends (a refusal)
            answer = _answer(conn)
            assert answer.startswith(b"HTTP/1.1 4"), answer[:40]
            assert b"connection: close" in answer.lower()
        returncode = service.process.wait(60)
    finally:
        for conn in held or []:
            conn.close()
        stop_service(service)
    text = service.text()
    # uvicorn ends by re-raising the signal it stopped on (systemd counts SIGTERM as clean);
    # the supervisor of several workers exits 0.
    assert returncode == (0 if workers == 2 else -signal.SIGTERM), text
    assert text.count("drained: no request left in flight") == workers
    assert "Traceback" not in text
    wait_until(lambda: not alive(service.process.pid), "the service to end")
    assert port_is_free(service.port)


def test_the_drain_budget_bounds_a_request_that_never_ends(tmp_path):
    """A client that never sends the rest of its body does not hold the stop beyond the
    budget: the service exits after drain_seconds (then uvicorn's own graceful wait)."""
    service = start(tmp_path, 1, "drain_seconds = 1\nbody_timeout = 120")
    held = None
    try:
        held = _in_flight(service)
        since = len(service.text())
        service.process.send_signal(signal.SIGTERM)
        _drain_started(service, since, 1)
        try:
            returncode = service.process.wait(60)
        except subprocess.TimeoutExpired:
            returncode = None
    finally:
        if held is not None:
            held.close()
        stop_service(service)
    assert returncode == -signal.SIGTERM, service.text()
    assert "1 request(s) still in flight after 1 s" in service.text()


def test_path_constants_match_the_routes():
    """The gate's two exempt paths are the app's liveness and readiness routes."""
    from proclient.server import app as app_module
    from proclient.server.draining import LIVENESS, READINESS

    source = Path(app_module.__file__).read_text(encoding="utf-8")
    assert f'"{LIVENESS}"' in source and f'"{READINESS}"' in source
