/* alarm-ppo's input: combined records (alarm-formats(5) section 4) read
 * through the record driver: prompt_tokens, response_tokens and
 * reward.dense, checked against the policy's vocabulary and context. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drive.h"
#include "grow.h"
#include "jsonl.h"
#include "record.h"
#include "ppo_cli.h"
#include "tfm_config.h"

typedef struct {
    ppo_run *R;
    int V, context;
    int32_t *ids;
    size_t cap;
    int32_t *tmp;  /* one array's ids as read */
    size_t tmp_cap;
} reading;

/* An array of token ids of the vocabulary into g->ids (at offset `at`). */
static int get_tokens(reading *g, jsonl_reader *rd, const cJSON *rec, const char *key,
                      size_t at, int *n, alarm_err *e)
{
    size_t k;
    if (record_token_ids(rd, rec, key, 1, g->V, &g->tmp, &g->tmp_cap, &k, e) < 0 ||
        grow_array(&g->ids, &g->cap, at + k + 1, sizeof *g->ids, 256, e) < 0)
        return -1;
    memcpy(g->ids + at, g->tmp, k * sizeof *g->ids);
    *n = (int)k;
    return 0;
}

static int get_reward(jsonl_reader *rd, const cJSON *rec, ppo_rec *p, alarm_err *e)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(rec, "reward");
    if (!cJSON_IsObject(r))
        return jsonl_fail(rd, e, "field \"reward\": missing: alarm-ppo takes alarm-select's "
                                 "combined records");
    const cJSON *d;
    if (jsonl_req_array(rd, r, "reward", "dense", &d, e) < 0 ||
        jsonl_req_number(rd, r, "reward", "total", &p->total, e) < 0)
        return -1;
    if (cJSON_GetArraySize(d) != p->s.nr)
        return jsonl_fail(rd, e, "field \"reward.dense\": %d values for %d response tokens",
                          cJSON_GetArraySize(d), p->s.nr);
    if (!(p->dense = malloc(((size_t)p->s.nr + 1) * sizeof *p->dense)))
        return err_set(e, "out of memory");
    double sum = 0;
    int k = 0;
    for (const cJSON *x = d->child; x; x = x->next, k++) {
        if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
            return jsonl_fail(rd, e, "field \"reward.dense\"[%d]: not a finite number", k);
        p->dense[k] = (float)x->valuedouble;
        sum += p->dense[k];
    }
    if (fabs(sum - p->total) > 1e-4 * (1 + fabs(p->total)))
        return jsonl_fail(rd, e, "field \"reward.total\": %.9g, but reward.dense sums to %.9g",
                          p->total, sum);
    return 0;
}

static int take_record(void *user, jsonl_reader *rd, cJSON **rec, alarm_err *e)
{
    reading *g = user;
    ppo_run *R = g->R;
    const char *id;
    int np, nr;
    if (jsonl_req_string(rd, *rec, NULL, "id", &id, e) < 0 ||
        get_tokens(g, rd, *rec, "prompt_tokens", 0, &np, e) < 0 ||
        get_tokens(g, rd, *rec, "response_tokens", (size_t)np, &nr, e) < 0)
        return -1;
    if (np < 1 || nr < 1)
        return jsonl_fail(rd, e, "field \"%s\": empty", np < 1 ? "prompt_tokens" : "response_tokens");
    if (np + nr > g->context)
        return jsonl_fail(rd, e, "id \"%s\": %d prompt and %d response tokens exceed the policy's "
                                 "context of %d", id, np, nr, g->context);
    if (grow_array(&R->recs, &R->cap, R->n + 1, sizeof *R->recs, 64, e) < 0)
        return -1;
    ppo_rec *p = &R->recs[R->n++];
    memset(p, 0, sizeof *p);
    seq_enc se = {.max_tokens = g->context, .vocab = g->V};
    if (!(p->id = strdup(id)) ||
        seq_set_tokens(&p->s, &se, g->ids, np, g->ids + np, nr, e) < 0)
        return p->id ? -1 : err_set(e, "out of memory");
    if (get_reward(rd, *rec, p, e) < 0)
        return -1;
    p->eos = R->eos >= 0 && p->s.ids[np + nr - 1] == R->eos;
    if (np + nr > R->maxT)
        R->maxT = np + nr;
    return 0;
}

int ppo_read(ppo_run *R, alarm_err *e)
{
    tfm_config c;
    if (tfm_config_load(&c, R->a->policy, e) < 0)
        return -1;
    R->eos = c.eos_id;
    reading g = {.R = R, .V = c.V, .context = tfm_config_max_len(&c)};
    drive d = {.t = R->t, .fn = take_record, .user = &g, .unique_ids = 1};
    int rc = drive_files(&d, e);
    free(g.ids);
    free(g.tmp);
    if (rc < 0)
        return -1;
    if (R->n == 0)
        return err_set(e, "no combined records: nothing to train on");
    long per = R->a->mini_batch * R->a->grad_accum;
    if ((long)R->n % per)
        return err_set(e, "%zu records do not split into optimizer steps of --mini-batch %ld x "
                          "--grad-accum %ld", R->n, R->a->mini_batch, R->a->grad_accum);
    return 0;
}

uint64_t ppo_records_hash(const ppo_run *R)
{
    uint64_t h = TRAIN_HASH_START;
    for (size_t i = 0; i < R->n; i++) {
        h = train_hash_seq(h, &R->recs[i].s);
        h = train_hash_bytes(h, R->recs[i].dense, (size_t)R->recs[i].s.nr * sizeof(float));
    }
    return h;
}

void ppo_run_free(ppo_run *R)
{
    for (size_t i = 0; i < R->n; i++) {
        free(R->recs[i].id);
        free(R->recs[i].dense);
        seq_free(&R->recs[i].s);
    }
    free(R->recs);
    ppo_tokens *T = &R->tok;
    float *arr[] = {T->lp, T->ref, T->kl_full, T->values, T->dense, T->kl, T->non_score,
                    T->rewards, T->adv, T->ret, T->new_lp, T->new_v, T->ent, T->dlp, T->dv};
    for (size_t k = 0; k < sizeof arr / sizeof *arr; k++)
        free(arr[k]);
    free(T->first);
    seq_batch_free(&R->sb);
    cJSON_Delete(R->stats);
    tfm_free(&R->pol);
    tfm_free(&R->ref);
    memset(R, 0, sizeof *R);
}
