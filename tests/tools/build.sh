#!/usr/bin/env bash
# Builds the third-party tools the install and observability tests run, each from its upstream Go
# module, into $ROOT/target/tools/bin/:
#
#   cert-manager   cert-manager-controller, cainjector   (github.com/cert-manager/cert-manager)
#   helm           helm                                  (helm.sh/helm/v4)
#   prometheus     prometheus, promtool                  (github.com/prometheus/prometheus)
#
# Usage: tests/tools/build.sh [TOOL...]   (default: all three)
#
# Each tool is a Go module of its own under tests/tools/<tool>/ (their Kubernetes libraries
# differ). A tool is rebuilt only when its inputs change: a hash of its go.mod, go.sum, *.go
# files and this script is kept in target/tools/stamps/<tool>. FORCE=1 rebuilds anyway.
# Concurrent runs are serialized on one lock; the build cache is target/tools/gocache.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/target/tools"
BIN="$OUT/bin"
STAMPS="$OUT/stamps"

ALL=(cert-manager helm prometheus)
tools=("$@")
(( ${#tools[@]} )) || tools=("${ALL[@]}")

mkdir -p "$BIN" "$STAMPS"
exec 9>"$OUT/.build.lock"
flock 9

export GOTOOLCHAIN=local CGO_ENABLED=0 GOCACHE="$OUT/gocache" GOFLAGS=-mod=readonly

# Binaries of a tool, and how to build them (run inside the tool's module directory).
binaries() {
  case $1 in
    cert-manager) echo cert-manager-controller cainjector ;;
    helm) echo helm ;;
    prometheus) echo prometheus promtool ;;
    *) echo "tools: unknown tool $1 (known: ${ALL[*]})" >&2; return 1 ;;
  esac
}

# Version of a required module, from the tool's go.mod.
modversion() {
  awk -v m="$2" '$1 == m && $2 ~ /^v/ {print $2; exit} $1 == "require" && $2 == m {print $3; exit}' "$HERE/$1/go.mod"
}

build() {
  local tool=$1 v
  case $tool in
    cert-manager)
      go build -trimpath -ldflags="-s -w" -o "$BIN/" ./cmd/cert-manager-controller ./cmd/cainjector
      ;;
    helm)
      v=$(modversion helm helm.sh/helm/v4)
      go build -trimpath -ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=$v" \
        -o "$BIN/helm" helm.sh/helm/v4/cmd/helm
      ;;
    prometheus)
      v=$(modversion prometheus github.com/prometheus/prometheus)
      # Module v0.MMM.P is Prometheus M.MM.P (v0.316.0 is 3.16.0).
      local minor=${v#v0.}; minor=${minor%%.*}
      local pv="${minor:0:1}.$((10#${minor:1})).${v##*.}"
      go build -trimpath -tags remove_all_sd \
        -ldflags="-s -w -X github.com/prometheus/common/version.Version=$pv" \
        -o "$BIN/" github.com/prometheus/prometheus/cmd/prometheus github.com/prometheus/prometheus/cmd/promtool
      ;;
  esac
}

for tool in "${tools[@]}"; do
  bins=$(binaries "$tool")
  dir="$HERE/$tool"
  stamp="$STAMPS/$tool"
  hash=$(
    cd "$dir"
    { printf '%s\n' go.mod go.sum; find . -name '*.go' -type f | LC_ALL=C sort; } |
      while IFS= read -r f; do printf '%s  ' "$f"; sha256sum < "$f"; done
    printf 'build.sh  '; sha256sum < "$HERE/build.sh"
  )
  hash=$(sha256sum <<<"$hash" | cut -d' ' -f1)
  need=0
  if [[ "${FORCE:-0}" == 1 || ! -f "$stamp" || "$(cat "$stamp")" != "$hash" ]]; then
    need=1
  else
    for b in $bins; do [[ -x "$BIN/$b" ]] || need=1; done
  fi
  if [[ $need == 0 ]]; then
    echo "tools: $tool up to date ($BIN)"
    continue
  fi
  rm -f "$stamp"
  start=$(date +%s)
  echo "tools: building $tool ($bins) into $BIN (slow when cold) ..."
  (cd "$dir" && build "$tool")
  for b in $bins; do
    [[ -x "$BIN/$b" ]] || { echo "tools: $BIN/$b missing after build" >&2; exit 1; }
  done
  echo "$hash" > "$stamp"
  echo "tools: built $tool in $(( $(date +%s) - start ))s"
done
