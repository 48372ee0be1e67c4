#!/usr/bin/env bash
# `make chaos`: the fault tests (controller/tests/chaos.rs) against a control plane of their
# own, with the API server's audit log on (who wrote what, per impersonated user), then the
# drift tests again for their restore latencies. Figures go to target/chaos/figures.md.
# Tears everything down on any exit.
#
#   CHAOS_PROFILE  release (default) or dev: the build of the controller under test
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${CHAOS_STATE_DIR:-$ROOT/target/chaos-cluster}"
OUT="$ROOT/target/chaos"
CARGO="${CARGO:-cargo}"
PROFILE="${CHAOS_PROFILE:-release}"

cleanup() {
  local rc=$?
  for f in "$STATE"/webhook-*/pid; do
    [[ -f "$f" ]] && kill "$(cat "$f")" 2>/dev/null || true
  done
  if (( rc != 0 )) && [[ -d "$STATE/logs" ]]; then
    for log in "$STATE"/logs/kube-apiserver.log "$STATE"/logs/controller-*.log; do
      [[ -f "$log" ]] && { echo "----- last 30 lines of $log -----"; tail -n 30 "$log"; } >&2
    done
  fi
  bash "$ROOT/tests/scripts/cluster-down.sh" "$STATE" >/dev/null 2>&1 || true
  exit "$rc"
}
trap cleanup EXIT

started=$(date +%s)
if [[ "$PROFILE" == release ]]; then
  "$CARGO" build --locked --release -p neo4j-controller --bin neo4j-controller
  CONTROLLER_BIN="$ROOT/target/release/neo4j-controller"
else
  CONTROLLER_BIN="$ROOT/target/debug/neo4j-controller"
fi
"$CARGO" build --locked -p neo4j-webhook -p neo4j-controller -p neo4j-e2e --bins

mkdir -p "$STATE" "$OUT"
# Every write, with who made it (the replicas impersonate users of their own).
cat > "$STATE/audit-policy.yaml" <<'POLICY'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
    verbs: ["create", "update", "patch", "delete", "deletecollection"]
  - level: None
POLICY
APISERVER_ARGS="--audit-policy-file=$STATE/audit-policy.yaml --audit-log-path=$STATE/logs/audit.log --audit-log-maxsize=500 --audit-log-maxbackup=1" \
  bash "$ROOT/tests/scripts/cluster-up.sh" "$STATE"

FIGURES="$OUT/figures.tsv"
rm -f "$FIGURES"
export E2E_STATE_DIR="$STATE" E2E_FIGURES="$FIGURES"
export NEO4J_CONTROLLER_BIN="$CONTROLLER_BIN" NEO4J_WEBHOOK_BIN="$ROOT/target/debug/neo4j-webhook"
export FAKE_KUBELET_BIN="$ROOT/target/debug/fake-kubelet"
export CERT_MANAGER_CRDS="$(bash "$ROOT/tests/scripts/cert-manager-crds.sh")"
"$CARGO" test --locked -p neo4j-controller --test chaos -- --test-threads=1
"$CARGO" test --locked -p neo4j-controller --test heal every_owned_field -- --test-threads=1
"$CARGO" test --locked -p neo4j-controller --test e2e a_blocked_deletion -- --test-threads=1

{
  echo "# Fault-test figures"
  echo
  echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1); date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- command: \`make chaos\` (\`tests/scripts/chaos.sh\`, controller build: $PROFILE), $(( $(date +%s) - started )) s in all"
  awk -F'\t' '
    $1 != section { section = $1; printf "\n## %s\n\n| measure | value |\n|---|---|\n", section }
    { printf "| %s | %s |\n", $2, $3 }' "$FIGURES"
} > "$OUT/figures.md"
cat "$OUT/figures.md"
