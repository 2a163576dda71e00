#!/usr/bin/env bash
# The embedded demo: what the toolkit can run today on data it makes itself.
# Scored records -> alarm-select in every reward mode, recorded in one store
# and audited with sqlite3; best-of-4 per mode judged by reward with
# alarm-judge. Outputs go to runs/demo/.
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

for mode in holistic aspect sum hierarchical; do
    alarm-select --quiet --mode "$mode" --aspect factuality --db "$db" \
        "$out/scored.jsonl" > "$out/combined-$mode.jsonl"
done

echo "== what the store holds"
sqlite3 -box "$db" "SELECT id, tool, status, argv FROM runs"
sqlite3 -box "$db" "SELECT aspect, agree, disagree, aspect_ties,
                           round(inconsistency, 4) AS inconsistency, selected
                    FROM selection_aspects WHERE run_id = 1 ORDER BY inconsistency"
sqlite3 -box "$db" "SELECT mode, count(*) AS records, round(avg(gate), 3) AS gate_open,
                           round(avg(total), 3) AS mean_total
                    FROM combined_rewards GROUP BY run_id ORDER BY run_id"
echo "== best-of-4 under each reward mode, judged by reward"
# Each mode picks, per prompt, the response its combined reward ranks first;
# the judges then ask which mode's picks are more factual, and which the
# holistic reward prefers: hierarchical should gain factuality over holistic
# while keeping more of the holistic reward than aspect does.
for mode in holistic aspect hierarchical; do
    jq -s -c 'group_by(.prompt_id) | map(max_by(.reward.total)) | .[]' \
        "$out/combined-$mode.jsonl" > "$out/best-$mode.jsonl"
done
alarm-judge --by-reward factuality --by-reward holistic --db "$db" --out "$out/judgments.jsonl" \
    hierarchical="$out/best-hierarchical.jsonl" holistic="$out/best-holistic.jsonl" \
    aspect="$out/best-aspect.jsonl" | tee "$out/win-rates.md"

echo "demo outputs in $out/"
