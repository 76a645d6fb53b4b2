#!/usr/bin/env bash
# One command: set up, start the real services the tests use, then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh server,test
# The layering (pyproject.toml [tool.importlinter]) holds before any test runs.
.venv/bin/lint-imports --no-cache
.venv/bin/ruff format --check --quiet proclient tests benchmarks fuzz
.venv/bin/ruff check --quiet proclient tests benchmarks fuzz
# Each scripts/services/*.sh starts one real service for the tests (pcscd, PostgreSQL, CUPS…)
# and exports what the tests need to find it.
for service in scripts/services/*.sh; do
  [ -e "$service" ] || continue
  # shellcheck source=/dev/null
  source "$service"
done
exec .venv/bin/python -m pytest "$@"
