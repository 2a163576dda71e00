# demo-report.jq: results.json (pipelines/demo-results.jq) as the markdown
# report the experiment prints: the verdict on the primary judge first, then the
# paper's win-rate table per judge, the selection, the systems' rewards on
# held-out prompts and the time each stage took.

def r1: . * 10 | round / 10;
def r3: . * 1000 | round / 1000;
def pm: if . == null then "-" elif .n > 1 then "\(.mean | r1) ± \(.std | r1)" else "\(.mean | r1)" end;
def pm3: if . == null then "-" elif .n > 1 then "\(.mean | r3) ± \(.std | r3)" else "\(.mean | r3)" end;
def ci: "[\(.ci95[0] | r1), \(.ci95[1] | r1)]";
def judge_name: {"reward:quality": "gold quality (the world's exact checkers)", "reward:holistic": "the holistic reward model", "reward:factuality": "the factuality rate (exact)"}[.] // .;
def row: "| " + join(" | ") + " |";

. as $r
| ($r.seeds | length) as $n
| [
  "# ALaRM on the embedded world: results",
  "",
  "\($r.modes | length) reward modes x \($n) seeds of PPO from one SFT policy, greedy answers to \($r.prompts) held-out prompts, every pair of systems judged on every prompt in both orders (ties count \($r.ties)). Win rates in %, mean ± std over seeds; intervals are 95% (Student's t over the seeds).",
  "",
  "## Verdict",
  "",
  (if $r.verdict == null then "No hierarchical run to judge."
   else ($r.verdict.against | to_entries | map("\(.key) \(.value.mean | r1)% \(.value | ci)") | join(", ")) as $vs
   | "By the judge \($r.verdict.judge | judge_name), hierarchical won against " + $vs + ". "
     + (if $r.verdict.clearly_ahead_of_all then "**Hierarchical came out ahead of every other mode, each interval above 50%.**"
        elif $r.verdict.ahead_of_all then "**Hierarchical came out ahead of every other mode on average, but not every interval clears 50%: the lead is not established at \($n) seeds.**"
        else "**Hierarchical did not come out ahead of every other mode.**" end)
   end),
  "",
  (($r.judges | to_entries | sort_by(.key != $r.verdict.judge))[] | .key as $j | .value as $v
   | "## Win rates, judge \($j | judge_name)", "",
     (["row beats column"] + $r.systems + ["average"] | row),
     ([range(0; ($r.systems | length) + 2)] | map("---") | row),
     ($r.systems[] as $a | [$a] + ($r.systems | map(if . == $a then "" else $v.matrix[$a][.] | pm end))
        + [$v.average[$a] | pm] | row),
     ""),
  "## Reward selection",
  "",
  "Greedy and sampled answers of the SFT policy to \($r.selection.pairs) prompts, each aspect's inconsistency with the holistic reward model: the paper's (disagreements over pairs the holistic reward orders, aspect ties counted in) and among untied pairs only. " + (if $r.selection.fallback then "The selection picked no aspect (no pair the holistic reward orders), so the aspect modes used **\($r.selection.used)**, the default." else "Selected: **\($r.selection.selected | join(", "))**, the aspect of the aspect, sum and hierarchical modes." end),
  "",
  (["aspect", "inconsistency", "untied", "agree", "disagree", "aspect ties", "selected"] | row),
  (["---", "---", "---", "---", "---", "---", "---"] | row),
  ($r.selection.candidates | to_entries | sort_by(.value.inconsistency)[]
   | [.key, (.value.inconsistency | r3 | tostring), (.value.untied // "-" | if type == "number" then r3 | tostring else . end),
      (.value.agree | tostring), (.value.disagree | tostring), (.value.aspect_ties | tostring),
      (if .value.selected then "yes" else "" end)] | row),
  "",
  "## Models",
  "",
  "The models trained into the store, at their last evaluation on held-out records: the policy's loss; the reward models' accuracy (pairs ranked as the annotator did; span labels) next to always answering the commonest label.",
  "",
  (["model", "tool", "step", "validation loss", "validation accuracy", "majority baseline"] | row),
  (["---", "---", "---", "---", "---", "---"] | row),
  ($r.models[] | [.model, .tool, (.step | tostring), (.val_loss | r3 | tostring),
     (.val_accuracy // "-" | if type == "number" then r3 | tostring else . end),
     (.majority // "-" | if type == "number" then r3 | tostring else . end)] | row),
  "",
  "## Held-out answers",
  "",
  "Greedy answers to the held-out prompts: the gold rewards where the data has them (the embedded world's exact checkers: quality Q = 0.35 F + 0.25 R + 0.4 C), the holistic model's raw score, length in tokens and repetition; mean ± std over seeds.",
  "",
  (["system", "gold Q", "factuality", "relevance", "completeness", "holistic RM", "length", "repetition"] | row),
  (["---", "---", "---", "---", "---", "---", "---", "---"] | row),
  ($r.systems[] as $s | $r.metrics[$s] as $m
   | [$s, ($m.quality | pm3), ($m.factuality | pm3), ($m.relevance | pm3), ($m.completeness | pm3),
      ($m.holistic | pm3), ($m.length | pm), ($m.repetition | pm3)] | row),
  "",
  "## Time per stage",
  "",
  "Seconds of each stage's commands, summed (stages run side by side with -j2, so the sum exceeds the wall time).",
  "",
  (["stage", "seconds"] | row),
  (["---", "---"] | row),
  ($r.times | to_entries[] | [.key, (.value | r1 | tostring)] | row),
  (["total", ($r.times | add | r1 | tostring)] | row),
  "",
  "Plots: reward-kl.png (mean reward and KL per PPO iteration, per mode), winrate.png (the win rates of the verdict's judge)."
] | .[]
