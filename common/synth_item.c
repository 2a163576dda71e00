/* synth_item: one prompt of the world: a question about a band or a person
 * (both twins' passages when the name is shared), passages of 2-4 facts about
 * their entity plus 1-2 about others, distractor passages, the gold long-form
 * answer and the truth the checkers need (what the passages state). */
#include <stdio.h>
#include <string.h>

#include "synth_impl.h"

static const char *const questions[SR_AMBIGUOUS] = {
    "when was %s formed ?", "where does %s come from ?", "what genre does %s play ?",
    "who founded %s ?", "what album did %s release ?", "which label did %s sign with ?",
    "when was %s born ?", "where was %s born ?", "what does %s play ?"};

/* The truth entry of world entity x, added when new. */
static int tent(synth_truth *t, const synth_world *w, int x)
{
    for (int i = 0; i < t->n_ents; i++)
        if (t->ents[i].wid == x)
            return i;
    if (t->n_ents == SYNTH_MAX_ENTS)
        return -1;
    synth_tent *e = &t->ents[t->n_ents];
    memset(e, 0, sizeof *e);
    e->wid = x;
    e->kind = w->e[x].kind;
    snprintf(e->id, sizeof e->id, "%c%d", e->kind == SYNTH_BAND ? 'b' : 'p',
             e->kind == SYNTH_BAND ? x : x - w->o.n_bands);
    snprintf(e->name, SYNTH_VAL, "%s", w->e[x].name);
    return t->n_ents++;
}

static int state(synth_truth *t, const synth_world *w, int x, int rel)
{
    int i = tent(t, w, x);
    if (i < 0)
        return -1;
    t->ents[i].has[rel] = 1;
    snprintf(t->ents[i].val[rel], SYNTH_VAL, "%s", w->e[x].val[rel]);
    return 0;
}

/* A true fact of x about relation rel in a random passage form; a person's
 * "founder" fact is its band's, said "P founded S". */
static synth_fact passage_fact(const synth_world *w, int x, int rel, uint64_t *rng)
{
    synth_fact f = {.ent = x, .rel = rel, .dis = -1};
    if (rel == SR_FOUNDER && w->e[x].kind == SYNTH_PERSON)
        f.ent = w->e[x].partner, f.form = 1;
    else if ((rel == SR_FORMED || rel == SR_BORN_YEAR) && synth_chance(rng, 0.2))
        f.form = 2;
    else
        f.form = synth_chance(rng, 0.5);
    snprintf(f.val, SYNTH_VAL, "%s", w->e[f.ent].val[rel]);
    return f;
}

static int kind_rels(int kind, int *rels)
{
    int n = 0;
    for (int r = 0; r < SR_AMBIGUOUS; r++)
        if (synth_rel_kind(r) == kind)
            rels[n++] = r;
    if (kind == SYNTH_PERSON)
        rels[n++] = SR_FOUNDER;
    return n;
}

static int random_other(const synth_world *w, const char *name, uint64_t *rng)
{
    int x;
    do
        x = synth_pick(rng, w->n);
    while (!strcmp(w->e[x].name, name));
    return x;
}

/* Passage p about x: its facts (rel always, genre and origin for a twin),
 * 1-2 sentences about others, shuffled; stated facts go into the truth. */
static int passage_make(synth_item *it, const synth_world *w, int p, int x, int rel,
                        uint64_t *rng)
{
    synth_fact f[12];
    int rels[8], nr = kind_rels(w->e[x].kind, rels), nf = 0, k = 2 + synth_pick(rng, 3);
    synth_shuffle(rels, nr, rng);
    f[nf++] = passage_fact(w, x, rel, rng);
    for (int i = 0; i < nr; i++) {
        int need = w->e[x].twin >= 0 && (rels[i] == SR_GENRE || rels[i] == SR_ORIGIN);
        if (rels[i] != rel && (need || nf < k))
            f[nf++] = passage_fact(w, x, rels[i], rng);
    }
    for (int i = 0, n = 1 + synth_pick(rng, 2); i < n; i++) {
        int y = synth_chance(rng, 0.5) ? w->e[x].partner : random_other(w, it->truth.asked, rng);
        int yr[8], ny = kind_rels(w->e[y].kind, yr);
        synth_fact g = passage_fact(w, y, yr[synth_pick(rng, ny)], rng);
        int dup = 0;
        for (int j = 0; j < nf; j++)
            dup |= f[j].ent == g.ent && f[j].rel == g.rel;
        if (!dup)
            f[nf++] = g;
    }
    int order[12];
    for (int i = 0; i < nf; i++)
        order[i] = i;
    synth_shuffle(order, nf, rng);
    char *buf = it->passage[p];
    buf[0] = 0;
    for (int i = 0; i < nf; i++) {
        const synth_fact *g = &f[order[i]];
        if (i && strlen(buf) + 1 < sizeof it->passage[p])
            strcat(buf, " ");
        if (synth_say(buf, sizeof it->passage[p], w, g) < 0 || state(&it->truth, w, g->ent, g->rel) < 0)
            return -1;
        if (g->form == 2 && state(&it->truth, w, g->ent, g->rel == SR_FORMED ? SR_ORIGIN : SR_BORN_TOWN) < 0)
            return -1;
    }
    return 0;
}

