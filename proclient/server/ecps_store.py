"""What the service keeps of e-CPS sign-ins (tables ``ecps_requests`` and ``ecps_sessions``,
migration 7 of server/database.py): the requests with their rate-limit counts and polling
rhythm, and the e-CPS side of sessions.

Secrets at rest: the request_id, the workstation's secret and the session token only as
SHA-256; PSC's auth_req_id and refresh token sealed with AES-GCM under a key derived (HKDF)
from the pseudonymisation key, which lives off the database (server/pseudonym_key.py). Each
sealed value is bound to its row (the row's key is the associated data): moved to another
row, it does not open.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from proclient.server.auth_store import sha256
from proclient.server.database import Database

PENDING, STARTING, APPROVED = "pending", "starting", "approved"
SEAL_PURPOSE = "proclient e-CPS tokens at rest v1"


class Sealer:
    """AES-GCM with a 96-bit random nonce (stored in front of the ciphertext)."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, value: str, row: str) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + self._aead.encrypt(nonce, value.encode(), row.encode())

    def open(self, sealed: bytes, row: str) -> str | None:
        data = bytes(sealed)
        try:
            return self._aead.decrypt(data[:12], data[12:], row.encode()).decode()
        except (InvalidTag, ValueError):
            return None


@dataclass(frozen=True)
class EcpsRequest:
    request_hash: str
    workstation: str
    id_nat_ref: str
    expires_at: float
    interval: float
    state: str
    auth_req_id: str | None = field(repr=False)


@dataclass(frozen=True)
class SessionRow:
    professional: dict
    expires_at: float
    ecps: EcpsSessionRow | None


@dataclass(frozen=True)
class EcpsSessionRow:
    workstation: str
    started_at: float
    last_seen: float


