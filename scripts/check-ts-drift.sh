#!/usr/bin/env bash
# Fails when the checked-in TypeScript code in clients/ts/src/gen is not what
# proto/orbit/v1 generates: regenerates it into the work tree (scripts/gen-ts.sh)
# and then asks git whether anything under clients/ts/src/gen changed.
#
#   scripts/check-ts-drift.sh
#
# Run it on a clean checkout (as CI does): local, uncommitted edits under
# clients/ts/src/gen count as drift too.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/gen-ts.sh

gen=clients/ts/src/gen
changes="$(git status --porcelain --untracked-files=all -- "$gen")"
if [ -n "$changes" ]; then
  echo >&2
  echo "ERROR: $gen is out of date with proto/: the generated TypeScript differs from what is checked in." >&2
  echo "Run scripts/gen-ts.sh and commit the changes under $gen." >&2
  echo >&2
  echo "$changes" >&2
  git --no-pager diff --stat -- "$gen" >&2
  exit 1
fi
echo "check-ts-drift: $gen is up to date with proto/"
