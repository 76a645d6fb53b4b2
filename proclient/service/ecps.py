"""The e-CPS sign-in as the workstation sees it: three calls to the DMP service.

The workstation never talks to Pro Santé Connect: the service holds PSC's client credentials
and tokens (ANS's rule for a thick client). The workstation asks the service to start a CIBA
request for a national id (PSC pushes it to the professional's e-CPS app), polls the service
until the professional approved, refused or the request expired, and may cancel it (Esc).
On approval the service answers with its own session, bound to this workstation by the
``Proclient-Workstation`` header (proclient/service/workstation.py), which the client adopts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from proclient.core.domain import Professional
from proclient.core.problems import SERVICE_ERROR
from proclient.service.client import DmpServiceClient, _error, session_of
from proclient.service.errors import ServiceError

CANCEL_SECONDS = 2.0  # a cancel is best effort: the request expires by itself anyway


@dataclass(frozen=True)
class EcpsRequest:
    request_id: str = ""
    expires_in: int = 120
    interval: int = 5


@dataclass(frozen=True)
class EcpsPending:
    interval: int
    expires_in: int


def _seconds(value: object, default: int) -> int:
    return value if isinstance(value, int) and 0 <= value <= 3600 else default


class EcpsClient:
    """The e-CPS operations of ``client``'s service."""

    def __init__(self, client: DmpServiceClient) -> None:
        self.client = client

    async def _post(self, path: str, body: dict, expected: int, deadline: float | None = None):
        client = self.client
        response = await client._send("POST", path, body, retry=False, deadline=deadline)
        if response.status_code != expected:
            raise client._problem(response)
        return client._json(response) if expected != 204 else {}

    async def start(self, national_id: str) -> EcpsRequest:
        """PSC asked to push a sign-in to ``national_id``'s phone."""
        deadline = time.monotonic() + self.client._login_budget
        data = await self._post("/v1/auth/ecps", {"national_id": national_id}, 201, deadline)
        request_id = data.get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise _error(SERVICE_ERROR, 201)
        return EcpsRequest(
            request_id, _seconds(data.get("expires_in"), 120), _seconds(data.get("interval"), 5)
        )

    async def poll(self, request: EcpsRequest) -> EcpsPending | Professional:
        """Still waiting (with PSC's interval and the seconds left), or the professional
        signed in (the client then holds the session)."""
        deadline = time.monotonic() + self.client._login_budget
        data = await self._post(
            "/v1/auth/ecps/poll", {"request_id": request.request_id}, 200, deadline
        )
        if data.get("status") == "approved" and isinstance(data.get("session"), dict):
            token, professional = session_of(data["session"], 200)
            self.client.adopt_session(token, professional)
            return professional
        if data.get("status") != "pending":
            raise _error(SERVICE_ERROR, 200)
        return EcpsPending(
            _seconds(data.get("interval"), request.interval),
            _seconds(data.get("expires_in"), 0),
        )

    async def cancel(self, request: EcpsRequest) -> None:
        """Tell the service to stop asking PSC (best effort, a short wait)."""
        deadline = time.monotonic() + CANCEL_SECONDS
        try:
            await self._post(
                "/v1/auth/ecps/cancel", {"request_id": request.request_id}, 204, deadline
            )
        except ServiceError:
            pass
