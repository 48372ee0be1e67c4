#!/usr/bin/env bash
# `make run`: the product on this machine. Builds everything, brings up a local control plane
# (or uses $KUBECONFIG when USE_EXISTING_CLUSTER=1), starts the webhook, installs the CRDs and
# webhook configurations, applies the samples, shows a rejected and a warned apply, and keeps
# running until Ctrl-C, then tears everything down.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${RUN_STATE_DIR:-$ROOT/target/run}"
CARGO="${CARGO:-cargo}"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

pids=()
cleanup() {
  say "shutting down"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [[ "${USE_EXISTING_CLUSTER:-0}" == 1 ]]; then
    kubectl delete mutatingwebhookconfiguration,validatingwebhookconfiguration neo4j-webhook --ignore-not-found >/dev/null 2>&1 || true
  else
    bash "$ROOT/tests/scripts/cluster-down.sh" "$STATE" || true
  fi
}
trap cleanup EXIT INT TERM

say "building"
"$CARGO" build --locked -p neo4j-webhook -p neo4j-controller -p neo4j-e2e --bins
mkdir -p "$STATE"

if [[ "${USE_EXISTING_CLUSTER:-0}" == 1 ]]; then
  : "${KUBECONFIG:?USE_EXISTING_CLUSTER=1 needs KUBECONFIG}"
  KUBECTL="$(command -v kubectl)"
  say "using the cluster of $KUBECONFIG"
else
  say "starting a local control plane (first build of the Go binaries takes a few minutes)"
  bash "$ROOT/tests/scripts/cluster-up.sh" "$STATE"
  # shellcheck disable=SC1091
  source "$STATE/env"
fi
export KUBECONFIG
k() { "$KUBECTL" "$@"; }

say "installing the CRDs"
k apply --server-side --force-conflicts --field-manager=neo4j-run -f "$ROOT/manifests/crds/" >/dev/null
k wait --for=condition=Established --timeout=60s -f "$ROOT/manifests/crds/" >/dev/null

say "starting the webhook on 127.0.0.1 with a fresh test CA"
bash "$ROOT/certs/dev-certs.sh" "$STATE/webhook-certs" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$ROOT/target/debug/neo4j-webhook" serve --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$mport" \
  --tls-cert-file "$STATE/webhook-certs/tls.crt" --tls-key-file "$STATE/webhook-certs/tls.key" \
  --kubeconfig "$KUBECONFIG" >"$STATE/webhook.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$mport/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$mport/readyz" >/dev/null || { tail -n 30 "$STATE/webhook.log"; exit 1; }

say "registering the webhook configurations (manifests/webhook/webhooks.yaml, clientConfig → loopback)"
ca=$(base64 -w0 < "$STATE/webhook-certs/ca.crt")
k create --dry-run=client -o json -f "$ROOT/manifests/webhook/webhooks.yaml" \
  | python3 -c '
import json, sys
port, ca = sys.argv[1], sys.argv[2]
text, items, pos = sys.stdin.read(), [], 0
dec = json.JSONDecoder()
while pos < len(text.rstrip()):
    obj, pos = dec.raw_decode(text, pos)
    items.append(obj)
    while pos < len(text) and text[pos].isspace():
        pos += 1
doc = {"apiVersion": "v1", "kind": "List", "items": items}
for item in doc["items"]:
    for hook in item["webhooks"]:
        path = hook["clientConfig"]["service"]["path"]
        hook["clientConfig"] = {"url": f"https://127.0.0.1:{port}{path}", "caBundle": ca}
print(json.dumps(doc))' "$port" "$ca" | k apply -f - >/dev/null
probe='{"apiVersion":"neo4j.neo4j.com/v1beta1","kind":"Neo4jEnterpriseCluster","metadata":{"name":"probe","namespace":"default"},"spec":{"image":{"repo":"neo4j","tag":"5.26.0-enterprise"},"topology":{"servers":3},"storage":{"size":"1Gi"}}}'
for _ in $(seq 1 60); do
  echo "$probe" | k apply --dry-run=server -f - 2>&1 | grep -q license-required && break
  sleep 0.5
done

say "starting the controller"
cport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$ROOT/target/debug/neo4j-controller" --kubeconfig "$KUBECONFIG" --metrics-listen "127.0.0.1:$cport" >"$STATE/controller.log" 2>&1 &
pids+=($!)
if [[ "${USE_EXISTING_CLUSTER:-0}" != 1 ]]; then
  # No kubelet runs here: a test helper binds pods to a fake node and reports them Ready.
  "$ROOT/target/debug/fake-kubelet" --kubeconfig "$KUBECONFIG" >"$STATE/fake-kubelet.log" 2>&1 &
  pids+=($!)
fi

say "kubectl apply: the valid samples (admitted, defaults filled in)"
for f in cluster standalone database plugin backup restore; do
  k apply -f "$ROOT/manifests/samples/$f.yaml" || true
done

say "kubectl apply: a warned sample (admitted with warnings)"
k apply -f "$ROOT/manifests/samples/warned-cluster-two-servers.yaml" || true

say "kubectl apply: a bad sample (rejected, nothing stored)"
k apply -f "$ROOT/manifests/samples/invalid-cluster-one-server.yaml" && echo "unexpectedly admitted" || true
k apply -f "$ROOT/manifests/samples/invalid-cluster-config-injection.yaml" && echo "unexpectedly admitted" || true

say "what is stored: the sample cluster with every default"
k get neo4jenterpriseclusters -A
k get neo4jenterprisecluster graph -o jsonpath='{.spec}' | python3 -m json.tool

say "the controller materializes the sample cluster (server-side apply) and reports status"
for _ in $(seq 1 120); do
  [[ "$(k get neo4jenterprisecluster graph -o jsonpath='{.status.phase}' 2>/dev/null)" == Ready ]] && break
  sleep 1
done
k get statefulsets,services,configmaps,serviceaccounts,poddisruptionbudgets -l app.kubernetes.io/instance=graph
k get pods -l app.kubernetes.io/instance=graph -o wide
k get neo4jenterpriseclusters,neo4jenterprisestandalones
k get neo4jenterprisecluster graph -o jsonpath='{.status}' | python3 -m json.tool

say "running — try it yourself in another shell:"
echo "  export KUBECONFIG=$KUBECONFIG"
echo "  $KUBECTL get neo4jenterpriseclusters"
echo "  $KUBECTL apply -f $ROOT/manifests/samples/invalid-database-system.yaml"
echo "  curl -s http://127.0.0.1:$mport/metrics | grep neo4j_admission"
echo "  curl -s http://127.0.0.1:$cport/metrics | grep neo4j_controller"
echo "Press Ctrl-C to stop and tear everything down."
wait "${pids[0]}"
