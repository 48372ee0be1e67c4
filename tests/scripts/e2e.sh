#!/usr/bin/env bash
# End-to-end tests: a local control plane (built from the official Go modules), the webhook
# registered with it, and the Rust e2e tests driving the real kubectl. Tears down on any exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${E2E_STATE_DIR:-$ROOT/target/e2e-cluster}"
CARGO="${CARGO:-cargo}"

cleanup() {
  local rc=$?
  for f in "$STATE"/webhook-*/pid; do
    [[ -f "$f" ]] && kill "$(cat "$f")" 2>/dev/null || true
  done
  if (( rc != 0 )) && [[ -d "$STATE/logs" ]]; then
    for log in "$STATE"/logs/kube-apiserver.log "$STATE"/webhook-*/webhook.log; do
      [[ -f "$log" ]] && { echo "----- last 30 lines of $log -----"; tail -n 30 "$log"; } >&2
    done
  fi
  bash "$ROOT/tests/scripts/cluster-down.sh" "$STATE" >/dev/null 2>&1 || true
  exit "$rc"
}
trap cleanup EXIT

"$CARGO" build --locked -p neo4j-webhook -p neo4j-controller -p neo4j-e2e --bins
bash "$ROOT/tests/scripts/cluster-up.sh" "$STATE"
E2E_STATE_DIR="$STATE" NEO4J_WEBHOOK_BIN="$ROOT/target/debug/neo4j-webhook" FAKE_KUBELET_BIN="$ROOT/target/debug/fake-kubelet" \
  "$CARGO" test --locked -p neo4j-e2e
CERT_MANAGER_CRDS="$(bash "$ROOT/tests/scripts/cert-manager-crds.sh")" E2E_STATE_DIR="$STATE" \
  "$CARGO" test --locked -p neo4j-controller --test e2e --test operations --test kinds --test heal
