#!/usr/bin/env bash
# Generates the TypeScript client's code from proto/orbit/v1 into clients/ts/src/gen
# (checked in), then compiles the client and its test with tsc into clients/ts/dist.
#
#   scripts/gen-ts.sh
#
# Needs Node.js (20 or later) and npm; everything else (buf, protoc-gen-es, tsc)
# comes from clients/ts/package-lock.json, installed into clients/ts/node_modules.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/clients/ts"

if [ ! -d node_modules ]; then
  echo "gen-ts: installing clients/ts dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi

echo "gen-ts: buf generate (proto/ -> clients/ts/src/gen)"
npm run --silent generate

echo "gen-ts: tsc (clients/ts -> clients/ts/dist)"
npm run --silent build

echo "gen-ts: done"
