"""The e-CPS sign-in through Pro Santé Connect (OpenID CIBA, poll mode), as the workstation
asks for it: start, poll, cancel; on PSC's approval, a session of the service's own bound to
that workstation (server/ecps_sessions.py).

    workstation              proclient serve                       PSC
    start(national id) ----> rate limits (db) --- backchannel ----> push to the e-CPS app
                       <---- request_id, expires_in, interval
    poll(request_id)   ----> at most once per interval ----------> token (CIBA grant)
                       <---- pending | approved + session    <---- pending / slow_down /
                                                                    tokens (ID token checked,
                                                                    user-info read)

Choices where PSC and CIBA leave room:

- The request_id the workstation holds is random (256 bits) and kept only as a SHA-256; the
  request is bound to the workstation's ``Proclient-Workstation`` secret (kept as a SHA-256):
  polled or cancelled from another workstation, 401 AUTH_WORKSTATION_MISMATCH.
- The workstation may poll as often as it likes: the service asks PSC's token endpoint at
  most once per interval (one UPDATE claims the turn, so several processes agree); between
  two turns it answers ``pending`` from the database. PSC's ``slow_down`` grows the interval
  by 5 s (CIBA §11) and the workstation is told the new one.
- The service's clock ends a request at ``expires_in`` even when PSC has not said so.
- Each start makes PSC push to the professional's phone, so starts are counted in the
  database per national id (a keyed hash) and per client address, refused ones included:
  past the limit 429 AUTH_RATE_LIMITED with Retry-After, and PSC is not asked.
- A request approved once is never approved again: a second poll is 409 ECPS_REQUEST_USED,
  and so is an auth_req_id PSC would give twice, or one PSC says was already redeemed.
- National ids accepted: RPPS with its prefix 8 (8 then 11 digits) or ADELI with its prefix
  0 (0 then 9 characters, digits, or 2A/2B for Corsica then 7 digits).
"""

from __future__ import annotations

import hmac
import logging
import math
import secrets
from collections.abc import Callable
from typing import NoReturn

from proclient.core.i18n import _
from proclient.server.auth import rate_limited
from proclient.server.auth_store import sha256
from proclient.server.ecps_sessions import Sessions
from proclient.server.ecps_store import APPROVED, PENDING, STARTING, EcpsStore
from proclient.server.problems import Problem
from proclient.server.psc import PscClient, PscRefusal, PscUnavailable
from proclient.server.psc_tokens import TokenInvalid, professional_from_userinfo
from proclient.server.settings import PscSettings, ServerSettings
from proclient.server.storage import Storage

log = logging.getLogger("proclient.server")

REF_PURPOSE = "ecps-national-id"


def _problem(code: str) -> NoReturn:
    log.info("e-CPS sign-in refused: %s", code)
    raise Problem(code)


