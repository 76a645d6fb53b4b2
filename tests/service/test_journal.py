"""The tamper-evident audit journal (server/journal.py, core/proof/journal.py) on SQLite and
PostgreSQL: an untouched journal verifies; each way of changing it is found and the entry
named; several processes make one chain; a kill -9 mid-append leaves a journal that verifies;
migration 8 chains the rows an older release wrote."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from proclient.core.proof.journal import entry_hash
from proclient.server.database import open_database
from proclient.server.journal import IDLE_SEAL, JOURNAL_MAC_PURPOSE, RECENT_APPEND, Journal
from proclient.server.signing_key import DocumentSigner, load_or_create_signer, own_ca
from proclient.server.storage import Storage

ROOT = Path(__file__).resolve().parents[2]
AT = "2026-12-07T10:00:00+00:00"
MAC_KEY = b"k" * 32


def make_storage(database_url, signer: DocumentSigner | None, interval: int = 10) -> Storage:
    storage = Storage(database_url())
    storage.initialize()
    storage.journal = Journal(signer, interval, mac_key=MAC_KEY)
    return storage


def fill(storage: Storage, count: int, seal: bool = True) -> None:
    """``count`` audit lines, a transaction each, chained as the service's sealer would."""
    for number in range(count):
        with storage.transaction() as conn:
            storage.audit(conn, AT, f"pro-{number % 3}", "status", f"ref-{number}", None, None)
    if seal:
        storage.journal.seal(storage.db)


@pytest.fixture
def journal(database_url, document_signer):
    """A journal of 25 entries with heads signed at 10 and 20."""
    storage = make_storage(database_url, document_signer)
    fill(storage, 25)
    yield storage
    storage.close()


def verdict_of(storage: Storage):
    return storage.journal.verify(storage.db)


def sql(storage: Storage, statement: str, params=()) -> None:
    with storage.transaction() as conn:
        conn.execute(statement, params)


def row(storage: Storage, seq: int) -> tuple:
    with storage.read() as conn:
        return tuple(
            conn.execute(
                "SELECT at, id_nat, action, patient_ref, dmp_id, outcome, prev_hash, hash "
                "FROM audit WHERE seq = ?",
                (seq,),
            ).fetchone()
        )


def rehash_from(storage: Storage, first: int) -> None:
    """What an administrator who knows the format does: recompute every hash from ``first``
    on, and the head row, so that the chain links again (only the signed heads can tell)."""
    with storage.transaction() as conn:
        previous = conn.execute("SELECT hash FROM audit WHERE seq = ?", (first - 1,)).fetchone()
        previous = previous[0] if previous else "0" * 64
        rows = conn.execute(
            "SELECT id, seq, at, id_nat, action, patient_ref, dmp_id, outcome FROM audit "
            "WHERE seq >= ? ORDER BY seq",
            (first,),
        ).fetchall()
        for id_, seq, *fields in rows:
            names = ("at", "id_nat", "action", "patient_ref", "dmp_id", "outcome")
            digest = entry_hash(previous, {"seq": seq, **dict(zip(names, fields, strict=True))})
            conn.execute(
                "UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?", (previous, digest, id_)
            )
            previous = digest
        conn.execute(
            "UPDATE audit_chain SET hash = ?, seq = (SELECT MAX(seq) FROM audit)", (previous,)
        )


def renumber(storage: Storage, first: int, shift: int) -> None:
    """seq += shift from ``first`` on, in two steps (the unique index holds at each one)."""
    with storage.transaction() as conn:
        conn.execute("UPDATE audit SET seq = -(seq + ?) WHERE seq >= ?", (shift, first))
        conn.execute("UPDATE audit SET seq = -seq WHERE seq < 0")


def assert_found(verdict, problem: str, entry: int | None) -> None:
    assert verdict.outcome == "altered", verdict
    assert verdict.details["problem"] == problem, verdict
    assert verdict.details["entry"] == entry, verdict
    assert verdict.exit_code == 20


