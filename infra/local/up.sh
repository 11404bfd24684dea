#!/usr/bin/env bash
# Fetch (if needed) and start the local Kafka broker, FerretDB and Jaeger, wait
# until all are healthy, then print the connection settings as shell exports:
#
#   eval "$(infra/local/up.sh)"     # sets KAFKA_BROKERS, MONGODB_URI, JAEGER_OTLP_TRACES_URL, JAEGER_QUERY_URL
#
# Redis and MariaDB (the sandbox socket tests' servers; redis.sh, mariadb.sh)
# are started too when their Debian packages are installed
# (tools/scripts/ensure-packages.sh), adding REDIS_URL and MYSQL_URL.
#
# stdout carries only the `export` lines; progress and errors go to stderr.
# Idempotent: servers already running from this cache are health-checked and
# reused. Ports come from KAFKA_PORT, KAFKA_CONTROLLER_PORT, FERRETDB_PORT and
# JAEGER_*_PORT (see kafka.sh, ferretdb.sh and jaeger.sh for defaults and other settings).
set -euo pipefail
LOG_NAME=up
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib.sh"

# Run "<script> <command>" for every server at once and fail if any fails: on
# a cold cache the Maven fetch and the two Go builds overlap, and so do the
# start-ups.
SERVERS=(kafka ferretdb jaeger)
all() {
  local cmd="$1" server pids=() status=0 pid
  for server in "${SERVERS[@]}"; do
    "$INFRA_LOCAL_DIR/$server.sh" "$cmd" >&2 &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || status=1
  done
  return "$status"
}

started=$SECONDS
all fetch || die "fetching failed (see above)"
fetched=$SECONDS
# Remember what was already running: a failed start stops only what this call
# started, never a server someone else is using.
declare -A was_running
for server in "${SERVERS[@]}"; do
  "$INFRA_LOCAL_DIR/$server.sh" status >/dev/null 2>&1 && was_running[$server]=1 || was_running[$server]=0
done
if ! all start; then
  log "a server failed to start; stopping what this call started"
  for server in "${SERVERS[@]}"; do
    ((was_running[$server])) || "$INFRA_LOCAL_DIR/$server.sh" stop >&2 || true
  done
  die "infrastructure is not up (see above)"
fi
log "Kafka, FerretDB and Jaeger are up after $((SECONDS - started))s (fetch $((fetched - started))s, start $((SECONDS - fetched))s)"

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
# Not OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: only the tests that want traces send them.
printf 'export JAEGER_OTLP_TRACES_URL=%s\n' "http://127.0.0.1:${JAEGER_OTLP_HTTP_PORT:-14318}/v1/traces"
printf 'export JAEGER_QUERY_URL=%s\n' "http://127.0.0.1:${JAEGER_QUERY_PORT:-16696}"
