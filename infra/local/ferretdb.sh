#!/usr/bin/env bash
# A real MongoDB-wire server for codestep's tests and local development,
# without Docker: FerretDB v1 with its SQLite backend, built from the Go module
# proxy through our tiny main in infra/local/ferretdb/.
#
#   infra/local/ferretdb.sh fetch    build the binary into the cache (only when its inputs changed)
#   infra/local/ferretdb.sh start    fetch if needed, start, wait until a driver `ping` succeeds
#   infra/local/ferretdb.sh stop     stop the server started from this cache (idempotent)
#   infra/local/ferretdb.sh status   exit 0 if running and healthy, 1 if running but unhealthy, 3 if stopped
#
# Environment (all optional):
#   FERRETDB_PORT           listener on 127.0.0.1         (default 27018)
#   FERRETDB_LOG_LEVEL      debug, info, warn, error      (default info)
#   FERRETDB_START_TIMEOUT  seconds to wait for health    (default 60)
#   CODESTEP_CACHE_DIR      cache root                    (default <repo>/.cache)
set -euo pipefail
LOG_NAME=ferretdb
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib.sh"

FERRETDB_HOST=127.0.0.1
FERRETDB_PORT="${FERRETDB_PORT:-27018}"
FERRETDB_LOG_LEVEL="${FERRETDB_LOG_LEVEL:-info}"
FERRETDB_START_TIMEOUT="${FERRETDB_START_TIMEOUT:-60}"
check_port FERRETDB_PORT "$FERRETDB_PORT"

SRC_DIR="$INFRA_LOCAL_DIR/ferretdb"
FERRET_HOME="$CACHE_ROOT/ferretdb"
BIN="$FERRET_HOME/bin/codestep-ferretdb"
BUILD_STAMP="$FERRET_HOME/bin/.build-stamp"
DATA_DIR="$FERRET_HOME/data"
LOG_DIR="$FERRET_HOME/logs"
PIDFILE="$FERRET_HOME/ferretdb.pid"
# Only SQLite is used; leaving PostgreSQL out shortens the build.
BUILD_TAGS=ferretdb_no_postgresql
MARKER="$BIN -listen-addr"
MONGODB_URI="mongodb://$FERRETDB_HOST:$FERRETDB_PORT/"

go_env() {
  # Keep Go's module and build caches inside our cache too, so a fresh machine
  # needs nothing but the go command, and `rm -rf .cache` really resets it.
  # -modcacherw: module files are read-only by default, which would make that
  # rm fail for non-root users. GOTOOLCHAIN=local: never download another Go.
  export GOMODCACHE="$CACHE_ROOT/go/mod"
  export GOCACHE="$CACHE_ROOT/go/build"
  export GOPATH="$CACHE_ROOT/go/path"
  export GOFLAGS="-modcacherw"
  export GOTOOLCHAIN=local
  export CGO_ENABLED=0
}

cmd_fetch() {
  require_cmd go "install Go 1.24+ (https://go.dev/dl/)"
  command -v patch >/dev/null 2>&1 || bash "$REPO_ROOT/tools/scripts/ensure-packages.sh" >&2 || true
  require_cmd patch "install patch (Debian: apt-get install patch)"
  go_env
  local stamp patches=("$SRC_DIR"/patches/*.patch)
  stamp="$(fingerprint "ferretdb-build-v2 $(go env GOVERSION) tags=$BUILD_TAGS" "$SRC_DIR/go.mod" "$SRC_DIR/go.sum" "$SRC_DIR/main.go" "${patches[@]}")"
  if [[ -x "$BIN" && -f "$BUILD_STAMP" && "$(cat "$BUILD_STAMP")" == "$stamp" ]]; then
    log "binary up to date at $BIN"
    return 0
  fi
  log "building FerretDB (module proxy: $(go env GOPROXY)) into $BIN; the first build takes a minute or two"
  mkdir -p "$FERRET_HOME/bin"
  # Build from a vendored copy so that our patches (patches/*.patch, each says why) apply to
  # FerretDB's source without touching the shared module cache. go.sum is committed, so
  # `go mod vendor` fails loudly on a tampered or stale module instead of re-resolving it.
  local build="$FERRET_HOME/build"
  rm -rf "$build"
  mkdir -p "$build"
  cp "$SRC_DIR/go.mod" "$SRC_DIR/go.sum" "$SRC_DIR/main.go" "$build/"
  (cd "$build" && go mod vendor) >&2 || die "go mod vendor failed (network? module proxy? see output above)"
  local p
  for p in "${patches[@]}"; do
    log "applying $(basename "$p")"
    patch --batch --forward --silent -p1 -d "$build/vendor/github.com/FerretDB/FerretDB" <"$p" >&2 ||
      die "patch $p does not apply to the vendored FerretDB (did go.mod change its version?)"
  done
  (cd "$build" && go build -mod=vendor -trimpath -tags "$BUILD_TAGS" -o "$BIN.tmp" .) >&2 ||
    die "go build failed (see output above)"
  mv "$BIN.tmp" "$BIN"
  rm -rf "$build"
  printf '%s\n' "$stamp" >"$BUILD_STAMP"
  log "built $(du -h "$BIN" | cut -f1) binary"
}

health() {
  "$NODE_BIN" "$INFRA_LOCAL_DIR/health.ts" mongo "$MONGODB_URI"
}

wait_healthy() {
  wait_server_healthy ferretdb FerretDB "$PIDFILE" "$MARKER" "$FERRETDB_HOST:$FERRETDB_PORT" "$FERRETDB_START_TIMEOUT" "$LOG_DIR/ferretdb.log" "at $MONGODB_URI"
}

cmd_start() {
  require_node
  if pid_alive "$PIDFILE" "$MARKER"; then
    log "already running (pid $(cat "$PIDFILE")); checking health"
    wait_healthy
    return 0
  fi
  rm -f "$PIDFILE"
  ! port_open "$FERRETDB_HOST" "$FERRETDB_PORT" ||
    die "port $FERRETDB_HOST:$FERRETDB_PORT is already in use by a process this script did not start; stop it or set FERRETDB_PORT"
  cmd_fetch
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  log "starting on $FERRETDB_HOST:$FERRETDB_PORT (SQLite data $DATA_DIR, log $LOG_DIR/ferretdb.log)"
  printf '\n=== start %s ===\n' "$(date -u +%FT%TZ)" >>"$LOG_DIR/ferretdb.log"
  LOG_FROM="$(file_size "$LOG_DIR/ferretdb.log")"
  nohup "$BIN" -listen-addr "$FERRETDB_HOST:$FERRETDB_PORT" -sqlite-dir "$DATA_DIR" -log-level "$FERRETDB_LOG_LEVEL" \
    </dev/null >>"$LOG_DIR/ferretdb.log" 2>&1 9>&- &
  printf '%s\n' "$!" >"$PIDFILE"
  SPAWNED_AT=$SECONDS
  wait_healthy
}

cmd_stop() {
  stop_pidfile "$PIDFILE" "$MARKER" 15 ferretdb
}

cmd_status() {
  server_status ferretdb "$PIDFILE" "$MARKER" "at $MONGODB_URI"
}

with_lock() {
  with_home_lock "$FERRET_HOME" "$@"
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
