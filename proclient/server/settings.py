"""The DMP service's settings: where its data lives, whom it trusts, how it runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from proclient.core.capture import DEFAULT_MAX_AGE_DAYS
from proclient.core.domain import MAJORITY_AGE

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

    def __post_init__(self) -> None:
        if self.mode not in ("test", "production"):
            raise ValueError(f"unknown mode {self.mode!r}")
