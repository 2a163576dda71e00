# The ALaRM experiment from a policy and its reward models, shared by
# pipelines/demo.mk (the embedded world) and pipelines/qa-feedback.mk (your
# checkpoints): the reward selection, PPO under each reward mode and seed,
# greedy answers to held-out prompts, the judges, and the results. Every
# stage is a tool call recorded in one store ($(DB)); every target is a file
# a finished stage leaves, so a killed run started again redoes only what
# was not done, and -j2 runs independent stages side by side.
#
# The including file sets: OUT, DB, POLICY (the SFT checkpoint) and
# POLICY_OK (the target that makes it), MODELS (targets the scorers need),
# SCORERS (alarm-score's --scorer options of the PPO loop: one named
# holistic), CANDIDATES and LOWER_BETTER (the aspects the selection chooses
# among), SELECT_PROMPTS, PPO_PROMPTS (ITERS x PROMPTS records) and
# TEST_PROMPTS, or ALL_PROMPTS (the three, in this order, from one file),
# GOLD (a filter adding gold rewards to the held-out answers, or cat),
# ROLLOUT_EXTRA (options every alarm-rollout takes, may be empty),
# EVAL_SCORE, JUDGES, PRIMARY_JUDGE (the one the verdict reads), and the
# sizes and hyper-parameters MODES SEEDS ITERS PROMPTS SAMPLES NEW TAU
# HOLISTIC_WEIGHT PPO_LR PPO_EPOCHS MINI_BATCH KL_COEF THREADS.

TIME := pipelines/timed $(OUT)/times.tsv
SCORE ?= alarm-score $(SCORERS) --threads $(THREADS) -q --db $(DB)

ifdef ALL_PROMPTS
SELECT_PROMPTS := $(OUT)/prompts/select.jsonl
PPO_PROMPTS := $(OUT)/prompts/ppo.jsonl
TEST_PROMPTS := $(OUT)/prompts/test.jsonl
lines = sed -n "$$(( $(1) + 1 )),$$(( $(1) + $(2) ))p" $(ALL_PROMPTS) $(into)
$(SELECT_PROMPTS): $(ALL_PROMPTS) ; @mkdir -p $(@D); $(call lines,0,$(N_SELECT))
$(PPO_PROMPTS): $(ALL_PROMPTS)    ; @mkdir -p $(@D); $(call lines,$(N_SELECT),$(ITERS) * $(PROMPTS))
$(TEST_PROMPTS): $(ALL_PROMPTS)   ; @mkdir -p $(@D); $(call lines,$(N_SELECT) + $(ITERS) * $(PROMPTS),$(N_TEST))
endif

# iteration K's prompts: lines (K-1)*PROMPTS+1 .. K*PROMPTS
$(OUT)/prompts/ppo-%.jsonl: $(PPO_PROMPTS)
	@mkdir -p $(OUT)/prompts
	sed -n "$$(( ($* - 1) * $(PROMPTS) + 1 )),$$(( $* * $(PROMPTS) ))p" $< $(into)

# ---- reward selection, as ALaRM does it: greedy and sampled answers of the
# SFT policy to the same prompts, scored, and the aspect most consistent with
# the holistic reward picked (alarm-select(1) --select auto). A prompt's two
# answers are adjacent, as alarm-select groups them. ----
$(OUT)/selection.json: $(MODELS) $(SELECT_PROMPTS)
	mkdir -p $(OUT)/select
	$(TIME) select-rollout alarm-rollout -q --model $(POLICY) --greedy --max-new-tokens $(NEW) $(ROLLOUT_EXTRA) \
	    --batch 32 --threads $(THREADS) --db $(DB) $(SELECT_PROMPTS) | \
	    jq -c '.id = .prompt_id + "#greedy"' > $(OUT)/select/greedy.jsonl
	$(TIME) select-rollout alarm-rollout -q --model $(POLICY) --temperature 1 --top-k 0 --top-p 1 $(ROLLOUT_EXTRA) \
	    --max-new-tokens $(NEW) --seed 7 --batch 32 --threads $(THREADS) --db $(DB) \
	    $(SELECT_PROMPTS) > $(OUT)/select/sampled.jsonl
	paste -d '\n' $(OUT)/select/greedy.jsonl $(OUT)/select/sampled.jsonl | \
	    $(TIME) select-score $(SCORE) > $(OUT)/select/scored.jsonl
	$(TIME) select alarm-select -q --select auto $(foreach a,$(CANDIDATES),--aspect $(a)) \
	    $(foreach a,$(LOWER_BETTER),--lower-better $(a)) --report $@.tmp --db $(DB) $(OUT)/select/scored.jsonl > /dev/null
	mv $@.tmp $@

