/* train: the one training loop of the supervised trainers (alarm-sft,
 * alarm-rm): examples of the task's own type with a loss callback (the LM
 * loss on seq sequences built in), an order shuffled per epoch from the seed,
 * optimizer steps of grad_accum micro-batches (HF's averaging: each
 * micro-batch's mean loss, divided by grad_accum), clipping and the schedule
 * of tfm_optim, a token-weighted evaluation loss, and a state small enough
 * to write beside each checkpoint (train_state.c) so a resumed run goes on
 * exactly where the killed one was. Under mpirun (common/dist) each rank
 * takes a contiguous share of every micro-batch, weighed by its part of the
 * micro-batch's weight (target tokens, pairs, spans: summed over the ranks),
 * and the trainable gradients are all-reduced as one array before clipping,
 * so P ranks take the one-process step on the same --batch. */
#ifndef ALARM_TRAIN_H
#define ALARM_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "ckpt.h"
#include "err.h"
#include "seq.h"
#include "tfm.h"
#include "tfm_optim.h"

typedef struct {
    int batch, grad_accum;
    tfm_adamw opt; /* lr, betas, decay, clip, schedule, warmup, total steps */
    uint64_t seed; /* the data order */
    /* what the run trains on, so a resume on other data is refused */
    size_t examples;
    uint64_t data_hash; /* train_data_hash */
} train_cfg;

/* Where a run is: everything resume needs besides weights and moments. */
typedef struct {
    long step;        /* optimizer steps done */
    int epoch;        /* the epoch being read (0-based) */
    size_t cursor;    /* examples of that epoch already used */
    double tokens;    /* what the losses were over (target tokens, pairs, spans),
                         summed over the whole run */
    double best_val;  /* lowest validation loss so far; < 0: none yet */
    long best_step;
} train_state;

/* A task's loss on one micro-batch of k examples (its own type, behind
 * void pointers): runs the forward, sets *loss to the micro-batch's mean
 * loss and *weight to what that mean is over (target tokens, pairs,
 * spans), and adds scale * d(loss)/d(head outputs) into the head-output
 * gradients (m->dlogits, m->dcls, ...; scale 0: evaluation, none). With
 * tally not NULL (evaluation) it also adds the task's metrics into it. */
typedef int (*train_loss_fn)(void *ctx, tfm_model *m, const void *const *ex, int k,
                             float scale, float *loss, double *weight, void *tally,
                             alarm_err *e);

typedef struct {
    const void *const *ex; /* the training examples */
    size_t n;
    size_t *order;        /* (n) this epoch's permutation */
    int order_epoch;      /* the epoch `order` is for; -1: none */
    const void **rows;    /* (batch) one micro-batch */
    train_loss_fn loss;
    void *ctx;
    seq_batch sb;         /* the LM loss's batch (train_data_init) */
} train_data;

/* Examples as seq sequences with the LM loss on their response tokens
 * (tfm_loss_lm), the mean over a micro-batch's target tokens. */
int train_data_init(train_data *d, const seq *const *ex, size_t n, int batch, int max_len,
                    alarm_err *e);
/* Examples of any type with the task's loss (ctx is its state). */
int train_data_init_task(train_data *d, const void *const *ex, size_t n, int batch,
                         train_loss_fn loss, void *ctx, alarm_err *e);
void train_data_free(train_data *d);

/* The permutation of n examples for epoch `epoch` of a run seeded `seed`:
 * order[i] = i, then Fisher-Yates drawing j = splitmix64 % i for i = n..2
 * from the state seed ^ (0x9e3779b97f4a7c15 * (epoch + 1)). */
void train_order(size_t *order, size_t n, uint64_t seed, long epoch);

/* A fingerprint of the examples' tokens, in their order. */
uint64_t train_data_hash(const seq *const *ex, size_t n);
/* The same FNV-1a, to fold other examples in: start from TRAIN_HASH_START,
 * fold each sequence (its np, nr and ids) and any other bytes in order. */
#define TRAIN_HASH_START 0xcbf29ce484222325ull
uint64_t train_hash_bytes(uint64_t h, const void *p, size_t n);
uint64_t train_hash_seq(uint64_t h, const seq *s);

/* Optimizer steps one epoch takes. */
long train_steps_per_epoch(const train_cfg *c, size_t n);

/* One optimizer step on m (built for the task's micro-batch, tfm_train_alloc'd):
 * *loss is the step's mean micro-batch loss, *gnorm the gradient norm
 * before clipping. A non-finite loss is an error naming the step, and the
 * weights are left as they were. Under mpirun a failure on any rank fails
 * the step on every rank, with that rank's message. */
int train_step(tfm_model *m, const train_cfg *c, train_state *st, train_data *d, float *loss,
               float *gnorm, alarm_err *e);

/* Mean loss over every target token of ex[0, n), batch rows at a time. */
int train_eval(tfm_model *m, train_data *d, const seq *const *ex, size_t n, int batch,
               double *loss, alarm_err *e);
/* The same for examples of d's task: the loss weighted by each micro-batch's
 * weight, and the task's metrics added into tally (NULL: none). */
int train_eval_task(tfm_model *m, train_data *d, const void *const *ex, size_t n, int batch,
                    double *loss, void *tally, alarm_err *e);

/* What train_state_save writes besides trainer_state.json. */
enum {
    TRAIN_SAVE_OPTIMIZER = 1, /* optimizer.safetensors: AdamW's moments */
    TRAIN_SAVE_MASTER = 2     /* and the fp32 weights (master.NAME), when the
                                 checkpoint's own are 16-bit, so a resume is exact */
};

/* trainer_state.json (and what `what` asks) into a checkpoint being written. */
int train_state_save(const ckpt_writer *w, const train_state *st, const train_cfg *c,
                     const tfm_model *m, int what, alarm_err *e);

/* Reads them back from checkpoint dir into st and m (moments, and the
 * weights when the fp32 copy is there), after checking that the run's
 * settings `c` are the ones the state was saved with (data, batch, seed,
 * optimizer, schedule): a difference is an error naming the setting.
 * c NULL: no check (a PPO chain trains on new data each step). */
int train_state_load(const char *dir, const train_cfg *c, train_state *st, tfm_model *m,
                     alarm_err *e);

#endif
