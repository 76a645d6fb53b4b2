"""The DMP service's settings: where its data lives, whom it trusts, how it runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from proclient.domain import MAJORITY_AGE

Mode = Literal["test", "production"]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ServerSettings:
    """``mode`` "test" accepts only the TEST and DEMO INS OIDs, "production" refuses them
    (HOM 6). ``clock`` returns an aware datetime; tests inject their own.
    ``pseudonym_secret`` keys the HMAC that names patients in the audit trail; when None, a
    random secret is created once and kept in the database. ``auth_failure_limit`` failed
    authentications per certificate within ``auth_failure_window`` make the next ones 429."""

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

    def __post_init__(self) -> None:
        if self.mode not in ("test", "production"):
            raise ValueError(f"unknown mode {self.mode!r}")
