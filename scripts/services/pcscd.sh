# Sourced by scripts/test.sh: a private pcscd with the vsmartcard vpcd reader (two slots,
# ports 35963 and 35964, listening on 127.0.0.1 only) for the real card stack tests
# (tests/pcsc). The start and stop logic lives in tests/pcsc/pcscd_control.py, which the tests
# also use to stop and restart pcscd (in the same directory, PROCLIENT_PCSCD_DIR).
# An already running pcscd (system one, or an earlier run's) is stopped by its pid first, once
# no other test run holds pcscd (the lock in pcscd_control.py).
# A watchdog stops our pcscd (whichever runs from PROCLIENT_PCSCD_DIR: the tests may have
# restarted it) and removes the directory when the test run ends: the shell that sourced this
# file ($BASHPID, see postgres.sh), in its own session, deaf to HUP, INT and TERM.
# When pcscd cannot start here, the tests say why (skip, or fail under PROCLIENT_REQUIRE_REAL).

_proclient_pcscd_start() {
  local dir pid watched=$BASHPID # read here: after "&" it would be the watchdog's own
  dir="$(mktemp -d -t proclient-pcscd.XXXXXX)" || return 0
  if ! pid="$(.venv/bin/python tests/pcsc/pcscd_control.py start "$dir")"; then
    echo "pcscd n'a pas pu démarrer : les tests de la pile PC/SC réelle diront pourquoi." >&2
    rm -rf "$dir"
    return 0
  fi
  export PROCLIENT_PCSCD=1 PROCLIENT_PCSCD_PID="$pid" PROCLIENT_PCSCD_DIR="$dir"
  setsid bash -c '
    trap "" HUP INT TERM
    while kill -0 "$1" 2>/dev/null; do sleep 1; done
    "$2" "$3" stop-ours "$4"
    rm -rf "$4"' _ "$watched" "$PWD/.venv/bin/python" "$PWD/tests/pcsc/pcscd_control.py" "$dir" \
    </dev/null >/dev/null 2>&1 &
  disown 2>/dev/null || true
  echo "pcscd.sh: pcscd $pid, lecteurs vpcd sur 127.0.0.1:35963 et 35964 ($dir)" >&2
}

_proclient_pcscd_start
unset -f _proclient_pcscd_start
