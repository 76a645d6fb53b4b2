"""The DMP service's own limits against hostile input and load.

Requests (body size, JSON shape): :mod:`proclient.server.request_limits`.

Connections (``proclient serve``, :func:`protocol_class`): uvicorn's HTTP/1.1 protocols
subclassed, because uvicorn has no setting for these. A connection must send its request
head within ``header_timeout`` seconds (from its opening, or from the first byte of a next
request), then its body within ``body_timeout`` (408, then closed); a head of more than
:data:`MAX_HEAD_BYTES` is refused (431); connections beyond ``max_connections`` in all or
``max_connections_per_address`` from one address get a 503 problem and are closed at once.
A connection the service closes is cut :data:`GOODBYE` seconds later if the client has not
ended it (asyncio would wait 30 s for its TLS close_notify, reading whatever it still sends).
Connections are counted once their TLS handshake is done: a client that never finishes it
is dropped by the event loop after 60 s (asyncio and uvloop's default, which uvicorn does not
expose); a firewall's per-address connection limit covers that case (docs/service.md, "Limits").

TLS (:func:`tls_context`): TLS 1.2 restricted to ECDHE with AEAD suites (AES-GCM,
ChaCha20-Poly1305), as ANSSI recommends; TLS 1.3 is offered and preferred; older versions
are refused; no renegotiation, no compression.

Every refusal is the service's ``application/problem+json`` with a stable ``code`` and a
French ``detail``, and never quotes the request.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import weakref
from collections import Counter
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.utils import get_remote_addr
from uvicorn.server import ServerState

from proclient.server.metrics import connection_refused
from proclient.server.problems import Problem, problem_response
from proclient.server.request_limits import CLOSE
from proclient.server.settings import ServerLimits

log = logging.getLogger("proclient.server")

# A request line and headers larger than this are refused (h11's own default bound).
MAX_HEAD_BYTES = 16 * 1024
# ECDHE key exchange, AEAD ciphers only, for TLS 1.2 (TLS 1.3 suites are all AEAD).
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL"

# Seconds a connection the service closes may take to end its TLS session before it is cut
# (a refused one: just what writing the refusal takes).
GOODBYE = 1.0
REFUSED_GOODBYE = 0.1
REFUSALS_REPORT = 10.0  # seconds between two log lines about refused connections


Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]


# --- connections: deadlines and counts -----------------------------------------------------------


def raw_problem(problem: Problem) -> bytes:
    """``problem`` as a whole HTTP/1.1 response, for the protocol to write by itself, outside
    any request cycle (the connection is closed right after)."""
    response = problem_response(problem)
    lines = [f"HTTP/1.1 {problem.status} {HTTPStatus(problem.status).phrase}\r\n".encode()]
    lines += [name + b": " + value + b"\r\n" for name, value in response.raw_headers]
    return b"".join(lines) + b"connection: close\r\n\r\n" + bytes(response.body)


class _Census:
    """Open connections of one server, in all and per client address."""

    def __init__(self) -> None:
        self.total = 0
        self.by_address: Counter[str] = Counter()
        self.turned_away: Counter[str] = Counter()  # since the last report
        self.reported_at = float("-inf")

    def refused(self, address: str, now: float) -> None:
        """Count a refused connection; log them at most every REFUSALS_REPORT seconds (a
        flood of connections must not become a flood of log lines)."""
        self.turned_away[address] += 1
        if now - self.reported_at >= REFUSALS_REPORT:
            (busiest, count), *_ = self.turned_away.most_common(1)
            log.warning(
                "connections refused: %d (%d from %s); %d open",
                sum(self.turned_away.values()),
                count,
                busiest or "?",
                self.total,
            )
            self.turned_away.clear()
            self.reported_at = now

    def admit(self, address: str, limits: ServerLimits) -> bool:
        per_address = limits.max_connections_per_address
        if self.total >= limits.max_connections or (
            per_address and self.by_address[address] >= per_address
        ):
            return False
        self.total += 1
        self.by_address[address] += 1
        return True

    def release(self, address: str) -> None:
        self.total -= 1
        self.by_address[address] -= 1
        if self.by_address[address] <= 0:
            del self.by_address[address]


_censuses: weakref.WeakKeyDictionary[ServerState, _Census] = weakref.WeakKeyDictionary()


def census(server_state: ServerState) -> _Census:
    """The connection count of the server whose state this is (one per uvicorn Server)."""
    return _censuses.setdefault(server_state, _Census())


class LimitedConfig(uvicorn.Config):
    """uvicorn's Config carrying the connection limits to the protocol (and, pickled with it,
    to worker processes)."""

    def __init__(self, app: Any, limits: ServerLimits, **options: Any) -> None:
        self.limits = limits
        super().__init__(app, **options)


_HEAD, _BODY = "head", "body"


class _Guard:
    """What :func:`protocol_class`'s protocols add to uvicorn's: the census, a deadline for the
    head of each request and one for its body, and the head's size. Subclasses tell where a
    request's head and body end (``_head_done``, ``_body_done``)."""

    # Provided by uvicorn's protocol class.
    config: Any
    loop: asyncio.AbstractEventLoop
    server_state: ServerState
    transport: asyncio.Transport
    cycle: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits: ServerLimits = getattr(self.config, "limits", None) or ServerLimits()
        self.census = census(self.server_state)
        self.address: str | None = None  # set once admitted (counted in the census)
        self.phase: str | None = None  # _HEAD or _BODY while its deadline runs
        self.deadline: asyncio.TimerHandle | None = None
        self.head_bytes = 0
        self.lost = False  # connection_lost has come

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        peer = get_remote_addr(transport)
        address = peer[0] if peer else ""
        if not self.census.admit(address, self.limits):
            self.census.refused(address, self.loop.time())
            connection_refused()  # server/metrics.py (nothing without metrics_port)
            busy = Problem("SERVICE_BUSY", headers={"Retry-After": "1"})
            transport.write(raw_problem(busy))
            self._close_transport(transport, REFUSED_GOODBYE)
            return
        self.address = address
        super().connection_made(transport)  # type: ignore[misc]
        self._start(_HEAD)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.address is None:  # refused: uvicorn never saw it
            return
        self._stop()
        self.census.release(self.address)
        self.address = None
        super().connection_lost(exc)  # type: ignore[misc]

    def data_received(self, data: bytes) -> None:
        if self.address is None:  # refused, closing
            return
        if self.phase is None:  # the first bytes of a next request
            self._start(_HEAD)
        deadline = self.deadline
        super().data_received(data)  # type: ignore[misc]
        if self.transport.is_closing():
            return
        self._follow()
        if self.phase == _HEAD and self.deadline is deadline:  # all of it went to one head
            self.head_bytes += len(data)
            if self.head_bytes > MAX_HEAD_BYTES:
                self._close(Problem("REQUEST_TOO_LARGE", status=431))

    # deadlines

    def _follow(self) -> None:
        """Bring ``phase`` in line with the parser's state (h11); httptools' callbacks do it."""

    def _start(self, phase: str) -> None:
        self._stop()
        self.phase = phase
        if phase == _HEAD:
            self.head_bytes = 0
        seconds = self.limits.header_timeout if phase == _HEAD else self.limits.body_timeout
        self.deadline = self.loop.call_later(seconds, self._expired)

    def _stop(self) -> None:
        self.phase = None
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _head_done(self, with_body: bool) -> None:
        if with_body:
            self._start(_BODY)
        else:
            self._stop()

    def _body_done(self) -> None:
        self._stop()

    def _expired(self) -> None:
        phase, self.deadline = self.phase, None
        if self.transport.is_closing():
            return
        log.info("connection closed: request %s not received in time", phase)
        if phase == _BODY:
            self._close(Problem("REQUEST_TIMEOUT", headers=CLOSE))
        else:
            self._close(None)

    def _close(self, problem: Problem | None) -> None:
        """Answer ``problem`` unless this request's answer has started, and close the
        connection; the app, if it runs, reads a disconnection."""
        cycle = self.cycle
        answered = cycle is not None and cycle.response_started
        if self.phase == _HEAD and cycle is not None and cycle.response_complete:
            answered = False  # that was the previous request's
        if problem is not None and not answered:
            self.transport.write(raw_problem(problem))
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()
        self._stop()
        self._close_transport(self.transport, GOODBYE)

    def _close_transport(self, transport: asyncio.Transport, goodbye: float) -> None:
        """Close, and cut the connection if it is not gone ``goodbye`` seconds later: a TLS
        transport otherwise waits up to 30 s for the peer's close_notify, reading and
        discarding whatever else the peer sends meanwhile (asyncio and uvloop's shutdown
        timeout, which uvicorn does not expose)."""
        transport.close()
        self.loop.call_later(goodbye, self._cut, transport)

    def _cut(self, transport: asyncio.Transport) -> None:
        if not self.lost:
            transport.abort()

    # uvicorn's own closes: after a "Connection: close" answer, after the keep-alive delay,
    # after a request it could not parse

    def _cut_later(self) -> None:
        if self.transport.is_closing() and not self.lost:
            self.loop.call_later(GOODBYE, self._cut, self.transport)

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        self._cut_later()

    def timeout_keep_alive_handler(self) -> None:
        super().timeout_keep_alive_handler()  # type: ignore[misc]
        self._cut_later()

    def send_400_response(self, msg: str) -> None:
        # uvicorn's own answer to a request it cannot parse (a control character in a
        # header…) is text/plain and quotes the parser's message: answer a problem instead.
        log.info("connection closed: unparsable request")
        self._stop()
        if not self.transport.is_closing():
            self.transport.write(raw_problem(Problem("VALIDATION", status=400)))
            self._close_transport(self.transport, GOODBYE)


