"""Real network faults on loopback: the service stopped, a port that accepts and never answers,
a TLS handshake refused (an alert answers the ClientHello), a certificate from another CA.

The health check says so, and a login gives up within its own short budget (not the writes'
retry budget) with one French sentence. No sleeps: the faults are real sockets and servers."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import trustme
import uvicorn

from proclient.controllers.creation import PROBE_DOWN_FIRST, CreationController, Reachability
from proclient.core.problems import problem_message
from proclient.ports import ServiceBinding
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


@pytest.mark.slow
async def test_login_against_a_stopped_service_says_so_in_one_sentence(tmp_path, pki, credential):
    service = LoopbackService(tmp_path, pki)
    service.stop()
    async with DmpServiceClient(service.url) as client:
        with pytest.raises(ServiceError) as raised:
            await client.login(credential)
    assert raised.value.code == "SERVICE_UNAVAILABLE"
    assert raised.value.message.startswith("Le service DMP ne répond pas")


@pytest.mark.slow
async def test_login_to_a_port_that_never_answers_gives_up(silent_port, credential):
    """It gives up with one sentence (how fast: benchmarks/login_unreachable.py, 4.5 s)."""
    async with DmpServiceClient(f"http://127.0.0.1:{silent_port}") as client:
        with pytest.raises(ServiceError) as raised:
            await client.login(credential)
        assert await client.health() is False
    assert raised.value.code == "SERVICE_UNAVAILABLE"


# --- TLS refused on loopback --------------------------------------------------------------------

# A fatal handshake_failure alert (TLS 1.2 record: type 21, version 3.3, length 2; level 2
# fatal, description 40): what a server that shares no protocol or cipher with the client sends.
HANDSHAKE_FAILURE_ALERT = bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])


class LoopbackListener:
    """A TCP listener on 127.0.0.1 whose thread hands each accepted connection to ``handle``
    (one at a time) and counts them. :meth:`stop` closes it and waits for the thread."""

    def __init__(self, handle: Callable[[socket.socket], None]) -> None:
        self._handle = handle
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(5)
                try:
                    self._handle(conn)
                except OSError:  # ssl.SSLError included: the client hung up or refused
                    pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        assert not self._thread.is_alive(), "the loopback listener did not stop"


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _refuse_the_handshake(conn: socket.socket) -> None:
    """Read the ClientHello's record, answer it with a fatal handshake_failure alert."""
    header = _read_exactly(conn, 5)
    if header[:1] != b"\x16":  # not a TLS handshake record: hang up
        return
    _read_exactly(conn, int.from_bytes(header[3:5], "big"))
    conn.sendall(HANDSHAKE_FAILURE_ALERT)


@pytest.fixture
def refusing_tls() -> Iterator[LoopbackListener]:
    """A loopback port that accepts TCP and answers every ClientHello with a TLS alert."""
    listener = LoopbackListener(_refuse_the_handshake)
    try:
        yield listener
    finally:
        listener.stop()


def _https_answering_health(context: ssl.SSLContext) -> Callable[[socket.socket], None]:
    """A connection handler: TLS with ``context``, then 200 to any request (the health)."""

    def handle(conn: socket.socket) -> None:
        with context.wrap_socket(conn, server_side=True) as tls_conn:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = tls_conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            body = b'{"status":"ok"}'
            tls_conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
            )

    return handle


@dataclass
class OtherCaServer:
    listener: LoopbackListener
    ca: trustme.CA  # the CA that signed its certificate (not the one the client trusts)


@pytest.fixture
def other_ca_server() -> Iterator[OtherCaServer]:
    """HTTPS on loopback with a certificate for 127.0.0.1 from a CA of its own."""
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    listener = LoopbackListener(_https_answering_health(context))
    try:
        yield OtherCaServer(listener, ca)
    finally:
        listener.stop()


async def _health_is_false(client: DmpServiceClient) -> None:
    assert await client.health() is False


