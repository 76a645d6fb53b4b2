# Sourced by scripts/test.sh: a throw-away PostgreSQL cluster for the service tests.
# initdb in a temp dir, listening on 127.0.0.1 on a free port (and a socket in that dir),
# trust authentication for the local user "postgres" only. Exports PROCLIENT_TEST_POSTGRES_URL.
# A watchdog stops the cluster and removes the dir when the test run ends: the shell that
# sourced this file ($BASHPID: scripts/test.sh, whose PID pytest keeps through exec, or the
# subshell a tool runs `source …; pytest` in; $$ would be the parent of such a subshell and may
# live on). The watchdog runs in its own session and ignores HUP, INT and TERM, so that a
# signal to the run's process group (Ctrl+C, a CI timeout) ends pytest but not the cleanup.
# PostgreSQL refuses to run as root: as root, the cluster runs as the "postgres" system user.
# Sourced under `set -euo pipefail`: failures here must not end the caller's shell, so every
# step is checked and a missing PostgreSQL only leaves the variable unset (the tests then
# skip, or fail under PROCLIENT_REQUIRE_REAL=1).

_proclient_pg_start() {
  local bin="${PROCLIENT_PG_BIN:-/usr/lib/postgresql/15/bin}"
  if [ ! -x "$bin/initdb" ]; then
    bin="$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")"
  fi
  if [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
    echo "postgres.sh: PostgreSQL absent (initdb introuvable) ; les tests PostgreSQL seront ignorés" >&2
    return 0
  fi
  local run=()
  if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      echo "postgres.sh: l'utilisateur postgres n'existe pas" >&2
      return 0
    fi
    run=(runuser -u postgres --)
  fi
  local dir port
  dir="$(mktemp -d /tmp/proclient-pg.XXXXXX)" || return 0
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  if ! "${run[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale \
      >"$dir/initdb.log" 2>&1; then
    echo "postgres.sh: initdb a échoué (voir $dir/initdb.log)" >&2
    return 0
  fi
  if ! "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=on" \
      start >/dev/null 2>&1; then
    echo "postgres.sh: PostgreSQL n'a pas démarré (voir $dir/server.log)" >&2
    return 0
  fi
  export PROCLIENT_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
  # Stop the cluster when the test run ends (exec keeps this PID for pytest). $BASHPID is read
  # here: after "&" it would be the watchdog's own.
  local watched=$BASHPID
  setsid bash -c '
    trap "" HUP INT TERM
    while kill -0 "$1" 2>/dev/null; do sleep 1; done
    shift
    dir="$1"
    shift
    "$@" -D "$dir/data" -m fast stop
    rm -rf "$dir"' _ "$watched" "$dir" "${run[@]}" "$bin/pg_ctl" </dev/null >/dev/null 2>&1 &
  disown 2>/dev/null || true
  echo "postgres.sh: PostgreSQL de test sur 127.0.0.1:$port ($dir)" >&2
}

_proclient_pg_start
unset -f _proclient_pg_start
