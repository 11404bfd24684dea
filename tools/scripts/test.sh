#!/usr/bin/env bash
# The README's test command (`npm test`): contracts up to date, formatting, lint, typecheck, unit tests,
# integration tests against a real Kafka broker and FerretDB (started here when not running, with Jaeger),
# end-to-end tests over the public API. Exits non-zero on any failure.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export PATH="$root/node_modules/.bin:$PATH" NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
node --version | grep -q '^v24\.' || { echo "Node 24 is required (npm install puts it in node_modules/.bin)"; exit 1; }
failed=()
# Jaeger's first build (infra/local/jaeger.sh) takes minutes of Go compiling: started now, in the
# background, it overlaps the checks and unit tests below; up.sh then finds it built (or waits for
# it: jaeger.sh holds a lock), and reports its failure if it failed.
if [ "${CODESTEP_SKIP_INFRA:-}" != "1" ] && command -v go >/dev/null 2>&1; then
  mkdir -p "${CODESTEP_CACHE_DIR:-$root/.cache}"
  bash infra/local/jaeger.sh fetch >"${CODESTEP_CACHE_DIR:-$root/.cache}/jaeger-fetch.log" 2>&1 &
  jaeger_fetch_pid=$!
  # Not left behind when the tests end first (no integration step, an interrupt): the build and its script stopped.
  trap 'pkill -TERM -P "$jaeger_fetch_pid" 2>/dev/null; kill "$jaeger_fetch_pid" 2>/dev/null; true' EXIT
fi
step() { local name=$1; shift; echo; echo "==> $name"; if ! "$@"; then failed+=("$name"); echo "!! $name failed"; fi; }

codegen_check() {
  bash tools/scripts/codegen.sh >/dev/null || return 1
  if git rev-parse --git-dir >/dev/null 2>&1 && ! git diff --quiet -- libs/contracts/src/generated examples/grpc-client/generated; then
    echo "generated contracts differ from proto/: run 'npm run codegen' and commit"; git --no-pager diff --stat -- libs/contracts/src/generated examples/grpc-client/generated; return 1
  fi
}
step "contracts generated from proto/" codegen_check
step "published events: no breaking change against proto/released (buf breaking), docs/events.md current" node tools/scripts/events-contract.ts check
step "public gRPC API: no breaking change against proto/released (buf breaking)" node tools/scripts/public-api-contract.ts check
# Type-aware lint over the whole workspace (googleapis' and the console's types included) needs more than the default 4 GB heap.
lint() { nx show projects >/dev/null && NODE_OPTIONS="${NODE_OPTIONS:-} --max-old-space-size=10240" eslint --max-warnings=0 apps libs tools; }  # nx computes the project graph the boundary rule reads
step "format (prettier --check; fix with npm run format)" prettier --check --log-level=warn "**/*.{ts,tsx,js,json,css}"
step "lint (type-aware, module boundaries)" lint
step "typecheck" tsc -p tsconfig.json
step "OpenAPI lint (Redocly recommended rules, 0 warnings; the document in .cache/openapi.json)" node tools/scripts/lint-openapi.ts
step "typecheck (console, browser)" tsc -p apps/console/src/web/tsconfig.json
step "build the console (apps/console/dist, served by the gateway)" node apps/console/src/build.ts

mapfile -t unit < <(find libs apps tools -path '*/node_modules' -prune -o -name '*.test.ts' ! -name '*.int.test.ts' ! -name '*.e2e.test.ts' -print | sort)
mapfile -t integ < <(find libs apps tools -path '*/node_modules' -prune -o -name '*.int.test.ts' -print | sort)
mapfile -t e2e < <(find libs apps tools -path '*/node_modules' -prune -o -name '*.e2e.test.ts' -print | sort)

step "unit tests" node --test --test-concurrency=2 --test-timeout=120000 "${unit[@]}"

if [ "${CODESTEP_SKIP_INFRA:-}" != "1" ] && [ ${#integ[@]} -gt 0 ]; then
  started_infra=0
  if env_lines=$(bash infra/local/up.sh); then
    started_infra=1
    eval "$env_lines"
    step "integration tests (real Kafka, FerretDB, Redis, MariaDB, Jaeger)" env CODESTEP_DIST_N="${CODESTEP_DIST_N:-1000}" CODESTEP_CRASH_N="${CODESTEP_CRASH_N:-300}" CODESTEP_KAFKA_RESTART_TEST=1 CODESTEP_FERRETDB_RESTART_TEST=1 node --test --test-concurrency=1 --test-timeout=900000 "${integ[@]}"
  else
    failed+=("starting Kafka, FerretDB, Jaeger, Redis and MariaDB (infra/local/up.sh)")
  fi
fi

step "end-to-end tests" node --test --test-concurrency=1 --test-timeout=900000 "${e2e[@]}"

if [ "${started_infra:-0}" = 1 ] && [ "${CODESTEP_KEEP_INFRA:-}" != "1" ]; then bash infra/local/down.sh >/dev/null 2>&1 || true; fi

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"; exit 1
fi
echo "all test stages passed"
