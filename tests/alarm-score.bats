#!/usr/bin/env bats
# alarm-score on tests/fixtures/score/rollouts.jsonl: rewards added and
# merged, every other byte kept, the rule values, the store rows (rewards,
# scorers), --skip-failed, normalisation, batches committed, and every
# bad-input and usage case. Worked out by hand:
#   q1#0: 12 tokens, 10 words; q1#1: 10 tokens, 7 words, bigrams
#   "it formed" x3, "formed it" x2, "formed again": 6, distinct 3 -> 0.5;
#   q2#0: 6 tokens, 5 words, has rewards {holistic, fk: 99}.

setup() {
    IN="$BATS_TEST_DIRNAME/fixtures/score/rollouts.jsonl"
    T="$BATS_TEST_TMPDIR"
    unset ALARM_DB
}

q() { sqlite3 "$T/s.db" "$1"; }

@test "records without rewards are their input line with rewards spliced in, byte for byte" {
    alarm-score --scorer len=length "$IN" > "$T/out"
    [ "$(wc -l < "$T/out")" -eq 3 ]
    a=$(sed -n 1p "$IN"); b=$(sed -n 1p "$T/out")
    [ "${b:0:${#a}-1}" = "${a%\}}" ]
    [ "${b:${#a}-1}" = ',"rewards":{"len":{"value":12,"raw":12}}}' ]
}

@test "existing aspects are kept and a scorer named like one replaces it" {
    alarm-score --scorer fk=readability --scorer w=length,unit=words "$IN" > "$T/out"
    sed -n 3p "$T/out" | jq -e '.rewards | (keys == ["fk", "holistic", "w"]) and .holistic.value == 0.7
        and .fk.value != 99 and .w.value == 5'
    # every input field is kept
    jq -e -s 'map(keys - ["rewards"])' "$T/out" > "$T/k1"
    jq -e -s 'map(keys - ["rewards"])' "$IN" > "$T/k2"
    cmp "$T/k1" "$T/k2"
}

@test "the rules' values" {
    alarm-score --scorer rep=repetition,n=2 --scorer w=length,unit=words --scorer t=length \
        --scorer fk=readability "$IN" > "$T/out"
    [ "$(jq -c '[.rewards.rep.value, .rewards.w.value, .rewards.t.value]' "$T/out" | tr -d '\n')" = \
      "[0,10,12][0.5,7,10][0,5,6]" ]
    # textstat 0.7.3: 5 words, 1 sentence, 20 syllables: 0.39*5 + 11.8*4 - 15.59 = 33.56
    [ "$(sed -n 3p "$T/out" | jq .rewards.fk.value)" = "33.6" ]
}

