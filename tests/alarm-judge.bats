#!/usr/bin/env bats
# alarm-judge against the scripted chat server on 127.0.0.1 (started and
# stopped here): scripted verdicts, both orders, faults, kill -9 and resume,
# the API key's secrecy, and judging by reward with hand-computed results.
#
# Fixtures (tests/fixtures/judge): systems hier, hol, asp on prompts p1..p6.
# The server prefers the response with the higher q=N and answers
# "Output (a)" on equal q (so the two orders split into a tie):
#   q:        p1 p2 p3 p4 p5 p6
#   hier       5  4  2  3  3  6     (p5: the same text as hol's)
#   hol        3  4  5  1  3  2
#   asp        1  2  2  4  4  3
# hier-hol 3-1-2 (75), hier-asp 3-2-1 (60), hol-asp 3-3-0 (50);
# 3 pairs x 6 prompts x 2 orders = 36 judgments and 32 requests: p5 hier/hol
# is identical (a tie without a request), and so hier-asp p5 and hol-asp p5
# ask the same two questions, each sent once.

FIX="$BATS_TEST_DIRNAME/fixtures/judge"
SERVER="$BATS_TEST_DIRNAME/servers/chat_server.py" SERVER_URL_PATH=/v1
load lib/server
SYSTEMS=(hier="$FIX/hier.jsonl" hol="$FIX/hol.jsonl" asp="$FIX/asp.jsonl")

setup() {
    T="$BATS_TEST_TMPDIR"
    SERVER_PID=
    unset OPENAI_API_KEY
}

# The user messages in the cache of $T/db, one JSON string a line, sorted.
questions() {
    sqlite3 "$T/db" "SELECT json_quote(json_extract(request, '\$.messages[1].content')) FROM judge_cache" | sort
}

judge() { alarm-judge --base-url "$URL" --model test-judge --backoff 0.01 "$@"; }

cell() { # cell JSON JUDGE A B FIELD
    jq -r --arg j "$2" --arg a "$3" --arg b "$4" --arg f "$5" '.judges[$j].matrix[$a][$b][$f]' <<<"$1"
}

# table JSON JUDGE: one line per ordered pair "A B win-lose-tie win_rate [inconsistency]",
# then "average A B C".
table() {
    jq -r --arg j "$2" '.judges[$j] as $t | .systems as $s
        | ($s[] as $a | $s[] as $b | select($a != $b) | $t.matrix[$a][$b]
           | "\($a) \($b) \(.win)-\(.lose)-\(.tie) \(.win_rate)\(if .inconsistency then " \(.inconsistency)" else "" end)"),
          "average \([$s[] as $a | $t.average[$a] | tostring] | join(" "))"' <<<"$1"
}

@test "scripted verdicts: win/tie/lose counts, win rates, both orders of every pair" {
    start_server
    run judge --format json --concurrency 4 --out "$T/j.jsonl" --db "$T/db" "${SYSTEMS[@]}"
    [ "$status" -eq 0 ]
    s=$(grep -v '^alarm-judge:' <<<"$output")
    diff - <(table "$s" test-judge) <<'END'
hier hol 3-1-2 75
hier asp 3-2-1 60
hol hier 1-3-2 25
hol asp 3-3-0 50
asp hier 2-3-1 40
asp hol 3-3-0 50
average 67.5 37.5 45
END
    [ "$(jq .prompts <<<"$s")" = 6 ]
    # 32 distinct requests, each sent once; every request at temperature 0.
    [ "$(requests)" -eq 32 ]
    [ "$(jq -c .user "$T/log" | sort -u | wc -l)" -eq 32 ]
    [ "$(jq -s 'map(select(.temperature == 0 and .model == "test-judge")) | length' "$T/log")" -eq 32 ]
    # Both orders for every pair and prompt, in the output and the store.
    [ "$(wc -l <"$T/j.jsonl")" -eq 36 ]
    [ "$(jq -r '[.a, .b, .prompt_id] | join(" ")' "$T/j.jsonl" | sort | uniq -c | awk '$1 == 2' | wc -l)" -eq 18 ]
    [ "$(jq -s 'map(select(.order == "ba")) | length' "$T/j.jsonl")" -eq 18 ]
    [ "$(sqlite3 "$T/db" "SELECT count(*) FROM judgments WHERE run_id = 1")" -eq 36 ]
    [ "$(sqlite3 "$T/db" "SELECT count(*) FROM judge_cache")" -eq 32 ]
    [ "$(sqlite3 "$T/db" "SELECT verdict FROM judgments WHERE prompt_id = 'p5' AND a = 'hier' AND b = 'hol' GROUP BY verdict")" = tie ]
    [ "$(sqlite3 "$T/db" "SELECT status FROM runs")" = ok ]
    # In order ba system b is shown first; a verdict names the system.
    [ "$(jq -r 'select(.prompt_id == "p1" and .a == "hier" and .b == "hol") | .verdict' "$T/j.jsonl" | sort -u)" = a ]
}

@test "tool-call answers give the same summary as text answers" {
    start_server
    run judge --format json "${SYSTEMS[@]}"
    [ "$status" -eq 0 ]
    text=$(grep -v '^alarm-judge:' <<<"$output")
    run judge --format json --tool-call "${SYSTEMS[@]}"
    [ "$status" -eq 0 ]
    tool=$(grep -v '^alarm-judge:' <<<"$output")
    [ "$text" = "$tool" ]
    [ "$(requests)" -eq 64 ]
    [ "$(jq -s 'map(select(.tools)) | length' "$T/log")" -eq 32 ]
}

