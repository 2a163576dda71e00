#!/usr/bin/env bats
# The README's main job at DEMO=quick sizes (pipelines/demo-quick.mk): the
# whole experiment runs, and its store and results are complete and agree
# with each other (every mode, every seed, every judge: the LLM judge too,
# through alarm-judge's real path to tests/servers/chat_server.py, as with
# OPENAI_API_KEY and OPENAI_BASE_URL set). The numbers of a quick run mean
# nothing, so nothing here asserts the scientific outcome.

setup_file() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    export DEMO_OUT="$BATS_FILE_TMPDIR/demo"
    unset ALARM_DB
    F="$BATS_FILE_TMPDIR"
    : > "$F/port"
    /usr/bin/python3 "$ROOT/tests/servers/chat_server.py" --log "$F/llm.log" --max-seconds 900 \
        > "$F/port" 3>&- &
    echo $! > "$F/server.pid"
    for _ in $(seq 100); do [ -s "$F/port" ] && break; sleep 0.05; done
    export OPENAI_API_KEY=sk-demo-test-key OPENAI_BASE_URL="http://127.0.0.1:$(cat "$F/port")/v1"
    (cd "$ROOT" && make -s -j2 -f pipelines/demo.mk DEMO=quick OUT="$DEMO_OUT" \
        BUILD="${ALARM_TEST_BUILD:-build}") > "$F/demo.out" 2>&1 ||
        { cat "$F/demo.out" >&3; return 1; }
}

teardown_file() {
    kill "$(cat "$BATS_FILE_TMPDIR/server.pid")" 2>/dev/null || true
}

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    O="$DEMO_OUT"
    DB="$O/alarm.db"
    MODES="holistic aspect sum hierarchical"
    SEEDS="1 2"
    ITERS=2 PROMPTS=8 TEST=16
    q() { sqlite3 "$DB" "$1"; }
}

@test "it prints the results table and where the plots and the store are" {
    out="$BATS_FILE_TMPDIR/demo.out"
    grep -q '^## Verdict' "$out"
    grep -q '^| hierarchical |' "$out"
    grep -q "plots: $O/\*.png, store: $DB" "$out"
    cmp <(sed -n '/^# ALaRM/,/^Plots:/p' "$out") <(sed -n '/^# ALaRM/,/^Plots:/p' "$O/results.md")
    for p in reward-kl winrate; do
        [ "$(head -c 4 "$O/$p.png" | tail -c 3)" = PNG ]
    done
}

@test "every run in the store finished ok, and each stage ran as often as it should" {
    [ "$(q "SELECT count(*) FROM runs WHERE status != 'ok'")" -eq 0 ]
    chains=$(( 4 * 2 ))
    [ "$(q "SELECT count(*) FROM runs WHERE tool = 'alarm-sft'")" -eq 1 ]
    [ "$(q "SELECT count(*) FROM runs WHERE tool = 'alarm-rm'")" -eq 3 ]
    [ "$(q "SELECT count(*) FROM runs WHERE tool = 'alarm-ppo'")" -eq $(( chains * ITERS )) ]
    # selection (greedy, sampled), each iteration, and the evaluations
    [ "$(q "SELECT count(*) FROM runs WHERE tool = 'alarm-rollout'")" -eq \
      $(( 2 + chains * ITERS + 1 + chains )) ]
    [ "$(q "SELECT count(*) FROM runs WHERE tool = 'alarm-judge'")" -eq 2 ]
    [ "$(q "SELECT count(*) FROM ppo_steps")" -eq $(( chains * ITERS )) ]
    # every PPO step trained on one combined row per rollout of its iteration
    [ "$(q "SELECT count(*) FROM combined_rewards c JOIN runs r ON r.id = c.run_id
            WHERE r.argv NOT LIKE '%--select%'")" -eq $(( chains * ITERS * PROMPTS )) ]
    [ "$(q "SELECT count(DISTINCT mode) FROM combined_rewards")" -eq 4 ]
    # one selection run (--select auto); every combining run reports consistency too
    [ "$(q "SELECT count(*) FROM selection_reports s JOIN runs r ON r.id = s.run_id
            WHERE r.argv LIKE '%\"--select\"%'")" -eq 1 ]
    [ "$(q "SELECT count(*) FROM selection_reports")" -eq $(( 1 + chains * ITERS )) ]
}

