#!/usr/bin/env bash
# Prints the directory holding cert-manager's CRDs (Certificate, Issuer, ...) for the test
# control plane, taken from cert-manager's own Go module (the files ship in deploy/crds of the
# module; the Go checksum database vouches for them). Nothing is committed.
set -euo pipefail
VERSION="${CERT_MANAGER_VERSION:-v1.19.1}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/target/cert-manager-crds/$VERSION"
if [[ ! -f "$OUT/cert-manager.io_certificates.yaml" ]]; then
  dir=$(cd "$ROOT/tests/controlplane" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "github.com/cert-manager/cert-manager@$VERSION" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  mkdir -p "$OUT"
  cp "$dir"/deploy/crds/cert-manager.io_*.yaml "$OUT/"
  chmod u+w "$OUT"/*.yaml
fi
echo "$OUT"