async def _probe_after_one_check(client: DmpServiceClient) -> CreationController:
    controller = CreationController(lambda: ServiceBinding(client, None, "loopback"))
    assert controller.probe.state is Reachability.UNKNOWN
    await controller.start()  # opens the binding, then one health check
    return controller


async def test_refused_tls_handshake_is_unreachable_for_health_and_probe(refusing_tls):
    async with DmpServiceClient(f"https://127.0.0.1:{refusing_tls.port}") as client:
        await _health_is_false(client)
        controller = await _probe_after_one_check(client)
    assert controller.probe.state is Reachability.UNREACHABLE
    assert controller.probe.label().startswith("injoignable depuis ")
    assert controller.probe.next_delay() == PROBE_DOWN_FIRST
    assert refusing_tls.connections == 2  # the health check is never retried


async def test_login_to_a_service_refusing_the_tls_handshake_gives_up_in_one_sentence(
    refusing_tls, credential
):
    async with DmpServiceClient(f"https://127.0.0.1:{refusing_tls.port}") as client:
        with pytest.raises(ServiceError) as raised:
            await client.login(credential)
        assert not client.connected
    # A refused handshake is said as such (not « ne répond pas »: the service did answer)
    # and never retried: the same handshake would fail the same way.
    assert raised.value.code == "SERVICE_TLS_REFUSED"
    assert raised.value.message == problem_message("SERVICE_TLS_REFUSED")
    assert raised.value.message.startswith("Le service DMP a refusé la connexion sécurisée")
    assert refusing_tls.connections == 1


async def test_certificate_from_another_ca_is_unreachable_for_health_and_probe(
    other_ca_server, tls
):
    url = f"https://127.0.0.1:{other_ca_server.listener.port}"
    async with DmpServiceClient(url, verify=tls.context) as client:
        await _health_is_false(client)
        controller = await _probe_after_one_check(client)
    assert controller.probe.state is Reachability.UNREACHABLE
    assert controller.probe.next_delay() == PROBE_DOWN_FIRST
    # The control: the same server, trusted through its own CA, answers the health check.
    trusting = ssl.create_default_context()
    other_ca_server.ca.configure_trust(trusting)
    async with DmpServiceClient(url, verify=trusting) as client:
        assert await client.health() is True


async def test_login_to_a_service_with_a_certificate_from_another_ca_is_refused_at_once(
    other_ca_server, tls, credential
):
    url = f"https://127.0.0.1:{other_ca_server.listener.port}"
    async with DmpServiceClient(url, verify=tls.context) as client:
        with pytest.raises(ServiceError) as raised:
            await client.login(credential)
        assert not client.connected
    assert raised.value.code == "SERVICE_TLS"
    assert raised.value.message == problem_message("SERVICE_TLS")
    assert raised.value.message.startswith("Le certificat du service DMP n'est pas reconnu")
    assert other_ca_server.listener.connections == 1  # a TLS failure is never retried


async def test_a_read_gives_up_within_the_login_budget_not_the_write_budget(
    tmp_path, demo_pki_cache
):
    """Issue 21 point 6: the network gone with a session open, INSi and the status give up
    as the login does (« F5 » then), instead of retrying for the write's budget (17–20 s
    measured before). With a login budget of 0.3 s and a write budget of 120 s, the read ends
    long before the safety limit; before the fix it retried for the 120 s."""
    import asyncio
    import shutil

    from proclient.core.domain import Ins
    from proclient.credentials.software import unlock_demo
    from proclient.embedded_service import NetworkSwitch, embedded_client

    shutil.copytree(demo_pki_cache, tmp_path / "demo-pki")
    switch = NetworkSwitch()
    client, pki = embedded_client(tmp_path, switch=switch, login_budget=0.3, retry_budget=120.0)
    async with client:
        await client.login(unlock_demo(pki.default))
        switch.cut = True
        with pytest.raises(ServiceError) as raised:
            await asyncio.wait_for(
                client.status(Ins("152033523804587", "1.2.250.1.213.1.4.10")), timeout=60
            )
    assert raised.value.code == "SERVICE_UNAVAILABLE"