class EcpsSignIn:
    """Start, poll and cancel; one per app."""

    def __init__(
        self,
        settings: ServerSettings,
        storage: Storage,
        store: EcpsStore,
        psc: PscClient | None,
        sessions: Sessions,
        purge: Callable[[float], None] = lambda _now: None,
    ) -> None:
        self._settings = settings
        self._storage = storage
        self._store = store
        self._psc = psc
        self._sessions = sessions
        self._purge = purge

    def _ref(self, national_id: str) -> str:
        return self._storage.keyed_ref(REF_PURPOSE, national_id)

    def _configured(self) -> tuple[PscClient, PscSettings]:
        if self._psc is None or self._settings.psc is None:
            _problem("ECPS_NOT_CONFIGURED")
        return self._psc, self._settings.psc

    # --- start --------------------------------------------------------------------------------

    def start(self, national_id: str, workstation: str, address: str) -> dict:
        psc, config = self._configured()
        now = self._settings.clock().timestamp()
        self._purge(now)
        request_id = secrets.token_urlsafe(32)
        request_hash = sha256(request_id)
        window = config.start_window.total_seconds()
        blocking = self._store.add_request(
            request_hash,
            workstation,
            self._ref(national_id),
            address,
            now,
            now - window,
            (config.start_limit_per_id, config.start_limit_per_address),
        )
        if blocking is not None:
            raise rate_limited(
                blocking + window - now,
                _(
                    "Trop de demandes de connexion e-CPS pour ce professionnel ou depuis ce "
                    "poste : attendez quelques minutes avant de réessayer."
                ),
            )
        try:
            answer = psc.backchannel(national_id)
        except PscRefusal as refusal:
            if refusal.error == "unknown_user_id":
                self._store.end_request(request_hash, "ECPS_UNKNOWN_PROFESSIONAL", STARTING)
                _problem("ECPS_UNKNOWN_PROFESSIONAL")
            log.warning("PSC refused the backchannel request: %s", refusal.error)
            self._store.end_request(request_hash, "ECPS_UNAVAILABLE", STARTING)
            _problem("ECPS_UNAVAILABLE")
        except PscUnavailable:
            self._store.end_request(request_hash, "ECPS_UNAVAILABLE", STARTING)
            _problem("ECPS_UNAVAILABLE")
        if not self._store.started(
            request_hash, answer.auth_req_id, now + answer.expires_in, answer.interval, now
        ):
            log.warning("PSC gave an auth_req_id it had given before: refused")
            self._store.end_request(request_hash, "ECPS_REQUEST_USED", STARTING)
            _problem("ECPS_REQUEST_USED")
        log.info("e-CPS sign-in started")
        return {
            "request_id": request_id,
            "expires_in": answer.expires_in,
            "interval": answer.interval,
        }

    # --- poll ---------------------------------------------------------------------------------

    def _request(self, request_id: str, workstation: str):
        request = self._store.find_request(sha256(request_id))
        if request is None:
            _problem("ECPS_REQUEST_UNKNOWN")
        if not hmac.compare_digest(request.workstation, workstation):
            _problem("AUTH_WORKSTATION_MISMATCH")
        return request

    def poll(self, request_id: str, workstation: str) -> dict:
        psc, _config = self._configured()
        request = self._request(request_id, workstation)
        if request.state == APPROVED:
            _problem("ECPS_REQUEST_USED")
        now = self._settings.clock().timestamp()
        if request.state == STARTING:  # another thread is still asking PSC
            return _pending(5, 120)
        if request.state != PENDING:
            _problem(request.state)
        if now > request.expires_at:
            self._store.end_request(request.request_hash, "ECPS_EXPIRED")
            _problem("ECPS_EXPIRED")
        remaining = request.expires_at - now
        if request.auth_req_id is None or not self._store.claim_poll(request.request_hash, now):
            return _pending(request.interval, remaining)
        try:
            tokens = psc.poll(request.auth_req_id)
        except PscRefusal as refusal:
            return self._refused(
                request.request_hash, refusal.error, request.interval, now, remaining
            )
        except PscUnavailable:
            _problem("ECPS_UNAVAILABLE")  # still pending: the next turn asks again
        try:
            if tokens.id_token is None:
                raise TokenInvalid("missing")
            claims = psc.check_id_token(tokens.id_token, request.id_nat_ref, self._ref, now)
            info = psc.userinfo(tokens.access_token)
            if info.get("sub") != claims.get("sub"):  # OpenID Connect Core 5.3.2
                raise TokenInvalid("sub")
            professional = professional_from_userinfo(info)
            if self._ref(professional.id_nat) != request.id_nat_ref:
                raise TokenInvalid("national_id")
        except TokenInvalid as invalid:
            log.warning("PSC's answer refused: %s", invalid.reason)
            self._store.end_request(request.request_hash, "ECPS_TOKEN_INVALID")
            self._logout(tokens.refresh_token)
            _problem("ECPS_TOKEN_INVALID")
        except PscUnavailable:
            self._store.end_request(request.request_hash, "ECPS_UNAVAILABLE")
            self._logout(tokens.refresh_token)
            _problem("ECPS_UNAVAILABLE")
        if not self._store.end_request(request.request_hash, APPROVED):
            # Ended meanwhile (cancelled from the workstation while PSC answered): so be it.
            self._logout(tokens.refresh_token)
            ended = self._store.find_request(request.request_hash)
            state = ended.state if ended is not None else APPROVED
            _problem(state if state not in (APPROVED, PENDING, STARTING) else "ECPS_REQUEST_USED")
        session = self._sessions.open(professional, workstation, tokens)
        return {"status": "approved", "session": session}

    def _refused(
        self, request_hash: str, error: str, interval: float, now: float, remaining: float
    ) -> dict:
        if error == "authorization_pending":
            return _pending(interval, remaining)
        if error == "slow_down":
            return _pending(self._store.slow_down(request_hash, now), remaining)
        code = {
            "expired_token": "ECPS_EXPIRED",
            "access_denied": "ECPS_REFUSED",
            "invalid_grant": "ECPS_REQUEST_USED",
        }.get(error)
        if code is None:
            log.warning("PSC answered the token request with %s", error)
            _problem("ECPS_UNAVAILABLE")
        self._store.end_request(request_hash, code)
        _problem(code)

    def _logout(self, refresh_token: str | None) -> None:
        if refresh_token and self._psc is not None:
            try:
                self._psc.logout(refresh_token)
            except PscUnavailable:
                pass

    # --- cancel -------------------------------------------------------------------------------

    def cancel(self, request_id: str, workstation: str) -> None:
        """The service never asks PSC about this request again. Cancelling an ended request
        changes nothing; an approved one is 409 ECPS_REQUEST_USED."""
        self._configured()
        request = self._request(request_id, workstation)
        if request.state == APPROVED:
            _problem("ECPS_REQUEST_USED")
        if request.state in (PENDING, STARTING):
            self._store.end_request(request.request_hash, "ECPS_CANCELLED", request.state)
            log.info("e-CPS sign-in cancelled")


def _pending(interval: float, remaining: float) -> dict:
    return {
        "status": "pending",
        "interval": max(1, math.ceil(interval)),
        "expires_in": max(0, math.ceil(remaining)),
    }
