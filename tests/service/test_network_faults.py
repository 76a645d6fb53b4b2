"""Real network faults on loopback: the service stopped, a port that accepts and never answers.

The health check says so, and a login gives up within its own short budget (not the writes'
retry budget) with one French sentence. No sleeps: the faults are real sockets and servers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from proclient.server.app import create_app
from proclient.server.settings import ServerSettings
from proclient.service.client import DmpServiceClient
from proclient.service.errors import ServiceError

from .helpers import FakeClock


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port whose listener accepts connections and never answers a byte."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _addr = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(conn)  # held open, never read nor answered

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    for conn in accepted:
        conn.close()
    listener.close()


class LoopbackService:
    """The real DMP service (plain HTTP on loopback, as settings allow there) that a test
    can stop."""

    def __init__(self, tmp_path, pki) -> None:
        settings = ServerSettings(
            database=tmp_path / "dmp.sqlite3", trusted_ca_pem=pki.ca_pem, clock=FakeClock()
        )
        self.app = create_app(settings)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(self.app, log_config=None, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the DMP service did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "the DMP service did not stop"
        self.app.state.storage.close()


async def test_health_says_unreachable_once_the_service_is_stopped(tmp_path, pki):
    service = LoopbackService(tmp_path, pki)
    try:
        async with DmpServiceClient(service.url) as client:
            assert await client.health() is True
            service.stop()
            assert await client.health() is False
    finally:
        if service.thread.is_alive():
            service.stop()


async def test_login_against_a_stopped_service_says_so_in_one_sentence(tmp_path, pki, credential):
    service = LoopbackService(tmp_path, pki)
    service.stop()
    async with DmpServiceClient(service.url) as client:
        with pytest.raises(ServiceError) as raised:
            await client.login(credential)
    assert raised.value.code == "SERVICE_UNAVAILABLE"
    assert raised.value.message.startswith("Le service DMP ne répond pas")


async def test_login_to_a_port_that_never_answers_gives_up_within_its_budget(
    silent_port, credential
):
    async with DmpServiceClient(f"http://127.0.0.1:{silent_port}") as client:
        started = time.monotonic()
        with pytest.raises(ServiceError) as raised:
            await client.login(credential)
        elapsed = time.monotonic() - started
        assert await client.health() is False
    print(f"login against a silent port: gave up after {elapsed:.1f} s")
    assert raised.value.code == "SERVICE_UNAVAILABLE"
    # A behaviour check, not a timing one: the writes' 20 s budget would exceed it.
    assert elapsed < 15
