#!/usr/bin/env bash
# Makes a throwaway CA and a webhook serving certificate for local runs (no cert-manager):
#   certs/dev-certs.sh DIR [HOST...]   → DIR/ca.crt, DIR/ca.key, DIR/tls.crt, DIR/tls.key
# SANs: 127.0.0.1, localhost and any HOST given. Keys are ECDSA P-256; nothing is reused.
set -euo pipefail
dir="${1:?usage: certs/dev-certs.sh DIR [HOST...]}"; shift || true
mkdir -p "$dir"
san="IP:127.0.0.1,DNS:localhost"
for h in "$@"; do san="$san,DNS:$h"; done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=neo4j-webhook-dev-ca" -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=neo4j-webhook" -keyout "$dir/tls.key" -out "$dir/tls.csr" 2>/dev/null
openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
  -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san") -out "$dir/tls.crt" 2>/dev/null
rm -f "$dir/tls.csr" "$dir/ca.srl"
chmod 600 "$dir/ca.key" "$dir/tls.key"
echo "$dir"
