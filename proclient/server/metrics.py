"""Prometheus metrics of ``proclient serve`` (``[server] metrics_port``), with the well-kept
client library ``prometheus_client``, served in Prometheus' text format on a port of their own
(``metrics_host``, loopback by default), never on the service's port.

What is counted, and with which labels: every label comes from a closed set chosen by the
service (route templates, HTTP statuses, problem codes, INSi answer codes, a few words), never
from what a client sent. No name, NIR, national id, login, e-mail, token or address is ever a
label or a value: a request to an unknown path is counted under ``route="unmatched"``, a
problem code the service does not know under ``code="OTHER"``.

- ``proclient_http_requests_total{route,method,status}``: requests answered, by route template.
- ``proclient_http_request_duration_seconds{route}``: a histogram of the time to answer.
- ``proclient_problems_total{status,code}``: refusals (``application/problem+json``) by code;
  ``status="429"`` are the rate-limit refusals (AUTH_RATE_LIMITED), ``SERVICE_BUSY`` a 503.
- ``proclient_dmp_writes_total{action,origin}``: DMPs created or reactivated (``origin``
  online, or ``offline`` for a creation captured offline), web accesses opened and initial
  passwords reissued; an idempotent replay is not counted again.
- ``proclient_insi_answers_total{lookup,code}``: INSi answers (card or traits: 00, 01, 02;
  verification: valid or invalid).
- ``proclient_database_errors_total{kind}``: database errors that ended a request
  (``operational``: connection lost, server gone, locked; ``pool_timeout``; ``other``).
- ``proclient_connections_refused_total``: connections refused at once (SERVICE_BUSY: too many
  in all or from one address), counted by :func:`connection_refused`.

Nothing is counted until :func:`enable` (``proclient serve`` with ``metrics_port``): the
embedded service of ``proclient demo`` and the tests' services do not import the library, and
:class:`RequestMetrics` passes requests through untouched. With several worker processes each
worker writes its counts to files in ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's
multiprocess mode), a private folder the supervisor makes before it spawns them, serves the sum
of (:func:`serve_metrics` with ``multiprocess_dir``) and removes at exit.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("proclient.server")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"  # the route of a request no route matched (never its raw path)
OTHER = "OTHER"  # a problem code outside the service's vocabulary
# Seconds; the creation's own latency (INSi gate, statement signing, scrypt) sits in the middle.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
WRITE_ACTIONS = frozenset({"creation", "reactivation", "web_access", "password_reissue"})
INSI_LOOKUPS = frozenset({"card", "traits", "verification"})
INSI_CODES = frozenset({"00", "01", "02", "valid", "invalid"})
PROBLEM_MEDIA_TYPE = b"application/problem+json"
MAX_PROBLEM_BYTES = 4096  # a problem body is a few hundred bytes; past this it is not read
_CODE_SHAPE = re.compile(r"[A-Za-z][A-Za-z_]{0,39}")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]


class Instruments:
    """The service's metrics, registered in ``registry`` (prometheus_client objects)."""

    def __init__(self, registry: Any) -> None:
        from prometheus_client import Counter, Histogram

        self.registry = registry
        self.requests = Counter(
            "proclient_http_requests",
            "Requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "proclient_http_request_duration_seconds",
            "Time to answer a request, by route template.",
            ["route"],
            buckets=BUCKETS,
            registry=registry,
        )
        self.problems = Counter(
            "proclient_problems",
            "Refusals (application/problem+json) by HTTP status and problem code.",
            ["status", "code"],
            registry=registry,
        )
        self.writes = Counter(
            "proclient_dmp_writes",
            "DMPs created or reactivated, web accesses opened, passwords reissued (replays "
            "not counted).",
            ["action", "origin"],
            registry=registry,
        )
        self.insi = Counter(
            "proclient_insi_answers",
            "INSi answers by look-up and code (00 one identity, 01 none, 02 several; "
            "verification valid or invalid).",
            ["lookup", "code"],
            registry=registry,
        )
        self.database_errors = Counter(
            "proclient_database_errors",
            "Database errors that ended a request, by kind.",
            ["kind"],
            registry=registry,
        )
        self.connections_refused = Counter(
            "proclient_connections_refused",
            "Connections refused at once (SERVICE_BUSY: too many in all or from one address).",
            registry=registry,
        )
        # (route, method, status) -> (requests child, duration child): labels() takes a lock
        # and builds a key; a plain dict look-up is what each request pays instead.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(route, method, str(status)),
                self.duration.labels(route),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)


_instruments: Instruments | None = None


def enable() -> Instruments:
    """Count in this process from now on (idempotent). In a worker whose supervisor set
    ``PROMETHEUS_MULTIPROC_DIR``, the counts go to that folder's files (the supervisor serves
    their sum); otherwise to a registry of this process, with its CPU and memory
    (prometheus_client's process collector)."""
    global _instruments
    if _instruments is None:
        from prometheus_client import CollectorRegistry, ProcessCollector, disable_created_metrics

        disable_created_metrics()  # no *_created series: timestamps, not counts

        registry = CollectorRegistry(auto_describe=True)
        if not os.environ.get(MULTIPROC_ENV):
            ProcessCollector(registry=registry)
        _instruments = Instruments(registry)
    return _instruments


def enabled() -> Instruments | None:
    return _instruments


# --- what the route handlers and the connection guard count -----------------------------------


def dmp_written(action: str, status: int, replayed: bool, *, offline: bool = False) -> None:
    """A creation, reactivation, web access or reissue answered with ``status``; counted when
    it succeeded and was not a replay of an earlier answer."""
    instruments = _instruments
    if instruments is None or replayed or not 200 <= status < 300:
        return
    if action not in WRITE_ACTIONS:
        action = OTHER
    instruments.writes.labels(action, "offline" if offline else "online").inc()


