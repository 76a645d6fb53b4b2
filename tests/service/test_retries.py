"""Lost answers and busy services: the Idempotency-Key makes retries safe, and the client
retries only what may pass on a second try.

The middlewares below stand in for what cannot be staged otherwise on one machine: an
overloaded front (503/429) and a network that loses an answer after the service committed.
The service behind them, uvicorn, TLS and the database are the real ones."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from proclient.service.client import DmpServiceClient
from proclient.service.errors import ServiceError

from .helpers import LE_GOFF, creation, insi_ready, put_in_register
from .test_creation import key

ROOT = Path(__file__).resolve().parents[2]


class Overloaded:
    """Answers the first ``busy`` writes with ``status`` and Retry-After; counts writes."""

    def __init__(self, busy: int, status: int = 503, retry_after: str = "1") -> None:
        self.busy, self.status, self.retry_after = busy, status, retry_after
        self.writes = 0

    def wrap(self, app):
        async def middleware(scope, receive, send):
            if scope["type"] == "http" and scope["path"] == "/v1/dmp":
                self.writes += 1
                if self.writes <= self.busy:
                    await send(
                        {
                            "type": "http.response.start",
                            "status": self.status,
                            "headers": [
                                (b"retry-after", self.retry_after.encode()),
                                (b"content-type", b"text/plain"),
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": b"busy"})
                    return
            await app(scope, receive, send)

        return middleware


@pytest.mark.slow
async def test_503_and_429_are_retried_after_retry_after(serve, tls, credential):
    for status in (503, 429):
        front = Overloaded(busy=2, status=status)
        running = serve(wrap=front.wrap)
        async with DmpServiceClient(running.base_url, verify=tls.context) as client:
            await client.login(credential)
            await insi_ready(running.storage, client, LE_GOFF)
            started = time.monotonic()
            result = await client.submit(creation(), key())
            waited = time.monotonic() - started
        assert result.dmp_id
        assert front.writes == 3, status
        assert waited >= 2.0  # two Retry-After: 1 honoured, not hammered


async def test_each_retry_is_told_and_the_creation_made_once(serve, tls, credential):
    """A host gone or a failover answers 503: the client tells its screen before each new
    try (« nouvelle tentative… »), and the same Idempotency-Key makes one DMP."""
    front = Overloaded(busy=2, status=503, retry_after="0")
    running = serve(wrap=front.wrap)
    told: list[str] = []
    async with DmpServiceClient(running.base_url, verify=tls.context) as client:
        await client.login(credential)
        await insi_ready(running.storage, client, LE_GOFF)
        client.on_retry = told.append
        result = await client.submit(creation(), key())
    assert result.dmp_id
    assert front.writes == 3
    assert told == ["/v1/dmp", "/v1/dmp"]
    with running.storage.read() as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM dmps").fetchone()
    assert count == 1


async def test_a_refusal_is_never_retried(serve, tls, credential):
    front = Overloaded(busy=0)
    running = serve(wrap=front.wrap)
    async with DmpServiceClient(running.base_url, verify=tls.context) as client:
        await client.login(credential)
        await insi_ready(running.storage, client, LE_GOFF)
        await client.submit(creation(), key())
        try:
            await client.submit(creation(), key())
        except ServiceError as error:
            assert error.code == "DMPFound"
        else:
            raise AssertionError("a second DMP was created")
    assert front.writes == 2


async def test_retries_stop_at_the_time_budget(serve, tls, credential):
    front = Overloaded(busy=100, retry_after="1")
    running = serve(wrap=front.wrap)
    async with DmpServiceClient(running.base_url, verify=tls.context, retry_budget=2.5) as client:
        await client.login(credential)
        await insi_ready(running.storage, client, LE_GOFF)
        try:
            await client.submit(creation(), key())
        except ServiceError as error:
            assert error.code == "SERVICE_UNAVAILABLE"
        else:
            raise AssertionError("an overloaded service answered")
    assert 2 <= front.writes <= 4


class LosesAnswers:
    """Holds the answer to a creation once the service has produced it (so committed) until
    released: the workstation can be killed in between."""

    def __init__(self) -> None:
        self.committed = threading.Event()
        self.release = threading.Event()

    def wrap(self, app):
        async def middleware(scope, receive, send):
            if scope["type"] != "http" or scope["path"] != "/v1/dmp" or self.release.is_set():
                return await app(scope, receive, send)

            async def held(message):
                if message["type"] == "http.response.start":
                    self.committed.set()
                    while not self.release.is_set():
                        await asyncio.sleep(0.05)
                await send(message)

            await app(scope, receive, held)

        return middleware


def workstation(running, tls, pki, journal: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.service.workstation",
            running.base_url,
            str(tls.ca_bundle),
            str(pki.directory),
            str(journal),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def count_dmps(running) -> int:
    with running.storage.read() as conn:
        return conn.execute("SELECT COUNT(*) FROM dmps").fetchone()[0]


async def test_workstation_killed_after_the_commit_gets_one_dmp_on_restart(
    serve, tls, pki, tmp_path
):
    network = LosesAnswers()
    running = serve(wrap=network.wrap)
    put_in_register(running.storage, LE_GOFF)  # the workstation looks LE GOFF up first
    journal = tmp_path / "pending"
    first = workstation(running, tls, pki, journal)
    try:
        committed = await asyncio.to_thread(network.committed.wait, 30)
        assert committed, first.stderr.read() if first.poll() is not None else "no creation"
        first.send_signal(signal.SIGKILL)  # the answer never reaches it
        first.wait(10)
    finally:
        network.release.set()
        if first.poll() is None:
            first.kill()
    sent_key = json.loads(first.stdout.readline())["key"]
    assert first.returncode == -signal.SIGKILL
    assert count_dmps(running) == 1
    assert len(list(journal.glob("*.key"))) == 1  # the key waits for its answer

    again = workstation(running, tls, pki, journal)
    out, err = await asyncio.to_thread(again.communicate, timeout=60)
    assert again.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0]["key"] == sent_key
    assert lines[1]["dmp_id"]
    # The password went out with the lost answer: the replay says so instead of a new one.
    assert lines[1]["password_received"] is False
    assert count_dmps(running) == 1
    assert not list(journal.glob("*.key"))
    with running.storage.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM web_accounts").fetchone()[0] == 1
