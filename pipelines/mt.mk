# ALaRM's second task, machine translation, through pipelines/experiment.mk:
# a holistic reward model of your own refined by rule aspects (readability:
# the Flesch-Kincaid grade, lower is better; grammar: LanguageTool's matches,
# lower is better; confidence: the target language's detection confidence),
# chosen among by the paper's selection. Source sentences and references
# come as a TSV file (source TAB reference, one pair a line):
#
#   make -f pipelines/mt.mk PAIRS=pairs.tsv POLICY=sft/ HOLISTIC=rm/ \
#        LANGUAGETOOL=http://localhost:8081 [TARGET=English] [LT_LANG=en-US] \
#        [OUT=runs/mt] [-j2]
#
# A LanguageTool server: docker run -p 8081:8010 erikvl87/languagetool, or
# java -cp languagetool-server.jar org.languagetool.server.HTTPServer --port 8081.
# The pairs are split in order: N_SELECT for the selection, then ITERS x
# PROMPTS for PPO, then N_TEST held out for the judges.

include pipelines/common.mk

OUT ?= runs/mt
DB  := $(OUT)/alarm.db
D   := $(OUT)/data
$(foreach v,PAIRS POLICY HOLISTIC LANGUAGETOOL,$(if $($(v)),,$(error set $(v)=..., see the top of pipelines/mt.mk)))

TARGET     ?= English
LT_LANG    ?= en-US
MODES      ?= holistic aspect sum hierarchical
SEEDS      ?= 1 2 3
N_SELECT   ?= 100
ITERS      ?= 4
PROMPTS    ?= 64
N_TEST     ?= 100
SAMPLES    ?= 1
NEW        ?= 96
TAU        ?= 0.6
HOLISTIC_WEIGHT ?= 5
PPO_LR     ?= 1e-5
PPO_EPOCHS ?= 4
MINI_BATCH ?= 8
KL_COEF    ?= 0.2
ROLLOUT_EXTRA ?=
HOLISTIC_TEMPLATE ?=

POLICY_OK := $(POLICY)/config.json
MODELS := $(HOLISTIC)/config.json
SCORERS := --scorer holistic=rm:$(HOLISTIC)$(if $(HOLISTIC_TEMPLATE),$(comma)template=$(HOLISTIC_TEMPLATE)) \
           --scorer readability=readability \
           --scorer grammar=languagetool:$(LANGUAGETOOL),lang=$(LT_LANG) \
           --scorer confidence=language,lang=$(firstword $(subst -, ,$(LT_LANG))) \
           --scorer length=length,unit=words
CANDIDATES := readability grammar confidence
LOWER_BETTER := readability grammar
ALL_PROMPTS := $(D)/prompts.jsonl
GOLD := cat
EVAL_SCORE ?= alarm-score $(SCORERS) --threads $(THREADS) -q --db $(DB)
JUDGES := --by-reward holistic --by-reward -grammar --by-reward confidence
JUDGE_MODEL ?= gpt-4o-mini
PRIMARY_JUDGE := $(if $(OPENAI_API_KEY),$(JUDGE_MODEL),reward:holistic)
FALLBACK ?= grammar

# prompt records: "Translate into TARGET: SOURCE\nTARGET:", the reference kept
$(D)/prompts.jsonl: $(PAIRS) pipelines/mt-pairs.jq
	@mkdir -p $(D)
	jq -R -c --arg target "$(TARGET)" -f pipelines/mt-pairs.jq $< $(into)

include pipelines/experiment.mk

.DEFAULT_GOAL := experiment
