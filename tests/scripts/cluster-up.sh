#!/usr/bin/env bash
# Starts a local Kubernetes control plane: etcd, kube-apiserver and
# kube-controller-manager, each its own process, on free loopback ports.
# There is no scheduler and no kubelet: Pods are created but stay Pending.
#
# Usage: tests/scripts/cluster-up.sh [STATE_DIR]   (default $ROOT/target/cluster)
#
# Writes $STATE_DIR/env (shell-sourceable), $STATE_DIR/kubeconfig (admin),
# $STATE_DIR/ca.crt and logs in $STATE_DIR/logs/. Stop with cluster-down.sh.
#
# Environment knobs:
#   READY_TIMEOUT   seconds to wait for each component (default 120)
#   ETCD_FSYNC=1    keep fsync on in etcd (default off: throwaway data)
#   APISERVER_ARGS  extra kube-apiserver flags (word-split)
#   KCM_ARGS        extra kube-controller-manager flags (word-split)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STATE_DIR="${1:-$ROOT/target/cluster}"
READY_TIMEOUT="${READY_TIMEOUT:-120}"
BIN="$ROOT/target/controlplane/bin"
SERVICE_CIDR=10.0.0.0/24
SERVICE_IP=10.0.0.1

log() { echo "cluster-up: $*" >&2; }

"$ROOT/tests/controlplane/build.sh" >&2

mkdir -p "$STATE_DIR"
STATE_DIR="$(cd "$STATE_DIR" && pwd)"
ENV_FILE="$STATE_DIR/env"
LOG_DIR="$STATE_DIR/logs"

# Refuse to start over a cluster that is still running from this STATE_DIR.
if [[ -f "$ENV_FILE" ]]; then
  old_pids=$(sed -n 's/^PIDS="\(.*\)"$/\1/p' "$ENV_FILE")
  for p in $old_pids; do
    # Only count processes that really are our binaries (PIDs get reused).
    if [[ "$(tr '\0' '\n' 2>/dev/null < "/proc/$p/cmdline" | head -n1)" == "$BIN/"* ]]; then
      log "a cluster from $STATE_DIR is still running (pid $p); run tests/scripts/cluster-down.sh $STATE_DIR first"
      exit 1
    fi
  done
  # Stale state: clean up whatever is left (data dir) before starting over.
  "$HERE/cluster-down.sh" "$STATE_DIR" >/dev/null
fi
mkdir -p "$LOG_DIR"

# Free loopback ports, drawn at random below the kernel's ephemeral range so
# that two clusters (and outgoing connections) are unlikely to collide.
read -r ETCD_PORT ETCD_PEER_PORT APISERVER_PORT KCM_PORT < <(python3 - <<'EOF'
import random, socket
ports = []
for p in random.sample(range(20000, 32000), 400):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    ports.append(p)
    if len(ports) == 4:
        break
print(*ports)
EOF
)
[[ -n "${KCM_PORT:-}" ]] || { log "could not find 4 free ports"; exit 1; }

DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/k8s-controlplane.XXXXXX")"
PKI="$DATA_DIR/pki"
mkdir -p "$PKI" "$DATA_DIR/etcd" "$DATA_DIR/apiserver-certs" "$DATA_DIR/kcm-certs"
APISERVER_URL="https://127.0.0.1:$APISERVER_PORT"
ETCD_URL="http://127.0.0.1:$ETCD_PORT"

ETCD_PID="" APISERVER_PID="" KCM_PID=""
write_env() {
  cat > "$ENV_FILE.tmp" <<EOF
# Written by tests/scripts/cluster-up.sh; stop with tests/scripts/cluster-down.sh $STATE_DIR
KUBECONFIG="$STATE_DIR/kubeconfig"
APISERVER_URL="$APISERVER_URL"
ETCD_URL="$ETCD_URL"
CA_FILE="$STATE_DIR/ca.crt"
KUBECTL="$BIN/kubectl"
CONTROLPLANE_BIN="$BIN"
DATA_DIR="$DATA_DIR"
LOG_DIR="$LOG_DIR"
ETCD_LOG="$LOG_DIR/etcd.log"
APISERVER_LOG="$LOG_DIR/kube-apiserver.log"
KCM_LOG="$LOG_DIR/kube-controller-manager.log"
ETCD_PORT="$ETCD_PORT"
ETCD_PEER_PORT="$ETCD_PEER_PORT"
APISERVER_PORT="$APISERVER_PORT"
KCM_PORT="$KCM_PORT"
ETCD_PID="$ETCD_PID"
APISERVER_PID="$APISERVER_PID"
KCM_PID="$KCM_PID"
PIDS="$(echo $KCM_PID $APISERVER_PID $ETCD_PID)"
export KUBECONFIG
EOF
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}
write_env

