# shellcheck shell=bash
#
# scripts/lib/services.sh — start/stop throw-away PostgreSQL and Redis servers
# for Orbit's tests, as plain local processes (no Docker), listening on
# 127.0.0.1 only, on free ports, with their data in directories you choose.
#
# Usage (from another bash script; works under `set -euo pipefail`):
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"
#   trap orbit_stop_all EXIT
#   d=$(mktemp -d)
#   orbit_start_postgres "$d/pg"     # exports ORBIT_TEST_DATABASE_URL, ...
#   orbit_start_redis "$d/redis"     # exports ORBIT_TEST_REDIS_URL, ...
#
# Functions:
#   orbit_free_port               print a free TCP port on 127.0.0.1
#   orbit_apt_install PKG...      apt-get install the PKGs that are missing
#   orbit_start_postgres DIR      private cluster in DIR (data in DIR/data)
#   orbit_stop_postgres           fast shutdown of that cluster
#   orbit_start_redis DIR         redis-server with pid/log/dir in DIR
#   orbit_stop_redis              shutdown nosave of that server
#   orbit_stop_all                both stops; never fails (for `trap ... EXIT`)
#
# Exported by orbit_start_postgres:
#   ORBIT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres
#   ORBIT_PG_DIR   (DIR, absolute)   ORBIT_PG_BIN (server bin dir)
#   ORBIT_PG_PORT  (PORT)
# Exported by orbit_start_redis:
#   ORBIT_TEST_REDIS_URL=redis://127.0.0.1:PORT/
#   ORBIT_REDIS_PORT (PORT)          ORBIT_REDIS_DIR (DIR, absolute)
#
# This file only defines functions; it changes no shell options of its caller.

# Guard against double sourcing.
if [[ -n "${_ORBIT_SERVICES_SH_LOADED:-}" ]]; then
  return 0 2>/dev/null || true
fi
_ORBIT_SERVICES_SH_LOADED=1

# Set once `apt-get update` has run in this process (deliberately not exported).
_ORBIT_APT_UPDATED="${_ORBIT_APT_UPDATED:-}"

_orbit_log() { printf 'orbit-services: %s\n' "$*" >&2; }
_orbit_err() { printf 'orbit-services: ERROR: %s\n' "$*" >&2; }

