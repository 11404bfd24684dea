#!/usr/bin/env bash
# Fetch (if needed) and start the local Kafka broker and FerretDB, wait until
# both are healthy, then print the connection settings as shell exports:
#
#   eval "$(infra/local/up.sh)"     # sets KAFKA_BROKERS and MONGODB_URI
#
# Redis and MariaDB (the sandbox socket tests' servers; redis.sh, mariadb.sh)
# are started too when their Debian packages are installed
# (tools/scripts/ensure-packages.sh), adding REDIS_URL and MYSQL_URL.
#
# stdout carries only the `export` lines; progress and errors go to stderr.
# Idempotent: servers already running from this cache are health-checked and
# reused. Ports come from KAFKA_PORT, KAFKA_CONTROLLER_PORT and FERRETDB_PORT
# (see kafka.sh and ferretdb.sh for defaults and other settings).
set -euo pipefail
LOG_NAME=up
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib.sh"

# Run "<script> <command>" for both servers at once and fail if either fails:
# on a cold cache the Maven fetch and the Go build overlap, and so do the two
# start-ups.
both() {
  local cmd="$1" kafka_pid ferret_pid status=0
  "$INFRA_LOCAL_DIR/kafka.sh" "$cmd" >&2 &
  kafka_pid=$!
  "$INFRA_LOCAL_DIR/ferretdb.sh" "$cmd" >&2 &
  ferret_pid=$!
  wait "$kafka_pid" || status=1
  wait "$ferret_pid" || status=1
  return "$status"
}

started=$SECONDS
both fetch || die "fetching failed (see above)"
fetched=$SECONDS
# Remember what was already running: a failed start stops only what this call
# started, never a server someone else is using.
"$INFRA_LOCAL_DIR/kafka.sh" status >/dev/null 2>&1 && kafka_was_running=1 || kafka_was_running=0
"$INFRA_LOCAL_DIR/ferretdb.sh" status >/dev/null 2>&1 && ferret_was_running=1 || ferret_was_running=0
if ! both start; then
  log "a server failed to start; stopping what this call started"
  ((kafka_was_running)) || "$INFRA_LOCAL_DIR/kafka.sh" stop >&2 || true
  ((ferret_was_running)) || "$INFRA_LOCAL_DIR/ferretdb.sh" stop >&2 || true
  die "infrastructure is not up (see above)"
fi
log "Kafka and FerretDB are up after $((SECONDS - started))s (fetch $((fetched - started))s, start $((SECONDS - fetched))s)"

# The socket tests' servers: quick to start, so after the others; skipped (with a
# warning) where their packages are not installed, and those tests then say so.
if command -v redis-server >/dev/null 2>&1 && command -v mariadbd >/dev/null 2>&1; then
  "$INFRA_LOCAL_DIR/redis.sh" start >&2 || die "Redis failed to start (see above)"
  "$INFRA_LOCAL_DIR/mariadb.sh" start >&2 || die "MariaDB failed to start (see above)"
  printf 'export REDIS_URL=%s\n' "redis://127.0.0.1:${REDIS_PORT:-16379}"
  printf 'export MYSQL_URL=%s\n' "mysql://codestep:codestep@127.0.0.1:${MARIADB_PORT:-13306}/codestep"
else
  log "warning: redis-server or mariadbd is not installed (run tools/scripts/ensure-packages.sh); Redis and MariaDB not started"
fi
printf 'export KAFKA_BROKERS=%s\n' "127.0.0.1:${KAFKA_PORT:-19092}"
printf 'export MONGODB_URI=%s\n' "mongodb://127.0.0.1:${FERRETDB_PORT:-27018}/"
