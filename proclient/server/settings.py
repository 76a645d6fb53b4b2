"""The DMP service's settings: where its data lives, whom it trusts, how it runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from proclient.core.capture import DEFAULT_MAX_AGE_DAYS
from proclient.core.domain import MAJORITY_AGE
from proclient.server.journal import DEFAULT_HEAD_INTERVAL, DEFAULT_HEAD_MAX_AGE

if TYPE_CHECKING:
    from proclient.server.signing_key import DocumentSigner

Mode = Literal["test", "production"]


@dataclass(frozen=True)
class ServerLimits:
    """What one client may ask of the service; ``[server]`` in config.toml sets each one
    (docs/service.md, "Limits"). Requests (server/limits.py's middleware, in every app): body bytes,
    per path, and the JSON's depth and item count. Connections (``proclient serve``'s
    protocol): seconds to send the request head, then its body; seconds a kept-alive
    connection may stay idle; connections at once in all and per client address (0: no
    per-address cap, for a proxy on the same host)."""

    max_auth_body_bytes: int = 32 * 1024  # /v1/auth/*: a certificate chain (up to 20 000 chars)
    max_body_bytes: int = 64 * 1024  # every other route
    max_json_depth: int = 8
    max_json_items: int = 256  # keys and array items, in all
    header_timeout: float = 10.0
    body_timeout: float = 20.0
    keep_alive_timeout: float = 5.0
    max_connections: int = 500
    max_connections_per_address: int = 50


@dataclass(frozen=True)
class PscSettings:
    """The service as a Pro Santé Connect client (server/psc.py, server/ecps.py): PSC's
    discovery document (its issuer's ``/.well-known/wallet-openid-configuration``), this
    service's registration (``client_id`` and its secret, or a TLS client certificate and
    key, as PSC asks), the CA bundle PSC's TLS is checked against (None: the system's) and
    the seconds one call to PSC may take. The secret never appears in a repr or a log.

    The e-CPS sign-in and its session: ``idle_ttl`` without a request and ``max_ttl`` after
    the sign-in end the session (PSC's own 30 min and 4 h); PSC's access token is refreshed
    ``refresh_margin`` before it expires, while requests come. Sign-in starts are limited to
    ``start_limit_per_id`` per national id and ``start_limit_per_address`` per client address
    within ``start_window`` (each start makes PSC push to the professional's phone)."""

    discovery_url: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    client_certificate: Path | None = None
    client_key: Path | None = None
    ca: Path | None = None
    timeout: float = 10.0
    scope: str = "openid scope_all"
    idle_ttl: timedelta = timedelta(minutes=30)
    max_ttl: timedelta = timedelta(hours=4)
    refresh_margin: timedelta = timedelta(seconds=15)
    start_limit_per_id: int = 3
    start_limit_per_address: int = 20
    start_window: timedelta = timedelta(minutes=5)
    jwks_refetch_interval: timedelta = timedelta(seconds=60)
    discovery_ttl: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if not self.client_secret and self.client_certificate is None:
            raise ValueError("PSC client authentication: a secret or a client certificate")
        if (self.client_certificate is None) != (self.client_key is None):
            raise ValueError("PSC client certificate and key go together")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ServerSettings:
    """``mode`` "test" accepts only the TEST and DEMO INS OIDs, "production" refuses them
    (HOM 6). ``clock`` returns an aware datetime; tests inject their own.
    ``pseudonym_secret`` keys the HMAC that names patients in the audit trail; it lives
    outside the database (server/pseudonym_key.py keeps it in a file) and the database never
    holds it; when None (tests, throw-away apps), a random secret is kept in memory only.
    Rate limits (server/auth.py): ``auth_failure_limit`` failed authentications per
    (certificate, client address) and ``auth_address_failure_limit`` per client address
    within ``auth_failure_window``; ``challenge_limit`` challenges per client address within
    ``challenge_window``. Expired challenges and sessions, and failures older than the window,
    are purged at most once per ``purge_interval`` (piggy-backed on challenge creation).
    ``insi_answer_ttl``: how long an INSi answer lets its professional create or reactivate
    the DMP of the INS it gave (server/insi.py, the creation gate); older ones are purged.
    ``offline_consent_max_age``: how old a consent captured offline may be when its creation
    reaches the service (server/offline.py); older: CONSENT_STALE."""

    database: Path | str  # a SQLite file, sqlite:///path or postgresql://…
    trusted_ca_pem: bytes
    mode: Mode = "test"
    challenge_ttl: timedelta = timedelta(seconds=60)
    session_ttl: timedelta = timedelta(minutes=15)
    clock: Callable[[], datetime] = utc_now
    majority_age: int = MAJORITY_AGE
    pseudonym_secret: bytes | None = None
    auth_failure_limit: int = 5
    auth_failure_window: timedelta = timedelta(minutes=1)
    auth_address_failure_limit: int = 20
    challenge_limit: int = 30
    challenge_window: timedelta = timedelta(minutes=1)
    purge_interval: timedelta = timedelta(minutes=1)
    insi_answer_ttl: timedelta = timedelta(hours=1)
    offline_consent_max_age: timedelta = timedelta(days=DEFAULT_MAX_AGE_DAYS)
    limits: ServerLimits = ServerLimits()  # body, JSON and connection limits
    psc: PscSettings | None = None  # e-CPS sign-in through Pro Santé Connect; None: not offered
    # Signs the statement of each creation, reactivation and password reissue (and the audit
    # journal's heads): server/signing_key.py. None: nothing is signed (throw-away apps).
    document_signer: DocumentSigner | None = None
    audit_head_interval: int = DEFAULT_HEAD_INTERVAL  # a signed head every N entries…
    audit_head_max_age: timedelta = timedelta(seconds=DEFAULT_HEAD_MAX_AGE)  # …or this long
    drain_seconds: float = 10.0  # SIGTERM: budget for the requests in flight (draining.py)

    def __post_init__(self) -> None:
        if self.mode not in ("test", "production"):
            raise ValueError(f"unknown mode {self.mode!r}")
