/* score_lt: the `languagetool:URL` kind: LanguageTool's POST /v2/check (form
 * fields text and language) on each response; value is the number of
 * matches (or, with value=rate, matches per word), one span per match at its
 * last byte. LanguageTool's offset and length count UTF-16 code units (a
 * character outside the BMP, an emoji, is two), turned here into byte
 * offsets of the UTF-8 response. The requests, retries and cache are
 * score_remote's. See alarm-score(1), SCORERS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "score_remote.h"
#include "text_segment.h"
#include "utf8.h"

static const char *const lt_keys[] = {SCORE_REMOTE_KEYS, "lang", "value", "span", NULL};

typedef struct {
    score_remote *remote;
    char *url;          /* URL/v2/check */
    const char *lang;   /* the spec's (the spec outlives the state) */
    int rate;           /* value=rate */
    double span;        /* each match's span value */
} lt_state;

/* Percent-encodes s[0..n) as a form value (RFC 3986 unreserved kept) at *w. */
static int form_put(char **buf, size_t *cap, size_t *w, const char *s, size_t n, alarm_err *e)
{
    if (grow_array(buf, cap, *w + 3 * n + 1, 1, 256, e) < 0)
        return -1;
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            strchr("-._~", c))
            (*buf)[(*w)++] = (char)c;
        else {
            (*buf)[(*w)++] = '%';
            (*buf)[(*w)++] = hex[c >> 4];
            (*buf)[(*w)++] = hex[c & 15];
        }
    }
    (*buf)[*w] = '\0';
    return 0;
}

static char *lt_body(void *user, const score_in *in, alarm_err *e)
{
    const lt_state *l = user;
    char *b = NULL;
    size_t cap = 0, w = 0;
    if (form_put(&b, &cap, &w, "language", 8, e) < 0 || (b[w++] = '=', 0) ||
        form_put(&b, &cap, &w, l->lang, strlen(l->lang), e) < 0 || (b[w++] = '&', 0) ||
        form_put(&b, &cap, &w, "text", 4, e) < 0 || (b[w++] = '=', 0) ||
        form_put(&b, &cap, &w, in->response, in->len, e) < 0) {
        free(b);
        return NULL;
    }
    return b;
}

/* The byte offset of UTF-16 index u in s[0..n), or -1 when u is past the
 * end or inside a character (between the halves of a surrogate pair). */
static long utf16_byte(const char *s, size_t n, double u)
{
    size_t b = 0;
    double k = 0;
    while (k < u && b < n) {
        const unsigned char *p = (const unsigned char *)s + b;
        size_t len = p[0] < 0x80 ? 1 : utf8_seq(p, n - b);
        if (len == 0)
            return -1; /* not UTF-8: records are checked, so never */
        k += len == 4 ? 2 : 1;
        b += len;
    }
    return k == u ? (long)b : -1;
}

/* One match's span: at the byte before offset + length (its last byte). */
static const char *match_span(const lt_state *l, const score_in *in, const cJSON *m,
                              score_out *o, alarm_err *e, int *oom)
{
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(m, "offset");
    const cJSON *len = cJSON_GetObjectItemCaseSensitive(m, "length");
    if (!cJSON_IsNumber(off) || !cJSON_IsNumber(len) || off->valuedouble < 0 ||
        len->valuedouble < 0)
        return "no offset and length";
    long start = utf16_byte(in->response, in->len, off->valuedouble);
    long end = utf16_byte(in->response, in->len, off->valuedouble + len->valuedouble);
    if (start < 0 || end < 0)
        return "offset and length are not at characters of the text (UTF-16 code units)";
    if (end == 0)
        end = start + 1 <= (long)in->len ? start + 1 : start; /* an empty match at the start */
    if (end == 0)
        return "a match in an empty text";
    *oom = score_out_span(o, (size_t)end, l->span, e) < 0;
    return NULL;
}

static int lt_answer(void *user, const score_in *in, const char *body, size_t n, score_out *o,
                     alarm_err *e)
{
    const lt_state *l = user;
    cJSON *a = cJSON_ParseWithLength(body, n);
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(a, "matches");
    char q[128];
    score_quote(q, sizeof q, body, n);
    if (!cJSON_IsArray(ms)) {
        cJSON_Delete(a);
        return score_out_fail(o, "answer '%s': %s", q,
                              a ? "no \"matches\" array (not LanguageTool's /v2/check)" : "not JSON");
    }
    int k = 0, oom = 0;
    o->has_spans = 1;
    for (const cJSON *m = ms->child; m; m = m->next, k++) {
        const char *bad = match_span(l, in, m, o, e, &oom);
        if (oom || bad) {
            cJSON_Delete(a);
            return oom ? -1 : score_out_fail(o, "answer '%s': matches[%d]: %s", q, k, bad);
        }
    }
    cJSON_Delete(a);
    size_t words = text_word_count(in->response, in->len);
    o->raw = k;
    o->has_raw = 1;
    o->value = !l->rate ? k : words ? (double)k / (double)words : 0;
    return 0;
}

static void lt_free(void *st)
{
    lt_state *l = st;
    if (!l)
        return;
    score_remote_free(l->remote);
    free(l->url);
    free(l);
}

static int lt_init(void **st, const score_spec *s, const score_env *env, alarm_err *e)
{
    const char *v = score_spec_get(s, "value");
    if (v && strcmp(v, "count") && strcmp(v, "rate"))
        return err_set(e, "scorer %s: value=%s: expected count or rate", s->name, v);
    lt_state *l = calloc(1, sizeof *l);
    size_t n = strlen(s->arg);
    while (n > 0 && s->arg[n - 1] == '/')
        n--;
    int full = n >= 9 && !strncmp(s->arg + n - 9, "/v2/check", 9);
    if (!l || !(l->url = malloc(n + 10)))
        return free(l), err_set(e, "out of memory");
    snprintf(l->url, n + 10, "%.*s%s", (int)n, s->arg, full ? "" : "/v2/check");
    l->lang = score_spec_get(s, "lang") ? score_spec_get(s, "lang") : "en-US";
    l->rate = v && !strcmp(v, "rate");
    *st = l;
    score_remote_cfg cfg = {.url = l->url, .kind = "languagetool",
                            .content_type = "application/x-www-form-urlencoded",
                            .body = lt_body, .answer = lt_answer, .user = l};
    if (score_opt_double(s, "span", -1, -1e9, 1e9, &l->span, e) < 0 ||
        score_remote_new(&l->remote, &cfg, s, env, e) < 0) {
        lt_free(l);
        *st = NULL;
        return -1;
    }
    return 0;
}

static int lt_score(void *st, const score_in *in, size_t n, score_out *out, alarm_err *e)
{
    return score_remote_score(((lt_state *)st)->remote, in, n, out, e);
}

static int lt_finish(void *st, alarm_err *e)
{
    return score_remote_finish(((lt_state *)st)->remote, e);
}

const score_kind score_kind_languagetool = {
    .name = "languagetool", .arg = 2, .keys = lt_keys,
    .about = "LanguageTool's matches (POST URL/v2/check)", .init = lt_init, .score = lt_score,
    .free = lt_free, .finish = lt_finish};
