/* trainer_loop: a trainer's steps, evaluations (a line on stderr, a
 * train_evals row in the store, alarm-formats(5) section 8) and checkpoints
 * (section 7): --out with everything a resume needs, and --out.best, the
 * weights of the lowest validation loss so far. Under mpirun every rank
 * evaluates and rank 0 alone writes (ranks.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dist.h"
#include "out.h"
#include "ranks.h"
#include "st.h"
#include "tfm_ckpt.h"
#include "trainer.h"

static const char eval_sql[] =
    "INSERT INTO train_evals (run_id, step, epoch, lr, train_loss, val_loss, tokens, "
    "checkpoint, best, val_accuracy, val_metrics) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

static int record(trainer *T, double epoch, double lr, double train_loss,
                  const trainer_eval *ev, int saved, int best, alarm_err *e);

int trainer_start(trainer *T, alarm_err *e)
{
    if (run_start(&T->run, T->t, e) < 0 ||
        (T->run.db.h && db_prepare(&T->run.db, &T->st_eval, eval_sql, e) < 0))
        return -1;
    if (T->resumed && train_state_load(T->a->out, &T->cfg, &T->st, &T->m, e) < 0)
        return -1;
    if (T->resumed || !T->evaluate)
        return 0;
    trainer_eval ev = {.loss = -1, .accuracy = -1};
    int rc = T->evaluate(T, &ev, e);
    if (rc == 0 && !T->t->quiet)
        fprintf(stderr, "%s: step 0: val loss %.4f%s\n", T->t->name, ev.loss, ev.text);
    if (rc == 0)
        rc = record(T, 0, 0, -1, &ev, 0, 0, e);
    free(ev.metrics);
    return rc;
}

int trainer_end(trainer *T, int rc, const alarm_err *e)
{
    int status = rc < 0 ? tool_fail(T->t, e->msg) : TOOL_OK;
    if (T->st_eval)
        sqlite3_finalize(T->st_eval);
    T->st_eval = NULL;
    if (run_end(&T->run, T->t, rc < 0 ? e->msg : NULL) < 0)
        status = TOOL_FAIL;
    trainer_teardown(T);
    return status;
}

typedef struct {
    trainer *T;
    int what; /* TRAIN_SAVE_* */
} extra_files;

/* The trainer's files, the tool's, and the tokenizer when --tokenizer named a file. */
static int write_extra(const ckpt_writer *w, void *ctx, alarm_err *e)
{
    extra_files *x = ctx;
    trainer *T = x->T;
    if (T->tokenizer_is_file && ckpt_copy_file(w, T->tokenizer_src, "tokenizer.json", e) < 0)
        return -1;
    if (T->extra && T->extra(T, w, e) < 0)
        return -1;
    return train_state_save(w, &T->st, &T->cfg, &T->m, x->what, e);
}

int trainer_save(trainer *T, const char *dir, int what, alarm_err *e)
{
    st_dtype dtype = T->a->save_dtype >= 0 ? (st_dtype)T->a->save_dtype : T->m.cfg.dtype;
    if (dtype != ST_F32 && (what & TRAIN_SAVE_OPTIMIZER))
        what |= TRAIN_SAVE_MASTER;
    extra_files x = {T, what};
    tfm_save_opts o = {.dtype = dtype, .extra = write_extra, .extra_ctx = &x};
    return tfm_save_as(&T->m, dir, T->tokenizer_is_file ? NULL : T->tokenizer_src, &o, e);
}

static void bind_or_null(sqlite3_stmt *st, int i, double v)
{
    if (v >= 0)
        sqlite3_bind_double(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* One train_evals row (losses < 0: none; saved 0: no checkpoint written). */
static int record(trainer *T, double epoch, double lr, double train_loss,
                  const trainer_eval *ev, int saved, int best, alarm_err *e)
{
    if (!T->run.db.h)
        return 0;
    sqlite3_stmt *st = T->st_eval;
    sqlite3_bind_int64(st, 1, T->run.id);
    sqlite3_bind_int64(st, 2, T->st.step);
    sqlite3_bind_double(st, 3, epoch);
    sqlite3_bind_double(st, 4, lr);
    bind_or_null(st, 5, train_loss);
    bind_or_null(st, 6, ev->loss);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)T->st.tokens);
    db_bind_text(st, 8, saved ? T->a->out : NULL);
    sqlite3_bind_int(st, 9, best);
    bind_or_null(st, 10, ev->accuracy);
    db_bind_text(st, 11, ev->metrics);
    if (run_batch_begin(&T->run, e) < 0 || db_step_done(&T->run.db, st, e) < 0)
        return -1;
    return run_batch_commit(&T->run, e);
}