def test_an_untouched_journal_verifies_with_its_signed_heads(journal):
    verdict = verdict_of(journal)
    assert verdict.outcome == "valid", verdict
    assert verdict.details == {"entries": 25, "signed_up_to": 20, "unsigned_tail": 5}
    with journal.read() as conn:
        assert [head.seq for head in journal.journal.heads(conn)] == [10, 20]
    assert journal.journal.sign_head(journal.db).seq == 25  # at shutdown
    assert journal.journal.sign_head(journal.db) is None  # nothing new since
    assert verdict_of(journal).details["unsigned_tail"] == 0


def test_an_edited_entry_is_named(journal):
    sql(journal, "UPDATE audit SET id_nat = 'someone-else' WHERE seq = 7")
    verdict = verdict_of(journal)
    assert_found(verdict, "edited", 7)
    assert "7" in verdict.sentence and "modifiée" in verdict.sentence


def test_an_edited_entry_whose_hash_was_recomputed_is_named(journal):
    sql(journal, "UPDATE audit SET action = 'nothing' WHERE seq = 12")
    at12 = row(journal, 12)
    digest = entry_hash(
        at12[6],
        {
            "seq": 12,
            **dict(
                zip(
                    ("at", "id_nat", "action", "patient_ref", "dmp_id", "outcome"),
                    at12[:6],
                    strict=True,
                )
            ),
        },
    )
    sql(journal, "UPDATE audit SET hash = ? WHERE seq = 12", (digest,))
    assert_found(verdict_of(journal), "edited", 12)


def test_a_whole_rewrite_after_an_entry_is_caught_by_the_signed_head(journal):
    sql(journal, "UPDATE audit SET id_nat = 'someone-else' WHERE seq = 14")
    rehash_from(journal, 14)
    verdict = verdict_of(journal)
    assert_found(verdict, "rewritten", 11)
    assert verdict.details["signed"] == 20


def test_a_deleted_entry_is_named(journal):
    sql(journal, "DELETE FROM audit WHERE seq = 5")
    assert_found(verdict_of(journal), "deleted", 5)


def test_a_deleted_entry_with_the_rest_renumbered_is_named(journal):
    sql(journal, "DELETE FROM audit WHERE seq = 5")
    renumber(journal, 6, -1)
    assert_found(verdict_of(journal), "deleted", 5)


def test_an_inserted_entry_is_named(journal):
    renumber(journal, 9, 1)
    with journal.transaction() as conn:
        previous = conn.execute("SELECT hash FROM audit WHERE seq = 8").fetchone()[0]
        fields = {"seq": 9, "at": AT, "id_nat": "forger", "action": "status"}
        conn.execute(
            "INSERT INTO audit (seq, at, id_nat, action, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
            (9, AT, "forger", "status", previous, entry_hash(previous, fields)),
        )
    assert_found(verdict_of(journal), "inserted", 9)


def test_an_entry_inserted_without_a_number_is_found(journal):
    sql(journal, "INSERT INTO audit (at, id_nat, action) VALUES (?, 'forger', 'status')", (AT,))
    verdict = verdict_of(journal)
    assert verdict.details["problem"] == "inserted", verdict


def test_a_line_slipped_into_the_queue_is_never_chained_and_is_named(journal):
    """A forger writes a waiting line, with no MAC or a MAC of their own: the seal leaves it
    out of the chain, the service's own lines after it are chained, verify names it."""
    sql(journal, "INSERT INTO audit (at, id_nat, action) VALUES (?, 'forger', 'status')", (AT,))
    fill(journal, 2)  # the service's lines after it, sealed
    with journal.read() as conn:
        waiting = conn.execute("SELECT id_nat FROM audit WHERE seq IS NULL").fetchall()
        assert journal.journal.chain_head(conn)[0] == 27
    assert [tuple(line) for line in waiting] == [("forger",)]
    verdict = verdict_of(journal)
    assert verdict.details["problem"] == "inserted", verdict


