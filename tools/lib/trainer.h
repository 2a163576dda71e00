/* trainer: what the training tools (alarm-sft, alarm-rm) share around the
 * loop of common/train: the optimisation options, the model and tokenizer
 * (--model, --init with --tokenizer, --out's checkpoint on --resume), the
 * settings, the loop with its progress line, evaluations reported on
 * stderr and in train_evals, and the checkpoints (alarm-formats(5)
 * sections 7 and 8). The tool brings the examples, the task's loss and its
 * evaluation. */
#ifndef ALARM_TRAINER_H
#define ALARM_TRAINER_H

#include <stddef.h>

#include "bpe.h"
#include "ckpt.h"
#include "opt.h"
#include "run.h"
#include "seq.h"
#include "tfm.h"
#include "train.h"

/* The options every trainer takes; the first member of a tool's args. */
typedef struct {
    const char *model, *init, *tokenizer, *out, *val;
    long epochs, steps, warmup, batch, grad_accum, max_len, save_every;
    double lr, weight_decay, max_grad_norm;
    int schedule;   /* tfm_sched */
    int save_dtype; /* st_dtype, or -1: as loaded (F32 for --init) */
    int resume, trunc_left;
} trainer_args;

/* The defaults of trainer_args. */
#define TRAINER_ARGS_DEFAULT                                                                  \
    {.lr = 5e-5, .schedule = TFM_SCHED_LINEAR, .max_grad_norm = 1, .batch = 8,               \
     .grad_accum = 1, .save_dtype = -1}

int trainer_parse_schedule(void *p, const char *v, alarm_err *e);
int trainer_parse_dtype(void *p, const char *v, alarm_err *e);
int trainer_parse_truncate(void *p, const char *v, alarm_err *e);

/* The option table's entries for trainer_args `tr`, the first member of
 * the tool's args struct S; the strings say what the tool's examples are. */
#define TRAINER_OPT_AT(S, f) (offsetof(S, tr) + offsetof(trainer_args, f))
#define TRAINER_OPTS(S, MODEL_HELP, VAL_HELP, BATCH_HELP, LEN_HELP, TRUNC_HELP)                \
    {"model", 0, "DIR", MODEL_HELP, .type = OPT_STR, .off = TRAINER_OPT_AT(S, model)},        \
    {"init", 0, "CONFIG", "a new model from this config.json (with --tokenizer)",             \
     .type = OPT_STR, .off = TRAINER_OPT_AT(S, init)},                                        \
    {"tokenizer", 0, "FILE", "tokenizer.json (or a directory holding one) for --init",        \
     .type = OPT_STR, .off = TRAINER_OPT_AT(S, tokenizer)},                                   \
    {"out", 'o', "DIR", "the checkpoint to write (and DIR.best with --val)", .type = OPT_STR, \
     .off = TRAINER_OPT_AT(S, out)},                                                          \
    {"val", 0, "FILE", VAL_HELP, .type = OPT_STR, .off = TRAINER_OPT_AT(S, val)},             \
    {"epochs", 0, "N", "passes over the data", "1", .type = OPT_LONG,                         \
     .off = TRAINER_OPT_AT(S, epochs), .min = 1, .max = 1000000},                              \
    {"steps", 0, "N", "optimizer steps instead of --epochs", .type = OPT_LONG,                \
     .off = TRAINER_OPT_AT(S, steps), .min = 1, .max = 1L << 40},                              \
    {"lr", 0, "X", "peak learning rate", "5e-5", .type = OPT_DOUBLE,                          \
     .off = TRAINER_OPT_AT(S, lr), .fmin = 0, .fmax = 10},                                     \
    {"schedule", 0, "cosine|linear|constant", "decay after warmup, to 0 at the last step",    \
     "linear", .type = OPT_CALL, .call = trainer_parse_schedule},                             \
    {"warmup", 0, "N", "steps of linear warmup", "0", .type = OPT_LONG,                       \
     .off = TRAINER_OPT_AT(S, warmup), .min = 0, .max = 1L << 30},                             \
    {"weight-decay", 0, "X", "AdamW's decoupled weight decay", "0", .type = OPT_DOUBLE,       \
     .off = TRAINER_OPT_AT(S, weight_decay), .fmin = 0, .fmax = 10},                           \
    {"max-grad-norm", 0, "X", "clip the gradient's norm (0: no clipping)", "1",               \
     .type = OPT_DOUBLE, .off = TRAINER_OPT_AT(S, max_grad_norm), .fmin = 0, .fmax = 1e9},     \
    {"batch", 0, "B", BATCH_HELP, "8", .type = OPT_LONG, .off = TRAINER_OPT_AT(S, batch),     \
     .min = 1, .max = 65536},                                                                 \
    {"grad-accum", 0, "K", "micro-batches per optimizer step", "1", .type = OPT_LONG,         \
     .off = TRAINER_OPT_AT(S, grad_accum), .min = 1, .max = 65536},                            \
    {"max-len", 0, "T", LEN_HELP, "the model's positions", .type = OPT_LONG,                  \
     .off = TRAINER_OPT_AT(S, max_len), .min = 2, .max = 1 << 20},                             \
    {"truncate", 0, "error|left", TRUNC_HELP, "error", .type = OPT_CALL,                      \
     .call = trainer_parse_truncate},                                                         \
    {"save-every", 0, "N", "evaluate and checkpoint every N steps", "each epoch",              \
     .type = OPT_LONG, .off = TRAINER_OPT_AT(S, save_every), .min = 1, .max = 1L << 40},       \
    {"resume", 0, NULL, "go on from the checkpoint in --out, exactly", .type = OPT_FLAG,      \
     .off = TRAINER_OPT_AT(S, resume)},                                                       \
    {"save-dtype", 0, "f32|bf16|f16", "the weights' type on disk",                            \
     "as loaded; f32 for --init", .type = OPT_CALL, .call = trainer_parse_dtype}

