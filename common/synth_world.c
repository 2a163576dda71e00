/* synth_world: the closed world, from the seed alone: bands (two-word names,
 * a fifth of them sharing a name with a twin that differs in genre, origin,
 * label and year) and one founder each; names held out for test prompts are
 * chosen by name, so twins stay together. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth_impl.h"

uint64_t synth_stream(uint64_t seed, uint64_t stream, uint64_t index)
{
    uint64_t s = seed ^ (stream + 1) * 0x9E3779B97F4A7C15ull;
    s += index * 0xD1B54A32D192ED03ull;
    rng_next(&s);
    return s;
}

static void word2(char *out, synth_class a, synth_class b, int k)
{
    snprintf(out, SYNTH_VAL, "%s %s", synth_words[a][k / synth_nwords[b]],
             synth_words[b][k % synth_nwords[b]]);
}

static const char *word(synth_class c, uint64_t *rng)
{
    return synth_words[c][synth_pick(rng, synth_nwords[c])];
}

/* A band's attributes; its twin (when twin >= 0) differs in the four the
 * questions can tell them apart by. */
static void band_make(synth_world *w, int b, int twin, uint64_t *rng)
{
    synth_ent *x = &w->e[b], *t = twin >= 0 ? &w->e[twin] : NULL;
    x->kind = SYNTH_BAND;
    do {
        snprintf(x->val[SR_FORMED], SYNTH_VAL, "%d", 1960 + synth_pick(rng, 56));
        snprintf(x->val[SR_ORIGIN], SYNTH_VAL, "%s", word(SC_TOWN, rng));
        snprintf(x->val[SR_GENRE], SYNTH_VAL, "%s", word(SC_GENRE, rng));
        snprintf(x->val[SR_LABEL], SYNTH_VAL, "%s", word(SC_LABEL, rng));
    } while (t && (!strcmp(x->val[SR_FORMED], t->val[SR_FORMED]) ||
                   !strcmp(x->val[SR_ORIGIN], t->val[SR_ORIGIN]) ||
                   !strcmp(x->val[SR_GENRE], t->val[SR_GENRE]) ||
                   !strcmp(x->val[SR_LABEL], t->val[SR_LABEL])));
    word2(x->val[SR_ALBUM], SC_ALBUM1, SC_ALBUM2,
          synth_pick(rng, synth_nwords[SC_ALBUM1] * synth_nwords[SC_ALBUM2]));
}

static void person_make(synth_world *w, int p, int band, const char *name, uint64_t *rng)
{
    synth_ent *x = &w->e[p], *b = &w->e[band];
    x->kind = SYNTH_PERSON;
    snprintf(x->name, SYNTH_VAL, "%s", name);
    snprintf(x->val[SR_BORN_YEAR], SYNTH_VAL, "%d", atoi(b->val[SR_FORMED]) - 18 - synth_pick(rng, 18));
    snprintf(x->val[SR_BORN_TOWN], SYNTH_VAL, "%s", word(SC_TOWN, rng));
    snprintf(x->val[SR_INSTRUMENT], SYNTH_VAL, "%s", word(SC_INSTR, rng));
    snprintf(b->val[SR_FOUNDER], SYNTH_VAL, "%s", name);
    x->partner = band;
    b->partner = p;
    x->twin = -1;
}

/* k distinct indices of [0, n) in random order, into v (n ints of room). */
static void draw(int *v, int n, uint64_t *rng)
{
    for (int i = 0; i < n; i++)
        v[i] = i;
    synth_shuffle(v, n, rng);
}

int synth_world_build(synth_world *w, const synth_opts *o, alarm_err *e)
{
    int nb = o->n_bands;
    int nnames = synth_nwords[SC_ADJ] * synth_nwords[SC_NOUN];
    int npersons = synth_nwords[SC_FIRST] * synth_nwords[SC_LAST];
    memset(w, 0, sizeof *w);
    if (nb < 4 || nb > nnames || nb > npersons)
        return err_set(e, "bands: %d is not in 4..%d", nb, nnames);
    if (o->n_passages < 2 || o->n_passages > SYNTH_MAX_PASSAGES)
        return err_set(e, "passages: %d is not in 2..%d", o->n_passages, SYNTH_MAX_PASSAGES);
    w->o = *o;
    w->n = 2 * nb;
    w->e = calloc((size_t)w->n, sizeof *w->e);
    int *names = malloc((size_t)npersons * sizeof *names);
    if (!w->e || !names) {
        free(names);
        synth_world_free(w);
        return err_set(e, "out of memory");
    }
    uint64_t rng = synth_stream(o->seed, 0, 0);
    int pairs = (int)(nb * o->twin_frac / 2);
    draw(names, nnames, &rng);
    /* bands 2k, 2k+1 (k < pairs) are twins; name group g holds band(s) */
    int groups = nb - pairs;
    for (int g = 0, b = 0; g < groups; g++) {
        int n = g < pairs ? 2 : 1;
        for (int i = 0; i < n; i++, b++) {
            word2(w->e[b].name, SC_ADJ, SC_NOUN, names[g]);
            w->e[b].twin = n == 2 ? (i ? b - 1 : b + 1) : -1;
            band_make(w, b, i ? b - 1 : -1, &rng);
        }
    }
    /* held out by name group: twins together */
    draw(names, groups, &rng);
    int held = (int)(groups * o->test_frac + 0.5);
    for (int i = 0; i < held; i++) {
        int g = names[i], b = g < pairs ? 2 * g : g + pairs;
        w->e[b].test = 1;
        if (g < pairs)
            w->e[b + 1].test = 1;
    }
    draw(names, npersons, &rng);
    for (int b = 0; b < nb; b++) {
        char pname[SYNTH_VAL];
        word2(pname, SC_FIRST, SC_LAST, names[b]);
        person_make(w, nb + b, b, pname, &rng);
        w->e[nb + b].test = w->e[b].test;
    }
    free(names);
    return 0;
}

void synth_world_free(synth_world *w)
{
    free(w->e);
    w->e = NULL;
    w->n = 0;
}
