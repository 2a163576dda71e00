/* alarm-sft's evaluations: the validation loss, a line on stderr, a
 * train_evals row in the store (alarm-formats(5) section 8), and the
 * checkpoints (section 7): --out with everything a resume needs, and
 * --out.best, the weights of the lowest validation loss so far. */
#include <stdio.h>
#include <string.h>

#include "ckpt.h"
#include "sft_cli.h"
#include "st.h"
#include "tfm_ckpt.h"

static const char eval_sql[] =
    "INSERT INTO train_evals (run_id, step, epoch, lr, train_loss, val_loss, tokens, "
    "checkpoint, best) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

int sft_store_open(sft_run *R, alarm_err *e)
{
    if (run_start(&R->run, R->t, e) < 0)
        return -1;
    return R->run.db.h ? db_prepare(&R->run.db, &R->st_eval, eval_sql, e) : 0;
}

int sft_store_close(sft_run *R, const char *failure)
{
    if (R->st_eval)
        sqlite3_finalize(R->st_eval);
    R->st_eval = NULL;
    return run_end(&R->run, R->t, failure);
}

typedef struct {
    sft_run *R;
    int what; /* TRAIN_SAVE_* */
} extra_files;

/* The trainer's files, and the tokenizer when --tokenizer named a file. */
static int write_extra(const ckpt_writer *w, void *ctx, alarm_err *e)
{
    extra_files *x = ctx;
    sft_run *R = x->R;
    if (R->tokenizer_is_file && ckpt_copy_file(w, R->tokenizer_src, "tokenizer.json", e) < 0)
        return -1;
    return train_state_save(w, &R->st, &R->cfg, &R->m, x->what, e);
}

static int save(sft_run *R, const char *dir, int what, alarm_err *e)
{
    st_dtype dtype = R->a->save_dtype >= 0 ? (st_dtype)R->a->save_dtype : R->m.cfg.dtype;
    if (dtype != ST_F32 && (what & TRAIN_SAVE_OPTIMIZER))
        what |= TRAIN_SAVE_MASTER;
    extra_files x = {R, what};
    tfm_save_opts o = {.dtype = dtype, .extra = write_extra, .extra_ctx = &x};
    return tfm_save_as(&R->m, dir, R->tokenizer_is_file ? NULL : R->tokenizer_src, &o, e);
}

static void bind_loss(sqlite3_stmt *st, int i, double loss)
{
    if (loss >= 0)
        sqlite3_bind_double(st, i, loss);
    else
        sqlite3_bind_null(st, i);
}

/* One train_evals row (losses < 0: none; saved 0: no checkpoint written). */
static int record(sft_run *R, double epoch, double lr, double train_loss, double val_loss,
                  int saved, int best, alarm_err *e)
{
    if (!R->run.db.h)
        return 0;
    sqlite3_stmt *st = R->st_eval;
    sqlite3_bind_int64(st, 1, R->run.id);
    sqlite3_bind_int64(st, 2, R->st.step);
    sqlite3_bind_double(st, 3, epoch);
    sqlite3_bind_double(st, 4, lr);
    bind_loss(st, 5, train_loss);
    bind_loss(st, 6, val_loss);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)R->st.tokens);
    db_bind_text(st, 8, saved ? R->a->out : NULL);
    sqlite3_bind_int(st, 9, best);
    if (run_batch_begin(&R->run, e) < 0 || db_step_done(&R->run.db, st, e) < 0)
        return -1;
    return run_batch_commit(&R->run, e);
}

int sft_checkpoint(sft_run *R, double train_loss, alarm_err *e)
{
    const sft_args *a = R->a;
    double val = -1;
    int best = 0;
    if (R->val.n) {
        if (train_eval(&R->m, &R->data, (const seq *const *)R->val.ex, R->val.n,
                       (int)a->batch, &val, e) < 0)
            return -1;
        best = R->st.best_val < 0 || val < R->st.best_val;
        if (best) {
            R->st.best_val = val;
            R->st.best_step = R->st.step;
        }
    }
    long per_epoch = train_steps_per_epoch(&R->cfg, R->train.n);
    double epoch = (double)R->st.step / (double)per_epoch;
    double lr = tfm_lr_at(&R->cfg.opt, (int)R->st.step - 1);
    if (!R->t->quiet) {
        fprintf(stderr, "%s: step %ld (epoch %.2f): train loss %.4f", R->t->name, R->st.step,
                epoch, train_loss);
        if (val >= 0)
            fprintf(stderr, ", val loss %.4f%s", val, best ? " (best)" : "");
        fprintf(stderr, ", lr %.3g\n", lr);
    }
    char best_dir[4096];
    if (best && (size_t)snprintf(best_dir, sizeof best_dir, "%s.best", a->out) >= sizeof best_dir)
        return err_set(e, "%s: path too long", a->out);
    /* the best first: a kill between the two is redone identically on resume */
    if (best && save(R, best_dir, 0, e) < 0)
        return -1;
    if (save(R, a->out, TRAIN_SAVE_OPTIMIZER, e) < 0)
        return -1;
    return record(R, epoch, lr, train_loss, val, 1, best, e);
}

int sft_eval_start(sft_run *R, alarm_err *e)
{
    double val;
    if (train_eval(&R->m, &R->data, (const seq *const *)R->val.ex, R->val.n, (int)R->a->batch,
                   &val, e) < 0)
        return -1;
    if (!R->t->quiet)
        fprintf(stderr, "%s: step 0: val loss %.4f\n", R->t->name, val);
    return record(R, 0, 0, -1, val, 0, 0, e);
}
