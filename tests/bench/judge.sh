#!/usr/bin/env bash
# Benchmark of alarm-judge's request throughput against a chat-completions
# server on 127.0.0.1 that answers after 50 ms (tests/servers/chat_bench_server.c).
# Target: with --concurrency 32, at least 90% of 32 / 0.05 s = 640 requests/s.
# First the server alone, through curl --parallel: at 32 keep-alive connections
# (the same latency bound as the judge) and at 64 (the server's capacity).
# Then alarm-judge, then the same run again with everything cached (0 requests).
# BUILD picks the build directory; JUDGE_BENCH_PROMPTS the size (default 3000
# prompts x 2 orders = 6000 requests).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
N=${JUDGE_BENCH_PROMPTS:-3000}
# All scratch (request bodies, curl config, generated inputs, the store) lives
# in this directory and is removed on exit: nothing is left in the work tree.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/alarm-bench-judge.XXXXXX")
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# The C server (make builds it): the Python test server's own CPU cost per
# request would be the bottleneck at this rate on two cores.
[ -x "$BUILD/servers/chat_bench_server" ] || make -s "$BUILD/servers/chat_bench_server"
"$BUILD/servers/chat_bench_server" --delay-ms 50 --log "$tmp/log" --max-seconds 300 >"$tmp/port" &
server_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
url="http://127.0.0.1:$(cat "$tmp/port")/v1"
now() { date +%s.%N; }
rate() { awk -v n="$1" -v t0="$2" -v t1="$3" 'BEGIN { printf "%.0f", n / (t1 - t0) }'; }
requests() { wc -l <"$tmp/log"; }

# 1. The server alone.
printf '{"model":"bench","messages":[{"role":"user","content":"q=1 q=2"}],"temperature":0}' >"$tmp/body"
for i in $(seq $((2 * N))); do
    [ "$i" -gt 1 ] && echo next
    printf 'url = "%s/chat/completions"\ndata = "@%s"\nheader = "Content-Type: application/json"\noutput = "/dev/null"\n' \
        "$url" "$tmp/body"
done >"$tmp/curl.cfg"
# At 32 connections a client is bound by 32 / latency; at 64 the server's own
# capacity shows (on a loaded machine the two differ).
for par in 32 64; do
    t0=$(now)
    curl -sS --no-progress-meter -Z --parallel-max "$par" -K "$tmp/curl.cfg"
    t1=$(now)
    echo "judge bench: server alone (curl --parallel-max $par): $((2 * N)) requests in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s = $(rate $((2 * N)) "$t0" "$t1") requests/s"
done

# 2. alarm-judge, two systems, every prompt in both orders.
for s in x y; do
    awk -v n="$N" -v s="$s" 'BEGIN { for (i = 0; i < n; i++)
        printf "{\"prompt_id\":\"p%d\",\"prompt\":\"Question %d\",\"response\":\"answer %s%d q=%d\"}\n",
               i, i, s, i, (s == "x") ? i % 7 : i % 5 }' >"$tmp/$s.jsonl"
done
before=$(requests)
t0=$(now)
"$BUILD/bin/alarm-judge" --base-url "$url" --model bench --concurrency 32 --db "$tmp/db" -q \
    x="$tmp/x.jsonl" y="$tmp/y.jsonl" >/dev/null
t1=$(now)
sent=$(($(requests) - before))
judge_rate=$(rate "$sent" "$t0" "$t1")
echo "judge bench: alarm-judge --concurrency 32: $sent requests in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s = $judge_rate requests/s (target >= 576 = 90% of 640)"

# 3. The same run again: everything is cached.
before=$(requests)
t0=$(now)
"$BUILD/bin/alarm-judge" --base-url "$url" --model bench --concurrency 32 --db "$tmp/db" -q \
    x="$tmp/x.jsonl" y="$tmp/y.jsonl" >/dev/null
t1=$(now)
echo "judge bench: cached rerun: $(($(requests) - before)) requests, $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s"
