"""Schema migrations: a database of the first release (version 1, no schema_version table)
is upgraded in place and keeps its DMPs, consents and idempotency records."""

from __future__ import annotations

import uuid

from proclient.core.domain import Action, Professional
from proclient.server.database import MIGRATIONS, SCHEMA_VERSION, _statements, open_database
from proclient.server.operations import DmpOperations
from proclient.server.schemas import CreationIn
from proclient.server.settings import ServerSettings
from proclient.server.storage import DmpRow, Storage
from proclient.service.client import creation_body

from .helpers import LE_GOFF, creation, identity_of

FLAGS = ("creation", "samu_access", "break_glass_access")
PHARMACIST = Professional("899700024450", "MARTIN", "Claire", "21", "Pharmacie de la Gare")


class Release1Storage(Storage):
    """The DMP lookups, insert, lock, consent and audit as release 1 wrote them (no
    ``person_key``, migration 4; no INSi register nor ``audit.outcome``, migration 5; no
    ``consents.captured_at``, migration 6): the rest of the
    operations only use version-1 columns. Release 1 asked no INSi answer: the gate is told
    LE GOFF's identity was given."""

    def lock_patient(self, conn, ins):
        conn.lock(f"person|{ins.oid}|{ins.value}")

    def recent_insi_identity(self, conn, id_nat, ins, since):
        return identity_of(LE_GOFF)

    def audit(self, conn, at, id_nat, action, patient_ref=None, dmp_id=None, outcome=None):
        conn.execute(
            "INSERT INTO audit (at, id_nat, action, patient_ref, dmp_id) VALUES (?, ?, ?, ?, ?)",
            (at, id_nat, action, patient_ref, dmp_id),
        )

    def record_consent(self, conn, dmp_id, id_nat, action, consent, at, captured_at=None):
        conn.execute(
            "INSERT INTO consents (dmp_id, at, id_nat, action, creation, samu_access, "
            "break_glass_access) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (dmp_id, at, id_nat, action, *(int(consent[flag]) for flag in FLAGS)),
        )

    def find_dmp(self, conn, ins, id_nat):
        row = conn.execute(
            "SELECT d.dmp_id, d.status, w.login IS NOT NULL, a.status FROM dmps d "
            "LEFT JOIN web_accounts w ON w.dmp_id = d.dmp_id "
            "LEFT JOIN authorizations a ON a.dmp_id = d.dmp_id AND a.id_nat = ? "
            "WHERE d.ins_value = ? AND d.ins_oid = ?",
            (id_nat, ins.value, ins.oid),
        ).fetchone()
        return DmpRow(row[0], row[1], bool(row[2]), row[3]) if row else None

    def insert_dmp(self, conn, dmp_id, ins, identity, consent, representative, at, vigilance=None):
        conn.execute(
            "INSERT INTO dmps (dmp_id, ins_value, ins_oid, last_name, first_name, birth_date, "
            "sex, status, consent_creation, samu_access, break_glass_access, "
            "legal_representative, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, NULL, ?, ?)",
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
                at,
                at,
            ),
        )


def make_version_1(url) -> None:
    """The database as the first release left it: its tables, no schema_version."""
    database = open_database(url)
    try:
        with database.transaction() as conn:
            for statement in _statements(MIGRATIONS[0][1], database.dialect):
                conn.execute(statement)
    finally:
        database.close()


def test_upgrade_from_version_1_keeps_the_data(database_url):
    url = database_url()
    make_version_1(url)
    old = Release1Storage(url)
    old._secret = b"s" * 32  # the release-1 code wrote this row itself
    with old.transaction() as conn:
        conn.execute("INSERT INTO meta (name, value) VALUES ('pseudonym_secret', ?)", (b"s" * 32,))
    settings = ServerSettings(database=url, trusted_ca_pem=b"")
    body = CreationIn.model_validate(creation_body(creation()))
    key = str(uuid.uuid4())
    # A creation written with release-1 tables (operations only use version-1 columns).
    first = DmpOperations(settings, old).write_dmp(PHARMACIST, key, body, Action.CREATION)
    old.close()

    upgraded = Storage(url)
    try:
        assert upgraded.initialize() == 1
        with upgraded.read() as conn:
            versions = [
                row[0]
                for row in conn.execute(
                    "SELECT version FROM schema_version ORDER BY version"
                ).fetchall()
            ]
            assert conn.execute("SELECT COUNT(*) FROM auth_failures").fetchone()[0] == 0
            dmp = upgraded.find_dmp(conn, LE_GOFF.ins, PHARMACIST.id_nat)
            consents = conn.execute("SELECT action FROM consents").fetchall()
        assert versions == list(range(1, SCHEMA_VERSION + 1))
        assert dmp is not None and dmp.dmp_id == first.body["dmp_id"]
        assert dmp.authorization == "VALIDE"
        assert consents == [("creation",)]
        # The pseudonym secret survived: the same request hashes alike, so it replays.
        again = DmpOperations(settings, upgraded).write_dmp(PHARMACIST, key, body, Action.CREATION)
        assert again.replayed and again.body["dmp_id"] == first.body["dmp_id"]
        assert upgraded.initialize() == SCHEMA_VERSION  # nothing left to do
    finally:
        upgraded.close()


def test_new_database_starts_at_the_latest_version(database_url):
    storage = Storage(database_url())
    try:
        assert storage.initialize() == 0
        with storage.read() as conn:
            latest = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
        assert latest == SCHEMA_VERSION >= 2
    finally:
        storage.close()


def test_upgrade_to_version_5_keeps_dmps_without_an_identity_status(database_url, monkeypatch):
    """A database at version 4 gets the INSi register, the answers, ``audit.outcome`` and the
    DMPs' identity status; DMPs and audit lines from before keep NULL there (not invented)."""
    import proclient.server.database as database

    url = database_url()
    monkeypatch.setattr(database, "MIGRATIONS", tuple(m for m in MIGRATIONS if m[0] < 5))
    old = Storage(url)
    try:
        old.db.migrate()
        with old.transaction() as conn:
            conn.execute(
                "INSERT INTO dmps (dmp_id, ins_value, ins_oid, person_key, last_name, "
                "first_name, birth_date, sex, status, consent_creation, samu_access, "
                "break_glass_access, created_at, updated_at) VALUES ('DMP-A', ?, ?, ?, "
                "'LE GOFF', 'Gérard', '19520314', 'M', 'active', 1, 1, 1, 'x', 'x')",
                (LE_GOFF.ins.value, LE_GOFF.ins.oid, f"test:{LE_GOFF.ins.value}"),
            )
            conn.execute(
                "INSERT INTO audit (at, id_nat, action, patient_ref, dmp_id) "
                "VALUES ('x', ?, 'creation', 'ref', 'DMP-A')",
                (PHARMACIST.id_nat,),
            )
    finally:
        old.close()
    monkeypatch.undo()

    upgraded = Storage(url)
    try:
        assert upgraded.initialize() == 4
        with upgraded.read() as conn:
            dmp = conn.execute("SELECT identity_status, identity_document FROM dmps").fetchone()
            audit = conn.execute("SELECT action, outcome FROM audit").fetchone()
            empty = [
                conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608
                for table in ("insi_identities", "insi_history", "insi_answers")
            ]
            found = upgraded.find_dmp(conn, LE_GOFF.ins, "")
        assert tuple(dmp) == (None, None)
        assert tuple(audit) == ("creation", None)
        assert empty == [0, 0, 0]
        assert found is not None and found.dmp_id == "DMP-A"  # outside the register: its INS
    finally:
        upgraded.close()
