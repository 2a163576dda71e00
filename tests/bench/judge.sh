#!/usr/bin/env bash
# Benchmark of alarm-judge's request throughput against the scripted chat
# server on 127.0.0.1 answering after 50 ms. Target: with --concurrency 32,
# at least 90% of 32 / 0.05 s = 640 requests/s. First checks that the server
# alone (curl --parallel, 32 keep-alive connections) sustains that rate, then
# times alarm-judge, then reruns it with everything cached (zero requests).
# BUILD picks the build directory; JUDGE_BENCH_PROMPTS the size (default 1500
# prompts x 2 orders = 3000 requests).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
N=${JUDGE_BENCH_PROMPTS:-1500}
tmp=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

/usr/bin/python3 tests/servers/chat_server.py --delay-ms 50 --workers 2 --log "$tmp/log" --max-seconds 300 \
    >"$tmp/port" &
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
t0=$(now)
curl -sS -Z --parallel-max 32 -K "$tmp/curl.cfg"
t1=$(now)
server_rate=$(rate $((2 * N)) "$t0" "$t1")
echo "judge bench: server alone (curl --parallel-max 32): $((2 * N)) requests in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s = $server_rate requests/s"

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
