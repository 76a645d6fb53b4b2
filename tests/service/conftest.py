"""The DMP service on loopback: a real uvicorn over HTTPS (trustme CA), in a thread, on
SQLite and on a real PostgreSQL (``backend``: every test that starts a service runs on both).

Two ways to a service:

- ``server`` (and ``client``, ``connected`` on top of it): the service with the default
  settings. The listener (uvicorn, TLS, its port) and the database are the session's, one per
  backend and per xdist worker; each test gets a service of its own on them: its tables
  emptied, a new app (new settings, a new FakeClock, a new Storage, nothing in memory from the
  test before). A new test that needs a service with the default settings takes ``server``.
- ``serve(**overrides)``: a service of its own (uvicorn, database, app) with other settings, a
  certificate of its own or middleware in front (``wrap``). A test that needs ``server`` but
  cannot share the listener or the database (it stops the service, it reads the database file
  as a whole…) is marked ``@pytest.mark.own_server``: its ``server`` is then ``serve()``.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
import trustme
import uvicorn

from proclient.credentials.software import SoftwareCredential, unlock_demo
from proclient.server.app import create_app
from proclient.server.demo import DemoPki, ensure_demo_pki
from proclient.server.settings import ServerSettings
from proclient.server.signing_key import DocumentSigner, load_or_create_signer
from proclient.server.storage import Storage
from proclient.service.client import DmpServiceClient

from .ecps_helpers import Workstation
from .helpers import FakeClock


@dataclass
class RunningServer:
    base_url: str
    settings: ServerSettings
    clock: FakeClock
    storage: Storage  # the service's own (closed with it)


POSTGRES_URL = os.environ.get("PROCLIENT_TEST_POSTGRES_URL")


def require_postgres() -> str:
    """The admin URL of the test PostgreSQL, or a skip (a failure under
    PROCLIENT_REQUIRE_REAL=1) saying how to get one."""
    if POSTGRES_URL:
        return POSTGRES_URL
    reason = (
        "PostgreSQL absent: PROCLIENT_TEST_POSTGRES_URL is not set "
        "(source scripts/services/postgres.sh)"
    )
    if os.environ.get("PROCLIENT_REQUIRE_REAL"):
        pytest.fail(reason + " and PROCLIENT_REQUIRE_REAL is set")
    pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        require_postgres()
    return request.param


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[Callable[[], str | Path]]:
    """Fresh, empty databases on ``backend``: a SQLite file, or a PostgreSQL schema of its
    own (dropped afterwards) reached through the URL's search_path."""
    made: list[str] = []

    def make() -> str | Path:
        if backend == "sqlite":
            return tmp_path / f"dmp-{len(made)}-{uuid.uuid4().hex[:6]}.sqlite3"
        import psycopg

        schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        made.append(schema)
        return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"

    yield make
    if made:
        import psycopg

        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            for schema in made:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(scope="session")
def pki(demo_pki_cache: Path) -> DemoPki:
    """The run's demo PKI (tests/conftest.py: made once, read only)."""
    return ensure_demo_pki(demo_pki_cache)


@pytest.fixture(scope="session")
def document_signer(pki: DemoPki, tmp_path_factory: pytest.TempPathFactory) -> DocumentSigner:
    """The services' document-signing key (issued by the demo CA), one per run: every service
    of the tests signs its statements with it unless given ``document_signer=None``."""
    return load_or_create_signer(tmp_path_factory.mktemp("document-signing"), pki.ca())


@pytest.fixture(scope="session")
def credential(pki: DemoPki) -> SoftwareCredential:
    return unlock_demo(pki.default)


@dataclass(frozen=True)
class Tls:
    cert: Path
    key: Path
    ca_bundle: Path
    context: ssl.SSLContext  # a client context trusting only the test CA
    ca: trustme.CA

    def issue(self, directory: Path, *hosts: str, **options) -> tuple[Path, Path]:
        """Another server certificate from the same CA (other names, other dates)."""
        leaf = self.ca.issue_cert(*hosts, **options)
        cert = directory / f"{uuid.uuid4().hex[:8]}.pem"
        key = directory / f"{cert.stem}.key"
        leaf.private_key_pem.write_to_path(str(key))
        with cert.open("wb") as handle:
            for blob in leaf.cert_chain_pems:
                handle.write(blob.bytes())
        return cert, key


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
    return Tls(cert, key, bundle, context, ca)


