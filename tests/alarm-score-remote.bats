#!/usr/bin/env bats
# alarm-score's remote kinds: cmd:PROGRAM (a coprocess answering a JSON line
# per record: alarm-synth score, and small shell programs written here that
# misbehave on purpose), http:URL and languagetool:URL against
# tests/servers/score_server.py on 127.0.0.1 (faults, retries, the cache,
# kill -9 and resume, UTF-16 offsets mapped to bytes).

bats_require_minimum_version 1.5.0

load lib/server

setup() {
    T="$BATS_TEST_TMPDIR"
    SERVER_PID=
    unset ALARM_DB
    alarm-synth demos -n 6 >"$T/demos.jsonl"
}

# A shell coprocess that answers each line read with the line "$1" (which
# may use $n, the record's number), flushed (echo writes at once).
answers() { printf '{ n=0; while read -r l; do n=$((n+1)); %s; done; }' "$1"; }

@test "cmd: alarm-synth score's values and spans are alarm-synth rewards' for the same records" {
    alarm-synth rewards --aspect quality --aspect factuality <"$T/demos.jsonl" |
        jq -c '.rewards | [.quality, .factuality]' >"$T/want"
    # three batches of 2: the programs are started once each and fed batch after batch
    alarm-score --batch 2 --scorer 'q=cmd:echo start >>'"$T"'/starts; alarm-synth score --aspect quality' \
        --scorer 'f=cmd:alarm-synth score --aspect factuality' "$T/demos.jsonl" |
        jq -c '.rewards | [.q, .f]' >"$T/got"
    [ "$(wc -l <"$T/got")" -eq 6 ]
    diff "$T/want" "$T/got"
    [ "$(wc -l <"$T/starts")" -eq 1 ]
    # spans came through (factuality has one per sentence)
    jq -e -s 'map(.[1].spans | length) | min > 0' "$T/got"
}

