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

# id, name, number: the number to 6 decimals (jq and sqlite3 print doubles differently)
fixed6() { awk -F'\t' '{ printf "%s\t%s\t%.6f\n", $1, $2, $3 }'; }

@test "end to end: rollouts -> alarm-score with rm:, spans:, two rules and cmd: -> alarm-select hierarchical, every reward row in the store" {
    S="$T/e2e.db"
    # two small learned scorers (alarm-rm(1)'s example, positions for prompt and response)
    awk -v n=200 -v seed=1 -f "$ROOT/pipelines/copy-task.awk" >"$T/demo.jsonl"
    alarm-model train-tokenizer -q --vocab-size 257 --out "$T/tok.json" "$T/demo.jsonl"
    jq '.n_positions = 128' "$ROOT/data/copy-gpt2.json" >"$T/cfg.json"
    for k in seq spans; do
        awk -v kind=$k -v n=300 -v seed=1 -f "$ROOT/pipelines/copy-rm.awk" >"$T/$k.jsonl"
        alarm-rm --kind $k --init "$T/cfg.json" --tokenizer "$T/tok.json" --out "$T/$k" \
            --epochs 1 --lr 3e-3 --batch 16 --max-len 128 -q "$T/$k.jsonl"
    done
    alarm-rollout -q --model "$M" -n 2 --max-new-tokens 8 --seed 3 --db "$S" \
            "$ROOT/data/rollout-prompts.jsonl" > "$T/rollouts"
    n=$(wc -l < "$T/rollouts")
    [ "$n" -eq $(( 2 * $(wc -l < "$ROOT/data/rollout-prompts.jsonl") )) ]
    alarm-score -q --db "$S" --scorer "holistic=rm:$T/seq,template={prompt}{response}" \
            --scorer "fact=spans:$T/spans" --scorer len=length,unit=words --scorer rep=repetition \
            --scorer 'bytes=cmd:jq --unbuffered -c "{value: (.response | utf8bytelength)}"' \
            --lower-better rep "$T/rollouts" > "$T/scored"
    alarm-select -q --mode hierarchical --aspect fact --aspect rep --lower-better rep \
            --threshold -100 --db "$S" "$T/scored" > "$T/combined"
    [ "$(wc -l < "$T/combined")" -eq "$n" ]
    [ "$(sqlite3 "$S" "SELECT group_concat(tool || ':' || status, ' ') FROM runs ORDER BY id")" = \
      "alarm-rollout:ok alarm-score:ok alarm-select:ok" ]
    # every scorer's row for every rollout, as streamed, each rollout's id a rollout of the store
    [ "$(sqlite3 "$S" "SELECT group_concat(kind || ':' || scored || ':' || failed, ' ')
                       FROM (SELECT * FROM scorers ORDER BY name)")" = \
      "cmd:$n:0 spans:$n:0 rm:$n:0 length:$n:0 repetition:$n:0" ]
    diff <(jq -r '.id as $i | .rewards | to_entries[] | [$i, .key, .value.value] | @tsv' "$T/scored" |
             fixed6 | sort) \
         <(sqlite3 -separator $'\t' "$S" "SELECT r.rollout_id, r.aspect, r.value FROM rewards r
              JOIN runs u ON u.id = r.run_id WHERE u.tool = 'alarm-score'" | fixed6 | sort)
    [ "$(sqlite3 "$S" "SELECT count(*) FROM rewards r JOIN rollouts o ON o.id = r.rollout_id
                       JOIN runs u ON u.id = r.run_id WHERE u.tool = 'alarm-score'")" -eq $(( 5 * n )) ]
    # spans: at least one span per non-empty response, stored with the row
    [ "$(sqlite3 "$S" "SELECT count(*) FROM rewards WHERE aspect = 'fact' AND spans IS NULL
                       AND rollout_id IN (SELECT id FROM rollouts WHERE response <> '')")" -eq 0 ]
    # the combined reward of every rollout, the totals the stream carries
    diff <(jq -r '[.id, "total", .reward.total] | @tsv' "$T/combined" | fixed6 | sort) \
         <(sqlite3 -separator $'\t' "$S" "SELECT rollout_id, 'total', total FROM combined_rewards" |
             fixed6 | sort)
    # the gate open for all (a z-scored holistic reward is above -100), both aspects counted:
    # each total is 5 h + the fact spans' values + rep, on the stream and in the store
    jq -e '.reward.gate and .reward.aspects == ["fact", "rep"]' "$T/combined" | sort -u | grep -qx true
    jq -e '(.reward.total - (5 * .rewards.holistic.value + ([.rewards.fact.spans[]?.value] | add // 0)
            + .rewards.rep.value)) | fabs < 1e-9' "$T/combined" | sort -u | grep -qx true
    [ "$(sqlite3 "$S" "SELECT count(*) FROM combined_rewards WHERE gate = 1 AND mode = 'hierarchical'")" -eq "$n" ]
}
