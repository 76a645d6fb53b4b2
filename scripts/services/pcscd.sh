# Sourced by scripts/test.sh: a private pcscd with the vsmartcard vpcd reader (two slots,
# ports 35963 and 35964) for the real card stack tests (tests/pcsc). The start and stop logic
# lives in tests/pcsc/pcscd_control.py, which the tests also use to stop and restart pcscd.
# An already running pcscd (system one, or an earlier run's) is stopped by its pid first.
# When pcscd cannot start here, the tests say why (skip, or fail under PROCLIENT_REQUIRE_REAL).
if PROCLIENT_PCSCD_PID="$(.venv/bin/python tests/pcsc/pcscd_control.py start "$(mktemp -d -t proclient-pcscd.XXXXXX)")"; then
  export PROCLIENT_PCSCD=1 PROCLIENT_PCSCD_PID
else
  echo "pcscd n'a pas pu démarrer : les tests de la pile PC/SC réelle diront pourquoi." >&2
fi
