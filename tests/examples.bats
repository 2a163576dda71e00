#!/usr/bin/env bats
# Every example in the manual (the .EX ... .EE blocks of a page's EXAMPLES
# section) and every command example of README.md runs as written. The
# examples are taken from the pages and the README here, never copied, so an
# edited example is tested as it reads. Each runs in a scratch directory
# that looks like the top of the source tree (tests/, pipelines/ and data/
# link to the repository's) and holds the files the examples name, made
# first; the judge's LLM example talks to tests/servers/chat_server.py.

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    T="$BATS_TEST_TMPDIR"
    W="$T/work"
    mkdir -p "$W"
    for d in tests pipelines data; do ln -s "$ROOT/$d" "$W/$d"; done
    SERVER_PID=
    unset OPENAI_API_KEY ALARM_DB
}

teardown() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
    true
}

# The examples of man page $1 as a shell script: the .EX/.EE blocks of its
# EXAMPLES section, troff escapes undone.
man_examples() {
    awk '/^\.SH/ { ex = ($0 ~ /^\.SH "?EXAMPLES"?$/); on = 0; next }
         ex && /^\.EE/ { on = 0 } ex && on { print } ex && /^\.EX/ { on = 1 }' "$1" |
        sed -e 's/\\-/-/g' -e 's/\\e/\\/g' -e "s/\\\\(aq/'/g" -e 's/\\(dq/"/g'
}

