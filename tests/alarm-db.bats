#!/usr/bin/env bats
# alarm-db: shard stores made by the real tools (alarm-rollout and
# alarm-score --shard, each shard its own store) merged answer the README's
# questions, and hold the same rows, as the one store of the unsharded run;
# merging twice adds nothing; stores of another version, of another program,
# corrupt or breaking alarm's invariants are refused or reported, naming the
# file; a failed merge leaves OUT as it was.

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    PATH="${ALARM_TEST_BUILD:-$ROOT/build}/bin:$PATH"
    M="$ROOT/tests/fixtures/tfm/lm_gpt2_tok"
    T="$BATS_TEST_TMPDIR"
    unset ALARM_DB
    # the README's second question finds PPO iterations by their prompt files' names
    cp "$ROOT/data/rollout-prompts.jsonl" "$T/ppo-1.jsonl"
}

SCORE=(--scorer holistic=length,unit=words --normalize holistic=0,4 --scorer rep=repetition
       --scorer len=length)

# stage DB [--shard I/N]: rollouts and scores of ppo-1.jsonl into DB, the scored records out.
stage() {
    local db=$1; shift
    alarm-rollout -q --model "$M" -n 2 --max-new-tokens 8 "$@" --db "$db" "$T/ppo-1.jsonl" |
        alarm-score -q "${SCORE[@]}" --db "$db"
}

select_into() { sort | alarm-select -q --select auto --aspect rep --aspect len --db "$1" > /dev/null; }

# What a store holds, run ids aside (and how many runs: one per shard): rows by tool and key.
contents() {
    sqlite3 "$1" "
      SELECT u.tool, p.id, p.prompt FROM prompts p JOIN runs u ON u.id = p.run_id ORDER BY 2;
      SELECT u.tool, o.id, o.response, o.response_tokens, o.logprobs FROM rollouts o
        JOIN runs u ON u.id = o.run_id ORDER BY 2;
      SELECT u.tool, w.rollout_id, w.aspect, w.value, w.raw, w.spans FROM rewards w
        JOIN runs u ON u.id = w.run_id ORDER BY 1, 2, 3;
      SELECT c.rollout_id, c.holistic, c.gate, c.dense, c.total FROM combined_rewards c ORDER BY 1;
      SELECT DISTINCT tool, status FROM runs ORDER BY 1, 2;"
}

make_stores() {
    stage "$T/one.db" > "$T/all.jsonl"
    select_into "$T/one.db" < "$T/all.jsonl"
    for i in 0 1; do stage "$T/s$i.db" --shard "$i/2" > "$T/s$i.jsonl"; done
    [ -s "$T/s0.jsonl" ] && [ -s "$T/s1.jsonl" ]
}

@test "merged shard stores answer the README's questions as the unsharded run's store" {
    make_stores
    run alarm-db merge "$T/m.db" "$T/s0.db" "$T/s1.db"
    [ "$status" -eq 0 ]
    [[ "$output" == *"m.db: 4 runs added, 0 already there"* ]]
    cat "$T/s0.jsonl" "$T/s1.jsonl" | select_into "$T/m.db"
    # every run of the merged store has its own id: 4 shard runs (numbered in the
    # order they started: a pipeline's two start at once), then the selection
    [ "$(sqlite3 "$T/m.db" "SELECT group_concat(id, ' ') FROM (SELECT id FROM runs ORDER BY id)")" = "1 2 3 4 5" ]
    [ "$(sqlite3 "$T/m.db" "SELECT group_concat(tool, ' ') FROM (SELECT tool FROM runs ORDER BY tool)")" = \
      "alarm-rollout alarm-rollout alarm-score alarm-score alarm-select" ]
    [ "$(sqlite3 "$T/m.db" "SELECT tool FROM runs WHERE id = 5")" = alarm-select ]
    [ "$(sqlite3 "$T/m.db" "SELECT count(DISTINCT run_id) FROM rollouts")" -eq 2 ]
    source "$ROOT/tests/lib/readme.bash"
    for db in one m; do
        readme_store_queries "$T/$db.db" > "$T/q-$db.sh"
        bash -e "$T/q-$db.sh" > "$T/a-$db" 2>&1 || { cat "$T/a-$db"; return 1; }
    done
    [ "$(grep -c '^sqlite3 ' "$T/q-m.sh")" -eq 3 ]
    grep -q 'gate_open' "$T/a-m" && grep -q 'rep' "$T/a-m" && grep -q 'combined total' "$T/a-m"
    diff "$T/a-one" "$T/a-m"
    diff <(contents "$T/one.db") <(contents "$T/m.db")
    [ "$(contents "$T/m.db" | grep -c '^alarm-rollout|p[0-9]#')" -eq 12 ]
    run alarm-db check "$T/m.db"
    [ "$status" -eq 0 ] && [ "$output" = "alarm-db: $T/m.db: ok" ]
}