@test "markdown summary and a custom template" {
    start_server
    printf 'Judge strictly.\n---\nQ: {instruction}\n[1] {output_a}\n[2] {output_b}\nAnswer Output (a) or Output (b).\n' >"$T/tmpl"
    run judge --template "$T/tmpl" "${SYSTEMS[@]}"
    [ "$status" -eq 0 ]
    [[ "$output" == *"## test-judge"* ]]
    [[ "$output" == *"| hier | - | 75.00 (3-1-2) | 60.00 (3-2-1) | 67.50 |"* ]]
    [ "$(jq -r .user "$T/log" | grep -c '^\[1\] ')" -eq 32 ]
    printf 'no separator {output_a} {output_b}\n' >"$T/bad"
    run judge --template "$T/bad" "${SYSTEMS[@]}"
    [ "$status" -eq 1 ]
    [[ "$output" == *"---"* ]]
}

@test "an answer naming neither output is unparseable and counts as a tie" {
    start_server
    sed 's/Answer of asp to p4. q=4/UNPARSEABLE q=4/' "$FIX/asp.jsonl" >"$T/asp.jsonl"
    run judge --format json --out "$T/j.jsonl" hier="$FIX/hier.jsonl" hol="$FIX/hol.jsonl" asp="$T/asp.jsonl"
    [ "$status" -eq 0 ]
    s=$(grep -v '^alarm-judge:' <<<"$output")
    [ "$(cell "$s" test-judge hier asp win)-$(cell "$s" test-judge hier asp lose)-$(cell "$s" test-judge hier asp tie)" = 3-1-2 ]
    [ "$(cell "$s" test-judge hol asp win)-$(cell "$s" test-judge hol asp lose)-$(cell "$s" test-judge hol asp tie)" = 3-2-1 ]
    [ "$(jq '.judges["test-judge"].unparseable' <<<"$s")" -eq 4 ]
    [ "$(jq -s 'map(select(.verdict == "unparseable")) | length' "$T/j.jsonl")" -eq 4 ]
    [ "$(requests)" -eq 32 ]
}

@test "429 with Retry-After, 500s, timeouts and malformed bodies; a rerun retries only the failures" {
    start_server --slow-ms 2000
    # hier p1: first 429 (+4 requests); hol p3: always 500 (4 requests x 3
    # attempts); asp p6: malformed body (not retried); asp p2: slow once (+4).
    sed 's/q=5/FLAKY429 q=5/' "$FIX/hier.jsonl" | sed '/"p1"/!s/FLAKY429 //' >"$T/hier.jsonl"
    sed '/"p3"/s/q=5/FAIL500 q=5/' "$FIX/hol.jsonl" >"$T/hol.jsonl"
    sed -e '/"p6"/s/q=3/MALFORMED q=3/' -e '/"p2"/s/q=2/SLOWONCE q=2/' "$FIX/asp.jsonl" >"$T/asp.jsonl"
    sys=(hier="$T/hier.jsonl" hol="$T/hol.jsonl" asp="$T/asp.jsonl")
    run judge --format json --retries 2 --timeout 0.5 --concurrency 8 --db "$T/db" --out "$T/j.jsonl" "${sys[@]}"
    [ "$status" -eq 1 ]
    [[ "$output" == *"8 judgments failed for good"* ]]
    [[ "$output" == *"alarm-judge: HTTP 500 Internal Server Error: scripted failure (4 requests)"* ]]
    [[ "$output" == *"alarm-judge: malformed answer: response is not JSON (4 requests)"* ]]
    [[ "$output" == *"rerun with the same --db to retry only them"* ]]
    [ "$(requests)" -eq $((32 + 4 + 8 + 4)) ]
    [ "$(jq '[.status] | .[]' "$T/log" | grep -c 429)" -eq 4 ]
    s=$(grep -v '^alarm-judge:' <<<"$output")
    [ "$(jq '.judges["test-judge"].failed' <<<"$s")" -eq 8 ]
    # hier-hol p3 and hol-asp p3, hier-asp p6 and hol-asp p6 become ties.
    [ "$(cell "$s" test-judge hier hol win)-$(cell "$s" test-judge hier hol lose)-$(cell "$s" test-judge hier hol tie)" = 3-0-3 ]
    [ "$(cell "$s" test-judge hol asp win)-$(cell "$s" test-judge hol asp lose)-$(cell "$s" test-judge hol asp tie)" = 2-2-2 ]
    [ "$(jq -s 'map(select(.verdict == "failed" and (.error | length) > 0)) | length' "$T/j.jsonl")" -eq 8 ]
    [ "$(sqlite3 "$T/db" "SELECT count(*) FROM judge_cache")" -eq 24 ]
    [ "$(sqlite3 "$T/db" "SELECT status FROM runs")" = failed ]
    before=$(requests)
    run judge --format json --retries 2 --db "$T/db" "${sys[@]}"
    [ "$status" -eq 1 ]
    [ $(($(requests) - before)) -eq $((4 * 3 + 4)) ]
    [[ "$output" == *"26 from the cache"* ]]
}