@test "the store: a run row, a rewards row per record and aspect, a scorers row per scorer" {
    alarm-score --db "$T/s.db" --scorer w=length,unit=words --normalize w=auto \
        --scorer t=length --lower-better t "$IN" > /dev/null
    [ "$(q "SELECT tool || ' ' || status FROM runs")" = "alarm-score ok" ]
    [ "$(q "SELECT count(*) FROM rewards")" -eq 6 ]
    [ "$(q "SELECT raw FROM rewards WHERE rollout_id = 'q1#1' AND aspect = 'w'")" = "7.0" ]
    [ "$(q "SELECT prompt_id FROM rewards WHERE rollout_id = 'q2#0' AND aspect = 't'")" = q2 ]
    [ "$(q "SELECT name, kind, lower_better, normalize, scored, failed FROM scorers ORDER BY name")" = \
      "t|length|1||3|0
w|length|0|auto|3|0" ]
    # mean of 10, 7, 5 and its population std
    q "SELECT mean, std FROM scorers WHERE name = 'w'" | awk -F'|' '{ exit !(($1 - 22/3)^2 < 1e-18 && ($2 - 2.0548046676563256)^2 < 1e-18) }'
    [ "$(q "SELECT count(*) FROM rewards WHERE aspect = 'w' AND abs(value - (raw - 22.0/3) / 2.0548046676563256) > 1e-12")" -eq 0 ]
}

@test "given normalisation: value = (raw - MEAN) / STD" {
    alarm-score --scorer t=length --normalize t=10,4 "$IN" > "$T/out"
    [ "$(jq -c '[.rewards.t.value, .rewards.t.raw]' "$T/out" | tr -d '\n')" = "[0.5,12][0,10][-1,6]" ]
}

@test "a failing scorer fails the run naming the record and the scorer; --skip-failed leaves the aspect out" {
    printf '%s\n' '{"id":"n#0","response":"no tokens here"}' | cat "$IN" - > "$T/in.jsonl"
    run alarm-score --db "$T/s.db" --scorer t=length --scorer w=length,unit=words "$T/in.jsonl"
    [ "$status" -eq 1 ]
    [ "$output" = "alarm-score: $T/in.jsonl:4: scorer t (length) failed: field \"response_tokens\": missing (or use unit=words)" ]
    [ "$(q "SELECT status FROM runs")" = failed ]
    [ "$(q "SELECT count(*) FROM rewards")" -eq 0 ]   # one batch, rolled back
    rm "$T/s.db"
    alarm-score --db "$T/s.db" --skip-failed --scorer t=length --scorer w=length,unit=words \
        "$T/in.jsonl" > "$T/out" 2> "$T/err"
    [ "$(cat "$T/err")" = "alarm-score: scorer t failed for 1 of 4 records (written without it)" ]
    [ "$(sed -n 4p "$T/out" | jq -c .rewards)" = '{"w":{"value":3,"raw":3}}' ]
    [ "$(q "SELECT scored || ' ' || failed FROM scorers WHERE name = 't'")" = "3 1" ]
    [ "$(q "SELECT count(*) FROM rewards WHERE rollout_id = 'n#0'")" -eq 1 ]
}

@test "batches are committed as they go: a failure keeps the batches before it" {
    printf '%s\n' '{"id":"n#0","response":"no tokens here"}' | cat "$IN" - > "$T/in.jsonl"
    run alarm-score --db "$T/s.db" --batch 2 --scorer t=length "$T/in.jsonl"
    [ "$status" -eq 1 ]
    [ "$(q "SELECT group_concat(rollout_id) FROM rewards")" = "q1#0,q1#1" ]
    [ "$(q "SELECT status FROM runs")" = failed ]
}

@test "bad records: FILE:LINE and the field, exit 1" {
    check() { # $1 = the record, $2 = the message after FILE:LINE
        printf '%s\n' '{"id":"a","response":"ok"}' "$1" > "$T/bad.jsonl"
        run alarm-score --db "$T/s.db" --scorer w=length,unit=words "$T/bad.jsonl"
        [ "$status" -eq 1 ] || { echo "status $status for $1"; return 1; }
        [[ "$output" == "alarm-score: $T/bad.jsonl:2: $2"* ]] || { echo "got: $output"; return 1; }
    }
    check '{"id":"b"}' 'field "response": missing'
    check '{"id":"b","response":3}' 'field "response": expected a string'
    check '{"id":"b","response":"x","rewards":[]}' 'field "rewards": expected an object'
    check '{"response":"x"}' 'field "id": missing'
    check '{"id":"b","response":"x"' 'malformed JSON'
}

@test "usage errors: exit 2 naming the option" {
    u() { run alarm-score "$@" "$IN"; [ "$status" -eq 2 ] || { echo "status $status: $*"; return 1; }
          [[ "$output" == *"$MSG"* ]] || { echo "got: $output"; return 1; }; }
    MSG="no --scorer given" u
    MSG="unknown kind 'nope'" u --scorer x=nope
    MSG="no option 'colour'" u --scorer x=length,colour=red
    MSG="unit=bytes" u --scorer x=length,unit=bytes
    MSG="two scorers are named x" u --scorer x=length --scorer x=repetition
    MSG="--normalize 'y=auto'" u --scorer x=length --normalize y=auto
    MSG="--normalize STD" u --scorer x=length --normalize x=1,0
    MSG="--lower-better y" u --scorer x=length --lower-better y
    MSG="--batch" u --scorer x=length --batch 0
    MSG="/nonexistent.dic" u --scorer x=readability,dict=/nonexistent.dic
}

@test "overlap: a span per sentence at its last byte, in the output and the store; language" {
    alarm-score --db "$T/s.db" --skip-failed --scorer facts=overlap --scorer en=language \
        --scorer de=language,lang=de "$IN" > "$T/out" 2> "$T/err"
    [ "$(sed -n 1p "$T/out" | jq -c .rewards.facts)" = \
      '{"value":1,"raw":1,"spans":[{"end":24,"value":0.5},{"end":45,"value":0.5}]}' ]
    # no passage to support them
    [ "$(sed -n 2p "$T/out" | jq -c '[.rewards.facts.value, (.rewards.facts.spans | map(.value))]')" = \
      '[0,[-0.5,-0.5,-0.5]]' ]
    # q2#0 has no meta.passages: skipped, and counted
    [ "$(sed -n 3p "$T/out" | jq -c '.rewards | keys')" = '["de","en","fk","holistic"]' ]
    grep -q 'scorer facts failed for 1 of 3 records' "$T/err"
    [ "$(q "SELECT spans FROM rewards WHERE rollout_id = 'q1#0' AND aspect = 'facts'")" = \
      '[{"end":24,"value":0.5},{"end":45,"value":0.5}]' ]
    [ "$(sed -n 1p "$T/out" | jq '[.rewards.en.value > 0, .rewards.de.value] | tostring')" = '"[true,0]"' ]
    run alarm-score --scorer facts=overlap "$IN"
    [ "$status" -eq 1 ]
    [[ "$output" == *"rollouts.jsonl:3: scorer facts (overlap) failed: field \"meta.passages\": missing" ]]
}

@test "alarm-select reads what alarm-score writes: spans placed on tokens, aspects combined" {
    head -n 2 "$IN" |
        alarm-score -q --scorer holistic=length,unit=words --normalize holistic=auto \
            --scorer facts=overlap |
        alarm-select -q --aspect facts --threshold -10 > "$T/out"
    [ "$(wc -l < "$T/out")" -eq 2 ]
    # q1#0: facts spans end at bytes 24 and 45 -> tokens 5 ("." [23,24]) and 11 ("." [44,45])
    sed -n 1p "$T/out" | jq -e '.reward.dense | (.[5] == 0.5) and (.[0] == 0) and length == 12'
}

@test "--shard I/N: the shards' union is the unsharded output, a prompt's samples in one shard" {
    ROOT="$BATS_TEST_DIRNAME/.."
    alarm-rollout --model "$ROOT/tests/fixtures/tfm/lm_gpt2_tok" -n 3 --max-new-tokens 8 \
        "$ROOT/data/rollout-prompts.jsonl" > "$T/r"
    S=(--scorer len=length --scorer rep=repetition --normalize len=10,2)
    alarm-score "${S[@]}" "$T/r" | sort > "$T/all"
    [ "$(wc -l < "$T/all")" -eq 18 ]
    for n in 2 3; do
        for i in $(seq 0 $((n - 1))); do
            alarm-score "${S[@]}" --shard "$i/$n" "$T/r" > "$T/shard$i"
            # whole prompts only: 3 samples each
            jq -r .prompt_id "$T/shard$i" | sort | uniq -c | awk '$1 != 3 { exit 1 }'
        done
        cat "$T"/shard? | sort > "$T/union"
        cmp "$T/all" "$T/union"
        [ "$(jq -r .prompt_id "$T/shard1" | sort -u | tr '\n' ' ')" != "$(jq -r .prompt_id "$T/shard0" | sort -u | tr '\n' ' ')" ]
        rm "$T"/shard?
    done
    # the same prompts as alarm-rollout's shard
    alarm-rollout --model "$ROOT/tests/fixtures/tfm/lm_gpt2_tok" --max-new-tokens 2 --shard 1/2 \
        "$ROOT/data/rollout-prompts.jsonl" | jq -r .prompt_id > "$T/rp"
    alarm-score "${S[@]}" --shard 1/2 "$T/r" | jq -r .prompt_id | uniq > "$T/sp"
    cmp "$T/rp" "$T/sp"
    # a record without prompt_id goes by its id
    printf '{"id":"p4","response":"a b"}\n' > "$T/one"
    [ "$(alarm-score --scorer len=length,unit=words --shard 2/3 "$T/one" | wc -l)" -eq 1 ]
    [ "$(alarm-score --scorer len=length,unit=words --shard 0/3 "$T/one" | wc -l)" -eq 0 ]
}

@test "--shard: a record with neither prompt_id nor id fails naming it; bad shards are usage errors" {
    printf '{"id":"a","response":"x"}\n{"response":"y"}\n' > "$T/bad"
    run alarm-score --scorer len=length --shard 0/2 "$T/bad"
    [ "$status" -eq 1 ]
    [[ "$output" == *"$T/bad:2"*'"id"'* ]]
    for s in 2/2 -1/2 1 a/b 0/0 "0/2x"; do
        run alarm-score --scorer len=length --shard "$s" "$IN"
        [ "$status" -eq 2 ] || { echo "$s: $status"; return 1; }
        [[ "$output" == *"--shard: expected I/N"* ]]
    done
    run alarm-score --scorer len=length --normalize len=auto --shard 0/2 "$IN"
    [ "$status" -eq 2 ]
    [[ "$output" == *"--normalize NAME=auto with --shard"* ]]
}

@test "a repeated id is refused with both places, with or without a store" {
    { cat "$IN"; sed -n 2p "$IN"; } > "$T/dup.jsonl"
    id=$(sed -n 2p "$IN" | jq -r .id)
    for db in "" "--db $T/d.db"; do
        run bash -c 'alarm-score --scorer len=length $1 "$2" > /dev/null' _ "$db" "$T/dup.jsonl"
        [ "$status" -eq 1 ]
        [ "$output" = "alarm-score: $T/dup.jsonl:4: duplicate id \"$id\" (first at $T/dup.jsonl:2)" ] || { echo "$output"; return 1; }
    done
    [ "$(sqlite3 "$T/d.db" "SELECT status FROM runs")" = failed ]
}