@test "merging twice, or a store given twice, adds nothing; the order of inputs does not matter" {
    make_stores
    alarm-db -q merge "$T/m.db" "$T/s1.db" "$T/s0.db" "$T/s1.db"
    sqlite3 "$T/m.db" .dump > "$T/d1"
    run alarm-db merge "$T/m.db" "$T/s0.db" "$T/s1.db"
    [ "$status" -eq 0 ]
    [[ "$output" == *"0 runs added, 4 already there; 0 rows added"* ]]
    sqlite3 "$T/m.db" .dump | cmp - "$T/d1"
    # a merged store merges into another as its shards do
    alarm-db -q merge "$T/m2.db" "$T/s0.db" "$T/s1.db"
    alarm-db -q merge "$T/m3.db" "$T/m.db"
    diff <(contents "$T/m2.db") <(contents "$T/m3.db")
    diff <(contents "$T/m.db") <(contents "$T/m2.db")
    # run ids follow the start times, whatever the order of the inputs
    [ "$(sqlite3 "$T/m2.db" "SELECT group_concat(id, ' ') FROM runs ORDER BY started_at")" = "1 2 3 4" ]
}

@test "a store of another schema version, or not an alarm store, is refused naming it; OUT stays as it was" {
    make_stores
    alarm-db -q merge "$T/m.db" "$T/s0.db"
    sqlite3 "$T/m.db" .dump > "$T/before"
    cp "$T/s1.db" "$T/old.db"
    sqlite3 "$T/old.db" "PRAGMA user_version = 3"
    run alarm-db merge "$T/m.db" "$T/s1.db" "$T/old.db"
    [ "$status" -eq 1 ]
    [[ "$output" == *"alarm-db: $T/old.db: store has schema version 3, not this alarm's $(sqlite3 "$T/s1.db" "PRAGMA user_version")"* ]]
    sqlite3 "$T/m.db" .dump | cmp - "$T/before"
    run alarm-db merge "$T/new.db" "$T/s1.db" "$T/old.db"
    [ "$status" -eq 1 ]
    [ ! -e "$T/new.db" ]
    sqlite3 "$T/other.db" "CREATE TABLE t (x)"
    run alarm-db merge "$T/m.db" "$T/other.db"
    [ "$status" -eq 1 ]
    [[ "$output" == *"$T/other.db: not an alarm store"* ]]
    echo "not sqlite at all, just text that is long enough to be a header" > "$T/text.db"
    run alarm-db merge "$T/m.db" "$T/text.db"
    [ "$status" -eq 1 ]
    [[ "$output" == *"$T/text.db: "*"not a database"* ]]
    run alarm-db merge "$T/m.db" "$T/missing.db"
    [ "$status" -eq 1 ]
    [[ "$output" == *"$T/missing.db: No such file"* ]]
    [ ! -e "$T/missing.db" ]
    sqlite3 "$T/m.db" .dump | cmp - "$T/before"
    run alarm-db check "$T/old.db"
    [ "$status" -eq 1 ]
    [[ "$output" == *"$T/old.db: store has schema version 3"* ]]
}

@test "check: a corrupt copy's pages, orphan rows and bad runs rows, each listed, exit 1" {
    stage "$T/s.db" > /dev/null
    run alarm-db check "$T/s.db"
    [ "$status" -eq 0 ]
    root=$(sqlite3 "$T/s.db" "SELECT rootpage FROM sqlite_master WHERE name = 'rollouts'")
    ps=$(sqlite3 "$T/s.db" "PRAGMA page_size")
    cp "$T/s.db" "$T/c.db"
    head -c $((ps - 16)) /dev/zero | tr '\0' '\377' |
        dd of="$T/c.db" bs=1 seek=$(( (root - 1) * ps + 8 )) conv=notrunc status=none
    run alarm-db check "$T/c.db"
    [ "$status" -eq 1 ]
    [[ "$output" == *"$T/c.db: integrity: On tree page $root "* ]]
    [[ "$output" == *"alarm-db: $T/c.db: "*" problems"* ]]
    cp "$T/s.db" "$T/o.db"
    sqlite3 "$T/o.db" "INSERT INTO rewards (run_id, rollout_id, aspect, value) VALUES (9, 'x', 'a', 1);
                       INSERT INTO combined_rewards VALUES (8, 'x', 'x', 'sum', 1, NULL, '[]', '[1]', 1);
                       PRAGMA ignore_check_constraints = ON;
                       UPDATE runs SET status = 'done' WHERE id = 1;
                       UPDATE runs SET ended_at = NULL WHERE id = 2"
    run alarm-db check "$T/o.db"
    [ "$status" -eq 1 ]
    [[ "$output" == *"$T/o.db: rewards: 1 row whose run_id names no run (9)"* ]]
    [[ "$output" == *"$T/o.db: combined_rewards: 1 row whose run_id names no run (8)"* ]]
    [[ "$output" == *"$T/o.db: runs: run 1 has status 'done'"* ]]
    [[ "$output" == *"$T/o.db: runs: run 2 is ok but has no ended_at"* ]]
    # such a store is not merged
    run alarm-db merge "$T/m.db" "$T/o.db"
    [ "$status" -eq 1 ]
    [[ "$output" == *"$T/o.db: 2 rows refer to runs the store does not hold"* ]]
}

@test "usage errors exit 2" {
    stage "$T/s.db" > /dev/null
    for args in "" "merge" "merge $T/m.db" "check" "frobnicate $T/s.db" "merge $T/s.db $T/s.db"; do
        run alarm-db $args
        [ "$status" -eq 2 ] || { echo "$args: $status"; return 1; }
        [[ "$output" == *"usage:"* ]]
    done
}
