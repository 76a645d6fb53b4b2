"""The e-CPS sign-in: ask the professional's phone through the DMP service, wait, cancel.

The loop polls the service, which asks Pro Santé Connect at most once per PSC interval
whatever the workstation's rhythm; the workstation polls more often (``poll_pause``) so that
the approval is seen within a second of the service learning it and the seconds left stay
true on screen. Esc cancels the job: the service is told to stop asking PSC (best effort,
in the background; the request expires by itself anyway).

What an e-CPS session can do: everything a CPS session does with the service (INSi, status,
creation, web access, new password, sending the outbox). What it cannot: record a creation
offline, because the consent record captured offline is signed at capture time by the
card's key (proclient/core/capture.py) and e-CPS has no key on the workstation. So with the
service unreachable an e-CPS session says so and offers the card; it never records unsigned.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from proclient.controllers.session import SessionController
from proclient.core.domain import DomainError, Professional
from proclient.core.fileutil import write_private
from proclient.core.problems import problem_message

log = logging.getLogger(__name__)

POLL_PAUSE = 1.0  # seconds between two polls of the service (never PSC's rhythm)


class EcpsController:
    def __init__(self, session: SessionController, poll_pause: float = POLL_PAUSE) -> None:
        self.session = session
        self.poll_pause = poll_pause
        self._cancels: set[asyncio.Task] = set()

    async def sign_in(
        self, client, national_id: str, waiting: Callable[[int], None]
    ) -> Professional:
        """Ask ``national_id``'s phone and wait for the answer; ``waiting(seconds_left)`` is
        called after each poll. Raises the service's refusal (refused, expired, unknown…) as
        a DomainError with its sentence."""
        # Here, not at module level: the service client brings httpx, not needed to start.
        from proclient.service.ecps import EcpsClient, EcpsPending

        ecps = EcpsClient(client)
        self.session.retire()
        request = await ecps.start(national_id)
        waiting(request.expires_in)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + request.expires_in + 10  # the service says expired first
        try:
            while True:
                await asyncio.sleep(min(request.interval, self.poll_pause))
                answer = await ecps.poll(request)
                if not isinstance(answer, EcpsPending):
                    self.session.ecps_signed_in(answer)
                    log.info("e-CPS sign-in approved")
                    return answer
                waiting(answer.expires_in)
                if loop.time() > deadline:
                    raise DomainError("ECPS_EXPIRED", problem_message("ECPS_EXPIRED") or "")
        except asyncio.CancelledError:
            task = loop.create_task(ecps.cancel(request))
            self._cancels.add(task)
            task.add_done_callback(self._cancels.discard)
            log.info("e-CPS sign-in cancelled")
            raise


class NationalIdMemory:
    """The professional's national id for e-CPS, typed once and remembered on this workstation
    (a file in the data folder, mode 600; it is not health data, but it names a person)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def recall(self) -> str:
        if self.path is None:
            return ""
        try:
            value = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return ""
        return value if value.isdigit() and len(value) <= 12 else ""

    def remember(self, national_id: str) -> None:
        if self.path is None or national_id == self.recall():
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_private(self.path, national_id.encode("ascii") + b"\n")
        except OSError:
            pass  # remembering is a convenience: typing it again is the cost
