#!/usr/bin/env bash
# Tokenizer throughput on a few MB of mixed text (generated prose, plus the
# parity corpus: Unicode, code, CJK, emoji) with the GPT-2 and Qwen3
# tokenizers. Prints JSON lines on stdout: bpe_encode alone (bpe_bench.c,
# best of 3) and the whole alarm-model tokenize (JSONL in, JSONL out,
# tokenizer loading included).
# Usage: tests/bench/tokenizer.sh [MB]   (BUILD picks the build directory)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MB=${1:-4}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/alarm-bench-tokenizer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Text: the parity corpus plus generated prose, repeated to size.
awk -v mb="$MB" 'BEGIN {
    srand(7);
    split("the of and to in is was for that with as on by at from it an be this which or are their has but not had one also they its first new after", w, " ");
    target = mb * 1024 * 1024; n = 0;
    while (n < target) {
        s = "";
        for (i = 0; i < 60; i++) s = s (i ? " " : "") w[int(rand() * 40) + 1];
        s = s ". In 1999, " int(rand() * 100000) " people (" int(rand() * 100) "%) said: \\\"it\x27s fine\\\".";
        printf "{\"text\":\"%s\"}\n", s; n += length(s);
    }
}' >"$tmp/prose.jsonl"
: >"$tmp/mixed.jsonl"
while [ "$(wc -c <"$tmp/mixed.jsonl")" -lt $((MB * 1024 * 1024 / 4)) ]; do
    cat tests/fixtures/tokenizer/corpus.jsonl >>"$tmp/mixed.jsonl"
done
cat "$tmp/prose.jsonl" "$tmp/mixed.jsonl" >"$tmp/in.jsonl"
bytes=$(jq -j .text "$tmp/in.jsonl" | wc -c)

jq -j '.text + "\n"' "$tmp/in.jsonl" >"$tmp/in.txt"
cc -O2 -std=c11 -D_GNU_SOURCE -Icommon tests/bench/bpe_bench.c "$BUILD/libalarm.a" \
    $(pkg-config --libs libcjson libpcre2-8 icu-uc) -o "$tmp/bpe_bench"

gzip -dc tests/fixtures/tokenizer/qwen3/tokenizer.json.gz >"$tmp/qwen3.json"
for tok in gpt2:tests/fixtures/tokenizer/gpt2 qwen3:"$tmp/qwen3.json"; do
    name=${tok%%:*} path=${tok#*:}
    "$tmp/bpe_bench" "$name" "$path" "$tmp/in.txt"
    # The whole tool, loading included (loading alone is the empty run).
    s0=$(date +%s.%N)
    "$BUILD/bin/alarm-model" tokenize --tokenizer "$path" </dev/null >/dev/null
    s1=$(date +%s.%N)
    "$BUILD/bin/alarm-model" tokenize --tokenizer "$path" "$tmp/in.jsonl" >"$tmp/out.jsonl"
    s2=$(date +%s.%N)
    tokens=$(jq '.ids | length' "$tmp/out.jsonl" | awk '{s += $1} END {print s}')
    awk -v n="$name" -v b="$bytes" -v t="$tokens" -v l="$s0" -v m="$s1" -v e="$s2" 'BEGIN {
        wall = e - m;
        printf "{\"bench\":\"alarm-model tokenize\",\"tokenizer\":\"%s\",\"text_mb\":%.2f,\"tokens\":%d,\"empty_run_s\":%.3f,\"wall_s\":%.3f,\"mb_per_s_with_load\":%.2f}\n",
            n, b / 1048576, t, m - l, wall, b / 1048576 / wall }'
done
