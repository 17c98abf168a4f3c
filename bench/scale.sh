#!/usr/bin/env bash
# How kdiag's cost grows with the bundle, against the cost of merely
# inflating it, on bundles shaped like what the collector writes
# (bench/gen-bundle.py: kubectl YAML, one flannel entry per peer per node,
# every Service in iptables, logs). One run per size, all on the same file:
#   inflate-only (flate2/zlib-rs, read and discard), gzip -dc, tar xzf,
#   kdiag inspect, kdiag analyze — wall time and peak RSS — and the ratios
#   analyze/inflate and tar/analyze.
# Usage: bench/scale.sh [NODES...]        (default: 250 1000 2000)
# FAULT=node-proxier-deleted bench/scale.sh 250   analyzes a broken cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(250 1000 2000)
work=${WORK:-$(mktemp -d)}
trap 'rm -rf "$work"' EXIT
cargo build --release -q -p kdiag
cargo build --release -q -p kdiag-bundle --example inflate
bin=target/release/kdiag
inflate=target/release/examples/inflate

# run NAME CMD...: wall seconds and peak RSS (KiB) of one run, output discarded.
run() {
  local name=$1
  shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/stderr" || {
    local rc=$?
    # analyze exits 10/11 for findings: that is a result, not a failure.
    if [ "$name" != analyze ] || [ "$rc" -lt 10 ]; then
      echo "$name failed ($rc):" >&2
      tail -3 "$work/stderr" >&2
    fi
  }
  tail -1 "$work/time"
}

printf '%-6s %-8s %-9s | %-14s %-14s %-14s %-22s %-22s | %-15s %-12s\n' \
  nodes tar.gz inflated inflate-only "gzip -dc" "tar xzf" "kdiag inspect" "kdiag analyze" analyze/inflate tar/analyze
for n in "${sizes[@]}"; do
  bundle="$work/bench-$n.tar.gz"
  python3 bench/gen-bundle.py "$bundle" --nodes "$n" --fault "${FAULT:-none}"
  size=$(stat -c %s "$bundle")
  read -r inf_s inf_kb < <(run inflate "$inflate" "$bundle")
  inflated=$("$inflate" "$bundle")
  read -r gz_s _ < <(run gzip gzip -dc "$bundle")
  mkdir -p "$work/x"
  read -r tar_s _ < <(run tar tar -xzf "$bundle" -C "$work/x")
  rm -rf "$work/x"
  read -r ins_s ins_kb < <(run inspect "$bin" inspect --format json "$bundle")
  read -r an_s an_kb < <(run analyze "$bin" analyze --format json "$bundle")
  printf '%-6s %-8s %-9s | %-14s %-14s %-14s %-22s %-22s | %-15s %-12s\n' \
    "$n" "$((size >> 20))M" "$((inflated >> 20))M" "${inf_s}s" "${gz_s}s" "${tar_s}s" \
    "${ins_s}s $((ins_kb >> 10))MiB" "${an_s}s $((an_kb >> 10))MiB" \
    "$(awk -v a="$an_s" -v b="$inf_s" 'BEGIN { printf "%.1fx", a / (b > 0 ? b : 0.01) }')" \
    "$(awk -v a="$tar_s" -v b="$an_s" 'BEGIN { printf "%.2fx", a / (b > 0 ? b : 0.01) }')"
  rm -f "$bundle"
done
