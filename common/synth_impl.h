/* synth_impl: what the synth_*.c files share and nobody else needs: the word
 * classes of the world's vocabulary and small random helpers over common/rng. */
#ifndef ALARM_SYNTH_IMPL_H
#define ALARM_SYNTH_IMPL_H

#include <stdint.h>

#include "rng.h"
#include "synth.h"

/* Slot word classes, disjoint from each other and from the templates' words. */
typedef enum {
    SC_ADJ, SC_NOUN, SC_FIRST, SC_LAST, SC_TOWN, SC_GENRE, SC_LABEL, SC_INSTR,
    SC_ALBUM1, SC_ALBUM2, SC_N
} synth_class;

extern const char *const *const synth_words[SC_N];
extern const int synth_nwords[SC_N];
enum { SYNTH_YEAR0 = 1920, SYNTH_NYEARS = 100 };

/* The class of a word, SC_N + 1 for a year token, -1 for any other word. */
int synth_word_class(const char *w);

static inline int synth_pick(uint64_t *rng, int n)
{
    return (int)(rng_unit(rng) * n);
}

static inline int synth_chance(uint64_t *rng, double p)
{
    return rng_unit(rng) < p;
}

/* Shuffles n ints in place. */
void synth_shuffle(int *v, int n, uint64_t *rng);

#endif