@test "a question two pairs share is sent once, before or after it was answered" {
    start_server
    # hier and hol answer every prompt alike, so hier-asp and hol-asp ask the
    # same 80 questions; with 40 prompts they are built in several batches.
    for s in hier hol asp; do
        awk -v s="$s" 'BEGIN { for (i = 0; i < 40; i++) {
            r = (s == "asp") ? sprintf("asp %d q=1%s", i, i < 3 ? " FAIL500" : "") : sprintf("same %d q=2", i)
            printf "{\"id\":\"p%d\",\"prompt\":\"P%d\",\"response\":\"%s\"}\n", i, i, r } }' >"$T/$s.jsonl"
    done
    run judge --format json --concurrency 2 --retries 0 --out "$T/j.jsonl" \
        hier="$T/hier.jsonl" hol="$T/hol.jsonl" asp="$T/asp.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"12 judgments failed for good"* ]]
    s=$(grep -v '^alarm-judge:' <<<"$output")
    diff - <(table "$s" test-judge) <<'END'
hier hol 0-0-40 50
hier asp 37-0-3 100
hol hier 0-0-40 50
hol asp 37-0-3 100
asp hier 0-37-3 0
asp hol 0-37-3 0
average 75 75 0
END
    [ "$(jq -c .user "$T/log" | grep -vc FAIL500)" -eq 74 ]
    [ "$(wc -l <"$T/j.jsonl")" -eq 240 ]
}

@test "connection refused: every request fails for good and counts as a tie" {
    port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    URL="http://127.0.0.1:$port/v1"
    run judge --format json --retries 1 "${SYSTEMS[@]}"
    [ "$status" -eq 1 ]
    [[ "$output" == *"34 judgments failed for good"* ]]
    s=$(grep -v '^alarm-judge:' <<<"$output")
    [ "$(cell "$s" test-judge hier hol tie)" -eq 6 ]
    [ "$(cell "$s" test-judge hier hol win_rate)" = 50 ]
}

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# judge_to OUT ERR ARGS...: runs judge with stdout and stderr in files; sets rc.
judge_to() { rc=0; local o=$1 e=$2; shift 2; judge "$@" >"$o" 2>"$e" || rc=$?; }

@test "no server (alarm-judge(1)'s example): the cause once with a count, a partial summary, advice only with a store" {
    port=$(free_port)
    rc=0
    alarm-judge --base-url "http://127.0.0.1:$port/v1" --model qwen2.5-7b --backoff 0.01 \
        a="$FIX/hier.jsonl" b="$FIX/hol.jsonl" >"$T/out" 2>"$T/err" || rc=$?
    [ "$rc" -eq 1 ]
    # p5 is identical in hier and hol: 10 of the 12 judgments need a request.
    grep -qx "alarm-judge: connection refused to http://127.0.0.1:$port/v1 (10 requests)" "$T/err"
    [ "$(grep -c 'connection refused' "$T/err")" -eq 1 ]
    grep -q "10 judgments failed for good" "$T/err"
    if grep -q "rerun" "$T/err"; then false; fi # no store: a rerun would ask everything again
    [ "$(head -n 1 "$T/out")" = "partial: 10 of 12 judgments failed for good and count as ties" ]
    # With a store the failures are worth a rerun, which the advice says.
    URL="http://127.0.0.1:$port/v1"
    judge_to "$T/out" "$T/err" --format json --retries 1 --db "$T/db" a="$FIX/hier.jsonl" b="$FIX/hol.jsonl"
    [ "$rc" -eq 1 ]
    grep -q "rerun with the same --db to retry only them" "$T/err"
    [ "$(jq -c .partial "$T/out")" = '{"failed":10,"judgments":12}' ]
    [ "$(sqlite3 "$T/db" "SELECT status FROM runs")" = failed ]
}

@test "HTTP 401: the server's message (the key masked) and a count; no new request after it; no summary" {
    key=sk-right-DISTINCTIVE-1234
    start_server --key "$key" --delay-ms 50
    export OPENAI_API_KEY=sk-wrong-DISTINCTIVE-0000
    judge_to "$T/out" "$T/err" --concurrency 2 --retries 3 --db "$T/db" "${SYSTEMS[@]}"
    [ "$rc" -eq 1 ]
    # Only the 2 requests in flight at the first 401 were sent, each once.
    [ "$(requests)" -eq 2 ]
    grep -qx "alarm-judge: HTTP 401 Unauthorized: Incorrect API key provided: \*\*\*. You can find your API key in your account settings. (2 requests)" "$T/err"
    grep -q "stopped at an error no retry can fix: 2 of 36 judgments failed for good, 32 not made; no summary" "$T/err"
    if grep -q "rerun" "$T/err"; then false; fi # a rerun cannot fix a key
    [ ! -s "$T/out" ]
    if grep -q DISTINCTIVE "$T/err" "$T/db"*; then false; fi
    [ "$(sqlite3 "$T/db" "SELECT status FROM runs")" = failed ]
    [[ "$(sqlite3 "$T/db" "SELECT message FROM runs")" == *"HTTP 401 Unauthorized"* ]]
}

