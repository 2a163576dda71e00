#!/usr/bin/env bash
# alarm-sft against a PyTorch fine-tuning loop (tests/bench/torch_sft.py) on
# the "small" shape (tests/bench/small_world.sh) and the same 256 of
# alarm-synth's demonstrations (those under 400 bytes, to fit 256 positions):
# one epoch at batch 8 (32 optimizer steps),
# tokens/s over prompt, response and EOS tokens. alarm-sft's time is the whole
# command (loading, tokenizing, the final checkpoint included); PyTorch's is
# its loop alone. Usage: tests/bench/sft.sh   (THREADS, default 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
THREADS=${THREADS:-2}
out=$(mktemp -d "${TMPDIR:-/tmp}/alarm-bench-sft.XXXXXX")
trap 'rm -rf "$out"' EXIT
. tests/bench/small_world.sh
"$BUILD/bin/alarm-synth" demos -q -n 1024 | jq -c -n \
    '[inputs | select((.prompt + .response | utf8bytelength) < 400) | {prompt, response}] | .[:256][]' \
    >"$out/demos"
"$BUILD/bin/alarm-model" logprobs -q --model "$out/m" "$out/demos" >"$out/tokens"
ntok=$(jq '(.prompt_tokens | length) + (.response_tokens | length) + 1' "$out/tokens" | awk '{ s += $1 } END { print s }')
echo "== alarm-sft: 256 demonstrations, $ntok tokens, batch 8, $THREADS threads," \
     "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, load: $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$out/sft.mem" "$BUILD/bin/alarm-sft" -q --model "$out/m" --out "$out/s" \
    --batch 8 --max-len 256 --threads "$THREADS" "$out/demos"
t1=$(date +%s.%N)
arate=$(awk -v n="$ntok" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
echo "alarm-sft: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s, $arate tokens/s," \
     "peak RSS $(( $(cat "$out/sft.mem") / 1024 )) MB"
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/bench/torch_sft.py "$out/m" "$out/tokens" 8 "$THREADS" >"$out/t.json"
    trate=$(jq '.tokens_per_s | floor' "$out/t.json")
    echo "PyTorch $(jq -r .torch "$out/t.json") loop: $(jq '.seconds * 100 | floor / 100' "$out/t.json") s," \
         "$trate tokens/s, peak RSS $(jq '.peak_rss_mb | floor' "$out/t.json") MB;" \
         "alarm-sft / PyTorch: $(awk -v a="$arate" -v b="$trate" 'BEGIN { printf "%.2f", a / b }')"
else
    echo "PyTorch: not installed (apt-get install python3-torch), comparison skipped"
fi
echo "reproduce: THREADS=$THREADS tests/bench/sft.sh"
