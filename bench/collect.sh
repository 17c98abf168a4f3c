#!/usr/bin/env bash
# The collector's own overhead: kdiag-collect over the seed-incident sample
# (kubectl answered by the test double, release build), against replaying
# exactly the kubectl calls it made, one after another, in the same run.
# The ratio is what timeouts, redaction, log trimming and the manifest cost.
# Usage: bench/collect.sh [PARALLEL]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p kdiag-kubectl-double
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/state"
ln -s "$PWD/target/release/kubectl" "$work/bin/kubectl"
export PATH="$work/bin:$PATH" KDIAG_DOUBLE_BUNDLE="$PWD/sample-bundles/seed-incident" KDIAG_DOUBLE_STATE="$work/state"

t0=$(date +%s%N)
bash collector/kdiag-collect -q -o "$work/out/" --parallel "${1:-1}"
t1=$(date +%s%N)
calls=$(wc -l <"$work/state/calls.jsonl")

# Replay: the same argv, in order, with the created pods present again.
mkdir -p "$work/state/pods"
for f in "$work"/state/created-*; do cp "$f" "$work/state/pods/${f##*/created-}"; done
mv "$work/state/calls.jsonl" "$work/calls.jsonl"
python3 - "$work/calls.jsonl" "$work/replay.sh" <<'PY'
import json, shlex, sys
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as out:
    for line in f:
        argv = json.loads(line)
        out.write("kubectl " + " ".join(shlex.quote(a) for a in argv) + " >/dev/null 2>&1 || true\n")
PY
t2=$(date +%s%N)
bash "$work/replay.sh"
t3=$(date +%s%N)

c=$(((t1 - t0) / 1000000))
r=$(((t3 - t2) / 1000000))
echo "kubectl calls:           $calls"
echo "kdiag-collect:           ${c} ms"
echo "replay of its calls:     ${r} ms"
awk -v c="$c" -v r="$r" -v n="$calls" 'BEGIN { printf "ratio collect/replay:    %.2f\noverhead per call:       %.1f ms\n", c / r, (c - r) / n }'