@test "HTTP 400 unknown model, 403 and 404: the run stops at the first answer, exit 1, no rerun advice" {
    start_server --models gpt-x
    judge_to "$T/out" "$T/err" --concurrency 1 --db "$T/db" "${SYSTEMS[@]}"
    [ "$rc" -eq 1 ]
    [ "$(requests)" -eq 1 ]
    grep -qx 'alarm-judge: HTTP 400 Bad Request: The model `test-judge` does not exist. (1 request)' "$T/err"
    if grep -q "rerun" "$T/err"; then false; fi
    [ ! -s "$T/out" ]
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
    for code in 403 404; do
        rm -f "$T/log"
        start_server --status "$code"
        judge_to "$T/out" "$T/err" --concurrency 3 --format json "${SYSTEMS[@]}"
        [ "$rc" -eq 1 ]
        [ "$(requests)" -eq 3 ]
        grep -q "alarm-judge: HTTP $code [A-Za-z ]*: scripted status $code (3 requests)" "$T/err"
        [ ! -s "$T/out" ]
        kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    done
}

@test "5xx after the retries: each distinct cause once, a partial summary, the rerun advice with a store" {
    start_server --status 503
    judge_to "$T/out" "$T/err" --retries 1 --format json --db "$T/db" "${SYSTEMS[@]}"
    [ "$rc" -eq 1 ]
    [ "$(requests)" -eq 64 ] # 32 requests, each tried twice: a 503 is retried, not fatal
    grep -qx "alarm-judge: HTTP 503 Service Unavailable: scripted status 503 (32 requests)" "$T/err"
    grep -q "34 judgments failed for good and count as ties in a partial summary; rerun with the same --db to retry only them" "$T/err"
    [ "$(jq -c .partial "$T/out")" = '{"failed":34,"judgments":36}' ]
}

@test "kill -9 mid-run: the rerun sends only unanswered requests and ends with the same summary" {
    start_server --delay-ms 100
    run judge --format json --concurrency 8 --db "$T/ref.db" "${SYSTEMS[@]}"
    [ "$status" -eq 0 ]
    reference=$(grep -v '^alarm-judge:' <<<"$output")
    : >"$T/log"
    alarm-judge --base-url "$URL" --model test-judge --concurrency 2 --db "$T/db" \
        "${SYSTEMS[@]}" >/dev/null 2>&1 3>&- &
    pid=$!
    for _ in $(seq 200); do [ "$(requests)" -ge 12 ] && break; sleep 0.02; done
    kill -9 "$pid"
    wait "$pid" || true
    sent=$(requests)
    cached=$(sqlite3 "$T/db" "SELECT count(*) FROM judge_cache")
    questions >"$T/cached"
    [ "$cached" -ge 8 ]
    [ "$cached" -lt 32 ]
    # Lost: at most the 2 requests in flight and the answers of the commit
    # under way (answers arrive 2 at a time every 100 ms).
    [ $((sent - cached)) -le 4 ]
    run judge --format json --concurrency 4 --db "$T/db" "${SYSTEMS[@]}"
    [ "$status" -eq 0 ]
    # the same results; the spend is this run's own (the usage of what it sent)
    nospend() { jq -c 'del(.judges[].usage)'; }
    [ "$(grep -v '^alarm-judge:' <<<"$output" | nospend)" = "$(nospend <<<"$reference")" ]
    [ $(($(requests) - sent)) -eq $((32 - cached)) ]
    # No question answered and stored before the kill was sent again: only
    # the ones in flight at the kill were sent twice.
    [ "$(tail -n +$((sent + 1)) "$T/log" | jq -c .user | sort | comm -12 "$T/cached" - | wc -l)" -eq 0 ]
    [ "$(jq -c .user "$T/log" | sort | uniq -d | wc -l)" -eq $((sent - cached)) ]
    # (The two encodings agree: the store now holds exactly what was sent.)
    diff <(questions) <(jq -c .user "$T/log" | sort -u)
    # A finished run reruns with no request at all.
    before=$(requests)
    run judge --format json --db "$T/db" "${SYSTEMS[@]}"
    [ "$status" -eq 0 ]
    [ "$(requests)" -eq "$before" ]
    [[ "$output" == *"0 requests answered, 34 from the cache, 0 shared, 2 identical"* ]]
}

# corrupt FILE PAGE...: overwrites each page but its first 8 bytes with seeded garbage.
corrupt() {
    /usr/bin/python3 - "$@" <<'END'
import random, sys
path, pages = sys.argv[1], [int(p) for p in sys.argv[2:]]
r = random.Random(9)
with open(path, "r+b") as f:
    size = int.from_bytes(f.read(18)[16:18], "big")
    for p in pages:
        f.seek((p - 1) * size + 8)
        f.write(bytes(r.randrange(256) for _ in range(size - 8)))
END
}

@test "a store with corrupt pages fails the run, naming the file (lookups and the writer thread)" {
    start_server
    run judge --format json --db "$T/db" "${SYSTEMS[@]}"
    [ "$status" -eq 0 ]
    [ ! -e "$T/db-wal" ]
    cp "$T/db" "$T/good"
    # The cache's leaf pages: the lookups read them.
    corrupt "$T/db" $(sqlite3 "$T/db" "SELECT pageno FROM dbstat WHERE name = 'judge_cache' AND pagetype = 'leaf'")
    run judge --format json --db "$T/db" "${SYSTEMS[@]}"
    [ "$status" -eq 1 ]
    [[ "$output" == *"alarm-judge: $T/db: "*"database disk image is malformed"* ]]
    [ "$(sqlite3 "$T/db" "SELECT status FROM runs WHERE id = 2")" = failed ]
    # The judgments: only the writer thread touches them (every answer comes from the cache).
    cp "$T/good" "$T/db"
    corrupt "$T/db" $(sqlite3 "$T/db" "SELECT pageno FROM dbstat WHERE name LIKE '%judgments%'")
    n=$(requests)
    run judge --format json --db "$T/db" "${SYSTEMS[@]}"
    [ "$status" -eq 1 ]
    [[ "$output" == *"alarm-judge: $T/db: writing: database disk image is malformed"* ]]
    [ "$(requests)" -eq "$n" ]
}

