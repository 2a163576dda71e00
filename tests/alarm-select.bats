#!/usr/bin/env bats
# alarm-select on fixture files: output records, the report, the store, and
# every bad-input case (one located line on stderr, exit 1, nothing of the run
# in the store but its run row saying failed). The expected numbers are worked
# out by hand from tests/fixtures/select/scored.jsonl:
#   qA: h = .9 .4 .4, factuality = .8 .2 .5, readability = 10 12 9
#   qB: h = .2 .7,    factuality = .5 .5,    readability = 8 11
#   qC: one record (no pair), 2 tokens (too short).
#   factuality: nontie 3 (qA 0-1, 0-2; qB), agree 2, ties 1: inconsistency 0.
#   readability: agree 2 (qA 0-2, qB), disagree 1 (qA 0-1): 1/3;
#   lower is better: agree 1, disagree 2: 2/3.

setup() {
    FIX="$BATS_TEST_DIRNAME/fixtures/select"
    IN="$FIX/scored.jsonl"
    T="$BATS_TEST_TMPDIR"
}

q() { sqlite3 "$T/s.db" "$1"; }

@test "every output line is its input line with a reward spliced in, byte for byte" {
    alarm-select -q --aspect factuality "$IN" > "$T/out"
    [ "$(wc -l < "$T/out")" -eq 6 ]
    while IFS= read -r a <&3 && IFS= read -r b <&4; do
        [ "${b:0:${#a}-1}" = "${a%\}}" ] || { echo "prefix differs: $b"; return 1; }
        [[ "${b:${#a}-1}" == ',"reward":{'*'}}' ]]
    done 3< "$IN" 4< "$T/out"
}

@test "dense has one entry per response token and total is its sum" {
    for mode in holistic aspect sum hierarchical; do
        alarm-select -q --mode $mode --aspect factuality "$IN" > "$T/out"
        run jq -e '(.reward.dense | length) == (.response_tokens | length)
                   and ((.reward.dense | add) - .reward.total | fabs) < 1e-9
                   and .reward.mode == "'$mode'"' "$T/out"
        [ "$status" -eq 0 ]
        [ "$(echo "$output" | grep -c true)" -eq 6 ]
    done
}

@test "hierarchical rewards match the hand-computed vectors" {
    alarm-select -q --aspect factuality "$IN" | jq -c '[.reward.gate, .reward.dense, .reward.total]' > "$T/out"
    # qA#0 h .9: spans 1 at token 3 ('.' ends at 13), -1 at token 7; 5*.9 on the EOS.
    [ "$(sed -n 1p "$T/out")" = '[true,[0,0,0,1,0,0,0,-1,4.5],4.5]' ]
    # qA#1 h .4 < .6: holistic only.
    [ "$(sed -n 2p "$T/out")" = '[false,[0,0,0,0,2],2]' ]
    # qB#1 h .7: span ending inside the two-byte character goes to its first byte's token 7.
    [ "$(sed -n 5p "$T/out")" = '[true,[0,0,0,0,0,0,0,0.5,0,0,0.25,3.5],4.25]' ]
    # qC#0: 2 tokens, too short: W*P = -50, holistic reported as P.
    [ "$(sed -n 6p "$T/out")" = '[false,[0,-50],-50]' ]
}

@test "sum with weights and sigmoid shaping" {
    alarm-select -q --mode sum --sigmoid-shaping --aspect factuality=2 --aspect readability=0.5 \
        "$IN" | sed -n 3p | jq -c .reward.dense > "$T/out"
    # qA#2: 2*sigmoid(.5) + .5*sigmoid(9) + 5*.4 on the last token.
    want=$(awk 'BEGIN { printf "%.9f", 2/(1+exp(-0.5)) + 0.5/(1+exp(-9)) + 2 }')
    got=$(jq '.[5]' "$T/out" | awk '{ printf "%.9f", $1 }')
    [ "$got" = "$want" ]
    [ "$(jq '.[0:5] | add' "$T/out")" = 0 ]
}

@test "automatic selection picks the least inconsistent aspect and reports why" {
    alarm-select --select auto --lower-better readability --report "$T/rep.json" "$IN" \
        > "$T/out" 2> "$T/err"
    jq -e '.records == 6 and .groups == 3 and .pairs == 4' "$T/rep.json"
    jq -e '.aspects.factuality | .holistic_nontie == 3 and .agree == 2 and .disagree == 0
           and .aspect_ties == 1 and .inconsistency == 0 and .consistency == 1 and .selected' "$T/rep.json"
    jq -e '.aspects.readability | .agree == 1 and .disagree == 2 and (.inconsistency - 2/3 | fabs) < 1e-12
           and .selected == false and .lower_better' "$T/rep.json"
    [ "$(jq -c .reward.aspects "$T/out" | sort -u)" = '["factuality"]' ]
    grep -q '^factuality .* yes (picked: rank 1 of 2' "$T/err"
}

