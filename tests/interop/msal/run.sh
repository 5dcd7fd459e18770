#!/usr/bin/env bash
# MSAL Python conformance against a running emulator: installs msal into a venv (once), then runs
# conformance.py. Progress goes to stderr.
#
# Environment:
#   AGENTMINT_EMULATOR_URL  https://localhost:PORT of an emulator serving TLS
#   AGENTMINT_EMULATOR_CA   the CA file of that emulator
#   AGENTMINT_WORLD_DIR     the folder its universe was generated into (directory.toml, keys)
#   AGENTMINT_INTEROP_DIR   where the venv lives (default target/interop)
#
# For example:
#   agentmint emulator --generate /tmp/w --tls-dir /tmp/w --listen 127.0.0.1:8443 &
#   AGENTMINT_EMULATOR_URL=https://localhost:8443 AGENTMINT_EMULATOR_CA=/tmp/w/ca.pem \
#     AGENTMINT_WORLD_DIR=/tmp/w tests/interop/msal/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
dir="${AGENTMINT_INTEROP_DIR:-$root/target/interop}"
venv="$dir/venv"
# One pin for the repository: the interop requirements (shared with tests/interop/setup.sh).
msal_pin="$(grep -E '^msal==' "$root/tests/interop/requirements.txt" 2>/dev/null || echo 'msal==1.39.0')"
msal_version="${msal_pin#msal==}"

: "${AGENTMINT_EMULATOR_URL:?set AGENTMINT_EMULATOR_URL}"
: "${AGENTMINT_EMULATOR_CA:?set AGENTMINT_EMULATOR_CA}"
: "${AGENTMINT_WORLD_DIR:?set AGENTMINT_WORLD_DIR}"

ready() {
  "$venv/bin/python" - "$msal_version" <<'PY' 2>/dev/null
import sys
import msal
if sys.version_info < (3, 11):
    import tomli
sys.exit(msal.__version__ != sys.argv[1])
PY
}

if [ ! -x "$venv/bin/python" ] || ! ready; then
  echo "msal conformance: installing $msal_pin into $venv" >&2
  mkdir -p "$dir"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$msal_pin" 'tomli; python_version < "3.11"' >&2
fi
exec "$venv/bin/python" "$here/conformance.py"
