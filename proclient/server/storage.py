"""The DMP service's store: challenges, sessions, DMPs, web accounts, consents,
authorisations, idempotency records, failed authentications and the audit trail; the INSi
register and the answers it gave are server/register.py's, on the same database.

SQLite or PostgreSQL (see database.py for how each serialises writers). The store never holds
a session token (only its SHA-256), a patient's initial password (only a scrypt hash), nor an
answer carrying one (idempotency records keep the answer without the password).

Nor does it hold the pseudonymisation key (the HMAC key naming patients in the audit trail):
that lives in a file (server/pseudonym_key.py), so that a copy of the database alone links no
audit line to a patient. The database keeps only a check value of the key (an HMAC under it),
so that a service started with another key, or without its file, refuses to start instead of
writing references that match nothing. A database from before the key file held the key
itself in ``meta``: it is read once to write the file, then deleted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from proclient.core.domain import DomainError, Ins, person_key
from proclient.core.i18n import _
from proclient.server import register_reads
from proclient.server.auth_store import AuthStore
from proclient.server.database import Conn, Database, open_database
from proclient.server.journal import JOURNAL_MAC_PURPOSE, Journal
from proclient.server.register import RegisterIdentity

# Unambiguous characters for ids read aloud or typed (no O/0, I/1/l).
ID_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

# meta rows: the key itself as releases before the key file kept it, and the key's check value.
LEGACY_SECRET = "pseudonym_secret"
KEY_CHECK = "pseudonym_key_check"


def pseudonym_key_check(key: bytes) -> bytes:
    """What the database keeps to recognise its pseudonymisation key (never the key)."""
    return hmac.new(key, b"proclient pseudonym key check", hashlib.sha256).digest()


class PseudonymKeyError(DomainError):
    """The pseudonymisation key given does not belong to this database, or none was given for
    a database that has one."""

    def __init__(self, message: str) -> None:
        super().__init__("SERVER_CONFIG", message)


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


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A 32-byte key for ``purpose`` derived (HKDF-SHA256) from ``secret``."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
    return hkdf.derive(secret)


class Storage:
    """Access to the service's database (a SQLite path or a database URL)."""

    def __init__(
        self, database: str | Path | Database, pseudonym_secret: bytes | None = None
    ) -> None:
        self.db = database if isinstance(database, Database) else open_database(database)
        self._secret = pseudonym_secret
        self.auth = AuthStore(self.db)
        """Challenges, sessions and refused authentications (server/auth_store.py)."""
        self.journal = Journal()  # the audit trail's chain and signed heads (server/journal.py)
        self._people = register_reads.PersonKeys()  # those of the transaction under way

    @property
    def path(self) -> Path:
        """The SQLite file (SQLite only)."""
        return self.db.path  # type: ignore[attr-defined]

    # --- connections ------------------------------------------------------------------------

    def initialize(self) -> int:
        """:meth:`_initialize`, then the journal's MAC key: every store's lines chain."""
        found = self._initialize()
        self.journal.mac_key = self.journal.mac_key or self.derived_key(JOURNAL_MAC_PURPOSE)
        return found

    def _initialize(self) -> int:
        """Create or upgrade the schema and check the pseudonymisation key; return the schema
        version found before (0 for a new database).

        With a key: a key left in ``meta`` by an older release must be this one (then it is
        deleted), and so must the database's check value (written on first use). Without
        one (tests, throw-away stores): the key an older release left in ``meta`` when there
        is one (read, never written), else a random key kept in memory only; a database that
        has a check value refuses, as its audit references need its key."""
        found = self.db.migrate()
        removed = False
        with self.db.transaction() as conn:
            conn.lock("proclient-pseudonym-key")
            legacy, check = self._meta(conn, LEGACY_SECRET), self._meta(conn, KEY_CHECK)
            if self._secret is None:
                if check is not None:
                    raise PseudonymKeyError(
                        _(
                            "Cette base du service DMP a une clé de pseudonymisation, qui n'a "
                            "pas été fournie : démarrez le service avec son fichier de clé."
                        )
                    )
                self._secret = legacy if legacy is not None else secrets.token_bytes(32)
                return found
            if (legacy is not None and not hmac.compare_digest(legacy, self._secret)) or (
                check is not None
                and not hmac.compare_digest(check, pseudonym_key_check(self._secret))
            ):
                raise PseudonymKeyError(
                    _(
                        "La clé de pseudonymisation fournie n'est pas celle de cette base du "
                        "service DMP : reprenez le fichier de clé qui a servi avec cette base."
                    )
                )
            if check is None:
                conn.execute(
                    "INSERT INTO meta (name, value) VALUES (?, ?)",
                    (KEY_CHECK, pseudonym_key_check(self._secret)),
                )
            if legacy is not None:
                self._delete_legacy_secret(conn)
                removed = True
        if removed and self.db.dialect == "sqlite":
            # The deleted row's old page images stay in the WAL until a checkpoint.
            with self.read() as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return found

    @staticmethod
    def _meta(conn: Conn, name: str) -> bytes | None:
        row = conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return bytes(row[0]) if row is not None else None

    def _delete_legacy_secret(self, conn: Conn) -> None:
        if conn.dialect != "sqlite":
            conn.execute("DELETE FROM meta WHERE name = ?", (LEGACY_SECRET,))
            return
        # Zero the deleted bytes in the file, not only unlink the row (many builds do by
        # default, not all); then put the connection's setting back.
        previous = int(conn.execute("PRAGMA secure_delete").fetchone()[0])
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("DELETE FROM meta WHERE name = ?", (LEGACY_SECRET,))
        conn.execute(f"PRAGMA secure_delete = {previous}")

    def pseudonym_state(self) -> tuple[bytes | None, bytes | None]:
        """(the key an older release left in ``meta``, the key's check value), each or None;
        the schema is created or upgraded first."""
        self.db.migrate()
        with self.read() as conn:
            return self._meta(conn, LEGACY_SECRET), self._meta(conn, KEY_CHECK)

    def read(self):
        return self.db.read()

    def transaction(self) -> AbstractContextManager[Conn]:
        """A write transaction: committed on success, rolled back on any exception."""
        return self._people.transaction(self.db.transaction())

    def close(self) -> None:
        self.db.close()

    # --- pseudonyms -------------------------------------------------------------------------

    def _mac(self, data: bytes) -> str:
        assert self._secret is not None, "Storage.initialize() first"
        return hmac.new(self._secret, data, hashlib.sha256).hexdigest()

    def derived_key(self, purpose: str) -> bytes:
        """A 32-byte key for ``purpose`` derived (HKDF-SHA256) from the pseudonymisation key:
        what seals PSC's tokens at rest (server/ecps_store.py), kept like it, off the database."""
        assert self._secret is not None, "Storage.initialize() first"
        return derive_key(self._secret, purpose)

    def keyed_ref(self, purpose: str, value: str) -> str:
        """A keyed hash naming ``value`` (a national id) without revealing it."""
        return self._mac(f"{purpose}|{value}".encode())

    def patient_ref(self, ins: Ins) -> str:
        """The pseudonymous name of a patient in the audit trail and the logs."""
        return self._mac(f"patient|{ins.oid}|{ins.value}".encode())[:32]

    def request_hash(self, path: str, payload: dict) -> str:
        """A keyed hash of a request, so that idempotency records reveal nothing."""
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return self._mac(f"request|{path}|{canonical}".encode())

    # --- DMPs -------------------------------------------------------------------------------

    def person_keys(self, conn: Conn, ins: Ins) -> tuple[str, ...]:
        """Every person key of the person ``ins`` names, the canonical one first: across OIDs
        (domain.person_key: NIR and NIA are one person, TEST and DEMO one test person) and,
        for a person in the INSi register, across their INS history (active INS and earlier
        matricules are one person: server/register.py). Read once per write transaction."""
        return self._people.of(conn, ins)

    def find_dmp(self, conn: Conn, ins: Ins, id_nat: str) -> DmpRow | None:
        """The person's DMP whichever of their INS ``ins`` is (:meth:`person_keys`): a DMP
        created under an earlier matricule is found by the active INS, and the other way
        round. Should a person have several (created before the register linked their
        matricules), the active one, then the oldest."""
        keys = self.person_keys(conn, ins)
        marks = ", ".join("?" for _ in keys)
        row = conn.execute(
            "SELECT d.dmp_id, d.status, w.login IS NOT NULL, a.status FROM dmps d "
            "LEFT JOIN web_accounts w ON w.dmp_id = d.dmp_id "
            "LEFT JOIN authorizations a ON a.dmp_id = d.dmp_id AND a.id_nat = ? "
            f"WHERE d.person_key IN ({marks}) "  # noqa: S608 (placeholders only)
            "ORDER BY CASE WHEN d.status = 'active' THEN 0 ELSE 1 END, d.created_at, d.dmp_id "
            "LIMIT 1",
            (id_nat, *keys),
        ).fetchone()
        return DmpRow(row[0], row[1], bool(row[2]), row[3]) if row else None

    def lock_patient(self, conn: Conn, ins: Ins) -> None:
        """Serialise writes about one person (every OID and every matricule of theirs: one
        canonical key, :meth:`person_keys`) until the transaction ends (PostgreSQL); the
        unique index on ``dmps.person_key`` stands behind it."""
        conn.lock(f"person|{self.person_keys(conn, ins)[0]}")

    def recent_insi_identity(
        self, conn: Conn, id_nat: str, ins: Ins, since: float
    ) -> RegisterIdentity | None:
        """The identity INSi gave the professional ``id_nat`` for ``ins`` at ``since`` or
        later (register_reads.recent_answer), or None; its person keys are then known."""
        return self._people.remember(conn, register_reads.recent_answer(conn, id_nat, ins, since))

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
        vigilance: tuple[str, str] | None = None,
    ) -> None:
        """A new active DMP; ``vigilance``: the identity's RNIV status and the document seen
        (None for a seeded DMP)."""
        status, document = vigilance or (None, None)
        conn.execute(
            "INSERT INTO dmps (dmp_id, ins_value, ins_oid, person_key, last_name, first_name, "
            "birth_date, sex, status, consent_creation, samu_access, break_glass_access, "
            "legal_representative, created_at, updated_at, identity_status, "
            "identity_document) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                dmp_id,
                ins.value,
                ins.oid,
                person_key(ins),
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
                status,
                document,
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
        vigilance: tuple[str, str] | None = None,
    ) -> None:
        """Set the DMP's status; with ``consent`` (a reactivation), the consent and the legal
        representative given again; with ``vigilance``, the identity's RNIV status and the
        document seen."""
        conn.execute(
            "UPDATE dmps SET status = ?, updated_at = ? WHERE dmp_id = ?", (status, at, dmp_id)
        )
        if vigilance is not None:
            conn.execute(
                "UPDATE dmps SET identity_status = ?, identity_document = ? WHERE dmp_id = ?",
                (*vigilance, dmp_id),
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
        self,
        conn: Conn,
        dmp_id: str,
        id_nat: str,
        action: str,
        consent: dict,
        at: str,
        captured_at: str | None = None,
    ) -> None:
        """The consent given for a creation or reactivation, recorded at ``at``;
        ``captured_at``: when the patient gave it, for a consent captured offline (the signed
        record's time), None for one given live."""
        conn.execute(
            "INSERT INTO consents (dmp_id, at, id_nat, action, creation, samu_access, "
            "break_glass_access, captured_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                dmp_id,
                at,
                id_nat,
                action,
                int(consent["creation"]),
                int(consent["samu_access"]),
                int(consent["break_glass_access"]),
                captured_at,
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

    def replace_password(self, conn: Conn, dmp_id: str, password_hash: str) -> str | None:
        """Put a new initial password's hash on the DMP's web account (the old password is
        void from the commit on); the account's login, or None when the DMP has none. When
        it happened is the audit trail's (``web_access_reissue``)."""
        row = conn.execute(
            "UPDATE web_accounts SET password_hash = ? WHERE dmp_id = ? RETURNING login",
            (password_hash, dmp_id),
        ).fetchone()
        return row[0] if row is not None else None

    def audit(
        self,
        conn: Conn,
        at: str,
        id_nat: str,
        action: str,
        patient_ref: str | None = None,
        dmp_id: str | None = None,
        outcome: str | None = None,
    ) -> None:
        """One line of the audit trail: who, when, what, about whom (the pseudonymous
        reference), which DMP, and the answer given (``outcome``: an INSi answer code;
        ``offline`` for a creation or reactivation captured offline). Written with its MAC in
        this transaction; the journal's sealer chains it a moment later (server/journal.py)."""
        fields = dict(at=at, id_nat=id_nat, action=action, patient_ref=patient_ref)
        self.journal.append(conn, {**fields, "dmp_id": dmp_id, "outcome": outcome})

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


@contextmanager
def pipelined(conn: Conn) -> Iterator[None]:
    """PostgreSQL: inside the block, a statement whose rows are not read goes to the server
    without waiting for the answer of the one before (psycopg's pipeline mode); reading rows,
    and the block's end, wait for every answer before. The server runs them in order (a lock
    is still taken before what follows it) and an error surfaces at that wait, inside the
    transaction, which rolls back. A creation's writes then cost one round trip, not one
    each. SQLite: nothing to do."""
    if conn.dialect != "postgresql":
        yield
        return
    with conn.raw.pipeline():
        yield


def new_dmp_id() -> str:
    """``DMP-XXXX-XXXX-XXXX``: short enough to read out, 60 bits of randomness."""
    chars = "".join(secrets.choice(ID_ALPHABET) for _ in range(12))
    return f"DMP-{chars[:4]}-{chars[4:8]}-{chars[8:]}"