@test "auto:2 takes both; --max-inconsistency leaves out the one above it" {
    alarm-select -q --select auto:2 --report "$T/rep.json" "$IN" | head -1 | jq -c .reward.aspects > "$T/a"
    [ "$(cat "$T/a")" = '["factuality","readability"]' ]
    alarm-select -q --select auto:2 --max-inconsistency 0.3 --report "$T/rep.json" "$IN" > /dev/null
    jq -e '.aspects.readability.selected == false and (.aspects.readability.reason | test("above"))' "$T/rep.json"
}

@test "standard input, and several files read as one stream" {
    alarm-select -q --aspect factuality < "$IN" > "$T/a"
    head -3 "$IN" > "$T/p1"; tail -n +4 "$IN" > "$T/p2"
    alarm-select -q --aspect factuality "$T/p1" "$T/p2" > "$T/b"
    cmp "$T/a" "$T/b"
    [ "$(wc -l < "$T/a")" -eq 6 ]
}

@test "a record that already has a reward gets the new one" {
    alarm-select -q --mode holistic "$IN" > "$T/once"
    alarm-select -q --aspect factuality "$T/once" | jq -r .reward.mode | sort -u > "$T/modes"
    [ "$(cat "$T/modes")" = hierarchical ]
}

@test "the store holds the run, the report and one row per record" {
    alarm-select -q --select auto --db "$T/s.db" "$IN" > "$T/out"
    [ "$(q "SELECT tool, status FROM runs")" = "alarm-select|ok" ]
    # Row for row what went to stdout.
    q "SELECT rollout_id, prompt_id, mode, aspects, dense FROM combined_rewards ORDER BY rowid" > "$T/rows"
    jq -r '[.id, .prompt_id, .reward.mode, (.reward.aspects | tojson), (.reward.dense | tojson)] | join("|")' \
        "$T/out" > "$T/want"
    diff "$T/want" "$T/rows"
    [ "$(q "SELECT count(*) FROM combined_rewards")" -eq 6 ]
    [ "$(q "SELECT count(*) FROM rewards")" -eq 18 ]
    [ "$(q "SELECT aspect, agree, disagree, aspect_ties, selected FROM selection_aspects ORDER BY aspect")" \
        = "$(printf 'factuality|2|0|1|1\nreadability|2|1|0|0')" ]
    [ "$(q "SELECT records, groups, pairs FROM selection_reports")" = "6|3|4" ]
    [ "$(q "SELECT dense, total FROM combined_rewards WHERE rollout_id = 'qC#0'")" = "[0,-50]|-50.0" ]
    [ "$(q "SELECT spans FROM rewards WHERE rollout_id = 'qA#1' AND aspect = 'factuality'")" \
        = '[{"end":15,"value":-1}]' ]
    # ALARM_DB names the store when --db is not given: a second run.
    ALARM_DB="$T/s.db" alarm-select -q --mode holistic "$IN" > /dev/null
    [ "$(q "SELECT count(*) FROM runs WHERE status = 'ok'")" -eq 2 ]
    [ "$(q "SELECT count(*) FROM combined_rewards WHERE run_id = 2 AND gate IS NULL")" -eq 6 ]
}

bad_case() { # $1 = fixture name, $2 = expected message part
    run bash -c 'alarm-select -q --aspect factuality --db "$1" "$2" > /dev/null' _ "$T/s.db" "$FIX/bad-$1.jsonl"
    [ "$status" -eq 1 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "${lines[0]}" == "alarm-select: $FIX/bad-$1.jsonl:2: "*"$2"* ]] || { echo "${lines[0]}"; return 1; }
    [ "$(q "SELECT status FROM runs")" = failed ]
    [[ "$(q "SELECT message FROM runs")" == *"$2"* ]]
    for t in combined_rewards rewards selection_reports selection_aspects; do
        [ "$(q "SELECT count(*) FROM $t")" -eq 0 ] || { echo "rows left in $t"; return 1; }
    done
}

