# The whole ALaRM experiment on the embedded world of alarm-synth(1), as Make
# rules: the world's records, a tokenizer, an SFT policy, a holistic reward
# model and two span models trained here, then pipelines/experiment.mk (the
# selection, PPO per reward mode and seed, held-out answers, judges,
# results). README.md "The demo" says what it shows; DEMO=quick is the same
# experiment in minutes.
#
#   make -f pipelines/demo.mk [DEMO=quick] [OUT=runs/demo] [SEEDS="1 2 3"] [ITERS=N]

include pipelines/common.mk

OUT   ?= runs/demo
DB    := $(OUT)/alarm.db
D     := $(OUT)/data

include pipelines/demo-$(if $(filter quick,$(DEMO)),quick,full).mk

MODES ?= holistic aspect sum hierarchical
# The aspects the selection chooses among: the two span models, as the
# paper's long-form QA task chose among its fine-grained models. Length and
# repetition are measured, not candidates: a rule that ties on most pairs
# would win the paper's inconsistency, which counts aspect ties as agreement.
CANDIDATES := factuality relevance
LOWER_BETTER :=

# ---- data: the world's records (alarm-synth(1)) ----
# Validation and selection records come from other item streams than the
# training ones (another --seed gives another world, so they differ by index:
# the first N_DEMOS are training, the next ones validation).
# `into` (pipelines/common.mk) writes a target through a temporary file:
# a killed command leaves no target behind.
$(D)/demos.jsonl:       ; @mkdir -p $(D); alarm-synth demos -q -n $(N_DEMOS) $(into)
$(D)/prefs.jsonl:       ; @mkdir -p $(D); alarm-synth prefs -q -n $(N_PREFS) $(into)
$(D)/spans-%.jsonl:     ; @mkdir -p $(D); alarm-synth spans -q -n $(N_SPANS) --aspect $* $(into)
$(D)/test-prompts.jsonl:; @mkdir -p $(D); alarm-synth prompts -q -n $(N_TEST) --split test $(into)
# held-out records of the train split: the ones after the training ones
after = alarm-synth $(1) -q -n $$(( $(2) + $(3) )) $(4) | tail -n $(3)
$(D)/demos-val.jsonl:   ; @mkdir -p $(D); $(call after,demos,$(N_DEMOS),$(N_VAL)) $(into)
$(D)/prefs-val.jsonl:   ; @mkdir -p $(D); $(call after,prefs,$(N_PREFS),$(N_VAL_PREFS)) $(into)
$(D)/spans-%-val.jsonl: ; @mkdir -p $(D); $(call after,spans,$(N_SPANS),$(N_VAL),--aspect $*) $(into)
# prompts: selection first, then each PPO iteration's PROMPTS
N_PPO = $$(( $(ITERS) * $(PROMPTS) ))
$(D)/select-prompts.jsonl: ; @mkdir -p $(D); alarm-synth prompts -q -n $(N_SELECT) $(into)
$(D)/ppo-prompts.jsonl:    ; @mkdir -p $(D); $(call after,prompts,$(N_SELECT),$(N_PPO)) $(into)

# ---- the tokenizer and the models ----
$(OUT)/tok.json: $(D)/demos.jsonl
	$(TIME) tokenizer alarm-model train-tokenizer -q --vocab-size $(VOCAB) --out $@ $<

# A checkpoint directory is done when its .ok stamp exists; a killed run
# leaves its last saved state there, and the rerun goes on from it (--resume).
resume = $$([ -d $(1) ] && echo --resume)
TRAIN := --schedule cosine --save-every $(SAVE_EVERY) --db $(DB) -q
# (THREADS: pipelines/common.mk) The SFT and reward-model stages, which
# nothing runs beside, always take both cores.