def _listen(app, cert: Path, key: Path) -> tuple[uvicorn.Server, threading.Thread, int]:
    """uvicorn serving ``app`` over TLS on a free loopback port, in a thread; returns once it
    accepts connections."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
        log_config=None,  # let records reach pytest's caplog
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the DMP service did not start")
        time.sleep(0.01)
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    return server, thread, port


class Switch:
    """An ASGI app that passes each request to the test's app of the moment (``app``)."""

    def __init__(self) -> None:
        self.app = None

    async def __call__(self, scope, receive, send) -> None:
        app = self.app
        if app is None:  # between two tests: as a service that is not there yet
            if scope["type"] == "http":
                await send({"type": "http.response.start", "status": 503, "headers": []})
                await send({"type": "http.response.body", "body": b""})
            return
        await app(scope, receive, send)


# Every table's rows go between two tests; the schema's version stays (the schema does).
_KEPT_TABLES = frozenset({"schema_version"})


@dataclass
class SharedListener:
    """One backend's listener and database for the session (see the module's docstring)."""

    base_url: str
    database: str | Path
    switch: Switch
    admin: Storage  # the reset's own connection to ``database``

    def empty(self) -> None:
        """Every row of every table gone (the schema and its version stay)."""
        db = self.admin.db
        with db.transaction() as conn:
            if db.dialect == "sqlite":
                conn.execute("PRAGMA defer_foreign_keys = ON")  # all rows go: checked at commit
                names = conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%'"
                ).fetchall()
                for (name,) in names:
                    if name not in _KEPT_TABLES:
                        conn.execute(f"DELETE FROM {name}")  # noqa: S608 (catalogue names)
            else:
                names = conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                ).fetchall()
                emptied = [name for (name,) in names if name not in _KEPT_TABLES]
                if emptied:
                    conn.execute(f"TRUNCATE {', '.join(emptied)} RESTART IDENTITY CASCADE")


@pytest.fixture(scope="session")
def shared_listeners(
    pki: DemoPki, tls: Tls, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], SharedListener]]:
    """The session's listener and database of each backend, started when first asked for;
    all stopped (and the PostgreSQL schema dropped) when the session ends."""
    started: dict[str, SharedListener] = {}
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []
    schemas: list[str] = []

    def get(backend: str) -> SharedListener:
        if backend in started:
            return started[backend]
        if backend == "sqlite":
            database: str | Path = tmp_path_factory.mktemp("shared-db") / "dmp.sqlite3"
        else:
            import psycopg

            schema = f"shared_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(require_postgres(), autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {schema}")
            schemas.append(schema)
            database = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        admin = Storage(database)
        admin.db.migrate()
        switch = Switch()
        server, thread, port = _listen(switch, tls.cert, tls.key)
        servers.append((server, thread))
        started[backend] = SharedListener(f"https://127.0.0.1:{port}", database, switch, admin)
        return started[backend]

    yield get
    for server, _thread in servers:
        server.should_exit = True
    for _server, thread in servers:
        thread.join(timeout=10)
    for shared in started.values():
        shared.admin.close()
    if schemas:
        import psycopg

        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
    assert not any(thread.is_alive() for _server, thread in servers), "a service did not stop"


@pytest.fixture
def serve(
    database_url: Callable[[], str | Path],
    pki: DemoPki,
    tls: Tls,
    document_signer: DocumentSigner,
) -> Iterator[Callable[..., RunningServer]]:
    """Start services on free loopback ports; all are stopped at the test's end."""
    running: list[tuple[uvicorn.Server, threading.Thread]] = []
    apps = []

    def start(
        *, certificate: tuple[Path, Path] | None = None, wrap=None, **overrides: object
    ) -> RunningServer:
        """``certificate``: (chain, key) instead of the trustme one; ``wrap``: an ASGI
        middleware factory put in front of the app."""
        clock = FakeClock()
        settings = ServerSettings(
            database=database_url(),
            trusted_ca_pem=pki.ca_pem,
            clock=clock,
            document_signer=document_signer,
        )
        settings = replace(settings, **overrides)
        app = create_app(settings)
        apps.append(app)
        cert, key = certificate or (tls.cert, tls.key)
        server, thread, port = _listen(wrap(app) if wrap else app, cert, key)
        running.append((server, thread))
        return RunningServer(f"https://127.0.0.1:{port}", settings, clock, app.state.storage)

    yield start
    for server, _thread in running:
        server.should_exit = True
    for _server, thread in running:
        thread.join(timeout=10)
        assert not thread.is_alive(), "the DMP service did not stop"
    for app in apps:
        app.state.storage.close()  # the PostgreSQL pool; lifespan is off here
        if app.state.psc is not None:
            app.state.psc.close()  # its connections to the PSC stand-in


