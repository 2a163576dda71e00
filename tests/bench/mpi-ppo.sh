#!/usr/bin/env bash
# alarm-ppo data-parallel: tokens/s of one PPO step at 1 rank x 1 thread,
# 2 ranks x 1 thread (mpirun --bind-to core, the MPI build in BUILD-mpi) and
# 1 rank x 2 threads, medians of RUNS, on the small shape (small_world.sh's
# model, 256 combined records of 32 + 32 random tokens, 4 epochs) and the
# GPT-2 124M shape (ppo-gpt2.sh's model and 16 records, 1 epoch), each with
# optimizer steps of two minibatches of 8 (--grad-accum 2: one per rank);
# and at 2 ranks the all-reduces' share of the step time, from alarm-ppo's
# line on stderr. Loading and saving are in the tokens/s, as in ppo.sh.
# Usage: tests/bench/mpi-ppo.sh   (RUNS, default 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
MPI_BIN=$BUILD-mpi/bin
if ! command -v mpirun >/dev/null || [ ! -x "$MPI_BIN/alarm-ppo" ]; then
    echo "mpi-ppo: skipped: needs mpirun and $MPI_BIN (make MPI=1 BUILD=$BUILD-mpi trainers)"
    exit 0
fi
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=$(mktemp -d "${TMPDIR:-/tmp}/alarm-bench-mpi-ppo.XXXXXX")
trap 'rm -rf "$out"' EXIT
. tests/bench/small_world.sh >/dev/null
"$out/gen-model" "$out/g" 50257 768 12 12 1024 >/dev/null
tests/bench/gen-combined.sh 256 8192 32 32 1 >"$out/small.jsonl"
tests/bench/gen-combined.sh 16 50257 32 32 5 >"$out/gpt2.jsonl"
echo "== alarm-ppo data-parallel, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, medians of $RUNS," \
     "load: $(cut -d' ' -f1-3 /proc/loadavg)"
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# shape NAME MODEL RECORDS EPOCHS: the three layouts' tokens/s
shape() {
    local name=$1 model=$2 recs=$3 epochs=$4 layout ntok
    ntok=$(jq '(.prompt_tokens | length) + (.response_tokens | length)' "$recs" | awk '{ s += $1 } END { print s }')
    local args=(--policy "$model" --ref "$model" --mini-batch 8 --grad-accum 2 --ppo-epochs "$epochs" "$recs")
    for layout in 1x1 2x1 1x2; do
        : >"$out/secs"
        : >"$out/share"
        for _ in $(seq "$RUNS"); do
            rm -rf "$out/p"
            t0=$(date +%s.%N)
            case $layout in
            1x1) "$BUILD/bin/alarm-ppo" -q --threads 1 --out "$out/p" "${args[@]}" >/dev/null ;;
            2x1) mpirun --bind-to core -np 2 "$MPI_BIN/alarm-ppo" --threads 1 --out "$out/p" "${args[@]}" \
                     >/dev/null 2>"$out/err"
                 sed -n 's/.*all-reduce .* (\([0-9.]*\)%)$/\1/p' "$out/err" >>"$out/share" ;;
            1x2) "$BUILD/bin/alarm-ppo" -q --threads 2 --out "$out/p" "${args[@]}" >/dev/null ;;
            esac
            t1=$(date +%s.%N)
            awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }' >>"$out/secs"
        done
        s=$(median <"$out/secs")
        printf '%s %s (ranks x threads): %.1f s, %.0f tokens/s' "$name" "$layout" "$s" \
            "$(awk -v n="$ntok" -v e="$epochs" -v s="$s" 'BEGIN { print e * n / s }')"
        [ -s "$out/share" ] && printf ', all-reduce %s%% of the step' "$(median <"$out/share")"
        echo
    done
}
shape small "$out/m" "$out/small.jsonl" 4
shape gpt2 "$out/g" "$out/gpt2.jsonl" 1
echo "reproduce: RUNS=$RUNS tests/bench/mpi-ppo.sh"
