#!/usr/bin/env bash
# What tracing the required flows (table trace.flows, rule podnet.path-blocked)
# adds to `kdiag analyze`: the same build on the same generated bundle, with
# and without that rule, three runs each; prints the median CPU time
# (user+sys) and wall time of each, and the ratio.
# Usage: bench/trace-cost.sh [KDIAG_BIN] [NODES] [PODS] [LOG_MB]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/kdiag}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/make-big-bundle.py "$work/bundle" "${2:-300}" "${3:-15000}" "${4:-200}"
tar -C "$work" -czf "$work/big.tar.gz" bundle
run() { # prints "cpu_ms wall_ms" of one run
  local out
  out=$( { /usr/bin/time -f "%U %S %e" "$bin" analyze --fail-on never --format json "$@" "$work/big.tar.gz" >/dev/null; } 2>&1 | tail -1 )
  awk '{ printf "%d %d\n", ($1 + $2) * 1000, $3 * 1000 }' <<<"$out"
}
median() { sort -n | sed -n 2p; }
with=() without=()
for _ in 1 2 3; do
  with+=("$(run)")
  without+=("$(run --skip podnet.path-blocked)")
done
wc=$(printf '%s\n' "${with[@]}" | cut -d' ' -f1 | median)
ww=$(printf '%s\n' "${with[@]}" | cut -d' ' -f2 | median)
nc=$(printf '%s\n' "${without[@]}" | cut -d' ' -f1 | median)
nw=$(printf '%s\n' "${without[@]}" | cut -d' ' -f2 | median)
echo "analyze with the traced flows:    CPU ${wc} ms, wall ${ww} ms (median of 3)"
echo "analyze without (--skip podnet.path-blocked): CPU ${nc} ms, wall ${nw} ms"
awk -v a="$wc" -v b="$nc" 'BEGIN { printf "tracing adds %.1f%% CPU\n", (a - b) * 100 / b }'
