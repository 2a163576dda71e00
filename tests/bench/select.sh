#!/usr/bin/env bash
# alarm-select throughput against `jq -c .` passing the same file through, both
# measured in this one run on a generated file (default 200k records with
# 200-token responses; SELECT_BENCH_RECORDS / SELECT_BENCH_TOKENS change it).
# Prints wall time, CPU time, records/s and MB/s (by wall time) for each.
# The generated file lives in a temporary directory and is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
N=${SELECT_BENCH_RECORDS:-200000}
TOK=${SELECT_BENCH_TOKENS:-200}
sel="$BUILD/bin/alarm-select"
gen="$BUILD/bench/gen-scored"
mkdir -p "$BUILD/bench"
${CC:-cc} -O2 -Wall -Wextra -o "$gen" tests/bench/gen-scored.c
tmp=$(mktemp -d "${TMPDIR:-/tmp}/alarm-bench-select.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$gen" "$N" "$TOK" 4 7 > "$tmp/scored.jsonl"
bytes=$(stat -c %s "$tmp/scored.jsonl")
echo "== alarm-select: $N records, $TOK tokens each, $(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }')"

# measure NAME COMMAND...: runs COMMAND > /dev/null and prints one line.
measure() {
    local name=$1; shift
    local t0 t1 cpu
    t0=$(date +%s.%N)
    cpu=$( { TIMEFORMAT='%U %S'; time "$@" > /dev/null 2>"$tmp/err"; } 2>&1 )
    t1=$(date +%s.%N)
    awk -v n="$name" -v t0="$t0" -v t1="$t1" -v cpu="$cpu" -v r="$N" -v b="$bytes" 'BEGIN {
        split(cpu, c, " "); w = t1 - t0
        printf "%-28s wall %7.2f s  cpu %7.2f s  %9.0f records/s  %7.1f MB/s\n",
               n, w, c[1] + c[2], r / w, b / 1e6 / w }'
}
measure "jq -c ." jq -c . "$tmp/scored.jsonl"
measure "alarm-select --aspect" "$sel" -q --aspect factuality "$tmp/scored.jsonl"
measure "alarm-select --select auto" "$sel" -q --select auto --lower-better length "$tmp/scored.jsonl"
