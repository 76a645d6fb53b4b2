#!/usr/bin/env bash
# A PostgreSQL primary and its synchronous streaming standby on loopback: an operator's trial
# of the service's failover, and the tests' tool (tests/service/test_failover.py).
#
#   bash scripts/pg_pair.sh up DIR            # primary + synchronous standby
#   bash scripts/pg_pair.sh kill-primary DIR  # kill -9, as a host dying
#   bash scripts/pg_pair.sh promote DIR       # the standby becomes the primary
#   bash scripts/pg_pair.sh status DIR
#   bash scripts/pg_pair.sh down DIR          # stop both, remove DIR (never fails)
#
# up: initdb a primary in DIR/primary on 127.0.0.1 (a free port), pg_basebackup -R a streaming
# standby in DIR/standby (another free port) with its own replication slot; the primary names
# the standby (application_name "proclient_standby") in synchronous_standby_names, with
# synchronous_commit = on: a commit is acknowledged once the standby has flushed it too. up
# waits until the standby streams synchronously (pg_stat_replication.sync_state = 'sync') and
# writes DIR/pair.env (KEY=VALUE lines, for `source`): PRIMARY_PORT, STANDBY_PORT, PG_BIN and
# PROCLIENT_PAIR_URL, a libpq multi-host URL of both with target_session_attrs=read-write (the
# service's server.database). SYNC=off in the environment sets synchronous_commit = off (to
# measure the loss the setting prevents; never in production).
#
# PG_PAIR_WATCH=PID in the environment of `up`: a watchdog takes the pair down (`down DIR`)
# once process PID ends, should it end without doing so itself (a test run killed); it goes
# when DIR does. It runs in its own session and ignores HUP, INT and TERM, as postgres.sh's.
#
# The standby's own synchronous_standby_names is empty: once promoted it commits alone (it has
# no standby of its own) instead of waiting forever for one. Give it a new standby afterwards.
#
# Both listen on 127.0.0.1 only, without a Unix socket (DIR may be a long path), with trust
# authentication for the local user "postgres". As root, PostgreSQL runs as the "postgres"
# user (runuser), as scripts/services/postgres.sh does: DIR is then given to it, and its
# parents must let it through (not a 0700 folder of root's, such as pytest's tmp_path).
set -euo pipefail

APP_NAME=proclient_standby
SLOT=proclient_standby_slot

say() { echo "pg_pair.sh: $*" >&2; }
die() {
  say "$*"
  exit 1
}

usage() {
  echo "usage: pg_pair.sh up|kill-primary|promote|status|down DIR" >&2
  exit 2
}

[ "$#" -eq 2 ] || usage
command="$1"
dir="$2"
case "$dir" in
  /*) ;;
  *) dir="$PWD/$dir" ;;
esac

self="$(readlink -f "$0")"
bin="${PROCLIENT_PG_BIN:-/usr/lib/postgresql/15/bin}"
if [ ! -x "$bin/initdb" ]; then
  bin="$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")"
fi

run=()
if [ "$(id -u)" -eq 0 ]; then
  run=(runuser -u postgres --)
fi

as_pg() { "${run[@]}" "$@"; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

port_of() { # the port a node was set up on (its pair.env line)
  local key="$1"
  sed -n "s/^$key=//p" "$dir/pair.env" 2>/dev/null | head -n1
}

sql() { # sql PORT QUERY: one value, unaligned; fails when the server does not answer
  as_pg "$bin/psql" -X -q -At -h 127.0.0.1 -p "$1" -U postgres -d postgres \
    -v ON_ERROR_STOP=1 -c "$2" 2>/dev/null
}

postmaster_pid() { # the running postmaster of data folder $1, or nothing
  local pidfile="$1/postmaster.pid" pid
  [ -f "$pidfile" ] || return 0
  pid="$(head -n1 "$pidfile" 2>/dev/null || true)"
  if [ -n "$pid" ] && alive "$pid"; then echo "$pid"; fi
}

alive() { # process $1 runs (a zombie, killed but not reaped yet, does not)
  local state
  state="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null || true)"
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

processes_in() { # every process whose working folder is $1 (PostgreSQL's all chdir there)
  local data link pid
  data="$(readlink -f "$1" 2>/dev/null || true)"
  [ -n "$data" ] || return 0
  for link in /proc/[0-9]*/cwd; do
    pid="${link#/proc/}"
    pid="${pid%/cwd}"
    if [ "$(readlink "$link" 2>/dev/null || true)" = "$data" ]; then echo "$pid"; fi
  done
}

