#!/usr/bin/env bash
# One ALaRM iteration on the "small" shape, timed per stage: alarm-rollout
# (64 prompts x 4 samples x 64 new tokens), a rule scorer (jq: the share of
# response tokens below id 1000), alarm-select (holistic mode) and alarm-ppo
# (4 epochs, minibatches of 8), then alarm-ppo's tokens/s against PyTorch's
# implementation of the same step (tests/gen_ppo_fixtures.py's) on the same
# combined records, same machine and threads, and the peak memory of each.
# Usage: tests/bench/ppo.sh   (THREADS, default 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
THREADS=${THREADS:-2}
out=$(mktemp -d "${TMPDIR:-/tmp}/alarm-bench-ppo.XXXXXX")
trap 'rm -rf "$out"' EXIT
. tests/bench/small_world.sh
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)} threads=$THREADS load: $(cut -d' ' -f1-3 /proc/loadavg)"
now() { date +%s.%N; }
span() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
t0=$(now)
"$BUILD/bin/alarm-rollout" -q --model "$out/m" -n 4 --max-new-tokens 64 --no-eos --batch 8 \
    --threads "$THREADS" "$out/prompts" >"$out/r.jsonl"
t1=$(now)
jq -c '.rewards = {rule: {value: (([.response_tokens[] | select(. < 1000)] | length) / (.response_tokens | length))}}' \
    "$out/r.jsonl" >"$out/s.jsonl"
t2=$(now)
"$BUILD/bin/alarm-select" -q --mode holistic --holistic rule "$out/s.jsonl" >"$out/c.jsonl"
t3=$(now)
/usr/bin/time -f "%M" -o "$out/ppo.mem" "$BUILD/bin/alarm-ppo" -q --policy "$out/m" --ref "$out/m" \
    --out "$out/p1" --mini-batch 8 --threads "$THREADS" "$out/c.jsonl" >"$out/stats.json"
t4=$(now)
ntok=$(jq '(.prompt_tokens | length) + (.response_tokens | length)' "$out/c.jsonl" | awk '{ s += $1 } END { print s }')
echo "stages (s): rollout $(span "$t0" "$t1")  score (jq rule) $(span "$t1" "$t2")  select $(span "$t2" "$t3")  ppo $(span "$t3" "$t4")"
prate=$(awk -v n="$ntok" -v a="$t3" -v b="$t4" 'BEGIN { printf "%.0f", 4 * n / (b - a) }')
echo "alarm-ppo: 256 records, $ntok tokens x 4 epochs in $(span "$t3" "$t4") s: $prate tokens/s" \
     "(old pass and loading included), peak RSS $(( $(cat "$out/ppo.mem") / 1024 )) MB"
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/gen_ppo_fixtures.py --bench "$out/m" "$out/c.jsonl" \
        --mini-batch 8 --threads "$THREADS" >"$out/t.json"
    trate=$(jq '.tokens_per_s | floor' "$out/t.json")
    echo "PyTorch $(jq -r .torch "$out/t.json") step, same records: $trate tokens/s, peak RSS" \
         "$(jq '.peak_rss_mb | floor' "$out/t.json") MB; alarm-ppo / PyTorch:" \
         "$(awk -v a="$prate" -v b="$trate" 'BEGIN { printf "%.2f", a / b }')"
else
    echo "PyTorch: not installed (apt-get install python3-torch), comparison skipped"
fi