def test_a_waiting_line_edited_before_its_seal_is_named(journal):
    fill(journal, 1, seal=False)
    with journal.read() as conn:
        (row_id,) = conn.execute("SELECT id FROM audit WHERE seq IS NULL").fetchone()
    assert verdict_of(journal).details["waiting"] == 1  # the service's line, its MAC holds
    sql(journal, "UPDATE audit SET id_nat = 'forger' WHERE id = ?", (row_id,))
    verdict = verdict_of(journal)
    assert verdict.outcome == "altered" and verdict.details["row"] == row_id, verdict
    assert journal.journal.seal(journal.db) == 0  # and the seal does not chain it


def test_a_line_committed_after_a_seal_read_is_sealed_by_the_next(database_url):
    """A seal does not see a line whose transaction is still open (PostgreSQL: it does not
    wait for it either): the sealer keeps sealing a while after an append, so that the line
    is not left for the worker's next append."""
    now = [0.0]
    storage = make_storage(database_url, None)
    storage.journal = Journal(None, 10, ticks=lambda: now[0], mac_key=MAC_KEY)
    try:
        fill(storage, 1, seal=False)
        now[0] = 0.1
        storage.journal.seal(storage.db)  # read before the next line's commit…
        fill(storage, 1, seal=False)  # (stands for that late commit)
        storage.journal.waiting = False  # …which that seal's reading cleared
        now[0] = 0.3
        assert storage.journal.due()  # within RECENT_APPEND of the append
        now[0] = 0.1 + RECENT_APPEND
        assert not storage.journal.due()
        now[0] = 0.1 + IDLE_SEAL
        assert storage.journal.due()  # a seal at least every IDLE_SEAL
        storage.journal.seal(storage.db)
        with storage.read() as conn:
            assert storage.journal.chain_head(conn)[0] == 2
    finally:
        storage.close()


def test_a_lost_head_row_is_rebuilt_from_the_last_chained_entry(journal):
    sql(journal, "DELETE FROM audit_chain")
    fill(journal, 2)
    with journal.read() as conn:
        assert journal.journal.chain_head(conn)[0] == 27
    assert verdict_of(journal).details["entries"] == 27


def test_a_reordered_entry_is_named(journal):
    with journal.transaction() as conn:
        conn.execute("UPDATE audit SET seq = -1 WHERE seq = 16")
        conn.execute("UPDATE audit SET seq = 16 WHERE seq = 17")
        conn.execute("UPDATE audit SET seq = 17 WHERE seq = -1")
    assert_found(verdict_of(journal), "reordered", 16)


def test_a_tail_cut_after_the_last_signed_head_is_found(journal):
    sql(journal, "DELETE FROM audit WHERE seq > 22")
    verdict = verdict_of(journal)
    assert_found(verdict, "cut", 23)
    assert verdict.details["written"] == 25


def test_a_tail_cut_before_a_signed_head_is_found_even_with_the_head_row_rewritten(journal):
    sql(journal, "DELETE FROM audit WHERE seq > 17")
    sql(journal, "UPDATE audit_chain SET seq = 17, hash = (SELECT hash FROM audit WHERE seq = 17)")
    verdict = verdict_of(journal)
    assert_found(verdict, "cut", 18)
    assert verdict.details["signed"] == 20


def test_a_forged_head_is_found(journal):
    sql(journal, "UPDATE audit_heads SET hash = ? WHERE seq = 10", ("f" * 64,))
    assert_found(verdict_of(journal), "head_edited", 10)


def test_a_head_signed_by_another_key_is_unknown(journal, tmp_path):
    other = load_or_create_signer(tmp_path / "other", own_ca(tmp_path))
    forger = Journal(other, 1000)
    with journal.transaction() as conn:
        conn.execute("DELETE FROM audit_heads WHERE seq = 20")
        forger._sign(conn, 20, row(journal, 20)[7])
    verdict = verdict_of(journal)
    assert verdict.outcome == "unknown_key" and verdict.exit_code == 21, verdict
    assert verdict.details["entry"] == 20


