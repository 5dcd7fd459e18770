#!/usr/bin/env bash
# Five-minute check of a real deployment, for what the test suite cannot run here (an image build,
# a cluster, systemd as PID 1). Read-only apart from one short-lived pod in `kubernetes` mode.
#
#   deploy/verify.sh image IMAGE                  # a built (multi-arch) image
#   deploy/verify.sh kubernetes [NAMESPACE]       # deploy/kubernetes/*.yaml applied
#   deploy/verify.sh systemd [SANDBOX]            # deploy/systemd units installed and started
#
# Each step prints "ok: ..." or stops with "FAIL: ...". See docs/operator-guide.md.
set -euo pipefail

ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "-- $*"; }

# An agent-side token fetch: source the env file, GET both token URLs with `Metadata: true`.
FETCH='. "$1" && for url in "$AGENTMINT_TOKEN_URL" "$AGENTMINT_USER_TOKEN_URL"; do
  if command -v curl >/dev/null 2>&1; then curl -fsS -o /dev/null -H "Metadata: true" "$url";
  else python3 -c "import sys, urllib.request as u; u.urlopen(u.Request(sys.argv[1], headers={\"Metadata\": \"true\"}), timeout=20)" "$url"; fi
done'

image() {
  local image="${1:?usage: verify.sh image IMAGE}"
  step "image $image"
  local user
  user="$(docker image inspect -f '{{.Config.User}}' "$image")"
  [ -n "$user" ] && [ "${user%%:*}" != 0 ] && [ "${user%%:*}" != root ] || fail "the image runs as root ($user)"
  ok "runs as $user"
  docker run --rm --read-only "$image" --version >/dev/null || fail "the binary does not start on a read-only root"
  ok "starts on a read-only root filesystem"
  docker run --rm --read-only --entrypoint /usr/local/bin/agentmint "$image" probe --help >/dev/null \
    || fail "no probe subcommand"
  ok "has agentmint probe (the health check)"
  if docker run --rm --entrypoint /bin/sh "$image" -c true >/dev/null 2>&1; then
    fail "the image has a shell: not the distroless runtime stage"
  fi
  ok "no shell in the image"
  if docker buildx imagetools inspect "$image" >/dev/null 2>&1; then
    local platforms
    platforms="$(docker buildx imagetools inspect "$image" | grep -E 'Platform: +linux/(amd64|arm64)' | sort -u | wc -l)"
    [ "$platforms" -ge 2 ] || fail "the image index lacks linux/amd64 or linux/arm64 (push it with --platform linux/amd64,linux/arm64)"
    ok "linux/amd64 and linux/arm64"
  else
    echo "skip: $image is not in a registry; multi-arch not checked"
  fi
}

kubernetes() {
  local ns="${1:-default}" k="kubectl -n ${1:-default}"
  step "kubernetes namespace $ns"
  $k rollout status deploy/agentmint-gateway --timeout=120s >/dev/null || fail "the gateway did not roll out"
  local ready
  ready="$($k get deploy agentmint-gateway -o jsonpath='{.status.readyReplicas}')"
  [ "${ready:-0}" -ge 2 ] || fail "fewer than 2 ready gateway replicas ($ready)"
  ok "$ready gateway replicas ready"
  $k get pdb agentmint-gateway >/dev/null || fail "no PodDisruptionBudget"
  ok "PodDisruptionBudget present"
  $k exec deploy/agentmint-gateway -c gateway -- /usr/local/bin/agentmint probe http http://127.0.0.1:7444/readyz \
    || fail "/readyz fails"
  ok "/readyz passes (agentmint probe inside the distroless container)"
  $k exec deploy/agentmint-gateway -c gateway -- /usr/local/bin/agentmint probe http http://127.0.0.1:7444/metrics \
    || fail "/metrics fails"
  ok "/metrics answers"
  $k wait --for=condition=Ready pod/mail-agent --timeout=120s >/dev/null || fail "the agent pod is not ready"
  $k exec mail-agent -c agentmint-sandbox -- /usr/local/bin/agentmint probe env-file /run/agentmint-env/agent.env \
    || fail "the sidecar's env file probe fails"
  ok "sidecar env file written, resolver answering"
  $k exec mail-agent -c agent -- sh -c "$FETCH" sh /run/agentmint-env/agent.env || fail "the agent cannot fetch both token kinds"
  ok "the agent fetched an app-only and a user token"
  # NetworkPolicy: a pod without the sandbox or scraper label must not reach a gateway pod. Its
  # admin port answers plain HTTP, so reaching it is unambiguous (the gRPC port is TLS).
  local img ip
  img="$($k get deploy agentmint-gateway -o jsonpath='{.spec.template.spec.containers[0].image}')"
  ip="$($k get pod -l app=agentmint-gateway -o jsonpath='{.items[0].status.podIP}')"
  if $k run agentmint-np-check --rm -i --restart=Never --image="$img" --command -- \
      /usr/local/bin/agentmint probe http --timeout-secs 3 "http://$ip:7444/healthz" >/dev/null 2>&1; then
    fail "an unlabelled pod reached a gateway pod: is NetworkPolicy enforced by the CNI?"
  fi
  ok "an unlabelled pod cannot reach the gateway pods (NetworkPolicy enforced)"
}

systemd() {
  local sbx="${1:-mail-agent}"
  step "systemd, sandbox $sbx"
  systemctl is-active --quiet agentmint-gateway || fail "agentmint-gateway is not active"
  agentmint probe http http://127.0.0.1:7444/readyz || fail "/readyz fails"
  ok "gateway active and ready"
  systemctl is-active --quiet "agentmint-sandbox@$sbx" || fail "agentmint-sandbox@$sbx is not active"
  agentmint probe env-file "/run/agentmint/$sbx/agent.env" || fail "the env file probe fails"
  ok "sandbox active, /run/agentmint/$sbx/agent.env written"
  sh -c "$FETCH" sh "/run/agentmint/$sbx/agent.env" || fail "cannot fetch both token kinds"
  ok "fetched an app-only and a user token through the env file"
  systemctl show -p LoadCredential agentmint-gateway | grep -q . || fail "no LoadCredential= on the gateway"
  ok "credentials through LoadCredential="
  systemd-analyze security --no-pager agentmint-gateway.service | tail -n 1
}

case "${1:-}" in
  image) shift; image "$@" ;;
  kubernetes) shift; kubernetes "$@" ;;
  systemd) shift; systemd "$@" ;;
  *) sed -n '2,9p' "$0"; exit 2 ;;
esac
echo "all checks passed"
