"""The DMP service on loopback: a real uvicorn over HTTPS (trustme CA), in a thread."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import trustme
import uvicorn

from proclient.credentials.software import SoftwareCredential
from proclient.server.app import create_app
from proclient.server.demo import DemoPki, ensure_demo_pki
from proclient.server.settings import ServerSettings
from proclient.service.client import DmpServiceClient

from .helpers import FakeClock


@dataclass
class RunningServer:
    base_url: str
    settings: ServerSettings
    clock: FakeClock


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    return ensure_demo_pki(tmp_path_factory.mktemp("demo-pki"))


@pytest.fixture(scope="session")
def credential(pki: DemoPki) -> SoftwareCredential:
    return pki.default.unlock()


@dataclass(frozen=True)
class Tls:
    cert: Path
    key: Path
    ca_bundle: Path
    context: ssl.SSLContext  # a client context trusting only the test CA


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A trustme CA and its server certificate for 127.0.0.1."""
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    directory = tmp_path_factory.mktemp("tls")
    cert, key, bundle = directory / "server.pem", directory / "server.key", directory / "ca.pem"
    leaf.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(bundle))
    with cert.open("wb") as handle:
        for blob in leaf.cert_chain_pems:
            handle.write(blob.bytes())
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return Tls(cert, key, bundle, context)


@pytest.fixture
def serve(
    tmp_path: Path, pki: DemoPki, tls: Tls
) -> Iterator[Callable[..., RunningServer]]:
    """Start services on free loopback ports; all are stopped at the test's end."""
    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(**overrides: object) -> RunningServer:
        clock = FakeClock()
        settings = ServerSettings(
            database=tmp_path / f"dmp-{len(running)}.sqlite3",
            trusted_ca_pem=pki.ca_pem,
            clock=clock,
        )
        settings = replace(settings, **overrides)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(settings),
            ssl_certfile=str(tls.cert),
            ssl_keyfile=str(tls.key),
            log_config=None,  # let records reach pytest's caplog
            lifespan="off",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        running.append((server, thread))
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the DMP service did not start")
            time.sleep(0.01)
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        return RunningServer(f"https://127.0.0.1:{port}", settings, clock)

    yield start
    for server, _thread in running:
        server.should_exit = True
    for _server, thread in running:
        thread.join(timeout=10)
        assert not thread.is_alive(), "the DMP service did not stop"


@pytest.fixture
def server(serve: Callable[..., RunningServer]) -> RunningServer:
    return serve()


@pytest.fixture
async def client(server: RunningServer, tls: Tls) -> AsyncIterator[DmpServiceClient]:
    service = DmpServiceClient(server.base_url, verify=tls.context)
    yield service
    await service.aclose()


@pytest.fixture
async def connected(client: DmpServiceClient, credential: SoftwareCredential) -> DmpServiceClient:
    await client.login(credential)
    return client
