/* synth_check: the exact checkers. A response is split into sentences at
 * "." tokens (an unterminated tail is a sentence that does not parse); each is
 * factual when one entity of its name in the passages states every claim it
 * makes, relevant when it is about the asked name and adds a claim; the
 * completeness is the weight of gold facts stated with support; Q combines
 * them as the prototype did: 0.35 F + 0.25 R + 0.4 C. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "synth.h"

enum { MAXTOK = 24, MAXSEEN = 64 };

typedef struct {
    char key[MAXSEEN][2 * SYNTH_VAL + 4];
    int n;
} seen_set;

/* 1 when the claim is new (and now seen). */
static int seen_add(seen_set *S, const synth_sent *s, int c)
{
    char k[sizeof S->key[0]];
    snprintf(k, sizeof k, "%s|%d|%s", s->subj, s->rel[c], s->val[c]);
    for (int i = 0; i < S->n; i++)
        if (!strcmp(S->key[i], k))
            return 0;
    if (S->n < MAXSEEN)
        memcpy(S->key[S->n++], k, sizeof k);
    return 1;
}

static int named(const synth_tent *x, const synth_sent *s)
{
    return x->kind == s->kind && !strcmp(x->name, s->subj);
}

/* Does entity x state every claim of s? */
static int supports(const synth_truth *t, int x, const synth_sent *s)
{
    const synth_tent *e = &t->ents[x];
    if (!named(e, s))
        return 0;
    for (int c = 0; c < s->n; c++) {
        if (s->rel[c] == SR_AMBIGUOUS) {
            int same = 0;
            for (int j = 0; j < t->n_ents; j++)
                same += named(&t->ents[j], s);
            if (same < 2)
                return 0;
        } else if (!e->has[s->rel[c]] || strcmp(e->val[s->rel[c]], s->val[c])) {
            return 0;
        }
    }
    return 1;
}

static int about_asked(const synth_truth *t, const synth_sent *s)
{
    if (s->kind == t->asked_kind && !strcmp(s->subj, t->asked))
        return 1;
    for (int c = 0; c < s->n; c++)
        if (s->rel[c] == SR_FOUNDER && !strcmp(s->val[c], t->asked))
            return 1;
    return 0;
}

/* Which asked sense a sentence giving the asked relation addresses: the
 * twin its disambiguator names (1 or 2), or 0 when it names none. */
static int sense_of(const synth_truth *t, const synth_sent *s)
{
    for (int c = 0, k = 0; c < s->n; c++)
        for (int j = 0; j < t->n_ents; j++)
            if (named(&t->ents[j], s) && (s->rel[c] == SR_GENRE || s->rel[c] == SR_ORIGIN)) {
                k++;
                if (!strcmp(t->ents[j].val[s->rel[c]], s->val[c]))
                    return k;
            }
    return 0;
}

static void judge_sentence(synth_check_result *r, synth_scored *o, const synth_truth *t,
                           const synth_sent *s, seen_set *seen, int credited[], int senses[3])
{
    int sup[SYNTH_MAX_ENTS], ns = 0, gives_rel = 0;
    for (int j = 0; j < t->n_ents && o->parsed; j++)
        if (supports(t, j, s))
            sup[ns++] = j;
    o->factual = ns > 0;
    o->about = o->parsed && about_asked(t, s);
    for (int c = 0; c < s->n; c++) {
        o->new_claims += seen_add(seen, s, c);
        gives_rel |= s->rel[c] == t->rel;
    }
    o->relevant = o->about && o->new_claims > 0;
    r->on_topic += o->relevant ? o->new_claims : 0;
    r->repeats += o->about && !o->new_claims;
    r->off_topic += !o->about;
    if (o->about && gives_rel)
        senses[t->ambiguous ? sense_of(t, s) : 0] = 1;
    for (int g = 0; g < t->n_gold; g++)
        for (int i = 0; i < ns && !credited[g]; i++)
            for (int c = 0; c < s->n; c++)
                if (sup[i] == t->gold[g].ent && s->rel[c] == t->gold[g].rel &&
                    !strcmp(s->val[c], t->gold[g].val))
                    credited[g] = 1;
}

static void totals(synth_check_result *r, const synth_truth *t, const int credited[],
                   const int senses[3])
{
    int f = 0, rel = 0, got = 0, all = 0, mains = 0, main_got = 0;
    for (int i = 0; i < r->n; i++)
        f += r->s[i].factual, rel += r->s[i].relevant;
    for (int g = 0; g < t->n_gold; g++) {
        all += t->gold[g].weight;
        got += credited[g] ? t->gold[g].weight : 0;
        mains += t->gold[g].weight == 2;
        main_got += t->gold[g].weight == 2 && credited[g];
    }
    r->F = r->n ? (double)f / r->n : 0;
    r->R = r->n ? (double)rel / r->n : 0;
    r->C = all ? (double)got / all : 0;
    r->main = mains ? (double)main_got / mains : 0;
    r->Q = 0.35 * r->F + 0.25 * r->R + 0.4 * r->C;
    int n_senses = t->ambiguous ? 2 : 1, named_senses = senses[1] + senses[2];
    int addressed = named_senses + (senses[0] && named_senses < n_senses);
    r->addressed = (double)(addressed < n_senses ? addressed : n_senses) / n_senses;
}

int synth_check(synth_check_result *r, const synth_truth *t, const char *response,
                alarm_err *e)
{
    memset(r, 0, sizeof *r);
    size_t cap = 0;
    int credited[SYNTH_MAX_GOLD] = {0}, senses[3] = {0};
    seen_set *seen = calloc(1, sizeof *seen);
    if (!seen)
        return err_set(e, "out of memory");
    const char *p = response;
    while (*p) {
        char tok[MAXTOK][SYNTH_VAL];
        const char *toks[MAXTOK];
        int n = 0, all = 0, ended = 0, too_long = 0;
        size_t start = 0, end = 0;
        while (*p && !ended) {
            while (isspace((unsigned char)*p))
                p++;
            if (!*p)
                break;
            size_t len = strcspn(p, " \t\n\r\f\v");
            if (!all++)
                start = (size_t)(p - response);
            end = (size_t)(p - response) + len;
            ended = len == 1 && *p == '.';
            if (n < MAXTOK && len < SYNTH_VAL) {
                memcpy(tok[n], p, len);
                tok[n][len] = 0;
                toks[n] = tok[n];
                n++;
            } else {
                too_long = 1;
            }
            p += len;
        }
        if (!all)
            break;
        if (grow_array(&r->s, &cap, (size_t)r->n + 1, sizeof *r->s, 8, e) < 0) {
            free(seen);
            synth_check_free(r);
            return -1;
        }
        synth_scored *o = &r->s[r->n++];
        synth_sent s;
        *o = (synth_scored){.start = start, .end = end};
        o->parsed = ended && !too_long && synth_parse(&s, toks, n);
        if (!o->parsed)
            memset(&s, 0, sizeof s);
        judge_sentence(r, o, t, &s, seen, credited, senses);
    }
    totals(r, t, credited, senses);
    free(seen);
    return 0;
}

void synth_check_free(synth_check_result *r)
{
    free(r->s);
    r->s = NULL;
    r->n = 0;
}