@test "the API key never appears in argv, output, judgments or the store" {
    key=sk-test-DISTINCTIVE-7f3a9c
    start_server --key "$key" --delay-ms 100
    export OPENAI_API_KEY=$key
    alarm-judge --base-url "$URL" --model test-judge --concurrency 4 --db "$T/db" \
        --out "$T/j.jsonl" "${SYSTEMS[@]}" >"$T/stdout" 2>"$T/stderr" 3>&- &
    pid=$!
    sleep 0.3
    tr '\0' ' ' </proc/$pid/cmdline >"$T/cmdline"
    wait "$pid"
    grep -q test-judge "$T/cmdline"
    if grep -q "$key" "$T/cmdline"; then false; fi
    # The key was sent (the server accepted every request) ...
    [ "$(jq -s 'map(select(.auth)) | length' "$T/log")" -eq 32 ]
    [ "$(jq -s 'map(select(.status == 200)) | length' "$T/log")" -eq 32 ]
    # ... and is nowhere we wrote.
    if grep -q "$key" "$T/stdout" "$T/stderr" "$T/j.jsonl"; then false; fi
    if grep -qa "$key" "$T/db"*; then false; fi
    if sqlite3 "$T/db" .dump | grep -q "$key"; then false; fi
    # A wrong key: 401s, not retried, and the message does not echo the key.
    export OPENAI_API_KEY=sk-wrong-DISTINCTIVE-0000
    run judge --retries 3 "${SYSTEMS[@]}"
    [ "$status" -eq 1 ]
    [[ "$output" != *DISTINCTIVE* ]]
}

@test "the default endpoint needs a key; a local one does not" {
    run alarm-judge --model m "${SYSTEMS[@]}"
    [ "$status" -eq 2 ]
    [[ "$output" == *"OPENAI_API_KEY is not set"* ]]
    run alarm-judge --model m --api-key-env MY_KEY "${SYSTEMS[@]}"
    [ "$status" -eq 2 ]
    [[ "$output" == *"MY_KEY is not set"* ]]
}

# Rewards (holistic, fact, len):   p1            p2           p3            p4           p5           p6
#   hier                      .9 1.0 10     .6 .4 10     .3 .7 11     .7 .2 5      .5 .5 8      .8 .9 12
#   hol                       .5  .5 12     .6 .8 10     .8 .7  7     .2 .6 6      .5 .5 8      .1 .3  4
#   asp                       .1  .2  8     .2 .4  9     .3 .1 11     .5 .9 5      .9 .3 9      .4 .3  6
# reward:fact  hier-hol 2-2-2 inc 1/4; hier-asp 4-1-1 inc 2/5; hol-asp 4-1-1 inc 1/6
# reward:-len  hier-hol 2-2-2 inc 1/4; hier-asp 1-3-2 inc 4/5; hol-asp 3-3-0 inc 4/6
@test "judging by reward: hand-computed win rates and inconsistencies, ties included" {
    run alarm-judge --by-reward fact --by-reward -len --format json --out "$T/j.jsonl" --db "$T/db" "${SYSTEMS[@]}"
    [ "$status" -eq 0 ]
    diff - <(table "$output" reward:fact) <<'END'
hier hol 2-2-2 50 0.25
hier asp 4-1-1 80 0.4
hol hier 2-2-2 50 0.25
hol asp 4-1-1 80 0.1667
asp hier 1-4-1 20 0.4
asp hol 1-4-1 20 0.1667
average 65 65 20
END
    diff - <(table "$output" reward:-len) <<'END'
hier hol 2-2-2 50 0.25
hier asp 1-3-2 25 0.8
hol hier 2-2-2 50 0.25
hol asp 3-3-0 50 0.6667
asp hier 3-1-2 75 0.8
asp hol 3-3-0 50 0.6667
average 37.5 50 62.5
END
    [ "$(wc -l <"$T/j.jsonl")" -eq 36 ]
    [ "$(sqlite3 "$T/db" "SELECT count(*) FROM judgments WHERE judge = 'reward:fact' AND value_a IS NOT NULL")" -eq 18 ]
}

@test "a record without the reward is an input error naming file and line" {
    sed '3s/"fact": {"value": [0-9.]*}, //' "$FIX/hol.jsonl" >"$T/hol.jsonl"
    run alarm-judge --by-reward fact hier="$FIX/hier.jsonl" hol="$T/hol.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"hol.jsonl:3: field \"rewards.fact\" is missing"* ]]
}

@test "a record that is not UTF-8 is refused with its line and byte" {
    sed $'1s/Answer of hol/Answer \xffof hol/' "$FIX/hol.jsonl" >"$T/hol.jsonl"
    run alarm-judge --by-reward fact hier="$FIX/hier.jsonl" hol="$T/hol.jsonl"
    [ "$status" -eq 1 ]
    [ "$output" = "alarm-judge: $T/hol.jsonl:1: invalid UTF-8 at byte 102" ]
}