/* A misuse of the trainer options, or NULL. */
const char *trainer_check_args(const trainer_args *a);

/* One evaluation's results. */
typedef struct {
    double loss;     /* < 0: none */
    double accuracy; /* < 0: none */
    char text[512];  /* what the report line adds after the loss (", val accuracy 0.93") */
    char *metrics;   /* a JSON object for the store (malloc'd), or NULL */
} trainer_eval;

typedef struct trainer trainer;
struct trainer {
    const tool *t;
    const trainer_args *a;
    /* what the tool sets before trainer_setup */
    int rows_per_example;   /* model rows one example takes (a pair: 2) */
    int reserve;            /* tokens kept free after a response (an EOS: 1) */
    const char *limit_name; /* how length errors name --max-len */
    const char *eos_why;    /* why an EOS is needed, for its error */
    const char *unit;       /* what the progress line counts per second ("tokens") */
    /* the head a new model gets (--init, or an LM's backbone); NULL: the LM */
    void (*head)(tfm_config *c, void *user);
    /* the validation, NULL: none; and more files for each checkpoint */
    int (*evaluate)(trainer *T, trainer_eval *ev, alarm_err *e);
    int (*extra)(trainer *T, const ckpt_writer *w, alarm_err *e);
    void *user;
    /* what trainer_setup makes */
    bpe *tok;
    int32_t eos;
    tfm_model m;
    seq_enc se;
    train_cfg cfg;
    train_state st;
    train_data data;
    size_t examples;
    tool_run run;
    sqlite3_stmt *st_eval;
    const char *tokenizer_src; /* where the checkpoint's tokenizer files come from */
    int tokenizer_is_file;
    int resumed;               /* the run goes on from --out's checkpoint */
};

/* The tokenizer, the model (loaded, built from --init, or --out's when
 * resuming; given T->head when it has another) and the encoder. */
int trainer_setup(trainer *T, alarm_err *e);
void trainer_teardown(trainer *T);

/* The run's settings for n examples fingerprinted data_hash; the data
 * (train_data_init* into T->data), the store, and on --resume the state;
 * then, with T->evaluate and not resuming, the evaluation before training. */
void trainer_settle(trainer *T, size_t n, uint64_t data_hash);
int trainer_start(trainer *T, alarm_err *e);

/* The loop: steps until the last, an evaluation and checkpoint each epoch
 * (or --save-every steps) and after the last step. Under mpirun the ranks
 * first agree (dist_agree) on everything before it, the setup, the
 * records and trainer_start, and on having read the same records; rank 0
 * alone writes, after checking that every rank holds the same weights. */
int trainer_train(trainer *T, alarm_err *e);

/* Writes a checkpoint of T's model into dir (with the trainer's state when
 * `what` has TRAIN_SAVE_OPTIMIZER). */
int trainer_save(trainer *T, const char *dir, int what, alarm_err *e);

/* After the tool's run (rc its result, e its error): the failure reported,
 * the run's row ended (ok, or failed with the message), T freed; the exit
 * status for tool_finish. */
int trainer_end(trainer *T, int rc, const alarm_err *e);

#endif
