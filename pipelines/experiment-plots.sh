#!/usr/bin/env bash
# demo-plots.sh OUT "MODES" "SEEDS": the demo's plots, with gnuplot.
#   OUT/reward-kl.png  mean score and KL per PPO iteration, per mode (mean over seeds)
#   OUT/winrate.png    the verdict's judge's win rates, row system against column system
set -euo pipefail
out=$1 modes=$2 seeds=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One table per mode: iteration, mean score, KL (means over seeds).
for m in $modes; do
    for s in $seeds; do
        for f in "$out/ppo/$m-s$s"/stats/it*.json; do
            k=${f##*/it}; k=${k%.json}
            jq -r --arg k "$k" '[$k, ."ppo/mean_scores", ."objective/kl"] | @tsv' "$f"
        done
    done | awk '{ n[$1]++; r[$1] += $2; kl[$1] += $3 }
                END { for (k in n) print k, r[k] / n[k], kl[k] / n[k] }' | sort -n > "$tmp/$m.dat"
done

plot_modes() { # column
    local sep=""
    for m in $modes; do
        printf '%s"%s" using 1:%d with linespoints title "%s"' "$sep" "$tmp/$m.dat" "$1" "$m"
        sep=", "
    done
}
gnuplot <<GP
set terminal pngcairo size 1000,420 font "sans,10"
set output "$out/reward-kl.png"
set multiplot layout 1,2
set xlabel "PPO iteration"
set xtics 1
set key bottom right
set title "mean score of the rollouts (the mode's own reward)"
plot $(plot_modes 2)
set title "KL to the SFT policy"
set key top left
plot $(plot_modes 3)
unset multiplot
GP

# The verdict's judge's matrix: win rate (mean over seeds) of row against column.
judge=$(jq -r '.verdict.judge // (.judges | keys[0])' "$out/results.json")
jq -r --arg j "$judge" '.systems as $s | .judges[$j].matrix as $m
       | ($s | to_entries[]) as $a | ($s | to_entries[]) as $b
       | (if $a.value == $b.value then null else $m[$a.value][$b.value].mean end) as $w
       | [$a.key, $b.key, ($w // "NaN"), (if $w then ($w | round | tostring) else " " end)] | @tsv' \
    "$out/results.json" > "$tmp/matrix.dat"
labels=$(jq -r '.systems | to_entries | map("\"\(.value)\" \(.key)") | join(", ")' "$out/results.json")
gnuplot <<GP
set terminal pngcairo size 640,560 font "sans,10"
set output "$out/winrate.png"
set title "win rate (%) of row against column, judge $judge"
set xtics ($labels)
set ytics ($labels)
set yrange [] reverse
set cbrange [0:100]
set palette defined (0 "#b2182b", 50 "#f7f7f7", 100 "#2166ac")
set view map
set datafile separator "\t"
plot "$tmp/matrix.dat" using 2:1:3 with image notitle, "" using 2:1:4 with labels notitle
GP