@pytest.mark.slow
def test_a_journal_of_several_processes_is_one_chain(database_url, document_signer):
    storage = make_storage(database_url, document_signer, interval=7)
    url = str(storage.db.path) if storage.db.dialect == "sqlite" else database_url_of(storage)
    try:
        workers = [appender(url, 40) for _ in range(4)]
        checks = 0
        while any(worker.poll() is None for worker in workers):  # verified while they append
            verdict = verdict_of(storage)
            assert verdict.outcome == "valid", verdict
            checks += 1
        outputs = [worker.communicate(timeout=120) for worker in workers]
        assert checks > 0
        assert all(worker.returncode == 0 for worker in workers), outputs
        assert all(out.split()[-1] == "40" for out, _err in outputs), outputs
        storage.journal.seal(storage.db)  # nothing left: each appender sealed its own
        with storage.read() as conn:
            seqs = [row[0] for row in conn.execute("SELECT seq FROM audit ORDER BY id")]
        assert sorted(seqs) == list(range(1, 161))  # all chained, no gap, no duplicate
        fill(storage, 3)  # the service goes on after them (a head at 161)
        verdict = verdict_of(storage)
        assert verdict.outcome == "valid", verdict
        assert verdict.details["entries"] == 163
        assert verdict.details["signed_up_to"] == 161
    finally:
        storage.close()


@pytest.mark.slow
def test_a_kill_during_appends_leaves_a_journal_that_verifies(database_url, document_signer):
    storage = make_storage(database_url, document_signer, interval=5)
    url = str(storage.db.path) if storage.db.dialect == "sqlite" else database_url_of(storage)
    storage.close()
    for _round in range(3):
        worker = appender(url, 0)
        try:
            assert worker.stdout is not None
            for _ in range(25):  # 25 commits seen, the next one under way
                assert worker.stdout.readline().strip()
            os.kill(worker.pid, signal.SIGKILL)
        finally:
            worker.kill()
            worker.communicate(timeout=30)
    restarted = make_storage(lambda: url, document_signer, interval=5)
    try:
        fill(restarted, 6)  # the restarted service appends on the same chain
        verdict = verdict_of(restarted)
        assert verdict.outcome == "valid", verdict
        assert verdict.details["entries"] >= 81
    finally:
        restarted.close()


def test_migration_8_chains_the_rows_of_an_older_release(database_url, document_signer):
    url = database_url()
    db = open_database(url)
    try:
        with db.transaction() as conn:  # an older release's schema and audit lines
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "applied_at TEXT NOT NULL)"
            )
        from proclient.server import database as database_module

        for version, script in database_module.MIGRATIONS[:7]:
            with db.transaction() as conn:
                for statement in database_module._statements(script, db.dialect):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, 'old')", (version,)
                )
        with db.transaction() as conn:
            for number in range(12):
                conn.execute(
                    "INSERT INTO audit (at, id_nat, action) VALUES (?, ?, 'session')",
                    (AT, f"pro-{number}"),
                )
    finally:
        db.close()
    storage = Storage(url)
    try:
        assert storage.initialize() == 7
        storage.journal = Journal(document_signer, 10)
        with storage.read() as conn:
            seqs = [r[0] for r in conn.execute("SELECT seq FROM audit ORDER BY id").fetchall()]
        assert seqs == list(range(1, 13))
        fill(storage, 1)
        verdict = verdict_of(storage)
        assert verdict.outcome == "valid" and verdict.details["entries"] == 13, verdict
        sql(storage, "UPDATE audit SET id_nat = 'x' WHERE seq = 3")
        assert_found(verdict_of(storage), "edited", 3)
    finally:
        storage.close()


# --- helpers for the processes ---------------------------------------------------------------


def database_url_of(storage: Storage) -> str:
    return storage.db._url  # type: ignore[attr-defined]


