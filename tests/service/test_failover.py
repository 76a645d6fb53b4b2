"""The service rides over a PostgreSQL failover without a restart (issue 24).

Real parts: a primary and its synchronous standby (scripts/pg_pair.sh), a real
``proclient serve --workers 2`` over HTTPS whose database URL lists both hosts (libpq
multi-host, ``target_session_attrs=read-write``). The primary is killed (kill -9 of every
process, as a host dying) while a creation waits inside its transaction, then the standby is
promoted: the service answers 503 SERVICE_BUSY with Retry-After meanwhile, never 500; it
answers again with the same processes; every acknowledged creation is on the promoted
server; the creation in flight, sent again with its Idempotency-Key, makes one DMP.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from proclient.credentials.software import unlock_demo
from proclient.server.database import SCHEMA_VERSION, open_database
from proclient.server.storage import Storage
from proclient.service.client import creation_body

from .helpers import creation, make_nir, patient
from .test_workers import insi_ready, login, start_service, stop_service, wait_until

ROOT = Path(__file__).resolve().parents[2]
PAIR = ROOT / "scripts" / "pg_pair.sh"


def require_pg_binaries() -> None:
    """Skip (fail under PROCLIENT_REQUIRE_REAL=1) without PostgreSQL's server binaries."""
    folder = Path(os.environ.get("PROCLIENT_PG_BIN", "/usr/lib/postgresql/15/bin"))
    if not (folder / "initdb").exists() and shutil.which("initdb"):
        folder = Path(shutil.which("initdb") or "").parent
    if all((folder / name).exists() for name in ("initdb", "pg_ctl", "pg_basebackup", "psql")):
        return
    reason = "PostgreSQL absent: initdb, pg_ctl, pg_basebackup or psql not found"
    if os.environ.get("PROCLIENT_REQUIRE_REAL"):
        pytest.fail(reason + " and PROCLIENT_REQUIRE_REAL is set")
    pytest.skip(reason)


@dataclass
class PgPair:
    """A pair brought up by pg_pair.sh in ``folder`` (its pair.env read)."""

    folder: Path
    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.env["PROCLIENT_PAIR_URL"]

    def node_url(self, which: str) -> str:
        """One node alone (PRIMARY or STANDBY), without target_session_attrs."""
        return f"postgresql://postgres@127.0.0.1:{self.env[which + '_PORT']}/postgres"

    def run(self, action: str) -> None:
        subprocess.run(["bash", str(PAIR), action, str(self.folder)], check=True, timeout=120)


@contextmanager
def pg_pair(**env: str) -> Iterator[PgPair]:
    """A primary and its synchronous standby, taken down (and their folder removed) at the
    end whatever happens (and by pg_pair.sh's watchdog should this process be killed). In
    /tmp: as root, PostgreSQL runs as "postgres", which cannot go through pytest's tmp_path
    (0700, root's)."""
    folder = Path(tempfile.mkdtemp(prefix="proclient-pair-"))
    try:
        subprocess.run(
            ["bash", str(PAIR), "up", str(folder)],
            check=True,
            timeout=180,
            env={**os.environ, "PG_PAIR_WATCH": str(os.getpid()), **env},
        )
        lines = (folder / "pair.env").read_text().splitlines()
        yield PgPair(folder, dict(line.split("=", 1) for line in lines if "=" in line))
    finally:
        subprocess.run(["bash", str(PAIR), "down", str(folder)], timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def dmps_on(url: str, values: list[str]) -> dict[str, list[str]]:
    """The DMP ids of each NIR, read on the server at ``url``."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return {
            value: [
                row[0]
                for row in conn.execute("SELECT dmp_id FROM dmps WHERE ins_value = %s", (value,))
            ]
            for value in values
        }


def lock_waiting(url: str) -> bool:
    """Whether a backend on ``url`` waits for a heavyweight lock (the held creation)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query ILIKE 'INSERT INTO dmps%'"
        ).fetchone()
    return bool(row and row[0])


