#!/usr/bin/env bash
# One test tier of the Nx project in the current directory (each project's `test`, `test:int`
# and `test:e2e` targets call it, so `nx affected -t test:int` runs the right files):
#   unit  *.test.ts (not .int. / .e2e.)   int  *.int.test.ts (needs Kafka + FerretDB: infra/local/up.sh)
#   e2e   *.e2e.test.ts
# A project without files of the tier passes with a line saying so.
set -euo pipefail
tier=${1:?usage: test-tier.sh unit|int|e2e}
case "$tier" in
  unit) mapfile -t files < <(find src -name '*.test.ts' ! -name '*.int.test.ts' ! -name '*.e2e.test.ts' 2>/dev/null | sort) ;;
  int) mapfile -t files < <(find src -name '*.int.test.ts' 2>/dev/null | sort) ;;
  e2e) mapfile -t files < <(find src -name '*.e2e.test.ts' 2>/dev/null | sort) ;;
  *) echo "unknown tier $tier: use unit, int or e2e" >&2; exit 2 ;;
esac
if [ ${#files[@]} -eq 0 ]; then echo "no $tier tests in $(basename "$PWD")"; exit 0; fi
exec node --test --test-reporter=spec --test-concurrency=1 --test-timeout=900000 "${files[@]}"