@test "--max-compare judges the same seeded subset of prompts for every pair" {
    run alarm-judge --by-reward fact --max-compare 3 --seed 5 --format json --out "$T/a.jsonl" "${SYSTEMS[@]}"
    [ "$status" -eq 0 ]
    [ "$(jq .prompts <<<"$output")" -eq 3 ]
    [ "$(jq -r '.a + .b' "$T/a.jsonl" | sort | uniq -c | awk '{print $1}' | sort -u)" = 3 ]
    for pair in hierhol hierasp holasp; do
        jq -r --arg p "$pair" 'select(.a + .b == $p) | .prompt_id' "$T/a.jsonl" | sort >"$T/$pair"
    done
    cmp "$T/hierhol" "$T/hierasp"
    cmp "$T/hierhol" "$T/holasp"
    run alarm-judge --by-reward fact --max-compare 3 --seed 5 --format json --out "$T/b.jsonl" "${SYSTEMS[@]}"
    cmp "$T/a.jsonl" "$T/b.jsonl"
}

@test "input errors: a missing or repeated prompt, no judge, bad options" {
    head -n 5 "$FIX/asp.jsonl" >"$T/short.jsonl"
    run alarm-judge --by-reward fact hier="$FIX/hier.jsonl" asp="$T/short.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"is missing from system asp"* ]]
    cat "$FIX/asp.jsonl" "$T/short.jsonl" >"$T/twice.jsonl"
    run alarm-judge --by-reward fact hier="$FIX/hier.jsonl" asp="$T/twice.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"twice.jsonl:7: duplicate prompt \"p3\" in system asp (first at $T/twice.jsonl:1)"* ]]
    run alarm-judge "${SYSTEMS[@]}"
    [ "$status" -eq 2 ]
    [[ "$output" == *"no judge"* ]]
    run alarm-judge --by-reward fact hier="$FIX/hier.jsonl"
    [ "$status" -eq 2 ]
    run alarm-judge --by-reward fact --concurrency 0 "${SYSTEMS[@]}"
    [ "$status" -eq 2 ]
    run alarm-judge --by-reward fact --format yaml "${SYSTEMS[@]}"
    [ "$status" -eq 2 ]
    run alarm-judge --by-reward fact "$FIX/hier.jsonl" "$FIX/hol.jsonl"
    [ "$status" -eq 2 ]
    [[ "$output" == *"NAME=FILE"* ]]
}

@test "a progress line on stderr when it is a terminal, none otherwise" {
    start_server --delay-ms 20
    script -qec "alarm-judge --base-url $URL --model m --concurrency 2 ${SYSTEMS[*]} 2>&1 >/dev/null" \
        /dev/null >"$T/tty" 3>&-
    grep -q "/36 judged, .* requests/s, 0 retries, 0 cache hits" "$T/tty"
    run bash -c "alarm-judge --base-url $URL --model m ${SYSTEMS[*]} 2>&1 >/dev/null"
    [ "$status" -eq 0 ]
    [[ "$output" != *"judged,"* ]]
    [[ "$output" == *"36 judgments"* ]]
}

@test "--help and --version" {
    run alarm-judge --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"--by-reward"* ]]
    run alarm-judge --version
    [ "$status" -eq 0 ]
    [[ "$output" == "alarm-judge (alarm) "* ]]
}

@test "statistics: the three tie conventions, Wilson and bootstrap intervals, position bias" {
    start_server
    run judge --format json --bootstrap 200 "${SYSTEMS[@]}"
    [ "$status" -eq 0 ]
    s=$(grep -v '^alarm-judge:' <<<"$output")
    # hier vs hol is 3-1-2 (the scripted test above): 75, (3+1)/6, 3/6
    [ "$(cell "$s" test-judge hier hol win_rate_half)" = 66.67 ]
    [ "$(cell "$s" test-judge hier hol win_rate_loss)" = 50 ]
    [ "$(jq -c '.judges["test-judge"].matrix.hier.hol.wilson_95' <<<"$s")" = "[30.06,95.44]" ]
    # every average inside its interval; every response's words counted
    jq -e '.judges["test-judge"] as $t | .systems | all(. as $x | $t.average_ci[$x][0] <= $t.average[$x]
           and $t.average[$x] <= $t.average_ci[$x][1]) and ($t.mean_words | length == 3)' <<<"$s"
    # position: the single-order verdicts add up to both orders of every pair and prompt
    jq -e '.judges["test-judge"].position | .first_shown_wins + .second_shown_wins + .neither == 36
           and .pairs >= .first_shown_wins / 2 and .agreement <= 100' <<<"$s"
    run judge --format json --ties half --bootstrap 0 "${SYSTEMS[@]}"
    s=$(grep -v '^alarm-judge:' <<<"$output")
    [ "$(cell "$s" test-judge hier hol win_rate)" = 66.67 ]
    [ "$(jq -r .ties <<<"$s")" = half ]
    [ "$(jq -c '.judges["test-judge"].average_ci' <<<"$s")" = "{}" ]
    run judge --bootstrap 50 "${SYSTEMS[@]}"
    [[ "$output" == *"| hier vs hol | 75.00 | 30.06-95.44 |"* ]]
    [[ "$output" == *"Position: the output shown first won"* ]]
    run judge --ties draw "${SYSTEMS[@]}"
    [ "$status" -eq 2 ]
}

