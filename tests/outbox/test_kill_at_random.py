"""Kill-at-random (issue 13): the workstation process killed with SIGKILL at random moments
between capture and confirmed creation, then replayed, against `proclient serve` on loopback
(HTTPS, demo CA, SQLite; and a short run on PostgreSQL, issue 24): 0 duplicate DMPs, 0 lost
captures, 0 entries left.

The machinery is benchmarks/outbox_kill.py's (run with 20 seeded iterations here, 200 and
more there). It runs as its own process: it forks a child per iteration, which needs a
parent without threads, and pytest's process may have some."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # the longest tier: scripts/test.sh -m "not slow" leaves it out

ROOT = Path(__file__).resolve().parents[2]


def kill_run(iterations: int, seed: int, *options: str) -> tuple[dict, subprocess.CompletedProcess]:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "outbox_kill.py")]
        + ["--iterations", str(iterations), "--seed", str(seed), "--json", *options],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.stdout, completed.stderr[-3000:]
    return json.loads(completed.stdout.splitlines()[-1]), completed


def check_invariants(totals: dict, iterations: int) -> None:
    failures = totals["failures"]
    assert totals["iterations"] == iterations
    assert totals["duplicates"] == 0, failures
    assert totals["lost"] == 0, failures
    assert totals["left"] == 0 and totals["held"] == 0, failures
    assert totals["accuse_duplicates"] == 0 and totals["accuse_missing"] == 0, failures
    # Every DMP made is a capture's: the confirmed ones, and those whose record() was cut
    # short after the entry was written (they went through, once).
    assert totals["dmps"] == totals["confirmed"] + totals["unconfirmed_through"]
    assert totals["accuses"] == totals["dmps"]


def killed(totals: dict) -> int:
    return sum(n for phase, n in totals["phases"].items() if phase != "finished")


def test_killed_workstation_replays_without_duplicate_loss_or_leftover():
    totals, completed = kill_run(20, 1307)
    check_invariants(totals, 20)
    # The kills did land before, during and after the creation.
    assert killed(totals) >= 15, totals["phases"]
    assert {"sending", "created", "accuse"} & set(totals["phases"]), totals["phases"]
    assert totals["ok"] and completed.returncode == 0, completed.stderr[-3000:]


def test_killed_workstation_replays_the_same_against_a_postgresql_service():
    """The same, shorter, with the service on PostgreSQL (a schema of its own, dropped)."""
    if not os.environ.get("PROCLIENT_TEST_POSTGRES_URL"):
        reason = "PostgreSQL absent: PROCLIENT_TEST_POSTGRES_URL is not set"
        if os.environ.get("PROCLIENT_REQUIRE_REAL"):
            pytest.fail(reason + " and PROCLIENT_REQUIRE_REAL is set")
        pytest.skip(reason)
    totals, completed = kill_run(10, 1307, "--database", "postgresql")
    assert totals["database"] == "postgresql"
    check_invariants(totals, 10)
    assert killed(totals) >= 6, totals["phases"]
    assert totals["ok"] and completed.returncode == 0, completed.stderr[-3000:]