def activity(pair: PgPair) -> list[tuple]:
    """What the promoted server's sessions do (for a failure's message)."""
    import psycopg

    with psycopg.connect(pair.node_url("STANDBY"), autocommit=True) as conn:
        return conn.execute(
            "SELECT pid, state, wait_event_type, wait_event, now() - xact_start, "
            "left(query, 60) FROM pg_stat_activity WHERE backend_type = 'client backend'"
        ).fetchall()


def card_ins(who) -> dict:
    return {"value": who.ins.value, "oid": who.ins.oid}


def refused_for_now(answer: httpx.Response) -> bool:
    """503 SERVICE_BUSY with a Retry-After: what the service says while it has no primary."""
    return (
        answer.status_code == 503
        and answer.json().get("code") == "SERVICE_BUSY"
        and int(answer.headers.get("Retry-After", "0")) >= 1
    )


def test_multi_host_urls_pass_through_the_service_s_url_handling():
    """libpq multi-host URLs: described without the password, the service's libpq settings
    added only where the URL sets none, an unreadable URL refused without quoting it."""
    from proclient.server.database import describe_postgres, libpq_defaults

    url = (
        "postgresql://proclient:s3cret@db1.example:5433,db2.example:5434/dmp"
        "?target_session_attrs=read-write&connect_timeout=2&options=-csearch_path%3Dx"
    )
    assert describe_postgres(url) == "PostgreSQL db1.example:5433,db2.example:5434/dmp (read-write)"
    assert describe_postgres("postgresql://u@h1,h2/db") == "PostgreSQL h1:5432,h2:5432/db"
    added = libpq_defaults(url)
    assert "connect_timeout" not in added and added["keepalives"] == "1"
    assert "s3cret" not in describe_postgres(url)
    with pytest.raises(ValueError) as refused:
        open_database("postgresql://proclient:s3cret@h1,h2/dmp?no_such_setting=1")
    assert "s3cret" not in str(refused.value)


def test_a_standby_alone_is_refused_as_busy_and_its_connection_dropped():
    """A database URL that reaches a server taking no writes (a standby; an old primary come
    back as one): the write is refused with 503 SERVICE_BUSY, and the pool drops the
    connection instead of handing it out again."""
    require_pg_binaries()
    from proclient.server.problems import Problem

    with pg_pair() as pair:
        database = open_database(pair.node_url("PRIMARY"))
        try:
            database.migrate()  # the schema, replicated to the standby
        finally:
            database.close()
        standby = open_database(pair.node_url("STANDBY"))
        try:
            # Flushed there at the commit (synchronous_commit = on), visible once replayed.
            wait_until(lambda: standby.ready(), "the schema replayed on the standby")
            for _attempt in range(2):
                with pytest.raises(Problem) as refused:
                    with standby.transaction() as conn:
                        conn.execute("INSERT INTO meta (name, value) VALUES (?, ?)", ("x", b"x"))
                assert refused.value.code == "SERVICE_BUSY" and refused.value.status == 503
                assert refused.value.headers["Retry-After"] == "1"
            stats = standby._pool.get_stats()  # type: ignore[attr-defined]
            assert stats.get("returns_bad", 0) == 2  # both connections dropped, not reused
            with standby.read() as conn:  # reads still work there
                row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
                assert row[0] == SCHEMA_VERSION
        finally:
            standby.close()


SECRET_NIR = "152033523804587"
LOST_WITH_DATA = f"server closed the connection: NIR {SECRET_NIR}"


class FlakyDatabase:
    """A real database whose next ``failures`` transactions fail as a lost server's would, with
    a message quoting a NIR (which the log must not repeat)."""

    def __init__(self, db, failures: int) -> None:
        self.db = db
        self.failures = failures

    def transaction(self):
        if self.failures:
            self.failures -= 1
            raise ConnectionError(LOST_WITH_DATA)
        return self.db.transaction()

    def __getattr__(self, name: str):
        return getattr(self.db, name)


