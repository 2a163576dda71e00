#!/usr/bin/env bats
# The README's main job: the demo pipeline runs end to end and leaves an
# auditable store behind.

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    export BUILD="${ALARM_TEST_BUILD:-$ROOT/build}"
    export ALARM_DEMO_OUT="$BATS_TEST_TMPDIR/demo"
}

@test "the demo runs and records every run as ok" {
    run "$ROOT/pipelines/demo.sh"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    db="$ALARM_DEMO_OUT/alarm.db"
    [ "$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE status = 'ok'")" -eq 6 ]
    [ "$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE status != 'ok'")" -eq 0 ]
    # 256 combined rows per select run, and the automatic run picked one aspect.
    [ "$(sqlite3 "$db" "SELECT count(DISTINCT run_id) FROM combined_rewards
                        GROUP BY run_id HAVING count(*) != 256")" = "" ]
    [ "$(sqlite3 "$db" "SELECT count(*) FROM selection_aspects WHERE run_id = 1 AND selected")" -eq 1 ]
    # Every line the judge wrote is in the store too.
    [ "$(sqlite3 "$db" "SELECT count(*) FROM judgments")" -eq "$(wc -l < "$ALARM_DEMO_OUT/judgments.jsonl")" ]
    [[ "$output" == *"reward:factuality"* ]]
}
