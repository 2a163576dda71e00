/* reward: reading scored records and combining their rewards (see reward.h).
 * The record is walked once as cJSON left it; nothing is allocated per token
 * except when a record is longer than every one before it (scratch grows). */
#include "reward.h"
#include "reward_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void reward_cfg_default(reward_cfg *c)
{
    c->mode = REWARD_HIERARCHICAL;
    c->W = 5.0;
    c->tau = 0.6;
    c->min_tokens = 2;
    c->penalty = -10.0;
    c->shaping = 0;
}

static const char *const mode_names[] = {"holistic", "aspect", "sum", "hierarchical"};

const char *reward_mode_name(reward_mode m) { return mode_names[m]; }

int reward_mode_parse(const char *s, reward_mode *m)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, mode_names[i])) {
            *m = (reward_mode)i;
            return 0;
        }
    return -1;
}

long reward_names_find(const reward_names *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->names[i], name))
            return (long)i;
    return -1;
}

int reward_names_add(reward_names *t, const char *name, size_t *idx, alarm_err *e)
{
    long i = reward_names_find(t, name);
    if (i >= 0) {
        *idx = (size_t)i;
        return 0;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 8;
        char **p = realloc(t->names, cap * sizeof *p);
        if (!p)
            return err_set(e, "out of memory");
        t->names = p;
        t->cap = cap;
    }
    if (!(t->names[t->n] = strdup(name)))
        return err_set(e, "out of memory");
    *idx = t->n++;
    return 0;
}

void reward_names_free(reward_names *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->names[i]);
    free(t->names);
    memset(t, 0, sizeof *t);
}

int reward_grow(void *p, size_t *cap, size_t n, size_t size)
{
    if (n <= *cap)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < n)
        c *= 2;
    void *q = realloc(*(void **)p, c * size);
    if (!q)
        return -1;
    *(void **)p = q;
    *cap = c;
    return 0;
}

static int is_index(const cJSON *v, double hi)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= hi &&
           v->valuedouble == floor(v->valuedouble);
}

/* response_tokens and offsets: T tokens, each offset [s, e] with
 * 0 <= s <= e <= len and both ends non-decreasing. */
static int parse_tokens(reward_rec *o, const jsonl_reader *r, const cJSON *rec, alarm_err *e)
{
    const cJSON *toks, *offs;
    if (jsonl_req_array(r, rec, "", "response_tokens", &toks, e) < 0 ||
        jsonl_req_array(r, rec, "", "offsets", &offs, e) < 0)
        return -1;
    size_t T, np;
    /* The ids themselves are not used here, but a record alarm-ppo would
     * refuse must not get a combined reward. */
    if (record_token_ids(r, rec, "response_tokens", 1, 0, &o->ids, &o->ids_cap, &T, e) < 0 ||
        record_token_ids(r, rec, "prompt_tokens", 0, 0, &o->ids, &o->ids_cap, &np, e) < 0)
        return -1;
    (void)toks;
    if (T == 0)
        return jsonl_fail(r, e, "field \"response_tokens\": empty response (no tokens)");
    if (reward_grow(&o->off_s, &o->off_cap, T, sizeof *o->off_s) < 0 ||
        !(o->off_e = realloc(o->off_e, o->off_cap * sizeof *o->off_e)))
        return err_set(e, "out of memory");
    size_t i = 0;
    for (const cJSON *p = offs->child; p; p = p->next, i++) {
        if (i >= T)
            break;
        const cJSON *s = p->child, *en = s ? s->next : NULL;
        if (!cJSON_IsArray(p) || !en || en->next || !is_index(s, (double)o->resp_len) ||
            !is_index(en, (double)o->resp_len))
            return jsonl_fail(r, e,
                              "field \"offsets[%zu]\": expected [start, end] byte offsets "
                              "within the response (%zu bytes)", i, o->resp_len);
        o->off_s[i] = (size_t)s->valuedouble;
        o->off_e[i] = (size_t)en->valuedouble;
        if (o->off_s[i] > o->off_e[i] ||
            (i > 0 && (o->off_s[i] < o->off_s[i - 1] || o->off_e[i] < o->off_e[i - 1])))
            return jsonl_fail(r, e, "field \"offsets[%zu]\": offsets must be non-decreasing "
                              "with start <= end", i);
    }
    size_t n = (size_t)cJSON_GetArraySize(offs);
    if (n != T)
        return jsonl_fail(r, e, "field \"offsets\": %zu entries but %zu response_tokens", n, T);
    o->T = T;
    return 0;
}

size_t reward_token_of_byte(const reward_rec *o, size_t b)
{
    size_t lo = 0, hi = o->T; /* first token with off_e > b */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->off_e[mid] > b)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo < o->T && o->off_s[lo] <= b ? lo : o->T;
}

/* The reward's spans on the tokens holding their last bytes. */
static int place_spans(reward_rec *o, reward_aspect *a, const char *name, const jsonl_reader *r,
                       alarm_err *e)
{
    const record_reward *x = &o->rr;
    a->value = x->value;
    a->present = 1;
    a->has_spans = x->has_spans;
    a->span0 = o->nspans;
    for (size_t k = 0; k < x->nspans; k++) {
        size_t tok = reward_token_of_byte(o, x->spans[k].end - 1);
        if (tok == o->T)
            return jsonl_fail(r, e, "field \"rewards.%s.spans[%zu].end\": byte %zu is in no "
                              "token's offsets", name, k, x->spans[k].end - 1);
        if (reward_grow(&o->spans, &o->span_cap, o->nspans + 1, sizeof *o->spans) < 0)
            return err_set(e, "out of memory");
        o->spans[o->nspans++] = (reward_span){tok, x->spans[k].value};
    }
    a->nspans = o->nspans - a->span0;
    return 0;
}

