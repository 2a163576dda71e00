/* shard: which records one shard of a run takes (--shard I/N of
 * alarm-rollout and alarm-judge): record k (0-based, in input order) goes
 * to shard k mod N, so the N shards together take every record exactly
 * once, and a shard's share does not depend on the records' contents. */
#ifndef ALARM_SHARD_H
#define ALARM_SHARD_H

#include <stdint.h>

static inline int shard_takes(uint64_t k, long i, long n)
{
    return n <= 1 || (long)(k % (uint64_t)n) == i;
}

#endif
