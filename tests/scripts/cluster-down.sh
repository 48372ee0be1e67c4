#!/usr/bin/env bash
# Stops a control plane started by cluster-up.sh and removes its data dir.
# Safe to run twice, or when nothing is running. Logs are kept.
#
# Usage: tests/scripts/cluster-down.sh [STATE_DIR]   (default $ROOT/target/cluster)
#   STOP_TIMEOUT  seconds to wait after SIGTERM before SIGKILL (default 20)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STATE_DIR="${1:-$ROOT/target/cluster}"
STOP_TIMEOUT="${STOP_TIMEOUT:-20}"
ENV_FILE="$STATE_DIR/env"

log() { echo "cluster-down: $*" >&2; }

if [[ ! -f "$ENV_FILE" ]]; then
  log "nothing to stop ($ENV_FILE not found)"
  exit 0
fi

# Values written by cluster-up.sh.
get() { sed -n "s/^$1=\"\(.*\)\"\$/\1/p" "$ENV_FILE"; }
BIN="$(get CONTROLPLANE_BIN)"
DATA_DIR="$(get DATA_DIR)"

# alive PID NAME: true while PID is a live (non-zombie) process running
# $BIN/NAME, so that a recycled PID is never signalled.
alive() {
  local pid=$1 name=$2 argv0 state
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  argv0="$(tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | head -n1)" || return 1
  [[ "$argv0" == "$BIN/$name" ]] || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" || return 1
  [[ "$state" != Z ]]
}

# stop "PID:NAME"...: SIGTERM all, wait up to STOP_TIMEOUT, then SIGKILL.
stop() {
  local item pid name left deadline=$(( $(date +%s) + STOP_TIMEOUT ))
  for item in "$@"; do
    pid=${item%%:*} name=${item#*:}
    if alive "$pid" "$name"; then
      log "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  while :; do
    left=()
    for item in "$@"; do
      alive "${item%%:*}" "${item#*:}" && left+=("$item")
    done
    (( ${#left[@]} )) || return 0
    if (( $(date +%s) >= deadline )); then
      for item in "${left[@]}"; do
        log "${item#*:} (pid ${item%%:*}) did not stop in ${STOP_TIMEOUT}s; SIGKILL"
        kill -KILL "${item%%:*}" 2>/dev/null || true
      done
      sleep 0.5
      return 0
    fi
    sleep 0.2
  done
}

# Clients of etcd first, so they shut down cleanly; then etcd.
stop "$(get KCM_PID):kube-controller-manager" "$(get APISERVER_PID):kube-apiserver"
stop "$(get ETCD_PID):etcd"

if [[ -n "$DATA_DIR" && -d "$DATA_DIR" ]]; then
  case "$(basename "$DATA_DIR")" in
    k8s-controlplane.*) rm -rf -- "$DATA_DIR"; log "removed $DATA_DIR" ;;
    *) log "not removing unexpected data dir $DATA_DIR" ;;
  esac
fi

rm -f -- "$STATE_DIR/kubeconfig" "$STATE_DIR/kcm.kubeconfig" "$STATE_DIR/ca.crt" "$STATE_DIR/apiserver.cmd" "$ENV_FILE"
log "stopped (logs kept in $STATE_DIR/logs)"
