#!/usr/bin/env bash
# Installs the real clients of the interop tests (Microsoft's msal, azure-identity and
# @azure/identity; grpcio and grpcio-status, a standard gRPC client) into target/interop (idempotent), then
# prints the `export` lines the tests read. Progress goes to stderr; stdout is for `eval`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${AGENTMINT_INTEROP_DIR:-$root/target/interop}"
mkdir -p "$dir"
venv="$dir/venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import msal, azure.identity, grpc, grpc_status' 2>/dev/null; then
  echo "interop: installing msal, azure-identity, grpcio and grpcio-status into $venv" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/tests/interop/requirements.txt" >&2
fi
node_dir="$dir/node"
if command -v npm >/dev/null 2>&1; then
  if [ ! -d "$node_dir/node_modules/@azure/identity" ]; then
    echo "interop: installing @azure/identity into $node_dir" >&2
    mkdir -p "$node_dir"
    cp "$root/tests/interop/package.json" "$node_dir/package.json"
    (cd "$node_dir" && npm install --silent --no-audit --no-fund >&2)
  fi
  echo "export AGENTMINT_INTEROP_NODE_DIR='$node_dir'"
else
  echo "interop: npm not found; JS interop tests will fail" >&2
fi
echo "export AGENTMINT_INTEROP_PYTHON='$venv/bin/python'"
