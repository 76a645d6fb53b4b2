"""SQLite held by another process longer than the busy timeout: 503 SERVICE_BUSY with
Retry-After (the workstation sends again with its Idempotency-Key), never a 500, and the
service's connection is left usable."""

from __future__ import annotations

import sqlite3

import pytest

from proclient.server.database import SqliteDatabase
from proclient.server.problems import Problem


def test_a_write_kept_waiting_by_another_process_is_busy_and_leaves_nothing_open(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(SqliteDatabase, "busy_timeout", 0.2)
    path = tmp_path / "dmp.sqlite3"
    database = SqliteDatabase(path)
    with database.transaction() as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
    other = sqlite3.connect(path, isolation_level=None)  # another process's writer
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(Problem) as refused:
            with database.transaction() as conn:
                conn.execute("INSERT INTO t VALUES (1)")
        assert refused.value.code == "SERVICE_BUSY" and refused.value.status == 503
        assert refused.value.headers.get("Retry-After") == "1"
    finally:
        other.execute("ROLLBACK")
        other.close()
    with database.transaction() as conn:  # the same thread's connection, usable again
        conn.execute("INSERT INTO t VALUES (2)")
    with database.read() as conn:
        assert conn.execute("SELECT x FROM t").fetchall() == [(2,)]
    database.close()
