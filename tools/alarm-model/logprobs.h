/* What alarm-model logprobs' two files share: one record of a batch, and
 * its output (logprobs_write.c). */
#ifndef ALARM_MODEL_LOGPROBS_H
#define ALARM_MODEL_LOGPROBS_H

#include <stdio.h>

#include "bpe.h"
#include "err.h"
#include "opt.h"
#include "seq.h"
#include "tfm.h"
#include "tfm_ckpt.h"

typedef struct {
    char *line; /* the raw input line, for byte-exact pass-through */
    size_t len;
    seq s;      /* prefix + prompt + response, response offsets */
    float *lp;  /* (nr) */
    const char *file; /* FILE:LINE of the record, for messages */
    long lineno;
} item;

typedef struct {
    const tool *t;
    const char *model, *tokenizer;
    long batch, max_tokens;
    bpe *tok;
    tfm_model m;
    seq_enc se;
    item *items;
    int n;
    const seq **pending; /* (batch) the items' sequences, for seq_batch_fill */
    seq_batch sb;
    float *lp;           /* (batch * max_tokens) one batch's log-probabilities */
} run;

enum { SETUP_USAGE = -2 }; /* logprobs_setup's return for an option the model cannot take */

/* logprobs_setup.c: everything before the first record (0, -1, or
 * SETUP_USAGE); logprobs_free releases it, pending items included. */
int logprobs_setup(run *R, alarm_err *e);
void logprobs_free(run *R);
void logprobs_item_free(item *it);

/* The record's raw line with prompt_tokens, response_tokens, offsets and
 * logprobs last (old ones removed), every other field as it came. */
int logprobs_write(FILE *out, const item *it, alarm_err *e);

#endif