@pytest.fixture
def server(
    request: pytest.FixtureRequest,
    backend: str,
    serve: Callable[..., RunningServer],
    shared_listeners: Callable[[str], SharedListener],
    pki: DemoPki,
    document_signer: DocumentSigner,
) -> Iterator[RunningServer]:
    """The service with the default settings: on the session's listener and database for
    ``backend`` (emptied, with a new app), or ``serve()`` under ``own_server``."""
    if request.node.get_closest_marker("own_server") is not None:
        yield serve()
        return
    shared = shared_listeners(backend)
    shared.empty()
    clock = FakeClock()
    settings = ServerSettings(
        database=shared.database,
        trusted_ca_pem=pki.ca_pem,
        clock=clock,
        document_signer=document_signer,
    )
    app = create_app(settings)
    shared.switch.app = app
    try:
        yield RunningServer(shared.base_url, settings, clock, app.state.storage)
    finally:
        shared.switch.app = None
        app.state.storage.close()


@pytest.fixture
async def client(server: RunningServer, tls: Tls) -> AsyncIterator[DmpServiceClient]:
    service = DmpServiceClient(server.base_url, verify=tls.context)
    yield service
    await service.aclose()


@pytest.fixture
async def connected(client: DmpServiceClient, credential: SoftwareCredential) -> DmpServiceClient:
    await client.login(credential)
    return client


# --- e-CPS: the Pro Santé Connect stand-in and a service that uses it -------------------------


class StandInClock:
    """The stand-in's clock (epoch seconds): the current test's service clock plus ``offset``
    (0: both clocks move together; a test that drives them apart sets it)."""

    def __init__(self) -> None:
        self.service: FakeClock | None = None
        self.offset = 0.0

    def __call__(self) -> float:
        base = self.service().timestamp() if self.service is not None else time.time()
        return base + self.offset


@dataclass
class RunningPscStandIn:
    psc: object  # tests/psc_support.RunningPsc
    clock: StandInClock


@pytest.fixture(scope="session")
def psc_standin(tls: Tls) -> Iterator[RunningPscStandIn]:
    """One stand-in per session (per xdist worker) over TLS on loopback; stopped at the end."""
    from tests.psc_support import running_standin

    clock = StandInClock()
    with running_standin(tls.cert, tls.key, clock=clock) as psc:
        yield RunningPscStandIn(psc, clock)


@dataclass
class EcpsServer(RunningServer):
    psc: object = None  # tests/psc_support.RunningPsc
    standin_clock: StandInClock | None = None
    app: object = None  # the service's app (its PSC client: app.state.psc)

    @property
    def standin(self):
        return self.psc.standin  # type: ignore[attr-defined]

    def advance(self, seconds: float) -> None:
        """Both clocks move on ``seconds`` (nobody waits)."""
        self.clock.advance(seconds=seconds)


def psc_settings_for(psc, tls: Tls, **overrides):
    from proclient.server.settings import PscSettings

    return PscSettings(
        discovery_url=psc.discovery_url,
        client_id=psc.material.client_id,
        client_secret=psc.material.client_secret,
        ca=tls.ca_bundle,
        timeout=5.0,
        **overrides,
    )


@pytest.fixture
def ecps_server(
    backend: str,
    shared_listeners: Callable[[str], SharedListener],
    psc_standin: RunningPscStandIn,
    pki: DemoPki,
    tls: Tls,
) -> Iterator[EcpsServer]:
    """The service with e-CPS through the session's stand-in (reset, its clock following this
    service's FakeClock), on the session's listener and database for ``backend``."""
    shared = shared_listeners(backend)
    shared.empty()
    psc = psc_standin.psc
    psc.standin.reset()  # type: ignore[attr-defined]
    clock = FakeClock()
    psc_standin.clock.service, psc_standin.clock.offset = clock, 0.0
    settings = ServerSettings(
        database=shared.database,
        trusted_ca_pem=pki.ca_pem,
        clock=clock,
        psc=psc_settings_for(psc, tls),
    )
    app = create_app(settings)
    shared.switch.app = app
    try:
        yield EcpsServer(
            shared.base_url, settings, clock, app.state.storage, psc, psc_standin.clock, app
        )
    finally:
        shared.switch.app = None
        psc_standin.clock.service = None
        app.state.storage.close()
        app.state.psc.close()


@pytest.fixture
def station(ecps_server: EcpsServer, tls: Tls) -> Iterator[Workstation]:
    """A workstation speaking to ``ecps_server`` (tests/service/ecps_helpers.py)."""
    with httpx.Client(base_url=ecps_server.base_url, verify=tls.context) as http:
        yield Workstation(http)
