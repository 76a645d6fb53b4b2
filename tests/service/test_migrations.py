"""Schema migrations: a database of the first release (version 1, no schema_version table)
is upgraded in place and keeps its DMPs, consents and idempotency records."""

from __future__ import annotations

import uuid

from proclient.domain import Action, Professional
from proclient.server.database import MIGRATIONS, SCHEMA_VERSION, _statements, open_database
from proclient.server.operations import DmpOperations
from proclient.server.schemas import CreationIn
from proclient.server.settings import ServerSettings
from proclient.server.storage import DmpRow, Storage
from proclient.service.client import creation_body

from .helpers import LE_GOFF, creation

PHARMACIST = Professional("899700024450", "MARTIN", "Claire", "21", "Pharmacie de la Gare")


class Release1Storage(Storage):
    """The DMP lookups and insert as release 1 wrote them (no ``person_key``, migration 4):
    the rest of the operations only use version-1 columns."""

    def find_dmp(self, conn, ins, id_nat):
        row = conn.execute(
            "SELECT d.dmp_id, d.status, w.login IS NOT NULL, a.status FROM dmps d "
            "LEFT JOIN web_accounts w ON w.dmp_id = d.dmp_id "
            "LEFT JOIN authorizations a ON a.dmp_id = d.dmp_id AND a.id_nat = ? "
            "WHERE d.ins_value = ? AND d.ins_oid = ?",
            (id_nat, ins.value, ins.oid),
        ).fetchone()
        return DmpRow(row[0], row[1], bool(row[2]), row[3]) if row else None

    def insert_dmp(self, conn, dmp_id, ins, identity, consent, representative, at):
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
