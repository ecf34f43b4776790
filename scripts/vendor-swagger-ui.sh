#!/usr/bin/env bash
# Refreshes the Swagger UI assets that Orbit embeds in its binary (adapters/http/static/vendor/
# swagger-ui, served under /ui/static/vendor/ and used to render OpenAPI documents; no CDN is
# used at run time). Takes the version from the VERSION file, or the first argument.
#
#   scripts/vendor-swagger-ui.sh [VERSION]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/adapters/http/static/vendor/swagger-ui"
version="${1:-$(cat "$dest/VERSION")}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "swagger-ui-dist@$version" --silent >/dev/null && tar xzf "swagger-ui-dist-$version.tgz")
for f in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE; do
  cp "$work/package/$f" "$dest/$f"
done
echo "$version" >"$dest/VERSION"
echo "vendor-swagger-ui: swagger-ui-dist $version in $dest"
