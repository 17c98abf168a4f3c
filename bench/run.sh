#!/usr/bin/env bash
# Throughput of `kdiag inspect` on a large generated bundle, as a ratio to
# `gzip -dc` of the same file (the cost of merely decompressing it) in the
# same run. Usage: bench/run.sh [NODES] [PODS] [LOG_MB]
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/make-big-bundle.py "$work/bundle" "${1:-300}" "${2:-15000}" "${3:-200}"
tar -C "$work" -czf "$work/big.tar.gz" bundle
cargo build --release -q -p kdiag
bin=target/release/kdiag
size=$(stat -c %s "$work/big.tar.gz")
raw=$(du -sb "$work/bundle" | cut -f1)
echo "bundle: $((raw / 1048576)) MiB uncompressed, $((size / 1048576)) MiB compressed"

best() { # best wall time of 3 runs, in ms
  local best=
  for _ in 1 2 3; do
    local t0 t1
    t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
    local ms=$(((t1 - t0) / 1000000))
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
  done
  echo "$best"
}
g=$(best gzip -dc "$work/big.tar.gz")
k=$(best "$bin" inspect --format json "$work/big.tar.gz")
a=$(best "$bin" analyze --fail-on never --format json "$work/big.tar.gz")
peak=$( { /usr/bin/time -f %M "$bin" inspect --format json "$work/big.tar.gz" >/dev/null; } 2>&1 | tail -1 )
apeak=$( { /usr/bin/time -f %M "$bin" analyze --fail-on never --format json "$work/big.tar.gz" >/dev/null; } 2>&1 | tail -1 )
echo "gzip -dc:             ${g} ms"
echo "kdiag inspect (json): ${k} ms  peak RSS ${peak} KiB"
echo "kdiag analyze (json): ${a} ms  peak RSS ${apeak} KiB"
awk -v k="$k" -v a="$a" -v g="$g" 'BEGIN { printf "ratio inspect/gzip:   %.2f\nratio analyze/gzip:   %.2f\n", k / g, a / g }'
