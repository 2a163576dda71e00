#!/usr/bin/env bash
# alarm-rollout throughput: 64 prompts of mixed lengths x 4 samples x 64 new
# tokens (no stop at EOS) on the "small" shape (V 8192, C 256, 6 layers, 8
# heads) with random weights, against the runtime's own sampling rate
# (alarm-model bench --config small, batch 8: another workload), against the
# engine alarm-rollout drives run alone on the same prompt tokens
# (rollout-engine.c: the tool's overhead, medians of 3 runs side by side), and
# against a PyTorch KV-cache sampler on the same workload (torch_rollout.py),
# same machine, same threads.
# Usage: tests/bench/rollout.sh   (THREADS, default 2; BATCH, default 8)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
THREADS=${THREADS:-2}
BATCH=${BATCH:-8}
out=$(mktemp -d "${TMPDIR:-/tmp}/alarm-bench-rollout.XXXXXX")
trap 'rm -rf "$out"' EXIT
pkgs="sqlite3 libcjson libcurl openblas libpcre2-8 icu-uc"
for prog in gen-model rollout-engine; do
    ${CC:-cc} -O2 -fopenmp -Icommon -o "$out/$prog" "tests/bench/$prog.c" "$BUILD/libalarm.a" \
        $(pkg-config --libs $pkgs) -lm
done
"$out/gen-model" "$out/m" 8192 256 6 8 256
# a byte-level tokenizer of 8192 tokens, trained on generated text
awk 'BEGIN { srand(1); for (i = 0; i < 3000; i++) { s = ""; for (j = 0; j < 40; j++) {
    w = " "; n = 2 + int(rand() * 6); for (k = 0; k < n; k++) w = w sprintf("%c", 97 + int(rand() * rand() * 26))
    s = s w }; printf "{\"text\":\"%s\"}\n", s } }' >"$out/corpus"
"$BUILD/bin/alarm-model" train-tokenizer -q --vocab-size 8192 --min-frequency 1 --out "$out/m" "$out/corpus"
# 64 prompts of 4 to 67 tokens
awk 'BEGIN { for (i = 0; i < 64; i++) { n = 4 + (i * 37) % 64; s = ""; for (j = 0; j < n; j++)
    s = s "x"; printf "{\"id\":\"q%d\",\"prompt\":\"%s\"}\n", i, s } }' >"$out/prompts"
lens=$("$BUILD/bin/alarm-model" tokenize --field prompt --tokenizer "$out/m" "$out/prompts" |
    jq -r '.ids | length' | paste -sd,)
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)} threads=$THREADS batch=$BATCH load: $(cut -d' ' -f1-3 /proc/loadavg)"
median() { sort -g | sed -n 2p; }
"$BUILD/bin/alarm-model" tokenize --field prompt --tokenizer "$out/m" "$out/prompts" |
    jq -r '.ids | map(tostring) | join(" ")' >"$out/ids"
for run in 1 2 3; do
    t0=$(date +%s.%N)
    "$BUILD/bin/alarm-rollout" -q --model "$out/m" -n 4 --max-new-tokens 64 --no-eos --batch "$BATCH" \
        --threads "$THREADS" "$out/prompts" >"$out/r.jsonl"
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >>"$out/tool.s"
    "$out/rollout-engine" "$out/m" 256 64 4 "$BATCH" "$THREADS" <"$out/ids" | jq .seconds >>"$out/engine.s"
done
ntok=$(jq '.response_tokens | length' "$out/r.jsonl" | awk '{ s += $1 } END { print s }')
ts=$(median <"$out/tool.s")
es=$(median <"$out/engine.s")
rate=$(awk -v n="$ntok" -v t="$ts" 'BEGIN { printf "%.0f", n / t }')
echo "alarm-rollout: $ntok tokens in $ts s (median of 3): $rate tokens/s (load and tokenizing included)"
echo "its engine alone (rollout-engine, same prompt tokens, decoding only): $es s," \
     "$(awk -v n="$ntok" -v t="$es" 'BEGIN { printf "%.0f", n / t }') tokens/s;" \
     "alarm-rollout / engine: $(awk -v a="$es" -v b="$ts" 'BEGIN { printf "%.2f", a / b }')"
"$BUILD/bin/alarm-model" bench --config small --format json --threads "$THREADS" -q >"$out/b.json"
rt=$(jq '.configs.small.sample_b8_tokens_per_s | floor' "$out/b.json")
echo "runtime sampling (alarm-model bench small, batch 8, 16-token prompt, 128 new): $rt tokens/s;" \
     "alarm-rollout / runtime: $(awk -v a="$rate" -v b="$rt" 'BEGIN { printf "%.2f", a / b }')"
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/bench/torch_rollout.py --prompt-lens "$lens" \
        --samples 4 --new 64 --batch "$BATCH" --threads "$THREADS" >"$out/t.json"
    tr=$(jq '.tokens_per_s | floor' "$out/t.json")
    echo "PyTorch $(jq -r .torch "$out/t.json") KV-cache sampler, same workload: $tr tokens/s;" \
         "alarm-rollout / PyTorch: $(awk -v a="$rate" -v b="$tr" 'BEGIN { printf "%.2f", a / b }')"
else
    echo "PyTorch: not installed (apt-get install python3-torch), comparison skipped"
fi
