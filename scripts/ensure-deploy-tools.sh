#!/usr/bin/env bash
# Installs the Python tools the tests run (tests/python/requirements.txt:
# kubectl and kubernetes-validate for the manifests, feedparser, pySHACL, PyLD,
# openapi-spec-validator for the formats) into a virtual environment outside
# the clone. Nothing here talks to a cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${CATALOGUE_VENV:-$HOME/.cache/catalogue-gateway/venv}
REQUIREMENTS=tests/python/requirements.txt

say() { printf 'ensure-deploy-tools: %s\n' "$*" >&2; }

if ! command -v python3 >/dev/null; then
  say "python3 is missing: apt-get install -y python3 python3-venv, then make test again."
  exit 1
fi

# The virtual environment keeps a copy of the requirements it was built from:
# a changed pin installs again.
if ! cmp -s "$REQUIREMENTS" "$VENV/requirements.txt"; then
  say "installing the Python tools of $REQUIREMENTS into $VENV"
  if ! python3 -m venv "$VENV" 2>/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
      say "python3-venv is missing and this is not root: sudo apt-get install -y python3-venv, then make test again."
      exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$VENV"
  fi
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  cp "$REQUIREMENTS" "$VENV/requirements.txt"
fi
