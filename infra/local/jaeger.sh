#!/usr/bin/env bash
# A real Jaeger for codestep's traces, without Docker: Jaeger v2 all-in-one
# (github.com/jaegertracing/jaeger/cmd/jaeger v1.75.0, an OpenTelemetry Collector
# distribution) built from the Go module proxy through the tool module in
# infra/local/jaeger/, run with our config (OTLP in, memory storage, query API out).
#
#   infra/local/jaeger.sh fetch    build the binary into the cache (only when its inputs changed)
#   infra/local/jaeger.sh start    fetch if needed, start, wait until the query API answers
#   infra/local/jaeger.sh stop     stop the server started from this cache (idempotent)
#   infra/local/jaeger.sh status   exit 0 if running and healthy, 1 if running but unhealthy, 3 if stopped
#
# The Go module carries no Jaeger UI assets (they are the separate jaeger-ui web project):
# the UI port serves Jaeger's placeholder page unless JAEGER_UI_ASSETS names a built
# jaeger-ui directory. The query API (/api/traces/{id}, /api/v3/...) is complete either way.
#
# Environment (all optional; every listener is on 127.0.0.1):
#   JAEGER_OTLP_HTTP_PORT   OTLP/HTTP receiver (traces: /v1/traces)   (default 14318)
#   JAEGER_OTLP_GRPC_PORT   OTLP/gRPC receiver                        (default 14317)
#   JAEGER_QUERY_PORT       query API and UI (HTTP)                   (default 16696)
#   JAEGER_QUERY_GRPC_PORT  query API (gRPC)                          (default 16695)
#   JAEGER_HEALTH_PORT      health check (GET /status)                (default 13143)
#   JAEGER_LOG_LEVEL        debug, info, warn, error                  (default warn)
#   JAEGER_START_TIMEOUT    seconds to wait for health                (default 60)
#   CODESTEP_CACHE_DIR      cache root                                (default <repo>/.cache)
#   CODESTEP_GO_CACHE_DIR   Go module and build caches for this build (default ~/.cache/codestep/go:
#                           per user, shared by every checkout, so a fresh clone does not compile
#                           Jaeger's dependencies again; its first build anywhere takes tens of minutes)
set -euo pipefail
LOG_NAME=jaeger
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib.sh"

JAEGER_HOST=127.0.0.1
export JAEGER_OTLP_HTTP_PORT="${JAEGER_OTLP_HTTP_PORT:-14318}"
export JAEGER_OTLP_GRPC_PORT="${JAEGER_OTLP_GRPC_PORT:-14317}"
export JAEGER_QUERY_PORT="${JAEGER_QUERY_PORT:-16696}"
export JAEGER_QUERY_GRPC_PORT="${JAEGER_QUERY_GRPC_PORT:-16695}"
export JAEGER_HEALTH_PORT="${JAEGER_HEALTH_PORT:-13143}"
export JAEGER_LOG_LEVEL="${JAEGER_LOG_LEVEL:-warn}"
JAEGER_START_TIMEOUT="${JAEGER_START_TIMEOUT:-60}"
for port in JAEGER_OTLP_HTTP_PORT JAEGER_OTLP_GRPC_PORT JAEGER_QUERY_PORT JAEGER_QUERY_GRPC_PORT JAEGER_HEALTH_PORT; do
  check_port "$port" "${!port}"
done

SRC_DIR="$INFRA_LOCAL_DIR/jaeger"
JAEGER_HOME="$CACHE_ROOT/jaeger"
BIN="$JAEGER_HOME/bin/codestep-jaeger"
BUILD_STAMP="$JAEGER_HOME/bin/.build-stamp"
LOG_DIR="$JAEGER_HOME/logs"
PIDFILE="$JAEGER_HOME/jaeger.pid"
CONFIG="$JAEGER_HOME/config.yaml"
MARKER="$BIN --config"
QUERY_URL="http://$JAEGER_HOST:$JAEGER_QUERY_PORT"

go_env() {
  # Jaeger pulls in a large part of the OpenTelemetry Collector: compiled cold it takes tens of
  # minutes on two cores (56 min measured on this loaded machine), warm under a minute. Like Go's
  # own default caches, ours are per user and shared by every checkout (a clean clone reuses
  # them); the binary itself stays in this checkout's cache. GOTOOLCHAIN=local: never download another Go.
  local go_cache="${CODESTEP_GO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/codestep/go}"
  mkdir -p "$go_cache"
  export GOMODCACHE="$go_cache/mod"
  export GOCACHE="$go_cache/build"
  export GOPATH="$go_cache/path"
  export GOFLAGS="-modcacherw"
  export GOTOOLCHAIN=local
  export CGO_ENABLED=0
}

