#!/usr/bin/env bash
# `make bench`: benchmarks, each writing its section of BENCHMARKS.md (machine, date, command).
# Traffic stays on 127.0.0.1; every run is bounded in time.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CARGO="${CARGO:-cargo}"
cd "$ROOT"

echo "== admission webhook (release build)"
"$CARGO" build --locked --release -p neo4j-webhook
# The code layout (webhook/build.rs) names functions; after a Rust upgrade or a dependency bump
# the names change and `make symbol-order` writes them again.
if command -v nm >/dev/null; then
  listed=$(grep -vc '^#' webhook/symbol-order.txt || true)
  found=$(grep -v '^#' webhook/symbol-order.txt | grep -cxFf <(nm --defined-only target/release/neo4j-webhook | awk '{print $3}') || true)
  echo "== code layout: $found of $listed functions of webhook/symbol-order.txt are in the binary"
fi
"$CARGO" bench --locked -p neo4j-webhook --bench admission
if command -v valgrind >/dev/null && command -v callgrind_control >/dev/null; then
  echo "== where the admission time goes (callgrind)"
  "$CARGO" bench --locked -p neo4j-webhook --bench profile
else
  echo "== skipping the admission profile: valgrind is not installed (Debian: apt-get install valgrind)"
fi

if [[ -f controller/benches/controller.rs ]]; then
  echo "== controller against the local control plane"
  STATE="$ROOT/target/bench-cluster"
  trap 'bash "$ROOT/tests/scripts/cluster-down.sh" "$STATE" >/dev/null 2>&1 || true' EXIT
  "$CARGO" build --locked --release -p neo4j-controller -p neo4j-e2e --bins
  # 1,000 clusters need more Service addresses than the default /24.
  APISERVER_ARGS="--service-cluster-ip-range=10.0.0.0/16" KCM_ARGS="--service-cluster-ip-range=10.0.0.0/16" \
    bash "$ROOT/tests/scripts/cluster-up.sh" "$STATE"
  E2E_STATE_DIR="$STATE" "$CARGO" bench --locked -p neo4j-controller --bench controller
  echo "== admission through the API server (dry-run creates with and without our webhooks)"
  E2E_STATE_DIR="$STATE" NEO4J_WEBHOOK_BIN="$ROOT/target/release/neo4j-webhook" \
    "$CARGO" bench --locked -p neo4j-e2e --bench apiserver
fi
