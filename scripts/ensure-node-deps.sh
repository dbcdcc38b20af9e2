#!/usr/bin/env bash
# Installs what the federation composition and portal browser tests run:
# Node.js, npm and Chromium (from Debian, when root and missing), then
# Apollo's composer, graphql-js and playwright-core from the npm registry into
# a cache directory outside the clone.
set -euo pipefail

DIR=${CATALOGUE_NODE_DIR:-$HOME/.cache/catalogue-gateway/node}
COMPOSITION=2.14.4
GRAPHQL=16.15.0
PLAYWRIGHT=1.65.1

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

# Whether the npm package $1 is installed at version $2.
installed() {
  node -e "process.exit(require('$DIR/node_modules/$1/package.json').version === '$2' ? 0 : 1)" 2>/dev/null
}

if ! installed @apollo/composition "$COMPOSITION" || ! installed graphql "$GRAPHQL" \
  || ! installed playwright-core "$PLAYWRIGHT"; then
  say "installing @apollo/composition@$COMPOSITION graphql@$GRAPHQL playwright-core@$PLAYWRIGHT into $DIR"
  mkdir -p "$DIR"
  npm install --silent --no-audit --no-fund --prefix "$DIR" \
    "@apollo/composition@$COMPOSITION" "graphql@$GRAPHQL" "playwright-core@$PLAYWRIGHT" >/dev/null
fi
