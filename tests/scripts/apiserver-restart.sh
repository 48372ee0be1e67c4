#!/usr/bin/env bash
# Restarts the kube-apiserver of a control plane started by cluster-up.sh: stops it (SIGKILL by
# default, like a crash; SIGNAL=TERM for a graceful stop), starts it again with the exact
# command line cluster-up.sh used (same ports, certificates and etcd), updates the env file's
# PIDs and waits until /readyz answers. Prints the new PID. Used by the fault tests.
#
# Usage: tests/scripts/apiserver-restart.sh STATE_DIR
#   SIGNAL         signal that stops the API server (default KILL)
#   DOWN_SECONDS   seconds to stay down before starting again (default 0)
#   READY_TIMEOUT  seconds to wait for /readyz (default 120)
set -euo pipefail

STATE_DIR="${1:?usage: apiserver-restart.sh STATE_DIR}"
ENV_FILE="$STATE_DIR/env"
CMD_FILE="$STATE_DIR/apiserver.cmd"
SIGNAL="${SIGNAL:-KILL}"
DOWN_SECONDS="${DOWN_SECONDS:-0}"
READY_TIMEOUT="${READY_TIMEOUT:-120}"

log() { echo "apiserver-restart: $*" >&2; }
[[ -f "$ENV_FILE" && -f "$CMD_FILE" ]] || { log "no control plane in $STATE_DIR"; exit 1; }
get() { sed -n "s/^$1=\"\(.*\)\"\$/\1/p" "$ENV_FILE"; }
BIN="$(get CONTROLPLANE_BIN)"
PID="$(get APISERVER_PID)"
DATA_DIR="$(get DATA_DIR)"
LOG="$(get APISERVER_LOG)"
URL="$(get APISERVER_URL)"

# Only signal the process if it really is our API server (PIDs get reused).
argv0="$(tr '\0' '\n' 2>/dev/null < "/proc/$PID/cmdline" | head -n1 || true)"
if [[ "$argv0" == "$BIN/kube-apiserver" ]]; then
  kill "-$SIGNAL" "$PID"
  deadline=$(( $(date +%s) + 60 ))
  while [[ -e "/proc/$PID" ]] && [[ "$(awk '{print $3}' "/proc/$PID/stat" 2>/dev/null)" != Z ]]; do
    (( $(date +%s) < deadline )) || { log "pid $PID did not exit"; exit 1; }
    sleep 0.1
  done
  log "stopped pid $PID (SIG$SIGNAL)"
else
  log "pid $PID is not running; starting a new one"
fi
if (( DOWN_SECONDS > 0 )); then
  sleep "$DOWN_SECONDS"
fi

echo "----- restarted $(date -u +%FT%TZ) -----" >>"$LOG"
# A session of its own: it outlives this script, and cluster-down.sh stops it by its PID.
setsid bash -c "exec $(cat "$CMD_FILE")" </dev/null >>"$LOG" 2>&1 &
NEW=$!
sed -i -e "s/^APISERVER_PID=.*/APISERVER_PID=\"$NEW\"/" \
  -e "s/^PIDS=.*/PIDS=\"$(get KCM_PID) $NEW $(get ETCD_PID)\"/" "$ENV_FILE"

PKI="$DATA_DIR/pki"
deadline=$(( $(date +%s) + READY_TIMEOUT ))
until curl -sf --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$URL/readyz" >/dev/null 2>&1; do
  kill -0 "$NEW" 2>/dev/null || { log "the new API server (pid $NEW) exited"; tail -n 30 "$LOG" >&2; exit 1; }
  (( $(date +%s) < deadline )) || { log "not ready after ${READY_TIMEOUT}s"; exit 1; }
  sleep 0.1
done
log "ready (pid $NEW)"
echo "$NEW"
