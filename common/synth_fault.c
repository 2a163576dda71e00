/* synth_fault: realistic faults in gold answers (a wrong value taken from
 * another entity of the passages, a true fact the passages do not state, a
 * missing main sentence, a sentence about another entity, a repetition), and
 * the noisy, sparse annotator that labels preference pairs: it checks that
 * the asked relation is answered but not with which value, and weighs
 * factuality by fact_w. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "synth_impl.h"

/* Another passage entity's value of the same relation (else another world
 * entity's), differing from the true one. */
static void wrong_value(synth_fact *f, const synth_world *w, const synth_item *it, uint64_t *rng)
{
    const synth_truth *t = &it->truth;
    const char *cand[SYNTH_MAX_ENTS];
    int n = 0;
    for (int i = 0; i < t->n_ents; i++)
        if (t->ents[i].has[f->rel] && strcmp(t->ents[i].val[f->rel], f->val))
            cand[n++] = t->ents[i].val[f->rel];
    for (int tries = 0; !n && tries < 64; tries++) {
        const synth_ent *x = &w->e[synth_pick(rng, w->n)];
        if (x->val[f->rel][0] && strcmp(x->val[f->rel], f->val))
            cand[n++] = x->val[f->rel];
    }
    if (n)
        snprintf(f->val, SYNTH_VAL, "%s", cand[synth_pick(rng, n)]);
}

/* A true fact of the asked entity that the passages do not state. */
static int unsupported(synth_fact *f, const synth_world *w, const synth_item *it, uint64_t *rng)
{
    const synth_fact *m = &it->gold[0]; /* the main fact, or a twin's ambiguity */
    int x = m->ent, rels[SR_AMBIGUOUS], n = 0;
    for (int i = 0; i < it->truth.n_ents; i++)
        if (it->truth.ents[i].wid == x)
            for (int r = 0; r < SR_AMBIGUOUS; r++)
                if (synth_rel_kind(r) == w->e[x].kind && !it->truth.ents[i].has[r])
                    rels[n++] = r;
    if (!n)
        return 0;
    *f = (synth_fact){.ent = x, .rel = rels[synth_pick(rng, n)], .dis = -1};
    snprintf(f->val, SYNTH_VAL, "%s", w->e[x].val[f->rel]);
    return 1;
}

/* A stated fact of a passage entity the question is not about. */
static int irrelevant(synth_fact *f, const synth_item *it, uint64_t *rng)
{
    const synth_truth *t = &it->truth;
    int cand[SYNTH_MAX_ENTS * SR_N][2], n = 0;
    for (int i = 0; i < t->n_ents; i++)
        for (int r = 0; r < SR_AMBIGUOUS; r++)
            if (t->ents[i].has[r] && strcmp(t->ents[i].name, t->asked) &&
                strcmp(t->ents[i].val[r], t->asked))
                cand[n][0] = i, cand[n++][1] = r;
    if (!n)
        return 0;
    int k = synth_pick(rng, n);
    *f = (synth_fact){.ent = t->ents[cand[k][0]].wid, .rel = cand[k][1], .dis = -1};
    snprintf(f->val, SYNTH_VAL, "%s", t->ents[cand[k][0]].val[f->rel]);
    return 1;
}

static void insert_at(synth_fact *a, int *n, int at, const synth_fact *f)
{
    memmove(&a[at + 1], &a[at], (size_t)(*n - at) * sizeof *a);
    a[at] = *f;
    (*n)++;
}

int synth_fault(synth_fact *out, int cap, const synth_world *w, const synth_item *it,
                const synth_rates *rates, uint64_t *rng)
{
    int n = 0;
    for (int i = 0; i < it->n_gold; i++)
        out[n++] = it->gold[i];
    if (synth_chance(rng, rates->miss)) {
        int mains[SYNTH_MAX_GOLD], nm = 0;
        for (int i = 0; i < n; i++)
            if (out[i].main)
                mains[nm++] = i;
        int k = mains[synth_pick(rng, nm)];
        memmove(&out[k], &out[k + 1], (size_t)(n - k - 1) * sizeof *out);
        n--;
    }
    for (int i = 0; i < n; i++)
        if (out[i].rel != SR_AMBIGUOUS && synth_chance(rng, rates->wrong))
            wrong_value(&out[i], w, it, rng);
    synth_fact f;
    if (n + 1 < cap && synth_chance(rng, rates->unsup) && unsupported(&f, w, it, rng))
        out[n++] = f;
    if (n + 1 < cap && synth_chance(rng, rates->irrel) && irrelevant(&f, it, rng))
        insert_at(out, &n, n ? 1 + synth_pick(rng, n) : 0, &f);
    if (n && n + 1 < cap && synth_chance(rng, rates->rep)) {
        int k = synth_pick(rng, n);
        f = out[k];
        insert_at(out, &n, k + 1 + synth_pick(rng, n - k), &f);
    }
    return n;
}

double synth_annot_score(const synth_check_result *r, double fact_w)
{
    int on = r->on_topic < 4 ? r->on_topic : 4;
    return 1.0 * r->addressed + 0.12 * on - 0.25 * r->repeats - 0.05 * r->off_topic +
           fact_w * r->F;
}

int synth_annotate(const synth_annotator *a, const synth_check_result *ra,
                   const synth_check_result *rb, uint64_t *rng)
{
    double d = synth_annot_score(ra, a->fact_w) - synth_annot_score(rb, a->fact_w);
    if (fabs(d) < a->tie)
        return -1;
    int prefer_a = rng_unit(rng) < 1 / (1 + exp(-d / a->temp));
    return synth_chance(rng, a->flip) ? !prefer_a : prefer_a;
}
