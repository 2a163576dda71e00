#!/usr/bin/env bash
# Model-runtime benchmark: alarm-model bench next to the PyTorch twin
# (torch_bench.py) on the same shapes, same machine, same thread count.
# Usage: tests/bench/model.sh [CONFIG...]   (default: tiny small gpt2)
# THREADS (default 2) sets both sides; PyTorch gets OPENBLAS_NUM_THREADS=1,
# its best setting here. OPENBLAS_CORETYPE is left as the environment has it.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
THREADS=${THREADS:-2}
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(tiny small gpt2)
out=$(mktemp -d "${TMPDIR:-/tmp}/alarm-bench-model.XXXXXX")
trap 'rm -rf "$out"' EXIT
have_torch=0
/usr/bin/python3 -c 'import torch' 2>/dev/null && have_torch=1
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)} threads=$THREADS load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-7s %12s %12s %12s %10s %6s %9s\n' config side train_tok/s sample_b1 sample_b8 sgemm_GF/s MFU peak_MB
for c in "${configs[@]}"; do
    "$BUILD/bin/alarm-model" bench --config "$c" --format json --threads "$THREADS" -q >"$out/c.json"
    jq -r --arg c "$c" '.configs[$c] | [$c, "alarm", .train_tokens_per_s, .sample_b1_tokens_per_s,
        .sample_b8_tokens_per_s, .sgemm_gflops, .mfu, .peak_rss_mb] |
        "\(.[0]) \(.[1]) \(.[2]|floor) \(.[3]|floor) \(.[4]|floor) \(.[5]*10|floor/10) \(.[6]*1000|floor/1000) \(.[7]|floor)"' \
        "$out/c.json" | xargs printf '%-6s %-7s %12s %12s %12s %10s %6s %9s\n'
    if [ $have_torch = 1 ]; then
        OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/bench/torch_bench.py --config "$c" \
            --threads "$THREADS" >"$out/t.json"
        jq -r --arg c "$c" '.configs[$c] | [$c, "torch", .train_tokens_per_s, .sample_b1_tokens_per_s,
            .sample_b8_tokens_per_s, .peak_rss_mb] |
            "\(.[0]) \(.[1]) \(.[2]|floor) \(.[3]|floor) \(.[4]|floor) - - \(.[5]|floor)"' \
            "$out/t.json" | xargs printf '%-6s %-7s %12s %12s %12s %10s %6s %9s\n'
        jq -rn --arg c "$c" --slurpfile a "$out/c.json" --slurpfile t "$out/t.json" \
            '($a[0].configs[$c]) as $x | ($t[0].configs[$c]) as $y |
             "\($c) ratio   train x\($x.train_tokens_per_s/$y.train_tokens_per_s*100|floor/100)  sample b1 x\($x.sample_b1_tokens_per_s/$y.sample_b1_tokens_per_s*100|floor/100)  b8 x\($x.sample_b8_tokens_per_s/$y.sample_b8_tokens_per_s*100|floor/100)"'
    fi
done
