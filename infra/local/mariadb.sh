#!/usr/bin/env bash
# A real MariaDB (MySQL wire protocol) for the sandbox socket tests (`net` from actions, the
# `mysql` client), from Debian's mariadb-server package (tools/scripts/ensure-packages.sh
# installs it), without systemd: on 127.0.0.1 only, data under the cache dir, a test user
# `codestep` / `codestep` with mysql_native_password and a database `codestep`.
#
#   infra/local/mariadb.sh start    initialise the data dir if needed, start (or reuse), wait until it answers
#   infra/local/mariadb.sh stop     stop the server started from this cache (idempotent)
#   infra/local/mariadb.sh status   exit 0 if running and healthy, 1 if running but unhealthy, 3 if stopped
#
# Environment (all optional):
#   MARIADB_PORT           listener on 127.0.0.1   (default 13306)
#   MARIADB_START_TIMEOUT  seconds to wait          (default 60)
#   CODESTEP_CACHE_DIR     cache root               (default <repo>/.cache)
set -euo pipefail
LOG_NAME=mariadb
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib.sh"

MARIADB_HOST=127.0.0.1
MARIADB_PORT="${MARIADB_PORT:-13306}"
MARIADB_START_TIMEOUT="${MARIADB_START_TIMEOUT:-60}"
check_port MARIADB_PORT "$MARIADB_PORT"
MARIADB_HOME="$CACHE_ROOT/mariadb"
DATA_DIR="$MARIADB_HOME/data"
SOCKET="$MARIADB_HOME/mariadb.sock"
PIDFILE="$MARIADB_HOME/mariadb.pid"
LOG_FILE="$MARIADB_HOME/mariadb.log"
MARKER="--datadir=$DATA_DIR"

admin() {
  mariadb-admin --no-defaults --protocol=socket --socket="$SOCKET" -uroot "$@"
}

healthy() {
  admin ping >/dev/null 2>&1
}

init_data() {
  [[ -d "$DATA_DIR/mysql" ]] && return 0
  log "initialising $DATA_DIR"
  rm -rf "$DATA_DIR"
  mkdir -p "$DATA_DIR"
  mariadb-install-db --no-defaults --datadir="$DATA_DIR" --user="$(id -un)" --auth-root-authentication-method=normal \
    --skip-test-db >"$MARIADB_HOME/install.log" 2>&1 || { tail -n 30 "$MARIADB_HOME/install.log" >&2; die "mariadb-install-db failed"; }
}

ensure_user() {
  mariadb --no-defaults --protocol=socket --socket="$SOCKET" -uroot -e "
    CREATE DATABASE IF NOT EXISTS codestep;
    CREATE USER IF NOT EXISTS 'codestep'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('codestep');
    GRANT ALL ON codestep.* TO 'codestep'@'127.0.0.1';"
}

cmd_start() {
  require_cmd mariadbd "install it with tools/scripts/ensure-packages.sh (Debian package mariadb-server)"
  if pid_alive "$PIDFILE" "$MARKER" && healthy; then
    log "already running (pid $(cat "$PIDFILE")) on $MARIADB_HOST:$MARIADB_PORT"
    ensure_user
    return 0
  fi
  rm -f "$PIDFILE"
  ! port_open "$MARIADB_HOST" "$MARIADB_PORT" ||
    die "port $MARIADB_HOST:$MARIADB_PORT is already in use by a process this script did not start; stop it or set MARIADB_PORT"
  mkdir -p "$MARIADB_HOME"
  init_data
  LOG_FROM="$(file_size "$LOG_FILE")"
  log "starting on $MARIADB_HOST:$MARIADB_PORT (data $DATA_DIR, log $LOG_FILE)"
  nohup mariadbd --no-defaults "--datadir=$DATA_DIR" --bind-address="$MARIADB_HOST" --port="$MARIADB_PORT" \
    --socket="$SOCKET" --pid-file="$PIDFILE.server" --log-error="$LOG_FILE" --user="$(id -un)" \
    --skip-name-resolve --innodb-buffer-pool-size=32M --skip-log-bin </dev/null >>"$LOG_FILE" 2>&1 &
  printf '%s\n' "$!" >"$PIDFILE"
  SPAWNED_AT=$SECONDS
  local i
  for ((i = 0; i < MARIADB_START_TIMEOUT * 10; i++)); do
    if healthy; then
      ensure_user
      log "up (pid $(cat "$PIDFILE"))"
      return 0
    fi
    spawned_alive "$PIDFILE" "$MARKER" || break
    sleep 0.1
  done
  show_log_tail "$LOG_FILE" 30 "$LOG_FROM"
  die "MariaDB did not become healthy within ${MARIADB_START_TIMEOUT}s"
}

cmd_stop() {
  stop_pidfile "$PIDFILE" "$MARKER" 30 mariadb
}

cmd_status() {
  if ! pid_alive "$PIDFILE" "$MARKER"; then
    echo "mariadb: not running"
    return 3
  fi
  if healthy; then
    echo "mariadb: running (pid $(cat "$PIDFILE")) at mysql://codestep:codestep@$MARIADB_HOST:$MARIADB_PORT/codestep"
    return 0
  fi
  echo "mariadb: running (pid $(cat "$PIDFILE")) but not answering"
  return 1
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) die "usage: $0 start|stop|status" ;;
esac
