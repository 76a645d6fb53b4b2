"""What the service keeps of professionals' authentication: the challenges handed out (one
use each), the sessions opened, the refused attempts (for the rate limits), and their purge."""

from __future__ import annotations

import hashlib
import json

from proclient.server import register
from proclient.server.database import Database

ECPS_REQUEST_KEPT = 3600.0  # seconds; at least the e-CPS start window (PscSettings)


def sha256(text: str) -> str:
    """How a secret is kept (session tokens, CPS and e-CPS alike, request ids, workstation
    secrets): the hex SHA-256 of its UTF-8 text."""
    return hashlib.sha256(text.encode()).hexdigest()


class AuthStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- challenges and sessions ------------------------------------------------------------

    def add_challenge(
        self,
        challenge_id: str,
        nonce: bytes,
        expires_at: float,
        now: float,
        address: str,
        since: float,
        limit: int,
    ) -> float | None:
        """Record a challenge for ``address`` unless it already has ``limit`` created after
        ``since``: then nothing is recorded and the answer is the creation time of the
        ``limit``-th most recent (one more is allowed once it leaves the window)."""
        with self.db.transaction() as conn:
            conn.lock(f"challenge|{address}")
            row = conn.execute(
                "SELECT created_at FROM challenges WHERE address = ? AND created_at > ? "
                "ORDER BY created_at DESC LIMIT 1 OFFSET ?",
                (address, since, limit - 1),
            ).fetchone()
            if row is not None:
                return row[0]
            conn.execute(
                "INSERT INTO challenges (id, nonce, expires_at, address, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (challenge_id, nonce, expires_at, address, now),
            )
        return None

    def consume_challenge(self, challenge_id: str, now: float) -> tuple[bytes, float] | str:
        """Mark a challenge used and return (nonce, expires_at), or the refusal code."""
        with self.db.transaction() as conn:
            # One statement: two concurrent uses cannot both see it unused (READ COMMITTED).
            row = conn.execute(
                "UPDATE challenges SET used_at = ? WHERE id = ? AND used_at IS NULL "
                "RETURNING nonce, expires_at",
                (now, challenge_id),
            ).fetchone()
            if row is not None:
                return bytes(row[0]), row[1]
            known = conn.execute("SELECT 1 FROM challenges WHERE id = ?", (challenge_id,))
            return "AUTH_CHALLENGE_USED" if known.fetchone() else "AUTH_CHALLENGE_UNKNOWN"

    # --- failed authentications (rate limiting) ----------------------------------------------

    def nth_recent_failure(
        self, address: str, fingerprint: str | None, since: float, n: int
    ) -> float | None:
        """The time of the ``n``-th most recent failure after ``since`` from ``address`` (for
        ``fingerprint`` only, when given), or None when there are fewer than ``n``."""
        query = "SELECT at FROM auth_failures WHERE address = ? AND at > ? "
        params: tuple = (address, since)
        if fingerprint is not None:
            query += "AND fingerprint = ? "
            params += (fingerprint,)
        with self.db.read() as conn:
            row = conn.execute(
                query + "ORDER BY at DESC LIMIT 1 OFFSET ?", (*params, n - 1)
            ).fetchone()
        return row[0] if row is not None else None

    def add_failure(self, fingerprint: str, address: str, at: float) -> None:
        """A refused authentication: ``fingerprint`` is the certificate's ("" when it could
        not be parsed), ``address`` the client's."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO auth_failures (fingerprint, address, at) VALUES (?, ?, ?)",
                (fingerprint, address, at),
            )

    def purge(
        self,
        now: float,
        failure_window: float,
        challenge_window: float,
        insi_answer_ttl: float = 3600.0,
    ) -> dict[str, int]:
        """Delete expired challenges (once out of the per-address challenge window too),
        expired sessions, failures out of the failure window and INSi answers too old for
        the creation gate; return the counts. Safe to run from several processes at once
        (they take turns)."""
        with self.db.transaction() as conn:
            conn.lock("proclient-purge")
            deleted = {
                "challenges": conn.execute(
                    "DELETE FROM challenges WHERE expires_at < ? AND created_at <= ?",
                    (now, now - challenge_window),
                ).rowcount,
                "sessions": conn.execute(
                    "DELETE FROM sessions WHERE expires_at < ?", (now,)
                ).rowcount,
                "auth_failures": conn.execute(
                    "DELETE FROM auth_failures WHERE at <= ?", (now - failure_window,)
                ).rowcount,
                "insi_answers": register.purge_answers(conn, now - insi_answer_ttl),
                # e-CPS (server/ecps_store.py): requests stay an hour for the start limits.
                "ecps_requests": conn.execute(
                    "DELETE FROM ecps_requests WHERE expires_at < ? AND created_at <= ?",
                    (now, now - ECPS_REQUEST_KEPT),
                ).rowcount,
                "ecps_sessions": conn.execute(
                    "DELETE FROM ecps_sessions WHERE expires_at < ?", (now,)
                ).rowcount,
            }
        return deleted

    def add_session(self, token_hash: str, id_nat: str, professional: dict, expires_at: float):
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO sessions (token_hash, id_nat, professional, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (token_hash, id_nat, json.dumps(professional), expires_at),
            )
