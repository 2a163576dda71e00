/* text_segment: English sentence rules and ALaRM's sub-sentence rule over
 * UTF-8 bytes; alarm-score(1) SEGMENTATION states the same rules in prose,
 * and tests/test_text_segment.c checks them on tricky text. */
#include "text_segment.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "grow.h"

size_t text_space_len(const char *s, size_t n, size_t i)
{
    const unsigned char *p = (const unsigned char *)s + i;
    size_t left = n - i;
    if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        return 1;
    if (left >= 2 && p[0] == 0xC2 && p[1] == 0xA0)
        return 2;
    if (left >= 3 && p[0] == 0xE2 && p[1] == 0x80 &&
        (p[2] <= 0x8A || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF))
        return 3;
    if (left >= 3 && ((p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0x9F) ||
                      (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)))
        return 3;
    return 0;
}

int text_next_word(const char *s, size_t n, size_t *i, size_t *ws, size_t *we)
{
    size_t k = *i, l;
    while (k < n && (l = text_space_len(s, n, k)))
        k += l;
    if (k >= n)
        return *i = n, 0;
    *ws = k;
    while (k < n && !text_space_len(s, n, k))
        k++;
    *we = *i = k;
    return 1;
}

size_t text_word_count(const char *s, size_t n)
{
    size_t i = 0, a, b, c = 0;
    while (text_next_word(s, n, &i, &a, &b))
        c++;
    return c;
}

static int has(const char *s, size_t n, size_t i, const char *lit)
{
    size_t l = strlen(lit);
    return n - i >= l && !memcmp(s + i, lit, l);
}

/* A sentence terminator at s[i]: its length; *cjk set for 。！？ */
static size_t term_len(const char *s, size_t n, size_t i, int *cjk, int *dots, int *bang)
{
    if (s[i] == '.')
        return ++*dots, 1;
    if (s[i] == '!' || s[i] == '?')
        return ++*bang, 1;
    if (has(s, n, i, "\xE2\x80\xA6")) /* … */
        return *dots += 3, 3;
    if (has(s, n, i, "\xE3\x80\x82") || has(s, n, i, "\xEF\xBC\x81") ||
        has(s, n, i, "\xEF\xBC\x9F"))
        return *cjk = 1, 3;
    return 0;
}

/* Closing quotes and brackets that stay with the sentence they end. */
static size_t closer_len(const char *s, size_t n, size_t i)
{
    if (strchr("\"')]}", s[i]) && s[i])
        return 1;
    static const char *const u[] = {"\xE2\x80\x9D", "\xE2\x80\x99", "\xE3\x80\x8D",
                                    "\xE3\x80\x8F", "\xE3\x80\x8B", "\xEF\xBC\x89", NULL};
    for (size_t k = 0; u[k]; k++)
        if (has(s, n, i, u[k]))
            return 3;
    return 0;
}

/* Openers skipped when looking at the next word's first letter. */
static size_t opener_len(const char *s, size_t n, size_t i)
{
    if (s[i] == '"' || s[i] == '\'' || s[i] == '(' || s[i] == '[')
        return 1;
    return has(s, n, i, "\xE2\x80\x9C") || has(s, n, i, "\xE2\x80\x98") ? 3 : 0;
}

/* Titles and the like: a period after them never ends a sentence. */
static const char *const abbrev_always[] = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "cf", "approx", "ca",
    "inc", "ltd", "co", "corp", "dept", "gen", "gov", "sen", "rep", "rev", "capt", "col",
    "lt", "sgt", "al", "eds", "viz", "resp", NULL};
