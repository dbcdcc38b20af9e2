#!/usr/bin/env bash
# Installs what the federation composition test runs: Node.js and npm (from
# Debian, when root and missing), then Apollo's composer and graphql-js from
# the npm registry into a cache directory outside the clone.
set -euo pipefail

DIR=${CATALOGUE_NODE_DIR:-$HOME/.cache/catalogue-gateway/node}
COMPOSITION=2.14.4
GRAPHQL=16.15.0

say() { printf 'ensure-node-deps: %s\n' "$*" >&2; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    say "Node.js and npm are missing and this is not root: sudo apt-get install -y nodejs npm, then make test again."
    exit 1
  fi
  say "installing nodejs npm"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

installed() {
  node -e "process.exit(require('$DIR/node_modules/@apollo/composition/package.json').version === '$COMPOSITION' ? 0 : 1)" 2>/dev/null
}

if ! installed; then
  say "installing @apollo/composition@$COMPOSITION graphql@$GRAPHQL into $DIR"
  mkdir -p "$DIR"
  npm install --silent --no-audit --no-fund --prefix "$DIR" \
    "@apollo/composition@$COMPOSITION" "graphql@$GRAPHQL" >/dev/null
fi
