/* judge_sys: the systems being compared, aligned by prompt id.
 * Each system is a NAME and a JSONL file of records with "prompt_id" (or
 * "id"), "prompt", "response" and possibly "rewards". Every system must hold
 * every prompt of the first system exactly once, and nothing else: a missing
 * or repeated prompt is an input error naming it. Rewards asked for by name
 * are required in every record; the holistic reward is read when present. */
#ifndef ALARM_JUDGE_SYS_H
#define ALARM_JUDGE_SYS_H

#include "record.h"
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct {
    char *prompt_id, *prompt, *response;
    double *values;  /* one per reward name of the set; NAN when absent (holistic only) */
    long line;       /* its line in the system's file */
} judge_resp;

typedef struct {
    char *name, *path;
    judge_resp *r;   /* in file order */
    size_t n;
    size_t *by_id;   /* indices of r sorted by prompt_id, for lookups */
} judge_system;

typedef struct {
    judge_system *sys;
    size_t nsys;
    char **rewards;      /* names read from "rewards" (no sign); the last one is the holistic */
    size_t nrewards;
    record_reward scratch; /* one reward as read */
    size_t nprompts;     /* prompts judged (after judge_set_subset) */
    size_t *idx;         /* idx[s * nprompts + p]: record of prompt p in system s */
} judge_set;

/* Loads every "NAME=FILE" spec. `rewards` are the reward names the reward
 * judges need (required in every record); `holistic` is read when present. */
int judge_set_load(judge_set *set, char *const *specs, size_t nspecs,
                   const char *const *rewards, size_t nrewards, const char *holistic,
                   alarm_err *e);
void judge_set_free(judge_set *set);

/* Keeps a seeded random subset of `max` prompts (in their original order),
 * the same for every pair of systems. No-op when max >= nprompts. */
void judge_set_subset(judge_set *set, size_t max, uint64_t seed);

/* Keeps shard i of n (shard.h) of the prompts, by prompt id: every system
 * and both orders of a prompt stay in one shard. No-op when n <= 1. */
int judge_set_shard(judge_set *set, long i, long n, alarm_err *e);

/* The record of prompt p (0..nprompts-1) in system s. */
static inline const judge_resp *judge_set_get(const judge_set *set, size_t s, size_t p)
{
    return &set->sys[s].r[set->idx[s * set->nprompts + p]];
}

/* The words (runs of non-space bytes) of every response, (nprompts, nsys),
 * malloc'd; NULL when out of memory. */
double *judge_set_words(const judge_set *set);

/* Index of reward `name` in set->rewards, or -1. */
int judge_set_reward(const judge_set *set, const char *name);

#endif
