"""The DMP service probed from outside, as an attacker and as a careless client would.

Starts `proclient serve` (a subprocess, its own PROCLIENT_HOME, the probe's own CA and
certificates) on a fresh SQLite file or PostgreSQL schema, in test or production mode, and
runs cases against it over HTTPS on loopback. Each case has an expected outcome; it fails when
the service does otherwise. One line per case, ``PASS|FAIL|SKIP name: detail``, then totals;
exit status 1 when a case failed.

    .venv/bin/python probe/outside_probe.py --database sqlite --mode test
    .venv/bin/python probe/outside_probe.py --database postgresql --mode production
    .venv/bin/python probe/outside_probe.py --quick      # a few cases of each family

The families (probe/README.md says more): request bodies (size, keys, nesting), half-sent
requests and connection floods, the login rate limit, the initial password and its reissue,
the service's own rules on INS, channels and names, authorisation, INSi (the look-ups and the
creation gate), challenge flooding and TLS versions, and the generic part: malformed requests,
idempotency, routes, tokens. The service starts with an INSi register file the probe writes
(``--insi-register``): the probe's patients, as INSi answers them, and every creation the probe
expects to pass is preceded by a look-up by card, as a workstation does. Every answer
the probe receives is also held to the generic rules: no 5xx, no stack trace, a refusal is
``application/problem+json`` with a ``code``, and never quotes the NIR or name it was sent.
At the end, the service's own log must hold none of the probe's patients, passwords or tokens.

The probe imports nothing from proclient (probe_kit.py: httpx, ssl, socket, cryptography,
the standard library; psycopg only to make and read a PostgreSQL schema).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import select
import shutil
import socket
import ssl
import statistics
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from probe_kit import (
    OID_DEMO,
    OID_NIA,
    OID_NIR,
    OID_TEST,
    PROBLEM_JSON,
    Answer,
    Client,
    People,
    Person,
    Pki,
    RawAnswer,
    Service,
    ServiceDatabase,
    ServiceFailed,
    password_in,
    raise_open_files_limit,
    raw_request,
    read_answer,
    tls_socket,
    write_register,
)

REISSUE_PATH = "/v1/dmp/web-access/password"
REGISTER_SIZE = 400  # people in the INSi register file; a run uses fewer
# A person whose INSi traits carry an apostrophe, hyphens and several words.
COMPOUND = Person(
    "178127512345643", "19781224", "M", "D'ARTAGNAN-ELODIE DE LA TOUR", "MARIE-ANGE ZOE"
)
# Homonyms: the same traits, two people (INSi answers 02 by traits, 00 by each card).
HOMONYMS = (
    Person("270011305521095", "19700101", "F", "VALORIMA", "SELENA"),
    Person("270011315553370", "19700101", "F", "VALORIMA", "SELENA"),
)


@dataclass(frozen=True)
class Sizes:
    big_keys: int  # keys of the huge JSON body (4 000 000 keys: about 50 MB)
    wrong_fields_bytes: int
    half_sent: int
    flood: int
    challenges: int
    bad_logins: int
    concurrent: int
    header_timeout: float
    body_timeout: float


FULL = Sizes(4_000_000, 1_000_000, 250, 1200, 2000, 25, 10, 10.0, 20.0)
QUICK = Sizes(700_000, 1_000_000, 24, 150, 200, 25, 6, 1.0, 1.5)

HEALTH_LATENCY_LIMIT = 0.100  # seconds, median of the health checks during the big body
BIG_BODY_ANSWER_LIMIT = 2.0  # seconds from the first byte sent to the 413
SMALL_ERROR_BODY = 1024  # bytes
RSS_GROWTH_LIMIT_KB = 64 * 1024


# --- report ------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None

    def expect(self, condition: bool, failure: str) -> bool:
        if not condition:
            self.failures.append(failure)
        return condition

    def note(self, text: str) -> None:
        self.notes.append(text)

    def skip(self, reason: str) -> None:
        self.skipped = reason


class Report:
    def __init__(self, out=sys.stdout) -> None:
        self.out = out
        self.counts: Counter[str] = Counter()
        self.current: Case | None = None
        self.family = ""

    def line(self, verdict: str, name: str, detail: str) -> None:
        self.counts[verdict] += 1
        print(f"{verdict} {name}: {detail}", file=self.out, flush=True)

    @contextmanager
    def case(self, name: str) -> Iterator[Case]:
        case = Case(f"{self.family}/{name}" if self.family else name)
        self.current = case
        try:
            yield case
        except Exception as error:  # the case's own failure: report it, go on with the next
            detail = f"{type(error).__name__}: {str(error)[:300]}"
            if not isinstance(error, (httpx.HTTPError, OSError, ServiceFailed)):
                detail += " at " + traceback.extract_tb(error.__traceback__)[-1].line
            case.failures.append(detail)
        finally:
            self.current = None
        if case.failures:
            self.line("FAIL", case.name, "; ".join(dict.fromkeys(case.failures)))
        elif case.skipped is not None:
            self.line("SKIP", case.name, case.skipped)
        else:
            self.line("PASS", case.name, "; ".join(case.notes) or "as expected")

    def totals(self) -> str:
        total = sum(self.counts.values())
        return (
            f"TOTAL {total} cases: {self.counts['PASS']} pass, {self.counts['FAIL']} fail, "
            f"{self.counts['SKIP']} skip"
        )


# --- the generic rules every answer is held to --------------------------------------------------


def violations(answer: Answer | RawAnswer, secrets: dict[str, str]) -> list[str]:
    """What is wrong with ``answer`` whatever was asked: a 5xx, a stack trace, a refusal that
    is not a problem document, an error body quoting what was sent."""
    found = []
    status = answer.status
    text = answer.body.decode("utf-8", "replace")
    if status >= 500:
        found.append(f"{status} server error")
    if "Traceback" in text or 'File "' in text:
        found.append("stack trace in the body")
    if status >= 400:
        content_type = (
            answer.content_type
            if isinstance(answer, Answer)
            else answer.headers.get("content-type", "")
        )
        if not content_type.startswith(PROBLEM_JSON):
            found.append(f"{status} refusal as {content_type or 'no content type'!r}")
        document = answer.json()
        if not isinstance(document, dict) or not document.get("code"):
            found.append(f"{status} refusal without a problem code")
        for label, value in secrets.items():
            if len(value) >= 4 and (value in text or json.dumps(value)[1:-1] in text):
                found.append(f"error body echoes the {label}")
    return found


def person_secrets(person: Person) -> dict[str, str]:
    return {"NIR": person.nir, "last name": person.last_name, "first name": person.first_name}


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f} ms" if values else "n/a"


# --- raw requests --------------------------------------------------------------------------------


def poll_data(sock: ssl.SSLSocket) -> bytes | None:
    """Application data the service has sent, without waiting: None when there is none (a
    TLS 1.3 session ticket makes the socket readable without any), b"" when it closed."""
    if not (sock.pending() or select.select([sock], [], [], 0)[0]):
        return None
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return sock.recv(65536)
    except ssl.SSLWantReadError:
        return None
    except (OSError, ssl.SSLError):
        return b""
    finally:
        sock.settimeout(timeout)


@dataclass
class BigSend:
    answer: RawAnswer | None
    sent: int  # body bytes written before the service answered or closed
    elapsed: float  # seconds from the first byte of the head to the answer (or the end)
    error: str | None


def send_big(
    port: int,
    context: ssl.SSLContext,
    source: str,
    path: str,
    body: bytes,
    *,
    chunked: bool,
    headers: str = "",
    deadline: float = 60.0,
) -> BigSend:
    """POST ``body`` on a raw TLS connection, watching for an early answer between pieces (a
    service that refuses at the head answers and closes without reading the rest)."""
    sock = tls_socket(port, context, source)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{headers}{framing}\r\n\r\n"
    ).encode()
    start = time.monotonic()
    sent, error = 0, None
    piece_size = 64 * 1024
    early = b""
    try:
        sock.sendall(head)
        sock.settimeout(0.5)
        offset = 0
        pending = memoryview(b"")
        while (offset < len(body) or pending) and time.monotonic() - start < deadline:
            data = poll_data(sock)
            if data is not None:  # an answer before the whole body, or the end
                early = data
                break
            if not pending:
                piece = body[offset : offset + piece_size]
                offset += len(piece)
                framed = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
                if chunked and offset >= len(body):
                    framed += b"0\r\n\r\n"
                pending = memoryview(framed)
            try:
                written = sock.send(pending)
            except (TimeoutError, ssl.SSLWantWriteError):
                continue
            pending = pending[written:]
            sent = offset - len(pending)
    except (ConnectionError, ssl.SSLError, OSError) as failure:
        error = type(failure).__name__
    if early or error is None:
        answer = read_answer(sock, max(1.0, deadline - (time.monotonic() - start)), early)
    else:
        answer = read_answer(sock, 2.0)
    elapsed = time.monotonic() - start
    with suppress(OSError):
        sock.close()
    return BigSend(answer, sent, elapsed, error)


def huge_json(keys: int) -> bytes:
    return b"{" + b",".join(b'"k%d":0' % index for index in range(keys)) + b"}"


class HealthWatch:
    """GET /v1/health every 20 ms from another address while something else runs."""

    def __init__(self, base_url: str, context: ssl.SSLContext, source: str) -> None:
        self.client = Client(base_url, context, source, timeout=10)
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                answer = self.client.request("GET", "/v1/health")
                if answer.status == 200:
                    self.latencies.append(answer.elapsed)
                else:
                    self.failures.append(str(answer.status))
            except httpx.HTTPError as error:
                self.failures.append(type(error).__name__)
            self._stop.wait(0.02)

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        time.sleep(0.1)
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(timeout=15)
        self.client.close()


def fresh_health(base_url: str, context: ssl.SSLContext, source: str, timeout: float = 5.0) -> str:
    """'ok' or why /v1/health failed, on a new connection from ``source``."""
    client = Client(base_url, context, source, timeout=timeout)
    try:
        answer = client.request("GET", "/v1/health")
        return "ok" if answer.status == 200 else f"{answer.brief()}"
    except httpx.HTTPError as error:
        return type(error).__name__
    finally:
        client.close()


def open_tls_many(
    port: int, context: ssl.SSLContext, sources: list[str], workers: int = 16
) -> tuple[list[ssl.SSLSocket], Counter[str]]:
    errors: Counter[str] = Counter()

    def one(source: str) -> ssl.SSLSocket | None:
        try:
            return tls_socket(port, context, source, timeout=20)
        except (OSError, ssl.SSLError) as error:
            errors[type(error).__name__] += 1
            return None

    with ThreadPoolExecutor(workers) as pool:
        sockets = [sock for sock in pool.map(one, sources) if sock is not None]
    return sockets, errors


def watch_closing(
    sockets: list[tuple[ssl.SSLSocket, float]], limit: float
) -> tuple[list[float | None], list[bytes]]:
    """Seconds from each socket's start time to the service closing it (None: still open
    after ``limit``), and what each received meanwhile."""
    import selectors

    selector = selectors.DefaultSelector()
    closed: list[float | None] = [None] * len(sockets)
    received = [b""] * len(sockets)
    for index, (sock, _start) in enumerate(sockets):
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, index)
    open_count = len(sockets)
    end = time.monotonic() + limit
    while open_count and time.monotonic() < end:
        for key, _events in selector.select(timeout=0.1):
            index = key.data
            sock, start = sockets[index]
            while True:
                try:
                    data = sock.recv(65536)
                except ssl.SSLWantReadError:
                    break
                except (OSError, ssl.SSLError):
                    data = b""
                if not data:
                    closed[index] = time.monotonic() - start
                    selector.unregister(sock)
                    open_count -= 1
                    break
                received[index] += data
    selector.close()
    return closed, received


# --- the probe ------------------------------------------------------------------------------------


class OutsideProbe:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sizes = QUICK if args.quick else FULL
        # --no-config: the service runs on its own defaults, which the probe expects.
        defaults = FULL if args.no_config else self.sizes
        self.header_timeout = args.header_timeout or defaults.header_timeout
        self.body_timeout = args.body_timeout or defaults.body_timeout
        self.report = Report()
        self.people = People(args.seed)
        self.mode = args.mode
        self.oid = OID_TEST if self.mode == "test" else OID_NIR
        self.other_oid = OID_DEMO if self.mode == "test" else OID_NIA
        self.sent: dict[str, str] = {}  # what the service's log must not hold
        self.workdir = Path(tempfile.mkdtemp(prefix="outside-probe-"))
        # The INSi register: everyone person() hands out, and COMPOUND.
        self.pool = self.people.pool(REGISTER_SIZE)
        self.unknown = self.people.person()  # in no register: INSi answers 01

    # infrastructure

    def start(self) -> None:
        self.pki = Pki.create(self.workdir / "pki", count=3)
        self.pro_a, self.pro_b, self.pro_c = self.pki.professionals
        self.context = self.pki.client_context()
        self.db = ServiceDatabase.fresh(self.args.database, self.workdir, self.args.postgres_url)
        limits = {"header_timeout": self.header_timeout, "body_timeout": self.body_timeout}
        register = write_register(
            self.workdir / "insi-register.json", [*self.pool, COMPOUND, *HOMONYMS], self.oid
        )
        self.service = Service(
            self.workdir / "home",
            self.db.url,
            self.mode,
            self.pki,
            {} if self.args.no_config else limits,
            register,
        )
        if self.args.service_root:
            self.service.root = Path(self.args.service_root).resolve()
        self.service.start()
        raise_open_files_limit()  # after the start: the service keeps its own limit
        self.a = self.client("127.0.0.1")
        self.b = self.client("127.0.0.1")
        self.remember("token", self.a.login(self.pro_a))
        self.remember("token", self.b.login(self.pro_b))

    def stop(self) -> None:
        service = getattr(self, "service", None)
        if service is not None:
            service.stop()
        database = getattr(self, "db", None)
        if database is not None and not self.args.keep:
            with suppress(Exception):
                database.drop()
        if self.args.keep:
            print(f"kept: {self.workdir}", flush=True)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def client(self, source: str) -> Client:
        return Client(self.service.base_url, self.context, source)

    def remember(self, label: str, value: str | None) -> None:
        if value and len(value) >= 4:
            self.sent[value] = label

    def person(self) -> Person:
        """A person of the INSi register not used yet."""
        if not self.pool:
            raise RuntimeError("the INSi register file is used up: raise REGISTER_SIZE")
        person = self.pool.pop(0)
        for label, value in person_secrets(person).items():
            self.remember(label, value)
        return person

    def look_up(self, client: Client, person: Person, secrets: dict | None = None) -> Answer:
        """INSi look-up by card, held to the generic rules; a 00 is expected (the case
        fails otherwise)."""
        answer = self.post(
            client, "/v1/insi/card", person.card(), secrets or person_secrets(person)
        )
        case = self.report.current
        if case is not None:
            case.expect(
                answer.status == 200 and (answer.json() or {}).get("code") == "00",
                f"INSi look-up {answer.brief()}",
            )
        return answer

    def call(
        self,
        client: Client,
        method: str,
        path: str,
        secrets: dict[str, str] | None = None,
        **options,
    ) -> Answer:
        """A request whose answer is held to the generic rules within the current case."""
        answer = client.request(method, path, **options)
        case = self.report.current
        if case is not None:
            for failure in violations(answer, secrets or {}):
                case.failures.append(f"{method} {path}: {failure}")
        return answer

    def raw(
        self,
        source: str,
        method: str,
        path: str,
        headers: list[bytes],
        body: bytes,
        secrets: dict,
        label: str = "",
    ) -> RawAnswer | None:
        """A request written byte for byte, its answer held to the generic rules."""
        answer = raw_request(self.service.port, self.context, source, method, path, headers, body)
        case = self.report.current
        if case is not None and answer is not None:
            for failure in violations(answer, secrets):
                case.failures.append(f"{label or method + ' ' + path}: {failure}")
        return answer

    def post(self, client: Client, path: str, body: object, secrets=None, **options) -> Answer:
        return self.call(client, "POST", path, secrets, json_body=body, **options)

    def create(
        self,
        client: Client,
        person: Person,
        *,
        web: dict | None = None,
        oid=None,
        key=None,
        look_up: bool = True,
    ):
        """POST /v1/dmp for ``person``, after an INSi look-up by ``client`` (``look_up``)."""
        if look_up:
            self.look_up(client, person)
        body = person.creation(oid or self.oid, web)
        for label in ("email", "mobile"):
            if web and web.get(label):
                self.remember(label, web[label])
        return self.post(
            client, "/v1/dmp", body, person_secrets(person), key=key or str(uuid.uuid4())
        )

    def dmp_count(self) -> int:
        return self.db.query("SELECT COUNT(*) FROM dmps")[0][0]

    def run(self) -> int:
        try:
            self.start()
        except Exception as error:  # no service, no probe
            self.report.line("FAIL", "setup", f"{type(error).__name__}: {str(error)[:600]}")
            self.stop()
            print(self.report.totals())
            return 1
        print(
            f"# outside probe: {self.db.describe()}, mode {self.mode}, "
            f"{'quick' if self.args.quick else 'full'}, service {self.service.base_url}",
            flush=True,
        )
        families: list[tuple[str, Callable[[], None]]] = [
            ("generic", self.family_generic),
            ("rules", self.family_rules),
            ("authorisation", self.family_authorisation),
            ("insi", self.family_insi),
            ("password", self.family_password),
            ("login-rate", self.family_login_rate),
            ("bodies", self.family_bodies),
            ("connections", self.family_connections),
            ("challenges", self.family_challenges),
            ("tls", self.family_tls),
            ("log", self.family_log),
        ]
        only = set(self.args.only.split(",")) if self.args.only else None
        try:
            for name, family in families:
                if only and name not in only:
                    continue
                self.report.family = name
                try:
                    family()
                except Exception as error:  # a family that could not go on
                    self.report.line(
                        "FAIL", f"{name}/(family)", f"{type(error).__name__}: {str(error)[:300]}"
                    )
        finally:
            self.stop()
        print(self.report.totals(), flush=True)
        return 1 if self.report.counts["FAIL"] else 0

    # --- generic: malformed requests, idempotency, routes, tokens ---------------------------------

    def family_generic(self) -> None:
        report, a = self.report, self.a
        person = self.person()
        secrets = person_secrets(person)
        body = person.creation(self.oid)
        raw_bodies = {
            "truncated JSON": b'{"patient": {"ins": {"value": "' + person.nir.encode(),
            "not JSON": b"patient=" + person.nir.encode(),
            "invalid UTF-8": b'{"patient": "\xff\xfe\xfd"}',
            "empty body": b"",
            "JSON null": b"null",
            "JSON array": b"[]",
            "JSON string": json.dumps(person.nir).encode(),
        }
        for path in ("/v1/dmp", "/v1/dmp/status", "/v1/dmp/web-access", "/v1/auth/session"):
            with report.case(f"malformed JSON on {path}") as case:
                statuses = []
                for content in raw_bodies.values():
                    answer = self.call(
                        a,
                        "POST",
                        path,
                        secrets,
                        content=content,
                        headers={"Content-Type": "application/json"},
                        key=str(uuid.uuid4()),
                    )
                    statuses.append(answer.status)
                    case.expect(400 <= answer.status < 500, f"answered {answer.brief()}")
                case.note("statuses " + ",".join(map(str, sorted(set(statuses)))))

        def altered(change: Callable[[dict], None]) -> dict:
            copy = json.loads(json.dumps(body))
            change(copy)
            return copy

        wrong = {
            "consent as a string": lambda d: d["consent"].update(creation="true"),
            "consent as 1": lambda d: d["consent"].update(creation=1),
            "birth date as a number": lambda d: d["patient"].update(birth_date=19520314),
            "INS as a list": lambda d: d["patient"].update(ins=[person.nir, self.oid]),
            "patient as a string": lambda d: d.update(patient=person.nir),
            "names as objects": lambda d: d["patient"].update(last_name={"x": person.last_name}),
            "sex unknown": lambda d: d["patient"].update(sex="X"),
            "huge number": lambda d: d["patient"].update(birth_date=10**400),
            "consent missing": lambda d: d.pop("consent"),
            "no consent": lambda d: d["consent"].update(creation=False),
        }
        before = self.dmp_count()
        with report.case("wrong types refused") as case:
            for label, change in wrong.items():
                answer = self.post(a, "/v1/dmp", altered(change), secrets, key=str(uuid.uuid4()))
                case.expect(400 <= answer.status < 500, f"{label}: {answer.brief()}")
            case.expect(self.dmp_count() == before, "a DMP was created")

        with report.case("unknown fields refused without naming them") as case:
            extra = altered(lambda d: d.update({person.nir: person.last_name}))
            extra["patient"][person.last_name] = person.first_name
            answer = self.post(a, "/v1/dmp", extra, secrets, key=str(uuid.uuid4()))
            case.expect(answer.status == 422, f"answered {answer.brief()}")
            case.expect(self.dmp_count() == before, "a DMP was created")

        with report.case("Idempotency-Key missing, empty, oversized, not ASCII") as case:
            auth = b"Authorization: Bearer " + (a.token or "").encode()
            content = json.dumps(body).encode()
            variants: dict[str, list[bytes]] = {
                "missing": [],
                "empty": [b"Idempotency-Key: "],
                "blank": [b"Idempotency-Key:    "],
                "201 characters": [b"Idempotency-Key: " + b"k" * 201],
                "8 KB": [b"Idempotency-Key: " + b"k" * 8192],
                "UTF-8": [b"Idempotency-Key: " + "clé-été".encode()],
                "Latin-1": [b"Idempotency-Key: cl\xe9"],
                "control character": [b"Idempotency-Key: abc\x01def"],
            }
            for label, extra in variants.items():
                headers = [auth, b"Content-Type: application/json", *extra]
                answer = self.raw(a.source, "POST", "/v1/dmp", headers, content, secrets, label)
                if answer is None:
                    case.expect(False, f"{label}: no answer")
                    continue
                case.expect(400 <= answer.status < 500, f"{label}: {answer.status}")
                if label == "missing":
                    case.expect(answer.status == 400, f"missing: {answer.status} (expected 400)")
            case.expect(self.dmp_count() == before, "a DMP was created")

        with report.case("a 20 KB header is refused") as case:
            try:
                answer = self.post(a, "/v1/dmp", body, secrets, headers={"X-Filler": "x" * 20000})
                case.expect(400 <= answer.status < 500, f"answered {answer.brief()}")
            except httpx.HTTPError as error:
                case.expect(False, f"no answer ({type(error).__name__})")

        with report.case("replay with another body under the same key: 422") as case:
            person = self.person()
            secrets = person_secrets(person)
            body = person.creation(self.oid)
            key = str(uuid.uuid4())
            self.look_up(a, person)
            first = self.post(a, "/v1/dmp", body, secrets, key=key)
            case.expect(first.status == 201, f"first creation {first.brief()}")
            again = self.post(a, "/v1/dmp", body, secrets, key=key)
            case.expect(
                again.status == 201 and again.headers.get("idempotent-replayed") == "true",
                f"same body replay {again.brief()}",
            )
            other = self.person()
            changed = self.post(
                a, "/v1/dmp", other.creation(self.oid), person_secrets(other), key=key
            )
            case.expect(
                changed.status == 422 and changed.code == "IDEMPOTENCY_KEY_REUSED",
                f"other body {changed.brief()}",
            )
            first_id = (first.json() or {}).get("dmp_id")
            again_id = (again.json() or {}).get("dmp_id")
            case.expect(first_id == again_id, "the replay names another DMP")

        with report.case(f"{self.sizes.concurrent} concurrent duplicates of one key") as case:
            person = self.person()
            key = str(uuid.uuid4())
            before = self.dmp_count()
            barrier = threading.Barrier(self.sizes.concurrent)
            clients = [self.client("127.0.0.1") for _ in range(self.sizes.concurrent)]
            for client in clients:
                client.token = a.token

            self.look_up(a, person)  # the clients share A's session

            def send(client: Client) -> Answer:
                client.request("GET", "/v1/health")  # connected first: the race is the request
                barrier.wait(timeout=30)
                return self.create(client, person, key=key, look_up=False)

            with ThreadPoolExecutor(self.sizes.concurrent) as pool:
                answers = list(pool.map(send, clients))
            for client in clients:
                client.close()
            fresh = [
                x for x in answers if x.status == 201 and not x.headers.get("idempotent-replayed")
            ]
            replays = [
                x for x in answers if x.status == 201 and x.headers.get("idempotent-replayed")
            ]
            busy = [x for x in answers if x.status == 409 and x.code == "IDEMPOTENCY_IN_PROGRESS"]
            case.expect(len(fresh) == 1, f"{len(fresh)} fresh creations")
            case.expect(
                len(fresh) + len(replays) + len(busy) == len(answers),
                "other answers: " + ",".join(x.brief() for x in answers),
            )
            ids = {(x.json() or {}).get("dmp_id") for x in fresh + replays}
            case.expect(len(ids) == 1, f"{len(ids)} different DMP ids")
            case.expect(self.dmp_count() == before + 1, f"{self.dmp_count() - before} DMPs made")
            case.note(f"1 created, {len(replays)} replayed, {len(busy)} told in progress")

        with report.case("unknown routes: 404 problem") as case:
            for path in (
                "/",
                "/v1",
                "/v1/nope",
                "/admin",
                "/v1/dmp/..%2f..%2fetc%2fpasswd",
                "/docs",
                "/v2/dmp",
            ):
                for method in ("GET", "POST"):
                    answer = self.call(a, method, path, content=b"{}")
                    case.expect(answer.status == 404, f"{method} {path}: {answer.brief()}")

        with report.case("unknown methods: 405 problem") as case:
            for method, path in (
                ("GET", "/v1/dmp"),
                ("DELETE", "/v1/dmp"),
                ("PUT", "/v1/auth/session"),
                ("PATCH", "/v1/dmp/status"),
                ("DELETE", "/v1/health"),
                ("TRACE", "/v1/dmp"),
            ):
                answer = self.call(a, method, path)
                case.expect(answer.status == 405, f"{method} {path}: {answer.brief()}")

        status_body = {"ins": {"value": person.nir, "oid": self.oid}}
        with report.case("bad tokens: 401 problem") as case:
            content = json.dumps(status_body).encode()
            for label, header in {
                "none": None,
                "garbage": b"Bearer garbage",
                "Basic": b"Basic dXNlcjpwYXNz",
                "empty bearer": b"Bearer ",
                "bearer alone": b"Bearer",
                "8 KB token": b"Bearer " + b"t" * 8192,
                "token with a NUL": b"Bearer abc\x00def",
                "another service's token": b"Bearer " + base64.urlsafe_b64encode(bytes(32)),
            }.items():
                headers = [b"Content-Type: application/json"]
                if header is not None:
                    headers.append(b"Authorization: " + header)
                answer = self.raw(
                    "127.0.0.1", "POST", "/v1/dmp/status", headers, content, secrets, label
                )
                if answer is None:
                    case.expect(False, f"{label}: no answer")
                    continue
                case.expect(answer.status in (400, 401), f"{label}: {answer.status}")

        with report.case("expired session token: 401") as case:
            client = self.client("127.0.0.1")
            token = client.login(self.pro_a)
            self.remember("token", token)
            digest = hashlib.sha256(token.encode()).hexdigest()
            self.db.execute("UPDATE sessions SET expires_at = 1 WHERE token_hash = ?", (digest,))
            answer = self.post(client, "/v1/dmp/status", status_body, secrets)
            case.expect(answer.status == 401, f"answered {answer.brief()}")
            client.close()

        with report.case("bad session requests: 401, never 5xx") as case:
            outsider = Pki.create(self.workdir / "outsider", count=1).professionals[0]
            expired = self.pki.ca.professional(77, "PROBEEXPIRE", "Emile", "21", "X", expired=True)
            client = self.client("127.0.5.1")
            pem = self.pro_a.certificate_pem
            attempts = {
                "unknown challenge": lambda: client.session("nope", pem, bytes(256)),
                "signature not base64": lambda: client.session(
                    client.challenge().json()["challenge_id"], pem, "%%%not base64%%%"
                ),
                "certificate garbage": lambda: client.session(
                    client.challenge().json()["challenge_id"],
                    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                    bytes(256),
                ),
                "certificate from another CA": lambda: client.attempt(outsider),
                "expired certificate": lambda: client.attempt(expired),
                "challenge used twice": lambda: self._reuse_challenge(client),
            }
            for label, attempt in attempts.items():
                answer = attempt()
                for failure in violations(answer, {}):
                    case.failures.append(f"{label}: {failure}")
                case.expect(answer.status == 401, f"{label}: {answer.brief()}")
            client.close()

    def _reuse_challenge(self, client: Client) -> Answer:
        challenge = client.challenge().json()
        assert isinstance(challenge, dict)
        signature = self.pro_a.sign(base64.b64decode(challenge["nonce"]))
        first = client.session(challenge["challenge_id"], self.pro_a.certificate_pem, signature)
        if first.status == 200:
            self.remember("token", (first.json() or {}).get("token"))
        return client.session(challenge["challenge_id"], self.pro_a.certificate_pem, signature)

    # --- the service's own rules (finding 5) ---------------------------------------------------

    def refused(
        self, case: Case, label: str, body: dict, secrets: dict, path="/v1/dmp", expect=None
    ):
        before = self.dmp_count()
        answer = self.post(self.a, path, body, secrets, key=str(uuid.uuid4()))
        ok = 400 <= answer.status < 500 if expect is None else answer.status == expect
        case.expect(ok, f"{label}: {answer.brief()}" + (f" (expected {expect})" if expect else ""))
        case.expect(self.dmp_count() == before, f"{label}: a DMP was created")
        return answer

    def family_rules(self) -> None:
        report = self.report
        nia_oid = OID_NIA if self.mode == "production" else self.oid
        for label, value in (
            ("markup", "<script>alert(1)</script>"),
            ("letters", "ABCDEFGHIJKLMNOP"),
            ("32 nines", "9" * 32),
        ):
            with report.case(f"INS value {label} under {nia_oid} refused") as case:
                person = self.person()
                body = person.creation(nia_oid)
                body["patient"]["ins"]["value"] = value
                secrets = {**person_secrets(person), "INS value": value}
                self.refused(case, label, body, secrets)
                status = self.post(
                    self.a, "/v1/dmp/status", {"ins": {"value": value, "oid": nia_oid}}, secrets
                )
                case.expect(
                    status.status >= 400 or (status.json() or {}).get("status") == "not_found",
                    "status says a DMP exists",
                )

        with report.case(f"same 15 digits under {self.oid} then {self.other_oid}: one DMP") as case:
            person = self.person()
            first = self.create(self.a, person)
            case.expect(first.status == 201, f"first {first.brief()}")
            # INSi gave the other OID to nobody: refused before any DMP (the gate), and the
            # status under the other OID finds the one DMP (one person across OIDs).
            self.refused(
                case, "second OID", person.creation(self.other_oid), person_secrets(person)
            )
            ins = {"value": person.nir, "oid": self.other_oid}
            status = self.post(self.a, "/v1/dmp/status", {"ins": ins}, person_secrets(person))
            case.expect(
                (status.json() or {}).get("status") == "active",
                f"status under {self.other_oid}: {status.brief()}",
            )

        if self.mode == "production":
            with report.case("test INS refused in production") as case:
                person = self.person()
                self.refused(case, "TEST OID", person.creation(OID_TEST), person_secrets(person))
        else:
            with report.case("real INS-NIR refused in test mode, INS-NIA left to INSi") as case:
                person = self.person()
                answer = self.refused(
                    case, OID_NIR, person.creation(OID_NIR), person_secrets(person)
                )
                case.expect(answer.code == "INS_REAL_ON_TEST", f"INS-NIR: {answer.brief()}")
                # No test variant of the NIA exists: a test service takes its OID, and INSi
                # gave it to nobody here.
                person = self.person()
                answer = self.refused(
                    case, OID_NIA, person.creation(OID_NIA), person_secrets(person)
                )
                case.expect(answer.code == "INSI_REQUIRED", f"INS-NIA: {answer.brief()}")

        for mobile in (
            "+1 202 555 0143",
            "+44 7911 123456",
            "+49 151 12345678",
            "+33 1 23 45 67 89",
        ):
            with report.case(f"mobile {mobile} refused") as case:
                person = self.person()
                self.remember("mobile", mobile.replace(" ", ""))
                self.refused(
                    case,
                    "creation",
                    person.creation(self.oid, {"mobile": mobile}),
                    person_secrets(person),
                )

        with report.case("email with a 65-character local part refused") as case:
            person = self.person()
            email = "a" * 65 + "@exemple.fr"
            self.refused(
                case,
                "creation",
                person.creation(self.oid, {"email": email}),
                person_secrets(person),
            )

        names = {
            "ANSI escape": "\x1b[31mDUPONT\x1b[0m",
            "clear-screen escape": "\x1b[2JDUPONT",
            "CR/LF": "DUPONT\r\nMARTIN",
            "LF": "DUPONT\nMARTIN",
            "RTL override": "DUPONT\u202eTNOPUD",
            "zero-width space": "DU\u200bPONT",
            "only spaces": "   ",
            "tab": "DUPONT\tX",
        }
        for label, value in names.items():
            with report.case(f"last name with {label} refused") as case:
                person = self.person()
                body = person.creation(self.oid)
                body["patient"]["last_name"] = value
                self.refused(case, "last name", body, person_secrets(person))
        for label in ("ANSI escape", "RTL override", "zero-width space", "only spaces"):
            with report.case(f"first name with {label} refused") as case:
                person = self.person()
                body = person.creation(self.oid)
                body["patient"]["first_name"] = names[label]
                self.refused(case, "first name", body, person_secrets(person))
        with report.case("legal representative name with CR/LF refused") as case:
            person = self.person()
            body = person.creation(self.oid)
            body["legal_representative"] = {
                "relationship": "MTH",
                "last_name": "DUPONT\r\nX",
                "first_name": "Anne",
            }
            self.refused(case, "representative", body, person_secrets(person))

        with report.case("control: valid creation with French channels accepted") as case:
            person = self.person()
            answer = self.create(self.a, person, web=person.web())
            case.expect(answer.status == 201, f"answered {answer.brief()}")
            self.remember("password", password_in(answer.json()))
        with report.case("control: hyphens, apostrophe, spaces of INSi's traits accepted") as case:
            person = COMPOUND
            for label, value in person_secrets(person).items():
                self.remember(label, value)
            self.look_up(self.a, person)
            body = person.creation(self.oid)
            # As a client may send them: a typographic apostrophe, runs of spaces.
            body["patient"]["last_name"] = "D\u2019ARTAGNAN-ELODIE  DE LA TOUR"
            body["patient"]["first_name"] = "MARIE-ANGE  ZOE"
            answer = self.post(
                self.a, "/v1/dmp", body, person_secrets(person), key=str(uuid.uuid4())
            )
            case.expect(answer.status == 201, f"answered {answer.brief()}")
        with report.case("control: +33 mobile and plain email on web access") as case:
            person = self.person()
            created = self.create(self.a, person)
            case.expect(created.status == 201, f"creation {created.brief()}")
            web = {
                "ins": {"value": person.nir, "oid": self.oid},
                "mobile": "+33 6 12 34 56 78",
                "email": "patient@exemple.fr",
            }
            answer = self.post(
                self.a, "/v1/dmp/web-access", web, person_secrets(person), key=str(uuid.uuid4())
            )
            case.expect(answer.status == 201, f"web access {answer.brief()}")
            self.remember("password", password_in(answer.json()))
        with report.case("foreign mobile refused on web access too") as case:
            person = self.person()
            created = self.create(self.a, person)
            case.expect(created.status == 201, f"creation {created.brief()}")
            web = {"ins": {"value": person.nir, "oid": self.oid}, "mobile": "+44 7911 123456"}
            answer = self.post(
                self.a, "/v1/dmp/web-access", web, person_secrets(person), key=str(uuid.uuid4())
            )
            case.expect(400 <= answer.status < 500, f"answered {answer.brief()}")

    # --- INSi: the look-ups and the creation gate (issue 11) ------------------------------------

    def family_insi(self) -> None:
        report, a, b = self.report, self.a, self.b

        with report.case("creation without an INSi look-up: 422 INSI_REQUIRED") as case:
            person = self.person()
            answer = self.refused(
                case, "no look-up", person.creation(self.oid), person_secrets(person)
            )
            case.expect(answer.code == "INSI_REQUIRED", f"answered {answer.brief()}")

        with report.case(
            "creation with other traits than INSi's: 422 INSI_TRAITS_MISMATCH"
        ) as case:
            person = self.person()
            self.look_up(a, person)
            variants = {
                "first name as typed": {"first_name": person.first_name.capitalize()},
                "used name": {"last_name": person.last_name + " DUPONT"},
                "birth date": {"birth_date": person.birth_date[:6] + "00"},
                "sex": {"sex": "F" if person.sex == "M" else "M"},
            }
            for label, change in variants.items():
                body = person.creation(self.oid)
                body["patient"].update(change)
                answer = self.refused(case, label, body, person_secrets(person))
                case.expect(
                    answer.code == "INSI_TRAITS_MISMATCH", f"{label}: answered {answer.brief()}"
                )
            control = self.create(a, person, look_up=False)
            case.expect(control.status == 201, f"INSi's traits: {control.brief()}")

        with report.case("another professional's look-up does not open the gate") as case:
            person = self.person()
            self.look_up(b, person)
            answer = self.refused(
                case, "A after B's look-up", person.creation(self.oid), person_secrets(person)
            )
            case.expect(answer.code == "INSI_REQUIRED", f"answered {answer.brief()}")
            control = self.create(b, person, look_up=False)
            case.expect(control.status == 201, f"B after its own look-up: {control.brief()}")

        with report.case("identity status and document: the RNIV rules") as case:
            person = self.person()
            self.look_up(a, person)
            for identity, code in (
                ({"status": "qualifiee", "document": "none"}, "IDENTITY_STATUS"),
                ({"status": "recuperee", "document": "passport"}, "IDENTITY_STATUS"),
                ({"status": "qualifiee", "document": "birth_certificate"}, "DOCUMENT_MINORS_ONLY"),
            ):
                body = {**person.creation(self.oid), "identity": identity}
                answer = self.refused(case, str(identity), body, person_secrets(person))
                case.expect(answer.code == code, f"{identity}: answered {answer.brief()}")
            body = {
                **person.creation(self.oid),
                "identity": {"status": "qualifiee", "document": "passport"},
            }
            answer = self.post(a, "/v1/dmp", body, person_secrets(person), key=str(uuid.uuid4()))
            case.expect(answer.status == 201, f"qualifiee with a passport: {answer.brief()}")
            stored = self.db.query(
                "SELECT identity_status, identity_document FROM dmps WHERE ins_value = ?",
                (person.nir,),
            )
            case.expect(
                [tuple(row) for row in stored] == [("qualifiee", "passport")],
                f"stored {stored}",
            )

        with report.case("look-ups: 00 by card and traits, 01 for nobody, 02 for homonyms") as case:
            person = self.person()
            traits = {
                "birth_name": person.last_name,
                "first_given_name": person.first_name.capitalize(),
                "sex": person.sex,
                "birth_date": person.birth_date,
                "birthplace": None,
            }
            secrets = person_secrets(person)
            by_traits = self.post(a, "/v1/insi/traits", traits, secrets).json() or {}
            identity = by_traits.get("identity") or {}
            case.expect(
                by_traits.get("code") == "00"
                and identity.get("ins") == {"value": person.nir, "oid": self.oid}
                and identity.get("traits", {}).get("given_names") == person.first_name.split(),
                f"by traits {by_traits}",
            )
            nobody = self.unknown
            for label, value in person_secrets(nobody).items():
                self.remember(label, value)
            for path, body in (
                ("/v1/insi/card", nobody.card()),
                ("/v1/insi/traits", {**traits, "birth_name": nobody.last_name}),
            ):
                answer = self.post(a, path, body, person_secrets(nobody)).json() or {}
                case.expect(answer == {"code": "01", "identity": None}, f"{path}: {answer}")
            twin = HOMONYMS[0]
            for label, value in person_secrets(twin).items():
                self.remember(label, value)
            several = {
                "birth_name": twin.last_name,
                "first_given_name": twin.first_name,
                "sex": twin.sex,
                "birth_date": twin.birth_date,
            }
            answer = self.post(a, "/v1/insi/traits", several, person_secrets(twin)).json() or {}
            case.expect(answer == {"code": "02", "identity": None}, f"homonyms: {answer}")
            for homonym in HOMONYMS:
                found = self.post(a, "/v1/insi/card", homonym.card(), person_secrets(homonym))
                case.expect(
                    ((found.json() or {}).get("identity") or {}).get("ins", {}).get("value")
                    == homonym.nir,
                    f"homonym by card: {found.brief()}",
                )

        with report.case("malformed look-ups: 422 with their code, nothing echoed") as case:
            person = self.person()
            secrets = person_secrets(person)
            wrong_key = person.nir[:13] + f"{(int(person.nir[13:]) + 1) % 100:02d}"
            card = person.card()
            for label, body, code in (
                ("NIR key", {**card, "nir": wrong_key}, "NIR_KEY"),
                ("NIR shape", {**card, "nir": person.nir[:13] + "XY"}, "NIR_FORMAT"),
                (
                    "escape in the name",
                    {**card, "last_name": "\x1b[2J" + person.last_name},
                    "NAME_CHARSET",
                ),
                ("rank 0", {**card, "rank": 0}, "VALIDATION"),
            ):
                answer = self.post(a, "/v1/insi/card", body, {**secrets, "wrong NIR": wrong_key})
                case.expect(
                    answer.status == 422 and answer.code == code, f"{label}: {answer.brief()}"
                )
            traits = {
                "birth_name": person.last_name,
                "first_given_name": person.first_name,
                "sex": person.sex,
                "birth_date": person.birth_date,
                "birthplace": "7505",
            }
            answer = self.post(a, "/v1/insi/traits", traits, secrets)
            case.expect(
                answer.status == 422 and answer.code == "BIRTHPLACE",
                f"birthplace: {answer.brief()}",
            )

        with report.case("verification: valid with INSi's traits only") as case:
            person = self.person()
            secrets = person_secrets(person)
            held = {
                "ins": {"value": person.nir, "oid": self.oid},
                "birth_name": person.last_name,
                "given_names": person.first_name.split(),
                "sex": person.sex,
                "birth_date": person.birth_date,
            }
            valid = self.post(a, "/v1/insi/verification", held, secrets).json() or {}
            case.expect(valid == {"valid": True}, f"INSi's traits: {valid}")
            other = {**held, "given_names": ["AUTRE"]}
            invalid = self.post(a, "/v1/insi/verification", other, secrets).json() or {}
            case.expect(invalid == {"valid": False}, f"another given name: {invalid}")
            # A valid verification is an INSi answer too: the creation passes.
            created = self.create(a, person, look_up=False)
            case.expect(created.status == 201, f"creation after it: {created.brief()}")

        with report.case("INSi routes need a session: 401") as case:
            person = self.person()
            stranger = self.client("127.0.0.9")
            try:
                for path, body in (
                    ("/v1/insi/card", person.card()),
                    ("/v1/insi/traits", {}),
                    ("/v1/insi/verification", {}),
                ):
                    answer = self.call(
                        stranger, "POST", path, person_secrets(person), json_body=body
                    )
                    case.expect(answer.status == 401, f"{path}: {answer.brief()}")
            finally:
                stranger.close()

    # --- authorisation (finding 6) ---------------------------------------------------------------

    def family_authorisation(self) -> None:
        report = self.report
        person = self.person()
        ins = {"value": person.nir, "oid": self.oid}
        secrets = person_secrets(person)
        with report.case("control: A creates the DMP") as case:
            answer = self.create(self.a, person)
            case.expect(answer.status == 201, f"answered {answer.brief()}")
        with report.case("B without authorisation sees NON_EXISTE") as case:
            answer = self.post(self.b, "/v1/dmp/status", {"ins": ins}, secrets)
            authorization = (answer.json() or {}).get("authorization")
            case.expect(answer.status == 200, f"answered {answer.brief()}")
            case.expect(
                authorization in ("NON_EXISTE", "INTERDIT"), f"authorization {authorization}"
            )
        with report.case("B without authorisation asks web access: 403") as case:
            web = {"ins": ins, "email": "intrus@exemple.fr"}
            answer = self.post(self.b, "/v1/dmp/web-access", web, secrets, key=str(uuid.uuid4()))
            self.remember("password", password_in(answer.json()))
            case.expect(answer.status == 403, f"answered {answer.brief()} (expected 403)")
            state = self.post(self.a, "/v1/dmp/status", {"ins": ins}, secrets).json() or {}
            case.expect(state.get("web_access") is False, "web access was opened")
        opened = self.person()
        opened_ins = {"value": opened.nir, "oid": self.oid}
        with report.case("control: A opens web access on a DMP it created") as case:
            created = self.create(self.a, opened)
            case.expect(created.status == 201, f"creation {created.brief()}")
            web = {"ins": opened_ins, "email": "patient@exemple.fr"}
            answer = self.post(
                self.a, "/v1/dmp/web-access", web, person_secrets(opened), key=str(uuid.uuid4())
            )
            self.remember("password", password_in(answer.json()))
            case.expect(answer.status == 201, f"answered {answer.brief()}")
        with report.case("B without authorisation asks a password reissue: 403") as case:
            answer = self.post(
                self.b,
                REISSUE_PATH,
                {"ins": opened_ins},
                person_secrets(opened),
                key=str(uuid.uuid4()),
            )
            self.remember("password", password_in(answer.json()))
            if self.route_absent(answer):
                case.expect(False, f"absent ({answer.brief()})")
            else:
                case.expect(answer.status == 403, f"answered {answer.brief()} (expected 403)")

    @staticmethod
    def route_absent(answer: Answer) -> bool:
        return (answer.status == 404 and answer.code == "NOT_FOUND") or answer.status == 405

    # --- the initial password (finding 4) ----------------------------------------------------------

    def family_password(self) -> None:
        report, a = self.report, self.a
        person = self.person()
        ins = {"value": person.nir, "oid": self.oid}
        secrets = person_secrets(person)
        key = str(uuid.uuid4())
        first_password = None
        with report.case("creation with web access gives a password") as case:
            answer = self.create(a, person, web=person.web(), key=key)
            first_password = password_in(answer.json())
            self.remember("password", first_password)
            case.expect(answer.status == 201, f"answered {answer.brief()}")
            case.expect(first_password is not None, "no initial password")
        with report.case("answer lost, same key again: replay without password") as case:
            answer = self.create(a, person, web=person.web(), key=key)
            case.expect(answer.status == 201, f"answered {answer.brief()}")
            case.expect(
                answer.headers.get("idempotent-replayed") == "true", "not marked as a replay"
            )
            case.expect(
                password_in(answer.json()) is None, "the replay hands the password out again"
            )
        reissue_key = str(uuid.uuid4())
        with report.case("reissue gives a new password") as case:
            answer = self.post(a, REISSUE_PATH, {"ins": ins}, secrets, key=reissue_key)
            password = password_in(answer.json())
            self.remember("password", password)
            if self.route_absent(answer):
                case.expect(False, f"absent ({answer.brief()})")
            else:
                case.expect(200 <= answer.status < 300, f"answered {answer.brief()}")
                case.expect(password is not None, "no password in the answer")
                case.expect(password != first_password, "the same password as before")
        with report.case("reissue replayed: no password") as case:
            answer = self.post(a, REISSUE_PATH, {"ins": ins}, secrets, key=reissue_key)
            if self.route_absent(answer):
                case.expect(False, f"absent ({answer.brief()})")
            else:
                case.expect(200 <= answer.status < 300, f"answered {answer.brief()}")
                case.expect(
                    password_in(answer.json()) is None, "the replay hands the password out again"
                )
        with report.case("reissue refused without web access or DMP") as case:
            without = self.person()
            created = self.create(a, without)
            case.expect(created.status == 201, f"creation {created.brief()}")
            for label, target in (("no web access", without), ("no DMP", self.person())):
                answer = self.post(
                    a,
                    REISSUE_PATH,
                    {"ins": {"value": target.nir, "oid": self.oid}},
                    person_secrets(target),
                    key=str(uuid.uuid4()),
                )
                self.remember("password", password_in(answer.json()))
                if self.route_absent(answer):
                    case.expect(False, f"absent ({answer.brief()})")
                    break
                case.expect(400 <= answer.status < 500, f"{label}: {answer.brief()}")

    # --- the login rate limit (finding 3) ------------------------------------------------------

    def family_login_rate(self) -> None:
        report = self.report
        attacker = self.client("127.0.3.1")
        pem = self.pro_a.certificate_pem
        with report.case("5 bad signatures from one address: 401 each") as case:
            statuses = [attacker.attempt(self.pro_a, bad=True) for _ in range(5)]
            for answer in statuses:
                for failure in violations(answer, {}):
                    case.failures.append(failure)
            case.expect(
                all(x.status == 401 for x in statuses),
                "answers " + ",".join(x.brief() for x in statuses),
            )
        lines = pem.strip().splitlines()
        rewrites = {
            "CRLF line ends": pem.replace("\n", "\r\n"),
            "text before BEGIN": "Certificat d'authentification CPS\n" + pem,
            "one-line base64": "\n".join([lines[0], "".join(lines[1:-1]), lines[-1]]) + "\n",
            "trailing blanks": pem + "   \n\n\t \n",
        }
        for label, text in rewrites.items():
            with report.case(f"then the same certificate with {label}: 429") as case:
                answer = attacker.attempt(self.pro_a, certificate_pem=text, bad=True)
                for failure in violations(answer, {}):
                    case.failures.append(failure)
                case.expect(answer.status == 429, f"answered {answer.brief()} (expected 429)")
                case.expect(
                    answer.status != 429 or "retry-after" in answer.headers,
                    "429 without Retry-After",
                )
        attacker.close()

        other = self.client("127.0.3.2")
        with report.case(
            f"{self.sizes.bad_logins} bad signatures for C from 127.0.3.2: throttled"
        ) as case:
            answers = [other.attempt(self.pro_c, bad=True) for _ in range(self.sizes.bad_logins)]
            for answer in answers:
                for failure in violations(answer, {}):
                    case.failures.append(failure)
            counts = Counter(x.status for x in answers)
            case.expect(counts[429] > 0, f"never 429: {dict(counts)}")
            case.expect(counts[200] == 0, "a bad signature opened a session")
            case.note(f"statuses {dict(sorted(counts.items()))}")
        other.close()
        with report.case("C's valid login from 127.0.0.1 still works") as case:
            client = self.client("127.0.0.1")
            answer = client.attempt(self.pro_c)
            case.expect(answer.status == 200, f"answered {answer.brief()}")
            self.remember("token", (answer.json() or {}).get("token"))
            client.close()

    # --- request bodies (finding 1) --------------------------------------------------------------

    def family_bodies(self) -> None:
        report, service = self.report, self.service
        port = service.port
        body = huge_json(self.sizes.big_keys)
        megabytes = len(body) / 1e6
        for chunked in (False, True):
            framing = "chunked" if chunked else "Content-Length"
            name = f"{megabytes:.0f} MB JSON of {self.sizes.big_keys} keys on /v1/auth/session ({framing})"
            with report.case(name) as case:
                before = service.memory()
                with HealthWatch(service.base_url, self.context, "127.0.0.2") as health:
                    sent = send_big(
                        port, self.context, "127.0.6.1", "/v1/auth/session", body, chunked=chunked
                    )
                time.sleep(0.3)
                after = service.memory()
                answer = sent.answer
                if not case.expect(
                    answer is not None,
                    f"no answer after {sent.elapsed:.1f} s ({sent.error or 'closed or timed out'}) "
                    f"and {sent.sent} body bytes sent",
                ):
                    continue
                for failure in violations(answer, {}):
                    case.failures.append(failure)
                case.expect(answer.status == 413, f"answered {answer.status} (expected 413)")
                case.expect(
                    len(answer.body) < SMALL_ERROR_BODY, f"error body of {len(answer.body)} bytes"
                )
                case.expect(not health.failures, f"health failed: {Counter(health.failures)}")
                case.expect(bool(health.latencies), "no health check answered meanwhile")
                if self.args.timing:  # figures always; verdicts on speed only when asked
                    case.expect(
                        sent.elapsed < BIG_BODY_ANSWER_LIMIT, f"answer after {sent.elapsed:.2f} s"
                    )
                    case.expect(
                        statistics.median(health.latencies or [float("inf")])
                        < HEALTH_LATENCY_LIMIT,
                        f"health median {median_ms(health.latencies)}",
                    )
                growth = after.get("VmHWM", 0) - before.get("VmHWM", 0)
                case.expect(
                    growth < RSS_GROWTH_LIMIT_KB, f"service peak memory +{growth // 1024} MB"
                )
                case.note(
                    f"{answer.status} in {sent.elapsed:.2f} s after {sent.sent} body bytes, "
                    f"{len(answer.body)} B; health n={len(health.latencies)} "
                    f"median {median_ms(health.latencies)} max "
                    f"{max(health.latencies, default=0) * 1000:.1f} ms; VmRSS "
                    f"{before.get('VmRSS', 0) // 1024}->{after.get('VmRSS', 0) // 1024} MB, "
                    f"VmHWM {before.get('VmHWM', 0) // 1024}->{after.get('VmHWM', 0) // 1024} MB"
                )
        del body

        person = self.person()
        filler = "x" * 90
        keys = self.sizes.wrong_fields_bytes // 100
        wrong = json.dumps({f"f{index:07d}": filler for index in range(keys)}).encode()
        for path, auth in (("/v1/dmp", True), ("/v1/auth/session", False)):
            with report.case(f"1 MB of wrong fields on {path}: small refusal") as case:
                headers = (
                    f"Authorization: Bearer {self.a.token}\r\nIdempotency-Key: {uuid.uuid4()}\r\n"
                    if auth
                    else ""
                )
                sent = send_big(
                    port, self.context, "127.0.6.2", path, wrong, chunked=False, headers=headers
                )
                answer = sent.answer
                if case.expect(answer is not None, f"no answer ({sent.error or 'closed'})"):
                    for failure in violations(answer, {}):
                        case.failures.append(failure)
                    case.expect(400 <= answer.status < 500, f"answered {answer.status}")
                    case.expect(
                        len(answer.body) < SMALL_ERROR_BODY,
                        f"error body of {len(answer.body)} bytes",
                    )
                    case.note(f"{answer.status}, {len(answer.body)} B")

        with report.case(
            "200 unknown fields named after the patient: small refusal, no echo"
        ) as case:
            base = person.creation(self.oid)
            for index in range(200):
                base[f"{person.last_name}{index}"] = person.nir
            answer = self.post(
                self.a, "/v1/dmp", base, person_secrets(person), key=str(uuid.uuid4())
            )
            case.expect(400 <= answer.status < 500, f"answered {answer.brief()}")
            case.expect(
                len(answer.body) < SMALL_ERROR_BODY, f"error body of {len(answer.body)} bytes"
            )

        nesting = {
            "/v1/auth/session": b'{"a":' * 5000 + b"1" + b"}" * 5000,
            "/v1/dmp": b"[" * 30000 + b"]" * 30000,
            "/v1/dmp/status": b'{"ins":' + b"[" * 3000 + b"]" * 3000 + b"}",
        }
        for path, content in nesting.items():
            with report.case(f"deep JSON nesting on {path}: refused") as case:
                answer = self.call(
                    self.a,
                    "POST",
                    path,
                    content=content,
                    headers={"Content-Type": "application/json"},
                    key=str(uuid.uuid4()),
                )
                case.expect(400 <= answer.status < 500, f"answered {answer.brief()}")
                case.expect(
                    len(answer.body) < SMALL_ERROR_BODY, f"error body of {len(answer.body)} bytes"
                )
                health = fresh_health(service.base_url, self.context, "127.0.0.2")
                case.expect(health == "ok", f"health after: {health}")

    # --- connections (finding 2) -------------------------------------------------------------

    def family_connections(self) -> None:
        report, service = self.report, self.service
        count = self.sizes.half_sent
        per_address = 20  # below the service's per-address cap: these must be admitted
        sources = [f"127.0.2.{1 + index // per_address}" for index in range(count)]
        head = (
            b"POST /v1/auth/session HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 64\r\n"
        )
        kinds = {
            "head without its final CRLF": (head, self.header_timeout),
            "head complete, body missing": (
                head + b"\r\n" + b'{"challenge_id":',
                self.body_timeout,
            ),
        }
        opened: dict[str, list[tuple[ssl.SSLSocket, float]]] = {}
        errors: Counter[str] = Counter()
        half = count // 2
        for position, (label, (data, _timeout)) in enumerate(kinds.items()):
            part = sources[position * half : (position + 1) * half]
            sockets, failed = open_tls_many(service.port, self.context, part)
            errors.update(failed)
            started = []
            for sock in sockets:
                try:
                    sock.sendall(data)
                    started.append((sock, time.monotonic()))
                except OSError:
                    errors["send"] += 1
            opened[label] = started
        with report.case(f"{count} half-sent requests: health from a fresh connection") as case:
            health = fresh_health(service.base_url, self.context, "127.0.0.3")
            case.expect(health == "ok", f"health: {health}")
            case.expect(not errors, f"could not open: {dict(errors)}")
        for label, started in opened.items():
            timeout = kinds[label][1]
            margin = 2.0 + 0.1 * timeout
            with report.case(
                f"{len(started)} x {label}: closed within {timeout:g} s + {margin:g} s"
            ) as case:
                closed, received = watch_closing(started, timeout + margin + 5)
                still_open = sum(1 for x in closed if x is None)
                busy = sum(1 for data in received if data.startswith(b"HTTP/1.1 503"))
                late = [x for x in closed if x is not None and x > timeout + margin]
                case.expect(
                    still_open == 0, f"{still_open} still open after {timeout + margin + 5:g} s"
                )
                case.expect(not late, f"{len(late)} closed late (max {max(late, default=0):.1f} s)")
                case.expect(busy == 0, f"{busy} refused as busy (not a timeout)")
                times = [x for x in closed if x is not None]
                answered = sum(1 for data in received if data.startswith(b"HTTP/1.1 4"))
                case.note(
                    f"closed after {min(times, default=0):.1f}-{max(times, default=0):.1f} s, "
                    f"{answered} with a 4xx answer"
                )
                for sock, _start in started:
                    sock.close()

        with report.case(
            f"{self.sizes.flood} TLS connections from 127.0.4.1: health from 127.0.0.3"
        ) as case:
            sockets, failed = open_tls_many(
                service.port, self.context, ["127.0.4.1"] * self.sizes.flood, 32
            )
            try:
                health = fresh_health(service.base_url, self.context, "127.0.0.3")
                case.expect(health == "ok", f"health: {health}")
                same = fresh_health(service.base_url, self.context, "127.0.4.1")
                case.note(
                    f"{len(sockets)} opened ({dict(failed) or 'no failure'}); the flooding address gets {same}"
                )
            finally:
                for sock in sockets:
                    sock.close()
        with report.case("the flooding address is served again once its connections close") as case:
            time.sleep(0.5)
            health = fresh_health(service.base_url, self.context, "127.0.4.1")
            case.expect(health == "ok", f"health: {health}")

        with report.case(
            f"{self.sizes.flood} TCP connections without TLS from 127.0.4.2: health from 127.0.0.3"
        ) as case:
            raw: list[socket.socket] = []
            try:
                for _ in range(self.sizes.flood):
                    try:
                        raw.append(
                            socket.create_connection(
                                ("127.0.0.1", service.port),
                                timeout=5,
                                source_address=("127.0.4.2", 0),
                            )
                        )
                    except OSError as error:
                        case.note(f"stopped at {len(raw)}: {type(error).__name__}")
                        break
                time.sleep(0.2)
                health = fresh_health(service.base_url, self.context, "127.0.0.3")
                case.expect(health == "ok", f"health: {health}")
            finally:
                for sock in raw:
                    sock.close()

    # --- challenges (finding 7) -----------------------------------------------------------------

    def family_challenges(self) -> None:
        report = self.report
        count = self.sizes.challenges
        with report.case(
            f"{count} unauthenticated challenges from one address: 429 after a rate"
        ) as case:
            flood = self.client("127.0.7.1")
            statuses: Counter[int] = Counter()
            first_429 = None
            start = time.monotonic()
            for index in range(count):
                answer = flood.challenge()
                statuses[answer.status] += 1
                if answer.status == 429 and first_429 is None:
                    first_429 = index + 1
                    case.expect("retry-after" in answer.headers, "429 without Retry-After")
                for failure in violations(answer, {}):
                    case.failures.append(failure)
            flood.close()
            case.expect(first_429 is not None, f"never 429: {dict(statuses)}")
            case.note(
                f"{dict(sorted(statuses.items()))} in {time.monotonic() - start:.1f} s, first 429 "
                f"at request {first_429}"
            )
        with report.case("another address still gets a challenge") as case:
            client = self.client("127.0.7.2")
            answer = client.challenge()
            case.expect(answer.status == 200, f"answered {answer.brief()}")
            client.close()

    # --- TLS versions and suites (finding 7) ---------------------------------------------------

    def tls_context(self, version: ssl.TLSVersion, ciphers: str | None = None) -> ssl.SSLContext:
        import warnings

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cafile=str(self.pki.ca_path))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = version
            context.maximum_version = version
        if ciphers:
            context.set_ciphers(ciphers)
        return context

    def handshake(self, context: ssl.SSLContext, port: int) -> str | None:
        """'TLSv1.x cipher' on success, None when the handshake failed."""
        try:
            with tls_socket(port, context, "127.0.0.1", timeout=5) as sock:
                cipher = sock.cipher()
                return f"{sock.version()} {cipher[0] if cipher else ''}"
        except (ssl.SSLError, OSError):
            return None

    def family_tls(self) -> None:
        report = self.report
        port = self.service.port
        legacy = "ALL:@SECLEVEL=0"
        cbc = (
            ":".join(
                f"{kx}-{alg}"
                for kx in ("ECDHE-ECDSA", "ECDHE-RSA")
                for alg in ("AES128-SHA", "AES256-SHA", "AES128-SHA256", "AES256-SHA384")
            )
            + ":AES128-SHA:AES256-SHA:AES128-SHA256:AES256-SHA256"
        )
        refused = {
            "TLS 1.2 with CBC suites only": self.tls_context(ssl.TLSVersion.TLSv1_2, cbc),
            "TLS 1.0": self.tls_context(ssl.TLSVersion.TLSv1, legacy),
            "TLS 1.1": self.tls_context(ssl.TLSVersion.TLSv1_1, legacy),
        }
        with permissive_server(self.pki) as control_port:
            for label, context in refused.items():
                with report.case(f"{label}: handshake refused") as case:
                    if self.handshake(context, control_port) is None:
                        case.skip(
                            "this client's OpenSSL cannot offer it (checked against a local server)"
                        )
                        continue
                    result = self.handshake(context, port)
                    case.expect(result is None, f"handshake succeeded: {result}")
        for label, context in {
            "TLS 1.3": self.tls_context(ssl.TLSVersion.TLSv1_3),
            "TLS 1.2 with AEAD suites": self.tls_context(ssl.TLSVersion.TLSv1_2),
        }.items():
            with report.case(f"{label}: handshake accepted") as case:
                result = self.handshake(context, port)
                case.expect(result is not None, "handshake failed")
                case.note(str(result))

    # --- the service's log -----------------------------------------------------------------------

    def family_log(self) -> None:
        with self.report.case("the service's log holds no patient data, password or token") as case:
            text = self.service.log_text()
            leaked = Counter(label for value, label in self.sent.items() if value in text)
            case.expect(not leaked, f"found in the log: {dict(leaked)}")
            case.expect("Traceback" not in text, "a traceback in the log")
            case.note(f"{len(self.sent)} values looked for in {len(text.splitlines())} lines")


@contextmanager
def permissive_server(pki: Pki) -> Iterator[int]:
    """A local TLS server that accepts anything down to TLS 1.0 and CBC suites, to check that
    this client really offers what a "refused" case sends."""
    import warnings

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki.server_cert), str(pki.server_key))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("ALL:@SECLEVEL=0")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _address = listener.accept()
            except OSError:
                continue
            conn.settimeout(5)
            with suppress(OSError, ssl.SSLError):
                context.wrap_socket(conn, server_side=True).close()
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--mode", choices=("test", "production"), default="test")
    parser.add_argument(
        "--quick", action="store_true", help="a few cases of each family, small sizes"
    )
    parser.add_argument("--postgres-url", help="admin URL (default: PROCLIENT_TEST_POSTGRES_URL)")
    parser.add_argument("--header-timeout", type=float, help="server.header_timeout to configure")
    parser.add_argument("--body-timeout", type=float, help="server.body_timeout to configure")
    parser.add_argument(
        "--no-config",
        action="store_true",
        help="write no [server] settings: expect the service's default timeouts (10 s, 20 s)",
    )
    parser.add_argument("--service-root", help="run the proclient of this checkout")
    parser.add_argument("--only", help="comma-separated families to run")
    parser.add_argument("--seed", type=int, help="seed of the fictitious patients")
    parser.add_argument(
        "--no-timing",
        dest="timing",
        action="store_false",
        help="print the speed figures without judging them (the test suite: shared machines)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory and database")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return OutsideProbe(parse_args(argv)).run()


if __name__ == "__main__":
    sys.exit(main())
