"""The service's own limits against hostile input and load (issue 10): body size, JSON shape,
small error bodies, deadlines for a request's head and body, connections per address and in
all. Each test talks to the service as `proclient serve` runs it (uvicorn_server: its
protocol, over HTTPS on loopback), most of them byte by byte through a raw TLS socket.

The limits stand in front of the database: these tests run on SQLite only, except the one
that checks that the default limits let a real workstation through, which runs on both."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from dataclasses import replace

import pytest

from proclient.core.problems import problem_message
from proclient.core.settings import Paths, ServerTable
from proclient.server import limits as guard
from proclient.server.problems import validation_problem
from proclient.server.request_limits import json_too_complex
from proclient.server.serving import ServeConfig, load_serve_config, uvicorn_server
from proclient.server.settings import ServerLimits
from proclient.server.storage import Storage
from proclient.service.client import DmpServiceClient
from proclient.service.errors import ServiceError

from .helpers import LE_GOFF, creation, look_up, put_in_register
from .production_server import (
    Production,
    ended,
    health,
    production_service,
    read_answer,
    request,
)

FIFTY_MB = 50 * 1024 * 1024
PROTOCOLS = {"httptools": guard.GuardedHttpToolsProtocol, "h11": guard.GuardedH11Protocol}


@pytest.fixture(params=sorted(PROTOCOLS))
def protocol(request: pytest.FixtureRequest) -> type:
    return PROTOCOLS[request.param]


@pytest.fixture
def start(tmp_path, pki, tls):
    """``start(protocol=None, **limits)``: the production service on a fresh SQLite file."""
    stack = []

    def start_service(http: type | None = None, **limits) -> Production:
        manager = production_service(
            tmp_path / f"dmp-{uuid.uuid4().hex[:6]}.sqlite3",
            pki.ca_pem,
            tls,
            replace(ServerLimits(), **limits),
            http=http,
        )
        stack.append(manager)
        return manager.__enter__()

    yield start_service
    for manager in reversed(stack):
        manager.__exit__(None, None, None)


def assert_small_problem(answer, status: int, code: str) -> dict:
    assert answer is not None, "no answer: the connection ended first"
    assert answer.status == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert len(answer.raw) < 1024, f"{len(answer.raw)} bytes"
    problem = json.loads(answer.body)
    assert problem["code"] == code and problem["status"] == status
    assert problem["detail"] and problem["detail"].isprintable()
    return problem


def health_answers(service: Production, source: str = "127.0.0.1") -> bool:
    """GET /v1/health answers 200 on a new connection (how fast: benchmarks and the probe)."""
    status, _seconds = health(service, source)
    return status == 200


# --- body size ------------------------------------------------------------------------------


def test_a_declared_50_mb_body_is_refused_at_once_without_reading_it(start, protocol):
    service = start(protocol)
    with service.connect() as sock:
        head = request("POST", "/v1/auth/session")
        sock.sendall(head.replace(b"Content-Length: 0", f"Content-Length: {FIFTY_MB}".encode()))
        sock.sendall(b'{"challenge_id": "')  # a few bytes of it, and no more
        answer = read_answer(sock)
    assert_small_problem(answer, 413, "REQUEST_TOO_LARGE")  # answered without the 50 MB
    assert answer.closed  # the rest of the body is never read
    assert health_answers(service)


def test_a_streamed_50_mb_body_is_cut_at_the_limit_and_health_still_answers(start):
    service = start()
    outcome: dict = {}

    def stream() -> None:
        chunk = b"x" * 65536
        with service.connect(timeout=30) as sock:
            head = request("POST", "/v1/auth/session", Transfer_Encoding="chunked")
            sock.sendall(head.replace(b"Content-Length: 0\r\n", b""))
            try:
                for _ in range(FIFTY_MB // len(chunk)):
                    sock.sendall(b"10000\r\n" + chunk + b"\r\n")
                sock.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # the server closed: what it answered is still readable
            outcome["answer"] = read_answer(sock)

    sender = threading.Thread(target=stream)
    sender.start()
    meanwhile = health_answers(service)
    sender.join(60)
    assert not sender.is_alive()
    assert_small_problem(outcome["answer"], 413, "REQUEST_TOO_LARGE")
    assert meanwhile
    assert health_answers(service)


def test_each_route_has_its_own_body_limit(start, tls):
    import httpx

    service = start(max_auth_body_bytes=4096, max_body_bytes=8192)
    with httpx.Client(base_url=service.base_url, verify=tls.context) as http:
        body = {"challenge_id": "x", "certificate": "A" * 5000, "signature": "s"}
        refused = http.post("/v1/auth/session", json=body)
        assert refused.status_code == 413
        assert refused.json()["code"] == "REQUEST_TOO_LARGE"
        # The same size on a write route passes the size check (and meets the session check).
        other = http.post("/v1/dmp/status", json={"ins": {"value": "1" * 15, "oid": "A" * 5000}})
        assert other.status_code == 401


# --- JSON shape and small errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "{" + ",".join(f'"k{i}": 0' for i in range(300)) + "}",  # 300 keys, 3 KB
        json.dumps({"challenge_id": "x", "signature": "s", "certificate": list(range(400))}),
        '{"a":' * 20 + "0" + "}" * 20,  # 20 levels
        "[" * 10000 + "]" * 10000,  # deeper than the JSON parser itself goes
    ],
    ids=["keys", "items", "depth", "very-deep"],
)
def test_json_too_wide_or_too_deep_is_refused_before_validation(start, tls, body):
    import httpx

    service = start()
    assert len(body) < service.limits.max_auth_body_bytes
    with httpx.Client(base_url=service.base_url, verify=tls.context) as http:
        answer = http.post(
            "/v1/auth/session", content=body, headers={"Content-Type": "application/json"}
        )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "REQUEST_TOO_COMPLEX"
    assert len(answer.content) < 1024
    assert "k299" not in answer.text


def test_json_shape_limits_are_exact():
    flat = json.dumps({f"k{i}": 0 for i in range(256)}).encode()
    assert not json_too_complex(flat, max_depth=8, max_items=256)
    assert json_too_complex(flat, max_depth=8, max_items=255)
    nested = json.dumps({"a": {"b": {"c": [1, 2, {"d": None}]}}}).encode()  # 5 containers deep
    assert not json_too_complex(nested, max_depth=5, max_items=256)
    assert json_too_complex(nested, max_depth=4, max_items=256)
    # A key repeated still counts once per occurrence; not JSON is left to the route.
    assert json_too_complex(b'{"a": 1, "a": 2, "a": 3}', max_depth=8, max_items=2)
    assert not json_too_complex(b"not json", max_depth=8, max_items=2)


def test_wrong_fields_get_a_small_answer_that_quotes_nothing(start, tls):
    import httpx

    service = start()
    nir = "152033523804587"
    body = {f"{nir}_{i}": "LE GOFF" for i in range(200)}
    body["certificate"] = 12
    with httpx.Client(base_url=service.base_url, verify=tls.context) as http:
        answer = http.post("/v1/auth/session", json=body)
        huge = http.post("/v1/auth/session", content=b"{" + b" " * 1_000_000 + b"}")
    assert answer.status_code == 422 and answer.json()["code"] == "VALIDATION"
    assert len(answer.content) < 1024, f"{len(answer.content)} bytes"
    assert nir not in answer.text and "GOFF" not in answer.text
    detail = answer.json()["detail"]
    assert "certificate" in detail and "200" in detail  # the schema's fields; unknown ones counted
    assert huge.status_code == 413 and len(huge.content) < 1024


def test_a_validation_answer_names_at_most_a_few_fields():
    errors = [{"type": "missing", "loc": ("body", f"field_{i}")} for i in range(50)]
    errors += [{"type": "string_type", "loc": ("body", "Gérard LE GOFF", 0)}]
    errors += [{"type": "extra_forbidden", "loc": ("body", "152033523804587")}] * 7
    problem = validation_problem(errors)
    assert problem.status == 422 and problem.code == "VALIDATION"
    assert problem.detail.count("field_") == 3
    assert "et 47 autre(s)" in problem.detail and "Champs inconnus : 7" in problem.detail
    assert "GOFF" not in problem.detail and "1520335" not in problem.detail
    assert len(problem.detail) < 400


# --- deadlines for the head and the body -------------------------------------------------------

SHORT = {"header_timeout": 1.0, "body_timeout": 1.0, "keep_alive_timeout": 30.0}


def closed_after(sock, limit: float = 6) -> float:
    """Seconds until the server ends the connection (fails after ``limit``)."""
    started = time.perf_counter()
    assert ended(sock, limit), f"still open after {limit} s"
    return time.perf_counter() - started


def test_a_connection_that_sends_nothing_is_closed(start, protocol):
    service = start(protocol, **SHORT)
    with service.connect() as sock:
        assert 0.5 < closed_after(sock) < 5


def test_a_head_without_its_last_line_is_closed(start, protocol):
    service = start(protocol, **SHORT)
    with service.connect() as sock:
        sock.sendall(request("POST", "/v1/auth/session")[:-2])  # no final CRLF
        assert 0.5 < closed_after(sock) < 5


def test_a_head_sent_byte_by_byte_is_closed_at_its_deadline(start, protocol):
    """Bytes keep coming, but the head is never done: the deadline runs from its first byte."""
    service = start(protocol, **SHORT)
    head = b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
    with service.connect() as sock:
        sock.settimeout(0.1)
        started = time.perf_counter()
        closed = False
        for byte in head:  # one byte every 0.1 s: 20 s for all of them
            try:
                sock.sendall(bytes([byte]))
                closed = sock.recv(1) == b""
            except TimeoutError:
                continue
            except OSError:
                closed = True
            if closed:
                break
        elapsed = time.perf_counter() - started
    assert closed and 0.5 < elapsed < 5, f"closed={closed} after {elapsed:.1f} s"


def test_a_body_that_does_not_come_gets_408_and_the_connection_closes(start, protocol):
    service = start(protocol, **SHORT)
    with service.connect() as sock:
        head = request("POST", "/v1/auth/session")
        sock.sendall(head.replace(b"Content-Length: 0", b"Content-Length: 100") + b'{"a":')
        started = time.perf_counter()
        answer = read_answer(sock)
        elapsed = time.perf_counter() - started
    assert_small_problem(answer, 408, "REQUEST_TIMEOUT")
    assert answer.closed
    assert 0.5 < elapsed < 5


def test_the_next_request_on_a_kept_alive_connection_has_its_own_deadline(start, protocol):
    service = start(protocol, **SHORT)
    with service.connect() as sock:
        for _ in range(2):  # requests in time pass, one after the other
            sock.sendall(request("GET", "/v1/health"))
            assert read_answer(sock).status == 200
            time.sleep(0.6)
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and stops there
        assert 0.5 < closed_after(sock) < 5


def test_a_head_too_large_is_refused(start, protocol):
    service = start(protocol)
    with service.connect() as sock:
        sock.sendall(request("GET", "/v1/health")[:-2])
        for _ in range(40):  # 40 KB of headers
            try:
                sock.sendall(b"X-Padding: " + b"a" * 1000 + b"\r\n")
            except OSError:
                break
        answer = read_answer(sock)
        # h11 answers 400, ours 431 (or the connection was reset while we were still sending)
        assert answer is None or answer.status in (400, 431)
        assert ended(sock, 5)
    assert health_answers(service)


# --- connections per address and in all ---------------------------------------------------------


def hold(service: Production, source: str, count: int) -> list:
    """``count`` kept-alive connections from ``source``, each having had one answer."""
    held = []
    for _ in range(count):
        sock = service.connect(source)
        sock.sendall(request("GET", "/v1/health"))
        assert read_answer(sock).status == 200
        held.append(sock)
    return held


def assert_refused(service: Production, source: str) -> None:
    with service.connect(source) as sock:
        answer = read_answer(sock)  # sent at once, before any request
    problem = assert_small_problem(answer, 503, "SERVICE_BUSY")
    assert answer.headers["retry-after"] == "1" and answer.closed
    assert "connexions" in problem["detail"]


def health_soon(service: Production, source: str) -> int | None:
    """The health status from ``source`` once the server has seen closed connections go."""
    deadline = time.monotonic() + 5
    while True:
        status, _seconds = health(service, source)
        if status == 200 or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def test_connections_per_address_are_capped(start, protocol):
    service = start(
        protocol,
        max_connections_per_address=3,
        max_connections=10,
        header_timeout=30.0,
        keep_alive_timeout=30.0,
    )
    held = hold(service, "127.0.0.1", 3)
    try:
        for _ in range(2):
            assert_refused(service, "127.0.0.1")
        # Another workstation is served meanwhile.
        assert health_answers(service, "127.0.0.2")
    finally:
        for sock in held:
            sock.close()
    assert health_soon(service, "127.0.0.1") == 200


def test_connections_in_all_are_capped(start, protocol):
    service = start(
        protocol,
        max_connections_per_address=2,
        max_connections=3,
        header_timeout=30.0,
        keep_alive_timeout=30.0,
    )
    held = hold(service, "127.0.0.2", 2) + hold(service, "127.0.0.3", 1)
    try:
        assert_refused(service, "127.0.0.4")
        held.pop().close()
        assert health_soon(service, "127.0.0.4") == 200
    finally:
        for sock in held:
            sock.close()


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))  # the server runs in this process


@pytest.mark.slow
def test_closed_connections_free_their_socket_even_when_the_client_holds_on(start, protocol):
    """A client that keeps its end open after the service closed (refused connections, missed
    deadlines) does not keep the service's socket: the TLS goodbye is not waited for 30 s."""
    service = start(protocol, max_connections_per_address=2, header_timeout=1.0)
    held = hold(service, "127.0.0.1", 2)
    before = open_files()
    refused = [service.connect() for _ in range(20)]  # never read, never closed
    half_sent = [service.connect("127.0.0.2") for _ in range(2)]
    for sock in half_sent:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\n")
    time.sleep(1.0)  # they are cut 0.1 s after their refusal
    # The refused ones are gone on the server's side: only the clients' sockets are left.
    assert open_files() - before <= 22 + 2 + 2, "refused connections still held"
    time.sleep(guard.GOODBYE + 1.0)  # closed at 1 s, cut GOODBYE later
    assert open_files() - before <= 22 + 2, "timed-out connections still held"
    for sock in held + refused + half_sent:
        sock.close()