@test "cost: a dry run sends nothing and counts what a run sends; a cap stops at N, exit 3; the rerun sends the rest" {
    start_server
    run judge --dry-run --format json --db "$T/db" "${SYSTEMS[@]}"
    [ "$status" -eq 0 ]
    n=$(grep -v '^alarm-judge:' <<<"$output" | jq .dry_run.requests)
    [ "$(requests)" -eq 0 ]
    [ "$n" -gt 10 ]
    grep -v '^alarm-judge:' <<<"$output" | jq -e '.dry_run.prompt_tokens > 0 and .dry_run.prompt_tokens_by == "estimate"'
    run judge --dry-run --tokenizer "$BATS_TEST_DIRNAME/fixtures/tfm/lm_gpt2_tok" "${SYSTEMS[@]}"
    [[ "$output" == *"dry run: $n requests to send"*"counted with"* ]]
    # a cap: exactly 5 requests, a partial summary, exit 3
    run judge --format json --max-requests 5 --concurrency 2 --db "$T/db" "${SYSTEMS[@]}"
    [ "$status" -eq 3 ]
    [ "$(requests)" -eq 5 ]
    [[ "$output" == *"stopped at --max-requests 5: 5 requests sent"* ]]
    s=$(grep -v '^alarm-judge:' <<<"$output")
    jq -e '.partial.not_made > 0 and .judges["test-judge"].usage.prompt_tokens == 50' <<<"$s"
    [ "$(sqlite3 "$T/db" "SELECT status FROM runs ORDER BY id DESC LIMIT 1")" = failed ]
    # the same command with a higher cap sends only the rest
    run judge --format json --max-requests 1000 --db "$T/db" "${SYSTEMS[@]}"
    [ "$status" -eq 0 ]
    [ "$(requests)" -eq "$n" ]
    s=$(grep -v '^alarm-judge:' <<<"$output")
    jq -e --argjson k $((n - 5)) '.partial == null and .judges["test-judge"].usage.prompt_tokens == 10 * $k
          and .judges["test-judge"].usage.completion_tokens == 3 * $k' <<<"$s"
    # a token cap: the answers' usage (13 a request) stops the sending at the third
    before=$(requests)
    run judge --max-tokens-total 30 --concurrency 1 "${SYSTEMS[@]}"
    [ "$status" -eq 3 ]
    [ $(($(requests) - before)) -eq 3 ]
}

# summary_only [options]: the summary of $T/db's judgments, messages dropped.
summary_only() { alarm-judge -q --summary-only --db "$T/db" "$@"; }

@test "--summary-only gives exactly the run's summary, JSON and Markdown, LLM and reward judges" {
    start_server
    run judge -q --by-reward fact --by-reward -len --format json --bootstrap 300 --db "$T/db" "${SYSTEMS[@]}"
    [ "$status" -eq 0 ]
    echo "$output" >"$T/run.json"
    cp "$T/log" "$T/log.before"
    run summary_only --format json --bootstrap 300
    [ "$status" -eq 0 ]
    diff "$T/run.json" - <<<"$output"
    cmp "$T/log" "$T/log.before" # no request
    # the stored summaries are the printed JSON, the --summary-only run's too
    [ "$(sqlite3 "$T/db" "SELECT count(DISTINCT summary) || ' ' || count(*) FROM judge_summaries")" = "1 2" ]
    diff <(jq -S . "$T/run.json") <(sqlite3 "$T/db" "SELECT summary FROM judge_summaries WHERE run_id = 1" | jq -S .)
    # Markdown, another seed and --ties: the same flags, the same table
    run judge -q --by-reward fact --ties half --seed 9 --db "$T/db2" "${SYSTEMS[@]}"
    echo "$output" >"$T/run.md"
    run alarm-judge --summary-only --db "$T/db2" --ties half --seed 9
    [ "$status" -eq 0 ]
    diff "$T/run.md" - <<<"$output"
    [[ "$output" == *"| hier | - | 66.67 (3-1-2) |"* ]]
}

@test "--summary-only over a capped run and its resumption: the latest run wins; --run picks one" {
    start_server
    run judge --format json --max-requests 5 --db "$T/db" "${SYSTEMS[@]}"
    [ "$status" -eq 3 ]
    grep -v '^alarm-judge:' <<<"$output" >"$T/capped.json"
    run judge -q --format json --db "$T/db" "${SYSTEMS[@]}"
    [ "$status" -eq 0 ]
    echo "$output" >"$T/full.json"
    run summary_only --format json
    diff "$T/full.json" - <<<"$output"
    run summary_only --format json --run 1
    [ "$status" -eq 0 ]
    diff "$T/capped.json" - <<<"$output"
    jq -e '.partial.not_made > 0' <<<"$output"
    run summary_only --run 1 --run 7
    [ "$status" -eq 1 ]
    [[ "$output" == *"$T/db: run 7 has no judgments"* ]]
}

