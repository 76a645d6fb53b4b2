"""Sessions on every authenticated route, CPS and e-CPS alike (the ``caller`` dependency, then
``professional`` in the route's own thread), and the e-CPS session's own life: opened after PSC's approval, bound to the
workstation, ended after ``idle_ttl`` without a request or ``max_ttl`` after the sign-in
(both on the service's clock), or when PSC refuses to refresh its tokens.

A CPS session is what it always was (server/auth.py opens it): its token, its
``session_ttl``; the ``Proclient-Workstation`` header is not looked at. An e-CPS session must
come with the header of the workstation that signed in (only its SHA-256 is kept): another
one's, or none, is refused with 401 AUTH_WORKSTATION_MISMATCH. While requests come, PSC's
access token is refreshed when it is due (``refresh_margin`` before its end), by one request
at a time (a refresh token serves once); PSC's tokens never leave the service. PSC
unreachable during a refresh does not end the session (the next request tries again);
PSC refusing it (``invalid_grant``: its session ended, logged out, too old) does.

The session is looked up in the route's own thread, not in a dependency of its own: FastAPI
runs every plain ``def`` dependency in its thread pool, and that second hand-off per request
cost ~0.35 ms of the service's CPU per creation (benchmarks/server_throughput.py, 9 %). The
``caller`` dependency, ``async`` and without I/O, still refuses a request without a bearer
token (401 AUTH_REQUIRED) before its body is read; a request with a token and a malformed
body gets its 422 before the token is looked up (nothing is read or written for it).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from proclient.core.domain import Professional
from proclient.core.i18n import _
from proclient.server.auth import bearer
from proclient.server.auth_store import sha256
from proclient.server.ecps_store import EcpsStore, SessionRow
from proclient.server.problems import Problem
from proclient.server.psc import PscClient, PscRefusal, PscUnavailable, Tokens
from proclient.server.settings import PscSettings, ServerSettings
from proclient.server.storage import Storage

log = logging.getLogger("proclient.server")

WORKSTATION_HEADER = "Proclient-Workstation"
METHOD = "e-cps"


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).isoformat(timespec="seconds")


def session_ended() -> Problem:
    return Problem(
        "AUTH_SESSION_EXPIRED",
        detail=_(
            "Votre session e-CPS au service DMP a pris fin : reconnectez-vous avec e-CPS ou "
            "votre carte CPS."
        ),
    )


@dataclass(frozen=True)
class Caller:
    """A request's bearer token and workstation header, not yet looked up."""

    token: str = field(repr=False)
    workstation: str | None = field(repr=False)