def insi_answered(lookup: str, code: object) -> None:
    """An INSi answer: ``code`` 00/01/02 for a look-up, True/False for a verification."""
    instruments = _instruments
    if instruments is None:
        return
    if isinstance(code, bool):
        code = "valid" if code else "invalid"
    instruments.insi.labels(
        lookup if lookup in INSI_LOOKUPS else OTHER, code if code in INSI_CODES else OTHER
    ).inc()


def connection_refused() -> None:
    instruments = _instruments
    if instruments is not None:
        instruments.connections_refused.inc()


def database_error_kind(error: BaseException) -> str | None:
    """``operational`` (connection lost, server gone or read-only, SQLite locked),
    ``pool_timeout`` or ``other`` for a database driver's error (SQLite's or psycopg's), None
    for anything else."""
    pool = sys.modules.get("psycopg_pool")
    if pool is not None and isinstance(error, pool.PoolTimeout):
        return "pool_timeout"
    psycopg = sys.modules.get("psycopg")
    if isinstance(error, sqlite3.OperationalError) or (
        psycopg is not None
        and isinstance(error, psycopg.OperationalError | psycopg.errors.ReadOnlySqlTransaction)
    ):
        return "operational"  # out of reach, or a former primary that takes no more writes
    if isinstance(error, sqlite3.Error) or (
        psycopg is not None and isinstance(error, psycopg.Error)
    ):
        return "other"
    return None


def database_error(error: BaseException) -> None:
    """Count ``error`` when it is a database error (for a handler that turns one into an
    answer, e.g. 503 SERVICE_BUSY, before it reaches :class:`RequestMetrics`)."""
    instruments = _instruments
    kind = database_error_kind(error)
    if instruments is not None and kind is not None:
        instruments.database_errors.labels(kind).inc()


_known_codes: dict[str, str] = {}


def problem_label(code: object) -> str:
    """``code`` when it is one of the service's problem codes, else ``OTHER``."""
    if not isinstance(code, str):
        return OTHER
    label = _known_codes.get(code)
    if label is None:
        from proclient.core.problems import problem_message
        from proclient.server.problems import STATUS

        known = _CODE_SHAPE.fullmatch(code) and (
            code in STATUS or code == "VALIDATION" or problem_message(code) is not None
        )
        if not known:
            return OTHER
        label = _known_codes[code] = code
    return label


# --- the middleware ------------------------------------------------------------------------------


class RequestMetrics:
    """Pure ASGI middleware: each HTTP request counted by its route's template (set by the
    router in the scope; never the raw path), method and status, and its time observed; a
    problem answer's code read from its (small) body. Without :func:`enable` (or
    ``instruments``) it only passes the request on."""

    def __init__(self, app: Callable[..., Any], instruments: Instruments | None = None) -> None:
        self.app = app
        self.instruments = instruments

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        instruments = self.instruments or _instruments
        if instruments is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        problem: list[bytes] | None = None

        async def watched(message: Message) -> None:
            nonlocal status, problem
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                if status >= 400:
                    for name, value in message.get("headers", ()):
                        if name.lower() == b"content-type" and value.startswith(PROBLEM_MEDIA_TYPE):
                            problem = []
            elif problem is not None and kind == "http.response.body":
                if sum(map(len, problem)) < MAX_PROBLEM_BYTES:
                    problem.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as error:
            kind = database_error_kind(error)
            if kind is not None:
                instruments.database_errors.labels(kind).inc()
            if not status:  # the server's error handler answers 500 INTERNAL
                status = 500
                instruments.problems.labels("500", "INTERNAL").inc()
            raise
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            method = scope["method"]
            instruments.request(
                route if isinstance(route, str) else UNMATCHED,
                method if method in METHODS else OTHER,
                status or 500,
                time.perf_counter() - started,
            )
        if problem is not None:
            instruments.problems.labels(str(status), _problem_code(b"".join(problem))).inc()


def _problem_code(body: bytes) -> str:
    try:
        document = json.loads(body)
    except ValueError:
        return OTHER
    return problem_label(document.get("code") if isinstance(document, dict) else None)


# --- exposition --------------------------------------------------------------------------------


@contextmanager
def serve_metrics(
    host: str, port: int, *, multiprocess_dir: str | None = None
) -> Iterator[tuple[str, int]]:
    """Prometheus' text format on ``host:port`` (plain HTTP, a thread of this process) while
    the block runs: this process's registry (after :func:`enable`), or the sum of the
    workers' files in ``multiprocess_dir``. Raises OSError when the port cannot be bound.
    Yields the address bound (port 0: one the system chose)."""
    from prometheus_client import CollectorRegistry, start_http_server

    from proclient.core.netutil import is_loopback

    if multiprocess_dir is not None:
        from prometheus_client import disable_created_metrics
        from prometheus_client.multiprocess import MultiProcessCollector

        disable_created_metrics()

        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=multiprocess_dir)
    else:
        registry = enable().registry
    if not is_loopback(host):
        log.warning(
            "metrics served on %s, not a loopback address: plain HTTP without authentication, "
            "let only the metrics collector reach that port (firewall)",
            host,
        )
    server, thread = start_http_server(port, addr=host, registry=registry)
    try:
        bound = server.server_address
        yield str(bound[0]), int(bound[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def multiprocess_folder() -> Iterator[str]:
    """A private folder for the workers' counts, named in ``PROMETHEUS_MULTIPROC_DIR`` for the
    processes spawned in the block (they inherit the environment); removed at the end, and the
    variable set back as it was."""
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="proclient-metrics-")  # 0700
    before = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = folder
    try:
        yield folder
    finally:
        if before is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = before
        shutil.rmtree(folder, ignore_errors=True)
