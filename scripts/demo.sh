#!/usr/bin/env bash
# One command: set up, then run the demo (virtual Carte Vitale, embedded DMP service).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/proclient demo "$@"
