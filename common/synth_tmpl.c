/* synth_tmpl: the sentence templates, one table read both ways: synth_say
 * fills a template from a fact, synth_parse matches a sentence's words against
 * every template (a band subject may carry a disambiguator, itself a claim).
 * The slot classes are disjoint, so a sentence matches at most one way. */
#include <stdio.h>
#include <string.h>

#include "synth_impl.h"

/* $S band subject, $P person subject, $N plain band name (subject); value
 * slots: $y year, $t town, $g genre, $p person, $a album, $l label,
 * $i instrument, whose relation depends on the subject's kind. */
static const struct {
    int rel, form;
    const char *pat;
} tmpl[] = {
    {SR_FORMED, 0, "$S was formed in $y ."},
    {SR_FORMED, 1, "in $y , $S was formed ."},
    {SR_FORMED, 2, "$S was formed in $y in $t ."},
    {SR_ORIGIN, 0, "$S is from $t ."},
    {SR_ORIGIN, 1, "$S comes from $t ."},
    {SR_GENRE, 0, "$S plays $g music ."},
    {SR_GENRE, 1, "$S is a $g band ."},
    {SR_FOUNDER, 0, "$S was founded by $p ."},
    {SR_FOUNDER, 1, "$p founded $S ."},
    {SR_ALBUM, 0, "$S released the album $a ."},
    {SR_ALBUM, 1, "the album $a was released by $S ."},
    {SR_LABEL, 0, "$S signed with $l records ."},
    {SR_BORN_YEAR, 0, "$P was born in $y ."},
    {SR_BORN_YEAR, 2, "$P was born in $y in $t ."},
    {SR_BORN_TOWN, 0, "$P was born in $t ."},
    {SR_INSTRUMENT, 0, "$P plays the $i ."},
    {SR_AMBIGUOUS, 0, "$N may refer to two bands ."},
};
enum { NTMPL = sizeof tmpl / sizeof tmpl[0], MAXW = 16 };

static int slot_rel(int kind, char c)
{
    const char *band = "ytgpal", *person = "yti";
    const char *s = strchr(kind == SYNTH_BAND ? band : person, c);
    if (!s)
        return -1;
    return kind == SYNTH_BAND ? (int)(s - band) : SR_BORN_YEAR + (int)(s - person);
}

static int split_words(const char *pat, char words[MAXW][12])
{
    int n = 0;
    for (const char *p = pat; *p && n < MAXW;) {
        size_t len = strcspn(p, " ");
        snprintf(words[n++], 12, "%.*s", (int)len, p);
        p += len + (p[len] == ' ');
    }
    return n;
}

int synth_say(char *buf, size_t cap, const synth_world *w, const synth_fact *f)
{
    int k = 0;
    for (int i = 0; i < NTMPL; i++)
        if (tmpl[i].rel == f->rel && (tmpl[i].form == f->form || (!k && !tmpl[i].form)))
            k = i + 1;
    if (!k)
        return -1;
    const synth_ent *x = &w->e[f->ent];
    char words[MAXW][12];
    int n = split_words(tmpl[k - 1].pat, words);
    size_t len = strlen(buf);
    for (int i = 0; i < n && len < cap; i++) {
        const char *s = words[i], *sep = i ? " " : "";
        char c = s[0] == '$' ? s[1] : 0;
        int r = c ? slot_rel(x->kind, c) : -1;
        int wrote;
        if (c == 'S' && f->dis == SR_GENRE)
            wrote = snprintf(buf + len, cap - len, "%sthe %s band %s", sep, x->val[SR_GENRE], x->name);
        else if (c == 'S' && f->dis == SR_ORIGIN)
            wrote = snprintf(buf + len, cap - len, "%sthe band %s from %s", sep, x->name,
                             x->val[SR_ORIGIN]);
        else if (c == 'S' || c == 'P' || c == 'N')
            wrote = snprintf(buf + len, cap - len, "%s%s", sep, x->name);
        else if (c)
            wrote = snprintf(buf + len, cap - len, "%s%s", sep, r == f->rel ? f->val : x->val[r]);
        else
            wrote = snprintf(buf + len, cap - len, "%s%s", sep, s);
        len += (size_t)wrote;
    }
    return len < cap ? 0 : -1;
}

/* ---- parsing ---- */

