#!/usr/bin/env bash
# Install tests: the shipped manifests and Helm chart on a local control plane started with
# --enable-aggregator-routing=true (the API server then calls the webhook through its Service,
# resolved to an EndpointSlice the tests write), with real cert-manager, Helm, Prometheus and
# promtool built by tests/tools/build.sh. EndpointSlices may not list loopback addresses, so they
# list 192.0.2.N (documentation addresses, never routed) and the API server's egress for cluster
# traffic goes through tests/e2e/bin/connect_proxy.rs, which connects 192.0.2.N to 127.0.0.N. A cluster of its own: the tests install cluster-wide
# objects (webhook configurations, CRDs) the other e2e tests must not see. Tears down on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${INSTALL_E2E_STATE_DIR:-$ROOT/target/install-e2e-cluster}"
CARGO="${CARGO:-cargo}"

cleanup() {
  local rc=$?
  for f in "$STATE"/procs/*.pid; do
    [[ -f "$f" ]] && kill "$(cat "$f")" 2>/dev/null || true
  done
  if (( rc != 0 )) && [[ -d "$STATE/logs" ]]; then
    for log in "$STATE"/logs/kube-apiserver.log "$STATE"/procs/*.log; do
      [[ -f "$log" ]] && { echo "----- last 30 lines of $log -----"; tail -n 30 "$log"; } >&2
    done
  fi
  bash "$ROOT/tests/scripts/cluster-down.sh" "$STATE" >/dev/null 2>&1 || true
  exit "$rc"
}
trap cleanup EXIT

start=$(date +%s)
bash "$ROOT/tests/tools/build.sh"
"$CARGO" build --locked -p neo4j-webhook -p neo4j-controller -p neo4j-e2e --bins
CERT_MANAGER_CRDS="$(bash "$ROOT/tests/scripts/cert-manager-crds.sh")"
PROMETHEUS_OPERATOR_CRDS="$(bash "$ROOT/tests/scripts/prometheus-operator-crds.sh")"
rm -rf "$STATE/procs"
mkdir -p "$STATE/procs"
SOCKET="$STATE/procs/egress.sock"
"$ROOT/target/debug/connect-proxy" --socket "$SOCKET" >"$STATE/procs/connect-proxy.log" 2>&1 &
echo $! > "$STATE/procs/connect-proxy.pid"
for _ in $(seq 100); do [[ -S "$SOCKET" ]] && break; sleep 0.1; done
[[ -S "$SOCKET" ]] || { echo "install-e2e: connect-proxy did not start" >&2; exit 1; }
cat > "$STATE/egress.yaml" <<EOT
apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
  - name: cluster
    connection:
      proxyProtocol: HTTPConnect
      transport:
        uds:
          udsName: $SOCKET
EOT
APISERVER_ARGS="--enable-aggregator-routing=true --egress-selector-config-file=$STATE/egress.yaml ${APISERVER_ARGS:-}" \
  bash "$ROOT/tests/scripts/cluster-up.sh" "$STATE"
export E2E_STATE_DIR="$STATE" TOOLS_BIN="$ROOT/target/tools/bin" CERT_MANAGER_CRDS PROMETHEUS_OPERATOR_CRDS
export NEO4J_WEBHOOK_BIN="$ROOT/target/debug/neo4j-webhook" NEO4J_CONTROLLER_BIN="$ROOT/target/debug/neo4j-controller"
# One test at a time: they share the cluster-wide webhook configurations. INSTALL_E2E_TESTS
# selects some of them (make dashboard-preview runs observability alone).
tests=()
for t in ${INSTALL_E2E_TESTS:-images install cert_manager replicas observability}; do tests+=(--test "$t"); done
"$CARGO" test --locked -p neo4j-e2e "${tests[@]}" -- --test-threads=1 --nocapture
echo "install-e2e: done in $(( $(date +%s) - start ))s"
