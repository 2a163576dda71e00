#!/usr/bin/env bash
# Peak memory (and time) of one PPO step on a GPT-2 124M-shaped model (V 50257,
# C 768, 12 layers, 12 heads, 1024 positions; random weights): policy,
# reference, value head and Adam's moments in memory, 16 combined records of
# 32 prompt and 32 response tokens (random ids, a reward on the last token),
# one epoch of two minibatches of 8, against PyTorch's implementation of the
# same step (tests/gen_ppo_fixtures.py --bench) on the same records.
# Usage: tests/bench/ppo-gpt2.sh   (THREADS, default 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
THREADS=${THREADS:-2}
out=$(mktemp -d "${TMPDIR:-/tmp}/alarm-bench-ppo-gpt2.XXXXXX")
trap 'rm -rf "$out"' EXIT
pkgs="sqlite3 libcjson libcurl openblas libpcre2-8 icu-uc"
${CC:-cc} -O2 -fopenmp -Icommon -o "$out/gen-model" tests/bench/gen-model.c "$BUILD/libalarm.a" \
    $(pkg-config --libs $pkgs) -lm
"$out/gen-model" "$out/g" 50257 768 12 12 1024
tests/bench/gen-combined.sh 16 50257 32 32 5 >"$out/c.jsonl"
echo "== one PPO step, GPT-2 124M shape, 16 records x 64 tokens, 1 epoch, minibatch 8, $THREADS threads," \
     "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, load: $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$out/ppo.mem" "$BUILD/bin/alarm-ppo" -q --policy "$out/g" --ref "$out/g" \
    --out "$out/p1" --mini-batch 8 --ppo-epochs 1 --threads "$THREADS" "$out/c.jsonl" >/dev/null
t1=$(date +%s.%N)
amb=$(( $(cat "$out/ppo.mem") / 1024 ))
echo "alarm-ppo: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s (loading and saving included)," \
     "peak RSS $amb MB"
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/gen_ppo_fixtures.py --bench "$out/g" "$out/c.jsonl" \
        --mini-batch 8 --ppo-epochs 1 --threads "$THREADS" >"$out/t.json"
    tmb=$(jq '.peak_rss_mb | floor' "$out/t.json")
    echo "PyTorch $(jq -r .torch "$out/t.json") step: $(jq '.seconds * 10 | floor / 10' "$out/t.json") s," \
         "peak RSS $tmb MB; alarm-ppo / PyTorch memory: $(awk -v a="$amb" -v b="$tmb" 'BEGIN { printf "%.2f", a / b }')"
else
    echo "PyTorch: not installed (apt-get install python3-torch), comparison skipped"
fi
echo "reproduce: THREADS=$THREADS tests/bench/ppo-gpt2.sh"
