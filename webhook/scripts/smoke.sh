#!/usr/bin/env bash
# Smoke test of the real binary: build it, make a CA and a serving certificate with openssl, run
# `neo4j-webhook serve` on loopback, send AdmissionReviews with curl trusting only that CA, read
# /healthz, /readyz and /metrics, then stop it with SIGTERM and check it exits 0.
#
#   webhook/scripts/smoke.sh                 # debug build, ports 8443 and 8080
#   PROFILE=release LISTEN=127.0.0.1:9443 METRICS=127.0.0.1:9080 webhook/scripts/smoke.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

PROFILE=${PROFILE:-debug}
LISTEN=${LISTEN:-127.0.0.1:8443}
METRICS=${METRICS:-127.0.0.1:8080}
CARGO=${CARGO:-cargo}

if [[ $PROFILE == release ]]; then $CARGO build -q -p neo4j-webhook --release; else $CARGO build -q -p neo4j-webhook; fi
BIN=target/$PROFILE/neo4j-webhook

work=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

step "certificates (openssl)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=neo4j-webhook smoke CA" -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=localhost" -keyout "$work/tls.key" -out "$work/tls.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$work/ext"
openssl x509 -req -in "$work/tls.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
  -days 1 -extfile "$work/ext" -out "$work/tls.crt" 2>/dev/null
openssl x509 -in "$work/tls.crt" -noout -subject -serial -enddate

step "start: $BIN serve --listen $LISTEN --metrics-listen $METRICS --no-cluster"
"$BIN" serve --tls-cert-file "$work/tls.crt" --tls-key-file "$work/tls.key" \
  --listen "$LISTEN" --metrics-listen "$METRICS" --no-cluster --log-format json 2> "$work/server.log" &
pid=$!
deadline=$((SECONDS + 30))
until curl -fsS "http://$METRICS/readyz" >/dev/null 2>&1; do
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log"; fail "the server exited"; }
  (( SECONDS < deadline )) || { cat "$work/server.log"; fail "not ready within 30 s"; }
  sleep 0.1
done
echo "healthz: $(curl -fsS "http://$METRICS/healthz")  readyz: $(curl -fsS "http://$METRICS/readyz")"

review() { # operation, object JSON
  jq -cn --arg op "$1" --argjson obj "$2" '{apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: {
    uid: "smoke-\($op | ascii_downcase)", operation: $op, namespace: "default",
    kind: {group: "neo4j.neo4j.com", version: "v1beta1", kind: $obj.kind}, object: $obj}}'
}
cluster() { # servers
  jq -cn --argjson n "$1" '{apiVersion: "neo4j.neo4j.com/v1beta1", kind: "Neo4jEnterpriseCluster",
    metadata: {name: "graph", namespace: "default"},
    spec: {acceptLicenseAgreement: "yes", image: {repo: "neo4j", tag: "5.26.0-enterprise"},
           topology: {servers: $n}, storage: {size: "10Gi"}}}'
}
post() { # path, body
  curl -sS --cacert "$work/ca.crt" -H 'Content-Type: application/json' --data-binary "$2" \
    -w '\n(HTTP %{http_code}, %{http_version}, %{time_total}s)\n' "https://localhost:${LISTEN##*:}$1"
}

step "POST /mutate (3 servers): defaults as a base64 JSON patch"
out=$(post /mutate "$(review CREATE "$(cluster 3)")"); echo "$out"
patch=$(head -1 <<<"$out" | jq -r .response.patch)
[[ $patch != null ]] || fail "no patch"
echo "decoded patch: $(base64 -d <<<"$patch")"

step "POST /validate (2 servers): allowed with warnings"
out=$(post /validate "$(review CREATE "$(cluster 2)")"); echo "$out"
head -1 <<<"$out" | jq -e '.response.allowed == true and (.response.warnings | length) >= 2' >/dev/null || fail "expected warnings"

step "POST /validate (1 server): denied"
out=$(post /validate "$(review CREATE "$(cluster 1)")"); echo "$out"
head -1 <<<"$out" | jq -e '.response.allowed == false and .response.status.code == 403' >/dev/null || fail "expected a 403 denial"

step "hostile input: wrong content type, not JSON, no uid"
curl -sS --cacert "$work/ca.crt" -H 'Content-Type: text/plain' --data 'x' -w '(HTTP %{http_code})\n' "https://localhost:${LISTEN##*:}/validate"
curl -sS --cacert "$work/ca.crt" -H 'Content-Type: application/json' --data 'nope' -w '(HTTP %{http_code})\n' "https://localhost:${LISTEN##*:}/validate"
curl -sS --cacert "$work/ca.crt" -H 'Content-Type: application/json' \
  --data '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{}}' -w '(HTTP %{http_code})\n' "https://localhost:${LISTEN##*:}/validate"

step "a client that does not trust the CA"
if curl -sS -o /dev/null "https://localhost:${LISTEN##*:}/validate" 2>"$work/curl.err"; then fail "handshake should fail"; fi
cat "$work/curl.err"

step "GET /metrics (neo4j_ lines)"
metrics=$(curl -fsS "http://$METRICS/metrics")
grep -E '^neo4j_' <<<"$metrics" | grep -v '_bucket{' || true
for name in neo4j_admission_requests_total neo4j_admission_request_duration_seconds_bucket neo4j_admission_warnings_total \
  neo4j_admission_denials_total neo4j_admission_patches_total neo4j_admission_bad_requests_total \
  neo4j_webhook_certificate_expiry_timestamp_seconds; do
  grep -q "^$name" <<<"$metrics" || fail "$name missing from /metrics"
done

step "SIGTERM: drain and exit 0"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=
tail -3 "$work/server.log"
[[ $rc == 0 ]] || fail "exit code $rc"
echo "exit code 0"
printf '\nsmoke test passed\n'
