# shellcheck shell=bash
#
# scripts/lib/minio.sh — start/stop a throw-away MinIO server (a real S3-compatible object
# store) for Orbit's tests, as a plain local process (no Docker), on 127.0.0.1 only, on a
# free port, with its data in a directory you choose, and create a bucket in it.
#
# Usage (from another bash script; works under `set -euo pipefail`):
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/minio.sh"
#   trap orbit_stop_minio EXIT
#   orbit_start_minio "$(mktemp -d)/minio"   # exports ORBIT_TEST_S3_*
#
# Functions:
#   orbit_install_minio        `go install github.com/minio/minio@latest` unless installed
#   orbit_start_minio DIR      server with its data and log in DIR, bucket "orbit-test"
#   orbit_stop_minio           stop it; never fails
#
# Exported by orbit_start_minio:
#   ORBIT_TEST_S3_ENDPOINT=http://127.0.0.1:PORT   ORBIT_TEST_S3_BUCKET=orbit-test
#   ORBIT_TEST_S3_ACCESS_KEY / ORBIT_TEST_S3_SECRET_KEY   ORBIT_TEST_S3_REGION=us-east-1
#   ORBIT_MINIO_PID
#
# This file only defines functions; it changes no shell options of its caller.

if [[ -n "${_ORBIT_MINIO_SH_LOADED:-}" ]]; then
  return 0 2>/dev/null || true
fi
_ORBIT_MINIO_SH_LOADED=1

_orbit_minio_log() { printf 'orbit-minio: %s\n' "$*" >&2; }
_orbit_minio_err() { printf 'orbit-minio: ERROR: %s\n' "$*" >&2; }

# orbit_install_minio — puts `minio` on PATH (building it with Go if needed); sets ORBIT_MINIO_BIN.
orbit_install_minio() {
  local bin gobin
  if bin=$(command -v minio 2>/dev/null); then
    export ORBIT_MINIO_BIN="$bin"
    return 0
  fi
  if ! command -v go >/dev/null 2>&1; then
    _orbit_minio_err "MinIO needs Go to be built (go install github.com/minio/minio@latest)"
    return 1
  fi
  gobin=$(go env GOBIN)
  [[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
  if [[ ! -x "$gobin/minio" ]]; then
    _orbit_minio_log "go install github.com/minio/minio@latest (a few minutes, once)"
    if ! go install github.com/minio/minio@latest; then
      _orbit_minio_err "go install github.com/minio/minio@latest failed"
      return 1
    fi
  fi
  export ORBIT_MINIO_BIN="$gobin/minio"
}

# _orbit_minio_create_bucket ENDPOINT BUCKET ACCESS SECRET — PUT /BUCKET, signed with AWS
# Signature V4 (Python's standard library only; MinIO answers 200, or 409 if it exists).
_orbit_minio_create_bucket() {
  python3 - "$@" <<'PY'
import datetime, hashlib, hmac, sys, urllib.error, urllib.request
endpoint, bucket, access, secret = sys.argv[1:5]
region, host = "us-east-1", endpoint.split("://", 1)[1]
now = datetime.datetime.now(datetime.timezone.utc)
amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
payload = hashlib.sha256(b"").hexdigest()
headers = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
signed = ";".join(sorted(headers))
canonical = "\n".join(["PUT", f"/{bucket}", "", *[f"{k}:{headers[k]}" for k in sorted(headers)], "", signed, payload])
scope = f"{day}/{region}/s3/aws4_request"
to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
key = ("AWS4" + secret).encode()
for part in (day, region, "s3", "aws4_request"):
    key = hmac.new(key, part.encode(), hashlib.sha256).digest()
signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
request = urllib.request.Request(f"{endpoint}/{bucket}", method="PUT", headers={
    "x-amz-content-sha256": payload, "x-amz-date": amz_date,
    "Authorization": f"AWS4-HMAC-SHA256 Credential={access}/{scope}, SignedHeaders={signed}, Signature={signature}"})
try:
    urllib.request.urlopen(request, timeout=10)
except urllib.error.HTTPError as e:
    if e.code != 409:
        sys.exit(f"creating bucket {bucket}: HTTP {e.code}: {e.read()[:300]!r}")
PY
}

# orbit_start_minio DIR — start MinIO with its data in DIR/data and log in DIR/minio.log.
orbit_start_minio() {
  if (($# != 1)) || [[ -z "$1" ]]; then
    _orbit_minio_err "usage: orbit_start_minio DIR"
    return 2
  fi
  local dir port i pid access secret
  dir="$1"
  [[ "$dir" == /* ]] || dir="$PWD/$dir"
  mkdir -p -- "$dir/data"
  orbit_install_minio || return 1
  access="orbit-test"
  secret="orbit-test-secret-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
  port=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  MINIO_ROOT_USER="$access" MINIO_ROOT_PASSWORD="$secret" MINIO_BROWSER=off \
    MINIO_UPDATE=off MINIO_CI_CD=1 \
    "$ORBIT_MINIO_BIN" server "$dir/data" --address "127.0.0.1:$port" --quiet \
    >>"$dir/minio.log" 2>&1 </dev/null &
  pid=$!
  export ORBIT_MINIO_PID="$pid"
  for ((i = 0; i < 120; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      break
    fi
    if curl -fsS "http://127.0.0.1:$port/minio/health/ready" >/dev/null 2>&1; then
      export ORBIT_TEST_S3_ENDPOINT="http://127.0.0.1:$port" ORBIT_TEST_S3_BUCKET="orbit-test"
      export ORBIT_TEST_S3_ACCESS_KEY="$access" ORBIT_TEST_S3_SECRET_KEY="$secret"
      export ORBIT_TEST_S3_REGION="us-east-1"
      if ! _orbit_minio_create_bucket "$ORBIT_TEST_S3_ENDPOINT" "$ORBIT_TEST_S3_BUCKET" "$access" "$secret"; then
        orbit_stop_minio
        return 1
      fi
      _orbit_minio_log "MinIO ready on $ORBIT_TEST_S3_ENDPOINT (bucket $ORBIT_TEST_S3_BUCKET, data $dir/data)"
      return 0
    fi
    sleep 0.25
  done
  _orbit_minio_err "MinIO did not become ready; its log:"
  tail -n 40 "$dir/minio.log" >&2 || true
  orbit_stop_minio
  return 1
}

# orbit_stop_minio — stop the server started above (SIGTERM, SIGKILL after ~10 s).
orbit_stop_minio() {
  local pid="${ORBIT_MINIO_PID:-}" i
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
  fi
  unset ORBIT_MINIO_PID ORBIT_TEST_S3_ENDPOINT
  return 0
}
