"""The e-CPS routes (server/ecps.py does the work) and the logout, on the service's app.

Every e-CPS route requires the ``Proclient-Workstation`` header: the workstation's own random
secret (43 url-safe characters); missing or malformed, 422 VALIDATION naming it.
"""

# No "from __future__ import annotations": FastAPI must see the local Annotated aliases.
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Request, Response

from proclient.server.auth import bearer, client_address
from proclient.server.auth_store import sha256
from proclient.server.ecps import EcpsSignIn
from proclient.server.ecps_schemas import (
    REQUEST_ID_PATTERN,
    EcpsPollOut,
    EcpsRequestIn,
    EcpsStartIn,
    EcpsStartOut,
)
from proclient.server.ecps_sessions import Sessions
from proclient.server.schemas import Problem as ProblemOut

_ECPS_TAG = "authentification e-CPS"


def _problems(*statuses: int) -> dict:
    return {
        status: {"model": ProblemOut, "content": {"application/problem+json": {}}}
        for status in statuses
    }


async def _workstation(
    secret: Annotated[
        str,
        Header(
            alias="Proclient-Workstation",
            pattern=REQUEST_ID_PATTERN,
            description="le secret propre au poste (43 caractères), qui lie la demande puis "
            "la session à ce poste",
        ),
    ],
) -> str:
    return sha256(secret)


def install_ecps_routes(app: FastAPI, signin: EcpsSignIn, sessions: Sessions) -> None:
    Workstation = Annotated[str, Depends(_workstation)]

    @app.post(
        "/v1/auth/ecps",
        status_code=201,
        response_model=EcpsStartOut,
        responses=_problems(404, 422, 429, 501, 503),
        tags=[_ECPS_TAG],
    )
    def ecps_start(body: EcpsStartIn, workstation: Workstation, request: Request) -> dict:
        """Start an e-CPS sign-in: Pro Santé Connect asks the professional to approve on the
        e-CPS app of their phone (OpenID CIBA). 404 ECPS_UNKNOWN_PROFESSIONAL, 429
        AUTH_RATE_LIMITED (per national id and per address), 501 ECPS_NOT_CONFIGURED, 503
        ECPS_UNAVAILABLE."""
        return signin.start(body.national_id, workstation, client_address(request))

    @app.post(
        "/v1/auth/ecps/poll",
        response_model=EcpsPollOut,
        response_model_exclude_none=True,
        responses=_problems(401, 403, 404, 409, 410, 422, 501, 502, 503),
        tags=[_ECPS_TAG],
    )
    def ecps_poll(body: EcpsRequestIn, workstation: Workstation) -> dict:
        """Where the sign-in stands: ``pending`` (with the interval to wait and the seconds
        left) or ``approved`` with the service's session, bound to this workstation. Pro Santé
        Connect is asked at most once per interval, however often this is called. 403
        ECPS_REFUSED, 410 ECPS_EXPIRED or ECPS_CANCELLED, 404 ECPS_REQUEST_UNKNOWN, 409
        ECPS_REQUEST_USED, 401 AUTH_WORKSTATION_MISMATCH, 502 ECPS_TOKEN_INVALID, 503
        ECPS_UNAVAILABLE."""
        return signin.poll(body.request_id, workstation)

    @app.post(
        "/v1/auth/ecps/cancel",
        status_code=204,
        response_class=Response,
        responses=_problems(401, 404, 409, 422, 501),
        tags=[_ECPS_TAG],
    )
    def ecps_cancel(body: EcpsRequestIn, workstation: Workstation) -> Response:
        """Cancel a sign-in: Pro Santé Connect is not asked about it again."""
        signin.cancel(body.request_id, workstation)
        return Response(status_code=204)

    @app.post(
        "/v1/auth/logout",
        status_code=204,
        response_class=Response,
        responses=_problems(401),
        tags=["authentification"],
    )
    def logout(request: Request, credentials=Depends(bearer)) -> Response:  # noqa: B008
        """End the session (CPS or e-CPS; an e-CPS session from its own workstation only,
        with its ``Proclient-Workstation`` header, and Pro Santé Connect's session with it)."""
        sessions.logout(request, credentials)
        return Response(status_code=204)
