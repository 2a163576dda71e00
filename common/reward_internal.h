/* reward_internal: helpers shared by reward.c and reward_scan.c only. */
#ifndef ALARM_REWARD_INTERNAL_H
#define ALARM_REWARD_INTERNAL_H

#include "reward.h"

/* Grows *p (an array of elements of `size`) to hold at least n; keeps contents. */
int reward_grow(void *p, size_t *cap, size_t n, size_t size);

/* The token whose byte span holds byte b, or o->T when none does
 * (o->off_s, o->off_e and o->T set). */
size_t reward_token_of_byte(const reward_rec *o, size_t b);

#endif
