# shellcheck shell=bash
# Shared helpers for infra/local/*.sh — sourced, never executed.
#
# Everything these scripts fetch, build, write or log lives under one cache
# directory (default: <repo>/.cache, git-ignored), so a fresh clone needs only
# Java 17+, Maven, Go and the repo's own node_modules, and `rm -rf .cache`
# resets the whole local infrastructure.
#
# Conventions: progress goes to stderr (up.sh keeps stdout for `export` lines);
# a failure prints what went wrong and what to do, then exits non-zero.

# Resolve paths from this file's location, never from the caller's cwd, so the
# scripts work from any directory and from any checkout path.
INFRA_LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$INFRA_LOCAL_DIR/../.." && pwd -P)"
# shellcheck disable=SC2034 # used by the scripts that source this file
CACHE_ROOT="${CODESTEP_CACHE_DIR:-$REPO_ROOT/.cache}"
NODE_BIN="$REPO_ROOT/node_modules/.bin/node"

log() {
  printf '[%s] %s\n' "${LOG_NAME:-infra}" "$*" >&2
}

die() {
  log "error: $*"
  exit 1
}

require_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH; $2"
}

require_node() {
  [[ -x "$NODE_BIN" ]] || die "Node 24 not found at $NODE_BIN; run 'npm ci' at the repo root first"
}

# sha256 of the given files' contents plus any extra words; used as a
# "rebuild when inputs change" stamp.
fingerprint() {
  local extra="$1"
  shift
  { printf '%s\n' "$extra"; cat "$@"; } | sha256sum | cut -d' ' -f1
}

# True when the pid in $1 (a pid file) is alive AND its command line contains
# $2. The marker guards against pid reuse after a reboot or a crash: a stale pid
# file must never make us report — or kill — someone else's process.
pid_alive() {
  local pidfile="$1" marker="$2" pid cmd
  [[ -f "$pidfile" ]] || return 1
  pid="$(cat "$pidfile" 2>/dev/null)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmd="$(ps -p "$pid" -o args= 2>/dev/null)" || return 1
  [[ "$cmd" == *"$marker"* ]]
}

# Like pid_alive, for a process this script spawned at $SPAWNED_AT (bash SECONDS):
# right after the fork its command line is still the launching shell's, not yet
# the server's, so for the first seconds being alive (and not a zombie) is enough.
# Without this, a start could declare the server dead while it was exec'ing, and
# leave it running without a pid file.
spawned_alive() {
  local pidfile="$1" marker="$2" pid state
  [[ -f "$pidfile" ]] || return 1
  pid="$(cat "$pidfile" 2>/dev/null)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  state="$(ps -p "$pid" -o stat= 2>/dev/null)" || return 1
  [[ "$state" != Z* ]] || return 1
  ((SECONDS - ${SPAWNED_AT:--1000} < 10)) && return 0
  pid_alive "$pidfile" "$marker"
}

# True when something accepts TCP connections on $1:$2.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# Size in bytes of a file (0 if missing): taken before a start so a failure
# report shows only what this start logged, not an older run's shutdown.
file_size() {
  if [[ -f "$1" ]]; then wc -c <"$1" | tr -d ' '; else echo 0; fi
}

# Print the last lines of a log file written after byte offset $3 (default 0)
# to stderr, framed, for failure reports.
show_log_tail() {
  local file="$1" lines="${2:-40}" from="${3:-0}"
  if [[ -f "$file" ]] && (($(file_size "$file") > from)); then
    log "last lines (up to $lines) of $file since this start:"
    tail -c +"$((from + 1))" "$file" | tail -n "$lines" | sed 's/^/    /' >&2
  else
    log "(nothing written to $file since this start)"
  fi
}

# Stop the process recorded in a pid file: SIGTERM, wait up to $3 seconds for
# a clean exit, then SIGKILL. Removes the pid file. Safe when not running.
stop_pidfile() {
  local pidfile="$1" marker="$2" grace="${3:-30}" name="$4" pid i
  if ! pid_alive "$pidfile" "$marker"; then
    rm -f "$pidfile"
    log "$name is not running"
    return 0
  fi
  pid="$(cat "$pidfile")"
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop within ${grace}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$pidfile"
  log "$name stopped"
}

# Validate a TCP port number from the environment.
check_port() {
  local name="$1" value="$2"
  if ! [[ "$value" =~ ^[0-9]+$ ]] || ((value < 1 || value > 65535)); then
    die "$name must be a TCP port (1-65535), got '$value'"
  fi
}

# Wait until a server this script started (or found running) is healthy: its process alive, its
# port open, and the calling script's `health` function succeeding (it prints a summary). Gives
# up after $6 seconds: shows the tail of its log $7 written since byte $LOG_FROM, stops it, and
# dies; dies at once, with the log, if the process exits. $1: name (messages, stop), $2: label
# (messages), $3/$4: pid file and marker, $5: host:port to probe, $8: where it serves (optional,
# shown with the summary).
wait_server_healthy() {
  local name="$1" label="$2" pidfile="$3" marker="$4" address="$5" timeout="$6" logfile="$7" where="${8:-}"
  local deadline=$((SECONDS + timeout)) summary last_error="" errfile
  errfile="$(dirname "$logfile")/health.err"
  while ((SECONDS < deadline)); do
    if ! spawned_alive "$pidfile" "$marker"; then
      show_log_tail "$logfile" 40 "${LOG_FROM:-0}"
      rm -f "$pidfile"
      die "$label exited during start-up (log in $logfile)"
    fi
    if port_open "${address%:*}" "${address##*:}"; then
      if summary="$(health 2>"$errfile")"; then
        log "healthy${where:+ $where}: $summary"
        return 0
      fi
      last_error="$(cat "$errfile")"
    fi
    sleep 0.5
  done
  show_log_tail "$logfile" 40 "${LOG_FROM:-0}"
  [[ -z "$last_error" ]] || log "last health probe: $last_error"
  stop_pidfile "$pidfile" "$marker" 10 "$name"
  die "$label was not healthy within ${timeout}s (log in $logfile)"
}

# Print a server's status line, from its pid file and the calling script's `health` function;
# returns 0 when running and healthy, 1 when running but not healthy, 3 when stopped. $1: name,
# $2/$3: pid file and marker, $4: where it serves (optional: "at mongodb://…", "on host:port").
server_status() {
  local name="$1" pidfile="$2" marker="$3" where="${4:-}" summary
  if ! pid_alive "$pidfile" "$marker"; then
    echo "$name: not running"
    return 3
  fi
  require_node
  if summary="$(health 2>&1)"; then
    echo "$name: running (pid $(cat "$pidfile"))${where:+ $where} — $summary"
    return 0
  fi
  echo "$name: running (pid $(cat "$pidfile")) but not healthy — $summary"
  return 1
}

# Run "$@" holding the lock of the server home $1: fetch/start/stop are serialised between
# concurrent callers (parallel test jobs). The server itself is started with fd 9 closed
# (`9>&-`), so a running server never holds the lock.
with_home_lock() {
  local home="$1"
  shift
  mkdir -p "$home"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$home/.lock"
    flock 9
  fi
  "$@"
}
