#!/usr/bin/env bash
# The embedded demo: what the toolkit can run today on data it makes itself.
# Scored records -> alarm-select in every reward mode, recorded in one store
# and audited with sqlite3; best-of-4 per mode judged by reward with
# alarm-judge, with three sentences computed from the store to close. Every
# table names each mode's run id. Outputs go to runs/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export PATH="$PWD/$BUILD/bin:$PATH"
out=${ALARM_DEMO_OUT:-runs/demo}
rm -rf "$out"
mkdir -p "$out"
db="$out/alarm.db"

echo "== synthetic scored records (64 prompts x 4 responses)"
awk -v PROMPTS=64 -v SAMPLES=4 -v SEED=7 -f pipelines/synth-scored.awk > "$out/scored.jsonl"
wc -l < "$out/scored.jsonl"

echo "== automatic selection: the aspect most consistent with the holistic reward"
alarm-select --select auto:1 --lower-better length --report "$out/selection.json" \
    --db "$db" "$out/scored.jsonl" > "$out/combined-auto.jsonl"
auto_run=$(sqlite3 "$db" "SELECT max(id) FROM runs")

# One run per mode; run[MODE] is its run id in the store.
declare -A run
for mode in holistic aspect sum hierarchical; do
    alarm-select --quiet --mode "$mode" --aspect factuality --db "$db" \
        "$out/scored.jsonl" > "$out/combined-$mode.jsonl"
    run[$mode]=$(sqlite3 "$db" "SELECT max(id) FROM runs")
done

echo "== what the store holds"
sqlite3 -box "$db" "SELECT id, tool, status, replace(argv, '$out/', '') AS argv FROM runs"
sqlite3 -box "$db" "SELECT run_id AS run, aspect, agree, disagree, aspect_ties,
                           round(inconsistency, 4) AS inconsistency, selected
                    FROM selection_aspects WHERE run_id = $auto_run ORDER BY inconsistency"
sqlite3 -box "$db" "SELECT run_id AS run, mode, aspects, count(*) AS records,
                           round(avg(gate), 3) AS gate_open, round(avg(total), 3) AS mean_total
                    FROM combined_rewards GROUP BY run_id ORDER BY run_id"

echo "== best-of-4 under each reward mode, judged by reward"
# Each mode picks, per prompt, the response its combined reward ranks first;
# the judges then ask which mode's picks are more factual, and which the
# holistic reward prefers: hierarchical should gain factuality over holistic
# while keeping more of the holistic reward than aspect does. A system is
# named by its mode and the run that combined its rewards.
declare -A sys
systems=()
for mode in hierarchical holistic aspect; do
    jq -s -c 'group_by(.prompt_id) | map(max_by(.reward.total)) | .[]' \
        "$out/combined-$mode.jsonl" > "$out/best-$mode.jsonl"
    sys[$mode]="$mode (run ${run[$mode]})"
    systems+=("${sys[$mode]}=$out/best-$mode.jsonl")
done
alarm-judge --by-reward factuality --by-reward holistic --db "$db" --out "$out/judgments.jsonl" \
    "${systems[@]}" | tee "$out/win-rates.md"
judge_run=$(sqlite3 "$db" "SELECT max(id) FROM runs WHERE tool = 'alarm-judge'")

# What the judgments say, from the store. record JUDGE X Y: "wins losses ties"
# of system X against Y; mean_holistic X: the mean holistic value of X's picks.
record() {
    sqlite3 -separator ' ' "$db" "
        SELECT sum((a = '$2' AND verdict = 'a') OR (b = '$2' AND verdict = 'b')),
               sum((a = '$3' AND verdict = 'a') OR (b = '$3' AND verdict = 'b')),
               sum(verdict = 'tie')
        FROM judgments WHERE run_id = $judge_run AND judge = '$1'
             AND ((a = '$2' AND b = '$3') OR (a = '$3' AND b = '$2'))"
}
mean_holistic() {
    sqlite3 "$db" "
        SELECT printf('%.3f', avg(v)) FROM (
            SELECT prompt_id, value_a AS v FROM judgments
                WHERE run_id = $judge_run AND judge = 'reward:holistic' AND a = '$1'
            UNION SELECT prompt_id, value_b FROM judgments
                WHERE run_id = $judge_run AND judge = 'reward:holistic' AND b = '$1')"
}
win_rate() { awk -v w="$1" -v l="$2" 'BEGIN { printf "%.1f", w + l ? 100 * w / (w + l) : 50 }'; }

H=${sys[hierarchical]} O=${sys[holistic]} A=${sys[aspect]}
read -r fw fl ft <<<"$(record reward:factuality "$H" "$O")"
read -r hw hl _ <<<"$(record reward:holistic "$H" "$O")"
read -r aw al _ <<<"$(record reward:holistic "$H" "$A")"
mh=$(mean_holistic "$H") mo=$(mean_holistic "$O") ma=$(mean_holistic "$A")
if [ "$fw" -gt "$fl" ]; then verdict="more factual than"
elif [ "$fw" -lt "$fl" ]; then verdict="less factual than"
else verdict="as factual as"; fi
if awk -v h="$mh" -v a="$ma" 'BEGIN { exit !(h > a) }'; then kept="kept more"; else kept="did not keep more"; fi

echo "== conclusion"
echo "On factuality, the picks of $H were $verdict those of $O:" \
     "$fw wins, $fl losses and $ft ties, a win rate of $(win_rate "$fw" "$fl")%."
echo "On the holistic reward, $H won $hw and lost $hl against $O," \
     "and won $aw and lost $al against $A."
echo "So $H $kept of the holistic reward than $A did:" \
     "a mean holistic value of $mh, against $mo for $O and $ma for $A."

echo "demo outputs in $out/"
