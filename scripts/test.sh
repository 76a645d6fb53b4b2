#!/usr/bin/env bash
# One command: set up, start the real services the tests use, then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh server,test
# The layering (pyproject.toml [tool.importlinter]) holds before any test runs.
.venv/bin/lint-imports --no-cache
.venv/bin/ruff format --check --quiet proclient tests benchmarks fuzz probe
.venv/bin/ruff check --quiet proclient tests benchmarks fuzz probe
# Each scripts/services/*.sh starts one real service for the tests (pcscd, PostgreSQL, CUPS…)
# and exports what the tests need to find it. Each also starts a watchdog that stops what it
# started once this shell's PID ends: pytest keeps that PID through exec, so the services stop
# when pytest ends, passed or failed, and even when it is killed (a trap here could not run
# after exec, nor survive a SIGKILL of this shell). scripts/check_nothing_left.sh checks it.
for service in scripts/services/*.sh; do
  [ -e "$service" ] || continue
  # shellcheck source=/dev/null
  source "$service"
done
# In parallel (pytest-xdist; PROCLIENT_TEST_WORKERS=0 for one process, or -n N after): two
# workers a core and one more, as the tests wait (subprocesses, sockets, the pilot's pauses)
# about half their time: on 2 cores, 3 workers used 1.1 cores (308 s), 5 use 1.5 (242 s). (The
# tmux test's keys lost under load with more workers were the App's, fixed: the screen change
# is timed when it happens.) The tests that share pcscd, CUPS or tmux run on one worker
# (tests/conftest.py). The workers are this PID's children: they end with it, and the
# watchdogs above still watch this PID.
exec .venv/bin/python -m pytest -n "${PROCLIENT_TEST_WORKERS:-$((2 * $(nproc) + 1))}" --dist loadgroup "$@"
