#!/usr/bin/env bats
# Every tool of one pipeline records into the same store at once: each holds
# the write lock only while it writes a finished batch (alarm-formats(5)
# section 8), so none waits on another, and every row of every stage lands.
# With the lock held across reads, rollout | select would deadlock until the
# busy timeout (30 s) failed one of them.

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    T="$BATS_TEST_TMPDIR"
    M="$ROOT/tests/fixtures/tfm/lm_gpt2_tok"
    unset ALARM_DB
}

@test "rollout | score | select | ppo, all with --db on one store, record every row" {
    S="$T/one.db"
    start=$(date +%s)
    alarm-rollout -q --model "$M" -n 4 --no-eos --max-new-tokens 8 --batch 2 --db "$S" \
            "$ROOT/data/rollout-prompts.jsonl" |
        alarm-score -q --scorer len=length --scorer rep=repetition --batch 3 --db "$S" |
        jq -c '.rewards.holistic = {value: (.rewards.len.value / 8)}' |
        alarm-select -q --mode hierarchical --aspect rep --lower-better rep --db "$S" |
        tee "$T/combined" |
        alarm-ppo -q --policy "$M" --ref "$M" --out "$T/ppo" --mini-batch 4 --db "$S" > "$T/stats"
    # far below the busy timeout a wait on a lock would take
    [ $(( $(date +%s) - start )) -lt 25 ]
    n=$(( $(wc -l < "$ROOT/data/rollout-prompts.jsonl") * 4 ))
    [ "$(sqlite3 "$S" "SELECT group_concat(tool || ':' || status, ' ') FROM runs ORDER BY id")" = \
      "alarm-rollout:ok alarm-score:ok alarm-select:ok alarm-ppo:ok" ] ||
      [ "$(sqlite3 "$S" "SELECT count(*) FROM runs WHERE status = 'ok'")" -eq 4 ]
    [ "$(sqlite3 "$S" "SELECT count(*) FROM rollouts")" -eq "$n" ]
    # score: len and rep per record; select: every aspect of every record again
    [ "$(sqlite3 "$S" "SELECT count(*) FROM rewards r JOIN runs u ON u.id = r.run_id
                       WHERE u.tool = 'alarm-score'")" -eq $(( 2 * n )) ]
    [ "$(sqlite3 "$S" "SELECT count(*) FROM rewards r JOIN runs u ON u.id = r.run_id
                       WHERE u.tool = 'alarm-select'")" -eq $(( 3 * n )) ]
    [ "$(sqlite3 "$S" "SELECT count(*) FROM combined_rewards")" -eq "$n" ]
    [ "$(sqlite3 "$S" "SELECT count(*) FROM ppo_steps")" -eq 1 ]
    [ "$(sqlite3 "$S" "SELECT count(*) FROM scorers")" -eq 2 ]
    # the stored values are the streamed ones
    diff <(jq -r '[.id, .reward.total] | @tsv' "$T/combined" | sort) \
         <(sqlite3 -json "$S" "SELECT rollout_id, total FROM combined_rewards" |
             jq -r '.[] | [.rollout_id, .total] | @tsv' | sort)
}

@test "a failed run drops its unfinished batch and keeps the ones committed" {
    S="$T/f.db"
    { head -3 "$ROOT/tests/fixtures/score/rollouts.jsonl"; echo '{"id": "bad"}'; } > "$T/in"
    run alarm-score -q --scorer len=length,unit=words --batch 2 --db "$S" "$T/in"
    [ "$status" -eq 1 ]
    [ "$(sqlite3 "$S" "SELECT status FROM runs")" = failed ]
    # the first batch (2 records) was committed; the second (1 + the bad one) was not
    [ "$(sqlite3 "$S" "SELECT count(*) FROM rewards")" -eq 2 ]
}