class GuardedH11Protocol(_Guard, H11Protocol):
    """uvicorn's h11 protocol with the limits of :class:`_Guard`."""

    conn: h11.Connection

    def _follow(self) -> None:
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            if self.phase != _BODY:
                self._head_done(with_body=True)
        elif state is not h11.IDLE:  # DONE, MUSTCLOSE, CLOSED, ERROR
            if self.phase is not None:
                self._body_done()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._follow()  # a pipelined request may have been parsed


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is in the server extra
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

if HttpToolsProtocol is not None:

    class GuardedHttpToolsProtocol(_Guard, HttpToolsProtocol):  # type: ignore[valid-type,misc]
        """uvicorn's httptools protocol with the limits of :class:`_Guard`."""

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self.phase is None:
                self._start(_HEAD)

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self._head_done(with_body=True)  # on_message_complete follows at once if none

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._body_done()


def protocol_class() -> type:
    """The guarded protocol over httptools when installed (as uvicorn's "auto"), else h11."""
    if HttpToolsProtocol is not None:
        return GuardedHttpToolsProtocol
    return GuardedH11Protocol


# --- TLS ----------------------------------------------------------------------------------------


def tls_context(_config: uvicorn.Config, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    """uvicorn's ``ssl_context_factory``: its context (certificate, key), hardened."""
    context = default()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)
    context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_RENEGOTIATION
    context.options |= ssl.OP_NO_COMPRESSION
    return context
