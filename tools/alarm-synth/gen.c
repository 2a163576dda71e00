/* alarm-synth's generating modes: prompt records (train or held-out test),
 * faulty demonstrations, annotated preference pairs and per-sentence span
 * labels (alarm-formats(5) section 1), each record from its own random
 * stream so that record k is the same whatever --count asks for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "out.h"
#include "rng.h"
#include "synth_cli.h"

enum { TEXT = 4096 };

/* The prompt record's meta: question, passages, split, then the truth. */
static cJSON *meta_json(const synth_item *it)
{
    cJSON *m = cJSON_CreateObject(), *ps = cJSON_CreateArray();
    cJSON_AddStringToObject(m, "question", it->question);
    for (int p = 0; p < it->n_passages; p++)
        cJSON_AddItemToArray(ps, cJSON_CreateString(it->passage[p]));
    cJSON_AddItemToObject(m, "passages", ps);
    cJSON_AddStringToObject(m, "split", it->split ? "test" : "train");
    cJSON *t = synth_truth_json(&it->truth), *f;
    while ((f = t->child)) {
        cJSON_DetachItemViaPointer(t, f);
        cJSON_AddItemToObject(m, f->string, f);
    }
    cJSON_Delete(t);
    return m;
}

/* A faulty answer's text at the given rates; the preference pairs and span
 * labels draw the wrong-value rate per answer from {0, 0.3, 0.6}. */
static int faulty(char *buf, const synth_world *w, const synth_item *it, const synth_rates *r,
                  uint64_t *rng)
{
    synth_fact f[SYNTH_MAX_GOLD + 4];
    synth_rates pair = {.wrong = 0.3 * (int)(rng_unit(rng) * 3), .miss = 0.3, .irrel = 0.35,
                        .rep = 0.2, .unsup = 0.1};
    int n = synth_fault(f, (int)(sizeof f / sizeof f[0]), w, it, r ? r : &pair, rng);
    return synth_answer_text(buf, TEXT, w, f, n);
}

static cJSON *spans_json(const synth_check_result *c, int relevance)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < c->n; i++) {
        cJSON *s = cJSON_CreateObject();
        int good = relevance ? c->s[i].relevant : c->s[i].factual;
        cJSON_AddNumberToObject(s, "start", (double)c->s[i].start);
        cJSON_AddNumberToObject(s, "end", (double)c->s[i].end);
        cJSON_AddStringToObject(s, "label", good ? "good" : "bad");
        cJSON_AddItemToArray(a, s);
    }
    return a;
}

/* Adds the mode's fields to rec; 1 when written, 0 when skipped (a pair the
 * annotator calls a tie), -1 on error. */
static int fill(cJSON *rec, const synth_args *a, const synth_world *w, const synth_item *it,
                int mode, uint64_t *rng, char *x, char *y, alarm_err *e)
{
    if (mode == STREAM_PROMPTS || mode == STREAM_DEMOS) {
        if (synth_answer_text(x, TEXT, w, it->gold, it->n_gold) < 0 ||
            (mode == STREAM_DEMOS && faulty(y, w, it, &a->rates, rng) < 0))
            return err_set(e, "answer too long");
        if (mode == STREAM_DEMOS)
            cJSON_AddStringToObject(rec, "response", y);
        cJSON_AddStringToObject(rec, "reference", x);
        return 1;
    }
    synth_check_result cx, cy;
    if (faulty(x, w, it, NULL, rng) < 0 || (mode == STREAM_PREFS && faulty(y, w, it, NULL, rng) < 0))
        return err_set(e, "answer too long");
    if (synth_check(&cx, &it->truth, x, e) < 0)
        return -1;
    if (mode == STREAM_SPANS) {
        const char *asp = a->aspects.n ? a->aspects.v[0] : "factuality";
        cJSON_AddStringToObject(rec, "response", x);
        cJSON_AddItemToObject(rec, "spans", spans_json(&cx, !strcmp(asp, "relevance")));
        synth_check_free(&cx);
        return 1;
    }
    if (synth_check(&cy, &it->truth, y, e) < 0)
        return synth_check_free(&cx), -1;
    int v = strcmp(x, y) ? synth_annotate(&a->annot, &cx, &cy, rng) : -1;
    if (v >= 0) {
        cJSON *g = cJSON_CreateObject();
        cJSON_AddStringToObject(rec, "chosen", v ? x : y);
        cJSON_AddStringToObject(rec, "rejected", v ? y : x);
        cJSON_AddNumberToObject(g, "chosen", v ? cx.Q : cy.Q);
        cJSON_AddNumberToObject(g, "rejected", v ? cy.Q : cx.Q);
        cJSON_AddItemToObject(rec, "gold", g);
    }
    synth_check_free(&cx);
    synth_check_free(&cy);
    return v >= 0;
}

static const char *const id_prefix[] = {"train", "demo", "pref", "span"};

int synth_gen(const tool *t, const synth_args *a, const synth_world *w, int mode)
{
    synth_item *it = malloc(sizeof *it);
    char *prompt = malloc(TEXT), *x = malloc(TEXT), *y = malloc(TEXT);
    alarm_err e = {0};
    int rc = it && prompt && x && y ? 0 : err_set(&e, "out of memory");
    int split = mode == STREAM_PROMPTS ? a->split : 0;
    long written = 0, limit = mode == STREAM_PREFS ? 50 * a->count : a->count;
    for (long k = 0; rc == 0 && written < a->count && k < limit && !tool_stdout_failed(); k++) {
        uint64_t rng = synth_stream(a->world.seed, 16 + (uint64_t)mode, (uint64_t)k);
        if (synth_item_make(it, w, split, ((uint64_t)mode << 40) + (uint64_t)k, &e) < 0 ||
            synth_item_prompt(prompt, TEXT, it) < 0) {
            rc = e.msg[0] ? -1 : err_set(&e, "prompt too long");
            break;
        }
        char id[32];
        snprintf(id, sizeof id, "%s-%05ld", split ? "test" : id_prefix[mode], k);
        cJSON *rec = cJSON_CreateObject();
        cJSON_AddStringToObject(rec, "id", id);
        cJSON_AddStringToObject(rec, "prompt", prompt);
        int got = fill(rec, a, w, it, mode, &rng, x, y, &e);
        if (got > 0) {
            cJSON_AddItemToObject(rec, "meta", meta_json(it));
            rc = jsonl_write(stdout, rec, &e);
            written++;
        }
        rc = got < 0 ? -1 : rc;
        cJSON_Delete(rec);
    }
    if (rc == 0 && written < a->count && !tool_stdout_failed())
        rc = err_set(&e, "the annotator labelled only %ld pairs of %ld tried", written, limit);
    free(it);
    free(prompt);
    free(x);
    free(y);
    return rc < 0 ? tool_fail(t, e.msg) : TOOL_OK;
}