# The selected aspect, read when a recipe runs (after selection.json exists);
# when the selection picked none (no pair the holistic reward orders: a policy
# too weak to tell apart), FALLBACK, as results.md then says.
FALLBACK ?= factuality
ASPECT = $$(jq -r '[.aspects | to_entries[] | select(.value.selected) | .key][0] // "$(FALLBACK)"' \
              $(OUT)/selection.json)
select_args.holistic     = --mode holistic
select_args.aspect       = --mode aspect --aspect $(ASPECT)
select_args.sum          = --mode sum --aspect $(ASPECT)
select_args.hierarchical = --mode hierarchical --aspect $(ASPECT) --threshold $(TAU)
SELECT := --holistic holistic --holistic-weight $(HOLISTIC_WEIGHT) $(SELECT_EXTRA) -q --db $(DB)
PPO := --lr $(PPO_LR) --ppo-epochs $(PPO_EPOCHS) --mini-batch $(MINI_BATCH) --kl-coef $(KL_COEF) \
       --threads $(THREADS) -q --db $(DB)

# ---- PPO: iteration K of mode M and seed S is one rollout | score | select |
# ppo, from iteration K-1's checkpoint (the SFT policy for K = 1) ----
define ppo_iteration # mode seed k
$(OUT)/ppo/$(1)-s$(2)/it$(3)/config.json: $(if $(filter 1,$(3)),$(POLICY_OK),$(OUT)/ppo/$(1)-s$(2)/it$(word $(3),0 $(ITER_LIST))/config.json) \
        $(OUT)/selection.json $(OUT)/prompts/ppo-$(3).jsonl
	@mkdir -p $(OUT)/ppo/$(1)-s$(2)/stats
	t0=$$$$(date +%s.%N); \
	alarm-rollout -q --model $$(PREV) -n $(SAMPLES) --temperature 1 --top-k 0 --top-p 1 $(ROLLOUT_EXTRA) \
	    --max-new-tokens $(NEW) --seed $(2)0$(3) --batch 32 --threads $$(THREADS) --db $(DB) \
	    $(OUT)/prompts/ppo-$(3).jsonl | \
	  $$(SCORE) | \
	  alarm-select $$(select_args.$(1)) $$(SELECT) | \
	  alarm-ppo --policy $$(PREV) --ref $(POLICY) --out $(OUT)/ppo/$(1)-s$(2)/it$(3) \
	    --seed $(2)0$(3) $$(PPO) > $(OUT)/ppo/$(1)-s$(2)/stats/it$(3).json; \
	$(TIME) ppo-$(1) --since $$$$t0
$(OUT)/ppo/$(1)-s$(2)/it$(3)/config.json: PREV = $(if $(filter 1,$(3)),$(POLICY),$(OUT)/ppo/$(1)-s$(2)/it$(word $(3),0 $(ITER_LIST)))
endef
ITER_LIST := $(shell seq 1 $(ITERS))
$(foreach m,$(MODES),$(foreach s,$(SEEDS),$(foreach k,$(ITER_LIST),\
    $(eval $(call ppo_iteration,$(m),$(s),$(k))))))

# ---- evaluation: greedy answers to held-out prompts, through GOLD (the
# world's checkers in the demo; none on real data) and EVAL_SCORE ----
define evaluate # name policy-target policy-dir
$(OUT)/eval/$(1).jsonl: $(2) $(TEST_PROMPTS) $(MODELS)
	@mkdir -p $(OUT)/eval
	$(TIME) eval alarm-rollout -q --model $(3) --greedy --max-new-tokens $(NEW) $(ROLLOUT_EXTRA) --batch 32 \
	    --threads $$(THREADS) --db $(DB) $(TEST_PROMPTS) | \
	  $$(GOLD) | $$(EVAL_SCORE) > $$@.tmp
	mv $$@.tmp $$@