class EcpsStore:
    def __init__(self, db: Database, sealing_key: bytes) -> None:
        self.db = db
        self._sealer = Sealer(sealing_key)

    # --- requests -----------------------------------------------------------------------------

    def add_request(
        self,
        request_hash: str,
        workstation: str,
        id_nat_ref: str,
        address: str,
        now: float,
        since: float,
        limits: tuple[int, int],
    ) -> float | None:
        """Record a starting request unless its national id has ``limits[0]`` or its address
        ``limits[1]`` starts after ``since``: then nothing is recorded and the answer is the
        creation time of the start that keeps the limit reached (one more is allowed once it
        leaves the window). One transaction under one lock: every process counts the same."""
        per_id, per_address = limits
        with self.db.transaction() as conn:
            conn.lock("ecps-start")
            blocking = []
            for column, value, limit in (
                ("id_nat_ref", id_nat_ref, per_id),
                ("address", address, per_address),
            ):
                row = conn.execute(
                    f"SELECT created_at FROM ecps_requests WHERE {column} = ? "  # noqa: S608
                    "AND created_at > ? ORDER BY created_at DESC LIMIT 1 OFFSET ?",
                    (value, since, limit - 1),
                ).fetchone()
                if row is not None:
                    blocking.append(row[0])
            if blocking:
                return max(blocking)
            conn.execute(
                "INSERT INTO ecps_requests (request_hash, workstation, id_nat_ref, address, "
                "created_at, expires_at, poll_interval, next_poll_at, state) "
                "VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?)",
                (request_hash, workstation, id_nat_ref, address, now, now, STARTING),
            )
        return None

    def started(
        self, request_hash: str, auth_req_id: str, expires_at: float, interval: float, now: float
    ) -> bool:
        """PSC accepted the request: keep its auth_req_id (sealed) and rhythm. False when that
        auth_req_id already served another request (then this one is refused)."""
        sealed = self._sealer.seal(auth_req_id, request_hash)
        try:
            with self.db.transaction() as conn:
                conn.execute(
                    "UPDATE ecps_requests SET state = ?, auth_req_id = ?, auth_req_hash = ?, "
                    "expires_at = ?, poll_interval = ?, next_poll_at = ? "
                    "WHERE request_hash = ? AND state = ?",
                    (
                        PENDING,
                        sealed,
                        sha256(auth_req_id),
                        expires_at,
                        interval,
                        now,
                        request_hash,
                        STARTING,
                    ),
                )
        except self.db.integrity_errors:
            return False
        return True

    def find_request(self, request_hash: str) -> EcpsRequest | None:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT workstation, id_nat_ref, expires_at, poll_interval, state, auth_req_id "
                "FROM ecps_requests WHERE request_hash = ?",
                (request_hash,),
            ).fetchone()
        if row is None:
            return None
        auth_req_id = self._sealer.open(row[5], request_hash) if row[5] is not None else None
        return EcpsRequest(request_hash, row[0], row[1], row[2], row[3], row[4], auth_req_id)

    def claim_poll(self, request_hash: str, now: float) -> bool:
        """True for the one caller allowed to ask PSC now (its interval has passed since the
        last time); the next one may at ``now`` plus the interval. One statement: two
        processes cannot both win."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "UPDATE ecps_requests SET next_poll_at = ? + poll_interval "
                "WHERE request_hash = ? AND state = ? AND next_poll_at <= ? RETURNING 1",
                (now, request_hash, PENDING, now),
            ).fetchone()
        return row is not None

    def slow_down(self, request_hash: str, now: float, step: float = 5.0) -> float:
        """PSC said slow_down: the interval grows by ``step`` (CIBA §11); the new interval."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "UPDATE ecps_requests SET poll_interval = poll_interval + ?, "
                "next_poll_at = ? + poll_interval + ? WHERE request_hash = ? "
                "RETURNING poll_interval",
                (step, now, step, request_hash),
            ).fetchone()
        return row[0] if row is not None else step

    def end_request(self, request_hash: str, state: str, only_if: str | None = PENDING) -> bool:
        """Set a final ``state`` (a refusal's code, or approved); with ``only_if`` only from
        that state. True when this call changed it."""
        query = "UPDATE ecps_requests SET state = ?, auth_req_id = NULL WHERE request_hash = ?"
        params: tuple = (state, request_hash)
        if only_if is not None:
            query += " AND state = ?"
            params += (only_if,)
        with self.db.transaction() as conn:
            return conn.execute(query, params).rowcount == 1

    # --- sessions -----------------------------------------------------------------------------

    def add_session(
        self,
        token_hash: str,
        id_nat: str,
        professional: dict,
        workstation: str,
        refresh_token: str | None,
        times: tuple[float, float, float],
    ) -> None:
        """``times``: (now, the session's absolute end, PSC's access token expiry)."""
        now, expires_at, access_expires_at = times
        sealed = self._sealer.seal(refresh_token, token_hash) if refresh_token else None
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO sessions (token_hash, id_nat, professional, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (token_hash, id_nat, json.dumps(professional), expires_at),
            )
            conn.execute(
                "INSERT INTO ecps_sessions (token_hash, workstation, refresh_token, started_at, "
                "last_seen, expires_at, access_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (token_hash, workstation, sealed, now, now, expires_at, access_expires_at),
            )

    def find_session(self, token_hash: str) -> SessionRow | None:
        """A session (CPS or e-CPS) by its token's hash."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT s.professional, s.expires_at, e.workstation, e.started_at, e.last_seen "
                "FROM sessions s LEFT JOIN ecps_sessions e "
                "ON e.token_hash = s.token_hash WHERE s.token_hash = ?",
                (token_hash,),
            ).fetchone()
        if row is None:
            return None
        ecps = EcpsSessionRow(row[2], row[3], row[4]) if row[2] is not None else None
        return SessionRow(json.loads(row[0]), row[1], ecps)

    def seen(self, token_hash: str, now: float) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE ecps_sessions SET last_seen = ? WHERE token_hash = ? AND last_seen < ?",
                (now, token_hash, now),
            )

    def claim_refresh(self, token_hash: str, due: float, now: float, hold: float) -> str | None:
        """The refresh token, for the one caller that may refresh now (PSC's access token
        expires before ``due``, and no other caller holds the claim); None otherwise. The
        claim lasts ``hold`` seconds (a refresh token serves once: two refreshes at once
        would end the session)."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "UPDATE ecps_sessions SET refresh_claimed_until = ? WHERE token_hash = ? "
                "AND access_expires_at <= ? AND refresh_claimed_until <= ? "
                "AND refresh_token IS NOT NULL RETURNING refresh_token",
                (now + hold, token_hash, due, now),
            ).fetchone()
        return self._sealer.open(row[0], token_hash) if row is not None else None

    def refreshed(self, token_hash: str, refresh_token: str | None, access_expires_at: float):
        sealed = self._sealer.seal(refresh_token, token_hash) if refresh_token else None
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE ecps_sessions SET refresh_token = COALESCE(?, refresh_token), "
                "access_expires_at = ?, refresh_claimed_until = 0 WHERE token_hash = ?",
                (sealed, access_expires_at, token_hash),
            )

    def release_refresh(self, token_hash: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE ecps_sessions SET refresh_claimed_until = 0 WHERE token_hash = ?",
                (token_hash,),
            )

    def end_session(self, token_hash: str) -> str | None:
        """Delete a session (CPS or e-CPS); the e-CPS refresh token, for PSC's logout."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "DELETE FROM ecps_sessions WHERE token_hash = ? RETURNING refresh_token",
                (token_hash,),
            ).fetchone()
            conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))
        if row is None or row[0] is None:
            return None
        return self._sealer.open(row[0], token_hash)
