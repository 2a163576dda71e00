/* judge_sys: loading and aligning the systems' records (see judge_sys.h).
 * Lookups by prompt id go through a sorted index and binary search, so a
 * file of n records aligns in O(n log n) without a hash table. */
#include "judge_sys.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "record.h"
#include "rng.h"
#include "shard.h"

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* qsort has no context argument: the records being sorted are passed here. */
static const judge_resp *sort_recs;

/* By prompt id, then file order, so a repeated id's first record sorts first. */
static int cmp_by_id(const void *x, const void *y)
{
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    int c = strcmp(sort_recs[i].prompt_id, sort_recs[j].prompt_id);
    return c ? c : (i > j) - (i < j);
}

static long find_id(const judge_system *s, const char *id)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->r[s->by_id[mid]].prompt_id, id);
        if (c == 0)
            return (long)s->by_id[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Reads one record's fields; the reward names are set->rewards. */
static int read_record(judge_set *set, jsonl_reader *r, const cJSON *rec, judge_resp *out,
                       alarm_err *e)
{
    const char *pid, *prompt, *resp;
    if (jsonl_opt_string(r, rec, NULL, "prompt_id", &pid, e) < 0)
        return -1;
    if (!pid && jsonl_req_string(r, rec, NULL, "id", &pid, e) < 0)
        return jsonl_fail(r, e, "record has neither \"prompt_id\" nor \"id\"");
    if (jsonl_req_string(r, rec, NULL, "prompt", &prompt, e) < 0 ||
        jsonl_req_string(r, rec, NULL, "response", &resp, e) < 0)
        return -1;
    out->line = r->lineno;
    out->prompt_id = xstrdup(pid);
    out->prompt = xstrdup(prompt);
    out->response = xstrdup(resp);
    out->values = calloc(set->nrewards ? set->nrewards : 1, sizeof *out->values);
    if (!out->prompt_id || !out->prompt || !out->response || !out->values)
        return err_set(e, "out of memory");
    const cJSON *rewards = NULL;
    if (set->nrewards && jsonl_opt_object(r, rec, NULL, "rewards", &rewards, e) < 0)
        return -1;
    for (size_t k = 0; k < set->nrewards; k++) {
        int holistic = k == set->nrewards - 1;
        const cJSON *asp = NULL;
        out->values[k] = NAN;
        if (rewards && jsonl_opt_object(r, rewards, "rewards", set->rewards[k], &asp, e) < 0)
            return -1;
        if (!asp) {
            if (holistic)
                continue;
            return jsonl_fail(r, e, "field \"rewards.%s\" is missing", set->rewards[k]);
        }
        if (record_reward_read(&set->scratch, asp, strlen(resp), r, e) < 0)
            return -1;
        out->values[k] = set->scratch.value;
    }
    return 0;
}

static void free_resp(judge_resp *x)
{
    free(x->prompt_id);
    free(x->prompt);
    free(x->response);
    free(x->values);
}

static int load_system(judge_set *set, judge_system *s, alarm_err *e)
{
    jsonl_reader r;
    if (jsonl_open(&r, s->path, e) < 0)
        return -1;
    size_t cap = 0;
    cJSON *rec;
    int rc;
    while ((rc = jsonl_next(&r, &rec, e)) == 1) {
        if (s->n == cap) {
            cap = cap ? 2 * cap : 256;
            judge_resp *nr = realloc(s->r, cap * sizeof *nr);
            if (!nr) {
                cJSON_Delete(rec);
                rc = err_set(e, "out of memory");
                break;
            }
            s->r = nr;
        }
        memset(&s->r[s->n], 0, sizeof s->r[s->n]);
        s->n++;
        rc = read_record(set, &r, rec, &s->r[s->n - 1], e);
        cJSON_Delete(rec);
        if (rc < 0)
            break;
    }
    jsonl_close(&r);
    if (rc < 0)
        return -1;
    if (!(s->by_id = malloc((s->n ? s->n : 1) * sizeof *s->by_id)))
        return err_set(e, "out of memory");
    for (size_t i = 0; i < s->n; i++)
        s->by_id[i] = i;
    sort_recs = s->r;
    qsort(s->by_id, s->n, sizeof *s->by_id, cmp_by_id);
    /* Of every repeated id, the one repeated earliest in the file is named,
     * with the line of its first record. */
    const judge_resp *dup = NULL, *first = NULL;
    for (size_t i = 1, f = 0; i < s->n; i++) {
        if (strcmp(s->r[s->by_id[i]].prompt_id, s->r[s->by_id[f]].prompt_id) != 0)
            f = i;
        else if (f == i - 1 && (!dup || s->r[s->by_id[i]].line < dup->line)) {
            dup = &s->r[s->by_id[i]];
            first = &s->r[s->by_id[f]];
        }
    }
    if (dup)
        return err_set(e, "%s:%ld: duplicate prompt \"%s\" in system %s (first at %s:%ld)",
                       s->path, dup->line, dup->prompt_id, s->name, s->path, first->line);
    return 0;
}

/* Fills set->idx: every system's record for each prompt of the first one. */
static int align(judge_set *set, alarm_err *e)
{
    judge_system *first = &set->sys[0];
    set->nprompts = first->n;
    size_t cells = set->nsys * set->nprompts;
    set->idx = malloc((cells ? cells : 1) * sizeof *set->idx);
    if (!set->idx)
        return err_set(e, "out of memory");
    for (size_t s = 0; s < set->nsys; s++) {
        judge_system *sy = &set->sys[s];
        for (size_t p = 0; p < set->nprompts; p++) {
            long i = find_id(sy, first->r[p].prompt_id);
            if (i < 0)
                return err_set(e, "%s: prompt \"%s\" (in system %s) is missing from system %s",
                               sy->path, first->r[p].prompt_id, first->name, sy->name);
            set->idx[s * set->nprompts + p] = (size_t)i;
        }
        if (sy->n != set->nprompts)
            for (size_t i = 0; i < sy->n; i++)
                if (find_id(first, sy->r[i].prompt_id) < 0)
                    return err_set(e, "%s: prompt \"%s\" (in system %s) is missing from system %s",
                                   first->path, sy->r[i].prompt_id, sy->name, first->name);
    }
    return 0;
}

int judge_set_load(judge_set *set, char *const *specs, size_t nspecs,
                   const char *const *rewards, size_t nrewards, const char *holistic,
                   alarm_err *e)
{
    memset(set, 0, sizeof *set);
    if (nspecs < 2)
        return err_set(e, "need at least two systems (NAME=FILE)");
    set->sys = calloc(nspecs, sizeof *set->sys);
    set->rewards = calloc(nrewards + 1, sizeof *set->rewards);
    if (!set->sys || !set->rewards)
        goto oom;
    if (nrewards) {
        /* The holistic reward goes last so reward judges can find it. */
        for (size_t k = 0; k < nrewards; k++)
            if (!(set->rewards[set->nrewards++] = xstrdup(rewards[k])))
                goto oom;
        if (!(set->rewards[set->nrewards++] = xstrdup(holistic)))
            goto oom;
    }
    for (size_t i = 0; i < nspecs; i++) {
        judge_system *s = &set->sys[set->nsys++];
        const char *eq = strchr(specs[i], '=');
        if (!eq || eq == specs[i] || !eq[1]) {
            judge_set_free(set);
            return err_set(e, "'%s': a system is NAME=FILE", specs[i]);
        }
        s->name = malloc((size_t)(eq - specs[i]) + 1);
        s->path = xstrdup(eq + 1);
        if (!s->name || !s->path)
            goto oom;
        memcpy(s->name, specs[i], (size_t)(eq - specs[i]));
        s->name[eq - specs[i]] = '\0';
        for (size_t j = 0; j + 1 < set->nsys; j++)
            if (strcmp(set->sys[j].name, s->name) == 0) {
                err_set(e, "system name \"%s\" is given twice", s->name);
                goto fail;
            }
        if (load_system(set, s, e) < 0)
            goto fail;
    }
    if (align(set, e) < 0)
        goto fail;
    return 0;
oom:
    err_set(e, "out of memory");
fail:
    judge_set_free(set);
    return -1;
}

void judge_set_free(judge_set *set)
{
    for (size_t s = 0; set->sys && s < set->nsys; s++) {
        for (size_t i = 0; i < set->sys[s].n; i++)
            free_resp(&set->sys[s].r[i]);
        free(set->sys[s].r);
        free(set->sys[s].by_id);
        free(set->sys[s].name);
        free(set->sys[s].path);
    }
    for (size_t k = 0; set->rewards && k < set->nrewards; k++)
        free(set->rewards[k]);
    free(set->rewards);
    record_reward_free(&set->scratch);
    free(set->sys);
    free(set->idx);
    memset(set, 0, sizeof *set);
}

static int cmp_size(const void *x, const void *y)
{
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    return a < b ? -1 : a > b;
}

/* Keeps prompts pick[0..m) (increasing). Compacts idx in place: row s of
 * the new table only reads row s of the old one at columns >= the one it
 * writes, so nothing is overwritten early. */
static void keep(judge_set *set, const size_t *pick, size_t m)
{
    size_t n = set->nprompts;
    for (size_t s = 0; s < set->nsys; s++)
        for (size_t p = 0; p < m; p++)
            set->idx[s * m + p] = set->idx[s * n + pick[p]];
    set->nprompts = m;
}

void judge_set_subset(judge_set *set, size_t max, uint64_t seed)
{
    size_t n = set->nprompts;
    if (max >= n)
        return;
    size_t *pick = malloc(n * sizeof *pick);
    if (!pick)
        return;
    for (size_t i = 0; i < n; i++)
        pick[i] = i;
    /* A partial Fisher-Yates shuffle chooses `max` prompts uniformly. */
    for (size_t i = 0; i < max; i++) {
        size_t j = i + (size_t)(rng_next(&seed) % (n - i));
        size_t t = pick[i];
        pick[i] = pick[j];
        pick[j] = t;
    }
    qsort(pick, max, sizeof *pick, cmp_size);
    keep(set, pick, max);
    free(pick);
}

int judge_set_shard(judge_set *set, long i, long n, alarm_err *e)
{
    size_t *pick = malloc((set->nprompts ? set->nprompts : 1) * sizeof *pick), m = 0;
    if (!pick)
        return err_set(e, "out of memory");
    /* by prompt id, as every sharded stage splits (shard.h) */
    for (size_t p = 0; p < set->nprompts; p++)
        if (shard_takes(judge_set_get(set, 0, p)->prompt_id, i, n))
            pick[m++] = p;
    keep(set, pick, m);
    free(pick);
    return 0;
}

int judge_set_reward(const judge_set *set, const char *name)
{
    for (size_t k = 0; k < set->nrewards; k++)
        if (strcmp(set->rewards[k], name) == 0)
            return (int)k;
    return -1;
}

double *judge_set_words(const judge_set *set)
{
    double *w = malloc((set->nprompts ? set->nprompts : 1) * set->nsys * sizeof *w);
    for (size_t p = 0; w && p < set->nprompts; p++)
        for (size_t s = 0; s < set->nsys; s++) {
            const char *r = judge_set_get(set, s, p)->response;
            long n = 0;
            for (int in = 0; *r; r++) {
                int space = *r == ' ' || *r == '\n' || *r == '\t' || *r == '\r';
                n += !space && !in;
                in = !space;
            }
            w[p * set->nsys + s] = (double)n;
        }
    return w;
}