static int is(const char *t, synth_class c)
{
    return synth_word_class(t) == (int)c;
}

/* Two-word values: band and person names, albums. */
static int pair(const char *const *t, int n, synth_class a, synth_class b, char *out)
{
    if (n < 2 || !is(t[0], a) || !is(t[1], b))
        return 0;
    snprintf(out, SYNTH_VAL, "%s %s", t[0], t[1]);
    return 1;
}

static void add_claim(synth_sent *s, int rel, const char *v)
{
    s->rel[s->n] = rel;
    snprintf(s->val[s->n++], SYNTH_VAL, "%s", v);
}

/* Matches words[wi..] against t[0..n): 1 when the whole sentence matches. */
static int match(synth_sent *s, char words[MAXW][12], int nw, int wi, const char *const *t, int n)
{
    if (wi == nw)
        return n == 0;
    const char *p = words[wi];
    if (p[0] != '$')
        return n > 0 && !strcmp(t[0], p) && match(s, words, nw, wi + 1, t + 1, n - 1);
    synth_sent save = *s;
    char c = p[1], v[SYNTH_VAL];
    if (c == 'S' || c == 'N') {
        s->kind = SYNTH_BAND;
        if (pair(t, n, SC_ADJ, SC_NOUN, s->subj) && match(s, words, nw, wi + 1, t + 2, n - 2))
            return 1;
        if (c == 'N' || n < 3 || strcmp(t[0], "the"))
            return *s = save, 0;
        if (is(t[1], SC_GENRE) && n >= 4 && !strcmp(t[2], "band") &&
            pair(t + 3, n - 3, SC_ADJ, SC_NOUN, s->subj)) {
            add_claim(s, SR_GENRE, t[1]);
            if (match(s, words, nw, wi + 1, t + 5, n - 5))
                return 1;
            *s = save;
        }
        if (!strcmp(t[1], "band") && n >= 5 && pair(t + 2, n - 2, SC_ADJ, SC_NOUN, s->subj) &&
            !strcmp(t[4], "from") && n >= 6 && is(t[5], SC_TOWN)) {
            add_claim(s, SR_ORIGIN, t[5]);
            if (match(s, words, nw, wi + 1, t + 6, n - 6))
                return 1;
        }
        return *s = save, 0;
    }
    if (c == 'P') {
        s->kind = SYNTH_PERSON;
        return pair(t, n, SC_FIRST, SC_LAST, s->subj) && match(s, words, nw, wi + 1, t + 2, n - 2);
    }
    int used = 1;
    if (c == 'y')
        used = n > 0 && synth_word_class(t[0]) == SC_N + 1 ? (snprintf(v, SYNTH_VAL, "%s", t[0]), 1) : 0;
    else if (c == 'p' || c == 'a')
        used = pair(t, n, c == 'p' ? SC_FIRST : SC_ALBUM1, c == 'p' ? SC_LAST : SC_ALBUM2, v) ? 2 : 0;
    else {
        synth_class cl = c == 't' ? SC_TOWN : c == 'g' ? SC_GENRE : c == 'l' ? SC_LABEL : SC_INSTR;
        used = n > 0 && is(t[0], cl) ? (snprintf(v, SYNTH_VAL, "%s", t[0]), 1) : 0;
    }
    if (!used || s->n >= SYNTH_MAX_CLAIMS)
        return 0;
    /* the subject comes first in every template but "$p founded $S", whose
     * founder claim is the band's: kind is settled once the subject matched */
    int at = s->n;
    add_claim(s, -1, v);
    if (!match(s, words, nw, wi + 1, t + used, n - used))
        return *s = save, 0;
    s->rel[at] = slot_rel(s->kind, c);
    return s->rel[at] >= 0 ? 1 : (*s = save, 0);
}

int synth_parse(synth_sent *s, const char *const *toks, int n)
{
    for (int i = 0; i < NTMPL; i++) {
        char words[MAXW][12];
        int nw = split_words(tmpl[i].pat, words);
        memset(s, 0, sizeof *s);
        if (match(s, words, nw, 0, toks, n)) {
            if (tmpl[i].rel == SR_AMBIGUOUS)
                add_claim(s, SR_AMBIGUOUS, "");
            return 1;
        }
    }
    memset(s, 0, sizeof *s);
    return 0;
}
