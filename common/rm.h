/* rm: the reward models' losses as train.h tasks (alarm-rm(1)). A
 * sequence model's Bradley-Terry loss on preference pairs, at the score
 * head (one label, the last real token of each row), and a token
 * classifier's cross-entropy at the last token of each labelled span
 * (alarm-formats(5) section 1), with their evaluation tallies. */
#ifndef ALARM_RM_H
#define ALARM_RM_H

#include <stddef.h>

#include "err.h"
#include "seq.h"
#include "tfm.h"

/* A preference pair: prompt + chosen and prompt + rejected. */
typedef struct {
    seq chosen, rejected;
} rm_pair;

/* A response with n labelled spans: the response token holding each
 * span's last byte, and the span's label (an index into the labels). */
typedef struct {
    seq s;
    int n;
    int *at, *label;
} rm_spans;

/* The tasks' state: a batch of rows (2 x batch for pairs). */
typedef struct {
    seq_batch sb;
    const seq **rows;
    int n_labels;
} rm_task;

int rm_task_init(rm_task *t, int rows, int max_len, int n_labels, alarm_err *e);
void rm_task_free(rm_task *t);

/* Evaluation tallies. */
typedef struct {
    double pairs, correct; /* correct: r(chosen) > r(rejected) */
} rm_pair_tally;

enum { RM_MAX_LABELS = 16 };
typedef struct {
    double conf[RM_MAX_LABELS][RM_MAX_LABELS]; /* [true label][predicted] */
} rm_span_tally;

/* train_loss_fn for rm_pair examples: the mean over the k pairs of
 * -log sigmoid(r(chosen) - r(rejected)); weight k. tally: rm_pair_tally. */
int rm_pair_loss(void *ctx, tfm_model *m, const void *const *ex, int k, float scale,
                 float *loss, double *weight, void *tally, alarm_err *e);

/* train_loss_fn for rm_spans examples: the mean over every span of the
 * cross-entropy of the token head at the span's last token; weight the
 * spans. tally: rm_span_tally (argmax predictions). */
int rm_span_loss(void *ctx, tfm_model *m, const void *const *ex, int k, float scale,
                 float *loss, double *weight, void *tally, alarm_err *e);

/* The response token of s holding byte `byte` of the response, or -1. */
int rm_token_at(const seq *s, size_t byte);

/* r for n sequences, t->sb.maxB at a time, into out. */
int rm_score(rm_task *t, tfm_model *m, const seq *const *s, size_t n, float *out,
             alarm_err *e);

/* Labels n span records: sets each span's label (x[i]->label[j]) to the
 * token head's argmax at its token x[i]->at[j], the output rm_span_loss
 * trains, t->sb.maxB records at a time. */
int rm_span_predict(rm_task *t, tfm_model *m, rm_spans *const *x, size_t n, alarm_err *e);

/* What a span tally says, per label and overall. */
typedef struct {
    double n[RM_MAX_LABELS];        /* spans whose true label it is */
    double accuracy[RM_MAX_LABELS]; /* of those, predicted right (recall); -1: none */
    double f1[RM_MAX_LABELS];       /* 0 when never predicted nor true */
    double total, accuracy_all;
    double majority;                /* the accuracy of always answering the commonest label */
    int majority_label;
} rm_span_report;

void rm_span_summarise(const rm_span_tally *t, int n_labels, rm_span_report *r);

#endif
