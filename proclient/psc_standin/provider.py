"""The stand-in's state and rules: CIBA requests, the « phone », tokens, sessions.

Everything is kept in memory under one lock (the HTTP side runs in uvicorn's thread, the
phone's calls come from the demo's App or from a test). Times come from the injected
``clock`` (epoch seconds): the tests move it, they never wait.

Rules (OpenID CIBA Core 1.0, poll mode, as PSC applies it; RFC 6749 for the rest):

- a backchannel request names a known professional (``login_hint``), with ``openid`` in its
  scope and ``acr_values=eidas1``; it lives ``expires_in`` seconds;
- the token endpoint answers ``authorization_pending`` until the phone answers,
  ``slow_down`` to a poll sooner than the request's interval after the previous poll (the
  first poll is never too soon; the interval then grows by 5 s, CIBA §11),
  ``expired_token`` once the request's life is over, ``access_denied`` once refused, the
  tokens once approved (once: then ``invalid_grant``);
- a refresh token is good once (rotation), for ``refresh_ttl`` seconds, within a PSC session
  of at most ``session_max`` seconds that nobody ended (logout, :meth:`end_sessions`).
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from proclient.psc_standin import paths
from proclient.psc_standin.clientauth import authenticate_client
from proclient.psc_standin.errors import OAuthError
from proclient.psc_standin.http import create_app
from proclient.psc_standin.material import StandInMaterial
from proclient.psc_standin.tokens import FORGED_SIGNINGS, TokenSigner
from proclient.psc_standin.users import StandInUser, userinfo

logger = logging.getLogger(__name__)

CIBA_GRANT = "urn:openid:params:grant-type:ciba"
ACR = "eidas1"
SLOW_DOWN_STEP = 5  # seconds added to a request's interval at each slow_down (CIBA §11)


@dataclass
class _Request:
    national_id: str
    scope: str
    expires_at: float
    interval: int
    state: str = "pending"  # pending | approved | refused | redeemed
    last_poll: float | None = None
    answered_at: float | None = None


@dataclass
class _Session:
    national_id: str
    started_at: float  # the phone's approval: auth_time
    scope: str
    ended: bool = False


@dataclass
class _Refresh:
    session_id: str
    issued_at: float
    used: bool = False


class PscStandIn:
    """The provider (see the module's docstring). ``app`` is its HTTP side (FastAPI)."""

    def __init__(
        self,
        material: StandInMaterial,
        users: Iterable[StandInUser],
        *,
        clock: Callable[[], float] = time.time,
        expires_in: int = 120,
        interval: int = 5,
        access_ttl: int = 120,
        refresh_ttl: int = 1800,
        session_max: int = 4 * 3600,
    ) -> None:
        self.material = material
        self.users: dict[str, StandInUser] = {user.national_id: user for user in users}
        self.clock = clock
        self.expires_in = expires_in
        self.interval = interval
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.session_max = session_max
        self.signer = TokenSigner(material.signing_key())
        self._lock = threading.RLock()
        self._requests: dict[str, _Request] = {}
        self._sessions: dict[str, _Session] = {}
        self._refresh_tokens: dict[str, _Refresh] = {}
        self._base_url: str | None = None
        # Test knobs.
        self.token_polls: collections.Counter[str] = collections.Counter()
        self.backchannel_requests = 0
        self.forge: dict[str, Any] = {}
        self.app = create_app(self)

    # -- addresses ---------------------------------------------------------------------------

    def set_base_url(self, base_url: str) -> None:
        """Where the stand-in is reached (``https://127.0.0.1:PORT``): the issuer is under it."""
        self._base_url = base_url.rstrip("/")

    @property
    def issuer(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the stand-in's address is not known yet (set_base_url)")
        return self._base_url + paths.REALM_PATH

    @property
    def discovery_url(self) -> str:
        return self.issuer + paths.DISCOVERY_PATH

    @property
    def kid(self) -> str:
        return self.signer.kid

    def jwks(self) -> dict[str, Any]:
        """The public JWKS (the signing key's public part, its ``kid``)."""
        return self.signer.jwks()

    def discovery(self) -> dict[str, Any]:
        """PSC's discovery document, with this stand-in's endpoints."""
        issuer = self.issuer
        return {
            "issuer": issuer,
            "token_endpoint": issuer + paths.TOKEN,
            "userinfo_endpoint": issuer + paths.USERINFO,
            "jwks_uri": issuer + paths.CERTS,
            "end_session_endpoint": issuer + paths.LOGOUT,
            "backchannel_authentication_endpoint": issuer + paths.BACKCHANNEL,
            "grant_types_supported": [CIBA_GRANT, "refresh_token"],
            "backchannel_token_delivery_modes_supported": ["poll"],
            "backchannel_user_code_parameter_supported": False,
            "acr_values_supported": [ACR],
            "scopes_supported": ["openid", "scope_all"],
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "userinfo_signing_alg_values_supported": ["none"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "backchannel_authentication_request_signing_alg_values_supported": [],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "acr",
                "auth_time",
                "preferred_username",
                "given_name",
                "family_name",
                "SubjectNameID",
                "SubjectRefPro",
            ],
        }

    # -- the phone (and the test's hand on it) -----------------------------------------------

    def pending(self, national_id: str | None = None) -> list[str]:
        """The auth_req_ids awaiting the phone (of ``national_id``, or of anyone), oldest first."""
        with self._lock:
            now = self.clock()
            return [
                auth_req_id
                for auth_req_id, request in self._requests.items()
                if request.state == "pending"
                and now < request.expires_at
                and national_id in (None, request.national_id)
            ]

    def approve(self, national_id: str) -> bool:
        """The professional approves their newest pending request; False if none."""
        return self._answer(national_id, "approved")

    def refuse(self, national_id: str) -> bool:
        """The professional refuses their newest pending request; False if none."""
        return self._answer(national_id, "refused")

    def _answer(self, national_id: str, state: str) -> bool:
        with self._lock:
            now = self.clock()
            for request in reversed(list(self._requests.values())):
                if request.national_id == national_id and request.state == "pending":
                    if now >= request.expires_at:
                        return False
                    request.state = state
                    request.answered_at = now
                    logger.info("PSC stand-in: the phone %s a request", state)
                    return True
            return False

    def end_sessions(self, national_id: str) -> None:
        """PSC-side logout of every session of ``national_id``: their refreshes then fail."""
        with self._lock:
            for session in self._sessions.values():
                if session.national_id == national_id:
                    session.ended = True

    def reset(self) -> None:
        """Forget every request, token and session, and the knobs (between two tests)."""
        with self._lock:
            self._requests.clear()
            self._sessions.clear()
            self._refresh_tokens.clear()
            self.token_polls.clear()
            self.backchannel_requests = 0
            self.forge.clear()

    # -- the endpoints' rules ----------------------------------------------------------------

    def _authenticate(self, form: Mapping[str, str], authorization: str | None) -> None:
        authenticate_client(
            form, authorization, self.material.client_id, self.material.client_secret
        )

    def backchannel(self, form: Mapping[str, str], authorization: str | None) -> dict[str, Any]:
        """The CIBA backchannel authentication request → ``auth_req_id``, ``expires_in``,
        ``interval``."""
        with self._lock:
            self.backchannel_requests += 1
            self._authenticate(form, authorization)
            scope = form.get("scope", "")
            if "openid" not in scope.split():
                raise OAuthError("invalid_scope", "the scope must hold openid")
            if form.get("acr_values", "").split() != [ACR]:
                raise OAuthError("invalid_request", f"acr_values must be {ACR}")
            if "login_hint_token" in form or "id_token_hint" in form:
                raise OAuthError("invalid_request", "only login_hint names the user")
            login_hint = form.get("login_hint", "")
            if not login_hint:
                raise OAuthError("invalid_request", "login_hint is missing")
            if login_hint not in self.users:
                raise OAuthError("unknown_user_id", "no such professional")
            auth_req_id = secrets.token_urlsafe(32)
            self._requests[auth_req_id] = _Request(
                national_id=login_hint,
                scope=scope,
                expires_at=self.clock() + self.expires_in,
                interval=self.interval,
            )
            logger.info("PSC stand-in: a backchannel request awaits the phone")
            return {
                "auth_req_id": auth_req_id,
                "expires_in": self.expires_in,
                "interval": self.interval,
            }

    def token(self, form: Mapping[str, str], authorization: str | None) -> dict[str, Any]:
        """The token endpoint: the CIBA grant or a refresh."""
        with self._lock:
            grant_type = form.get("grant_type", "")
            if grant_type == CIBA_GRANT:
                auth_req_id = form.get("auth_req_id", "")
                if auth_req_id:
                    self.token_polls[auth_req_id] += 1
                self._authenticate(form, authorization)
                if not auth_req_id:
                    raise OAuthError("invalid_request", "auth_req_id is missing")
                return self._ciba_grant(auth_req_id)
            self._authenticate(form, authorization)
            if grant_type == "refresh_token":
                refresh_token = form.get("refresh_token", "")
                if not refresh_token:
                    raise OAuthError("invalid_request", "refresh_token is missing")
                return self._refresh_grant(refresh_token)
            raise OAuthError("unsupported_grant_type", "grant_type not supported")

    def _ciba_grant(self, auth_req_id: str) -> dict[str, Any]:
        now = self.clock()
        request = self._requests.get(auth_req_id)
        if request is None or request.state == "redeemed":
            raise OAuthError.invalid_grant("unknown or already used auth_req_id")
        if now >= request.expires_at:
            raise OAuthError("expired_token", "the authentication request has expired")
        previous, request.last_poll = request.last_poll, now
        if previous is not None and now - previous < request.interval:
            request.interval += SLOW_DOWN_STEP
            raise OAuthError("slow_down", f"poll every {request.interval} s at most")
        if request.state == "refused":
            raise OAuthError("access_denied", "the user refused the authentication")
        if request.state == "pending":
            raise OAuthError("authorization_pending", "the user has not answered yet")
        request.state = "redeemed"
        session_id = secrets.token_urlsafe(16)
        started_at = request.answered_at if request.answered_at is not None else now
        self._sessions[session_id] = _Session(request.national_id, started_at, request.scope)
        logger.info("PSC stand-in: tokens issued for an approved request")
        return self._issue(session_id, now)

    def _refresh_grant(self, refresh_token: str) -> dict[str, Any]:
        now = self.clock()
        record = self._refresh_tokens.get(refresh_token)
        if record is None or record.used:
            raise OAuthError.invalid_grant("unknown or already used refresh token")
        if now - record.issued_at >= self.refresh_ttl:
            raise OAuthError.invalid_grant("refresh token expired")
        session = self._sessions[record.session_id]
        if session.ended:
            raise OAuthError.invalid_grant("session not active")
        if now - session.started_at >= self.session_max:
            raise OAuthError.invalid_grant("session expired")
        record.used = True
        return self._issue(record.session_id, now)

    def _subject(self, national_id: str) -> str:
        """``sub``: opaque, stable per professional (and per stand-in material)."""
        digest = hmac.new(
            self.material.client_secret.encode("utf-8"), national_id.encode("utf-8"), hashlib.sha256
        ).digest()
        return str(uuid.UUID(bytes=digest[:16]))

    def _issue(self, session_id: str, now: float) -> dict[str, Any]:
        session = self._sessions[session_id]
        client_id = self.material.client_id
        issued = int(now)
        common = {
            "iss": self.issuer,
            "sub": self._subject(session.national_id),
            "aud": client_id,
            "azp": client_id,
            "iat": issued,
            "exp": issued + self.access_ttl,
            "auth_time": int(session.started_at),
            "acr": ACR,
            "sid": session_id,
            "preferred_username": session.national_id,
        }
        access = {**common, "typ": "Bearer", "scope": session.scope}
        access["jti"] = secrets.token_urlsafe(16)
        identity = {**common, "typ": "ID", "jti": secrets.token_urlsafe(16)}
        for name, value in dict(self.forge.get("claims") or {}).items():
            if value is None:
                identity.pop(name, None)
            else:
                identity[name] = value
        signing = self.forge.get("signing")
        if signing is not None and signing not in FORGED_SIGNINGS:
            raise ValueError(f"forge signing {signing!r}: one of {sorted(FORGED_SIGNINGS)}")
        refresh_token = secrets.token_urlsafe(32)
        self._refresh_tokens[refresh_token] = _Refresh(session_id, now)
        session_left = session.started_at + self.session_max - now
        return {
            "access_token": self.signer.sign(access),
            "token_type": "Bearer",
            "expires_in": self.access_ttl,
            "refresh_token": refresh_token,
            "refresh_expires_in": max(0, min(self.refresh_ttl, int(session_left))),
            "id_token": self.signer.sign_forged(identity, signing),
            "scope": session.scope,
            "session_state": session_id,
        }

    def userinfo(self, authorization: str | None) -> dict[str, Any]:
        """The user-info of the access token's professional (PSC's shapes, see users.py)."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise OAuthError.invalid_token("a bearer access token is required")
        claims = self.signer.verify(token.strip())
        with self._lock:
            now = self.clock()
            if claims is None or claims.get("typ") != "Bearer" or claims.get("iss") != self.issuer:
                raise OAuthError.invalid_token("not an access token of this provider")
            if not isinstance(claims.get("exp"), int) or now >= claims["exp"]:
                raise OAuthError.invalid_token("the access token has expired")
            session = self._sessions.get(str(claims.get("sid")))
            if session is None or session.ended:
                raise OAuthError.invalid_token("session not active")
            user = self.users[session.national_id]
            return userinfo(user, self._subject(user.national_id))

    def logout(self, form: Mapping[str, str], authorization: str | None) -> None:
        """The RP-initiated logout with the refresh token: the session ends."""
        with self._lock:
            self._authenticate(form, authorization)
            refresh_token = form.get("refresh_token", "")
            if not refresh_token:
                raise OAuthError("invalid_request", "refresh_token is missing")
            record = self._refresh_tokens.get(refresh_token)
            if record is None:
                raise OAuthError.invalid_grant("unknown refresh token")
            self._sessions[record.session_id].ended = True
            logger.info("PSC stand-in: a session ended by logout")