# _orbit_abspath PATH — absolute form of PATH (need not exist yet).
_orbit_abspath() {
  local p="$1"
  [[ "$p" == /* ]] || p="$PWD/$p"
  if command -v realpath >/dev/null 2>&1; then
    realpath -m -- "$p"
  else
    printf '%s\n' "$p"
  fi
}

# ---------------------------------------------------------------------------
# orbit_free_port — print a TCP port on 127.0.0.1 that was free just now.
orbit_free_port() {
  if ! command -v python3 >/dev/null 2>&1; then
    _orbit_err "python3 is needed to pick a free port"
    return 1
  fi
  python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# ---------------------------------------------------------------------------
# orbit_apt_install PKG... — install the Debian packages among PKG that are
# not installed yet. Runs `apt-get update` once per process before the first
# install. Prints apt's output only if something fails.
orbit_apt_install() {
  local pkg status missing=()
  for pkg in "$@"; do
    status=$(dpkg -s "$pkg" 2>/dev/null) || status=""
    if [[ "$status" != *"Status: install ok installed"* ]]; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi

  local -a sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      _orbit_err "need root (or sudo) to install: ${missing[*]}"
      return 1
    fi
  fi

  local aptlog
  aptlog=$(mktemp "${TMPDIR:-/tmp}/orbit-apt.XXXXXX")

  if [[ -z "$_ORBIT_APT_UPDATED" ]]; then
    _orbit_log "apt-get update"
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get -q update >"$aptlog" 2>&1; then
      _orbit_err "'apt-get update' failed (needed to install: ${missing[*]}); its output:"
      tail -n 40 "$aptlog" >&2 || true
      rm -f "$aptlog"
      return 1
    fi
    _ORBIT_APT_UPDATED=1
  fi

  _orbit_log "apt-get install ${missing[*]}"
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get -q -y --no-install-recommends -o Dpkg::Use-Pty=0 \
      install "${missing[@]}" >"$aptlog" 2>&1; then
    _orbit_err "'apt-get install ${missing[*]}' failed; its output:"
    tail -n 60 "$aptlog" >&2 || true
    rm -f "$aptlog"
    return 1
  fi
  rm -f "$aptlog"
  return 0
}

# ---------------------------------------------------------------------------
# PostgreSQL

# Highest /usr/lib/postgresql/*/bin that holds a server (initdb + pg_ctl).
_orbit_pg_find_bin() {
  local d best=""
  local -a dirs=()
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]] && dirs+=("$d")
  done
  ((${#dirs[@]})) || return 1
  best=$(printf '%s\n' "${dirs[@]}" | sort -V | tail -n 1)
  printf '%s\n' "$best"
}

# Run a command as the `postgres` OS user (initdb/pg_ctl refuse root), or as
# ourselves when not root. Runs from / so an unreadable cwd gives no warnings.
_orbit_pg_run() {
  if [[ "$(id -u)" == 0 ]]; then
    if command -v runuser >/dev/null 2>&1; then
      (cd / && LC_ALL=C.UTF-8 LANG=C.UTF-8 runuser -u postgres -- "$@")
    else
      local q
      q=$(printf '%q ' "$@")
      (cd / && LC_ALL=C.UTF-8 LANG=C.UTF-8 su postgres -s /bin/sh -c "$q")
    fi
  else
    (cd / && LC_ALL=C.UTF-8 LANG=C.UTF-8 "$@")
  fi
}

# Stop and disable nothing permanently: just stop clusters that the Debian
# package may have auto-started (5432 & co), so nothing stray listens.
_orbit_pg_stop_system_clusters() {
  command -v pg_lsclusters >/dev/null 2>&1 || return 0
  local ver name rest
  while read -r ver name _ rest; do
    [[ "$rest" == online* ]] || continue
    _orbit_log "stopping system PostgreSQL cluster $ver/$name started by the package install"
    pg_ctlcluster "$ver" "$name" stop >/dev/null 2>&1 || true
  done < <(pg_lsclusters -h 2>/dev/null || true)
}

# Give the postgres user search (x) permission on every ancestor of $1 that
# it cannot traverse yet (e.g. a root-owned `mktemp -d` dir, mode 700).
_orbit_pg_make_reachable() {
  [[ "$(id -u)" == 0 ]] || return 0
  local p="$1" q
  local -a chain=()
  p=$(dirname -- "$p")
  while [[ "$p" != / && -n "$p" ]]; do
    chain=("$p" "${chain[@]}")
    p=$(dirname -- "$p")
  done
  for q in "${chain[@]}"; do
    if ! _orbit_pg_run test -x "$q" 2>/dev/null; then
      chmod o+x -- "$q"
    fi
  done
}

# orbit_start_postgres DIR — start a private PostgreSQL cluster in DIR.
orbit_start_postgres() {
  if (($# != 1)) || [[ -z "$1" ]]; then
    _orbit_err "usage: orbit_start_postgres DIR"
    return 2
  fi
  local dir bin data sockdir port attempt ok=""
  dir=$(_orbit_abspath "$1")

  if ! bin=$(_orbit_pg_find_bin); then
    orbit_apt_install postgresql || return 1
    _orbit_pg_stop_system_clusters
    if ! bin=$(_orbit_pg_find_bin); then
      _orbit_err "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin after install"
      return 1
    fi
  fi
  if [[ "$(id -u)" == 0 ]] && ! id postgres >/dev/null 2>&1; then
    _orbit_err "OS user 'postgres' does not exist (is the postgresql package installed?)"
    return 1
  fi

  data="$dir/data"
  # Export early so orbit_stop_postgres can clean up even if start fails halfway.
  export ORBIT_PG_DIR="$dir" ORBIT_PG_BIN="$bin"

  if [[ -f "$data/postmaster.pid" ]] &&
      _orbit_pg_run "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    _orbit_err "a PostgreSQL server is already running in $data; stop it first (orbit_stop_postgres)"
    return 1
  fi

  mkdir -p -- "$dir"
  if [[ "$(id -u)" == 0 ]]; then
    chown postgres:postgres -- "$dir"
    _orbit_pg_make_reachable "$dir"
  fi
  chmod 700 -- "$dir"

  if [[ ! -f "$data/PG_VERSION" ]]; then
    if ! _orbit_pg_run "$bin/initdb" -D "$data" -A trust -U postgres --no-sync \
        -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
      _orbit_err "initdb failed in $data; its output:"
      tail -n 40 "$dir/initdb.log" >&2 || true
      return 1
    fi
  fi

  # Unix socket paths are limited to ~107 bytes: use a short dir if DIR is long.
  sockdir="$dir"
  if ((${#sockdir} > 80)); then
    sockdir=$(mktemp -d "${TMPDIR:-/tmp}/orbit-pgsock.XXXXXX")
    if [[ "$(id -u)" == 0 ]]; then
      chown postgres:postgres -- "$sockdir"
    fi
    # Remembered so orbit_stop_postgres can remove it.
    printf '%s\n' "$sockdir" >"$dir/sockdir"
  else
    rm -f -- "$dir/sockdir"
  fi

  for attempt in 1 2 3; do
    port=$(orbit_free_port) || return 1
    if _orbit_pg_run "$bin/pg_ctl" -D "$data" -l "$dir/log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k '$sockdir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=128MB" \
        start >"$dir/pg_ctl.log" 2>&1; then
      ok=1
      break
    fi
    _orbit_log "PostgreSQL did not start on port $port (attempt $attempt)"
  done
  if [[ -z "$ok" ]]; then
    _orbit_err "could not start PostgreSQL in $data; pg_ctl said:"
    cat "$dir/pg_ctl.log" >&2 || true
    _orbit_err "server log ($dir/log):"
    tail -n 40 "$dir/log" >&2 || true
    return 1
  fi

  local i
  for ((i = 0; i < 120; i++)); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 1 \
        >/dev/null 2>&1; then
      export ORBIT_PG_PORT="$port"
      export ORBIT_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
      _orbit_log "PostgreSQL $("$bin/postgres" -V | awk '{print $3}') ready on 127.0.0.1:$port (data $data)"
      return 0
    fi
    sleep 0.25
  done
  _orbit_err "PostgreSQL on 127.0.0.1:$port did not become ready; server log ($dir/log):"
  tail -n 40 "$dir/log" >&2 || true
  export ORBIT_PG_PORT="$port"
  return 1
}

# orbit_stop_postgres — fast shutdown of the cluster started above.
orbit_stop_postgres() {
  local dir="${ORBIT_PG_DIR:-}" bin="${ORBIT_PG_BIN:-}"
  [[ -n "$dir" && -n "$bin" ]] || return 0
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    if ! _orbit_pg_run "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop \
        >/dev/null 2>&1; then
      # Maybe not running (stale pid file), or slow; try immediate as last resort.
      if _orbit_pg_run "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        _orbit_pg_run "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop \
          >/dev/null 2>&1 || _orbit_err "could not stop PostgreSQL in $dir/data"
      fi
    fi
  fi
  if [[ -f "$dir/sockdir" ]]; then
    local sockdir
    sockdir=$(cat "$dir/sockdir" 2>/dev/null) || sockdir=""
    if [[ "$sockdir" == */orbit-pgsock.* && -d "$sockdir" ]]; then
      rm -rf -- "$sockdir"
    fi
    rm -f -- "$dir/sockdir"
  fi
  unset ORBIT_TEST_DATABASE_URL ORBIT_PG_PORT
  return 0
}

# ---------------------------------------------------------------------------
# Redis

_orbit_redis_stop_system() {
  _orbit_log "stopping system redis-server started by the package install (if any)"
  if command -v service >/dev/null 2>&1; then
    service redis-server stop >/dev/null 2>&1 || true
  elif [[ -x /etc/init.d/redis-server ]]; then
    /etc/init.d/redis-server stop >/dev/null 2>&1 || true
  fi
}

# orbit_start_redis DIR — start redis-server with its files in DIR.
orbit_start_redis() {
  if (($# != 1)) || [[ -z "$1" ]]; then
    _orbit_err "usage: orbit_start_redis DIR"
    return 2
  fi
  local dir port attempt i ok="" reply
  dir=$(_orbit_abspath "$1")

  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    orbit_apt_install redis-server || return 1
    _orbit_redis_stop_system
    if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
      _orbit_err "redis-server/redis-cli not found after installing redis-server"
      return 1
    fi
  fi

  mkdir -p -- "$dir"
  export ORBIT_REDIS_DIR="$dir"

  if [[ -f "$dir/redis.pid" ]] && _orbit_redis_pid_alive "$(cat "$dir/redis.pid" 2>/dev/null)"; then
    _orbit_err "a redis-server is already running from $dir; stop it first (orbit_stop_redis)"
    return 1
  fi
  rm -f -- "$dir/redis.pid"

  for attempt in 1 2 3; do
    port=$(orbit_free_port) || return 1
    export ORBIT_REDIS_PORT="$port"
    if ! redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
        --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
        --dir "$dir" >"$dir/redis-start.log" 2>&1; then
      _orbit_log "redis-server failed to launch on port $port (attempt $attempt)"
      continue
    fi
    for ((i = 0; i < 80; i++)); do
      reply=$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) || reply=""
      if [[ "$reply" == PONG ]]; then
        ok=1
        break 2
      fi
      sleep 0.25
    done
    _orbit_log "redis-server did not answer on port $port (attempt $attempt)"
    orbit_stop_redis
    export ORBIT_REDIS_DIR="$dir"
  done
  if [[ -z "$ok" ]]; then
    _orbit_err "could not start redis-server in $dir; its output and log:"
    cat "$dir/redis-start.log" >&2 || true
    tail -n 40 "$dir/redis.log" >&2 || true
    return 1
  fi

  export ORBIT_REDIS_PORT="$port"
  export ORBIT_TEST_REDIS_URL="redis://127.0.0.1:$port/"
  _orbit_log "Redis $(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p') ready on 127.0.0.1:$port (dir $dir)"
  return 0
}

# True if PID is a live redis-server process.
_orbit_redis_pid_alive() {
  local pid="$1" comm
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 0
  [[ "$comm" == redis-server* ]]
}

# orbit_stop_redis — shut the redis-server started above down (no save).
orbit_stop_redis() {
  local port="${ORBIT_REDIS_PORT:-}" dir="${ORBIT_REDIS_DIR:-}" pid="" i
  if [[ -n "$dir" && -f "$dir/redis.pid" ]]; then
    pid=$(cat "$dir/redis.pid" 2>/dev/null) || pid=""
  fi
  if [[ -n "$port" ]] && command -v redis-cli >/dev/null 2>&1; then
    redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
  fi
  if [[ -n "$pid" ]]; then
    # Wait for the shutdown asked above (if we had a port to ask on) ...
    if [[ -n "$port" ]]; then
      for ((i = 0; i < 40; i++)); do
        _orbit_redis_pid_alive "$pid" || break
        sleep 0.25
      done
    fi
    # ... then SIGTERM (no save: started with --save ""), and SIGKILL last.
    if _orbit_redis_pid_alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      for ((i = 0; i < 20; i++)); do
        _orbit_redis_pid_alive "$pid" || break
        sleep 0.25
      done
      if _orbit_redis_pid_alive "$pid"; then
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
  fi
  unset ORBIT_TEST_REDIS_URL ORBIT_REDIS_PORT
  return 0
}

# ---------------------------------------------------------------------------
# orbit_stop_all — stop both; idempotent and never fails, so as
# `trap orbit_stop_all EXIT` the script keeps its own exit status.
orbit_stop_all() {
  orbit_stop_redis || true
  orbit_stop_postgres || true
  return 0
}
