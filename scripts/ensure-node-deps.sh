#!/usr/bin/env bash
# Installs what the tests of real clients run: Node.js, npm and Chromium
# (from Debian, when root and missing), then the npm packages pinned in
# tests/node/ (Apollo's composer, gateway, server and client, esbuild,
# graphql-js, graphql-http's audit, playwright-core, axe-core, oidc-provider,
# the graphql-ws and graphql-sse reference clients with ws) into a cache directory
# outside the clone.
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=${CATALOGUE_NODE_DIR:-$HOME/.cache/catalogue-gateway/node}

say() { printf 'ensure-node-deps: %s\n' "$*" >&2; }

missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    say "${missing[*]} missing and this is not root: sudo apt-get install -y ${missing[*]}, then make test again."
    exit 1
  fi
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The tools are pinned, with their dependencies' integrity hashes, in
# tests/node/package-lock.json; `npm ci` installs exactly that, again
# whenever the lock file changes.
LOCK=tests/node/package-lock.json
if ! cmp -s "$LOCK" "$DIR/package-lock.json" || [ ! -d "$DIR/node_modules" ]; then
  say "installing the test tools of tests/node/package.json into $DIR"
  mkdir -p "$DIR"
  cp tests/node/package.json "$LOCK" "$DIR/"
  npm ci --silent --no-audit --no-fund --prefix "$DIR" >/dev/null
fi