endef
$(eval $(call evaluate,sft,$(POLICY_OK),$(POLICY)))
$(foreach m,$(MODES),$(foreach s,$(SEEDS),$(eval $(call evaluate,$(m)-s$(s),\
    $(OUT)/ppo/$(m)-s$(s)/it$(ITERS)/config.json,$(OUT)/ppo/$(m)-s$(s)/it$(ITERS)))))

# ---- judging: per seed, every pair of systems (the modes and the SFT
# policy) on every held-out prompt, by the JUDGES (alarm-judge(1)), and by an
# LLM through the real chat path when OPENAI_API_KEY is set ----
JUDGE_MODEL ?= gpt-4o-mini
LLM_JUDGE = $(if $(OPENAI_API_KEY),--model $(JUDGE_MODEL) $(if $(OPENAI_BASE_URL),--base-url $(OPENAI_BASE_URL)))
define judge_seed # seed
$(OUT)/judge/s$(1).json: $(OUT)/eval/sft.jsonl $(foreach m,$(MODES),$(OUT)/eval/$(m)-s$(1).jsonl)
	@mkdir -p $(OUT)/judge
	$(TIME) judge alarm-judge -q $(JUDGES) $(LLM_JUDGE) --ties half --format json --out $(OUT)/judge/s$(1).jsonl --db $(DB) \
	    sft=$(OUT)/eval/sft.jsonl $(foreach m,$(MODES),$(m)=$(OUT)/eval/$(m)-s$(1).jsonl) > $$@.tmp
	mv $$@.tmp $$@
endef
$(foreach s,$(SEEDS),$(eval $(call judge_seed,$(s))))

# ---- results: the tables, the plots, and what they say ----
# The models trained into this store, at their last evaluation.
export MODELS_SQL := SELECT r.tool, (SELECT b.value FROM json_each(r.argv) a JOIN json_each(r.argv) b \
  ON b.key = a.key + 1 WHERE a.value IN ('--out', '-o')) AS out, e.step, e.val_loss, e.val_accuracy, \
  json_extract(e.val_metrics, '$$.majority_accuracy') AS majority \
  FROM train_evals e JOIN runs r ON r.id = e.run_id \
  WHERE r.status = 'ok' AND e.step = (SELECT max(step) FROM train_evals WHERE run_id = e.run_id) \
  ORDER BY r.id
JUDGED := $(foreach s,$(SEEDS),$(OUT)/judge/s$(s).json)
EVALS  := $(OUT)/eval/sft.jsonl $(foreach m,$(MODES),$(foreach s,$(SEEDS),$(OUT)/eval/$(m)-s$(s).jsonl))
$(OUT)/results.json: $(JUDGED) $(OUT)/selection.json pipelines/experiment-results.jq pipelines/experiment-eval.jq
	jq -n --slurpfile sel $(OUT)/selection.json --arg fallback $(FALLBACK) --arg primary $(PRIMARY_JUDGE) \
	    --argjson seeds '[$(shell echo $(SEEDS) | sed 's/ /,/g')]' \
	    --arg modes '$(MODES)' --rawfile times $(OUT)/times.tsv \
	    --slurpfile judged <(cat $(JUDGED)) --slurpfile models <(sqlite3 -json $(DB) "$$MODELS_SQL") \
	    --slurpfile evals <(for f in $(EVALS); do \
	        jq -s -c --arg system $$(basename $$f .jsonl) -f pipelines/experiment-eval.jq $$f; done) \
	    -f pipelines/experiment-results.jq > $@.tmp
	mv $@.tmp $@

$(OUT)/results.md: $(OUT)/results.json pipelines/experiment-report.jq
	jq -r -f pipelines/experiment-report.jq $< > $@.tmp
	mv $@.tmp $@

$(OUT)/plots.ok: $(OUT)/results.json pipelines/experiment-plots.sh
	pipelines/experiment-plots.sh $(OUT) "$(MODES)" "$(SEEDS)"
	touch $@

experiment: $(OUT)/results.md $(OUT)/plots.ok
	@cat $(OUT)/results.md
	@echo
	@echo "results: $(OUT)/results.md ($(OUT)/results.json), plots: $(OUT)/*.png, store: $(DB)"

.PHONY: experiment
