/* score_model: what the learned scorer kinds of alarm-score share (rm: and
 * spans:, alarm-score(1)): a reward-model checkpoint of alarm-rm(1) loaded
 * once per run with its tokenizer, the encoder alarm-rm encodes prompt and
 * response with (common/seq), the rm task that runs its head (common/rm),
 * and its rm.json. The head it must have is checked before anything big is
 * loaded, so another kind of checkpoint fails naming config.json.
 * Ownership: everything belongs to the score_model; score_model_close. */
#ifndef ALARM_SCORE_MODEL_H
#define ALARM_SCORE_MODEL_H

#include <cjson/cJSON.h>

#include "bpe.h"
#include "rm.h"
#include "score.h"
#include "seq.h"
#include "tfm.h"

typedef struct {
    char *dir;
    bpe *tok;
    tfm_model m;
    seq_enc se;
    rm_task task;
    cJSON *config; /* config.json (for id2label) */
    cJSON *rm;     /* rm.json, or NULL when the checkpoint has none */
    /* a batch's records, reused: encoded (spans unset), and those going to
     * the model, with the index of their record and their score */
    rm_spans *ex;
    size_t cap;
    rm_spans **row;
    const seq **seqs;
    size_t *of;
    float *score;
    size_t nrow;
} score_model;

/* The option keys every model kind takes (batch, max-len, truncate), to
 * list first in a kind's keys. */
#define SCORE_MODEL_KEYS "batch", "max-len", "truncate"

/* Opens spec's ARG as a checkpoint whose head is `cls` (TFM_CLS_SCORE with
 * one label, or TFM_CLS_TOKEN) and whose rm.json, when present, says
 * "kind": rm_kind ("seq" or "spans"); threads from env. */
int score_model_open(score_model *sm, const score_spec *s, const score_env *env, int cls,
                     const char *rm_kind, alarm_err *e);
void score_model_close(score_model *sm);

/* Starts a batch of n records (nrow = 0). */
int score_model_batch(score_model *sm, size_t n, alarm_err *e);
/* Encodes record i's prompt and response as alarm-rm does (seq_encode)
 * into the next row and returns it, or marks o failed (too long, say) and
 * returns NULL. */
rm_spans *score_model_add(score_model *sm, size_t i, const char *prompt, size_t plen,
                          const char *resp, size_t rlen, score_out *o);
/* The record's "prompt" string, or NULL with o marked failed. */
const char *score_model_prompt(const score_in *in, score_out *o);

/* A number at rm.json's obj.key (e.g. "score", "mean"): 1 and *out when
 * there, 0 when sm has no rm.json, -1 (an error naming the file and the
 * field) when rm.json lacks it or it is not a number. */
int score_model_rm_number(const score_model *sm, const char *obj, const char *key, double *out,
                          alarm_err *e);

#endif
