#!/usr/bin/env bash
# Runs Orbit's headless-Chromium UI tests (ui.test.mjs, knowledge.test.mjs, workflows.test.mjs),
# from any directory. workflows.test.mjs also needs git (for a local `git daemon`).
#
#   tests/browser/run.sh                                 # all scenarios
#   tests/browser/run.sh --test-name-pattern=members     # extra arguments go to `node --test`
#
# Needs ./target/debug/orbit (cargo build -p orbit), or ORBIT_BIN pointing at an orbit binary.
# Installs Debian's chromium if it is missing, and the npm packages if node_modules is missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

# shellcheck source=../../scripts/lib/services.sh
source "$repo/scripts/lib/services.sh"
if [[ -z "${CHROMIUM_BIN:-}" ]]; then
  orbit_apt_install chromium
fi

export ORBIT_BIN="${ORBIT_BIN:-$repo/target/debug/orbit}"
if [[ ! -x "$ORBIT_BIN" ]]; then
  echo "run.sh: no orbit binary at $ORBIT_BIN; build it with 'cargo build -p orbit' or set ORBIT_BIN" >&2
  exit 1
fi

if [[ ! -d "$here/node_modules/playwright-core" ]]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

cd "$here"
exec node --test "$@" "$here/ui.test.mjs" "$here/knowledge.test.mjs" "$here/workflows.test.mjs" "$here/apis.test.mjs"
