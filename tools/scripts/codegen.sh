#!/usr/bin/env bash
# Generates libs/contracts/src/generated from proto/ with protoc + ts-proto. Never edit the output.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
command -v protoc >/dev/null || bash "$root/tools/scripts/ensure-protoc.sh"
out="$root/libs/contracts/src/generated"
rm -rf "$out" && mkdir -p "$out"
cd "$root/proto"
protoc \
  --plugin=protoc-gen-ts_proto="$root/node_modules/.bin/protoc-gen-ts_proto" \
  --ts_proto_out="$out" \
  --ts_proto_opt=outputServices=grpc-js,esModuleInterop=true,env=node,oneof=unions-value,enumsAsLiterals=true,importSuffix=.ts,useExactTypes=false,forceLong=number,snakeToCamel=true,outputIndex=false,useOptionals=none \
  $(find codestep -name '*.proto' | sort)
echo "generated $(find "$out" -name '*.ts' | wc -l) files into ${out#$root/}"
