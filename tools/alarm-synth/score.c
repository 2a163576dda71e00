/* alarm-synth's scorer, which knows the truth a record's meta carries:
 * `score` speaks alarm-score's cmd: protocol (one {"value", "spans"?} object
 * per record read, flushed at once), `rewards` adds rewards.NAME objects to
 * the records themselves (alarm-formats(5) section 3). Span values are +0.5
 * for a good sentence and -0.5 for a bad one, at the sentence's last byte. */
#include <stdio.h>
#include <string.h>

#include "drive.h"
#include "jsonl.h"
#include "out.h"
#include "synth_cli.h"

static const char *const aspects[] = {"quality", "factuality", "relevance", "completeness"};
enum { NASPECTS = 4 };

typedef struct {
    const synth_args *a;
    int add;
} scoring;

static cJSON *aspect_json(const synth_check_result *c, int k)
{
    cJSON *o = cJSON_CreateObject();
    double v[NASPECTS] = {c->Q, c->F, c->R, c->C};
    cJSON_AddNumberToObject(o, "value", v[k]);
    if (k == 1 || k == 2) {
        cJSON *spans = cJSON_AddArrayToObject(o, "spans");
        for (int i = 0; i < c->n; i++) {
            cJSON *s = cJSON_CreateObject();
            int good = k == 1 ? c->s[i].factual : c->s[i].relevant;
            cJSON_AddNumberToObject(s, "end", (double)c->s[i].end);
            cJSON_AddNumberToObject(s, "value", good ? 0.5 : -0.5);
            cJSON_AddItemToArray(spans, s);
        }
    }
    return o;
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
        jsonl_opt_object(r, *rec, NULL, "rewards", &old, e) < 0)
        return -1;
    if (synth_truth_read(&truth, meta, e) < 0 || synth_check(&c, &truth, response, e) < 0)
        return -1;
    const opt_list *names = &S->a->aspects;
    int rc;
    if (!S->add) {
        cJSON *o = aspect_json(&c, names->n ? aspect_index(names->v[0]) : 0);
        rc = jsonl_write(stdout, o, e);
        cJSON_Delete(o);
        fflush(stdout);
    } else {
        cJSON *rw = old ? cJSON_Duplicate(old, 1) : cJSON_CreateObject();
        for (size_t i = 0; i < (names->n ? names->n : NASPECTS); i++) {
            const char *name = names->n ? names->v[i] : aspects[i];
            cJSON_DeleteItemFromObjectCaseSensitive(rw, name);
            cJSON_AddItemToObject(rw, name, aspect_json(&c, aspect_index(name)));
        }
        rc = jsonl_write_with(stdout, r, *rec, "rewards", rw, e);
        cJSON_Delete(rw);
    }
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