class Sessions:
    """The sessions' guard; one per app."""

    def __init__(
        self,
        settings: ServerSettings,
        storage: Storage,
        store: EcpsStore,
        psc: PscClient | None,
    ) -> None:
        self._settings = settings
        self._storage = storage
        self._store = store
        self._psc = psc

    @property
    def _psc_settings(self) -> PscSettings:
        assert self._settings.psc is not None
        return self._settings.psc

    # --- opening ------------------------------------------------------------------------------

    def open(self, professional: Professional, workstation: str, tokens: Tokens) -> dict:
        """A new e-CPS session for ``professional`` on ``workstation`` (a SHA-256), audited
        as ``session-ecps``; the answer the workstation gets (never a PSC token)."""
        now = self._settings.clock()
        at = now.timestamp()
        token = secrets.token_urlsafe(32)
        card = asdict(professional)
        expires_at = at + self._psc_settings.max_ttl.total_seconds()
        self._store.add_session(
            sha256(token),
            professional.id_nat,
            card,
            workstation,
            tokens.refresh_token,
            (at, expires_at, at + tokens.expires_in),
        )
        with self._storage.transaction() as conn:
            self._storage.audit(
                conn, now.isoformat(timespec="seconds"), professional.id_nat, "session-ecps"
            )
        log.info("e-CPS session opened")
        return {
            "token": token,
            "expires_at": _iso(expires_at),
            "professional": card,
            "method": METHOD,
        }

    # --- every authenticated request ----------------------------------------------------------

    @staticmethod
    async def caller(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        """FastAPI dependency (``async``, no I/O: no thread-pool hop): the request's bearer
        token, 401 AUTH_REQUIRED without one. The route calls :meth:`professional`."""
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Problem("AUTH_REQUIRED")
        return Caller(credentials.credentials, request.headers.get(WORKSTATION_HEADER))

    def professional(self, caller: Caller) -> Professional:
        """The professional of the caller's session (CPS or e-CPS); for e-CPS, the
        workstation's header, its ends and PSC's refresh. Called first by each authenticated
        route, in its thread."""
        token_hash = sha256(caller.token)
        found = self._store.find_session(token_hash)
        if found is None:
            raise Problem("AUTH_REQUIRED")
        now = self._settings.clock().timestamp()
        if found.ecps is None:
            if now > found.expires_at:
                raise Problem("AUTH_SESSION_EXPIRED")
            return Professional(**found.professional)
        self._check_workstation(found, caller.workstation)
        self._check_ends(token_hash, found, now)
        self._refresh_if_due(token_hash, now)
        self._store.seen(token_hash, now)
        return Professional(**found.professional)

    @staticmethod
    def _check_workstation(found: SessionRow, header: str | None) -> None:
        assert found.ecps is not None
        given = sha256(header) if header else ""
        if not hmac.compare_digest(given, found.ecps.workstation):
            log.info("e-CPS session refused: AUTH_WORKSTATION_MISMATCH")
            raise Problem("AUTH_WORKSTATION_MISMATCH")

    def _check_ends(self, token_hash: str, found: SessionRow, now: float) -> None:
        assert found.ecps is not None
        if self._settings.psc is None:
            ended = "PSC no longer configured"
        elif now > found.ecps.started_at + self._psc_settings.max_ttl.total_seconds():
            ended = "4 h end"
        elif now > found.ecps.last_seen + self._psc_settings.idle_ttl.total_seconds():
            ended = "idle end"
        elif now > found.expires_at:
            ended = "end"
        else:
            return
        log.info("e-CPS session ended: %s", ended)
        self._end(token_hash)
        raise session_ended()

    def _refresh_if_due(self, token_hash: str, now: float) -> None:
        psc = self._psc
        assert psc is not None
        margin = self._psc_settings.refresh_margin.total_seconds()
        hold = self._psc_settings.timeout + 5
        refresh_token = self._store.claim_refresh(token_hash, now + margin, now, hold)
        if refresh_token is None:
            return
        try:
            tokens = psc.refresh(refresh_token)
        except PscRefusal as refusal:
            log.info("e-CPS session ended: PSC refused the refresh (%s)", refusal.error)
            self._store.end_session(token_hash)
            raise session_ended() from None
        except PscUnavailable:
            log.warning("PSC refresh failed: the session goes on, the next request tries again")
            self._store.release_refresh(token_hash)
            return
        self._store.refreshed(token_hash, tokens.refresh_token, now + tokens.expires_in)

    # --- ending -------------------------------------------------------------------------------

    def _end(self, token_hash: str) -> None:
        refresh_token = self._store.end_session(token_hash)
        if refresh_token and self._psc is not None:
            try:
                self._psc.logout(refresh_token)
            except PscUnavailable:
                log.info("PSC logout not delivered")

    def logout(self, request: Request, credentials: HTTPAuthorizationCredentials | None) -> None:
        """End the request's session (e-CPS: from its own workstation only, then PSC's logout,
        best effort). An unknown or already ended token: nothing to do."""
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Problem("AUTH_REQUIRED")
        token_hash = sha256(credentials.credentials)
        found = self._store.find_session(token_hash)
        if found is None:
            return
        if found.ecps is not None:
            self._check_workstation(found, request.headers.get(WORKSTATION_HEADER))
        self._end(token_hash)
        log.info("session closed by its workstation")
