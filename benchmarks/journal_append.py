"""The audit journal's cost per append (server/journal.py): one audit line per transaction,
the plain INSERT of the releases before the journal next to the service's append (INSERT with
a MAC) with its seal every 50 lines (what the sealer chains in 0.2 s at 250 lines/s: head row
locked, waiting lines read, one UPDATE for the batch), and on PostgreSQL the inline chain of
issue 23's first release emulated with an advisory lock (last line read back, INSERT with
its hashes, lock held until commit); then P processes appending at once.

    .venv/bin/python benchmarks/journal_append.py [--appends 500] [--processes 4]
        [--backend sqlite|postgresql|both]

PostgreSQL: PROCLIENT_TEST_POSTGRES_URL (scripts/services/postgres.sh sets it); a schema of
its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from proclient.core.proof.journal import GENESIS, entry_hash
from proclient.server.journal import Journal
from proclient.server.storage import Storage

ROOT = Path(__file__).resolve().parent.parent
AT = "2026-12-07T10:00:00+00:00"
SEAL_EVERY = 50
MAC_KEY = b"k" * 32  # what the service derives from its pseudonymisation key


def advisory_append(conn, number: int) -> None:
    """The alternative not taken (PostgreSQL): an advisory lock, then the last entry read back
    for its seq and hash, then the INSERT."""
    conn.lock("proclient-audit-chain")
    last = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC NULLS LAST LIMIT 1")
    seq, previous = last.fetchone() or (0, GENESIS)
    fields = {"seq": seq + 1, "at": AT, "id_nat": "bench", "action": "status"}
    fields["patient_ref"] = f"ref-{number}"
    conn.execute(
        "INSERT INTO audit (at, id_nat, action, patient_ref, seq, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            AT,
            "bench",
            "status",
            fields["patient_ref"],
            seq + 1,
            previous,
            entry_hash(previous, fields),
        ),
    )


def append_many(database: str, count: int, mode: str) -> list[float]:
    """``count`` transactions of one audit line each; the seconds each took. ``mode``:
    plain, chained (server/journal.py's append, a seal every SEAL_EVERY lines) or advisory
    (:func:`advisory_append`, the inline chain not kept)."""
    storage = Storage(database)
    storage.db.migrate()
    storage.journal = Journal(mac_key=MAC_KEY)  # one key for every process, as the service's
    times = []
    try:
        for number in range(count):
            start = time.perf_counter()
            with storage.transaction() as conn:
                if mode == "chained":
                    fields = {"at": AT, "id_nat": "bench", "action": "status"}
                    storage.journal.append(conn, {**fields, "patient_ref": f"ref-{number}"})
                elif mode == "advisory":
                    advisory_append(conn, number)
                else:
                    conn.execute(
                        "INSERT INTO audit (at, id_nat, action, patient_ref) VALUES (?, ?, ?, ?)",
                        (AT, "bench", "status", f"ref-{number}"),
                    )
            if mode == "chained" and number % SEAL_EVERY == SEAL_EVERY - 1:
                storage.journal.seal(storage.db)  # the sealer's batch, counted in this line
            times.append(time.perf_counter() - start)
        if mode == "chained":
            storage.journal.seal(storage.db)  # the rest, as the sealer would
    finally:
        storage.close()
    return times


def fresh_database(backend: str, directory: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return str(directory / f"bench-{uuid.uuid4().hex[:6]}.sqlite3"), None
    import psycopg

    admin = os.environ["PROCLIENT_TEST_POSTGRES_URL"]
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{admin}?options=-csearch_path%3D{schema}", schema


def drop(schema: str | None) -> None:
    if schema is None:
        return
    import psycopg

    with psycopg.connect(os.environ["PROCLIENT_TEST_POSTGRES_URL"], autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def parallel(database: str, processes: int, count: int, mode: str) -> float:
    """Appends per second of ``processes`` processes appending ``count`` lines each."""
    command = [sys.executable, __file__, "--child", database, str(count), mode]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    children = [subprocess.Popen(command, env=env) for _ in range(processes)]
    for child in children:
        if child.wait() != 0:
            raise SystemExit("an appending process failed")
    return processes * count / (time.perf_counter() - start)


def run(backend: str, appends: int, processes: int, directory: Path) -> None:
    print(f"\n{backend}: {appends} appends, one per transaction")
    modes = ("plain", "chained", "advisory") if backend == "postgresql" else ("plain", "chained")
    for mode in modes:
        database, schema = fresh_database(backend, directory)
        try:
            Storage(database).db.migrate()
            append_many(database, 20, mode)  # warm-up: connections, pages
            times = append_many(database, appends, mode)
            cuts = statistics.quantiles(times, n=100)
            print(
                f"  {mode:8} one process: mean {statistics.mean(times) * 1e3:.3f} ms, "
                f"p50 {cuts[49] * 1e3:.3f} ms, p99 {cuts[98] * 1e3:.3f} ms"
            )
            rate = parallel(database, processes, appends, mode)
            print(f"  {mode:8} {processes} processes: {rate:.0f} appends/s")
            if mode != "plain":
                storage = Storage(database)
                storage.journal = Journal(mac_key=MAC_KEY)
                verdict = storage.journal.verify(storage.db)
                storage.close()
                print(f"  verify: {verdict.outcome} ({verdict.details.get('entries')} entries)")
        finally:
            drop(schema)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        append_many(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--appends", type=int, default=500)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory() as directory:
        for backend in backends:
            if backend == "postgresql" and not os.environ.get("PROCLIENT_TEST_POSTGRES_URL"):
                print("\npostgresql: PROCLIENT_TEST_POSTGRES_URL not set, skipped")
                continue
            run(backend, args.appends, args.processes, Path(directory))


if __name__ == "__main__":
    main()
