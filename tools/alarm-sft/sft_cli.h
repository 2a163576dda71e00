/* What alarm-sft's files share: its options and the state of one run
 * (alarm-sft(1)). main.c parses and runs the loop, data.c reads the
 * demonstration records, save.c writes checkpoints, reports and store rows. */
#ifndef ALARM_SFT_CLI_H
#define ALARM_SFT_CLI_H

#include "bpe.h"
#include "opt.h"
#include "run.h"
#include "seq.h"
#include "tfm.h"
#include "train.h"

typedef struct {
    const char *model, *init, *tokenizer, *out, *val;
    long epochs, steps, warmup, batch, grad_accum, max_len, save_every;
    double lr, weight_decay, max_grad_norm;
    int schedule;   /* tfm_sched */
    int save_dtype; /* st_dtype, or -1: as loaded (F32 for --init) */
    int resume, trunc_left;
} sft_args;

/* Demonstrations encoded as sequences, and how many were truncated. */
typedef struct {
    seq **ex;
    size_t n, cap;
    long truncated;
} sft_set;

typedef struct {
    const tool *t;
    const sft_args *a;
    bpe *tok;
    int32_t eos;
    tfm_model m;
    seq_enc se;
    sft_set train, val;
    train_cfg cfg;
    train_state st;
    train_data data;
    tool_run run;
    sqlite3_stmt *st_eval;
    const char *tokenizer_src; /* where the checkpoint's tokenizer files come from */
    int tokenizer_is_file;
    int resumed;               /* the run goes on from --out's checkpoint */
} sft_run;

/* The tokenizer, the model (loaded, built from --init, or --out's when
 * resuming) and the encoder of demonstrations. */
int sft_setup(sft_run *R, alarm_err *e);
void sft_teardown(sft_run *R);

/* Reads the demonstration records of `files` (NULL, 0: standard input) into s. */
int sft_read(sft_run *R, sft_set *s, char **files, int nfiles, alarm_err *e);
void sft_set_free(sft_set *s);

/* Evaluates (when there is a validation set), reports on stderr, records a
 * train_evals row, and writes --out (and --out.best on a new best). */
int sft_checkpoint(sft_run *R, double train_loss, alarm_err *e);
/* The validation loss before training, reported and recorded (no checkpoint). */
int sft_eval_start(sft_run *R, alarm_err *e);

int sft_store_open(sft_run *R, alarm_err *e);
/* Ends the run's row: ok, or failed with the message. */
int sft_store_close(sft_run *R, const char *failure);

#endif
