#!/usr/bin/env bash
# LoRA against full-parameter PPO (random weights, transformers' init):
# peak memory (/usr/bin/time's max RSS) and tokens/s of one PPO step on a
# GPT-2 124M shape (V 50257, C 768, 12 layers), 16 records of 32 prompt and
# 32 response tokens, one epoch of two minibatches of 8: full (policy,
# --ref, value head, Adam's moments over everything) against --lora r=16
# (no --ref: the reference is the base under the adapters, in the same
# weights; moments for adapters and the value head only). Then a LoRA step
# on Llama-family shapes of growing size (LLAMA_SHAPES), stored as BF16 as
# released checkpoints are, to find the largest under 8 GB peak.
# Seconds include loading and saving; tokens/s = 16 x 64 / median seconds.
# Usage: tests/bench/lora.sh   (THREADS, default 2; RUNS, default 3; LLAMA_SHAPES)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
THREADS=${THREADS:-2}
RUNS=${RUNS:-3}
# name V C L NH NKV FF: Qwen2.5-0.5B, TinyLlama-1.1B, Llama-3.2-1B, Qwen2.5-1.5B shapes
LLAMA_SHAPES=${LLAMA_SHAPES:-"qwen0.5b 151936 896 24 14 2 4864
tinyllama1.1b 32000 2048 22 32 4 5632
llama3.2-1b 128256 2048 16 32 8 8192
qwen1.5b 151936 1536 28 12 2 8960"}
out=$(mktemp -d "${TMPDIR:-/tmp}/alarm-bench-lora.XXXXXX")
trap 'rm -rf "$out"' EXIT
pkgs="sqlite3 libcjson libcurl openblas libpcre2-8 icu-uc"
${CC:-cc} -O2 -fopenmp -Icommon -o "$out/gen-model" tests/bench/gen-model.c "$BUILD/libalarm.a" \
    $(pkg-config --libs $pkgs) -lm

# combined N V P R SEED: random combined records (the PPO benchmarks' one generator)
combined() { tests/bench/gen-combined.sh "$@"; }

# step LABEL ARGS...: RUNS PPO steps; prints the median seconds, tokens/s and peak RSS
step() {
    label=$1; shift
    : >"$out/times"
    : >"$out/mems"
    for r in $(seq "$RUNS"); do
        rm -rf "$out/p1"
        t0=$(date +%s.%N)
        /usr/bin/time -f "%M" -o "$out/mem" "$BUILD/bin/alarm-ppo" -q "$@" --out "$out/p1" \
            --mini-batch 8 --ppo-epochs 1 --threads "$THREADS" "$out/c.jsonl" >/dev/null
        t1=$(date +%s.%N)
        awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }' >>"$out/times"
        echo $(( $(cat "$out/mem") / 1024 )) >>"$out/mems"
    done
    med=$(sort -g "$out/times" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    mem=$(sort -g "$out/mems" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    printf '%-34s %7.1f s %8.0f tokens/s  peak RSS %6d MB  (runs: %s s)\n' "$label" "$med" \
        "$(awk -v s="$med" 'BEGIN { print 16 * 64 / s }')" "$mem" "$(paste -sd' ' "$out/times" | \
        awk '{ for (i = 1; i <= NF; i++) printf "%s%.1f", (i > 1 ? " " : ""), $i }')"
    echo "$mem" >"$out/last.mem"
}

echo "== one PPO step, 16 records x 64 tokens, 1 epoch, minibatch 8, $THREADS threads, median of $RUNS," \
     "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$out/gen-model" "$out/g" 50257 768 12 12 1024
combined 16 50257 32 32 5 >"$out/c.jsonl"
step "GPT-2 124M full (--ref)" --policy "$out/g" --ref "$out/g"
step "GPT-2 124M --lora r=16 (no --ref)" --policy "$out/g" --lora r=16,alpha=32
rm -rf "$out/g"
echo "== Llama-family shapes, --lora r=16 on q_proj,v_proj, BF16 on disk, 1 run each"
runs_gpt2=$RUNS
RUNS=1
while read -r name V C L NH NKV FF; do
    [ -n "$name" ] || continue
    GEN_DTYPE=bf16 "$out/gen-model" "$out/l" "$V" "$C" "$L" "$NH" 1024 llama "$NKV" "$FF"
    combined 16 "$V" 32 32 5 >"$out/c.jsonl"
    step "$name (V $V C $C L $L FF $FF)" --policy "$out/l" --lora r=16,alpha=32
    rm -rf "$out/l"
    [ "$(cat "$out/last.mem")" -le 8192 ] || { echo "$name: over 8 GB; larger shapes not tried"; break; }
done <<<"$LLAMA_SHAPES"
echo "reproduce: THREADS=$THREADS RUNS=$runs_gpt2 tests/bench/lora.sh"