@test "the learned rewards of every rollout are in the store, by aspect" {
    for a in holistic factuality relevance length repetition; do
        n=$(q "SELECT count(*) FROM rewards w JOIN runs r ON r.id = w.run_id
               WHERE r.tool = 'alarm-score' AND w.aspect = '$a'")
        # selection (2 x 16 answers) and every iteration's rollouts
        [ "$n" -ge $(( 2 * 16 + 8 * ITERS * PROMPTS )) ] || { echo "$a: $n"; return 1; }
    done
    # span models: spans at sentence ends (none for an empty answer)
    q "SELECT spans FROM rewards WHERE aspect = 'factuality' AND spans != '[]' LIMIT 1" |
        jq -e 'length > 0 and all(.[]; has("end") and has("value"))'
}

@test "results.json covers every system, seed and judge, and agrees with the judges' files" {
    R="$O/results.json"
    jq -e '.systems == ["sft", "holistic", "aspect", "sum", "hierarchical"] and .seeds == [1, 2]' "$R"
    jq -e '.judges | keys == ["gpt-4o-mini", "reward:factuality", "reward:holistic", "reward:quality"]' "$R"
    # every ordered pair of systems has a win rate from each seed
    jq -e '[.judges[].matrix[][] | .n] | length == 4 * 20 and all(. == 2)' "$R"
    for s in $SEEDS; do
        jq -e --argjson s "$s" '.prompts == 16 and (.systems | length) == 5' "$O/judge/s$s.json"
    done
    # the mean over seeds is the mean of the seeds' files
    want=$(jq -s '[.[].judges["reward:quality"].matrix.hierarchical.holistic.win_rate] | add / length' \
        "$O/judge/s1.json" "$O/judge/s2.json")
    jq -e --argjson w "$want" '.judges["reward:quality"].matrix.hierarchical.holistic.mean == $w' "$R"
    # the per-system metrics: every system has the gold quality and the holistic score
    jq -e '[.metrics[] | .quality.mean, .holistic.mean] | all(. != null)' "$R"
    jq -e '.verdict.judge == "reward:quality" and (.verdict.against | keys | length) == 3' "$R"
    # each stage's time
    jq -e '.times | has("sft") and has("rm") and has("ppo-hierarchical") and has("judge")' "$R"
}

@test "the held-out answers are scored by the world's checkers for every system" {
    for f in sft $(for m in $MODES; do for s in $SEEDS; do echo "$m-s$s"; done; done); do
        [ "$(wc -l < "$O/eval/$f.jsonl")" -eq "$TEST" ]
        jq -e -s 'all(.[]; .rewards.quality.value >= 0 and .rewards.holistic.raw != null)' \
            "$O/eval/$f.jsonl" > /dev/null
    done
}

@test "the LLM judge was asked through the chat endpoint, and its key is nowhere in the store" {
    [ "$(wc -l < "$BATS_FILE_TMPDIR/llm.log")" -gt 0 ]
    [ "$(q "SELECT count(*) FROM judgments WHERE judge = 'gpt-4o-mini'")" -gt 0 ]
    if sqlite3 "$DB" .dump | grep -q sk-demo-test-key; then false; fi
}

@test "a finished demo is up to date: make has nothing left to do" {
    cd "$ROOT"
    make -q -f pipelines/demo.mk DEMO=quick OUT="$O" "$O/results.md" "$O/plots.ok"
}

@test "the README's questions to the store run as written and answer from the demo's store" {
    source "$ROOT/tests/lib/readme.bash"
    readme_store_queries "$DB" > "$BATS_TEST_TMPDIR/q.sh"
    [ "$(grep -c '^sqlite3 ' "$BATS_TEST_TMPDIR/q.sh")" -eq 3 ]
    run bash -e "$BATS_TEST_TMPDIR/q.sh"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    # the selection's candidates, the two iterations' gate, one response's rewards and total
    [[ "$output" == *"factuality"* && "$output" == *"relevance"* ]]
    [[ "$output" == *"iteration"* && "$output" == *"gate_open"* ]]
    [[ "$output" == *"combined total"* || "$(q "SELECT count(*) FROM combined_rewards WHERE gate = 1")" -eq 0 ]]
}
