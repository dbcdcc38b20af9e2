#!/usr/bin/env bash
# Installs cargo-deny, which `make lint` and `make audit` check the
# dependencies with (deny.toml), from crates.io into a directory outside the
# clone when the pinned version is not there yet. The build takes a few
# minutes once; later runs find the binary and return at once.
set -euo pipefail

ROOT=${TOOLS_DIR:-$HOME/.cache/catalogue-gateway/tools}
VERSION=0.20.2

say() { printf 'ensure-cargo-deny: %s\n' "$*" >&2; }

if [ "$("$ROOT/bin/cargo-deny" --version 2>/dev/null)" = "cargo-deny $VERSION" ]; then
  exit 0
fi

say "installing cargo-deny $VERSION into $ROOT"
# A build directory of its own, removed afterwards: the project's target
# directory (CARGO_TARGET_DIR) keeps only the project's artefacts.
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
cargo install --locked --quiet cargo-deny --version "$VERSION" \
  --root "$ROOT" --target-dir "$build"
