/* rng: the one seeded generator of the library, splitmix64 (Steele, Lea and
 * Flood 2014): a 64-bit state advanced by a constant and mixed. A seed gives
 * the same stream on every platform; no libc rand, no clock seeding. */
#ifndef ALARM_RNG_H
#define ALARM_RNG_H

#include <stdint.h>

/* Advances *state and returns the next 64 random bits. */
uint64_t rng_next(uint64_t *state);
/* A double uniform in [0, 1), from the top 53 bits of rng_next. */
double rng_unit(uint64_t *state);
/* The (i+1)-th output of the stream rng_next draws from state `seed`,
 * computed directly: a counter-based draw, so parallel loops and a backward
 * pass regenerate exactly the values a forward pass used (dropout masks). */
uint64_t rng_at(uint64_t seed, uint64_t i);

#endif
