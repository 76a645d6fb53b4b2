#!/usr/bin/env bash
# Sets up everything proclient needs on a fresh Debian/Ubuntu machine: the system packages
# listed in scripts/packages/*.txt, then a virtual environment in .venv with the project and
# the extras asked for. Safe to run again: it installs only what is missing.
#
#   bash scripts/setup.sh                # extras "server,test": the demo and the test suite
#   bash scripts/setup.sh server         # the demo (its embedded DMP service needs the server)
#   bash scripts/setup.sh ""             # a workstation only: no server, no test tools
#   PROCLIENT_EXTRAS=server bash scripts/setup.sh   # the same, from the environment
set -euo pipefail
cd "$(dirname "$0")/.."

EXTRAS="${1-${PROCLIENT_EXTRAS-server,test}}"
EXTRAS="${EXTRAS// /}"
if [[ ! "$EXTRAS" =~ ^[a-z,]*$ ]]; then
  echo "setup.sh: extras are names separated by commas (server,test), not « $EXTRAS »" >&2
  exit 2
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

read -r -a PACKAGES <<< "$(cat scripts/packages/*.txt | tr '\n' ' ')"
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installation des paquets système : ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
TARGET="."
if [ -n "$EXTRAS" ]; then TARGET=".[$EXTRAS]"; fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e "$TARGET"