# README.md's ```sh blocks: the ones that only run make go to $1.make (one
# make command line a line, comments dropped), the others to $1.sh.
readme_examples() {
    awk -v sh="$1.sh" -v mk="$1.make" '
        /^```sh$/ { on = 1; n = 0; only_make = 1; next }
        on && /^```$/ { on = 0
            for (i = 1; i <= n; i++) print b[i] > (only_make ? mk : sh)
            next }
        on { b[++n] = $0; if ($0 !~ /^[[:space:]]*(#|$)/ && $0 !~ /^make /) only_make = 0 }' \
        "$ROOT/README.md"
    touch "$1.sh" "$1.make"
    sed -i 's/[[:space:]]*#.*$//; /^$/d' "$1.make"
}

# run_examples SCRIPT: runs it in $W; its stdout in $W/examples.out.
run_examples() {
    (cd "$W" && bash -e -o pipefail "$1" > examples.out 2> examples.err) ||
        { echo "examples failed:"; cat "$1"; cat "$W/examples.err"; return 1; }
}

synth_scored() { awk -v PROMPTS="$1" -f "$ROOT/pipelines/synth-scored.awk"; }

@test "every page with EXAMPLES has its examples run here" {
    tested="alarm-judge.1 alarm-model.1 alarm-ppo.1 alarm-rm.1 alarm-rollout.1 alarm-score.1 alarm-select.1 alarm-sft.1 alarm-synth.1 alarm.7"
    for m in "$ROOT"/man/*.[1-9]; do
        n=$(basename "$m")
        if [ -n "$(man_examples "$m")" ]; then
            [[ " $tested " == *" $n "* ]] || { echo "$n has examples no test runs"; return 1; }
        else
            [[ " $tested " != *" $n "* ]] || { echo "$n has no examples to run"; return 1; }
        fi
    done
}

@test "alarm-select(1)'s examples run" {
    man_examples "$ROOT/man/alarm-select.1" > "$T/ex.sh"
    [ "$(grep -c alarm-select "$T/ex.sh")" -ge 2 ]
    cp "$ROOT/tests/fixtures/select/scored.jsonl" "$W/scored.jsonl"
    run_examples "$T/ex.sh"
    [ "$(sqlite3 "$W/runs.db" "SELECT count(*) FROM runs WHERE status = 'ok'")" -eq 1 ]
    jq -e '.aspects.factuality.selected' "$W/selection.json"
    grep -q '^factuality|' "$W/examples.out"
    [ "$(wc -l < "$W/combined.jsonl")" -eq 6 ]
}

@test "alarm-score(1)'s examples run" {
    man_examples "$ROOT/man/alarm-score.1" > "$T/ex.sh"
    [ "$(grep -c 'alarm-score ' "$T/ex.sh")" -ge 2 ]
    run_examples "$T/ex.sh"
    # two scored records, six rewards rows, then the coprocess's four (alarm-synth's values)
    [ "$(wc -l < "$W/examples.out")" -eq 12 ]
    [ "$(sed -n '9,12p' "$W/examples.out" | jq -c '.[0]')" = \
      "$(alarm-synth demos -n 4 | alarm-synth rewards --aspect factuality | jq -c .rewards.factuality.value)" ]
    sed -n 2p "$W/examples.out" | jq -e '.rewards.rep.value > 0 and .rewards.words.value == 8'
    [ "$(sed -n 3p "$W/examples.out")" = 'q1#0|facts|1.0|[{"end":24,"value":0.5},{"end":45,"value":0.5}]' ]
    [ "$(sed -n 4p "$W/examples.out")" = "q1#0|fk|-1.9|" ]
    [ "$(sed -n 6p "$W/examples.out")" = 'q1#1|facts|0.5|[{"end":10,"value":0.5},{"end":38,"value":-0.5}]' ]
    [ "$(wc -l < "$W/scored.jsonl")" -eq 2 ]
    [ "$(sqlite3 "$W/runs.db" "SELECT lower_better FROM scorers WHERE name = 'fk'")" -eq 1 ]
}

@test "alarm-rollout(1)'s examples run" {
    man_examples "$ROOT/man/alarm-rollout.1" > "$T/ex.sh"
    [ "$(grep -c 'alarm-rollout ' "$T/ex.sh")" -ge 2 ]
    run_examples "$T/ex.sh"
    n=$(wc -l < "$ROOT/data/rollout-prompts.jsonl")
    [ "$(wc -l < "$W/rollouts.jsonl")" -eq $((4 * n)) ]
    jq -e -s 'all(.[]; .id == "\(.prompt_id)#\(.sample)")' "$W/rollouts.jsonl"
    [ "$(cat "$W"/shard0.jsonl "$W"/shard1.jsonl | wc -l)" -eq "$n" ]
}

@test "alarm-ppo(1)'s examples run" {
    man_examples "$ROOT/man/alarm-ppo.1" > "$T/ex.sh"
    [ "$(grep -c 'alarm-ppo ' "$T/ex.sh")" -ge 1 ]
    run_examples "$T/ex.sh"
    [ "$(wc -l < "$W/stats.jsonl")" -eq 3 ]
    [ "$(jq -s 'map(.[0])' -c "$W/examples.out" | tr -d '\n')" = "[1,2,3]" ]
    jq -e '.step == 3' "$W/runs/it3/ppo_state.json"
}

@test "alarm-sft(1)'s examples run" {
    man_examples "$ROOT/man/alarm-sft.1" > "$T/ex.sh"
    [ "$(grep -c 'alarm-sft ' "$T/ex.sh")" -ge 3 ]
    run_examples "$T/ex.sh"
    # the copy task learnt: most greedy answers are the copy
    right=$(jq -r 'select(.response == (.prompt | ltrimstr("copy ") | rtrimstr(":") | " " + .)) | .id' \
        "$W/answers.jsonl" | wc -l)
    [ "$right" -ge 70 ]
    [ "$(wc -l < "$W/examples.out")" -eq 9 ]   # step 0 and eight epochs
    jq -e '.step == 30' "$W/runs/ft/trainer_state.json"
}

@test "alarm-rm(1)'s examples run" {
    man_examples "$ROOT/man/alarm-rm.1" > "$T/ex.sh"
    [ "$(grep -c 'alarm-rm ' "$T/ex.sh")" -ge 2 ]
    run_examples "$T/ex.sh"
    # both models learnt: held-out accuracy 1 or nearly after two epochs
    cat "$W/examples.out"
    [ "$(wc -l < "$W/examples.out")" -eq 6 ]   # step 0 and two epochs, of each run
    [ "$(awk -F'|' '$2 == 76 && $3 >= 0.9' "$W/examples.out" | wc -l)" -eq 2 ]
    jq -e '.kind == "seq" and .score.std > 0' "$W/runs/rm/rm.json"
    jq -e '.id2label == {"0": "good", "1": "bad"}' "$W/runs/spans/config.json"
    # alarm-score with both: chosen above rejected, a span per response (one sentence each)
    [ "$(wc -l < "$W/scored.jsonl")" -eq 400 ]
    [ "$(jq .rewards.holistic.raw "$W/scored.jsonl" | paste - - | awk '$1 > $2' | wc -l)" -ge 180 ]
    jq -e '.rewards.letters.spans | length == 1' "$W/scored.jsonl" | sort -u | grep -qx true
}

@test "alarm-model(1)'s examples run" {
    man_examples "$ROOT/man/alarm-model.1" > "$T/ex.sh"
    [ "$(grep -c 'alarm-model ' "$T/ex.sh")" -ge 4 ]
    run_examples "$T/ex.sh"
    out="$W/examples.out"
    # info, tokenize with BOS, logprobs, tokenize with the trained vocabulary.
    [ "$(wc -l < "$out")" -eq 4 ]
    [ "$(sed -n 1p "$out" | jq -r .family)" = llama ]
    [ "$(sed -n 2p "$out" | jq -c '.offsets[0]')" = "[0,0]" ]
    sed -n 3p "$out" | jq -e '(.logprobs | length) == (.response_tokens | length) and all(.logprobs[]; . < 0)'
    [ "$(jq '[.model.vocab[]] + [.added_tokens[].id] | unique | length' "$W/runs/tok/tokenizer.json")" -eq 300 ]
    [ -f "$W/runs/tok/tokenizer_config.json" ]
    sed -n 4p "$out" | jq -e '.ids | length > 0'
}

@test "alarm-judge(1)'s examples run (the LLM one against the scripted chat server)" {
    man_examples "$ROOT/man/alarm-judge.1" > "$T/ex.sh"
    port=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$T/ex.sh" | head -n 1 | sed 's/.*://')
    [ -n "$port" ]
    # The systems the examples name: the judge fixtures (the server prefers
    # the response with the higher q=N), and the synthetic records' first and
    # second response to each prompt.
    cp "$ROOT/tests/fixtures/judge/hier.jsonl" "$ROOT/tests/fixtures/judge/hol.jsonl" "$W/"
    cp "$ROOT/tests/fixtures/judge/asp.jsonl" "$W/sum.jsonl"
    synth_scored 16 > "$T/scored.jsonl"
    jq -c 'select(.sample == 0)' "$T/scored.jsonl" > "$W/a.jsonl"
    jq -c 'select(.sample == 1)' "$T/scored.jsonl" > "$W/b.jsonl"
    : > "$T/port"
    /usr/bin/python3 "$ROOT/tests/servers/chat_server.py" --port "$port" --log "$T/log" \
        --max-seconds 60 > "$T/port" 2> "$T/server.err" 3>&- &
    SERVER_PID=$!
    for _ in $(seq 100); do [ -s "$T/port" ] || ! kill -0 "$SERVER_PID" 2>/dev/null && break; sleep 0.05; done
    [ -s "$T/port" ] || skip "port $port (the one the example names) is in use here"
    run_examples "$T/ex.sh"
    # 3 pairs x 6 prompts x 2 orders; p5 is identical for hier and hol, so 32 requests.
    [ "$(wc -l < "$W/judgments.jsonl")" -eq 36 ]
    [ "$(wc -l < "$T/log")" -eq 32 ]
    [ "$(sqlite3 "$W/judge.db" "SELECT count(*) FROM judge_cache")" -eq 32 ]
    grep -q '| hier |' "$W/examples.out"
    # The split verdicts the query lists are the pairs the server ties on.
    [ "$(grep -c '^p[0-9]|' "$W/examples.out")" -eq "$(sqlite3 "$W/judge.db" \
        "SELECT count(*) FROM (SELECT 1 FROM judgments GROUP BY judge, prompt_id, a, b
                               HAVING count(DISTINCT verdict) > 1)")" ]
    tail -n 1 "$W/examples.out" | jq -e '.judges["reward:factuality"].matrix.a.b.win_rate and
                                         .judges["reward:-length"].matrix.a.b.win_rate'
    # Run again, the same command sends nothing.
    run_examples "$T/ex.sh"
    [ "$(wc -l < "$T/log")" -eq 32 ]
}

@test "alarm(7)'s examples run against a store of three selection runs and a failed one" {
    man_examples "$ROOT/man/alarm.7" > "$T/ex.sh"
    [ "$(grep -c '^sqlite3 ' "$T/ex.sh")" -ge 4 ]
    synth_scored 32 > "$W/scored.jsonl"
    db="$W/runs.db"
    alarm-select -q --mode holistic --db "$db" "$W/scored.jsonl" > /dev/null
    alarm-select -q --mode sum --aspect factuality --db "$db" "$W/scored.jsonl" > /dev/null
    alarm-select -q --select auto --db "$db" "$W/scored.jsonl" > /dev/null
    if alarm-select -q --aspect factuality --db "$db" "$ROOT/tests/fixtures/select/bad-nan.jsonl" 2> /dev/null; then false; fi
    run_examples "$T/ex.sh"
    out="$W/examples.out"
    grep -q '│ 4  │ alarm-select │' "$out"                    # the failed run, in a box
    grep -q '^3|' "$out"                                      # run 3's gate
    grep -q '^factuality|0' "$out"                            # run 3's aspects, least inconsistent first
    ntok=$(jq -r 'select(.id == "q-00017#3") | .response_tokens | length' "$W/scored.jsonl")
    [ "$(grep -cE '^[0-9]+\|-?[0-9.e-]+$' "$out")" -eq "$ntok" ]  # one row per token
}

@test "README.md's command examples run" {
    readme_examples "$T/readme"
    [ "$(grep -c 'alarm-select' "$T/readme.sh")" -ge 2 ]
    run_examples "$T/readme.sh"
    [ "$(wc -l < "$W/combined.jsonl")" -eq 256 ]
    jq -e '[.aspects[] | select(.selected)] | length == 1' "$W/sel.json"
    grep -q '│ factuality ' "$W/examples.out"
    [ "$(tail -n 3 "$W/examples.out" | jq -r .mode | sort -u)" = hierarchical ]
    # The blocks that only run make (installing packages, the test suite
    # itself) are checked, not run: each names targets the Makefile has.
    [ -s "$T/readme.make" ]
    while read -r line; do
        (cd "$ROOT" && ${line/make/make -q} > /dev/null 2>&1; [ $? -le 1 ]) ||
            { echo "README: '$line' is not a make command of this Makefile"; return 1; }
    done < "$T/readme.make"
}

@test "alarm-synth(1)'s examples run" {
    man_examples "$ROOT/man/alarm-synth.1" > "$T/ex.sh"
    [ "$(grep -c 'alarm-synth ' "$T/ex.sh")" -ge 3 ]
    run_examples "$T/ex.sh"
    [ "$(wc -l < "$W/train.jsonl")" -eq 200 ] && [ "$(wc -l < "$W/test.jsonl")" -eq 50 ]
    [ "$(wc -l < "$W/examples.out")" -eq 20 ]
    jq -e -s 'all(.[]; .quality >= 0 and .quality <= 1 and .factuality >= 0)' "$W/examples.out"
}
