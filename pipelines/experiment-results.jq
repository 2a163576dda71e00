# demo-results.jq: the demo's results as one JSON document, from what the
# stages left (pipelines/demo.mk passes them in): the selection report
# ($sel), each seed's judge summary ($judged, in the order of $seeds), each
# evaluated system's mean rewards ($evals), the models trained into the
# store at their last evaluation ($models) and the stage times ($times).
# The verdict reads the judge $primary. Over seeds: mean, sample std and the 95% interval mean +- t * std / sqrt(n)
# (Student's t, n - 1 degrees of freedom).

def t975: {"1": 12.706, "2": 4.303, "3": 3.182, "4": 2.776, "5": 2.571, "6": 2.447,
           "7": 2.365, "8": 2.306, "9": 2.262} [tostring] // 1.96;
def stats: map(select(. != null)) | length as $n
  | if $n == 0 then null
    else (add / $n) as $m
      | (if $n > 1 then (map((. - $m) * (. - $m)) | add / ($n - 1) | sqrt) else 0 end) as $s
      | (if $n > 1 then ($n - 1 | t975) * $s / ($n | sqrt) else 0 end) as $h
      | {mean: $m, std: $s, ci95: [$m - $h, $m + $h], n: $n, per_seed: .}
    end;

($modes | split(" ")) as $mode_list
| (["sft"] + $mode_list) as $systems
| ($judged[0].judges | keys) as $judges
| {
    seeds: $seeds,
    modes: $mode_list,
    systems: $systems,
    prompts: $judged[0].prompts,
    ties: $judged[0].ties,
    selection: {
      candidates: ($sel[0].aspects | with_entries(select(.value.reason | startswith("not a candidate") | not))
        | map_values({inconsistency, untied: (if .agree + .disagree > 0
                                             then .disagree / (.agree + .disagree) else null end),
                      agree, disagree, aspect_ties, selected, reason})),
      selected: ($sel[0].aspects | to_entries | map(select(.value.selected) | .key)),
      used: (($sel[0].aspects | to_entries | map(select(.value.selected) | .key))[0] // $fallback),
      fallback: ($sel[0].aspects | to_entries | map(select(.value.selected)) | length == 0),
      pairs: $sel[0].pairs
    },
    judges: ($judges | map({key: ., value: (. as $j | {
      matrix: ($systems | map({key: ., value: (. as $a | $systems | map(select(. != $a)) | map({key: ., value:
        (. as $b | $judged | map(.judges[$j].matrix[$a][$b].win_rate) | stats)}) | from_entries)}) | from_entries),
      counts: ($systems | map({key: ., value: (. as $a | $systems | map(select(. != $a)) | map({key: ., value:
        (. as $b | $judged | map(.judges[$j].matrix[$a][$b] | {win, lose, tie})
          | {win: (map(.win) | add), lose: (map(.lose) | add), tie: (map(.tie) | add)})}) | from_entries)})
        | from_entries),
      average: ($systems | map({key: ., value: (. as $a | $judged | map(.judges[$j].average[$a]) | stats)})
        | from_entries)
    })}) | from_entries),
    metrics: ($systems | map({key: ., value: (. as $s
      | [$evals[] | select(.system == $s or (.system | startswith($s + "-s")))] as $rows
      | ["quality", "factuality", "relevance", "completeness", "holistic", "length", "repetition"]
      | map({key: ., value: (. as $k | $rows | map(.[$k]) | stats)}) | from_entries)}) | from_entries),
    models: (($models[0] // []) | map({tool, model: (.out | split("/") | last), step, val_loss,
                                      val_accuracy, majority})),
    times: ($times | split("\n") | map(select(length > 0) | split("\t"))
      | group_by(.[0]) | map({key: .[0][0], value: (map(.[1] | tonumber) | add)}) | from_entries)
  }
| . as $r
| .verdict = ($r.judges[$primary] as $g
    | if $g == null or ($r.modes | index("hierarchical")) == null then null else
      ($r.modes | map(select(. != "hierarchical")) | map({key: ., value: $g.matrix.hierarchical[.]}) | from_entries)
      as $vs
      | {judge: $primary,
         against: ($vs | map_values({mean, ci95})),
         ahead_of_all: ($vs | to_entries | all(.value.mean > 50)),
         clearly_ahead_of_all: ($vs | to_entries | all(.value.ci95[0] > 50))}
    end)
