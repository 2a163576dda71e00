/* text_stat: a port of textstat 0.7.3's lexicon_count, sentence_count,
 * syllable_count and flesch_kincaid_grade. Python's regular expressions are
 * replayed on code points: \w is a letter, a number or '_' (str.isalnum),
 * \s is str.isspace; lowercasing is ICU's simple case mapping (Python's full
 * mapping differs only for U+0130 and a final sigma). */
#include "text_stat.h"

#include <hyphen.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "grow.h"

struct text_hyph {
    HyphenDict *d;
    char *hy;  /* (cap + 5) libhyphen's hyphen vector */
    size_t cap;
};

int text_hyph_open(text_hyph **out, const char *dic, alarm_err *e)
{
    text_hyph *h = calloc(1, sizeof *h);
    if (!h)
        return err_set(e, "out of memory");
    if (!(h->d = hnj_hyphen_load(dic))) {
        free(h);
        return err_set(e, "%s: cannot load the hyphenation dictionary (Debian: hyphen-en-us)",
                       dic);
    }
    /* pyphen ignores the file's LEFTHYPHENMIN/RIGHTHYPHENMIN and applies its
     * own left = right = 2 (text_hyph_syllables does), so libhyphen's are off. */
    h->d->lhmin = h->d->rhmin = 1;
    h->d->clhmin = h->d->crhmin = 1;
    *out = h;
    return 0;
}

void text_hyph_close(text_hyph *h)
{
    if (!h)
        return;
    hnj_hyphen_free(h->d);
    free(h->hy);
    free(h);
}

size_t text_hyph_syllables(text_hyph *h, const char *w, size_t n, alarm_err *e)
{
    size_t need = n + 5;
    if (need > h->cap) {
        char *p = realloc(h->hy, need);
        if (!p)
            return err_set(e, "out of memory"), 0;
        h->hy = p;
        h->cap = need;
    }
    char **rep = NULL;
    int *pos = NULL, *cut = NULL;
    memset(h->hy, 0, need);
    hnj_hyphen_hyphenate2(h->d, w, (int)n, h->hy, NULL, &rep, &pos, &cut);
    if (rep) {
        for (size_t i = 0; i < n; i++)
            free(rep[i]);
        free(rep);
        free(pos);
        free(cut);
    }
    size_t L = 0, c = 1;
    for (size_t i = 0; i < n; i++)
        L += ((unsigned char)w[i] & 0xC0) != 0x80;
    /* hy[i] odd: a point after code point i, pyphen's position i + 1 */
    for (size_t i = 1; i + 2 < L; i++)
        c += h->hy[i] & 1;
    return c;
}

static int py_space(UChar32 c)
{
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

static int py_word(UChar32 c)
{
    if (c == '_')
        return 1;
    switch (u_charType(c)) {
    case U_UPPERCASE_LETTER: case U_LOWERCASE_LETTER: case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER: case U_OTHER_LETTER: case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER: case U_OTHER_NUMBER:
        return 1;
    default:
        return 0;
    }
}

/* lexicon_count of cp[a, b): words of remove_punctuation(text).split(). */
static size_t count_words(const UChar32 *cp, size_t a, size_t b)
{
    size_t n = 0;
    int in = 0;
    for (size_t i = a; i < b; i++) {
        if (py_space(cp[i]))
            in = 0;
        else if (py_word(cp[i]) && !in)
            in = 1, n++;
    }
    return n;
}

static int is_term(UChar32 c) { return c == '.' || c == '!' || c == '?'; }

/* sentence_count: re.findall(r"\b[^.!?]+[.!?]*"), minus matches of at most
 * two words, at least 1. */
static size_t count_sentences(const UChar32 *cp, size_t n)
{
    size_t found = 0, ignored = 0, p = 0;
    while (p < n) {
        int before = p > 0 && py_word(cp[p - 1]), after = py_word(cp[p]);
        if (before == after || is_term(cp[p])) {
            p++;
            continue;
        }
        size_t q = p;
        while (q < n && !is_term(cp[q]))
            q++;
        while (q < n && is_term(cp[q]))
            q++;
        found++;
        ignored += count_words(cp, p, q) <= 2;
        p = q;
    }
    return found > ignored + 1 ? found - ignored : 1;
}

/* syllable_count: each word of remove_punctuation(text.lower()).split(). */
static int count_syllables(size_t *out, text_hyph *h, const UChar32 *cp, size_t n, alarm_err *e)
{
    char *w = malloc(4 * n + 1);
    if (!w)
        return err_set(e, "out of memory");
    size_t c = 0, len = 0;
    alarm_err e2 = {{0}};
    for (size_t i = 0; i <= n; i++) {
        if (i == n || py_space(cp[i])) {
            w[len] = '\0'; /* libhyphen reads the word as a C string too (strstr) */
            if (len)
                c += text_hyph_syllables(h, w, len, &e2);
            len = 0;
        } else if (py_word(cp[i])) {
            U8_APPEND_UNSAFE(w, len, u_tolower(cp[i]));
        }
    }
    free(w);
    if (e2.msg[0])
        return err_set(e, "%s", e2.msg);
    *out = c;
    return 0;
}

double text_legacy_round(double x, int points)
{
    double p = pow(10, points);
    return floor(x * p + copysign(0.5, x)) / p;
}

int text_stats_compute(text_stats *out, text_hyph *h, const char *s, size_t n, alarm_err *e)
{
    UChar32 *cp = malloc((n + 1) * sizeof *cp);
    if (!cp)
        return err_set(e, "out of memory");
    size_t m = 0;
    for (int32_t i = 0; (size_t)i < n;) {
        UChar32 c;
        U8_NEXT(s, i, (int32_t)n, c);
        cp[m++] = c < 0 ? 0xFFFD : c;
    }
    memset(out, 0, sizeof *out);
    out->words = count_words(cp, 0, m);
    out->sentences = count_sentences(cp, m);
    int rc = m ? count_syllables(&out->syllables, h, cp, m, e) : 0;
    free(cp);
    if (rc < 0)
        return -1;
    double asl = text_legacy_round((double)out->words / (double)out->sentences, 1);
    double spw = out->words ? text_legacy_round((double)out->syllables / (double)out->words, 1)
                            : 0.0;
    out->grade = text_legacy_round(0.39 * asl + 11.8 * spw - 15.59, 1);
    return 0;
}