kill_all_in() { # SIGKILL to every process of data folder $1 at once, until none is left
  local pids n
  for n in $(seq 1 100); do
    # Again each time: a backend the postmaster forked just before it died is killed too.
    pids="$(processes_in "$1" | tr '\n' ' ')"
    [ -n "${pids// /}" ] || return 0
    # shellcheck disable=SC2086 # one pid per word
    kill -9 $pids 2>/dev/null || true
    sleep 0.1
  done
  say "des processus PostgreSQL de $1 ne se sont pas arrêtés"
  return 1
}

start_node() { # start_node DATA LOG
  if ! as_pg "$bin/pg_ctl" -D "$1" -l "$2" -w -t 60 start >/dev/null 2>&1; then
    die "PostgreSQL n'a pas démarré dans $1 (voir $2)"
  fi
}

cmd_up() {
  [ -x "$bin/initdb" ] && [ -x "$bin/pg_basebackup" ] \
    || die "PostgreSQL absent (initdb ou pg_basebackup introuvable)"
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    die "l'utilisateur postgres n'existe pas"
  fi
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
    die "$dir existe déjà et n'est pas vide"
  fi
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
    chmod 0700 "$dir"
    as_pg test -w "$dir" || die "l'utilisateur postgres ne peut pas écrire dans $dir"
  fi
  local sync="on"
  if [ "${SYNC:-on}" = "off" ]; then sync="off"; fi
  local primary_port standby_port
  primary_port="$(free_port)"
  standby_port="$(free_port)"
  while [ "$standby_port" = "$primary_port" ]; do standby_port="$(free_port)"; done

  if ! as_pg "$bin/initdb" -D "$dir/primary" -U postgres -A trust -E UTF8 --no-locale \
    >"$dir/initdb.log" 2>&1; then
    die "initdb a échoué (voir $dir/initdb.log)"
  fi
  # initdb's pg_hba.conf already lets "replication" in from 127.0.0.1 (trust).
  as_pg tee -a "$dir/primary/postgresql.conf" >/dev/null <<EOF

# --- pg_pair.sh: the primary ---
listen_addresses = '127.0.0.1'
port = $primary_port
unix_socket_directories = ''
max_connections = 200
fsync = on
wal_level = replica
max_wal_senders = 5
max_replication_slots = 5
synchronous_standby_names = '"$APP_NAME"'
synchronous_commit = $sync
EOF
  start_node "$dir/primary" "$dir/primary.log"

  if ! as_pg "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres \
    -D "$dir/standby" -R -X stream -C -S "$SLOT" >"$dir/basebackup.log" 2>&1; then
    die "pg_basebackup a échoué (voir $dir/basebackup.log)"
  fi
  # The copied postgresql.conf is the primary's: the settings below come after and win.
  as_pg tee -a "$dir/standby/postgresql.conf" >/dev/null <<EOF

# --- pg_pair.sh: the standby ---
port = $standby_port
hot_standby = on
synchronous_standby_names = ''
primary_conninfo = 'host=127.0.0.1 port=$primary_port user=postgres application_name=$APP_NAME'
primary_slot_name = '$SLOT'
EOF
  # pg_basebackup -R wrote its own primary_conninfo there (without our application_name).
  as_pg sed -i '/^primary_conninfo/d;/^primary_slot_name/d' "$dir/standby/postgresql.auto.conf"
  start_node "$dir/standby" "$dir/standby.log"

  local n state=""
  for n in $(seq 1 300); do
    state="$(sql "$primary_port" "SELECT sync_state FROM pg_stat_replication \
      WHERE application_name = '$APP_NAME' AND state = 'streaming'" || true)"
    [ "$state" = "sync" ] && break
    sleep 0.1
  done
  [ "$state" = "sync" ] || die "la réplique ne suit pas le primaire en synchrone (voir $dir/standby.log)"

  if [ -n "${PG_PAIR_WATCH:-}" ]; then
    setsid bash -c '
      trap "" HUP INT TERM
      while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done
      if [ -d "$2" ]; then bash "$3" down "$2"; fi' _ "$PG_PAIR_WATCH" "$dir" "$self" \
      </dev/null >/dev/null 2>&1 &
    disown 2>/dev/null || true
  fi
  cat >"$dir/pair.env" <<EOF
PRIMARY_PORT=$primary_port
STANDBY_PORT=$standby_port
PG_BIN=$bin
SYNCHRONOUS_COMMIT=$sync
PROCLIENT_PAIR_URL=postgresql://postgres@127.0.0.1:$primary_port,127.0.0.1:$standby_port/postgres?target_session_attrs=read-write
EOF
  say "primaire sur 127.0.0.1:$primary_port, réplique synchrone sur 127.0.0.1:$standby_port" \
    "(synchronous_commit = $sync) ; réglages dans $dir/pair.env"
}

