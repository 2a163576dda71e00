/* synth: the embedded world of the demo (alarm-synth(1)): bands and their
 * founders with attributes, passages stating some of their facts, questions
 * (ambiguous ones about twin names, as in ASQA) with gold long-form answers,
 * faulty demonstrations, a noisy annotator, and exact checkers that score any
 * response against what the passages state. Everything is a pure function of
 * the seed; text is lowercase words separated by single spaces, with "." "," "?"
 * tokens of their own. */
#ifndef ALARM_SYNTH_H
#define ALARM_SYNTH_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum { SYNTH_BAND, SYNTH_PERSON };

/* Relations; the first six are a band's, the next three a person's. */
typedef enum {
    SR_FORMED, SR_ORIGIN, SR_GENRE, SR_FOUNDER, SR_ALBUM, SR_LABEL,
    SR_BORN_YEAR, SR_BORN_TOWN, SR_INSTRUMENT,
    SR_AMBIGUOUS, /* "N may refer to two bands ." */
    SR_N
} synth_rel;

enum { SYNTH_VAL = 32, SYNTH_MAX_CLAIMS = 4, SYNTH_MAX_ENTS = 16, SYNTH_MAX_GOLD = 8,
       SYNTH_MAX_FACTS = 48, SYNTH_MAX_PASSAGES = 4 };

/* ---- vocabulary (synth_vocab.c) ---- */
const char *synth_rel_name(synth_rel r);
int synth_rel_parse(const char *s); /* -1 when unknown */
int synth_rel_kind(synth_rel r);    /* SYNTH_BAND or SYNTH_PERSON */

/* ---- the world (synth_world.c) ---- */
/* A random stream of its own for (seed, stream, index), for common/rng. */
uint64_t synth_stream(uint64_t seed, uint64_t stream, uint64_t index);

typedef struct {
    int kind;
    char name[SYNTH_VAL];
    char val[SR_N][SYNTH_VAL]; /* "" where the relation is not the kind's */
    int twin;                  /* the other band of a shared name, or -1 */
    int partner;               /* band: its founder; person: the band founded */
    int test;                  /* held out (open world) */
} synth_ent;

typedef struct {
    uint64_t seed;
    int n_bands;      /* bands, each with one founder (a person) */
    double twin_frac; /* fraction of bands sharing their name with another */
    double test_frac; /* fraction of names held out for test prompts */
    int n_passages;   /* passages per prompt, 2..SYNTH_MAX_PASSAGES */
} synth_opts;

typedef struct {
    synth_opts o;
    synth_ent *e; /* bands 0..n_bands-1, then their founders */
    int n;
} synth_world;

int synth_world_build(synth_world *w, const synth_opts *o, alarm_err *e);
void synth_world_free(synth_world *w);

/* ---- facts and sentences (synth_say.c, synth_parse.c) ---- */
/* One sentence's worth of a world fact: entity ent's relation rel (value val,
 * which a fault may make false), said through template form `form`, with the
 * band subject disambiguated by relation `dis` (SR_GENRE, SR_ORIGIN) or not
 * (-1). Form 1 is a passage variant, form 2 a two-fact combination. */
typedef struct {
    int ent, rel, form, dis;
    char val[SYNTH_VAL];
    int main; /* a main-answer sentence of a gold answer */
} synth_fact;

/* Appends the sentence (with its "." and no leading space) to buf. */
int synth_say(char *buf, size_t cap, const synth_world *w, const synth_fact *f);

/* A sentence parsed back into claims about its subject. */
typedef struct {
    int kind;
    char subj[SYNTH_VAL];
    int n;
    int rel[SYNTH_MAX_CLAIMS];
    char val[SYNTH_MAX_CLAIMS][SYNTH_VAL];
} synth_sent;

/* toks[0..n-1] are the sentence's words, the final "." included. 1 when
 * one template matches exactly, 0 otherwise. */
int synth_parse(synth_sent *s, const char *const *toks, int n);

/* ---- the truth a scorer needs (synth_truth.c, from a record's meta) ---- */
typedef struct {
    char id[12];
    int kind, wid; /* wid: world index, -1 when read from a record */
    char name[SYNTH_VAL];
    int has[SR_N];
    char val[SR_N][SYNTH_VAL]; /* the facts the passages state */
} synth_tent;

typedef struct {
    int ent; /* index into ents */
    int rel;
    char val[SYNTH_VAL];
    int weight; /* 2 main facts, 1 supporting ones */
} synth_gold;

typedef struct {
    char asked[SYNTH_VAL];
    int asked_kind, rel, ambiguous;
    synth_tent ents[SYNTH_MAX_ENTS];
    int n_ents;
    synth_gold gold[SYNTH_MAX_GOLD];
    int n_gold;
} synth_truth;

/* The meta object of a prompt record (alarm-formats(5) section 1) <-> truth. */
cJSON *synth_truth_json(const synth_truth *t);
int synth_truth_read(synth_truth *t, const cJSON *meta, alarm_err *e);

/* ---- prompts (synth_item.c) ---- */
typedef struct {
    int split; /* 0 train, 1 test */
    char question[96];
    char passage[SYNTH_MAX_PASSAGES][768];
    int n_passages;
    synth_fact gold[SYNTH_MAX_GOLD]; /* the gold answer, sentence by sentence */
    int n_gold;
    synth_truth truth;
} synth_item;

/* Item `index` of a split, from its own random stream: prompt k is the same
 * whatever the count asked for. */
int synth_item_make(synth_item *it, const synth_world *w, int split, uint64_t index,
                    alarm_err *e);
/* "question: Q\npassage: P\n...answer:" and the answer text (" S1 S2 ..."). */
int synth_item_prompt(char *buf, size_t cap, const synth_item *it);
int synth_answer_text(char *buf, size_t cap, const synth_world *w, const synth_fact *f, int n);

/* ---- checkers (synth_check.c) ---- */
typedef struct {
    size_t start, end; /* byte span of the sentence in the response */
    int parsed, factual, relevant, about, new_claims;
} synth_scored;

typedef struct {
    synth_scored *s;
    int n;
    double F, R, C, Q, main; /* rates; main: main facts credited */
    double addressed;        /* the annotator's: asked senses given any value */
    int on_topic, repeats, off_topic;
} synth_check_result;

int synth_check(synth_check_result *r, const synth_truth *t, const char *response,
                alarm_err *e);
void synth_check_free(synth_check_result *r);

/* ---- faults and the annotator (synth_fault.c) ---- */
typedef struct {
    double wrong, miss, irrel, rep, unsup;
} synth_rates;

/* The gold answer with faults injected at `rates`, drawing from *rng. */
int synth_fault(synth_fact *out, int cap, const synth_world *w, const synth_item *it,
                const synth_rates *rates, uint64_t *rng);

typedef struct {
    double fact_w, temp, flip, tie;
} synth_annotator;

double synth_annot_score(const synth_check_result *r, double fact_w);
/* 1: a preferred, 0: b preferred, -1: a tie the annotator skips. */
int synth_annotate(const synth_annotator *a, const synth_check_result *ra,
                   const synth_check_result *rb, uint64_t *rng);

#endif
