/* alarm-synth's scorer, which knows the truth a record's meta carries:
 * `score` speaks alarm-score's cmd: protocol (one {"value", "spans"?} object
 * per record read, flushed at once), `rewards` adds rewards.NAME objects to
 * the records themselves (alarm-formats(5) section 3). Span values are +0.5
 * for a good sentence and -0.5 for a bad one, at the sentence's last byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drive.h"
#include "jsonl.h"
#include "out.h"
#include "record.h"
#include "synth_cli.h"

static const char *const aspects[] = {"quality", "factuality", "relevance", "completeness"};
enum { NASPECTS = 4 };

typedef struct {
    const synth_args *a;
    int add;
} scoring;

/* Aspect k of the checks as a reward (its spans in o's own room). */
static void aspect_reward(record_reward *o, const synth_check_result *c, int k)
{
    double v[NASPECTS] = {c->Q, c->F, c->R, c->C};
    o->value = v[k];
    o->has_spans = k == 1 || k == 2;
    o->nspans = 0;
    for (int i = 0; o->has_spans && i < c->n && i < (int)o->cap; i++) {
        int good = k == 1 ? c->s[i].factual : c->s[i].relevant;
        o->spans[o->nspans++] = (record_span){c->s[i].end, good ? 0.5 : -0.5};
    }
}

static int aspect_index(const char *name)
{
    for (int k = 0; k < NASPECTS; k++)
        if (!strcmp(name, aspects[k]))
            return k;
    return -1;
}

static int score_one(void *user, jsonl_reader *r, cJSON **rec, alarm_err *e)
{
    const scoring *S = user;
    const char *response;
    const cJSON *meta, *old;
    synth_truth truth;
    synth_check_result c;
    if (jsonl_req_string(r, *rec, NULL, "response", &response, e) < 0 ||
        jsonl_req_object(r, *rec, NULL, "meta", &meta, e) < 0 ||
        jsonl_opt_object(r, *rec, NULL, "rewards", &old, e) < 0) /* an object when given */
        return -1;
    if (synth_truth_read(&truth, meta, e) < 0 || synth_check(&c, &truth, response, e) < 0)
        return -1;
    const opt_list *names = &S->a->aspects;
    size_t n = S->add ? (names->n ? names->n : NASPECTS) : 1;
    record_reward rw[NASPECTS] = {{0}};
    const record_reward *set[NASPECTS];
    const char *keys[NASPECTS];
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        keys[i] = names->n ? names->v[i] : aspects[i];
        rw[i].spans = calloc((size_t)c.n + 1, sizeof *rw[i].spans);
        rw[i].cap = (size_t)c.n + 1;
        if (!rw[i].spans)
            rc = err_set(e, "out of memory");
        else
            aspect_reward(&rw[i], &c, aspect_index(keys[i]));
        set[i] = &rw[i];
    }
    if (rc == 0 && !S->add) {
        if (record_reward_put(stdout, &rw[0]) < 0 || putc('\n', stdout) == EOF)
            rc = err_set(e, "error writing standard output");
        fflush(stdout);
    } else if (rc == 0) {
        rc = record_write_rewards(stdout, r->line, r->len, keys, set, n, e);
    }
    for (size_t i = 0; i < n; i++)
        record_reward_free(&rw[i]);
    synth_check_free(&c);
    return rc;
}

int synth_score(const tool *t, const synth_args *a, int add)
{
    for (size_t i = 0; i < a->aspects.n; i++)
        if (aspect_index(a->aspects.v[i]) < 0)
            return tool_usage(t, "--aspect: '%s' is not quality, factuality, relevance or "
                              "completeness", a->aspects.v[i]);
    if (!add && a->aspects.n > 1)
        return tool_usage(t, "score: one --aspect per scorer (rewards takes several)");
    scoring S = {a, add};
    alarm_err e = {0};
    drive d = {.t = t, .fn = score_one, .user = &S};
    return drive_files(&d, &e) < 0 ? tool_fail(t, e.msg) : TOOL_OK;
}