cmd_kill_primary() {
  local pid
  pid="$(postmaster_pid "$dir/primary")"
  [ -n "$pid" ] || die "le primaire ne tourne pas ($dir/primary)"
  # A host dying: the postmaster and every backend at once, nothing said to the clients.
  kill_all_in "$dir/primary"
  say "primaire tué (kill -9, processus $pid et les siens)"
}

cmd_promote() {
  local port n
  port="$(port_of STANDBY_PORT)"
  [ -n "$port" ] || die "pas de $dir/pair.env : lancez d'abord « up »"
  [ -n "$(postmaster_pid "$dir/standby")" ] || die "la réplique ne tourne pas ($dir/standby)"
  if ! as_pg "$bin/pg_ctl" -D "$dir/standby" -w -t 60 promote >/dev/null 2>&1; then
    die "la promotion de la réplique a échoué (voir $dir/standby.log)"
  fi
  for n in $(seq 1 300); do
    if [ "$(sql "$port" "SELECT pg_is_in_recovery()" || true)" = "f" ] \
      && sql "$port" "CREATE TEMP TABLE pg_pair_probe (x int)" >/dev/null; then
      say "réplique promue : elle accepte les écritures sur 127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  die "la réplique promue n'accepte pas les écritures (voir $dir/standby.log)"
}

cmd_status() {
  [ -f "$dir/pair.env" ] || {
    echo "aucune paire dans $dir"
    return 0
  }
  local node port role
  for node in primary standby; do
    if [ "$node" = primary ]; then port="$(port_of PRIMARY_PORT)"; else port="$(port_of STANDBY_PORT)"; fi
    if [ -z "$(postmaster_pid "$dir/$node")" ]; then
      echo "$node 127.0.0.1:$port arrêté"
      continue
    fi
    role="$(sql "$port" "SELECT CASE WHEN pg_is_in_recovery() THEN 'réplique' ELSE 'primaire' END" \
      || echo "ne répond pas")"
    echo "$node 127.0.0.1:$port en marche, $role"
    sql "$port" "SELECT '  réplication : ' || application_name || ' ' || state || ' ' || sync_state \
      FROM pg_stat_replication" || true
  done
}

cmd_down() {
  local node
  for node in standby primary; do
    [ -d "$dir/$node" ] || continue
    if [ -n "$(postmaster_pid "$dir/$node")" ]; then
      as_pg "$bin/pg_ctl" -D "$dir/$node" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    kill_all_in "$dir/$node" || true # what a kill -9 of the postmaster may leave
  done
  rm -rf "$dir"
  return 0
}

case "$command" in
  up) cmd_up ;;
  kill-primary) cmd_kill_primary ;;
  promote) cmd_promote ;;
  status) cmd_status ;;
  down) cmd_down || true ;;
  *) usage ;;
esac
