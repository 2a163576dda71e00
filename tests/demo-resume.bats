#!/usr/bin/env bats
# make demo is resumable (long: make test-long): killed -9 in the middle of
# the PPO stage, the same command again redoes only what was not finished:
# every iteration's PPO step is in the store once, and the store and results
# are those of an uninterrupted run's shape.

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    T="$BATS_TEST_TMPDIR"
    unset OPENAI_API_KEY ALARM_DB
}

@test "killed in the PPO stage, make demo again finishes without repeating work (long)" {
    [ "${ALARM_LONG_TESTS:-0}" = 1 ] || skip "set ALARM_LONG_TESTS=1 (runs the quick demo twice)"
    cd "$ROOT"
    O="$T/demo"
    mk() { make -s -f pipelines/demo.mk DEMO=quick OUT="$O" BUILD="${ALARM_TEST_BUILD:-build}" "$@"; }
    setsid bash -c "$(declare -f mk); O='$O'; mk" > "$T/first.out" 2>&1 &
    pid=$!
    # wait for the first PPO checkpoint, then kill the whole make
    for _ in $(seq 600); do
        ls "$O"/ppo/*/it1/config.json > /dev/null 2>&1 && break
        sleep 0.5
    done
    ls "$O"/ppo/*/it1/config.json
    kill -9 -- -"$pid"
    wait "$pid" || true
    sft_runs=$(sqlite3 "$O/alarm.db" "SELECT count(*) FROM runs WHERE tool = 'alarm-sft'")
    mk > "$T/second.out" 2>&1 || { cat "$T/second.out"; return 1; }
    # nothing before the kill was redone; every PPO step is there once
    [ "$(sqlite3 "$O/alarm.db" "SELECT count(*) FROM runs WHERE tool = 'alarm-sft'")" -eq "$sft_runs" ]
    [ "$(sqlite3 "$O/alarm.db" "SELECT count(*) FROM ppo_steps")" -eq 16 ]
    [ "$(sqlite3 "$O/alarm.db" "SELECT count(*) FROM runs WHERE tool = 'alarm-ppo' AND status = 'ok'")" -eq 16 ]
    jq -e '[.judges[].matrix[][] | .n] | all(. == 2)' "$O/results.json"
    mk -q "$O/results.md"
}
