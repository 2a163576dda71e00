/* consist: how consistent an aspect reward is with the holistic reward
 * (alarm-formats(5) section 4). Over unordered pairs of responses to one prompt,
 * an aspect agrees when its difference has the holistic difference's sign.
 * Used by alarm-select (pairs within a prompt group) and alarm-judge (the two
 * systems' responses to one prompt). Pure arithmetic: no allocation, no I/O. */
#ifndef ALARM_CONSIST_H
#define ALARM_CONSIST_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t holistic_nontie; /* pairs with dh != 0 */
    uint64_t agree;           /* dh != 0, da != 0, same sign */
    uint64_t disagree;        /* dh != 0, da != 0, opposite signs */
    uint64_t aspect_ties;     /* dh != 0, da == 0 */
} consist_counts;

/* Counts one pair (i, j): h_* are holistic values, a_* the aspect's values.
 * lower_better negates da. A holistic tie counts nowhere. */
void consist_count_pair(consist_counts *c, double h_i, double h_j, double a_i, double a_j,
                        int lower_better);

/* Counts every unordered pair of a group of n responses to one prompt.
 * Entries whose aspect value is NaN (aspect absent) take part in no pair. */
void consist_count_group(consist_counts *c, const double *h, const double *a, size_t n,
                         int lower_better);

void consist_add(consist_counts *dst, const consist_counts *src);

/* disagree / holistic_nontie, 0 when holistic_nontie is 0. */
double consist_inconsistency(const consist_counts *c);

/* agree / (agree + disagree); NaN when that is 0/0 (reported as null). */
double consist_consistency(const consist_counts *c);

/* Automatic selection. Candidates with eligible[i] set are ranked by
 * inconsistency, lowest first (ties keep the given order, so the caller
 * decides it); the first k whose inconsistency is at most max_incons are
 * picked (max_incons < 0: no bound). Writes selected[i] (0/1) and rank[i]
 * (1-based rank among eligible candidates, 0 if not eligible). Returns the
 * number picked. */
size_t consist_select(int *selected, size_t *rank, const consist_counts *counts,
                      const int *eligible, size_t n, size_t k, double max_incons);

#endif
