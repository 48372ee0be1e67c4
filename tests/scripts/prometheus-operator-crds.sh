#!/usr/bin/env bash
# Prints the directory holding the Prometheus Operator CRDs the monitoring manifests use
# (ServiceMonitor, PrometheusRule), taken from the operator's Go module (example/ of the root
# module; the Go checksum database vouches for them). Nothing is committed.
# The module proxy serves the root module only up to v0.85.0 here (the API module is at
# v0.95.2); ServiceMonitor and PrometheusRule are monitoring.coreos.com/v1 in both.
set -euo pipefail
VERSION="${PROMETHEUS_OPERATOR_VERSION:-v0.85.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/target/prometheus-operator-crds/$VERSION"
if [[ ! -f "$OUT/monitoring.coreos.com_servicemonitors.yaml" ]]; then
  dir=$(cd "$ROOT/tests/controlplane" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "github.com/prometheus-operator/prometheus-operator@$VERSION" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  mkdir -p "$OUT"
  for crd in servicemonitors prometheusrules; do
    cp "$dir/example/prometheus-operator-crd/monitoring.coreos.com_$crd.yaml" "$OUT/"
  done
  chmod u+w "$OUT"/*.yaml
fi
echo "$OUT"