async def test_the_journal_sealer_goes_on_after_database_errors(tmp_path: Path, caplog):
    """keep_sealed (the service's sealing task) outlives failed seals: the line waits and is
    chained once the database answers again; the log says so without the errors' text."""
    import asyncio
    import logging

    from proclient.server.journal import Journal, keep_sealed

    storage = Storage(tmp_path / "dmp.sqlite3")
    try:
        storage.initialize()
        storage.journal = Journal(None, 10, mac_key=b"k" * 32)
        with storage.transaction() as conn:
            storage.audit(conn, "2026-01-01T00:00:00+00:00", "pro", "status", "ref", None, None)
        flaky = FlakyDatabase(storage.db, failures=3)
        caplog.set_level(logging.WARNING, logger="proclient.server.journal")
        sealer = asyncio.create_task(keep_sealed(storage.journal, flaky, interval=0.01))

        def chained() -> bool:
            with storage.read() as conn:
                return conn.execute("SELECT seq FROM audit").fetchone()[0] is not None

        try:
            for _tick in range(1000):
                if chained():
                    break
                await asyncio.sleep(0.01)
            assert chained() and flaky.failures == 0
            assert not sealer.done()  # still running, for the next lines
        finally:
            sealer.cancel()
            with pytest.raises(asyncio.CancelledError):
                await sealer
    finally:
        storage.close()
    messages = [record.getMessage() for record in caplog.records]
    assert "seal failed, tried again: ConnectionError" in messages[0]
    assert messages[1:3] == ["audit journal: seal failed again (ConnectionError)"] * 2
    assert messages[3] == "audit journal: sealed again after 3 failed seal(s)"
    assert not any(SECRET_NIR in message for message in messages)


