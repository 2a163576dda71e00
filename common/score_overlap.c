/* score_overlap: the `overlap` kind: which sentences of the response are
 * supported by the record's meta.passages. A sentence is supported when at
 * least min= (0.5) of its content words (lowercased ASCII letter/digit runs
 * of two or more, not stop words) occur in one passage; one span per
 * sentence (good= +0.5 / bad= -0.5) and value = the supported share. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "score.h"
#include "text_segment.h"

typedef struct {
    double min, good, bad;
    text_segs segs;
} overlap_state;

static const char *const stop[] = {
    "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "for", "from", "had",
    "has", "have", "he", "her", "his", "in", "is", "it", "its", "of", "on", "or", "she",
    "that", "the", "their", "them", "they", "this", "to", "was", "were", "which", "who",
    "with", "not", "also", "there", "than", "then", "so", "if", "we", "you", "i", NULL};

static int is_stop(const char *w, size_t n)
{
    for (size_t k = 0; stop[k]; k++)
        if (strlen(stop[k]) == n && !strncasecmp(stop[k], w, n))
            return 1;
    return 0;
}

/* The next content word of s[*i, n). */
static int next_content(const char *s, size_t n, size_t *i, size_t *a, size_t *b)
{
    while (*i < n) {
        while (*i < n && !isalnum((unsigned char)s[*i]))
            ++*i;
        *a = *i;
        while (*i < n && isalnum((unsigned char)s[*i]))
            ++*i;
        *b = *i;
        if (*b - *a >= 2 && !is_stop(s + *a, *b - *a))
            return 1;
    }
    return 0;
}

/* Whether word w[0, n) is a whole word of passage p (ASCII case folded). */
static int in_passage(const char *p, const char *w, size_t n)
{
    size_t i = 0, len = strlen(p), a, b;
    while (i < len) {
        while (i < len && !isalnum((unsigned char)p[i]))
            i++;
        a = i;
        while (i < len && isalnum((unsigned char)p[i]))
            i++;
        b = i;
        if (b - a == n && !strncasecmp(p + a, w, n))
            return 1;
    }
    return 0;
}

static int supported(const overlap_state *o, const char *s, size_t n, const char **pass,
                     size_t np)
{
    size_t total = 0, i, a, b;
    for (i = 0; next_content(s, n, &i, &a, &b);)
        total++;
    if (total == 0)
        return 1;
    for (size_t k = 0; k < np; k++) {
        size_t hit = 0;
        for (i = 0; next_content(s, n, &i, &a, &b);)
            hit += in_passage(pass[k], s + a, b - a);
        if ((double)hit >= o->min * (double)total)
            return 1;
    }
    return 0;
}

/* meta.passages: strings, or objects whose "text" is one. */
static int passages(const cJSON *rec, const char ***out, size_t *np, score_out *o)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(rec, "meta");
    const cJSON *ps = cJSON_IsObject(meta) ? cJSON_GetObjectItemCaseSensitive(meta, "passages")
                                           : NULL;
    if (!cJSON_IsArray(ps))
        return score_out_fail(o, "field \"meta.passages\": %s",
                              ps ? "expected an array" : "missing"), -1;
    size_t n = (size_t)cJSON_GetArraySize(ps), k = 0;
    const char **v = calloc(n + 1, sizeof *v);
    if (!v)
        return score_out_fail(o, "out of memory"), -1;
    for (const cJSON *p = ps->child; p; p = p->next, k++) {
        const cJSON *t = cJSON_IsObject(p) ? cJSON_GetObjectItemCaseSensitive(p, "text") : p;
        if (!cJSON_IsString(t)) {
            free(v);
            return score_out_fail(o, "field \"meta.passages[%zu]\": expected a string or "
                                  "an object with a string \"text\"", k), -1;
        }
        v[k] = t->valuestring;
    }
    *out = v;
    *np = n;
    return 0;
}

static int overlap_score(void *st, const score_in *in, size_t n, score_out *out, alarm_err *e)
{
    overlap_state *o = st;
    for (size_t i = 0; i < n; i++) {
        const char **pass;
        size_t np, good = 0;
        if (passages(in[i].rec, &pass, &np, &out[i]) < 0)
            continue;
        int rc = text_sentences(&o->segs, in[i].response, in[i].len, e);
        for (size_t k = 0; rc == 0 && k < o->segs.n; k++) {
            const text_seg *g = &o->segs.v[k];
            int ok = supported(o, in[i].response + g->start, g->end - g->start, pass, np);
            good += (size_t)ok;
            rc = score_out_span(&out[i], g->end, ok ? o->good : o->bad, e);
        }
        free(pass);
        if (rc < 0)
            return -1;
        out[i].has_spans = 1;
        out[i].value = out[i].raw = o->segs.n ? (double)good / (double)o->segs.n : 0.0;
        out[i].has_raw = 1;
    }
    return 0;
}

static int overlap_init(void **st, const score_spec *s, const score_env *env, alarm_err *e)
{
    (void)env;
    overlap_state *o = calloc(1, sizeof *o);
    if (!o)
        return err_set(e, "out of memory");
    *st = o;
    if (score_opt_double(s, "min", 0.5, 0, 1, &o->min, e) < 0 ||
        score_opt_double(s, "good", 0.5, -1e9, 1e9, &o->good, e) < 0)
        return -1;
    return score_opt_double(s, "bad", -0.5, -1e9, 1e9, &o->bad, e);
}

static void overlap_free(void *st)
{
    text_segs_free(&((overlap_state *)st)->segs);
    free(st);
}

static const char *const overlap_keys[] = {"min", "good", "bad", NULL};

const score_kind score_kind_overlap = {
    .name = "overlap", .keys = overlap_keys, .about = "sentences supported by meta.passages",
    .init = overlap_init, .score = overlap_score, .free = overlap_free};
