#!/usr/bin/env bash
# A real Redis for the sandbox socket tests (`net` from actions, the `redis` client), from
# Debian's redis-server package (tools/scripts/ensure-packages.sh installs it), without systemd:
# on 127.0.0.1 only, no persistence, its files under the cache dir.
#
#   infra/local/redis.sh start    start (or reuse) and wait until PING answers
#   infra/local/redis.sh stop     stop the server started from this cache (idempotent)
#   infra/local/redis.sh status   exit 0 if running and healthy, 1 if running but unhealthy, 3 if stopped
#
# Environment (all optional):
#   REDIS_PORT           listener on 127.0.0.1   (default 16379)
#   REDIS_START_TIMEOUT  seconds to wait          (default 30)
#   CODESTEP_CACHE_DIR   cache root               (default <repo>/.cache)
set -euo pipefail
LOG_NAME=redis
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib.sh"

REDIS_HOST=127.0.0.1
REDIS_PORT="${REDIS_PORT:-16379}"
REDIS_START_TIMEOUT="${REDIS_START_TIMEOUT:-30}"
check_port REDIS_PORT "$REDIS_PORT"
REDIS_HOME="$CACHE_ROOT/redis"
PIDFILE="$REDIS_HOME/redis.pid"
LOG_FILE="$REDIS_HOME/redis.log"
# redis-server rewrites its command line to "redis-server 127.0.0.1:<port>".
MARKER="redis-server $REDIS_HOST:$REDIS_PORT"

healthy() {
  [[ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]
}

cmd_start() {
  require_cmd redis-server "install it with tools/scripts/ensure-packages.sh (Debian package redis-server)"
  require_cmd redis-cli "install it with tools/scripts/ensure-packages.sh (Debian package redis-tools)"
  if pid_alive "$PIDFILE" "$MARKER" && healthy; then
    log "already running (pid $(cat "$PIDFILE")) on $REDIS_HOST:$REDIS_PORT"
    return 0
  fi
  rm -f "$PIDFILE"
  ! port_open "$REDIS_HOST" "$REDIS_PORT" ||
    die "port $REDIS_HOST:$REDIS_PORT is already in use by a process this script did not start; stop it or set REDIS_PORT"
  mkdir -p "$REDIS_HOME"
  LOG_FROM="$(file_size "$LOG_FILE")"
  log "starting on $REDIS_HOST:$REDIS_PORT (log $LOG_FILE)"
  redis-server --bind "$REDIS_HOST" --port "$REDIS_PORT" --dir "$REDIS_HOME" --save '' --appendonly no \
    --daemonize yes --pidfile "$PIDFILE" --logfile "$LOG_FILE" --protected-mode yes
  local i
  for ((i = 0; i < REDIS_START_TIMEOUT * 10; i++)); do
    healthy && { log "up (pid $(cat "$PIDFILE" 2>/dev/null))"; return 0; }
    sleep 0.1
  done
  show_log_tail "$LOG_FILE" 30 "$LOG_FROM"
  die "Redis did not answer PING within ${REDIS_START_TIMEOUT}s"
}

cmd_stop() {
  stop_pidfile "$PIDFILE" "$MARKER" 10 redis
}

cmd_status() {
  if ! pid_alive "$PIDFILE" "$MARKER"; then
    echo "redis: not running"
    return 3
  fi
  if healthy; then
    echo "redis: running (pid $(cat "$PIDFILE")) at redis://$REDIS_HOST:$REDIS_PORT"
    return 0
  fi
  echo "redis: running (pid $(cat "$PIDFILE")) but not answering PING"
  return 1
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) die "usage: $0 start|stop|status" ;;
esac