@test "cmd: the program gets every record whole, one JSON line each, in order" {
    alarm-score --batch 4 --scorer 'c=cmd:tee '"$T"'/fed | '"$(answers 'echo "{\"value\": $n}"')" \
        "$T/demos.jsonl" | jq -c .rewards.c.value | paste -sd' ' >"$T/v"
    [ "$(cat "$T/v")" = "1 2 3 4 5 6" ]
    diff <(jq -c . "$T/demos.jsonl") <(jq -c . "$T/fed")
}

@test "cmd: a comma in the program is written \\, (the spec splits options at commas)" {
    run --separate-stderr alarm-score --scorer 'c=cmd:'"$(answers 'echo "{\"value\": 1\, \"raw\": $n}"')"',timeout=30' \
        "$T/demos.jsonl"
    [ "$status" -eq 0 ]
    [ "$(jq -c '.rewards.c | [.value, .raw]' <<<"$output" | paste -sd' ')" = "[1,1] [1,2] [1,3] [1,4] [1,5] [1,6]" ]
    # unescaped, the text after the comma is an option
    run --separate-stderr alarm-score --scorer 'c=cmd:echo "{\"value\": 1, \"raw\": 2}"' "$T/demos.jsonl"
    [ "$status" -eq 2 ]
    [[ "$stderr" == *"an option is not key=value"* ]]
}

@test "cmd: a bad answer fails its record, naming the scorer and quoting the answer" {
    prog=$(answers 'case $n in 2) echo "not json at all";; 3) echo "[1\, 2]";;
        4) echo "{\"raw\": 3}";; 5) echo "{\"value\": \"high\"}";;
        6) echo "{\"value\": 1\, \"spans\": [{\"end\": 100000\, \"value\": 1}]}";;
        *) echo "{\"value\": 0.5}";; esac')
    run --separate-stderr alarm-score --scorer "c=cmd:$prog" "$T/demos.jsonl"
    [ "$status" -eq 1 ]
    [ "$stderr" = "alarm-score: $T/demos.jsonl:2: scorer c (cmd) failed: answer 'not json at all': not JSON" ]
    run --separate-stderr alarm-score --skip-failed --scorer "c=cmd:$prog" "$T/demos.jsonl"
    [ "$status" -eq 0 ]
    [ "$(wc -l <<<"$output")" -eq 6 ]
    [ "$(jq -c '.rewards.c.value // "none"' <<<"$output" | paste -sd' ')" = \
      '0.5 "none" "none" "none" "none" "none"' ]
    [[ "$stderr" == *"alarm-score: scorer c failed for 5 of 6 records (written without it)"* ]]
    # each kind of bad answer says what is wrong
    check_answer() { # ANSWER WHY: every record answered ANSWER fails with WHY
        printf '%s\n' "$1" >"$T/ans"
        run --separate-stderr alarm-score --scorer "c=cmd:while read -r l; do cat $T/ans; done" "$T/demos.jsonl"
        [ "$status" -eq 1 ]
        [ "$stderr" = "alarm-score: $T/demos.jsonl:1: scorer c (cmd) failed: answer '$1': $2" ]
    }
    check_answer '{"raw": 3}' 'field "value": missing'
    check_answer '{"value": "high"}' 'field "value": expected a number'
    check_answer '{"value": 1, "raw": null}' 'field "raw": expected a number'
    check_answer '{"value": 1, "spans": {}}' 'field "spans": expected an array'
    check_answer '{"value": 1, "spans": [3]}' 'spans[0]: expected an object'
    check_answer '{"value": 1} {"value": 2}' 'not JSON (text after the object)'
    check_answer '' 'not JSON'
    len=$(head -n 1 "$T/demos.jsonl" | jq -j .response | wc -c)
    check_answer '{"value": 1, "spans": [{"end": 1, "value": 0}, {"end": 100000, "value": 1}]}' \
        "spans[1].end: expected an integer in [1, $len] (a byte offset of the response)"
    check_answer '{"value": 1, "spans": [{"end": 2.5, "value": 1}]}' \
        "spans[0].end: expected an integer in [1, $len] (a byte offset of the response)"
    check_answer '{"value": 1, "spans": [{"end": 2}]}' 'spans[0].value: expected a number'
    # a long answer is quoted by its start
    long=$(printf '{"value": "%0200d"}' 0)
    printf '%s\n' "$long" >"$T/ans"
    run --separate-stderr alarm-score --scorer "c=cmd:while read -r l; do cat $T/ans; done" "$T/demos.jsonl"
    [[ "$stderr" == *"answer '{\"value\": \"000"*"...': field \"value\": expected a number" ]]
}

@test "cmd: a program that ends before answering fails the run, naming the record and how it ended" {
    # answers two records, then exits 0
    run --separate-stderr alarm-score --scorer 'c=cmd:read -r a; echo "{\"value\": 1}"; read -r b; echo "{\"value\": 2}"' \
        "$T/demos.jsonl"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"alarm-score: $T/demos.jsonl:3: scorer c (cmd) failed: program "*" exited with status 0 before answering this record" ]]
    # --skip-failed does not pass over a dead program
    run --separate-stderr alarm-score --skip-failed --scorer 'c=cmd:exit 7' "$T/demos.jsonl"
    [ "$status" -eq 1 ]
    [ "$stderr" = "alarm-score: $T/demos.jsonl:1: scorer c (cmd) failed: program 'exit 7' exited with status 7 before answering this record" ]
    run --separate-stderr alarm-score --scorer 'c=cmd:kill -9 $$' "$T/demos.jsonl"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"program 'kill -9 \$\$' was killed by signal 9 (Killed) before answering this record" ]]
    # alarm-synth score refuses a record without meta
    run --separate-stderr alarm-score --scorer 'q=cmd:alarm-synth score' <(echo '{"response": "The band formed."}')
    [ "$status" -eq 1 ]
    [[ "$stderr" == *'field "meta": missing'* ]]
    [[ "$stderr" == *":1: scorer q (cmd) failed: program 'alarm-synth score' exited with status 1 before answering this record" ]]
}