# On any failure, stop what was started and remove the data dir.
ok=0 stage=""
on_exit() {
  if [[ $ok != 1 ]]; then
    if [[ $stage == certificates ]]; then
      echo "----- certificate generation failed: $LOG_DIR/openssl.log -----" >&2
      tail -n 20 "$LOG_DIR/openssl.log" >&2 || true
    fi
    log "FAILED; stopping what was started (logs kept in $LOG_DIR)"
    "$HERE/cluster-down.sh" "$STATE_DIR" >&2 || true
  fi
}
trap on_exit EXIT

# Tail of a log, for failure messages.
fail_with_log() {
  local what=$1 file=$2
  log "$what"
  if [[ -f "$file" ]]; then
    echo "----- last 40 lines of $file -----" >&2
    tail -n 40 "$file" >&2
    echo "-----" >&2
  fi
  exit 1
}

# ---------------------------------------------------------------- certificates
log "generating certificates in $PKI"
stage=certificates
(
  cd "$PKI"
  exec 2>"$LOG_DIR/openssl.log"
  days=30
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days "$days" \
    -subj "/CN=local-controlplane-ca" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"

  # sign NAME SUBJECT EXTENSIONS: key NAME.key, cert NAME.crt signed by the CA.
  sign() {
    local name=$1 subj=$2 ext=$3
    openssl req -new -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subj"
    printf '%s\n' "$ext" > "$name.ext"
    openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
      -out "$name.crt" -days "$days" -sha256 -extfile "$name.ext"
    rm -f "$name.csr" "$name.ext"
  }
  sign apiserver "/CN=kube-apiserver" \
"basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:$SERVICE_IP"
  client_ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
  sign admin "/O=system:masters/CN=admin" "$client_ext"
  sign kcm "/CN=system:kube-controller-manager" "$client_ext"

  # Front proxy (aggregation layer): its own CA and the client cert the API
  # server presents to extension API servers. It also gives components the
  # requestheader CA they look for in extension-apiserver-authentication.
  openssl req -x509 -newkey rsa:2048 -nodes -keyout front-proxy-ca.key -out front-proxy-ca.crt \
    -days "$days" -subj "/CN=local-controlplane-front-proxy-ca" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
  openssl req -new -newkey rsa:2048 -nodes -keyout front-proxy-client.key \
    -out front-proxy-client.csr -subj "/CN=front-proxy-client"
  printf '%s\n' "$client_ext" > front-proxy-client.ext
  openssl x509 -req -in front-proxy-client.csr -CA front-proxy-ca.crt -CAkey front-proxy-ca.key \
    -CAcreateserial -out front-proxy-client.crt -days "$days" -sha256 -extfile front-proxy-client.ext
  rm -f front-proxy-client.csr front-proxy-client.ext

  openssl genrsa -out sa.key 2048
  openssl rsa -in sa.key -pubout -out sa.pub
  chmod 600 ./*.key
)
stage=""
cp "$PKI/ca.crt" "$STATE_DIR/ca.crt"

# kubeconfig FILE USER: a kubeconfig with the CA and the user's cert embedded.
kubeconfig() {
  local file=$1 user=$2
  cat > "$file.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $APISERVER_URL
    certificate-authority-data: $(base64 -w0 < "$PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 < "$PKI/$user.crt")
    client-key-data: $(base64 -w0 < "$PKI/$user.key")
contexts:
- name: local
  context:
    cluster: local
    user: $user
current-context: local
EOF
  chmod 600 "$file.tmp"
  mv "$file.tmp" "$file"
}
kubeconfig "$STATE_DIR/kubeconfig" admin
kubeconfig "$STATE_DIR/kcm.kubeconfig" kcm

# wait_for NAME PID LOG CMD...: poll CMD until it succeeds, the process dies,
# or READY_TIMEOUT passes.
wait_for() {
  local name=$1 pid=$2 file=$3; shift 3
  local deadline=$(( $(date +%s) + READY_TIMEOUT ))
  until "$@" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || fail_with_log "$name (pid $pid) exited during startup" "$file"
    (( $(date +%s) < deadline )) || fail_with_log "$name not ready after ${READY_TIMEOUT}s" "$file"
    sleep 0.5
  done
  log "$name ready (pid $pid)"
}

# ------------------------------------------------------------------------ etcd
etcd_args=(--name=local --data-dir="$DATA_DIR/etcd"
  --listen-client-url="$ETCD_URL" --listen-peer-url="http://127.0.0.1:$ETCD_PEER_PORT")
[[ "${ETCD_FSYNC:-0}" == 1 ]] || etcd_args+=(--unsafe-no-fsync)
"$BIN/etcd" "${etcd_args[@]}" </dev/null >"$LOG_DIR/etcd.log" 2>&1 &
ETCD_PID=$!
write_env
wait_for etcd "$ETCD_PID" "$LOG_DIR/etcd.log" curl -sf "$ETCD_URL/health"

# -------------------------------------------------------------- kube-apiserver
# --endpoint-reconciler-type=none: the advertise address is loopback, which the
# Endpoints API rejects, so the "kubernetes" Service (10.0.0.1) is created but
# gets no endpoints (nothing runs in-cluster here anyway). Admission webhooks
# with a url: https://127.0.0.1:PORT/... clientConfig are called directly.
read -r -a apiserver_extra <<< "${APISERVER_ARGS:-}"
apiserver_cmd=("$BIN/kube-apiserver"
  --bind-address=127.0.0.1
  --advertise-address=127.0.0.1
  --secure-port="$APISERVER_PORT"
  --cert-dir="$DATA_DIR/apiserver-certs"
  --etcd-servers="$ETCD_URL"
  --authorization-mode=Node,RBAC
  --client-ca-file="$PKI/ca.crt"
  --tls-cert-file="$PKI/apiserver.crt"
  --tls-private-key-file="$PKI/apiserver.key"
  --service-account-issuer=https://kubernetes.default.svc.cluster.local
  --service-account-key-file="$PKI/sa.pub"
  --service-account-signing-key-file="$PKI/sa.key"
  --service-cluster-ip-range="$SERVICE_CIDR"
  --allow-privileged=true
  --endpoint-reconciler-type=none
  --requestheader-client-ca-file="$PKI/front-proxy-ca.crt"
  --requestheader-allowed-names=front-proxy-client
  --requestheader-username-headers=X-Remote-User
  --requestheader-group-headers=X-Remote-Group
  --requestheader-extra-headers-prefix=X-Remote-Extra-
  --proxy-client-cert-file="$PKI/front-proxy-client.crt"
  --proxy-client-key-file="$PKI/front-proxy-client.key"
  "${apiserver_extra[@]}")
# The exact command line, so tests/scripts/apiserver-restart.sh can start it again.
printf '%q ' "${apiserver_cmd[@]}" > "$STATE_DIR/apiserver.cmd"
"${apiserver_cmd[@]}" </dev/null >"$LOG_DIR/kube-apiserver.log" 2>&1 &
APISERVER_PID=$!
write_env
wait_for kube-apiserver "$APISERVER_PID" "$LOG_DIR/kube-apiserver.log" \
  curl -sf --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$APISERVER_URL/readyz"

# ----------------------------------------------------- kube-controller-manager
# shellcheck disable=SC2086
"$BIN/kube-controller-manager" \
  --kubeconfig="$STATE_DIR/kcm.kubeconfig" \
  --authentication-kubeconfig="$STATE_DIR/kcm.kubeconfig" \
  --authorization-kubeconfig="$STATE_DIR/kcm.kubeconfig" \
  --use-service-account-credentials=true \
  --service-account-private-key-file="$PKI/sa.key" \
  --root-ca-file="$PKI/ca.crt" \
  --cluster-signing-cert-file="$PKI/ca.crt" \
  --cluster-signing-key-file="$PKI/ca.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --controllers='*' \
  --leader-elect=false \
  --bind-address=127.0.0.1 \
  --secure-port="$KCM_PORT" \
  --cert-dir="$DATA_DIR/kcm-certs" \
  ${KCM_ARGS:-} \
  </dev/null >"$LOG_DIR/kube-controller-manager.log" 2>&1 &
KCM_PID=$!
write_env
wait_for kube-controller-manager "$KCM_PID" "$LOG_DIR/kube-controller-manager.log" \
  curl -sfk "https://127.0.0.1:$KCM_PORT/healthz"

ok=1
log "control plane up: $APISERVER_URL (state $STATE_DIR, data $DATA_DIR)"
echo "export KUBECONFIG=$STATE_DIR/kubeconfig"
