/* alarm-rm's input (alarm-formats(5) section 1): preference records
 * {prompt, chosen, rejected} as two sequences encoded as alarm-sft encodes
 * prompt + response (without its EOS), or span-label records {prompt,
 * response, spans} with each span's last token and label. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drive.h"
#include "grow.h"
#include "jsonl.h"
#include "rm_cli.h"

typedef struct {
    rm_run *R;
    rm_set *s;
    jsonl_reader *rd;
    const char *id;
} reading;

/* FILE:LINE and the record's id in front of an encoder's error. */
static int fail_at(reading *g, alarm_err *e)
{
    return g->id ? err_prefix(e, "%s:%ld: id \"%s\"", g->rd->name, g->rd->lineno, g->id)
                 : err_prefix(e, "%s:%ld", g->rd->name, g->rd->lineno);
}

static int encode(reading *g, seq *x, const char *prompt, const char *field, const char *resp,
                  alarm_err *e)
{
    if (!*resp)
        return jsonl_fail(g->rd, e, "field \"%s\": empty: nothing to score", field);
    if (seq_encode(x, &g->R->T.se, prompt, strlen(prompt), resp, strlen(resp), e) < 0)
        return fail_at(g, e);
    g->s->truncated += x->cut != 0;
    return 0;
}

static int take_pair(reading *g, const cJSON *rec, const char *prompt, alarm_err *e)
{
    const char *chosen, *rejected;
    if (jsonl_req_string(g->rd, rec, NULL, "chosen", &chosen, e) < 0 ||
        jsonl_req_string(g->rd, rec, NULL, "rejected", &rejected, e) < 0)
        return -1;
    rm_pair *p = calloc(1, sizeof *p);
    if (!p)
        return err_set(e, "out of memory");
    g->s->ex[g->s->n++] = p;
    if (encode(g, &p->chosen, prompt, "chosen", chosen, e) < 0)
        return -1;
    return encode(g, &p->rejected, prompt, "rejected", rejected, e);
}

static int label_of(const rm_run *R, const char *name)
{
    for (int k = 0; k < R->n_labels; k++)
        if (!strcmp(R->label[k], name))
            return k;
    return -1;
}

/* Span j: whole byte offsets 0 <= start < end <= the response's length,
 * after the previous span's end, and a label of --labels. */
static int take_span(reading *g, rm_spans *x, const cJSON *span, int j, size_t len,
                     double *prev_end, alarm_err *e)
{
    char path[32];
    snprintf(path, sizeof path, "spans[%d]", j);
    double start, end;
    const char *label;
    if (!cJSON_IsObject(span))
        return jsonl_fail(g->rd, e, "field \"%s\": expected an object", path);
    if (jsonl_req_number(g->rd, span, path, "start", &start, e) < 0 ||
        jsonl_req_number(g->rd, span, path, "end", &end, e) < 0 ||
        jsonl_req_string(g->rd, span, path, "label", &label, e) < 0)
        return -1;
    if (start != floor(start) || end != floor(end) || start < 0 || end <= start ||
        end > (double)len)
        return jsonl_fail(g->rd, e, "field \"%s\": [%g, %g) is not a span of the response's "
                          "%zu bytes", path, start, end, len);
    if (start < *prev_end)
        return jsonl_fail(g->rd, e, "field \"%s\": [%g, %g) overlaps the span before it or "
                          "comes before it (spans are in order and disjoint)", path, start, end);
    *prev_end = end;
    int y = label_of(g->R, label);
    if (y < 0)
        return jsonl_fail(g->rd, e, "field \"%s.label\": \"%s\" is not one of --labels %s", path,
                          label, g->R->a->labels);
    x->at[j] = rm_token_at(&x->s, (size_t)end - 1);
    x->label[j] = y;
    if (x->at[j] < 0)
        return jsonl_fail(g->rd, e, "field \"%s.end\": no token of the response holds its "
                          "byte %g", path, end - 1);
    return 0;
}

static int take_spans(reading *g, const cJSON *rec, const char *prompt, alarm_err *e)
{
    const char *resp;
    const cJSON *spans;
    if (jsonl_req_string(g->rd, rec, NULL, "response", &resp, e) < 0 ||
        jsonl_req_array(g->rd, rec, NULL, "spans", &spans, e) < 0)
        return -1;
    int n = cJSON_GetArraySize(spans);
    if (n == 0)
        return jsonl_fail(g->rd, e, "field \"spans\": empty: nothing to learn");
    rm_spans *x = calloc(1, sizeof *x);
    if (!x)
        return err_set(e, "out of memory");
    g->s->ex[g->s->n++] = x;
    x->at = malloc((size_t)n * sizeof *x->at);
    x->label = malloc((size_t)n * sizeof *x->label);
    if (!x->at || !x->label)
        return err_set(e, "out of memory");
    if (encode(g, &x->s, prompt, "response", resp, e) < 0)
        return -1;
    double prev_end = 0;
    for (int j = 0; j < n; j++, x->n++)
        if (take_span(g, x, cJSON_GetArrayItem(spans, j), j, strlen(resp), &prev_end, e) < 0)
            return -1;
    return 0;
}

static int take(void *user, jsonl_reader *rd, cJSON **rec, alarm_err *e)
{
    reading *g = user;
    const char *prompt;
    g->rd = rd;
    g->id = NULL;
    if (jsonl_opt_string(rd, *rec, NULL, "id", &g->id, e) < 0 ||
        jsonl_req_string(rd, *rec, NULL, "prompt", &prompt, e) < 0)
        return -1;
    if (grow_array(&g->s->ex, &g->s->cap, g->s->n + 1, sizeof *g->s->ex, 1024, e) < 0)
        return -1;
    return g->R->a->kind == RM_SEQ ? take_pair(g, *rec, prompt, e)
                                   : take_spans(g, *rec, prompt, e);
}

int rm_read(rm_run *R, rm_set *s, char **files, int nfiles, alarm_err *e)
{
    tool t = *R->T.t; /* the driver reads t.args: these files */
    t.args = files;
    t.nargs = nfiles;
    reading g = {R, s, NULL, NULL};
    drive d = {.t = &t, .fn = take, .user = &g};
    if (drive_files(&d, e) < 0)
        return -1;
    if (s->n == 0)
        return err_set(e, "%s: no %s records", nfiles ? files[0] : "<stdin>",
                       R->a->kind == RM_SEQ ? "preference" : "span-label");
    return 0;
}

void rm_set_free(rm_run *R, rm_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (R->a->kind == RM_SEQ) {
            rm_pair *p = s->ex[i];
            seq_free(&p->chosen);
            seq_free(&p->rejected);
        } else {
            rm_spans *x = s->ex[i];
            seq_free(&x->s);
            free(x->at);
            free(x->label);
        }
        free(s->ex[i]);
    }
    free(s->ex);
    memset(s, 0, sizeof *s);
}

uint64_t rm_set_hash(const rm_run *R, const rm_set *s)
{
    uint64_t h = TRAIN_HASH_START;
    for (size_t i = 0; i < s->n; i++) {
        if (R->a->kind == RM_SEQ) {
            const rm_pair *p = s->ex[i];
            h = train_hash_seq(train_hash_seq(h, &p->chosen), &p->rejected);
            continue;
        }
        const rm_spans *x = s->ex[i];
        h = train_hash_seq(h, &x->s);
        h = train_hash_bytes(h, x->at, (size_t)x->n * sizeof *x->at);
        h = train_hash_bytes(h, x->label, (size_t)x->n * sizeof *x->label);
    }
    return h;
}