@test "cmd: at the end its input is closed and it is waited for: a non-zero exit, or lines too many, fail the run" {
    run --separate-stderr alarm-score --scorer "c=cmd:$(answers 'echo "{\"value\": 1}"'); exit 3" "$T/demos.jsonl"
    [ "$status" -eq 1 ]
    [ "$(wc -l <<<"$output")" -eq 6 ]
    [[ "$stderr" == *"alarm-score: scorer c: program '"*"' exited with status 3" ]]
    run --separate-stderr alarm-score --scorer "c=cmd:$(answers 'echo "{\"value\": 1}"'); echo '{\"value\": 2}'" \
        "$T/demos.jsonl"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"' wrote 1 line more than the records it was given" ]]
    # with a store, the run is marked failed with that message
    run --separate-stderr alarm-score --db "$T/s.db" --scorer "c=cmd:$(answers 'echo "{\"value\": 1}"'); exit 3" \
        "$T/demos.jsonl"
    [ "$status" -eq 1 ]
    [ "$(sqlite3 "$T/s.db" "SELECT status FROM runs")" = failed ]
    [[ "$(sqlite3 "$T/s.db" "SELECT message FROM runs")" == *"exited with status 3" ]]
}

@test "cmd: a program that does not answer (a buffered output) fails after timeout= seconds" {
    run --separate-stderr alarm-score --scorer 'c=cmd:cat >/dev/null; sleep 30,timeout=0.3' "$T/demos.jsonl"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"alarm-score: scorer c: program 'cat >/dev/null; sleep 30': no answer for 0.3 s (0 of 6 lines answered; does it flush each line?)" ]]
    run --separate-stderr alarm-score --scorer 'c=cmd:cat,timeout=x' "$T/demos.jsonl"
    [ "$status" -eq 2 ]
    [[ "$stderr" == *"scorer c: timeout=x: expected a number"* ]]
    run --separate-stderr alarm-score --scorer 'c=cmd' "$T/demos.jsonl"
    [ "$status" -eq 2 ]
    [[ "$stderr" == *"kind cmd needs an ARG (cmd:ARG)"* ]]
}

@test "cmd: scores go to the store like any other scorer's" {
    run --separate-stderr alarm-score --db "$T/s.db" --batch 4 --scorer 'f=cmd:alarm-synth score --aspect factuality' \
        "$T/demos.jsonl"
    [ "$status" -eq 0 ]
    [ "$(sqlite3 "$T/s.db" "SELECT count(*) FROM rewards WHERE aspect = 'f' AND spans IS NOT NULL")" -eq 6 ]
    [ "$(sqlite3 "$T/s.db" "SELECT kind, scored, failed FROM scorers")" = "cmd|6|0" ]
}

# records ID:TEXT...: one record a line, id and response.
records() { for r in "$@"; do jq -cn --arg id "${r%%:*}" --arg t "${r#*:}" '{id: $id, response: $t}'; done; }

@test "http: each record POSTed, its answer is the aspect; concurrent; one request a record" {
    start_server --delay-ms 20
    run --separate-stderr alarm-score --concurrency 4 --batch 4 --scorer "h=http:$URL/score" \
        --scorer w=length,unit=words "$T/demos.jsonl"
    [ "$status" -eq 0 ]
    # the server's value is the words, raw the bytes, one span at the last byte
    jq -e -s 'length == 6 and all(.rewards.h.value == .rewards.w.value
        and .rewards.h.raw == (.response | utf8bytelength)
        and .rewards.h.spans == [{end: (.response | utf8bytelength), value: 1}])' <<<"$output"
    [ "$(requests)" -eq 6 ]
    # the server got the records whole
    diff <(jq -c .response "$T/demos.jsonl") <(jq -c .response "$T/log")
}

