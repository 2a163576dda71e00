/* rollout: see rollout.h. One loop iteration: fill free rows with queued
 * jobs (each prompt prefilled alone into its row), draw one token for every
 * busy row from that row's logits and stream, retire the rows that finished,
 * step the rest, and emit the finished jobs at the head of the queue. */
#include "rollout.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "rng.h"

struct rollout_job {
    int32_t *prompt;
    int np, sample;
    sample_rng rng;
    void *tag;
    int32_t *resp;
    float *lp;
    int n, done;
    rollout_finish finish;
};

static void job_free(rollout_job *j)
{
    if (j) {
        free(j->prompt);
        free(j->resp);
        free(j->lp);
        free(j);
    }
}

int rollout_init(rollout *r, alarm_err *e)
{
    int B = r->B, V = r->m->cfg.V;
    if (B < 1 || r->max_new < 1 || r->maxT < 2)
        return err_set(e, "rollout: batch, new tokens and positions must be positive");
    if (sample_check(&r->sp, e) < 0)
        return -1;
    if (tfm_kv_build(&r->kv, r->m, B, r->maxT, e) < 0)
        return -1;
    r->ctx = calloc((size_t)B, sizeof *r->ctx);
    r->slot = calloc((size_t)B, sizeof *r->slot);
    r->active = calloc((size_t)B, sizeof *r->active);
    r->tok = calloc((size_t)B, sizeof *r->tok);
    r->pad = calloc((size_t)r->maxT, sizeof *r->pad);
    if (!r->ctx || !r->slot || !r->active || !r->tok || !r->pad)
        return err_set(e, "out of memory");
    for (int b = 0; b < B; b++)
        if (sample_ctx_init(&r->ctx[b], V, e) < 0)
            return -1;
    return 0;
}

void rollout_free(rollout *r)
{
    for (int b = 0; r->ctx && b < r->B; b++)
        sample_ctx_free(&r->ctx[b]);
    for (size_t i = r->head; i < r->njobs; i++) {
        if (r->drop)
            r->drop(r->user, r->jobs[i]->tag);
        job_free(r->jobs[i]);
    }
    free(r->jobs);
    free(r->ctx);
    free(r->slot);
    free(r->active);
    free(r->tok);
    free(r->pad);
    tfm_kv_free(&r->kv);
}

size_t rollout_pending(const rollout *r)
{
    return r->njobs - r->head;
}

uint64_t rollout_seed(uint64_t seed, const char *id, size_t idlen, int sample)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the id, then mixed with the rest */
    for (size_t i = 0; i < idlen; i++)
        h = (h ^ (unsigned char)id[i]) * 0x100000001b3ull;
    uint64_t s = seed ^ rng_next(&h);
    s ^= rng_next(&s) + (uint64_t)sample;
    return rng_next(&s);
}

int rollout_push(rollout *r, const int32_t *prompt, int np, int sample, uint64_t seed,
                 void *tag, alarm_err *e)
{
    if (np < 1 || np + r->max_new > r->maxT)
        return err_set(e, "a prompt of %d tokens and %d new ones exceed %d positions", np,
                       r->max_new, r->maxT);
    /* compact the emitted jobs away now and then, so the array stays short */
    if (r->head > 0 && r->head == r->njobs)
        r->njobs = r->next = r->head = 0;
    if (grow_array(&r->jobs, &r->cap, r->njobs + 1, sizeof *r->jobs, 64, e) < 0)
        return -1;
    rollout_job *j = calloc(1, sizeof *j);
    if (!j || !(j->prompt = malloc((size_t)np * sizeof *j->prompt)) ||
        !(j->resp = malloc((size_t)r->max_new * sizeof *j->resp)) ||
        !(j->lp = malloc((size_t)r->max_new * sizeof *j->lp))) {
        job_free(j);
        return err_set(e, "out of memory");
    }
    memcpy(j->prompt, prompt, (size_t)np * sizeof *prompt);
    j->np = np;
    j->sample = sample;
    j->tag = tag;
    sample_seed(&j->rng, seed);
    r->jobs[r->njobs++] = j;
    return 0;
}

/* Queued jobs into free rows, one prefill each. */
static int dispatch(rollout *r, alarm_err *e)
{
    for (int b = 0; b < r->B && r->next < r->njobs; b++) {
        if (r->slot[b])
            continue;
        rollout_job *j = r->jobs[r->next++];
        for (int t = 0; t < j->np; t++)
            r->pad[t] = j->prompt[t];
        if (tfm_kv_prefill_slots(&r->kv, r->m, r->pad, &j->np, 1, j->np, &b, e) < 0)
            return -1;
        r->slot[b] = j;
        r->active[b] = 1;
    }
    return 0;
}

/* One token for each busy row; finished rows are retired. */
static void draw(rollout *r)
{
    int V = r->m->cfg.V;
#pragma omp parallel for schedule(dynamic) if (r->B > 1 && V >= 4096)
    for (int b = 0; b < r->B; b++) {
        rollout_job *j = r->slot[b];
        if (!j)
            continue;
        float lp;
        int t = sample_token(&r->ctx[b], r->kv.logits + (size_t)b * V, &r->sp, &j->rng, &lp);
        j->resp[j->n] = t;
        j->lp[j->n++] = lp;
        r->tok[b] = t;
        int eos = r->stop && !r->no_eos && gen_cfg_is_eos(r->stop, t);
        if (eos || j->n == r->max_new) {
            j->finish = eos ? ROLLOUT_EOS : ROLLOUT_LENGTH;
            j->done = 1;
            r->slot[b] = NULL;
            r->active[b] = 0;
        }
    }
}

static int emit_done(rollout *r, alarm_err *e)
{
    while (r->head < r->next && r->jobs[r->head]->done) {
        rollout_job *j = r->jobs[r->head];
        rollout_out o = {j->tag, j->sample, j->resp, j->lp, j->n, j->finish};
        r->tokens_out += j->n;
        int rc = r->emit(r->user, &o, e);
        job_free(j);
        r->jobs[r->head++] = NULL;
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int busy(const rollout *r)
{
    for (int b = 0; b < r->B; b++)
        if (r->slot[b])
            return 1;
    return 0;
}

int rollout_run(rollout *r, size_t keep, alarm_err *e)
{
    while (r->njobs - r->next > keep || (keep == 0 && (busy(r) || r->head < r->njobs))) {
        if (dispatch(r, e) < 0)
            return -1;
        if (!busy(r))
            break;
        draw(r);
        if (busy(r) && tfm_kv_step(&r->kv, r->m, r->tok, r->active, r->B, e) < 0)
            return -1;
        if (emit_done(r, e) < 0)
            return -1;
    }
    return emit_done(r, e);
}
