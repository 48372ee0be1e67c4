#!/usr/bin/env bash
# `make run`: the product on this machine. Builds everything, brings up a local control plane
# (or uses $KUBECONFIG when USE_EXISTING_CLUSTER=1), installs the CRDs, registers the webhook
# configurations, starts the webhook, the controller and (local control plane only) a fake
# kubelet, applies the samples, shows one refused and one warned apply, and keeps running until
# Ctrl-C. Teardown runs on every exit — Ctrl-C at any point, an error, a closed stdout
# (`make run | head`) — and removes everything it made except the logs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${RUN_STATE_DIR:-$ROOT/target/run}"
LOGS="$STATE/logs"
CERTS="$STATE/webhook-certs"
CARGO="${CARGO:-cargo}"
WAIT_TIMEOUT="${WAIT_TIMEOUT:-60}"
say() { printf '\n\033[1m== %s\033[0m\n' "$*" 2>/dev/null; }

pids=() samples_applied=0 torn_down=0
# Runs once, on EXIT. Ignores further Ctrl-C and SIGPIPE (children inherit that), never stops
# on an error, and writes nothing that could fail: messages to a closed pipe are dropped.
cleanup() {
  local rc=$?
  (( torn_down )) && return
  torn_down=1
  trap '' INT TERM HUP PIPE
  set +e
  say "tearing down"
  mkdir -p "$LOGS" 2>/dev/null
  if [[ "${USE_EXISTING_CLUSTER:-0}" == 1 && -n "${KUBECTL:-}" ]]; then
    # Delete the samples while the controller still runs (it removes its finalizers).
    if (( samples_applied )); then
      "$KUBECTL" delete --ignore-not-found --timeout=60s -f "$ROOT/manifests/samples/" >>"$LOGS/teardown.log" 2>&1
    fi
    "$KUBECTL" delete mutatingwebhookconfiguration,validatingwebhookconfiguration neo4j-webhook \
      --ignore-not-found >>"$LOGS/teardown.log" 2>&1
  fi
  # SIGTERM, then SIGKILL whatever still runs after 20 s (the webhook drains for a few).
  local deadline=$(( $(date +%s) + 20 )) p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do
    while kill -0 "$p" 2>/dev/null && (( $(date +%s) < deadline )); do sleep 0.2; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  if [[ "${USE_EXISTING_CLUSTER:-0}" != 1 ]]; then
    # Stops etcd, kube-apiserver and kube-controller-manager and deletes their data directory
    # (etcd data, the control plane's CA and keys) and the kubeconfig.
    bash "$ROOT/tests/scripts/cluster-down.sh" "$STATE" >>"$LOGS/teardown.log" 2>&1
  fi
  rm -rf -- "$CERTS"
  if [[ "${USE_EXISTING_CLUSTER:-0}" == 1 ]]; then
    say "stopped; the samples, the webhook configurations and the test CA are deleted (the CRDs stay); logs are in $LOGS"
  else
    say "stopped; the control plane's data, the kubeconfig and the test CA are deleted; logs are in $LOGS"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

# wait_until WHAT CMD...: runs CMD until it succeeds (WAIT_TIMEOUT seconds at most).
wait_until() {
  local what=$1 deadline=$(( $(date +%s) + WAIT_TIMEOUT ))
  shift
  until "$@"; do
    if (( $(date +%s) >= deadline )); then
      echo "gave up after ${WAIT_TIMEOUT}s waiting for $what" >&2
      return 1
    fi
    sleep 0.2
  done
}
# The webhook, the controller and the fake kubelet run in sessions of their own (setsid): Ctrl-C
# reaches this script, whose teardown stops them in order, not each of them at once.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

say "building"
"$CARGO" build --locked -p neo4j-webhook -p neo4j-controller -p neo4j-e2e --bins
mkdir -p "$STATE" "$LOGS"

if [[ "${USE_EXISTING_CLUSTER:-0}" == 1 ]]; then
  : "${KUBECONFIG:?USE_EXISTING_CLUSTER=1 needs KUBECONFIG}"
  KUBECTL="$(command -v kubectl)"
  say "using the cluster of $KUBECONFIG"
else
  say "starting a local control plane: etcd, kube-apiserver, kube-controller-manager (the first build of the Go binaries takes a few minutes)"
  bash "$ROOT/tests/scripts/cluster-up.sh" "$STATE" >/dev/null
  # shellcheck disable=SC1091
  source "$STATE/env"
fi
export KUBECONFIG
k() { "$KUBECTL" "$@"; }

say "installing the CRDs (manifests/crds/)"
k apply --server-side --force-conflicts --field-manager=neo4j-run -f "$ROOT/manifests/crds/" >/dev/null
k wait --for=condition=Established --timeout=60s -f "$ROOT/manifests/crds/" >/dev/null

port=$(free_port) mport=$(free_port)
bash "$ROOT/certs/dev-certs.sh" "$CERTS" >/dev/null
say "registering the webhook configurations (manifests/webhook/webhooks.yaml, clientConfig → https://127.0.0.1:$port, a test CA made for this run)"
ca=$(base64 -w0 < "$CERTS/ca.crt")
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
# The API server loads webhook configurations asynchronously. They are in effect once a server
# dry run of a sample fails to reach the webhook (failurePolicy: Fail) — which is not started
# yet, so this wait sends it nothing and its metrics count only what the demo applies.
in_effect() {
  local out
  out=$(k apply --dry-run=server -f "$ROOT/manifests/samples/cluster.yaml" 2>&1) && return 1
  [[ "$out" == *'failed calling webhook "mutate.neo4j.neo4j.com"'* ]]
}
wait_until "the API server to use the webhook configurations" in_effect

say "starting the webhook on 127.0.0.1:$port (metrics on 127.0.0.1:$mport)"
setsid "$ROOT/target/debug/neo4j-webhook" serve --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$mport" \
  --tls-cert-file "$CERTS/tls.crt" --tls-key-file "$CERTS/tls.key" \
  --kubeconfig "$KUBECONFIG" >"$LOGS/webhook.log" 2>&1 &
pids+=($!)
ready() { curl -fsS "http://127.0.0.1:$mport/readyz" >/dev/null 2>&1; }
wait_until "the webhook's /readyz" ready || { tail -n 30 "$LOGS/webhook.log" >&2; exit 1; }

say "starting the controller"
cport=$(free_port)
setsid "$ROOT/target/debug/neo4j-controller" --kubeconfig "$KUBECONFIG" --metrics-listen "127.0.0.1:$cport" >"$LOGS/controller.log" 2>&1 &
pids+=($!)
if [[ "${USE_EXISTING_CLUSTER:-0}" != 1 ]]; then
  # No kubelet runs here: a test helper binds pods to a fake node and reports them Ready.
  setsid "$ROOT/target/debug/fake-kubelet" --kubeconfig "$KUBECONFIG" >"$LOGS/fake-kubelet.log" 2>&1 &
  pids+=($!)
fi

say "kubectl apply: the valid samples (admitted; the webhook fills in the defaults)"
samples_applied=1
for f in cluster standalone database plugin backup restore; do
  k apply -f "$ROOT/manifests/samples/$f.yaml" || true
done

say "kubectl apply: a sample with warnings (manifests/samples/warned-cluster-two-servers.yaml: admitted, and kubectl prints each warning with its rule id)"
k apply -f "$ROOT/manifests/samples/warned-cluster-two-servers.yaml" || true

say "kubectl apply: a bad sample (manifests/samples/invalid-cluster-config-injection.yaml: refused by the webhook, one line per rule id and field; nothing is stored)"
if k apply -f "$ROOT/manifests/samples/invalid-cluster-config-injection.yaml"; then
  echo "unexpectedly admitted"
fi

say "what is stored: the sample cluster with every default"
k get neo4jenterpriseclusters -A
k get neo4jenterprisecluster graph -o jsonpath='{.spec}' | python3 -m json.tool

say "the controller materializes the sample cluster (server-side apply) and reports status"
is_ready() { [[ "$(k get neo4jenterprisecluster graph -o jsonpath='{.status.phase}' 2>/dev/null)" == Ready ]]; }
if WAIT_TIMEOUT=120 wait_until "the sample cluster to be Ready" is_ready; then
  echo "neo4jenterprisecluster/graph is Ready"
fi
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
echo "Press Ctrl-C to stop: everything started here is stopped and its data deleted (logs stay in $LOGS)."
# Until Ctrl-C, or until one of the processes exits (then tear down too).
if wait -n "${pids[@]}"; then
  echo "a process exited; see $LOGS" >&2
else
  echo "a process failed; see $LOGS" >&2
fi
exit 1