@test "--shard I/N: two shards' judgments are the unsharded run's; their summary is its summary" {
    start_server
    run judge -q --format json --out "$T/all.jsonl" --db "$T/one.db" "${SYSTEMS[@]}"
    [ "$status" -eq 0 ]
    echo "$output" >"$T/all.json"
    for i in 0 1; do
        run judge -q --format json --shard $i/2 --out "$T/s$i.jsonl" --db "$T/db" "${SYSTEMS[@]}"
        [ "$status" -eq 0 ]
        jq -r '.prompt_id' "$T/s$i.jsonl" | sort -u >"$T/p$i"
    done
    # a prompt's every pair and order is in one shard, the one its id's SHA-256 names
    # (the first 8 bytes mod 2: the parity of the 16th hex digit); none in both
    for p in $(cat "$T/p0" "$T/p1"); do
        h=$(printf %s "$p" | sha256sum | cut -c16)
        grep -qx "$p" "$T/p$(( 0x$h % 2 ))"
    done
    [ -s "$T/p0" ] && [ -s "$T/p1" ]
    [ -z "$(comm -12 "$T/p0" "$T/p1")" ]
    key='[.judge, .prompt_id, .a, .b, .order, .verdict] | @tsv'
    diff <(jq -r "$key" "$T/all.jsonl" | sort) <(cat "$T/s0.jsonl" "$T/s1.jsonl" | jq -r "$key" | sort)
    run summary_only --format json
    [ "$status" -eq 0 ]
    diff "$T/all.json" - <<<"$output"
    [ "$(sqlite3 "$T/db" "SELECT count(*) FROM judgments")" -eq 36 ]
    run judge --shard 2/2 "${SYSTEMS[@]}"
    [ "$status" -eq 2 ]
    [[ "$output" == *"--shard: expected I/N with 0 <= I < N, not '2/2'"* ]]
}

@test "--group pools systems into one row: hand-computed counts, the same from the store" {
    start_server
    run judge -q --by-reward fact --group hh=hier,hol --format json --db "$T/db" "${SYSTEMS[@]}"
    [ "$status" -eq 0 ]
    echo "$output" >"$T/g.json"
    [ "$(jq -c .systems "$T/g.json")" = '["hh","asp"]' ]
    # LLM: hier-asp 3-2-1 and hol-asp 3-3-0; fact: 4-1-1 twice (hier-hol left out),
    # inconsistent on 2 of 5 and 1 of 6 holistic non-ties: 3/11
    diff - <(table "$(cat "$T/g.json")" test-judge) <<'END'
hh asp 6-5-1 54.55
asp hh 5-6-1 45.45
average 54.55 45.45
END
    diff - <(table "$(cat "$T/g.json")" reward:fact) <<'END'
hh asp 8-2-2 80 0.2727
asp hh 2-8-2 20 0.2727
average 80 20
END
    # the position counts stay those of every judgment
    [ "$(jq '.judges["test-judge"].position | .first_shown_wins + .second_shown_wins + .neither' "$T/g.json")" -eq 36 ]
    run summary_only --format json --group hh=hier,hol
    diff "$T/g.json" - <<<"$output"
    run summary_only --group all=hier,hol,asp
    [ "$status" -eq 0 ]
    [[ "$output" == *"| all | - | 50.00 |"* ]]
    for bad in "hh=hier,nope" "hh" "=hier" "hier=hol,asp"; do
        run summary_only --group "$bad"
        [ "$status" -eq 2 ]
    done
    run summary_only --group a=hier --group b=hier
    [ "$status" -eq 2 ]
    [[ "$output" == *'system "hier" is in two groups'* ]]
    run judge --group x=hier,zzz "${SYSTEMS[@]}"
    [ "$status" -eq 2 ]
    [[ "$output" == *'--group: no system "zzz" was judged'* ]]
    [ "$(requests)" -eq 32 ] # nothing sent for the refused run
}

@test "--summary-only: usage and input errors; a store of schema 4 still opens" {
    run alarm-judge --summary-only
    [ "$status" -eq 2 ]
    [[ "$output" == *"--summary-only needs --db"* ]]
    run alarm-judge --summary-only --db "$T/db" "${SYSTEMS[@]}"
    [ "$status" -eq 2 ]
    run alarm-judge --summary-only --db "$T/db" --by-reward fact
    [ "$status" -eq 2 ]
    run alarm-judge --run 1 --by-reward fact "${SYSTEMS[@]}"
    [ "$status" -eq 2 ]
    [[ "$output" == *"--run needs --summary-only"* ]]
    run alarm-judge --summary-only --db "$T/none.db"
    [ "$status" -eq 1 ]
    [ "$output" = "alarm-judge: $T/none.db: no such store" ]
    [ ! -e "$T/none.db" ]
    sqlite3 "$T/empty.db" "PRAGMA user_version = 0"
    run alarm-judge --summary-only --db "$T/empty.db"
    [ "$status" -eq 1 ]
    [[ "$output" == *"$T/empty.db: no judgments"* ]]
    # judgments made before schema 5: counts and rates, no lengths
    run alarm-judge -q --by-reward fact --format json --db "$T/db" "${SYSTEMS[@]}"
    echo "$output" >"$T/new.json"
    sqlite3 "$T/db" "DROP TABLE judge_responses; DROP TABLE judge_summaries; PRAGMA user_version = 4"
    run summary_only --format json
    [ "$status" -eq 0 ]
    [ "$(sqlite3 "$T/db" "PRAGMA user_version")" -eq 5 ]
    [ "$(jq -c .systems <<<"$output")" = '["asp","hier","hol"]' ]
    [ "$(jq '.judges["reward:fact"].mean_words' <<<"$output")" = null ]
    [ "$(jq -c '.judges["reward:fact"].matrix.hier.asp | [.win, .lose, .tie]' <<<"$output")" = "[4,1,1]" ]
}