int reward_parse_rewards(reward_rec *o, reward_names *names, const char *holistic,
                         const jsonl_reader *r, const cJSON *rw, alarm_err *e)
{
    o->nspans = 0;
    for (size_t i = 0; i < o->nasp; i++)
        o->asp[i] = (reward_aspect){0};
    int have_h = 0;
    for (const cJSON *it = rw->child; it; it = it->next) {
        if (record_reward_read(&o->rr, it, o->resp_len, r, e) < 0)
            return -1;
        if (!strcmp(it->string, holistic)) {
            reward_aspect h = {0};
            size_t keep = o->nspans; /* the holistic reward's spans are checked, not used */
            if (place_spans(o, &h, it->string, r, e) < 0)
                return -1;
            o->nspans = keep;
            o->h = h.value;
            have_h = 1;
            continue;
        }
        size_t idx;
        if (reward_names_add(names, it->string, &idx, e) < 0)
            return -1;
        if (reward_grow(&o->asp, &o->asp_cap, names->n, sizeof *o->asp) < 0)
            return err_set(e, "out of memory");
        for (; o->nasp < names->n; o->nasp++)
            o->asp[o->nasp] = (reward_aspect){0};
        if (o->asp[idx].present)
            return jsonl_fail(r, e, "field \"rewards.%s\": given twice", it->string);
        if (place_spans(o, &o->asp[idx], it->string, r, e) < 0)
            return -1;
    }
    if (!have_h)
        return jsonl_fail(r, e, "field \"rewards.%s\": missing (the holistic reward)", holistic);
    return 0;
}

int reward_parse(reward_rec *o, reward_names *names, const char *holistic,
                 const jsonl_reader *r, const cJSON *rec, alarm_err *e)
{
    const char *resp;
    const cJSON *rw;
    if (jsonl_req_string(r, rec, "", "response", &resp, e) < 0)
        return -1;
    o->resp_len = strlen(resp);
    if (parse_tokens(o, r, rec, e) < 0 || jsonl_req_object(r, rec, "", "rewards", &rw, e) < 0)
        return -1;
    return reward_parse_rewards(o, names, holistic, r, rw, e);
}

int reward_rec_copy(reward_rec *dst, const reward_rec *src, alarm_err *e)
{
    memset(dst, 0, sizeof *dst);
    dst->T = src->T;
    dst->resp_len = src->resp_len;
    dst->h = src->h;
    dst->nasp = dst->asp_cap = src->nasp;
    dst->nspans = dst->span_cap = src->nspans;
    if ((src->nasp && !(dst->asp = malloc(src->nasp * sizeof *dst->asp))) ||
        (src->nspans && !(dst->spans = malloc(src->nspans * sizeof *dst->spans)))) {
        reward_rec_free(dst);
        return err_set(e, "out of memory keeping a record");
    }
    if (src->nasp)
        memcpy(dst->asp, src->asp, src->nasp * sizeof *dst->asp);
    if (src->nspans)
        memcpy(dst->spans, src->spans, src->nspans * sizeof *dst->spans);
    return 0;
}

void reward_rec_free(reward_rec *r)
{
    record_reward_free(&r->rr);
    free(r->ids);
    free(r->asp);
    free(r->spans);
    free(r->off_s);
    free(r->off_e);
    memset(r, 0, sizeof *r);
}

static double shape(const reward_cfg *c, double x) { return c->shaping ? 1.0 / (1.0 + exp(-x)) : x; }

int reward_combine(double *dense, reward_summary *s, const reward_cfg *cfg, const size_t *sel,
                   const double *w, size_t nsel, const reward_rec *r)
{
    size_t last = r->T - 1;
    memset(dense, 0, r->T * sizeof *dense);
    s->holistic = r->h;
    s->too_short = (long)r->T <= cfg->min_tokens;
    s->gate = cfg->mode == REWARD_HIERARCHICAL ? 0 : -1;
    if (s->too_short) {
        s->holistic = cfg->penalty;
        dense[last] = cfg->W * cfg->penalty;
    } else {
        int use_aspects = cfg->mode == REWARD_ASPECT || cfg->mode == REWARD_SUM ||
                          (cfg->mode == REWARD_HIERARCHICAL && r->h >= cfg->tau);
        int use_h = cfg->mode != REWARD_ASPECT;
        if (cfg->mode == REWARD_HIERARCHICAL)
            s->gate = use_aspects;
        for (size_t k = 0; use_aspects && k < nsel; k++) {
            const reward_aspect *a = &r->asp[sel[k]];
            if (!a->has_spans)
                dense[last] += w[k] * shape(cfg, a->value);
            for (size_t i = 0; i < a->nspans; i++) {
                const reward_span *sp = &r->spans[a->span0 + i];
                dense[sp->tok] += w[k] * shape(cfg, sp->value);
            }
        }
        if (use_h)
            dense[last] += cfg->W * r->h;
    }
    double t = 0;
    for (size_t i = 0; i < r->T; i++)
        t += dense[i];
    s->total = t;
    return isfinite(t) && isfinite(s->holistic) ? 0 : -1;
}
