#!/usr/bin/env bash
# The test run leaves nothing behind (issue 10, point 8): run by .ci/run around the test
# command.
#
#   run="$(bash scripts/check_nothing_left.sh record STATE_DIR)"
#   PROCLIENT_TEST_RUN="$run" bash scripts/test.sh …
#   bash scripts/check_nothing_left.sh check STATE_DIR
#
# record: notes the pcscd, postgres, cupsd and haproxy processes and the listening TCP sockets that exist
# before the run, and prints a fresh run id: every process the run starts inherits it in its
# environment (PROCLIENT_TEST_RUN).
# check: once the run's watchdogs have had time to stop what it started (up to
# PROCLIENT_LEFT_TIMEOUT seconds, 60 by default), fails if any of these remain:
# - a process carrying the run id (pcscd, cupsd, a server or a tmux a test left running…);
# - a pcscd, postgres, cupsd or haproxy that was not there before (PostgreSQL rewrites its environment
#   for its process titles: the id cannot be read there);
# - a listening TCP socket that was not there before.
# Meant for a machine where the run is alone (CI): anything started meanwhile by someone else
# counts as left behind.
set -euo pipefail
# This script's own processes must not carry the id it looks for.
if [ -n "${PROCLIENT_TEST_RUN:-}" ]; then exec env -u PROCLIENT_TEST_RUN bash "$0" "$@"; fi

usage() {
  echo "usage: check_nothing_left.sh record|check STATE_DIR" >&2
  exit 2
}
[ "$#" -eq 2 ] || usage
command="$1"
state="$2"

services() {
  # pid and name of each pcscd, postgres, cupsd and haproxy process, one a line
  ps -eo pid=,comm= | awk '$2 == "pcscd" || $2 == "postgres" || $2 == "cupsd" || $2 == "haproxy" { print $1, $2 }' \
    | sort
}

listeners() {
  # local address:port of each listening TCP socket, one a line
  ss -ltnH | awk '{ print $4 }' | sort -u
}

tagged() {
  # pid and name of each process whose environment holds PROCLIENT_TEST_RUN=<run id>
  local run="$1" environ pid
  for environ in /proc/[0-9]*/environ; do
    pid="${environ#/proc/}"
    pid="${pid%/environ}"
    if grep -qzxF "PROCLIENT_TEST_RUN=$run" "$environ" 2>/dev/null; then
      echo "$pid $(cat "/proc/$pid/comm" 2>/dev/null || echo '?')"
    fi
  done
}

case "$command" in
  record)
    command -v ss >/dev/null || {
      echo "check_nothing_left.sh: ss est introuvable (paquet iproute2)" >&2
      exit 1
    }
    mkdir -p "$state"
    run="$(date +%s)-$$-$RANDOM$RANDOM"
    echo "$run" >"$state/run"
    services >"$state/services"
    listeners >"$state/listeners"
    echo "$run"
    ;;
  check)
    [ -r "$state/run" ] || usage
    run="$(cat "$state/run")"
    deadline=$((SECONDS + ${PROCLIENT_LEFT_TIMEOUT:-60}))
    while :; do
      left_tagged="$(tagged "$run")"
      left_services="$(comm -13 "$state/services" <(services))"
      left_listeners="$(comm -13 "$state/listeners" <(listeners))"
      if [ -z "$left_tagged$left_services$left_listeners" ] || [ "$SECONDS" -ge "$deadline" ]; then
        break
      fi
      sleep 1
    done
    if [ -z "$left_tagged$left_services$left_listeners" ]; then
      echo "check_nothing_left.sh: rien ne reste du lancement des tests"
      exit 0
    fi
    echo "check_nothing_left.sh: le lancement des tests a laissé derrière lui :" >&2
    if [ -n "$left_tagged" ]; then
      echo "- des processus qu'il a lancés :" >&2
      sed 's/^/    /' <<<"$left_tagged" >&2
    fi
    if [ -n "$left_services" ]; then
      echo "- des services absents avant lui :" >&2
      sed 's/^/    /' <<<"$left_services" >&2
    fi
    if [ -n "$left_listeners" ]; then
      echo "- des sockets en écoute absents avant lui :" >&2
      while read -r address; do
        ss -ltnpH "sport = :${address##*:}" | awk -v a="$address" '$4 == a { print "    " $4, $6 }' >&2
      done <<<"$left_listeners"
    fi
    exit 1
    ;;
  *)
    usage
    ;;
esac
