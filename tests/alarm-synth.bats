#!/usr/bin/env bats
# alarm-synth as a tool: records are the seed's (record k the same whatever
# --count), the gold answer scores 1 on every aspect, faults lower the aspect
# they break, spans agree with the factuality reward, score speaks one line a
# record, and bad input or usage fails with the file, line and field.

setup() {
    T="$BATS_TEST_TMPDIR"
    unset ALARM_DB
}

@test "records are a function of the seed; record k does not depend on --count" {
    alarm-synth prompts -n 5 > "$T/a"
    alarm-synth prompts -n 5 > "$T/b"
    cmp "$T/a" "$T/b"
    alarm-synth prompts -n 2 > "$T/c"
    [ "$(head -2 "$T/a")" = "$(cat "$T/c")" ]
    alarm-synth prompts -n 5 --seed 7 > "$T/d"
    if cmp -s "$T/a" "$T/d"; then false; fi
    # test prompts are other prompts, with ids of their own
    alarm-synth prompts -n 5 --split test > "$T/e"
    [ "$(jq -r .id "$T/e" | head -1)" = test-00000 ]
    [ -z "$(comm -12 <(jq .prompt "$T/a" | sort) <(jq .prompt "$T/e" | sort))" ]
}

@test "the gold answer (the reference) scores 1 on every aspect" {
    alarm-synth prompts -n 30 | jq -c '. + {response: .reference}' |
        alarm-synth rewards > "$T/r"
    [ "$(wc -l < "$T/r")" -eq 30 ]
    [ "$(jq -c '[.rewards[].value] | unique' "$T/r" | sort -u)" = "[1]" ]
}

@test "faults lower the aspect they break, and only demos with faults score below 1" {
    alarm-synth demos -n 40 --p-wrong 1 --p-missing 0 --p-irrelevant 0 --p-repeat 0 \
        --p-unsupported 0 | alarm-synth rewards > "$T/wrong"
    # every fact sentence gets another entity's value: none fully factual or complete
    jq -e -s 'all(.[]; .rewards.factuality.value < 1 and .rewards.completeness.value < 1)' "$T/wrong"
    alarm-synth demos -n 40 --p-wrong 0 --p-missing 0 --p-irrelevant 1 --p-repeat 0 \
        --p-unsupported 0 | alarm-synth rewards > "$T/irrel"
    jq -e -s 'all(.[]; .rewards.relevance.value < 1)' "$T/irrel"
    alarm-synth demos -n 40 --p-wrong 0 --p-missing 0 --p-irrelevant 0 --p-repeat 0 \
        --p-unsupported 0 | alarm-synth rewards --aspect quality > "$T/clean"
    jq -e -s 'all(.[]; .rewards.quality.value == 1)' "$T/clean"
}

@test "quality is 0.35 factuality + 0.25 relevance + 0.4 completeness" {
    alarm-synth demos -n 50 | alarm-synth rewards > "$T/r"
    jq -e -s 'all(.[]; .rewards as $r | (0.35 * $r.factuality.value + 0.25 * $r.relevance.value
        + 0.4 * $r.completeness.value - $r.quality.value | fabs) < 1e-9)' "$T/r"
    # the demos are not all perfect, nor all the same
    [ "$(jq -r .rewards.quality.value "$T/r" | sort -u | wc -l)" -gt 5 ]
}

@test "spans labels agree with the factuality reward's spans" {
    alarm-synth spans -n 20 > "$T/s"
    jq -e -s 'all(.[]; (.spans | length) > 0 and all(.spans[]; .label == "good" or .label == "bad"))' "$T/s"
    alarm-synth rewards --aspect factuality < "$T/s" |
        jq -c '[.spans[] | [.end, (if .label == "good" then 0.5 else -0.5 end)]]
               == [.rewards.factuality.spans[] | [.end, .value]]' | sort -u > "$T/eq"
    [ "$(cat "$T/eq")" = true ]
}

@test "score writes one line a record, the aspect's value, equal to rewards'" {
    alarm-synth demos -n 10 > "$T/d"
    alarm-synth score "$T/d" > "$T/s"
    [ "$(wc -l < "$T/s")" -eq 10 ]
    diff <(jq .value "$T/s") <(alarm-synth rewards --aspect quality "$T/d" | jq .rewards.quality.value)
    alarm-synth score --aspect relevance "$T/d" | jq -e 'has("spans")' > /dev/null
}

@test "prefs: chosen and rejected of one prompt, the chosen mostly the better" {
    alarm-synth prefs -n 60 > "$T/p"
    [ "$(wc -l < "$T/p")" -eq 60 ]
    jq -e -s 'all(.[]; .chosen != .rejected)' "$T/p"
    jq -c '. + {response: .chosen}' "$T/p" | alarm-synth score | jq .value > "$T/c"
    jq -c '. + {response: .rejected}' "$T/p" | alarm-synth score | jq .value > "$T/r"
    better=$(paste "$T/c" "$T/r" | awk '$1 > $2' | wc -l)
    [ "$better" -ge 35 ]
}

@test "bad records name the file, line and field; usage errors exit 2" {
    alarm-synth demos -n 2 > "$T/d"
    echo '{"response": "x ."}' >> "$T/d"
    run alarm-synth score "$T/d"
    [ "$status" -eq 1 ]
    [[ "$output" == *"d:3: field \"meta\": missing"* ]]
    run alarm-synth
    [ "$status" -eq 2 ] && [[ "$output" == *"missing mode"* ]]
    run alarm-synth sing
    [ "$status" -eq 2 ] && [[ "$output" == *"unknown mode 'sing'"* ]]
    run alarm-synth prompts --count -1
    [ "$status" -eq 2 ] && [[ "$output" == *"--count"* ]]
    run alarm-synth spans --aspect quality
    [ "$status" -eq 2 ] && [[ "$output" == *"factuality or relevance"* ]]
    run alarm-synth prompts "$T/d"
    [ "$status" -eq 2 ]
}