static int gold_add(synth_item *it, const synth_world *w, int x, int rel, int dis, int weight)
{
    synth_truth *t = &it->truth;
    synth_fact *f = &it->gold[it->n_gold++];
    *f = (synth_fact){.ent = x, .rel = rel, .dis = dis, .main = weight == 2};
    if (rel == SR_FOUNDER && w->e[x].kind == SYNTH_PERSON)
        f->ent = w->e[x].partner, f->form = 1;
    snprintf(f->val, SYNTH_VAL, "%s", rel == SR_AMBIGUOUS ? "" : w->e[f->ent].val[rel]);
    synth_gold *g = &t->gold[t->n_gold++];
    *g = (synth_gold){.ent = tent(t, w, f->ent), .rel = rel, .weight = weight};
    snprintf(g->val, SYNTH_VAL, "%s", f->val);
    if (dis >= 0) {
        g = &t->gold[t->n_gold++];
        *g = (synth_gold){.ent = tent(t, w, x), .rel = dis, .weight = 1};
        snprintf(g->val, SYNTH_VAL, "%s", w->e[x].val[dis]);
    }
    return t->gold[t->n_gold - 1].ent;
}

/* The main sentence, then up to two supporting facts the passages state, in
 * relation order; for a shared name, the ambiguity and one disambiguated main
 * sentence per twin. */
static int gold_make(synth_item *it, const synth_world *w, int x, int rel)
{
    const synth_ent *e = &w->e[x];
    if (e->twin >= 0) {
        int a = x < e->twin ? x : e->twin, dis = rel == SR_GENRE ? SR_ORIGIN : SR_GENRE;
        if (gold_add(it, w, a, SR_AMBIGUOUS, -1, 1) < 0 || gold_add(it, w, a, rel, dis, 2) < 0)
            return -1;
        return gold_add(it, w, a == x ? e->twin : x, rel, dis, 2);
    }
    if (gold_add(it, w, x, rel, -1, 2) < 0)
        return -1;
    int rels[8], nr = kind_rels(e->kind, rels), support = 0;
    for (int i = 0; i < nr && support < 2; i++) {
        int y = rels[i] == SR_FOUNDER && e->kind == SYNTH_PERSON ? e->partner : x;
        int ti = tent(&it->truth, w, y);
        if (rels[i] != rel && ti >= 0 && it->truth.ents[ti].has[rels[i]]) {
            if (gold_add(it, w, x, rels[i], -1, 1) < 0)
                return -1;
            support++;
        }
    }
    return 0;
}

int synth_item_make(synth_item *it, const synth_world *w, int split, uint64_t index,
                    alarm_err *e)
{
    uint64_t rng = synth_stream(w->o.seed, 1 + (uint64_t)split, index);
    int held = w->o.test_frac > 0, kind = synth_chance(&rng, 0.25) ? SYNTH_PERSON : SYNTH_BAND;
    int x, n = 0;
    for (int i = 0; i < w->n; i++)
        n += w->e[i].kind == kind && (!held || w->e[i].test == split);
    if (n == 0)
        return err_set(e, "no %s entity in the %s split", kind ? "person" : "band",
                       split ? "test" : "train");
    for (int k = synth_pick(&rng, n), i = 0;; i++)
        if (w->e[i].kind == kind && (!held || w->e[i].test == split) && k-- == 0) {
            x = i;
            break;
        }
    int rels[8], nr = kind_rels(kind, rels) - (kind == SYNTH_PERSON); /* not "founded" */
    int rel = rels[synth_pick(&rng, nr)];
    memset(it, 0, sizeof *it);
    it->split = split;
    synth_truth *t = &it->truth;
    snprintf(t->asked, SYNTH_VAL, "%s", w->e[x].name);
    t->asked_kind = kind;
    t->rel = rel;
    t->ambiguous = w->e[x].twin >= 0;
    snprintf(it->question, sizeof it->question, questions[rel], w->e[x].name);
    int ents[SYNTH_MAX_PASSAGES], prel[SYNTH_MAX_PASSAGES], np = 0;
    ents[np] = x, prel[np++] = rel;
    if (t->ambiguous)
        ents[np] = w->e[x].twin, prel[np++] = rel;
    while (np < w->o.n_passages) {
        ents[np] = random_other(w, t->asked, &rng);
        int yr[8], ny = kind_rels(w->e[ents[np]].kind, yr);
        prel[np++] = yr[synth_pick(&rng, ny)];
    }
    int order[SYNTH_MAX_PASSAGES] = {0, 1, 2, 3};
    synth_shuffle(order, np, &rng);
    it->n_passages = np;
    for (int p = 0; p < np; p++)
        if (passage_make(it, w, p, ents[order[p]], prel[order[p]], &rng) < 0)
            return err_set(e, "prompt %llu: too many entities in the passages",
                           (unsigned long long)index);
    if (gold_make(it, w, x, rel) < 0)
        return err_set(e, "prompt %llu: too many entities in the passages",
                       (unsigned long long)index);
    return 0;
}

int synth_answer_text(char *buf, size_t cap, const synth_world *w, const synth_fact *f, int n)
{
    buf[0] = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(buf);
        if (len + 2 >= cap)
            return -1;
        buf[len] = ' ', buf[len + 1] = 0;
        if (synth_say(buf, cap, w, &f[i]) < 0)
            return -1;
    }
    return 0;
}

int synth_item_prompt(char *buf, size_t cap, const synth_item *it)
{
    size_t len = (size_t)snprintf(buf, cap, "question: %s\n", it->question);
    for (int p = 0; p < it->n_passages && len < cap; p++)
        len += (size_t)snprintf(buf + len, cap - len, "passage: %s\n", it->passage[p]);
    if (len < cap)
        len += (size_t)snprintf(buf + len, cap - len, "answer:");
    return len < cap ? 0 : -1;
}
