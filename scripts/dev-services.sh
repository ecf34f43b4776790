#!/usr/bin/env bash
#
# scripts/dev-services.sh start|stop|env|status
#
# Runs a local PostgreSQL and Redis for development/tests (127.0.0.1 only,
# free ports), with their files in ${ORBIT_SERVICES_DIR:-/tmp/orbit-services}.
#
#   scripts/dev-services.sh start     start both (restarts them if running);
#                                     writes $ORBIT_SERVICES_DIR/env
#   source /tmp/orbit-services/env    get ORBIT_TEST_DATABASE_URL etc.
#   eval "$(scripts/dev-services.sh env)"   same thing
#   scripts/dev-services.sh stop      stop both (PostgreSQL data is kept in
#                                     $ORBIT_SERVICES_DIR/pg/data and reused)
#
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/services.sh
source "$here/lib/services.sh"

ORBIT_SERVICES_DIR="${ORBIT_SERVICES_DIR:-/tmp/orbit-services}"
env_file="$ORBIT_SERVICES_DIR/env"

env_vars=(
  ORBIT_TEST_DATABASE_URL ORBIT_PG_DIR ORBIT_PG_BIN ORBIT_PG_PORT
  ORBIT_TEST_REDIS_URL ORBIT_REDIS_PORT ORBIT_REDIS_DIR
)

do_stop() {
  if [[ -f "$env_file" ]]; then
    # shellcheck disable=SC1090
    source "$env_file"
  else
    # No env file: still stop whatever runs from the usual places.
    export ORBIT_PG_DIR="$ORBIT_SERVICES_DIR/pg" ORBIT_REDIS_DIR="$ORBIT_SERVICES_DIR/redis"
    local b
    if b=$(_orbit_pg_find_bin 2>/dev/null); then export ORBIT_PG_BIN="$b"; fi
  fi
  orbit_stop_all
  rm -f -- "$env_file"
}

do_start() {
  do_stop
  mkdir -p -- "$ORBIT_SERVICES_DIR"
  # If anything fails half-way, do not leave a half-started pair behind.
  trap orbit_stop_all EXIT
  orbit_start_postgres "$ORBIT_SERVICES_DIR/pg"
  orbit_start_redis "$ORBIT_SERVICES_DIR/redis"
  local tmp="$env_file.tmp" v
  {
    echo "# written by scripts/dev-services.sh start; source this file"
    for v in "${env_vars[@]}"; do
      printf 'export %s=%q\n' "$v" "${!v}"
    done
  } >"$tmp"
  mv -f -- "$tmp" "$env_file"
  trap - EXIT
  echo "services started; run:  source $env_file" >&2
  cat "$env_file"
}

do_env() {
  if [[ ! -f "$env_file" ]]; then
    echo "dev-services: not started (no $env_file); run: $0 start" >&2
    exit 1
  fi
  cat "$env_file"
}

do_status() {
  if [[ ! -f "$env_file" ]]; then
    echo "stopped (no $env_file)"
    exit 1
  fi
  # shellcheck disable=SC1090
  source "$env_file"
  local rc=0
  if "$ORBIT_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$ORBIT_PG_PORT" -t 2; then
    echo "postgres: up on 127.0.0.1:$ORBIT_PG_PORT"
  else
    echo "postgres: DOWN (expected on 127.0.0.1:$ORBIT_PG_PORT)"; rc=1
  fi
  if [[ "$(redis-cli -h 127.0.0.1 -p "$ORBIT_REDIS_PORT" ping 2>/dev/null || true)" == PONG ]]; then
    echo "redis:    up on 127.0.0.1:$ORBIT_REDIS_PORT"
  else
    echo "redis:    DOWN (expected on 127.0.0.1:$ORBIT_REDIS_PORT)"; rc=1
  fi
  exit "$rc"
}

case "${1:-}" in
  start) do_start ;;
  stop) do_stop; echo "services stopped" >&2 ;;
  env) do_env ;;
  status) do_status ;;
  *)
    echo "usage: $0 start|stop|env|status   (files in \${ORBIT_SERVICES_DIR:-/tmp/orbit-services})" >&2
    exit 2
    ;;
esac
