/* alarm-ppo's outputs: the new checkpoint in --out (alarm-formats(5)
 * section 7, atomic) with what the next step of the chain needs, and the
 * step's statistics: a JSON line on stdout, --stats, the store's ppo_steps.
 * Under mpirun, rank 0's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "ppo_cli.h"
#include "ranks.h"
#include "tfm_ckpt.h"

static int write_state(const ckpt_writer *w, void *ctx, alarm_err *e)
{
    ppo_run *R = ctx;
    char json[256];
    int n = snprintf(json, sizeof json,
                     "{\n  \"format\": \"alarm ppo state 1\",\n  \"step\": %ld,\n"
                     "  \"kl_coef\": %.17g\n}\n", R->chain.step + 1, R->chain.kl_coef);
    if (ckpt_write_file(w, "ppo_state.json", json, (size_t)n, e) < 0)
        return -1;
    /* a 16-bit checkpoint keeps its fp32 weights beside it, so the chain stays exact */
    int what = TRAIN_SAVE_OPTIMIZER | (R->pol.cfg.dtype != ST_F32 ? TRAIN_SAVE_MASTER : 0);
    return train_state_save(w, &R->ts, &R->tc, &R->pol, what, e);
}

static int record(ppo_run *R, const char *line, alarm_err *e)
{
    if (!R->run.db.h)
        return 0;
    sqlite3_stmt *st;
    if (db_prepare(&R->run.db, &st, "INSERT INTO ppo_steps (run_id, step, stats) VALUES (?, ?, ?)",
                   e) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, R->run.id);
    sqlite3_bind_int64(st, 2, R->chain.step + 1);
    db_bind_text(st, 3, line);
    int rc = run_batch_begin(&R->run, e) < 0 || db_step_done(&R->run.db, st, e) < 0 ? -1 : 0;
    sqlite3_finalize(st);
    return rc;
}

static int write_all(void *ctx, alarm_err *e)
{
    ppo_run *R = ctx;
    const ppo_args *a = R->a;
    tfm_save_opts o = {.dtype = R->pol.cfg.dtype, .extra = write_state, .extra_ctx = R};
    char *line = cJSON_PrintUnformatted(R->stats);
    if (!line)
        return err_set(e, "out of memory");
    int rc = record(R, line, e);
    if (!rc)
        rc = tfm_save_as(&R->pol, a->out, a->policy, &o, e);
    if (!rc && a->stats) { /* one line appended per step: a chain's history */
        FILE *f = fopen(a->stats, "a");
        int bad = !f || fprintf(f, "%s\n", line) < 0;
        if ((f && fclose(f) != 0) || bad)
            rc = err_set(e, "%s: cannot append the statistics", a->stats);
    }
    if (!rc)
        printf("%s\n", line);
    free(line);
    return rc;
}

int ppo_save(ppo_run *R, alarm_err *e)
{
    return ranks_write(R->pol.params, R->pol.nparams, write_all, R, e);
}