/* These only before a number: "No. 5", "p. 12", "Jan. 3". */
static const char *const abbrev_number[] = {
    "no", "nos", "p", "pp", "vol", "vols", "fig", "figs", "ch", "sec", "art", "ed", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", NULL};

static int in_list(const char *const *l, const char *w, size_t len)
{
    for (size_t k = 0; l[k]; k++)
        if (strlen(l[k]) == len && !strncasecmp(l[k], w, len))
            return 1;
    return 0;
}

/* w[0, len) is one letter, or letters with dots between them (U.S, e.g). */
static int initialism(const char *w, size_t len)
{
    int dots = 0;
    for (size_t k = 0; k < len; k++) {
        if (w[k] == '.')
            dots++;
        else if (!isalpha((unsigned char)w[k]) || (k + 1 < len && w[k + 1] != '.'))
            return 0;
    }
    return len == 1 || dots > 0;
}

/* Whether a lone '.' at s[dot], followed by white space, ends a sentence. */
static int period_ends(const char *s, size_t n, size_t start, size_t dot, size_t next)
{
    size_t w = dot;
    while (w > start && !text_space_len(s, n, w - 1) && !opener_len(s, n, w - 1))
        w--;
    size_t len = dot - w;
    int nextc = next < n ? (unsigned char)s[next] : 0;
    if (len && (in_list(abbrev_always, s + w, len) || initialism(s + w, len)))
        return 0;
    if (len && isdigit(nextc) && in_list(abbrev_number, s + w, len))
        return 0;
    return !(islower(nextc) || nextc == ',' || nextc == ';' || nextc == ':');
}

static int push(text_segs *g, const char *s, size_t n, size_t a, size_t b, alarm_err *e)
{
    while (b > a) { /* trailing white space is not in the segment */
        size_t k = b - 1;
        while (k > a && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
        if (!text_space_len(s, n, k))
            break;
        b = k;
    }
    if (b <= a)
        return 0;
    if (grow_array(&g->v, &g->cap, g->n + 1, sizeof *g->v, 16, e) < 0)
        return -1;
    g->v[g->n++] = (text_seg){a, b};
    return 0;
}

static size_t skip_space(const char *s, size_t n, size_t i)
{
    size_t l;
    while (i < n && (l = text_space_len(s, n, i)))
        i += l;
    return i;
}

/* Where the sentence whose terminator run starts at i ends, or 0 if not here. */
static size_t sentence_end(const char *s, size_t n, size_t start, size_t i, size_t *resume)
{
    int cjk = 0, dots = 0, bang = 0;
    size_t k = i, l;
    while (k < n && (l = term_len(s, n, k, &cjk, &dots, &bang)))
        k += l;
    while (k < n && (l = closer_len(s, n, k)))
        k += l;
    *resume = k;
    if (cjk)
        return k;
    if (k < n && !text_space_len(s, n, k))
        return 0; /* 3.14, example.com, U.S.A */
    size_t next = skip_space(s, n, k);
    while (next < n && (l = opener_len(s, n, next)))
        next += l;
    if (next >= n)
        return k;
    if (islower((unsigned char)s[next]))
        return 0; /* "Yes!" she said. */
    if (bang)
        return k;
    if (dots == 1)
        return period_ends(s, n, start, i, next) ? k : 0;
    return isupper((unsigned char)s[next]) ? k : 0; /* an ellipsis */
}

int text_sentences(text_segs *g, const char *s, size_t n, alarm_err *e)
{
    g->n = 0;
    size_t i = skip_space(s, n, 0), start = i;
    while (i < n) {
        size_t resume = i + 1, end;
        int cjk = 0, d = 0, b = 0;
        if (term_len(s, n, i, &cjk, &d, &b) && (end = sentence_end(s, n, start, i, &resume))) {
            if (push(g, s, n, start, end, e) < 0)
                return -1;
            i = start = skip_space(s, n, end);
        } else if (term_len(s, n, i, &cjk, &d, &b)) {
            i = resume;
        } else if (s[i] == '\n' && skip_space(s, n, i + 1) > i + 1 &&
                   memchr(s + i + 1, '\n', skip_space(s, n, i + 1) - i - 1)) {
            if (push(g, s, n, start, i, e) < 0) /* a blank line ends a paragraph */
                return -1;
            i = start = skip_space(s, n, i);
        } else {
            i++;
        }
    }
    return push(g, s, n, start, n, e);
}

/* A sub-sentence cut after s[i]: its length (1, or 3 for ，；！？). */
static size_t cut_len(const char *s, size_t n, size_t i)
{
    if (s[i] == ',' || s[i] == ';' || s[i] == '!' || s[i] == '?')
        return i + 1 == n || text_space_len(s, n, i + 1) ? 1 : 0;
    if (has(s, n, i, "\xEF\xBC\x8C") || has(s, n, i, "\xEF\xBC\x9B") ||
        has(s, n, i, "\xEF\xBC\x81") || has(s, n, i, "\xEF\xBC\x9F"))
        return 3;
    return 0;
}

int text_subsentences(text_segs *g, const char *s, size_t n, size_t min_words, alarm_err *e)
{
    text_segs sent = {0};
    if (text_sentences(&sent, s, n, e) < 0)
        return text_segs_free(&sent), -1;
    g->n = 0;
    int rc = 0;
    for (size_t k = 0; k < sent.n && rc == 0; k++) {
        size_t a = sent.v[k].start, b = sent.v[k].end;
        for (size_t i = a; i < b && rc == 0; i++) {
            size_t l = cut_len(s, b, i);
            if (!l || text_word_count(s + a, i + l - a) < min_words ||
                text_word_count(s + i + l, b - i - l) < min_words)
                continue;
            rc = push(g, s, n, a, i + l, e);
            a = skip_space(s, b, i + l);
            i = a - 1;
        }
        if (rc == 0)
            rc = push(g, s, n, a, b, e);
    }
    text_segs_free(&sent);
    return rc;
}

void text_segs_free(text_segs *g)
{
    free(g->v);
    g->v = NULL;
    g->n = g->cap = 0;
}
