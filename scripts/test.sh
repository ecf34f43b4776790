#!/usr/bin/env bash
# Runs every test of Orbit on a fresh machine: installs what is missing (PostgreSQL, Redis,
# Chromium from Debian's packages; npm packages from the lock files), starts throwaway
# PostgreSQL, Redis, Temporal and MinIO servers on loopback (and installs the client code
# generators), runs the formatting and lint gates, the
# Rust tests (contract suites on memory, SQLite, PostgreSQL, Redis and Temporal; API; git
# sync against git daemon; end-to-end and crash tests), the
# TypeScript client's tests and drift check, and the browser tests; then stops what it
# started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

source scripts/lib/services.sh
source scripts/lib/temporal.sh
source scripts/lib/minio.sh
work=$(mktemp -d -t orbit-test.XXXXXX)
server_pid=""
cleanup() {
  local status=$?
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  orbit_stop_temporal || true
  orbit_stop_minio || true
  orbit_stop_all
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

step() { printf '\n==> %s\n' "$*"; }

step "Installing what the tests need (skipped when present)"
orbit_apt_install postgresql redis-server git ca-certificates curl
if command -v rustup >/dev/null; then rustup component add clippy rustfmt >/dev/null 2>&1 || true; fi

step "Starting PostgreSQL, Redis and a Temporal dev server on loopback"
orbit_start_postgres "$work/pg"
orbit_start_redis "$work/redis"
orbit_start_temporal "$work/temporal"

step "Starting MinIO (S3-compatible object storage; built with go install on first use)"
orbit_start_minio "$work/minio"
export ORBIT_REQUIRE_SERVICES=1

step "Installing the real-world API schema corpus (npm packages that ship OpenAPI documents)"
mkdir -p "$work/api-corpus"
(cd "$work/api-corpus" && npm install --no-save --ignore-scripts --no-audit --no-fund --silent \
  @readme/oas-examples@8.2.2 @octokit/openapi@23.0.2 >/dev/null)
export ORBIT_API_CORPUS="$work/api-corpus/node_modules/@readme/oas-examples"
export ORBIT_GITHUB_OPENAPI="$work/api-corpus/node_modules/@octokit/openapi/generated"
step "Installing what compiling the generated clients needs (Maven and a JDK; OpenSSL headers for the Rust client's default TLS)"
orbit_apt_install maven default-jdk-headless pkg-config libssl-dev
step "Installing the client code generators (scripts/install-generators.sh; fast when present)"
export ORBIT_GENERATORS_DIR="${ORBIT_GENERATORS_DIR:-$HOME/.local/share/orbit/generators}"
bash scripts/install-generators.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo test (memory, SQLite, PostgreSQL, Redis, Temporal, git; API; end-to-end)"
cargo test --workspace
cargo build -p orbit --quiet
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
export ORBIT_BIN="$target_dir/debug/orbit"

step "TypeScript client: regenerate, check for drift, build"
bash scripts/check-ts-drift.sh

step "TypeScript client against a running orbit serve (PostgreSQL + Redis)"
token="ts-test-token-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
port=$(orbit_free_port)
db="orbit_ts_$$"
"$ORBIT_PG_BIN/psql" -q "$ORBIT_TEST_DATABASE_URL" -c "CREATE DATABASE $db" >/dev/null
ORBIT_DATABASE_URL="${ORBIT_TEST_DATABASE_URL%/*}/$db" ORBIT_REDIS_URL="$ORBIT_TEST_REDIS_URL" \
  ORBIT_BOOTSTRAP_TOKEN="$token" ORBIT_LOG=warn \
  "$ORBIT_BIN" serve --listen "127.0.0.1:$port" --data-dir "$work/ts-data" >"$work/ts-server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
(cd clients/ts && ORBIT_URL="http://127.0.0.1:$port" ORBIT_TOKEN="$token" npm test)
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

step "Browser tests (headless Chromium)"
bash tests/browser/run.sh

step "All test suites passed"