/* What a checkpoint writes: --out.best, --out and the train_evals row. */
typedef struct {
    trainer *T;
    const trainer_eval *ev;
    double epoch, lr, train_loss;
    int best;
} saving;

static int save_all(void *ctx, alarm_err *e)
{
    saving *x = ctx;
    trainer *T = x->T;
    const char *out = T->a->out;
    char best_dir[4096];
    if (x->best && (size_t)snprintf(best_dir, sizeof best_dir, "%s.best", out) >= sizeof best_dir)
        return err_set(e, "%s: path too long", out);
    /* the best first: a kill between the two is redone identically on resume */
    if ((x->best && trainer_save(T, best_dir, 0, e) < 0) ||
        trainer_save(T, out, TRAIN_SAVE_OPTIMIZER, e) < 0)
        return -1;
    return record(T, x->epoch, x->lr, x->train_loss, x->ev, 1, x->best, e);
}

static int checkpoint(trainer *T, double train_loss, alarm_err *e)
{
    trainer_eval ev = {.loss = -1, .accuracy = -1};
    int best = 0;
    if (T->evaluate) {
        if (T->evaluate(T, &ev, e) < 0)
            return -1;
        best = T->st.best_val < 0 || ev.loss < T->st.best_val;
        if (best) {
            T->st.best_val = ev.loss;
            T->st.best_step = T->st.step;
        }
    }
    long per_epoch = train_steps_per_epoch(&T->cfg, T->examples);
    double epoch = (double)T->st.step / (double)per_epoch;
    double lr = tfm_lr_at(&T->cfg.opt, (int)T->st.step - 1);
    if (!T->t->quiet) {
        fprintf(stderr, "%s: step %ld (epoch %.2f): train loss %.4f", T->t->name, T->st.step,
                epoch, train_loss);
        if (ev.loss >= 0)
            fprintf(stderr, ", val loss %.4f%s%s", ev.loss, ev.text, best ? " (best)" : "");
        fprintf(stderr, ", lr %.3g\n", lr);
    }
    saving x = {T, &ev, epoch, lr, train_loss, best};
    int rc = ranks_write(T->m.params, T->m.nparams, save_all, &x, e);
    free(ev.metrics);
    return rc;
}

int trainer_train(trainer *T, alarm_err *e)
{
    const trainer_args *a = T->a;
    if (dist_same(&T->cfg.data_hash, sizeof T->cfg.data_hash, "training records", e) < 0)
        return -1;
    long every = a->save_every ? a->save_every : train_steps_per_epoch(&T->cfg, T->examples);
    double sum = 0, t0 = clock_mono(), tok0 = T->st.tokens, in_steps = 0;
    long n = 0;
    while (T->st.step < T->cfg.opt.total) {
        float loss, gnorm;
        double s0 = clock_mono();
        if (train_step(&T->m, &T->cfg, &T->st, &T->data, &loss, &gnorm, e) < 0) {
            alarm_err why = *e;
            return err_set(e, "%s; stopped: %s keeps the last good checkpoint", why.msg, a->out);
        }
        in_steps += clock_mono() - s0;
        sum += loss;
        n++;
        double dt = clock_mono() - t0;
        tool_progress(T->t, "step %ld/%d, loss %.4f, %.0f %s/s", T->st.step, T->cfg.opt.total,
                      loss, dt > 0 ? (T->st.tokens - tok0) / dt : 0, T->unit);
        if (T->st.step % every == 0 || T->st.step == T->cfg.opt.total) {
            tool_progress_done(T->t);
            if (checkpoint(T, sum / (double)n, e) < 0)
                return -1;
            sum = 0;
            n = 0;
        }
    }
    ranks_report(T->t, in_steps);
    return 0;
}
