/* rng: splitmix64, the seeded stream behind sampling seeds, weight
 * initialisation, retry jitter, the judge's prompt subsets and dropout
 * masks (see rng.h). */
#include "rng.h"

#define RNG_GAMMA 0x9e3779b97f4a7c15ull

uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += RNG_GAMMA);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double rng_unit(uint64_t *state)
{
    return (double)(rng_next(state) >> 11) * 0x1.0p-53;
}

uint64_t rng_at(uint64_t seed, uint64_t i)
{
    uint64_t s = seed + i * RNG_GAMMA; /* the state after i calls of rng_next */
    return rng_next(&s);
}
