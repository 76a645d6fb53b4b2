"""Kill-at-random (issue 13): the workstation process killed with SIGKILL at random moments
between capture and confirmed creation, then replayed, against `proclient serve` on loopback
(HTTPS, demo CA, SQLite): 0 duplicate DMPs, 0 lost captures, 0 entries left.

The machinery is benchmarks/outbox_kill.py's (run with 20 seeded iterations here, 200 and
more there). It runs as its own process: it forks a child per iteration, which needs a
parent without threads, and pytest's process may have some."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # the longest tier: scripts/test.sh -m "not slow" leaves it out

ROOT = Path(__file__).resolve().parents[2]


def test_killed_workstation_replays_without_duplicate_loss_or_leftover():
    completed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "outbox_kill.py")]
        + ["--iterations", "20", "--seed", "1307", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.stdout, completed.stderr[-3000:]
    totals = json.loads(completed.stdout.splitlines()[-1])
    failures = totals["failures"]
    assert totals["iterations"] == 20
    assert totals["duplicates"] == 0, failures
    assert totals["lost"] == 0, failures
    assert totals["left"] == 0 and totals["held"] == 0, failures
    assert totals["accuse_duplicates"] == 0 and totals["accuse_missing"] == 0, failures
    # Every DMP made is a capture's: the confirmed ones, and those whose record() was cut
    # short after the entry was written (they went through, once).
    assert totals["dmps"] == totals["confirmed"] + totals["unconfirmed_through"]
    assert totals["accuses"] == totals["dmps"]
    # The kills did land before, during and after the creation.
    killed = sum(n for phase, n in totals["phases"].items() if phase != "finished")
    assert killed >= 15, totals["phases"]
    assert {"sending", "created", "accuse"} & set(totals["phases"]), totals["phases"]
    assert totals["ok"] and completed.returncode == 0, completed.stderr[-3000:]