@test "bad input: malformed JSON" { bad_case malformed "malformed JSON"; }
@test "bad input: a missing field" { bad_case missing-field 'field "prompt_id": missing'; }
@test "bad input: a mistyped field" { bad_case mistyped-field '"rewards.holistic.value": expected a finite number'; }
@test "bad input: a span ending outside the response" { bad_case span-outside '"rewards.factuality.spans[0].end": expected a byte offset in [1, 2]'; }
@test "bad input: offsets and response_tokens of different lengths" { bad_case offsets-length '2 entries but 3 response_tokens'; }
@test "bad input: an empty response" { bad_case empty-response 'empty response'; }
@test "bad input: an infinite number" { bad_case infinite '"rewards.factuality.value": expected a finite number'; }
@test "bad input: NaN (not JSON)" { bad_case nan "malformed JSON"; }
@test "bad input: a missing holistic reward" { bad_case missing-holistic '"rewards.holistic": missing'; }

# refused NAME SED-SCRIPT MESSAGE: line 2 edited by the script is refused with
# FILE:2: MESSAGE by the fast raw-line reader (no store) and the general one.
refused() {
    sed "$2" "$IN" > "$T/$1.jsonl"
    for db in "" "$T/$1.db"; do
        run bash -c 'alarm-select -q --aspect factuality ${1:+--db "$1"} "$2" > /dev/null' _ "$db" "$T/$1.jsonl"
        [ "$status" -eq 1 ]
        [ "${lines[0]}" = "alarm-select: $T/$1.jsonl:2: $3" ] || { echo "${lines[0]}"; return 1; }
    done
}

@test "bad input: invalid UTF-8, a lone surrogate, a key twice (any depth), on both readers" {
    refused ff $'2s/question: qA/question: \xffA/' "invalid UTF-8 at byte 68"
    refused overlong $'2s/question: qA/question: \xc0\xafA/' "invalid UTF-8 at byte 68"
    refused surrogate '2s/question: qA/question: \\ud800A/' 'lone surrogate \ud800 at byte 68'
    refused low '2s/question: qA/question: \\udc00\\ud800A/' 'lone surrogate \udc00 at byte 68'
    refused dup '2s/"prompt": "question: qA"/"prompt": "x", "prompt": "question: qA"/' \
        'duplicate key "prompt" at byte 62'
    refused nested '2s/{"value": /{"value": 1, "value": /' 'duplicate key "value" at byte 262'
    # A pair of surrogate escapes is one character, and keys of different
    # objects may repeat: both are fine.
    sed '2s/question: qA/question: \\ud83d\\ude00/' "$IN" > "$T/pair.jsonl"
    alarm-select -q --aspect factuality "$T/pair.jsonl" > /dev/null
}

@test "records of one prompt must be consecutive" {
    run alarm-select -q --aspect factuality "$FIX/not-consecutive.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"not-consecutive.jsonl:3: prompt_id \"qA\" comes back"* ]]
}

@test "usage errors exit 2" {
    run alarm-select --mode best "$IN"
    [ "$status" -eq 2 ]
    run alarm-select "$IN"                       # hierarchical needs aspects
    [ "$status" -eq 2 ]
    run alarm-select --aspect factuality --max-inconsistency 0.2 "$IN"
    [ "$status" -eq 2 ]
    run alarm-select --select best "$IN"
    [ "$status" -eq 2 ]
    run alarm-select --aspect holistic "$IN"
    [ "$status" -eq 2 ]
    run alarm-select --aspect factuality=x "$IN"
    [ "$status" -eq 2 ]
}

@test "a missing file fails with its name" {
    run alarm-select -q --aspect factuality "$T/nope.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"nope.jsonl: No such file or directory"* ]]
}

@test "an aspect given with --aspect must be in every record" {
    run alarm-select -q --aspect fluency "$IN"
    [ "$status" -eq 1 ]
    [[ "$output" == *"scored.jsonl:1: field \"rewards.fluency\": missing"* ]]
}

@test "a closed pipe ends quietly" {
    awk '{ for (i = 0; i < 2000; i++) { r = $0; gsub(/"q/, "\"p" i "q", r); print r } }' "$IN" > "$T/big"
    run bash -c "alarm-select -q --aspect factuality '$T/big' | head -1 > /dev/null"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}

@test "the fast reader and the general one (used with a store) write the same bytes" {
    # gen-scored-like records with escapes in the response, plus the fixtures.
    sed 's/"Paris is big. It is old."/"Paris is big.\\n It is \\"old\\"."/' "$IN" > "$T/esc.jsonl"
    for f in "$IN" "$T/esc.jsonl"; do
        alarm-select -q --select auto:2 "$f" > "$T/fast"
        alarm-select -q --select auto:2 --db "$T/s.db" "$f" > "$T/general"
        cmp "$T/fast" "$T/general"
    done
}

