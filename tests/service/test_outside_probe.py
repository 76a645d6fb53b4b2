"""The outside probe and the crash run (probe/), quick versions, in the normal suite.

Both are separate programs that share no code with proclient: they start `proclient serve` as
a subprocess and talk HTTPS to it. Here they run with ``--quick`` (a few cases of each family,
short timeouts) and ``--kills 5``; the full runs, with the figures of issue 10, are in
probe/README.md. On SQLite the probe runs the service in test mode, on PostgreSQL in
production mode; without PostgreSQL those skip with their reason (fail under
PROCLIENT_REQUIRE_REAL=1, like every PostgreSQL test).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.probe, pytest.mark.slow]

PROBE = Path(__file__).resolve().parents[2] / "probe"
FAMILIES = (
    "generic",
    "rules",
    "authorisation",
    "insi",
    "password",
    "login-rate",
    "bodies",
    "connections",
    "challenges",
    "tls",
    "log",
)
MODE = {"sqlite": "test", "postgresql": "production"}


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    env.pop("PROCLIENT_SERVER_DATABASE", None)
    return subprocess.run(
        [sys.executable, str(PROBE / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=PROBE.parent,
    )


def test_outside_probe_finds_no_failure(backend):
    result = run(
        "outside_probe.py", "--quick", "--no-timing", "--database", backend, "--mode", MODE[backend]
    )
    lines = result.stdout.splitlines()
    verdicts = [line for line in lines if re.match(r"(PASS|FAIL|SKIP) ", line)]
    failures = [line for line in verdicts if not line.startswith("PASS")]
    assert result.returncode == 0 and not failures, "\n".join(failures) or result.stdout[-3000:]
    assert not result.stderr.strip(), result.stderr[-3000:]
    # Every family ran (none left out by an early stop), and the totals add up.
    ran = {line.split()[1].split("/")[0] for line in verdicts}
    assert ran == set(FAMILIES)
    totals = re.search(r"TOTAL (\d+) cases: (\d+) pass, 0 fail, 0 skip", result.stdout)
    assert totals is not None and int(totals[1]) == int(totals[2]) == len(verdicts) > 60


def test_crash_run_loses_and_duplicates_nothing(backend):
    result = run("crash_run.py", "--database", backend, "--kills", "5")
    out = result.stdout
    assert result.returncode == 0 and "RESULT: OK" in out, out + result.stderr[-3000:]
    assert "5/5 kills" in out
    assert re.search(r"^duplicates: 0$", out, re.M)
    assert re.search(r"^lost acknowledged creations: 0$", out, re.M)
    acknowledged = re.search(r"creations: \d+ sent, (\d+) acknowledged", out)
    assert acknowledged is not None and int(acknowledged[1]) > 0
