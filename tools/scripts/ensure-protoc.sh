#!/usr/bin/env bash
# protoc comes from Debian's protobuf-compiler; installed here so a fresh machine needs nothing by hand.
set -euo pipefail
command -v protoc >/dev/null && exit 0
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq protobuf-compiler >/dev/null
protoc --version
