"""The DMP service's store: challenges, sessions, DMPs, web accounts, consents,
authorisations, idempotency records, failed authentications and the audit trail.

SQLite or PostgreSQL (see database.py for how each serialises writers). The store never holds
a session token (only its SHA-256), a patient's initial password (only a scrypt hash), nor an
answer carrying one (idempotency records keep the answer without the password).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from proclient.domain import Ins
from proclient.server.database import Conn, Database, open_database

# Unambiguous characters for ids read aloud or typed (no O/0, I/1/l).
ID_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class DmpRow:
    dmp_id: str
    status: str
    web_access: bool
    authorization: str | None


@dataclass(frozen=True)
class IdempotentRecord:
    request_hash: str
    status_code: int
    response: dict


class Storage:
    """Access to the service's database (a SQLite path or a database URL)."""

    def __init__(
        self, database: str | Path | Database, pseudonym_secret: bytes | None = None
    ) -> None:
        self.db = database if isinstance(database, Database) else open_database(database)
        self._secret = pseudonym_secret

    @property
    def path(self) -> Path:
        """The SQLite file (SQLite only)."""
        return self.db.path  # type: ignore[attr-defined]

    # --- connections ------------------------------------------------------------------------

    def initialize(self) -> int:
        """Create or upgrade the schema and the pseudonym secret; return the schema version
        found before (0 for a new database)."""
        found = self.db.migrate()
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO meta (name, value) VALUES ('pseudonym_secret', ?) "
                "ON CONFLICT (name) DO NOTHING",
                (secrets.token_bytes(32),),
            )
            if self._secret is None:
                row = conn.execute("SELECT value FROM meta WHERE name = 'pseudonym_secret'")
                self._secret = bytes(row.fetchone()[0])
        return found

    def read(self):
        return self.db.read()

    def transaction(self):
        """A write transaction: committed on success, rolled back on any exception."""
        return self.db.transaction()

    def close(self) -> None:
        self.db.close()

    # --- pseudonyms -------------------------------------------------------------------------

    def _mac(self, data: bytes) -> str:
        assert self._secret is not None, "Storage.initialize() first"
        return hmac.new(self._secret, data, hashlib.sha256).hexdigest()

    def patient_ref(self, ins: Ins) -> str:
        """The pseudonymous name of a patient in the audit trail and the logs."""
        return self._mac(f"patient|{ins.oid}|{ins.value}".encode())[:32]

    def request_hash(self, path: str, payload: dict) -> str:
        """A keyed hash of a request, so that idempotency records reveal nothing."""
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return self._mac(f"request|{path}|{canonical}".encode())

    # --- challenges and sessions ------------------------------------------------------------

    def add_challenge(self, challenge_id: str, nonce: bytes, expires_at: float, now: float) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM challenges WHERE expires_at < ?", (now - 3600,))
            conn.execute("DELETE FROM sessions WHERE expires_at < ?", (now - 3600,))
            conn.execute(
                "INSERT INTO challenges (id, nonce, expires_at) VALUES (?, ?, ?)",
                (challenge_id, nonce, expires_at),
            )

    def consume_challenge(self, challenge_id: str, now: float) -> tuple[bytes, float] | str:
        """Mark a challenge used and return (nonce, expires_at), or the refusal code."""
        with self.transaction() as conn:
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

    def count_failures(self, fingerprint: str, since: float) -> tuple[int, float | None]:
        """How many failures for ``fingerprint`` since ``since``, and the oldest one's time."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT COUNT(*), MIN(at) FROM auth_failures WHERE fingerprint = ? AND at > ?",
                (fingerprint, since),
            ).fetchone()
        return int(row[0]), row[1]

    def add_failure(self, fingerprint: str, at: float) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM auth_failures WHERE at < ?", (at - 3600,))
            conn.execute(
                "INSERT INTO auth_failures (fingerprint, at) VALUES (?, ?)", (fingerprint, at)
            )

    def add_session(self, token_hash: str, id_nat: str, professional: dict, expires_at: float):
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO sessions (token_hash, id_nat, professional, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (token_hash, id_nat, json.dumps(professional), expires_at),
            )

    def find_session(self, token_hash: str) -> tuple[dict, float] | None:
        with self.read() as conn:
            row = conn.execute(
                "SELECT professional, expires_at FROM sessions WHERE token_hash = ?",
                (token_hash,),
            ).fetchone()
        return (json.loads(row[0]), row[1]) if row else None

    # --- DMPs -------------------------------------------------------------------------------

    def find_dmp(self, conn: Conn, ins: Ins, id_nat: str) -> DmpRow | None:
        row = conn.execute(
            "SELECT d.dmp_id, d.status, w.login IS NOT NULL, a.status FROM dmps d "
            "LEFT JOIN web_accounts w ON w.dmp_id = d.dmp_id "
            "LEFT JOIN authorizations a ON a.dmp_id = d.dmp_id AND a.id_nat = ? "
            "WHERE d.ins_value = ? AND d.ins_oid = ?",
            (id_nat, ins.value, ins.oid),
        ).fetchone()
        return DmpRow(row[0], row[1], bool(row[2]), row[3]) if row else None

    def lock_patient(self, conn: Conn, ins: Ins) -> None:
        """Serialise writes about one patient until the transaction ends (PostgreSQL)."""
        conn.lock(f"patient|{ins.oid}|{ins.value}")

    def lock_key(self, conn: Conn, id_nat: str, key: str) -> None:
        """Serialise requests under one idempotency key until the transaction ends."""
        conn.lock(f"idempotency|{id_nat}|{key}")

    def new_id(self, conn: Conn, table: str, column: str, make) -> str:
        """An id from ``make()`` not yet present (the caller holds the write lock)."""
        while True:
            value = make()
            query = f"SELECT 1 FROM {table} WHERE {column} = ?"  # noqa: S608 (fixed names)
            if conn.execute(query, (value,)).fetchone() is None:
                return value

    def insert_dmp(
        self,
        conn: Conn,
        dmp_id: str,
        ins: Ins,
        identity: dict,
        consent: dict,
        representative: dict | None,
        at: str,
    ) -> None:
        conn.execute(
            "INSERT INTO dmps (dmp_id, ins_value, ins_oid, last_name, first_name, birth_date, "
            "sex, status, consent_creation, samu_access, break_glass_access, "
            "legal_representative, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?)",
            (
                dmp_id,
                ins.value,
                ins.oid,
                identity["last_name"],
                identity["first_name"],
                identity["birth_date"],
                identity.get("sex"),
                int(consent["creation"]),
                int(consent["samu_access"]),
                int(consent["break_glass_access"]),
                json.dumps(representative) if representative else None,
                at,
                at,
            ),
        )

    def update_dmp(
        self,
        conn: Conn,
        dmp_id: str,
        status: str,
        consent: dict | None,
        representative: dict | None,
        at: str,
    ) -> None:
        conn.execute(
            "UPDATE dmps SET status = ?, updated_at = ? WHERE dmp_id = ?", (status, at, dmp_id)
        )
        if consent is not None:
            conn.execute(
                "UPDATE dmps SET consent_creation = ?, samu_access = ?, break_glass_access = ?, "
                "legal_representative = ? WHERE dmp_id = ?",
                (
                    int(consent["creation"]),
                    int(consent["samu_access"]),
                    int(consent["break_glass_access"]),
                    json.dumps(representative) if representative else None,
                    dmp_id,
                ),
            )

    def record_consent(
        self, conn: Conn, dmp_id: str, id_nat: str, action: str, consent: dict, at: str
    ) -> None:
        conn.execute(
            "INSERT INTO consents (dmp_id, at, id_nat, action, creation, samu_access, "
            "break_glass_access) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                dmp_id,
                at,
                id_nat,
                action,
                int(consent["creation"]),
                int(consent["samu_access"]),
                int(consent["break_glass_access"]),
            ),
        )

    def authorize(self, conn: Conn, dmp_id: str, id_nat: str, at: str) -> None:
        conn.execute(
            "INSERT INTO authorizations (dmp_id, id_nat, status, updated_at) "
            "VALUES (?, ?, 'VALIDE', ?) ON CONFLICT (dmp_id, id_nat) "
            "DO UPDATE SET status = 'VALIDE', updated_at = excluded.updated_at",
            (dmp_id, id_nat, at),
        )

    def add_web_account(
        self,
        conn: Conn,
        dmp_id: str,
        login: str,
        password_hash: str,
        email: str | None,
        mobile: str | None,
        at: str,
    ) -> None:
        conn.execute(
            "INSERT INTO web_accounts (dmp_id, login, password_hash, email, mobile, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (dmp_id, login, password_hash, email, mobile, at),
        )

    def audit(
        self,
        conn: Conn,
        at: str,
        id_nat: str,
        action: str,
        patient_ref: str | None = None,
        dmp_id: str | None = None,
    ) -> None:
        conn.execute(
            "INSERT INTO audit (at, id_nat, action, patient_ref, dmp_id) VALUES (?, ?, ?, ?, ?)",
            (at, id_nat, action, patient_ref, dmp_id),
        )

    # --- idempotency ------------------------------------------------------------------------

    def find_idempotent(self, conn: Conn, id_nat: str, key: str) -> IdempotentRecord | None:
        row = conn.execute(
            "SELECT request_hash, status_code, response FROM idempotency "
            "WHERE id_nat = ? AND key = ?",
            (id_nat, key),
        ).fetchone()
        return IdempotentRecord(row[0], row[1], json.loads(row[2])) if row else None

    def save_idempotent(
        self,
        conn: Conn,
        id_nat: str,
        key: str,
        request_hash: str,
        status_code: int,
        response: dict,
        at: str,
    ) -> None:
        conn.execute(
            "INSERT INTO idempotency (id_nat, key, request_hash, status_code, response, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (id_nat, key, request_hash, status_code, json.dumps(response), at),
        )

    # --- seeding (demo and tests; no HTTP route) ---------------------------------------------

    def seed_dmp(self, ins: Ins, identity: dict, status: str) -> str:
        """Give a patient a DMP in ``status`` ("active" or "closed"), creating it if needed.
        Idempotent: the DMP keeps its id, only its status is set."""
        at = datetime.now(UTC).isoformat(timespec="seconds")
        consent = {"creation": True, "samu_access": True, "break_glass_access": True}
        with self.transaction() as conn:
            self.lock_patient(conn, ins)
            existing = self.find_dmp(conn, ins, "")
            if existing is None:
                dmp_id = self.new_id(conn, "dmps", "dmp_id", new_dmp_id)
                self.insert_dmp(conn, dmp_id, ins, identity, consent, None, at)
            else:
                dmp_id = existing.dmp_id
            self.update_dmp(conn, dmp_id, status, None, None, at)
            self.audit(conn, at, "seed", f"seed-{status}", self.patient_ref(ins), dmp_id)
        return dmp_id

    def remove_dmp(self, ins: Ins) -> None:
        """Forget a patient's DMP entirely (demo reset)."""
        with self.transaction() as conn:
            self.lock_patient(conn, ins)
            row = self.find_dmp(conn, ins, "")
            if row is None:
                return
            for table in ("web_accounts", "consents", "authorizations"):
                conn.execute(f"DELETE FROM {table} WHERE dmp_id = ?", (row.dmp_id,))  # noqa: S608
            conn.execute("DELETE FROM dmps WHERE dmp_id = ?", (row.dmp_id,))
            self.audit(
                conn,
                datetime.now(UTC).isoformat(timespec="seconds"),
                "seed",
                "seed-remove",
                self.patient_ref(ins),
                row.dmp_id,
            )


def new_dmp_id() -> str:
    """``DMP-XXXX-XXXX-XXXX``: short enough to read out, 60 bits of randomness."""
    chars = "".join(secrets.choice(ID_ALPHABET) for _ in range(12))
    return f"DMP-{chars[:4]}-{chars[4:8]}-{chars[8:]}"