@pytest.mark.slow
async def test_a_workstation_turned_away_is_told_so_and_gets_in_later(start, tls, credential):
    service = start(max_connections_per_address=1, header_timeout=30.0, keep_alive_timeout=30.0)
    (held,) = hold(service, "127.0.0.1", 1)
    client = DmpServiceClient(service.base_url, verify=tls.context, retry_budget=1.5)
    try:
        with held, pytest.raises(ServiceError) as refused:
            await client.login(credential)  # retried within its budget (Retry-After: 1)
        assert refused.value.code == "SERVICE_BUSY" and refused.value.status == 503
        assert refused.value.message == problem_message("SERVICE_BUSY")
        assert (await client.login(credential)).id_nat == credential.professional.id_nat
    finally:
        await client.aclose()


# --- the defaults and the settings --------------------------------------------------------------


async def test_the_default_limits_let_a_workstation_through(database_url, pki, tls, credential):
    """A real login, INSi look-up and creation through `proclient serve`'s server, on both
    databases."""
    database = database_url()
    with production_service(database, pki.ca_pem, tls) as service:
        client = DmpServiceClient(service.base_url, verify=tls.context)
        storage = Storage(database)
        try:
            put_in_register(storage, LE_GOFF)
            await client.login(credential)
            await look_up(client, LE_GOFF)
            created = await client.submit(creation(LE_GOFF), str(uuid.uuid4()))
            assert created.dmp_id
            assert (await client.status(LE_GOFF.ins)).status == "active"
        finally:
            storage.close()
            await client.aclose()