@test "--select auto spills its records under TMPDIR" {
    mkdir "$T/tmp"
    TMPDIR="$T/tmp" alarm-select -q --select auto "$IN" > "$T/out"
    [ "$(wc -l < "$T/out")" -eq 6 ]
    [ -z "$(ls -A "$T/tmp")" ]               # unlinked: nothing left behind
    run env TMPDIR="$T/nope" alarm-select -q --select auto "$IN"
    [ "$status" -eq 1 ]
    [[ "$output" == *"temporary file for the records in $T/nope: No such file or directory"* ]] || { echo "$output"; return 1; }
}

# dup_case FILE... : alarm-select refuses a repeated id, with and without a
# store, naming both places, and the store keeps only the failed run row.
dup_case() {
    local want=$1; shift
    for db in "" "--db $T/d.db"; do
        rm -f "$T/d.db"
        run bash -c 'alarm-select -q --aspect factuality $1 "${@:2}" > "$0"' "$T/out" "$db" "$@"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "${lines[0]}" = "alarm-select: $want" ] || { echo "${lines[0]}"; return 1; }
        if [ -n "$db" ]; then
            [ "$(sqlite3 "$T/d.db" "SELECT status FROM runs")" = failed ]
            for t in combined_rewards rewards selection_reports selection_aspects; do
                [ "$(sqlite3 "$T/d.db" "SELECT count(*) FROM $t")" -eq 0 ]
            done
        fi
    done
}

@test "a repeated id is refused with both places, with or without a store, on both readers" {
    # the fast reader: qA#0 again as line 4, in qA's group
    sed -n 1,3p "$IN" > "$T/dup.jsonl"
    sed -n 1p "$IN" >> "$T/dup.jsonl"
    dup_case "$T/dup.jsonl:4: duplicate id \"qA#0\" (first at $T/dup.jsonl:1)" "$T/dup.jsonl"
    # the general reader (an escape in the id sends the record there)
    sed -n 1p "$IN" | jq -c '.prompt = "\u00e9"' > "$T/g.jsonl"
    sed -n 1p "$IN" | jq -c '.prompt = "\u00e9"' >> "$T/g.jsonl"
    dup_case "$T/g.jsonl:2: duplicate id \"qA#0\" (first at $T/g.jsonl:1)" "$T/g.jsonl"
    # across files
    sed -n 1p "$IN" > "$T/a.jsonl"
    sed -n 1p "$IN" > "$T/b.jsonl"
    dup_case "$T/b.jsonl:1: duplicate id \"qA#0\" (first at $T/a.jsonl:1)" "$T/a.jsonl" "$T/b.jsonl"
}

@test "token ids that are not integers in range are refused, naming the field" {
    for v in '-1.5:the number is not a token id (0 to 2147483647): -1.5' \
             '1e20:the number is not a token id (0 to 2147483647): 1e+20' \
             '"3":the value is not a token id (0 to 2147483647)'; do
        for f in prompt_tokens response_tokens; do
            sed -n 1p "$IN" > "$T/t.jsonl"
            sed -n 2p "$IN" | jq -c ".$f = [7, ${v%%:*}]" >> "$T/t.jsonl"
            run bash -c 'alarm-select -q --aspect factuality "$1" > /dev/null' _ "$T/t.jsonl"
            [ "$status" -eq 1 ]
            [ "$output" = "alarm-select: $T/t.jsonl:2: field \"$f\"[1]: ${v#*:}" ] || { echo "$output"; return 1; }
        done
    done
}

# Peak resident memory (KB) of alarm-select on $1 with the options after it.
peak_kb() {
    local in=$1; shift
    /usr/bin/time -f %M -o "$T/mem" alarm-select -q --aspect factuality "$@" "$in" > "$T/mem.out"
    cat "$T/mem"
}

@test "one ~80 MB record: with --db at most 1.5 times the memory of without (long)" {
    [ "${ALARM_LONG_TESTS:-0}" = 1 ] || skip "set ALARM_LONG_TESTS=1 (generates an 80 MB record)"
    [ -x /usr/bin/time ] || skip "needs /usr/bin/time"
    cc -O2 -o "$T/gen" "$BATS_TEST_DIRNAME/bench/gen-scored.c"
    "$T/gen" 1 2000000 1 7 > "$T/big.jsonl"   # 2M tokens: one 79 MB line
    without=$(peak_kb "$T/big.jsonl")
    cp "$T/mem.out" "$T/without.out"
    with=$(peak_kb "$T/big.jsonl" --db "$T/big.db")
    echo "peak RSS: $without KB without --db, $with KB with --db"
    cmp "$T/without.out" "$T/mem.out"
    [ "$(sqlite3 "$T/big.db" "SELECT count(*) FROM combined_rewards")" -eq 1 ]
    [ $((with * 2)) -le $((without * 3)) ]
}
