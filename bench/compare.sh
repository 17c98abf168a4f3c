#!/usr/bin/env bash
# Two kdiag builds on the same generated bundle, in one run: wall time and
# peak RSS of `kdiag analyze`, and the ratios new/old. For "before and
# after" figures: build the old commit into its own target directory, e.g.
#   git worktree add /tmp/before <commit> && (cd /tmp/before && cargo build --release -p kdiag)
#   bench/compare.sh /tmp/before/target/release/kdiag target/release/kdiag
# Usage: bench/compare.sh OLD_BIN NEW_BIN [NODES] [PODS] [LOG_MB]
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/make-big-bundle.py "$work/bundle" "${3:-300}" "${4:-15000}" "${5:-200}"
tar -C "$work" -czf "$work/big.tar.gz" bundle
echo "bundle: $(( $(du -sb "$work/bundle" | cut -f1) / 1048576 )) MiB uncompressed, $(( $(stat -c %s "$work/big.tar.gz") / 1048576 )) MiB compressed"
measure() { # prints "ms KiB"
  local t0 t1 kib
  t0=$(date +%s%N)
  kib=$( { /usr/bin/time -f %M "$1" analyze --fail-on never --format json "$work/big.tar.gz" >/dev/null; } 2>&1 | tail -1 )
  t1=$(date +%s%N)
  echo "$(((t1 - t0) / 1000000)) $kib"
}
read -r ot ok < <(measure "$old")
read -r nt nk < <(measure "$new")
echo "old analyze: ${ot} ms, peak RSS ${ok} KiB   ($old)"
echo "new analyze: ${nt} ms, peak RSS ${nk} KiB   ($new)"
awk -v ot="$ot" -v nt="$nt" -v ok="$ok" -v nk="$nk" 'BEGIN { printf "ratio new/old: time %.2f, peak RSS %.2f\n", nt / ot, nk / ok }'