def test_server_table_limits_reach_the_app_and_the_protocol(tmp_path):
    assert ServerLimits() == ServerLimits(
        **{name: getattr(ServerTable(), name) for name in vars(ServerLimits())}
    )
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "log")
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(
        "[server]\nmax_body_bytes = 10000\nheader_timeout = 3\nmax_connections_per_address = 0\n",
        encoding="utf-8",
    )
    config = load_serve_config(paths)
    assert config.limits == replace(
        ServerLimits(), max_body_bytes=10000, header_timeout=3.0, max_connections_per_address=0
    )
    server = uvicorn_server(replace(config, certificate=tmp_path / "c", key=tmp_path / "k"), None)
    assert server.config.limits is config.limits
    assert server.config.http is guard.protocol_class()
    assert server.config.ws == "none" and server.config.timeout_keep_alive == 5.0


def test_a_plain_serve_config_has_the_default_limits():
    assert ServeConfig(database="sqlite:///x").limits == ServerLimits()


# --- forwarded addresses ----------------------------------------------------------------------


@pytest.mark.parametrize("trusted", [None, "127.0.0.1"])
def test_a_forwarded_address_counts_only_from_a_trusted_proxy(tmp_path, pki, tls, trusted):
    """The challenge rate is per client address. A client on 127.0.0.1 that names another
    address in X-Forwarded-For with each request escapes it only when 127.0.0.1 is a proxy
    the settings trust (server.trusted_proxies)."""
    with production_service(
        tmp_path / "dmp.sqlite3", pki.ca_pem, tls, trusted_proxies=trusted
    ) as service:
        statuses = []
        for n in range(35):
            with service.connect() as sock:
                sock.sendall(
                    request(
                        "POST",
                        "/v1/auth/challenge",
                        X_Forwarded_For=f"10.0.{n // 200}.{n % 200 + 1}",
                        Connection="close",
                    )
                )
                answer = read_answer(sock)
            statuses.append(answer.status if answer else None)
    if trusted:
        assert statuses == [200] * 35
    else:
        assert statuses[:30] == [200] * 30 and set(statuses[30:]) == {429}