@test "http: 429 (Retry-After), 503 and a timeout are retried; 500 for good and bad answers fail the record" {
    start_server --slow-ms 3000
    records a:"FLAKY429 one" b:"FLAKY500 two" c:"SLOWONCE three" d:"FAIL500 four" \
        e:"MALFORMED five" f:"NOVALUE six" g:"fine seven" >"$T/in.jsonl"
    run --separate-stderr alarm-score --skip-failed \
        --scorer "h=http:$URL/score,backoff=0.01,retries=2,timeout=1" "$T/in.jsonl"
    [ "$status" -eq 0 ]
    [ "$(jq -c '.rewards.h.value // "none"' <<<"$output" | paste -sd' ')" = '2 2 2 "none" "none" "none" 2' ]
    [ "$stderr" = "alarm-score: scorer h failed for 3 of 7 records (written without it)" ]
    n() { jq -r --arg r "$1" 'select(.response == $r) | .status' "$T/log" | paste -sd' '; }
    [ "$(n 'FLAKY429 one')" = "429 200" ]
    [ "$(n 'FLAKY500 two')" = "503 200" ]
    [ "$(n 'SLOWONCE three')" = "200 200" ]   # the first answer came too late
    [ "$(n 'FAIL500 four')" = "500 500 500" ] # 1 + retries=2
    [ "$(n 'MALFORMED five')" = "200" ]       # an answer is not retried
    # Retry-After: 1 was waited for
    jq -s -e 'map(select(.response == "FLAKY429 one") | .t) | .[1] - .[0] >= 0.9' "$T/log"
    # without --skip-failed the first failed record stops the run, named
    run --separate-stderr alarm-score --scorer "h=http:$URL/score,backoff=0.01,retries=2" "$T/in.jsonl"
    [ "$status" -eq 1 ]
    [ "$stderr" = "alarm-score: $T/in.jsonl:4: scorer h (http) failed: $URL/score: HTTP 500 Internal Server Error after 3 attempts ('{\"error\": \"scripted failure\"}')" ]
    run --separate-stderr alarm-score --scorer "h=http:$URL/score" <(sed -n 5p "$T/in.jsonl")
    [ "$stderr" = "alarm-score: /dev/fd/63:1: scorer h (http) failed: answer '{\"value\": this is not json': not JSON" ]
    run --separate-stderr alarm-score --scorer "h=http:$URL/score" <(sed -n 6p "$T/in.jsonl")
    [ "$stderr" = "alarm-score: /dev/fd/63:1: scorer h (http) failed: answer '{\"raw\": 1}': field \"value\": missing" ]
}

@test "http: no server: connection refused after the retries, naming the record" {
    port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    run --separate-stderr alarm-score --scorer "h=http:http://127.0.0.1:$port/score,backoff=0.01,retries=1" \
        "$T/demos.jsonl"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "alarm-score: $T/demos.jsonl:1: scorer h (http) failed: http://127.0.0.1:$port/score: "*"after 2 attempts" ]]
    [[ "$stderr" == *"onnect"* ]]
}

@test "http: with --db the answers are cached: a rerun sends nothing, a failed record is asked again" {
    start_server
    records a:"one two" b:"FAIL500 x" c:"three" >"$T/in.jsonl"
    run alarm-score --db "$T/s.db" --skip-failed --scorer "h=http:$URL/score,retries=0" "$T/in.jsonl"
    [ "$status" -eq 0 ]
    [ "$(requests)" -eq 3 ]
    [ "$(sqlite3 "$T/s.db" "SELECT count(*) FROM judge_cache WHERE model = 'http'")" -eq 2 ]
    run alarm-score --db "$T/s.db" --skip-failed --scorer "h=http:$URL/score,retries=0" "$T/in.jsonl"
    [ "$status" -eq 0 ]
    [ "$(requests)" -eq 4 ]
    [ "$(tail -n 1 "$T/log" | jq -r .response)" = "FAIL500 x" ]
    [ "$(jq -c '.rewards.h.value // "none"' <<<"$(grep '^{' <<<"$output")" | paste -sd' ')" = '2 "none" 1' ]
    # another URL is another question
    run alarm-score --db "$T/s.db" --scorer "h=http:$URL/score?v=2" <(sed -n 1p "$T/in.jsonl")
    [ "$status" -eq 0 ]
    [ "$(requests)" -eq 5 ]
}

