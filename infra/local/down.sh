#!/usr/bin/env bash
# Stop the local Kafka broker, FerretDB, Jaeger, Redis and MariaDB started by up.sh (or
# by their own scripts' start). Idempotent; data stays in the cache for the next start.
# To reset everything: down.sh && rm -rf .cache/kafka .cache/ferretdb/data
set -euo pipefail
LOG_NAME=down
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib.sh"

status=0
"$INFRA_LOCAL_DIR/kafka.sh" stop || status=1
"$INFRA_LOCAL_DIR/ferretdb.sh" stop || status=1
"$INFRA_LOCAL_DIR/jaeger.sh" stop || status=1
"$INFRA_LOCAL_DIR/redis.sh" stop || status=1
"$INFRA_LOCAL_DIR/mariadb.sh" stop || status=1
exit "$status"
