#!/usr/bin/env bash
# Debian packages the build needs beyond the machine's toolchains (Node, Go, Java + Maven), installed
# here so a fresh machine needs nothing by hand: protoc (protobuf-compiler) for the contracts' codegen,
# patch for infra/local's FerretDB build, redis-server and mariadbd (mariadb-server) for the sandbox socket
# tests' servers (infra/local/redis.sh, mariadb.sh), chromium for the console's browser tests
# (apps/console). Idempotent: installs only what is missing.
set -euo pipefail
declare -A package_of=([protoc]=protobuf-compiler [patch]=patch [redis-server]=redis-server [mariadbd]=mariadb-server [chromium]=chromium)
missing=()
for cmd in "${!package_of[@]}"; do
  command -v "$cmd" >/dev/null || missing+=("${package_of[$cmd]}")
done
((${#missing[@]} == 0)) && exit 0
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
echo "installing Debian packages: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
