"""The service as a Pro Santé Connect client: discovery, JWKS, CIBA (poll mode), refresh,
user-info and logout, over synchronous httpx (the routes run in FastAPI's thread pool).

PSC is a Keycloak realm (``esante-wallet``); its discovery document lives at
``{issuer}/.well-known/wallet-openid-configuration``. The client authenticates with its secret
(HTTP Basic, ``client_secret_basic``) or with a TLS client certificate (``tls_client_auth``:
the certificate and the client_id in the form), as PSC's registration says. PSC's TLS is
checked against ``PscSettings.ca`` (the system's CAs when unset).

What goes wrong is one of three exceptions: :class:`PscUnavailable` (PSC unreachable, TLS
refused, a 5xx, an answer that is not what OpenID says, or ``invalid_client``: the service's
registration is wrong, which the operator must hear about), :class:`PscRefusal` (an OAuth
error PSC answered: ``authorization_pending``, ``slow_down``, ``access_denied``…) and
:class:`~proclient.server.psc_tokens.TokenInvalid` (the ID token fails a check). None of their
texts carries a token, the secret, an auth_req_id or a national id; nor does the log.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc.jwk import KeySet

from proclient.server.psc_tokens import IdTokenChecks, TokenInvalid, check_id_token
from proclient.server.settings import PscSettings

log = logging.getLogger("proclient.server.psc")

CIBA_GRANT = "urn:openid:params:grant-type:ciba"
ACR = "eidas1"


class PscUnavailable(Exception):
    """PSC could not be used: ``reason`` is a short word for the log (never a secret)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PscRefusal(Exception):
    """An OAuth error answered by PSC (RFC 6749 shape): ``error`` is its code."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True)
class BackchannelAnswer:
    auth_req_id: str = field(repr=False)
    expires_in: int
    interval: int


@dataclass(frozen=True)
class Tokens:
    access_token: str = field(repr=False)
    expires_in: int
    refresh_token: str | None = field(repr=False)
    id_token: str | None = field(repr=False)


class PscClient:
    """One per app; thread-safe (the discovery document and the JWKS are cached)."""

    def __init__(self, settings: PscSettings, monotonic=time.monotonic) -> None:
        self._settings = settings
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._discovery: dict | None = None
        self._discovery_until = 0.0
        self._jwks: KeySet | None = None
        self._jwks_fetched_at: float | None = None
        verify: ssl.SSLContext | bool = True
        if settings.ca is not None:
            verify = ssl.create_default_context(cafile=str(settings.ca))
        if settings.client_certificate is not None:
            if not isinstance(verify, ssl.SSLContext):
                verify = ssl.create_default_context()
            verify.load_cert_chain(str(settings.client_certificate), str(settings.client_key))
        self._http = httpx.Client(
            verify=verify, timeout=settings.timeout, follow_redirects=False, trust_env=False
        )

    def close(self) -> None:
        self._http.close()

    # --- discovery and keys -------------------------------------------------------------------

    def discovery(self) -> dict:
        with self._lock:
            if self._discovery is not None and self._monotonic() < self._discovery_until:
                return self._discovery
        document = self._get_json(self._settings.discovery_url, "discovery")
        needed = (
            "issuer",
            "token_endpoint",
            "jwks_uri",
            "userinfo_endpoint",
            "backchannel_authentication_endpoint",
        )
        if not all(isinstance(document.get(name), str) for name in needed):
            log.warning("PSC discovery document incomplete")
            raise PscUnavailable("discovery")
        # OpenID Connect Discovery §4.3: the issuer is the one whose document this is.
        if not self._settings.discovery_url.startswith(document["issuer"].rstrip("/") + "/"):
            log.warning("PSC discovery document names another issuer than its address")
            raise PscUnavailable("discovery")
        with self._lock:
            self._discovery = document
            self._discovery_until = self._monotonic() + self._settings.discovery_ttl.total_seconds()
        return document

    def _keys(self, refresh: bool = False) -> KeySet | None:
        """The JWKS, fetched once; with ``refresh`` fetched again unless it was fetched within
        ``jwks_refetch_interval`` (an unknown kid must not make the service hammer PSC).
        None when a refresh was asked for and refused by that limit."""
        with self._lock:
            cached, at = self._jwks, self._jwks_fetched_at
        now = self._monotonic()
        if cached is not None and not refresh:
            return cached
        if (
            cached is not None
            and at is not None
            and now - at < self._settings.jwks_refetch_interval.total_seconds()
        ):
            return None
        document = self._get_json(self.discovery()["jwks_uri"], "jwks")
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except Exception:
            log.warning("PSC JWKS unreadable")
            raise PscUnavailable("jwks") from None
        with self._lock:
            self._jwks, self._jwks_fetched_at = keys, now
        return keys

    # --- CIBA ---------------------------------------------------------------------------------

    def backchannel(
        self, national_id: str, binding_message: str | None = None
    ) -> BackchannelAnswer:
        form = {"scope": self._settings.scope, "login_hint": national_id, "acr_values": ACR}
        if binding_message:
            form["binding_message"] = binding_message
        body = self._post(
            self.discovery()["backchannel_authentication_endpoint"], form, "backchannel"
        )
        try:
            return BackchannelAnswer(
                str(body["auth_req_id"]), int(body["expires_in"]), int(body.get("interval", 5))
            )
        except (KeyError, TypeError, ValueError):
            log.warning("PSC backchannel answer malformed")
            raise PscUnavailable("backchannel") from None

    def poll(self, auth_req_id: str) -> Tokens:
        """One token request for ``auth_req_id``: the tokens, or PscRefusal
        (authorization_pending, slow_down, expired_token, access_denied, invalid_grant)."""
        body = self._post(
            self.discovery()["token_endpoint"],
            {"grant_type": CIBA_GRANT, "auth_req_id": auth_req_id},
            "token",
        )
        return _tokens(body)

    def refresh(self, refresh_token: str) -> Tokens:
        body = self._post(
            self.discovery()["token_endpoint"],
            {"grant_type": "refresh_token", "refresh_token": refresh_token},
            "refresh",
        )
        return _tokens(body)

    def userinfo(self, access_token: str) -> dict:
        try:
            response = self._http.get(
                self.discovery()["userinfo_endpoint"],
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            )
        except httpx.HTTPError as error:
            log.warning("PSC userinfo unreachable: %s", type(error).__name__)
            raise PscUnavailable("userinfo") from None
        if response.status_code != 200:
            log.warning("PSC userinfo answered %s", response.status_code)
            raise PscUnavailable("userinfo")
        return _json_object(response, "userinfo")

    def logout(self, refresh_token: str) -> None:
        """PSC-side logout (best effort: the caller ends its own session anyway)."""
        endpoint = self.discovery().get("end_session_endpoint")
        if not isinstance(endpoint, str):
            return
        try:
            self._http.post(
                endpoint,
                data=self._client_form({"refresh_token": refresh_token}),
                auth=self._auth(),
            )
        except httpx.HTTPError as error:
            log.info("PSC logout not delivered: %s", type(error).__name__)

    def check_id_token(
        self, id_token: str, national_id_ref: str, ref: Callable[[str], str], now: float
    ) -> dict:
        """The ID token's claims once every check passes (server/psc_tokens.py); TokenInvalid
        otherwise. ``ref`` names a national id the way ``national_id_ref`` was made, so that
        the one asked for need not be kept in clear."""
        checks = IdTokenChecks(
            issuer=self.discovery()["issuer"],
            client_id=self._settings.client_id,
            acr=ACR,
            national_id_ref=national_id_ref,
            ref=ref,
            now=now,
        )
        return check_id_token(id_token, self._keys, checks)

    # --- HTTP ---------------------------------------------------------------------------------

    def _auth(self) -> tuple[str, str] | None:
        if self._settings.client_secret:
            return (self._settings.client_id, self._settings.client_secret)
        return None

    def _client_form(self, form: dict[str, str]) -> dict[str, str]:
        if self._settings.client_secret:
            return form
        return {**form, "client_id": self._settings.client_id}  # tls_client_auth

    def _post(self, url: str, form: dict[str, str], what: str) -> dict:
        try:
            response = self._http.post(
                url,
                data=self._client_form(form),
                auth=self._auth(),
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as error:
            log.warning("PSC %s unreachable: %s", what, type(error).__name__)
            raise PscUnavailable(what) from None
        if response.status_code == 200:
            return _json_object(response, what)
        if response.status_code >= 500:
            log.warning("PSC %s answered %s", what, response.status_code)
            raise PscUnavailable(what)
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            error = None
        if (
            not isinstance(error, str)
            or not error.isascii()
            or not error.isprintable()
            or len(error) > 64
        ):
            log.warning("PSC %s answered %s without an OAuth error", what, response.status_code)
            raise PscUnavailable(what)
        if error in ("invalid_client", "unauthorized_client"):
            log.error(
                "PSC refused this service's client authentication (%s): check psc_client_id, "
                "its secret or client certificate, and the registration with PSC",
                error,
            )
            raise PscUnavailable(what)
        raise PscRefusal(error)

    def _get_json(self, url: str, what: str) -> Any:
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            log.warning("PSC %s unreachable: %s", what, type(error).__name__)
            raise PscUnavailable(what) from None
        if response.status_code != 200:
            log.warning("PSC %s answered %s", what, response.status_code)
            raise PscUnavailable(what)
        return _json_object(response, what)


def _json_object(response: httpx.Response, what: str) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        log.warning("PSC %s answer is not a JSON object", what)
        raise PscUnavailable(what)
    return body


def _tokens(body: dict) -> Tokens:
    try:
        refresh = body.get("refresh_token")
        id_token = body.get("id_token")
        return Tokens(
            access_token=str(body["access_token"]),
            expires_in=int(body.get("expires_in", 60)),
            refresh_token=str(refresh) if refresh else None,
            id_token=str(id_token) if id_token else None,
        )
    except (KeyError, TypeError, ValueError):
        log.warning("PSC token answer malformed")
        raise PscUnavailable("token") from None


__all__ = [
    "BackchannelAnswer",
    "PscClient",
    "PscRefusal",
    "PscUnavailable",
    "TokenInvalid",
    "Tokens",
]
