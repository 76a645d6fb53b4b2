"""The DMP service's SQLite store: challenges, sessions, DMPs, web accounts, consents,
authorisations, idempotency records and the audit trail.

One connection per unit of work, WAL journal and ``synchronous=FULL``; writes run inside
``BEGIN IMMEDIATE`` so concurrent requests are serialised by SQLite itself. The file is
created readable by its owner only: it holds NIRs and names. It never holds a session token
(only its SHA-256), a patient's initial password (only a scrypt hash), nor an answer carrying
one (idempotency records keep the answer without the password).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from proclient.domain import Ins

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS challenges (
    id TEXT PRIMARY KEY, nonce BLOB NOT NULL, expires_at REAL NOT NULL, used_at REAL);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY, id_nat TEXT NOT NULL, professional TEXT NOT NULL,
    expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS dmps (
    dmp_id TEXT PRIMARY KEY,
    ins_value TEXT NOT NULL, ins_oid TEXT NOT NULL,
    last_name TEXT NOT NULL, first_name TEXT NOT NULL, birth_date TEXT NOT NULL, sex TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'closed')),
    consent_creation INTEGER NOT NULL, samu_access INTEGER NOT NULL,
    break_glass_access INTEGER NOT NULL,
    legal_representative TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    UNIQUE (ins_value, ins_oid));
CREATE TABLE IF NOT EXISTS web_accounts (
    dmp_id TEXT PRIMARY KEY REFERENCES dmps (dmp_id), login TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL, email TEXT, mobile TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS consents (
    id INTEGER PRIMARY KEY AUTOINCREMENT, dmp_id TEXT NOT NULL REFERENCES dmps (dmp_id),
    at TEXT NOT NULL, id_nat TEXT NOT NULL, action TEXT NOT NULL,
    creation INTEGER NOT NULL, samu_access INTEGER NOT NULL, break_glass_access INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS authorizations (
    dmp_id TEXT NOT NULL REFERENCES dmps (dmp_id), id_nat TEXT NOT NULL,
    status TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (dmp_id, id_nat));
CREATE TABLE IF NOT EXISTS idempotency (
    id_nat TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,
    status_code INTEGER NOT NULL, response TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (id_nat, key));
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, id_nat TEXT NOT NULL,
    action TEXT NOT NULL, patient_ref TEXT, dmp_id TEXT);
"""

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
    """Access to the service's SQLite file."""

    def __init__(self, path: Path, pseudonym_secret: bytes | None = None) -> None:
        self.path = Path(path)
        self._secret = pseudonym_secret

    # --- connections ------------------------------------------------------------------------

    def initialize(self) -> None:
        """Create the file (mode 600), the schema and the pseudonym secret, once."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            conn.execute(
                "INSERT OR IGNORE INTO meta (name, value) VALUES ('pseudonym_secret', ?)",
                (secrets.token_bytes(32),),
            )
            if self._secret is None:
                row = conn.execute("SELECT value FROM meta WHERE name = 'pseudonym_secret'")
                self._secret = bytes(row.fetchone()[0])

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on any exception."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

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
            row = conn.execute(
                "SELECT nonce, expires_at, used_at FROM challenges WHERE id = ?", (challenge_id,)
            ).fetchone()
            if row is None:
                return "AUTH_CHALLENGE_UNKNOWN"
            if row[2] is not None:
                return "AUTH_CHALLENGE_USED"
            conn.execute("UPDATE challenges SET used_at = ? WHERE id = ?", (now, challenge_id))
            return bytes(row[0]), row[1]

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

    def find_dmp(self, conn: sqlite3.Connection, ins: Ins, id_nat: str) -> DmpRow | None:
        row = conn.execute(
            "SELECT d.dmp_id, d.status, w.login IS NOT NULL, a.status FROM dmps d "
            "LEFT JOIN web_accounts w ON w.dmp_id = d.dmp_id "
            "LEFT JOIN authorizations a ON a.dmp_id = d.dmp_id AND a.id_nat = ? "
            "WHERE d.ins_value = ? AND d.ins_oid = ?",
            (id_nat, ins.value, ins.oid),
        ).fetchone()
        return DmpRow(row[0], row[1], bool(row[2]), row[3]) if row else None

    def new_id(self, conn: sqlite3.Connection, table: str, column: str, make) -> str:
        """An id from ``make()`` not yet present (the caller holds the write lock)."""
        while True:
            value = make()
            query = f"SELECT 1 FROM {table} WHERE {column} = ?"  # noqa: S608 (fixed names)
            if conn.execute(query, (value,)).fetchone() is None:
                return value

    def insert_dmp(self, conn: sqlite3.Connection, dmp_id: str, ins: Ins, identity: dict,
                   consent: dict, representative: dict | None, at: str) -> None:
        conn.execute(
            "INSERT INTO dmps (dmp_id, ins_value, ins_oid, last_name, first_name, birth_date, "
            "sex, status, consent_creation, samu_access, break_glass_access, "
            "legal_representative, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?)",
            (dmp_id, ins.value, ins.oid, identity["last_name"], identity["first_name"],
             identity["birth_date"], identity.get("sex"), consent["creation"],
             consent["samu_access"], consent["break_glass_access"],
             json.dumps(representative) if representative else None, at, at),
        )

    def update_dmp(self, conn: sqlite3.Connection, dmp_id: str, status: str,
                   consent: dict | None, representative: dict | None, at: str) -> None:
        conn.execute("UPDATE dmps SET status = ?, updated_at = ? WHERE dmp_id = ?",
                     (status, at, dmp_id))
        if consent is not None:
            conn.execute(
                "UPDATE dmps SET consent_creation = ?, samu_access = ?, break_glass_access = ?, "
                "legal_representative = ? WHERE dmp_id = ?",
                (consent["creation"], consent["samu_access"], consent["break_glass_access"],
                 json.dumps(representative) if representative else None, dmp_id),
            )

    def record_consent(self, conn: sqlite3.Connection, dmp_id: str, id_nat: str, action: str,
                       consent: dict, at: str) -> None:
        conn.execute(
            "INSERT INTO consents (dmp_id, at, id_nat, action, creation, samu_access, "
            "break_glass_access) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (dmp_id, at, id_nat, action, consent["creation"], consent["samu_access"],
             consent["break_glass_access"]),
        )

    def authorize(self, conn: sqlite3.Connection, dmp_id: str, id_nat: str, at: str) -> None:
        conn.execute(
            "INSERT INTO authorizations (dmp_id, id_nat, status, updated_at) "
            "VALUES (?, ?, 'VALIDE', ?) ON CONFLICT (dmp_id, id_nat) "
            "DO UPDATE SET status = 'VALIDE', updated_at = excluded.updated_at",
            (dmp_id, id_nat, at),
        )

    def add_web_account(self, conn: sqlite3.Connection, dmp_id: str, login: str,
                        password_hash: str, email: str | None, mobile: str | None,
                        at: str) -> None:
        conn.execute(
            "INSERT INTO web_accounts (dmp_id, login, password_hash, email, mobile, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (dmp_id, login, password_hash, email, mobile, at),
        )

    def audit(self, conn: sqlite3.Connection, at: str, id_nat: str, action: str,
              patient_ref: str | None = None, dmp_id: str | None = None) -> None:
        conn.execute(
            "INSERT INTO audit (at, id_nat, action, patient_ref, dmp_id) VALUES (?, ?, ?, ?, ?)",
            (at, id_nat, action, patient_ref, dmp_id),
        )

    # --- idempotency ------------------------------------------------------------------------

    def find_idempotent(self, conn: sqlite3.Connection, id_nat: str, key: str
                        ) -> IdempotentRecord | None:
        row = conn.execute(
            "SELECT request_hash, status_code, response FROM idempotency "
            "WHERE id_nat = ? AND key = ?",
            (id_nat, key),
        ).fetchone()
        return IdempotentRecord(row[0], row[1], json.loads(row[2])) if row else None

    def save_idempotent(self, conn: sqlite3.Connection, id_nat: str, key: str,
                        request_hash: str, status_code: int, response: dict, at: str) -> None:
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
            row = self.find_dmp(conn, ins, "")
            if row is None:
                return
            for table in ("web_accounts", "consents", "authorizations"):
                conn.execute(f"DELETE FROM {table} WHERE dmp_id = ?", (row.dmp_id,))  # noqa: S608
            conn.execute("DELETE FROM dmps WHERE dmp_id = ?", (row.dmp_id,))
            self.audit(conn, datetime.now(UTC).isoformat(timespec="seconds"), "seed",
                       "seed-remove", self.patient_ref(ins), row.dmp_id)


def new_dmp_id() -> str:
    """``DMP-XXXX-XXXX-XXXX``: short enough to read out, 60 bits of randomness."""
    chars = "".join(secrets.choice(ID_ALPHABET) for _ in range(12))
    return f"DMP-{chars[:4]}-{chars[4:8]}-{chars[8:]}"
