/* score_spans: the `spans:DIR` kind: a token classifier of alarm-rm --kind
 * spans judges each sentence (or sub-sentence) of the response at the
 * token holding the segment's last byte, the token alarm-rm trains it on
 * (rm_token_at on the same seq_encode of prompt and response); one span
 * per segment (good= / bad=) and value = the share judged label= (good). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "score.h"
#include "score_model.h"
#include "text_segment.h"

typedef struct {
    score_model sm;
    int good_label, subsentence;
    double good, bad;
    text_segs segs;
    /* the batch's segments, flat: each row's from first[k] on */
    int *at, *label;
    size_t *end, *first, cap, nseg, fcap;
} spans_state;

/* The label names of config.json's id2label, in order; the good one. */
static int find_labels(spans_state *p, const score_spec *s, const char **name, alarm_err *e)
{
    const score_model *sm = &p->sm;
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(sm->config, "id2label");
    const char *want = score_spec_get(s, "label");
    char list[512] = "";
    p->good_label = -1;
    for (int k = 0; k < sm->m.cfg.n_labels; k++) {
        char key[16];
        snprintf(key, sizeof key, "%d", k);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(map, key);
        if (!cJSON_IsString(v))
            return err_set(e, "scorer %s: %s/config.json: field \"id2label.%s\": %s", s->name,
                           sm->dir, key, v ? "expected a string" : "missing");
        name[k] = v->valuestring;
        if (!strcmp(name[k], want ? want : "good"))
            p->good_label = k;
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "",
                 name[k]);
    }
    if (p->good_label < 0)
        return err_set(e, "scorer %s: label=%s: not a label of %s (config.json's id2label: "
                       "%s)", s->name, want ? want : "good", sm->dir, list);
    return 0;
}

/* rm.json, when there: the same labels, and the segmentation by default
 * (segment= is checked in spans_init). */
static int check_rm(spans_state *p, const score_spec *s, const char **name, alarm_err *e)
{
    const cJSON *rm = p->sm.rm;
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(rm, "labels");
    const cJSON *seg = cJSON_GetObjectItemCaseSensitive(rm, "segment");
    const char *opt = score_spec_get(s, "segment");
    if (labels) {
        int ok = cJSON_IsArray(labels) && cJSON_GetArraySize(labels) == p->sm.m.cfg.n_labels;
        for (int k = 0; ok && k < p->sm.m.cfg.n_labels; k++) {
            const cJSON *v = cJSON_GetArrayItem(labels, k);
            ok = cJSON_IsString(v) && !strcmp(v->valuestring, name[k]);
        }
        if (!ok)
            return err_set(e, "scorer %s: %s/rm.json: field \"labels\": not config.json's "
                           "id2label", s->name, p->sm.dir);
    }
    if (seg && !opt) {
        if (!cJSON_IsString(seg) || (strcmp(seg->valuestring, "sentence") &&
                                     strcmp(seg->valuestring, "subsentence")))
            return err_set(e, "scorer %s: %s/rm.json: field \"segment\": expected "
                           "\"sentence\" or \"subsentence\"", s->name, p->sm.dir);
        opt = seg->valuestring;
    }
    p->subsentence = opt && !strcmp(opt, "subsentence");
    return 0;
}

static int spans_init(void **st, const score_spec *s, const score_env *env, alarm_err *e)
{
    spans_state *p = calloc(1, sizeof *p);
    const char *name[RM_MAX_LABELS];
    if (!p)
        return err_set(e, "out of memory");
    *st = p;
    if (score_opt_double(s, "good", 0.5, -1e9, 1e9, &p->good, e) < 0 ||
        score_opt_double(s, "bad", -0.5, -1e9, 1e9, &p->bad, e) < 0)
        return -1;
    const char *seg = score_spec_get(s, "segment");
    if (seg && strcmp(seg, "sentence") && strcmp(seg, "subsentence"))
        return err_set(e, "scorer %s: segment=%s: expected sentence or subsentence", s->name,
                       seg);
    if (score_model_open(&p->sm, s, env, TFM_CLS_TOKEN, "spans", e) < 0)
        return -1;
    return find_labels(p, s, name, e) < 0 ? -1 : check_rm(p, s, name, e);
}