@test "http: kill -9 mid-run, then the rerun with --db sends only what was not answered" {
    start_server --delay-ms 100
    for i in $(seq 40); do records "r$i:answer number $i"; done >"$T/in.jsonl"
    alarm-score --db "$T/s.db" --concurrency 2 --batch 16 --scorer "h=http:$URL/score" \
        "$T/in.jsonl" >/dev/null 2>&1 3>&- &
    pid=$!
    for _ in $(seq 200); do [ "$(requests)" -ge 12 ] && break; sleep 0.02; done
    kill -9 "$pid"
    wait "$pid" || true
    sent=$(requests)
    cached=$(sqlite3 "$T/s.db" "SELECT count(*) FROM judge_cache")
    sqlite3 "$T/s.db" "SELECT json_quote(json_extract(request, '\$.response')) FROM judge_cache" | sort >"$T/cached"
    [ "$cached" -ge 8 ]
    [ "$cached" -lt 40 ]
    # lost: at most the 2 requests in flight and the answers of the commit under way
    [ $((sent - cached)) -le 4 ]
    run --separate-stderr alarm-score --db "$T/s.db" --concurrency 4 --scorer "h=http:$URL/score" "$T/in.jsonl"
    [ "$status" -eq 0 ]
    [ "$(wc -l <<<"$output")" -eq 40 ]
    [ $(($(requests) - sent)) -eq $((40 - cached)) ]
    # no answer stored before the kill was asked again
    [ "$(tail -n +$((sent + 1)) "$T/log" | jq -c .response | sort | comm -12 "$T/cached" - | wc -l)" -eq 0 ]
    jq -e -s 'all(.rewards.h.value == 3)' <<<"$output"
}

@test "http: key-env=VAR sends the key from the environment only, masked where a server repeats it" {
    key=sk-score-DISTINCTIVE-1234
    start_server --key "$key"
    records a:"one two" >"$T/in.jsonl"
    SCORE_KEY=$key run --separate-stderr alarm-score --db "$T/s.db" \
        --scorer "h=http:$URL/score,key-env=SCORE_KEY" "$T/in.jsonl"
    [ "$status" -eq 0 ]
    [ "$(jq -c .rewards.h.value <<<"$output")" = 2 ]
    SCORE_KEY=sk-wrong-DISTINCTIVE-0000 run --separate-stderr alarm-score --db "$T/s.db" \
        --scorer "h=http:$URL/score?2,key-env=SCORE_KEY,retries=0" "$T/in.jsonl"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"HTTP 401 Unauthorized after 1 attempt ('{\"error\": \"Incorrect API key provided: ***.\"}')" ]]
    [[ "$stderr" != *DISTINCTIVE* ]]
    # in neither the store (argv, specs, cache) nor the server's view of the body
    [ "$(sqlite3 "$T/s.db" .dump | grep -c DISTINCTIVE)" -eq 0 ]
    [ "$(jq -r .response "$T/log" | grep -c DISTINCTIVE)" -eq 0 ]
    run --separate-stderr alarm-score --scorer "h=http:$URL/score,key-env=NO_SUCH_VAR_SET" "$T/in.jsonl"
    [ "$status" -eq 2 ]
    [[ "$stderr" == "alarm-score: scorer h: key-env=NO_SUCH_VAR_SET: the variable is not set"* ]]
}

@test "languagetool: matches counted, each a span at its last byte: UTF-16 offsets past emoji and accents" {
    start_server
    # bytes: "Café" 5 (é is 2), "😀" 4 (2 UTF-16 units): the second "is" ends at byte 16, "the" at 26
    # "naïve" ends at byte 6 (a lowercase start); "🎉🎉" 8 bytes: the second "test" ends at byte 25
    records a:"Café 😀 is is good. the end." b:"naïve 🎉🎉 test test" c:"All fine here." >"$T/in.jsonl"
    run --separate-stderr alarm-score --scorer "g=languagetool:$URL" "$T/in.jsonl"
    [ "$status" -eq 0 ]
    [ "$(jq -c '.rewards.g | [.value, [.spans[].end]]' <<<"$output" | paste -sd' ')" = "[2,[16,26]] [2,[6,25]] [0,[]]" ]
    jq -e -s '([.[].rewards.g.spans[].value] | all(. == -1)) and all(.[].rewards.g; .raw == .value)' <<<"$output"
    # each span's end is the end of the word flagged
    for k in 1 2; do
        r=$(sed -n ${k}p "$T/in.jsonl" | jq -j .response)
        ends=$(sed -n ${k}p <<<"$output" | jq -r '.rewards.g.spans[].end')
        for e in $ends; do
            last=$(printf '%s' "$r" | head -c "$e" | tail -c 4)
            [[ "$last" == *is || "$last" == *the || "$last" == *"ïve" || "$last" == *test ]]
        done
    done
    # the form LanguageTool reads: text and language (default en-US)
    [ "$(jq -r .language "$T/log" | sort -u)" = en-US ]
    diff <(jq -c .response "$T/in.jsonl") <(jq -c .response "$T/log")
}