$(OUT)/sft.ok: $(D)/demos.jsonl $(D)/demos-val.jsonl $(OUT)/tok.json data/synth-gpt2.json
	$(TIME) sft alarm-sft --init data/synth-gpt2.json --tokenizer $(OUT)/tok.json \
	    --out $(OUT)/sft --val $(D)/demos-val.jsonl --steps $(SFT_STEPS) --lr 2e-3 --warmup 50 \
	    --batch 16 --weight-decay 0.1 --threads 2 $(TRAIN) $(call resume,$(OUT)/sft) $(D)/demos.jsonl
	touch $@

$(OUT)/rm.ok: $(OUT)/sft.ok $(D)/prefs.jsonl $(D)/prefs-val.jsonl
	$(TIME) rm alarm-rm --kind seq --model $(OUT)/sft --out $(OUT)/rm --val $(D)/prefs-val.jsonl \
	    --steps $(RM_STEPS) --lr 5e-4 --warmup 20 --batch 16 --threads 2 $(TRAIN) \
	    $(call resume,$(OUT)/rm) $(D)/prefs.jsonl
	touch $@

$(OUT)/%-rm.ok: $(OUT)/sft.ok $(D)/spans-%.jsonl $(D)/spans-%-val.jsonl
	$(TIME) $*-rm alarm-rm --kind spans --labels good,bad --model $(OUT)/sft --out $(OUT)/$*-rm \
	    --val $(D)/spans-$*-val.jsonl --steps $(SPAN_STEPS) --lr 1e-3 --warmup 20 --batch 16 \
	    --threads 2 $(TRAIN) $(call resume,$(OUT)/$*-rm) $(D)/spans-$*.jsonl
	touch $@
# The reward models train one after another, each on both cores: two
# trainings at once would each run OpenMP threads on a shared core, slower
# than taking turns.
$(OUT)/factuality-rm.ok: | $(OUT)/rm.ok
$(OUT)/relevance-rm.ok: | $(OUT)/factuality-rm.ok

# ---- the experiment (pipelines/experiment.mk) on what the world gave ----
POLICY := $(OUT)/sft
POLICY_OK := $(OUT)/sft.ok
MODELS := $(OUT)/rm.ok $(OUT)/factuality-rm.ok $(OUT)/relevance-rm.ok
# The rewards of the PPO loop: the learned holistic model, the aspects, and
# the rules. The aspects (ASPECTS) are the world's exact per-sentence
# checkers (alarm-synth score as a cmd: scorer: exact) by default, or the
# span models trained here (learned): at this budget those do not beat their
# majority baseline (results.md's models table says by how much), so their
# aspect rewards would tie on nearly every pair and refine nothing.
# (template: the holistic model reads prompt and response as alarm-rm
# trained it.)
ASPECTS ?= exact
ifeq ($(ASPECTS),learned)
ASPECT_SCORERS := --scorer factuality=spans:$(OUT)/factuality-rm \
                  --scorer relevance=spans:$(OUT)/relevance-rm
else
ASPECT_SCORERS := --scorer "factuality=cmd:alarm-synth score -q --aspect factuality" \
                  --scorer "relevance=cmd:alarm-synth score -q --aspect relevance"
endif
SCORERS := --scorer holistic=rm:$(OUT)/rm,template={prompt}{response} $(ASPECT_SCORERS) \
           --scorer length=length --scorer repetition=repetition
SELECT_PROMPTS := $(D)/select-prompts.jsonl
PPO_PROMPTS := $(D)/ppo-prompts.jsonl
TEST_PROMPTS := $(D)/test-prompts.jsonl
# the held-out answers get the world's exact rewards (the gold quality and
# its aspects), and the holistic model's score and the rules
GOLD := alarm-synth rewards -q
EVAL_SCORE ?= alarm-score --scorer holistic=rm:$(OUT)/rm,template={prompt}{response} --scorer length=length \
              --scorer repetition=repetition --threads $(THREADS) -q --db $(DB)
# judges: the gold quality, the holistic model and the factuality rate
JUDGES := --by-reward quality --by-reward holistic --by-reward factuality
PRIMARY_JUDGE := reward:quality
include pipelines/experiment.mk

demo: experiment
.PHONY: demo
.DEFAULT_GOAL := demo

