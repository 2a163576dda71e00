#!/usr/bin/env bats
# The README's main job: the demo pipeline runs end to end, leaves an
# auditable store behind and closes with sentences the store bears out.

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

@test "the demo's tables name each mode's run, and it ends with sentences the store bears out" {
    run "$ROOT/pipelines/demo.sh"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    db="$ALARM_DEMO_OUT/alarm.db"
    # The combined-rewards table has a run column: the hierarchical mode's two
    # runs (automatic and manual selection) are told apart.
    [[ "$output" == *"│ run │     mode     │"* ]]
    [ "$(grep -cE '^│ [0-9]+ +│ hierarchical │' <<<"$output")" -eq 2 ]
    # Each judged system is named with the run that combined its rewards.
    declare -A sys
    for m in hierarchical holistic aspect; do
        id=$(sqlite3 "$db" "SELECT max(id) FROM runs WHERE argv LIKE '%\"--mode\",\"$m\"%'")
        sys[$m]="$m (run $id)"
        [[ "$output" == *"| ${sys[$m]} |"* ]] || { echo "no system '${sys[$m]}'"; return 1; }
    done
    H=${sys[hierarchical]} O=${sys[holistic]} A=${sys[aspect]}
    judge=$(sqlite3 "$db" "SELECT max(id) FROM runs WHERE tool = 'alarm-judge'")
    count() { # count JUDGE X Y VERDICT-FOR-X: pairs of X and Y where X won (a), lost (b) or tied
        sqlite3 "$db" "SELECT count(*) FROM judgments WHERE run_id = $judge AND judge = '$1' AND
            CASE '$4' WHEN 'tie' THEN verdict = 'tie' AND ((a = '$2' AND b = '$3') OR (a = '$3' AND b = '$2'))
                      WHEN 'a' THEN (a = '$2' AND b = '$3' AND verdict = 'a') OR (a = '$3' AND b = '$2' AND verdict = 'b')
                      ELSE (a = '$2' AND b = '$3' AND verdict = 'b') OR (a = '$3' AND b = '$2' AND verdict = 'a') END"
    }
    mean() {
        jq -s -r 'map(.rewards.holistic.value) | add / length * 1000 | round / 1000' \
            "$ALARM_DEMO_OUT/best-$1.jsonl"
    }
    conclusion=$(sed -n '/^== conclusion$/,/^demo outputs/p' <<<"$output" | sed '1d;$d')
    [ "$(wc -l <<<"$conclusion")" -eq 3 ] || { echo "$conclusion"; return 1; }
    s1=$(sed -n 1p <<<"$conclusion") s2=$(sed -n 2p <<<"$conclusion") s3=$(sed -n 3p <<<"$conclusion")

    fw=$(count reward:factuality "$H" "$O" a) fl=$(count reward:factuality "$H" "$O" b)
    ft=$(count reward:factuality "$H" "$O" tie)
    [ "$fw" -gt "$fl" ]   # the data are made so that hierarchical gains factuality
    rate=$(awk -v w="$fw" -v l="$fl" 'BEGIN { printf "%.1f", 100 * w / (w + l) }')
    [ "$s1" = "On factuality, the picks of $H were more factual than those of $O: $fw wins, $fl losses and $ft ties, a win rate of $rate%." ] ||
        { echo "got: $s1"; return 1; }

    want="On the holistic reward, $H won $(count reward:holistic "$H" "$O" a) and lost $(count reward:holistic "$H" "$O" b) against $O,"
    want+=" and won $(count reward:holistic "$H" "$A" a) and lost $(count reward:holistic "$H" "$A" b) against $A."
    [ "$s2" = "$want" ] || { echo "got:  $s2"; echo "want: $want"; return 1; }

    mh=$(mean hierarchical) mo=$(mean holistic) ma=$(mean aspect)
    kept=$(awk -v h="$mh" -v a="$ma" 'BEGIN { print (h > a ? "kept more" : "did not keep more") }')
    [[ "$s3" =~ ^"So $H $kept of the holistic reward than $A did: a mean holistic value of "([0-9.]+)", against "([0-9.]+)" for $O and "([0-9.]+)" for $A."$ ]] ||
        { echo "got: $s3"; return 1; }
    for p in "${BASH_REMATCH[1]} $mh" "${BASH_REMATCH[2]} $mo" "${BASH_REMATCH[3]} $ma"; do
        awk -v g="${p% *}" -v w="${p#* }" 'BEGIN { exit !(g - w < 0.0006 && w - g < 0.0006) }' ||
            { echo "mean $p differs"; return 1; }
    done
}
