# Sourced by scripts/test.sh: the machine's real CUPS with a cups-pdf queue for the printing
# tests. Exports PROCLIENT_TEST_PRINTER (the queue) and PROCLIENT_TEST_PRINT_DIR (where
# cups-pdf writes what it "prints").
#
# What it sets, and why:
# - cupsd is used if it already answers (lpstat -r), and left running afterwards; otherwise it
#   is started directly (`cupsd -f` in the background: containers have no systemd, and its pid
#   is known), this script waits for /run/cups/cups.sock, and a watchdog stops that cupsd when
#   the test run ends (the shell that sourced this file, $BASHPID, see postgres.sh). The queue
#   below stays configured either way.
# - `PreserveJobFiles No` in cupsd.conf (through cupsctl): CUPS' default keeps each printed
#   document in /var/spool/cups for a day, which would keep the patient's secrets sheet on
#   disk. A real installation must set the same (docs/workstation.md, "Printing").
# - /etc/cups/cups-pdf-proclient.conf: a private cups-pdf instance (device URI
#   cups-pdf:/proclient) writing to $PROCLIENT_TEST_PRINT_DIR, job id in each file name, files
#   private to their owner. The machine's default cups-pdf.conf is left alone.
# - the queue proclient-pdf on that instance, enabled and accepting jobs.
# Sourced under `set -euo pipefail`: every step is checked; when CUPS is absent or cannot
# start, the variables stay unset and the printing tests skip (or fail under
# PROCLIENT_REQUIRE_REAL=1).

_proclient_cups_start() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo -n"; fi
  if ! command -v cupsd >/dev/null 2>&1 && [ ! -x /usr/sbin/cupsd ]; then
    echo "cups.sh: CUPS absent (cupsd introuvable) ; les tests d'impression seront ignorés" >&2
    return 0
  fi
  if ! command -v lpadmin >/dev/null 2>&1 && [ ! -x /usr/sbin/lpadmin ]; then
    echo "cups.sh: lpadmin introuvable ; les tests d'impression seront ignorés" >&2
    return 0
  fi
  local ppd=""
  for candidate in /usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd /usr/share/ppd/cups-pdf/CUPS-PDF_noopt.ppd; do
    if [ -r "$candidate" ]; then ppd="$candidate"; break; fi
  done
  if [ -z "$ppd" ] || [ ! -x /usr/lib/cups/backend/cups-pdf ]; then
    echo "cups.sh: cups-pdf absent (printer-driver-cups-pdf) ; les tests d'impression seront ignorés" >&2
    return 0
  fi
  if ! LC_ALL=C lpstat -r 2>/dev/null | grep -q "scheduler is running"; then
    $sudo /usr/sbin/cupsd -f </dev/null >/dev/null 2>&1 &
    local started=$! watched=$BASHPID # read here: after "&" it would be the watchdog's own
    # Stop the cupsd started here when the test run ends (kill: sudo passes it on).
    setsid bash -c '
      trap "" HUP INT TERM
      while kill -0 "$1" 2>/dev/null; do sleep 1; done
      case "$(cat "/proc/$2/comm" 2>/dev/null)" in cupsd | sudo) kill "$2" ;; esac' \
      _ "$watched" "$started" </dev/null >/dev/null 2>&1 &
    disown 2>/dev/null || true
    local i
    for i in $(seq 1 100); do
      if ! kill -0 "$started" 2>/dev/null; then
        echo "cups.sh: cupsd n'a pas démarré" >&2
        return 0
      fi
      if [ -S /run/cups/cups.sock ] && LC_ALL=C lpstat -r 2>/dev/null | grep -q "scheduler is running"; then
        break
      fi
      sleep 0.1
    done
  fi
  if ! LC_ALL=C lpstat -r 2>/dev/null | grep -q "scheduler is running"; then
    echo "cups.sh: le planificateur CUPS ne répond pas" >&2
    return 0
  fi
  # Printed documents must not stay in the spool (the secrets sheet).
  if ! grep -qE "^PreserveJobFiles[[:space:]]+(No|Off|false)" /etc/cups/cupsd.conf 2>/dev/null; then
    $sudo cupsctl PreserveJobFiles=No >/dev/null 2>&1 || true
    local i
    for i in $(seq 1 100); do
      LC_ALL=C lpstat -r 2>/dev/null | grep -q "scheduler is running" && break
      sleep 0.1
    done
  fi
  local out="${PROCLIENT_TEST_PRINT_DIR:-/tmp/proclient-cups-pdf}"
  $sudo mkdir -p "$out" && $sudo chmod 1777 "$out" || return 0
  printf 'Out %s\nAnonDirName %s\nLabel 2\nUserUMask 0077\n' "$out" "$out" \
    | $sudo tee /etc/cups/cups-pdf-proclient.conf >/dev/null || return 0
  if ! $sudo lpadmin -p proclient-pdf -v cups-pdf:/proclient -E -P "$ppd" >/dev/null 2>&1; then
    echo "cups.sh: la file proclient-pdf n'a pas pu être créée (lpadmin)" >&2
    return 0
  fi
  $sudo cupsenable proclient-pdf >/dev/null 2>&1 || true
  $sudo cupsaccept proclient-pdf >/dev/null 2>&1 || true
  export PROCLIENT_TEST_PRINTER="proclient-pdf"
  export PROCLIENT_TEST_PRINT_DIR="$out"
  echo "cups.sh: file CUPS proclient-pdf (cups-pdf) écrivant dans $out ; PreserveJobFiles No" >&2
}

_proclient_cups_start
unset -f _proclient_cups_start
