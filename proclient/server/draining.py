"""SIGTERM drains: the service stops taking work, finishes what is in flight, then exits.

On SIGTERM (systemd's stop, uvicorn's supervisor stopping or replacing a worker, a rolling
update) each service process:

1. turns away every new request at once with 503 ``SERVICE_BUSY``, ``Retry-After: 1`` and
   ``Connection: close`` (``/v1/ready`` answers ``not_ready``, so a load balancer's health
   check takes the host out; ``/v1/health`` still answers: the process is alive). A
   workstation, or HAProxy's L7 retry, sends the request again elsewhere or a moment later
   with the same Idempotency-Key;
2. lets the requests in flight finish, for ``drain_seconds`` at most, their answers closing
   their connections;
3. then hands the signal to uvicorn, which closes the socket and stops (its own graceful
   shutdown, bounded by the same budget).

A second SIGTERM skips the wait. The gate is a pure ASGI middleware (one integer and one
flag per request: no measurable cost); the signal is taken over in the app's lifespan,
where uvicorn's own handler is already in place (``Server.capture_signals``), and only in
the main thread (a service run in a thread by the tests keeps uvicorn's handling).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable

from proclient.server.problems import Problem, problem_response

log = logging.getLogger("proclient.server")

RETRY_AFTER = "1"  # seconds: another host (or this one, replaced) answers by then
LIVENESS = "/v1/health"
READINESS = "/v1/ready"


class Drain:
    """The process's drain state: draining or not, and the requests in flight."""

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.draining = False
        self.in_flight = 0
        self._idle: asyncio.Event | None = None

    def start(self) -> None:
        self.draining = True

    def _left(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0 and self._idle is not None:
            self._idle.set()

    async def settled(self) -> bool:
        """Wait until nothing is in flight, ``budget`` seconds at most; True when settled."""
        if self.in_flight == 0:
            return True
        self._idle = asyncio.Event()
        try:
            await asyncio.wait_for(self._idle.wait(), self.budget)
        except TimeoutError:
            return False
        return True


def _not_ready():
    from starlette.responses import JSONResponse

    return JSONResponse(
        {"status": "not_ready"},
        status_code=503,
        headers={"Retry-After": RETRY_AFTER, "Connection": "close"},
    )


class DrainGate:
    """ASGI middleware: counts the requests in flight; while draining, turns new ones away
    and closes the connections of those that finish."""

    def __init__(self, app, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        drain = self.drain
        if drain.draining and scope["path"] != LIVENESS:
            if scope["path"] == READINESS:
                response = _not_ready()
            else:
                headers = {"Retry-After": RETRY_AFTER, "Connection": "close"}
                response = problem_response(Problem("SERVICE_BUSY", headers=headers))
            await response(scope, receive, send)
            return
        drain.in_flight += 1
        try:
            await self.app(scope, receive, _closing(send, drain))
        finally:
            drain._left()


def _closing(send, drain: Drain):
    """``send`` adding ``Connection: close`` to an answer that starts while draining."""

    async def wrapped(message) -> None:
        if drain.draining and message["type"] == "http.response.start":
            headers = [
                (name, value)
                for name, value in message.get("headers", [])
                if name.lower() != b"connection"
            ]
            message = {**message, "headers": [*headers, (b"connection", b"close")]}
        await send(message)

    return wrapped


def take_over_sigterm(drain: Drain) -> Callable[[], None]:
    """Put the drain in front of the SIGTERM handler in place (uvicorn's); returns what puts
    it back. Nothing outside the main thread or without a handler to hand over to."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGTERM)
    if not callable(previous):
        return lambda: None
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task] = set()

    def hand_over(signum, frame) -> None:
        previous(signum, frame)

    async def finish(signum, frame) -> None:
        settled = await drain.settled()
        log.info(
            "drained: %s",
            "no request left in flight"
            if settled
            else f"{drain.in_flight} request(s) still in flight after {drain.budget:g} s",
        )
        hand_over(signum, frame)

    def on_sigterm(signum, frame) -> None:
        if drain.draining:  # a second SIGTERM: stop now
            hand_over(signum, frame)
            return
        drain.start()
        log.info("SIGTERM: draining (%d request(s) in flight)", drain.in_flight)

        def begin() -> None:
            task = loop.create_task(finish(signum, frame))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        loop.call_soon_threadsafe(begin)

    signal.signal(signal.SIGTERM, on_sigterm)

    def restore() -> None:
        with contextlib.suppress(ValueError):
            if signal.getsignal(signal.SIGTERM) is on_sigterm:
                signal.signal(signal.SIGTERM, previous)

    return restore