@test "languagetool: value=rate is matches per word, span= and lang= are sent, an unknown language fails" {
    start_server
    records a:"Café 😀 is is good. the end." b:"" >"$T/in.jsonl"
    run --separate-stderr alarm-score --scorer "g=languagetool:$URL/v2/check,value=rate,lang=en-GB,span=-0.5" \
        "$T/in.jsonl"
    [ "$status" -eq 0 ]
    [ "$(jq -c '.rewards.g | [.value, .raw, [.spans[].value]]' <<<"$output" | paste -sd' ')" = \
      "[0.2857142857142857,2,[-0.5,-0.5]] [0,0,[]]" ]
    [ "$(jq -r .language "$T/log" | sort -u)" = en-GB ]
    run --separate-stderr alarm-score --scorer "g=languagetool:$URL,lang=xx-YY,retries=0" "$T/in.jsonl"
    [ "$status" -eq 1 ]
    [ "$stderr" = "alarm-score: $T/in.jsonl:1: scorer g (languagetool) failed: $URL/v2/check: HTTP 400 Bad Request after 1 attempt ('Error: 'xx-YY' is not a language code known to LanguageTool.')" ]
    run --separate-stderr alarm-score --scorer "g=languagetool:$URL,value=mean" "$T/in.jsonl"
    [ "$status" -eq 2 ]
    [[ "$stderr" == "alarm-score: scorer g: value=mean: expected count or rate"* ]]
    run --separate-stderr alarm-score --scorer "g=languagetool" "$T/in.jsonl"
    [ "$status" -eq 2 ]
    # an answer that is not JSON, or not LanguageTool's
    run --separate-stderr alarm-score --scorer "g=languagetool:$URL" <(records a:MALFORMED)
    [ "$status" -eq 1 ]
    [ "$stderr" = "alarm-score: /dev/fd/63:1: scorer g (languagetool) failed: answer '{\"value\": this is not json': not JSON" ]
    run --separate-stderr alarm-score --scorer "g=languagetool:$URL" <(records a:NOTLT)
    [ "$status" -eq 1 ]
    [ "$stderr" = "alarm-score: /dev/fd/63:1: scorer g (languagetool) failed: answer '{\"value\": 1}': no \"matches\" array (not LanguageTool's /v2/check)" ]

}

@test "languagetool: faults are retried as for http:, answers cached with --db" {
    start_server
    records a:"FLAKY429 the the" b:"FLAKY500 ok ok" >"$T/in.jsonl"
    run --separate-stderr alarm-score --db "$T/s.db" --scorer "g=languagetool:$URL,backoff=0.01" "$T/in.jsonl"
    [ "$status" -eq 0 ]
    [ "$(jq -c '.rewards.g.value' <<<"$output" | paste -sd' ')" = "1 1" ]
    [ "$(requests)" -eq 4 ]
    run --separate-stderr alarm-score --db "$T/s.db" --scorer "g=languagetool:$URL,backoff=0.01" "$T/in.jsonl"
    [ "$status" -eq 0 ]
    [ "$(requests)" -eq 4 ]
    [ "$(sqlite3 "$T/s.db" "SELECT DISTINCT model, endpoint FROM judge_cache")" = "languagetool|$URL/v2/check" ]
}
