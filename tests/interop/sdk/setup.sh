#!/usr/bin/env bash
# Installs the unmodified Azure SDKs the managed-identity checks run (idempotent):
#   ${AGENTMINT_INTEROP_DIR:-target/interop}/sdk-venv   azure-identity, msal, requests (pinned in
#                                                       tests/interop/requirements.txt)
#   ${AGENTMINT_INTEROP_DIR:-target/interop}/node       @azure/identity (pinned in tests/interop/package.json)
# then prints the `export` lines `crates/sandbox/tests/sdk_interop.rs` reads:
#   eval "$(tests/interop/sdk/setup.sh)" && cargo test -p agentmint-sandbox --test sdk_interop
# Progress goes to stderr; stdout is only for `eval`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
dir="${AGENTMINT_INTEROP_DIR:-$root/target/interop}"
mkdir -p "$dir"

venv="$dir/sdk-venv"
if ! "$venv/bin/python" -c 'import msal, azure.identity, requests' 2>/dev/null; then
  echo "sdk interop: installing azure-identity and msal into $venv" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/tests/interop/requirements.txt" >&2
fi

node_dir="$dir/node"
if ! command -v npm >/dev/null 2>&1; then
  echo "sdk interop: npm not found; the JS check cannot run" >&2
elif [ ! -d "$node_dir/node_modules/@azure/identity" ]; then
  version="$(node -p "require('$root/tests/interop/package.json').dependencies['@azure/identity']")"
  echo "sdk interop: installing @azure/identity@$version into $node_dir" >&2
  mkdir -p "$node_dir"
  npm install --silent --no-audit --no-fund --prefix "$node_dir" "@azure/identity@$version" >&2
fi

echo "export AGENTMINT_INTEROP_PYTHON='$venv/bin/python'"
if [ -d "$node_dir/node_modules/@azure/identity" ]; then
  echo "export AGENTMINT_INTEROP_NODE_DIR='$node_dir'"
fi
