/* score_rules: the counting rules of alarm-score: `length` (the record's own
 * response tokens, or whitespace words) and `repetition` (the share of
 * repeated word n-grams, rep-n of Welleck et al. 2019). Definitions in
 * alarm-score(1) SCORERS. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "score.h"
#include "text_segment.h"

typedef struct {
    int words;
} length_state;

static int length_init(void **st, const score_spec *s, const score_env *env, alarm_err *e)
{
    (void)env;
    const char *u = score_spec_get(s, "unit");
    if (u && strcmp(u, "tokens") && strcmp(u, "words"))
        return err_set(e, "scorer %s: unit=%s: expected tokens or words", s->name, u);
    length_state *l = calloc(1, sizeof *l);
    if (!l)
        return err_set(e, "out of memory");
    l->words = u && !strcmp(u, "words");
    *st = l;
    return 0;
}

static int length_score(void *st, const score_in *in, size_t n, score_out *out, alarm_err *e)
{
    (void)e;
    for (size_t i = 0; i < n; i++) {
        double v;
        if (((length_state *)st)->words) {
            v = (double)text_word_count(in[i].response, in[i].len);
        } else {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(in[i].rec, "response_tokens");
            if (!cJSON_IsArray(t)) {
                score_out_fail(&out[i], "field \"response_tokens\": %s",
                               t ? "expected an array" : "missing (or use unit=words)");
                continue;
            }
            v = (double)cJSON_GetArraySize(t);
        }
        out[i].value = out[i].raw = v;
        out[i].has_raw = 1;
    }
    return 0;
}

typedef struct {
    long n;
    char *buf;        /* normalised words, each ended by '\0' */
    size_t *w, nw;    /* (nw,) word starts in buf */
    size_t *g;        /* (nw,) n-gram starts (indices into w) */
    size_t cap;
} rep_state;

static int rep_init(void **st, const score_spec *s, const score_env *env, alarm_err *e)
{
    (void)env;
    rep_state *r = calloc(1, sizeof *r);
    if (!r)
        return err_set(e, "out of memory");
    *st = r;
    return score_opt_long(s, "n", 3, 1, 1000, &r->n, e);
}

static void rep_free(void *st)
{
    rep_state *r = st;
    free(r->buf);
    free(r->w);
    free(r->g);
    free(r);
}

static int gram_cmp(const void *a, const void *b, void *ctx)
{
    const rep_state *r = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    for (long k = 0; k < r->n; k++) {
        int c = strcmp(r->buf + r->w[x + k], r->buf + r->w[y + k]);
        if (c)
            return c;
    }
    return 0;
}

/* Words lowercased (ASCII) and stripped of ASCII punctuation at both ends. */
static int rep_words(rep_state *r, const char *s, size_t n, alarm_err *e)
{
    if (n + 1 > r->cap) {
        free(r->buf), free(r->w), free(r->g);
        r->buf = malloc(2 * n + 2);
        r->w = malloc((n + 1) * sizeof *r->w);
        r->g = malloc((n + 1) * sizeof *r->g);
        r->cap = r->buf && r->w && r->g ? n + 1 : 0;
        if (!r->cap)
            return err_set(e, "out of memory");
    }
    size_t i = 0, a, b, len = 0;
    r->nw = 0;
    while (text_next_word(s, n, &i, &a, &b)) {
        while (a < b && ispunct((unsigned char)s[a]))
            a++;
        while (b > a && ispunct((unsigned char)s[b - 1]))
            b--;
        if (a == b)
            continue;
        r->w[r->nw++] = len;
        for (size_t k = a; k < b; k++)
            r->buf[len++] = (char)tolower((unsigned char)s[k]);
        r->buf[len++] = '\0';
    }
    return 0;
}

static int rep_score(void *st, const score_in *in, size_t n, score_out *out, alarm_err *e)
{
    rep_state *r = st;
    for (size_t i = 0; i < n; i++) {
        if (rep_words(r, in[i].response, in[i].len, e) < 0)
            return -1;
        size_t N = r->nw >= (size_t)r->n ? r->nw - (size_t)r->n + 1 : 0, distinct = 0;
        for (size_t k = 0; k < N; k++)
            r->g[k] = k;
        qsort_r(r->g, N, sizeof *r->g, gram_cmp, r);
        for (size_t k = 0; k < N; k++)
            distinct += k == 0 || gram_cmp(&r->g[k - 1], &r->g[k], r) != 0;
        out[i].value = out[i].raw = N ? (double)(N - distinct) / (double)N : 0.0;
        out[i].has_raw = 1;
    }
    return 0;
}

static const char *const length_keys[] = {"unit", NULL};
static const char *const rep_keys[] = {"n", NULL};

const score_kind score_kind_length = {
    .name = "length", .keys = length_keys, .about = "response tokens (unit=words: words)",
    .init = length_init, .score = length_score, .free = free};
const score_kind score_kind_repetition = {
    .name = "repetition", .keys = rep_keys, .about = "share of repeated word n-grams (n=3)",
    .init = rep_init, .score = rep_score, .free = rep_free};