def appender(url: str, count: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.service.journal_appender", url, str(count)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_the_service_signs_the_head_when_it_stops(database_url, document_signer, pki):
    from proclient.core.domain import OID_INS_NIR_TEST, Ins
    from proclient.server.app import create_app
    from proclient.server.settings import ServerSettings

    settings = ServerSettings(
        database=database_url(),
        trusted_ca_pem=pki.ca_pem,
        document_signer=document_signer,
        audit_head_interval=3,
    )
    app = create_app(settings)
    storage: Storage = app.state.storage
    async with app.router.lifespan_context(app):  # startup, then shutdown at the end
        for number in range(4):
            ins = Ins(f"28001752000{number:02d}", OID_INS_NIR_TEST)
            storage.seed_dmp(
                ins, {"last_name": "X", "first_name": "Y", "birth_date": "19800101"}, "active"
            )
        for _ in range(200):  # the lifespan's sealer chains them within SEAL_INTERVAL
            with storage.read() as conn:
                if storage.journal.chain_head(conn)[0] == 4:
                    break
            await asyncio.sleep(0.05)
        with storage.read() as conn:
            assert [head.seq for head in storage.journal.heads(conn)] == [3]
    reopened = Storage(settings.database)
    try:
        reopened.db.migrate()
        with reopened.read() as conn:
            assert [head.seq for head in reopened.journal.heads(conn)] == [3, 4]
        verdict = reopened.journal.verify(reopened.db, document_signer.all_certificates())
        assert verdict.outcome == "valid" and verdict.details["unsigned_tail"] == 0, verdict
    finally:
        reopened.close()


def test_a_head_is_signed_after_its_max_age_without_waiting_for_n_entries(
    database_url, document_signer
):
    now = [0.0]
    storage = make_storage(database_url, None)
    storage.journal = Journal(document_signer, 1000, head_max_age=600, ticks=lambda: now[0])
    try:
        fill(storage, 2)
        now[0] = 599.0
        fill(storage, 1)
        with storage.read() as conn:
            assert storage.journal.heads(conn) == []
        now[0] = 600.0
        fill(storage, 1)
        now[0] = 700.0
        fill(storage, 1)
        with storage.read() as conn:
            assert [head.seq for head in storage.journal.heads(conn)] == [4]
        assert verdict_of(storage).outcome == "valid"
    finally:
        storage.close()


def test_lines_appended_by_someone_else_than_the_service_are_found(journal):
    """A forger appends a line that chains (hash and all) but does not move the head row."""
    with journal.transaction() as conn:
        previous = conn.execute("SELECT hash FROM audit WHERE seq = 25").fetchone()[0]
        fields = {"seq": 26, "at": AT, "id_nat": "forger", "action": "status"}
        conn.execute(
            "INSERT INTO audit (seq, at, id_nat, action, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
            (26, AT, "forger", "status", previous, entry_hash(previous, fields)),
        )
    assert_found(verdict_of(journal), "inserted", 26)


def test_the_demo_seeding_writes_lines_the_service_chains(tmp_path):
    """The demo's seeding runs on its own store before the service starts: its audit lines
    carry the MAC of the service's key, so the service's seal chains them (they were left
    waiting, warned about every 0.2 s and named as inserted by ``audit verify``)."""
    from proclient.server.demo import seed_demo_dmps

    secret = bytes(range(32))
    database = tmp_path / "seeded.sqlite3"
    seed_demo_dmps(database, pseudonym_secret=secret)
    storage = Storage(database, secret)
    try:
        storage.initialize()
        # the service's journal checks each line against its key's MAC
        storage.journal.mac_key = storage.derived_key(JOURNAL_MAC_PURPOSE)
        storage.journal.seal(storage.db)
        with storage.read() as conn:
            rows = conn.execute("SELECT action, seq FROM audit ORDER BY id").fetchall()
    finally:
        storage.close()
    assert [action for action, _ in rows] == ["seed-active", "seed-closed"]
    assert all(seq is not None for _, seq in rows)
