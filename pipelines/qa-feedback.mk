# The ALaRM experiment (pipelines/experiment.mk) on QA-Feedback's long-form
# QA prompts, with your checkpoints: an SFT policy, a holistic sequence
# reward model and two span models (factuality by sentence, relevance by
# sub-sentence), as Hugging Face checkpoint directories (config.json,
# model.safetensors, tokenizer.json; the reward models as alarm-rm(1) writes
# them or *ForSequenceClassification / *ForTokenClassification ones), and an
# OpenAI-compatible judge when OPENAI_API_KEY is set (OPENAI_BASE_URL and
# JUDGE_MODEL choose the endpoint and model):
#
#   make -f pipelines/qa-feedback.mk QA=dev.json POLICY=sft/ HOLISTIC=rm/ \
#        FACTUALITY=fact/ RELEVANCE=rel/ [OUT=runs/qa-feedback] [-j2]
#
# The prompts are split in order: N_SELECT for the reward selection, then
# ITERS x PROMPTS for PPO, then N_TEST held out for the judges.

include pipelines/common.mk

OUT ?= runs/qa-feedback
DB  := $(OUT)/alarm.db
D   := $(OUT)/data
$(foreach v,QA POLICY HOLISTIC FACTUALITY RELEVANCE,$(if $($(v)),,$(error set $(v)=..., see the top of pipelines/qa-feedback.mk)))

MODES      ?= holistic aspect sum hierarchical
SEEDS      ?= 1 2 3
N_SELECT   ?= 100
ITERS      ?= 4
PROMPTS    ?= 64
N_TEST     ?= 100
SAMPLES    ?= 1
NEW        ?= 128
MAX_PROMPT ?= 1024
TAU        ?= 0.6
HOLISTIC_WEIGHT ?= 5
PPO_LR     ?= 1e-5
PPO_EPOCHS ?= 4
MINI_BATCH ?= 8
KL_COEF    ?= 0.2
# prompts longer than the policy's context keep their end (the question
# comes first, so keep it by shortening the passages upstream if you need it)
ROLLOUT_EXTRA ?= --max-prompt-tokens $(MAX_PROMPT) --truncate-prompt left

POLICY_OK := $(POLICY)/config.json
MODELS := $(HOLISTIC)/config.json $(FACTUALITY)/config.json $(RELEVANCE)/config.json
# HOLISTIC_TEMPLATE: how the holistic model reads a record (alarm-score(1)
# rm:); empty for ALaRM's "Human: {prompt}\nAssistant: {response}", and
# {prompt}{response} for a model alarm-rm trained
HOLISTIC_TEMPLATE ?=
# the reward models read long prompts by their end, as the policy does
SCORERS := --scorer holistic=rm:$(HOLISTIC),truncate=left$(if $(HOLISTIC_TEMPLATE),$(comma)template=$(HOLISTIC_TEMPLATE)) \
           --scorer factuality=spans:$(FACTUALITY),truncate=left \
           --scorer relevance=spans:$(RELEVANCE),segment=subsentence,truncate=left \
           --scorer length=length --scorer repetition=repetition
CANDIDATES := factuality relevance length repetition
LOWER_BETTER := repetition
ALL_PROMPTS := $(D)/prompts.jsonl
GOLD := cat
EVAL_SCORE ?= alarm-score $(SCORERS) --threads $(THREADS) -q --db $(DB)
JUDGES := --by-reward holistic --by-reward factuality
JUDGE_MODEL ?= gpt-4o-mini
PRIMARY_JUDGE := $(if $(OPENAI_API_KEY),$(JUDGE_MODEL),reward:holistic)
FALLBACK ?= factuality

$(D)/prompts.jsonl: $(QA) pipelines/qa-feedback.jq
	@mkdir -p $(D)
	jq -c -f pipelines/qa-feedback.jq $(QA) $(into)
include pipelines/experiment.mk

.DEFAULT_GOAL := experiment
