#!/usr/bin/env bash
# One command: set up, then run the demo (virtual Carte Vitale, embedded DMP service).
set -euo pipefail
cd "$(dirname "$0")/.."
# The demo runs the DMP service in-process: it needs the server extra, not the test tools.
bash scripts/setup.sh server
exec .venv/bin/proclient demo "$@"
