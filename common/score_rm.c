/* score_rm: the `rm:DIR` kind: a sequence reward model of alarm-rm --kind
 * seq scores template-built text (alarm-score(1) SCORERS). The text before
 * {response} is encoded as alarm-rm encodes a record's prompt, {response}
 * and what follows as its response, so template={prompt}{response} gives
 * the model exactly what it was trained on. raw is the score head's output;
 * value its z-score by rm.json's statistics, raw without them. */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "score.h"
#include "score_model.h"

/* ALaRM's holistic reward model reads this text. */
#define RM_TEMPLATE "Human: {prompt}\nAssistant: {response}"

typedef struct {
    score_model sm;
    char *head, *tail;     /* the template around {response}, escapes decoded */
    int has_mean;
    double mean, std;      /* rm.json's score statistics */
    char *pbuf, *rbuf;     /* the rendered prompt part and response part */
    size_t pcap, rcap;
} rm_state;

/* \n, \t, \\ and \xHH (a comma, which a --scorer spec cannot hold, is \x2c). */
static int unescape(const score_spec *s, const char *v, char *out, alarm_err *e)
{
    static const char hex[] = "0123456789abcdef";
    for (; *v; v++) {
        if (*v != '\\') {
            *out++ = *v;
            continue;
        }
        const char *h1 = v[1] == 'x' && v[2] ? strchr(hex, v[2] | 0x20) : NULL;
        const char *h2 = h1 && v[3] ? strchr(hex, v[3] | 0x20) : NULL;
        if (v[1] == 'n' || v[1] == 't' || v[1] == '\\')
            *out++ = v[1] == 'n' ? '\n' : v[1] == 't' ? '\t' : '\\', v++;
        else if (h1 && h2 && (h1 != hex || h2 != hex))
            *out++ = (char)((h1 - hex) * 16 + (h2 - hex)), v += 3;
        else
            return err_set(e, "scorer %s: template: bad escape at \"%.4s\" (\\n, \\t, \\\\ "
                           "or \\xHH, not \\x00)", s->name, v);
    }
    *out = '\0';
    return 0;
}

static int parse_template(rm_state *r, const score_spec *s, alarm_err *e)
{
    const char *v = score_spec_get(s, "template");
    char *t = malloc(strlen(v ? v : RM_TEMPLATE) + 1);
    if (!t)
        return err_set(e, "out of memory");
    r->head = t;
    if (!v)
        strcpy(t, RM_TEMPLATE);
    else if (unescape(s, v, t, e) < 0)
        return -1;
    char *at = strstr(t, "{response}");
    if (!at || strstr(at + 1, "{response}"))
        return err_set(e, "scorer %s: template=%s: needs {response} exactly once", s->name,
                       v);
    *at = '\0';
    r->tail = at + strlen("{response}");
    return 0;
}

static int append(char **buf, size_t *cap, size_t *len, const char *p, size_t n, alarm_err *e)
{
    if (grow_array(buf, cap, *len + n + 1, 1, 256, e) < 0)
        return -1;
    memcpy(*buf + *len, p, n);
    *len += n;
    return 0;
}

/* Appends template piece p to buf with every {prompt} replaced by prompt. */
static int render(char **buf, size_t *cap, size_t *len, const char *p, const char *prompt,
                  alarm_err *e)
{
    for (const char *at; (at = strstr(p, "{prompt}")); p = at + strlen("{prompt}"))
        if (append(buf, cap, len, p, (size_t)(at - p), e) < 0 ||
            append(buf, cap, len, prompt, strlen(prompt), e) < 0)
            return -1;
    return append(buf, cap, len, p, strlen(p), e);
}

/* Record i into the model's rows, or marked failed. */
static int add(rm_state *r, size_t i, const score_in *in, score_out *o, alarm_err *e)
{
    /* an empty response (a policy's immediate EOS) is scored too: PPO must
     * see what it earns */
    const char *prompt = "";
    if (strstr(r->head, "{prompt}") || strstr(r->tail, "{prompt}"))
        if (!(prompt = score_model_prompt(in, o)))
            return 0;
    size_t pl = 0, rl = 0;
    if (render(&r->pbuf, &r->pcap, &pl, r->head, prompt, e) < 0 ||
        append(&r->rbuf, &r->rcap, &rl, in->response, in->len, e) < 0 ||
        render(&r->rbuf, &r->rcap, &rl, r->tail, prompt, e) < 0)
        return -1;
    score_model_add(&r->sm, i, r->pbuf, pl, r->rbuf, rl, o);
    return 0;
}

static int rm_kind_score(void *st, const score_in *in, size_t n, score_out *out, alarm_err *e)
{
    rm_state *r = st;
    score_model *sm = &r->sm;
    if (score_model_batch(sm, n, e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (add(r, i, &in[i], &out[i], e) < 0)
            return -1;
    if (sm->nrow && rm_score(&sm->task, &sm->m, sm->seqs, sm->nrow, sm->score, e) < 0)
        return -1;
    for (size_t k = 0; k < sm->nrow; k++) {
        score_out *o = &out[sm->of[k]];
        o->raw = sm->score[k];
        o->has_raw = 1;
        /* a constant score (std 0) is only centred, as --normalize does */
        o->value = r->has_mean ? (o->raw - r->mean) / (r->std > 0 ? r->std : 1) : o->raw;
    }
    return 0;
}

static int rm_kind_init(void **st, const score_spec *s, const score_env *env, alarm_err *e)
{
    rm_state *r = calloc(1, sizeof *r);
    if (!r)
        return err_set(e, "out of memory");
    *st = r;
    if (parse_template(r, s, e) < 0 ||
        score_model_open(&r->sm, s, env, TFM_CLS_SCORE, "seq", e) < 0)
        return -1;
    int got = score_model_rm_number(&r->sm, "score", "mean", &r->mean, e);
    if (got > 0)
        got = score_model_rm_number(&r->sm, "score", "std", &r->std, e);
    if (got > 0 && r->std < 0)
        return err_set(e, "scorer %s: %s/rm.json: field \"score.std\": %g is negative",
                       s->name, r->sm.dir, r->std);
    r->has_mean = got > 0;
    return got < 0 ? err_prefix(e, "scorer %s", s->name) : 0;
}

static void rm_kind_free(void *st)
{
    rm_state *r = st;
    score_model_close(&r->sm);
    free(r->head);
    free(r->pbuf);
    free(r->rbuf);
    free(r);
}

static const char *const rm_keys[] = {SCORE_MODEL_KEYS, "template", NULL};

const score_kind score_kind_rm = {
    .name = "rm", .arg = 2, .keys = rm_keys,
    .about = "a sequence reward model of alarm-rm --kind seq",
    .init = rm_kind_init, .score = rm_kind_score, .free = rm_kind_free};