cmd_fetch() {
  require_cmd go "install Go 1.24+ (https://go.dev/dl/)"
  go_env
  local stamp
  stamp="$(fingerprint "jaeger-build-v1 $(go env GOVERSION)" "$SRC_DIR/go.mod" "$SRC_DIR/go.sum")"
  if [[ -x "$BIN" && -f "$BUILD_STAMP" && "$(cat "$BUILD_STAMP")" == "$stamp" ]]; then
    log "binary up to date at $BIN"
    return 0
  fi
  log "building Jaeger (module proxy: $(go env GOPROXY)) into $BIN; the first build takes several minutes"
  mkdir -p "$JAEGER_HOME/bin"
  local started=$SECONDS
  # go.sum is committed: a tampered or re-tagged module fails the build instead of being
  # accepted. The tool's version is the one go.mod pins (`go get -tool ...@v1.75.0`).
  (cd "$SRC_DIR" && go build -trimpath -ldflags "-s -w" -o "$BIN.tmp" github.com/jaegertracing/jaeger/cmd/jaeger) >&2 ||
    die "go build failed (network? module proxy? see output above)"
  mv "$BIN.tmp" "$BIN"
  printf '%s\n' "$stamp" >"$BUILD_STAMP"
  log "built $(du -h "$BIN" | cut -f1) binary in $((SECONDS - started))s"
}

health() {
  "$NODE_BIN" "$INFRA_LOCAL_DIR/health.ts" jaeger "http://$JAEGER_HOST:$JAEGER_HEALTH_PORT,$QUERY_URL"
}

wait_healthy() {
  wait_server_healthy jaeger Jaeger "$PIDFILE" "$MARKER" "$JAEGER_HOST:$JAEGER_QUERY_PORT" "$JAEGER_START_TIMEOUT" "$LOG_DIR/jaeger.log"
}

cmd_start() {
  require_node
  if pid_alive "$PIDFILE" "$MARKER"; then
    log "already running (pid $(cat "$PIDFILE")); checking health"
    wait_healthy
    return 0
  fi
  rm -f "$PIDFILE"
  local port
  for port in "$JAEGER_OTLP_HTTP_PORT" "$JAEGER_OTLP_GRPC_PORT" "$JAEGER_QUERY_PORT" "$JAEGER_QUERY_GRPC_PORT" "$JAEGER_HEALTH_PORT"; do
    ! port_open "$JAEGER_HOST" "$port" ||
      die "port $JAEGER_HOST:$port is already in use by a process this script did not start; stop it or set the JAEGER_*_PORT variables"
  done
  cmd_fetch
  mkdir -p "$LOG_DIR"
  # The config in the cache (not the source tree) is what runs, so `ps` shows a path of this cache.
  cp "$SRC_DIR/config.yaml" "$CONFIG"
  local ui_args=()
  if [[ -n "${JAEGER_UI_ASSETS:-}" ]]; then
    [[ -f "$JAEGER_UI_ASSETS/index.html" ]] || die "JAEGER_UI_ASSETS=$JAEGER_UI_ASSETS has no index.html (a built jaeger-ui directory is expected)"
    ui_args=(--set "extensions::jaeger_query::ui::assets_path=$JAEGER_UI_ASSETS")
  fi
  log "starting: OTLP http://$JAEGER_HOST:$JAEGER_OTLP_HTTP_PORT/v1/traces (gRPC :$JAEGER_OTLP_GRPC_PORT), query $QUERY_URL (log $LOG_DIR/jaeger.log)"
  printf '\n=== start %s ===\n' "$(date -u +%FT%TZ)" >>"$LOG_DIR/jaeger.log"
  LOG_FROM="$(file_size "$LOG_DIR/jaeger.log")"
  nohup "$BIN" --config "$CONFIG" "${ui_args[@]}" </dev/null >>"$LOG_DIR/jaeger.log" 2>&1 9>&- &
  printf '%s\n' "$!" >"$PIDFILE"
  SPAWNED_AT=$SECONDS
  wait_healthy
}

cmd_stop() {
  stop_pidfile "$PIDFILE" "$MARKER" 15 jaeger
}

cmd_status() {
  server_status jaeger "$PIDFILE" "$MARKER"
}

with_lock() {
  with_home_lock "$JAEGER_HOME" "$@"
}

case "${1:-}" in
  fetch) with_lock cmd_fetch ;;
  start) with_lock cmd_start ;;
  stop) with_lock cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 fetch|start|stop|status" >&2
    exit 2
    ;;
esac
