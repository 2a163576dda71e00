# DEMO=quick (pipelines/demo.mk): the same stages at sizes that run in a
# minute or two, for the test that checks the store and the results are
# complete; its numbers mean nothing.
VOCAB      ?= 896
N_DEMOS    ?= 1500
SFT_STEPS  ?= 40
N_PREFS    ?= 400
RM_STEPS   ?= 20
N_SPANS    ?= 300
SPAN_STEPS ?= 15
N_VAL      ?= 32
N_VAL_PREFS ?= 32
SAVE_EVERY ?= 20
N_SELECT   ?= 16
N_TEST     ?= 16
SEEDS      ?= 1 2
ITERS      ?= 2
PROMPTS    ?= 8
SAMPLES    ?= 1
NEW        ?= 32
TAU        ?= 0.6
HOLISTIC_WEIGHT ?= 5
PPO_LR     ?= 1e-4
PPO_EPOCHS ?= 1
MINI_BATCH ?= 4
KL_COEF    ?= 0.05