@pytest.mark.slow
def test_the_service_rides_over_a_failover_without_restart(tmp_path: Path):
    require_pg_binaries()
    import psycopg

    with pg_pair() as pair:
        service = start_service(tmp_path / "home", pair.url)
        try:
            workers = service.workers()
            token = login(service, unlock_demo(service.pki.default))
            people = [patient(make_nir(1, 1970, "04", 600 + n), "19700412") for n in range(6)]
            insi_ready(service, [token], people)
            nirs = [who.ins.value for who in people]

            def headers(key: str) -> dict[str, str]:
                return {"Authorization": f"Bearer {token}", "Idempotency-Key": key}

            def create(http: httpx.Client, n: int, key: str) -> httpx.Response:
                return http.post(
                    "/v1/dmp", json=creation_body(creation(people[n])), headers=headers(key)
                )

            http = httpx.Client(base_url=service.url, verify=service.context, timeout=60)
            try:
                # Acknowledged before the failover: on both servers (synchronous_commit).
                acknowledged: dict[str, tuple[int, str]] = {}
                for n in range(3):
                    key = str(uuid.uuid4())
                    answer = create(http, n, key)
                    assert answer.status_code == 201, answer.text
                    acknowledged[key] = (n, answer.json()["dmp_id"])

                # A creation held inside its transaction (its INSERT waits for a lock taken on
                # the primary), in flight when the primary dies.
                holder = psycopg.connect(pair.node_url("PRIMARY"))
                holder.execute("LOCK TABLE dmps IN EXCLUSIVE MODE")
                in_flight_key = str(uuid.uuid4())
                answers: list[httpx.Response] = []

                def send_in_flight() -> None:
                    with httpx.Client(
                        base_url=service.url, verify=service.context, timeout=60
                    ) as other:
                        answers.append(create(other, 3, in_flight_key))

                sender = threading.Thread(target=send_in_flight)
                sender.start()
                wait_until(lambda: lock_waiting(pair.node_url("PRIMARY")), "the held creation")
                killed_at = time.monotonic()
                pair.run("kill-primary")
                sender.join(90)
                holder.close()
                assert answers and refused_for_now(answers[0]), answers and answers[0].text

                # No primary yet (the standby takes no writes): busy, never a 500.
                before = http.post(
                    "/v1/dmp/status", json={"ins": card_ins(people[5])}, headers=headers("s")
                )
                assert refused_for_now(before), before.text

                pair.run("promote")
                promoted_at = time.monotonic()
                # The same processes answer again: a new creation goes through.
                first_key, first = str(uuid.uuid4()), None
                deadline = time.monotonic() + 60
                while first is None or first.status_code != 201:
                    assert time.monotonic() < deadline, first.text if first else "no answer"
                    first = create(http, 4, first_key)
                    assert first.status_code in (201, 503), first.text
                    if first.status_code == 503:
                        assert refused_for_now(first), first.text
                        time.sleep(0.1)
                recovered_at = time.monotonic()
                print(
                    f"\nkill → promoted {promoted_at - killed_at:.2f} s, kill → first creation "
                    f"{recovered_at - killed_at:.2f} s (promoted → first creation "
                    f"{recovered_at - promoted_at:.2f} s)"
                )
                acknowledged[first_key] = (4, first.json()["dmp_id"])

                def settled(n: int, key: str) -> httpx.Response:
                    """Sent until not 503 (the other worker may meet a dead connection once)."""
                    deadline = time.monotonic() + 60
                    while True:
                        answer = create(http, n, key)
                        if answer.status_code != 503:
                            return answer
                        assert refused_for_now(answer), answer.text
                        assert time.monotonic() < deadline, "still 503 after a minute"
                        time.sleep(0.1)

                # The creation that was in flight, sent again with its key: one DMP.
                again = settled(3, in_flight_key)
                assert again.status_code == 201, again.text
                assert "Idempotent-Replayed" not in again.headers  # never committed before
                acknowledged[in_flight_key] = (3, again.json()["dmp_id"])
                replay = settled(3, in_flight_key)
                assert replay.headers.get("Idempotent-Replayed") == "true", replay.text
                assert replay.json()["dmp_id"] == again.json()["dmp_id"]
                # The answers acknowledged before the kill, asked again (as after a lost
                # answer): replayed from the promoted server, the same DMP.
                for key, (n, dmp_id) in acknowledged.items():
                    replay = settled(n, key)
                    assert replay.status_code == 201, replay.text
                    assert replay.headers.get("Idempotent-Replayed") == "true"
                    assert replay.json()["dmp_id"] == dmp_id
                # A new patient, a new key, on the other side of the failover: created.
                assert settled(5, str(uuid.uuid4())).status_code == 201
            finally:
                http.close()

            # On the promoted server: every acknowledged creation, and one DMP per patient.
            found = dmps_on(pair.node_url("STANDBY"), nirs)
            assert all(len(ids) == 1 for ids in found.values()), found
            for n, dmp_id in acknowledged.values():
                assert found[nirs[n]] == [dmp_id]
            # The service was not restarted; it never answered 500.
            assert service.process.poll() is None and service.workers() == workers
            statuses = {int(m["status"]) for m in service.access()}
            assert 500 not in statuses and 503 in statuses
            # The journal's sealer went on after the database errors: every line chained, in
            # one chain that verifies.
            storage = Storage(pair.url)
            try:

                def waiting() -> list[tuple]:
                    with storage.read() as conn:
                        return conn.execute(
                            "SELECT id, action, mac IS NULL FROM audit WHERE seq IS NULL"
                        ).fetchall()

                deadline = time.monotonic() + 60
                while waiting():
                    sealer = [line for line in service.text().splitlines() if "journal" in line]
                    assert time.monotonic() < deadline, (waiting(), sealer[-10:], activity(pair))
                    time.sleep(0.2)
                verdict = storage.journal.verify(storage.db)
            finally:
                storage.close()
            assert verdict.outcome == "valid", verdict
        finally:
            stop_service(service)