/* Record i's segments and their tokens into the batch, or marked failed. */
static int add(spans_state *p, size_t i, const score_in *in, score_out *o, alarm_err *e)
{
    const char *prompt = score_model_prompt(in, o);
    if (!prompt)
        return 0;
    int rc = p->subsentence ? text_subsentences(&p->segs, in->response, in->len, 5, e)
                            : text_sentences(&p->segs, in->response, in->len, e);
    if (rc < 0)
        return -1;
    if (p->segs.n == 0) { /* nothing to judge */
        o->has_spans = o->has_raw = 1;
        return 0;
    }
    size_t k = p->sm.nrow;
    if (grow_array(&p->first, &p->fcap, k + 1, sizeof *p->first, 64, e) < 0)
        return -1;
    size_t c = p->cap, c1 = c, c2 = c, need = p->nseg + p->segs.n;
    if (grow_array(&p->at, &c, need, sizeof *p->at, 256, e) < 0 ||
        grow_array(&p->label, &c1, need, sizeof *p->label, 256, e) < 0 ||
        grow_array(&p->end, &c2, need, sizeof *p->end, 256, e) < 0)
        return -1;
    p->cap = c;
    rm_spans *x = score_model_add(&p->sm, i, prompt, strlen(prompt), in->response, in->len, o);
    if (!x)
        return 0;
    for (size_t j = 0; j < p->segs.n; j++) {
        size_t end = p->segs.v[j].end;
        p->end[p->nseg + j] = end;
        if ((p->at[p->nseg + j] = rm_token_at(&x->s, end - 1)) < 0) {
            p->sm.nrow--; /* take the row back */
            return score_out_fail(o, "no token of the response holds byte %zu, the last of "
                                  "segment %zu", end - 1, j);
        }
    }
    p->first[k] = p->nseg;
    x->n = (int)p->segs.n;
    p->nseg += p->segs.n;
    return 0;
}

static int spans_score(void *st, const score_in *in, size_t n, score_out *out, alarm_err *e)
{
    spans_state *p = st;
    score_model *sm = &p->sm;
    p->nseg = 0;
    if (score_model_batch(sm, n, e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (add(p, i, &in[i], &out[i], e) < 0)
            return -1;
    for (size_t k = 0; k < sm->nrow; k++) { /* the flat arrays have their final size */
        sm->row[k]->at = p->at + p->first[k];
        sm->row[k]->label = p->label + p->first[k];
    }
    if (sm->nrow && rm_span_predict(&sm->task, &sm->m, sm->row, sm->nrow, e) < 0)
        return -1;
    for (size_t k = 0; k < sm->nrow; k++) {
        const rm_spans *x = sm->row[k];
        score_out *o = &out[sm->of[k]];
        size_t good = 0;
        for (int j = 0; j < x->n; j++) {
            int ok = x->label[j] == p->good_label;
            good += (size_t)ok;
            if (score_out_span(o, p->end[p->first[k] + (size_t)j], ok ? p->good : p->bad,
                               e) < 0)
                return -1;
        }
        o->value = o->raw = (double)good / (double)x->n;
        o->has_raw = 1;
    }
    return 0;
}

static void spans_free(void *st)
{
    spans_state *p = st;
    score_model_close(&p->sm);
    text_segs_free(&p->segs);
    free(p->at);
    free(p->label);
    free(p->end);
    free(p->first);
    free(p);
}

static const char *const spans_keys[] = {SCORE_MODEL_KEYS, "segment", "label", "good", "bad",
                                         NULL};

const score_kind score_kind_spans = {
    .name = "spans", .arg = 2, .keys = spans_keys,
    .about = "a span model of alarm-rm --kind spans, per sentence",
    .init = spans_init, .score = spans_score, .free = spans_free};
