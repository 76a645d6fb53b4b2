"""A service script's watchdog stops what it started once the shell that sourced it ends
(issue 10, point 8), even when that shell is a subshell of a longer-lived one (a tool running
``source scripts/services/postgres.sh && pytest`` in a subshell of its own shell)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def listening(port: int) -> bool:
    output = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    return bool(output.strip())


def test_postgres_stops_when_the_sourcing_subshell_ends():
    if shutil.which("ss") is None or not (
        Path("/usr/lib/postgresql/15/bin/initdb").exists() or shutil.which("initdb")
    ):
        if os.environ.get("PROCLIENT_REQUIRE_REAL"):
            pytest.fail("PostgreSQL and ss (iproute2) are required here")
        pytest.skip("PostgreSQL or ss (iproute2) is not installed")
    env = {k: v for k, v in os.environ.items() if k != "PROCLIENT_TEST_POSTGRES_URL"}
    # The subshell sources the script and ends; its parent lives on for a while.
    outer = subprocess.Popen(
        [
            "bash",
            "-c",
            "set -euo pipefail; "
            '( source scripts/services/postgres.sh; echo "url=$PROCLIENT_TEST_POSTGRES_URL" ); '
            "sleep 120",
        ],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = outer.stdout.readline()
        match = re.match(r"url=postgresql://postgres@127\.0\.0\.1:(\d+)/postgres", line)
        assert match, f"no cluster started: {line!r} {outer.stderr.readline()!r}"
        port = int(match.group(1))
        directory = re.search(r"\((/tmp/proclient-pg\.[^)]+)\)", outer.stderr.readline())
        assert directory, "postgres.sh did not say where its cluster lives"
        deadline = time.monotonic() + 60  # the watchdog polls every second; pg_ctl stop -m fast
        while listening(port) or Path(directory.group(1)).exists():
            assert time.monotonic() < deadline, "the cluster outlived the subshell by 60 s"
            time.sleep(0.5)
        assert outer.poll() is None  # stopped for the subshell, not for its parent
    finally:
        outer.kill()
        outer.wait()
