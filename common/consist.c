/* consist: pair counting, ratios and automatic selection (see consist.h).
 * Comparisons are exact on the values as read: two values that print the
 * same but differ in the last bit are not a tie. */
#include "consist.h"

#include <math.h>

static int sign(double x) { return (x > 0) - (x < 0); }

void consist_count_pair(consist_counts *c, double h_i, double h_j, double a_i, double a_j,
                        int lower_better)
{
    int sh = sign(h_i - h_j);
    int sa = sign(a_i - a_j);
    if (lower_better)
        sa = -sa;
    if (sh == 0)
        return;
    c->holistic_nontie++;
    if (sa == 0)
        c->aspect_ties++;
    else if (sa == sh)
        c->agree++;
    else
        c->disagree++;
}

void consist_count_group(consist_counts *c, const double *h, const double *a, size_t n,
                         int lower_better)
{
    for (size_t i = 0; i < n; i++) {
        if (isnan(a[i]))
            continue;
        for (size_t j = i + 1; j < n; j++)
            if (!isnan(a[j]))
                consist_count_pair(c, h[i], h[j], a[i], a[j], lower_better);
    }
}

void consist_add(consist_counts *dst, const consist_counts *src)
{
    dst->holistic_nontie += src->holistic_nontie;
    dst->agree += src->agree;
    dst->disagree += src->disagree;
    dst->aspect_ties += src->aspect_ties;
}

double consist_inconsistency(const consist_counts *c)
{
    return c->holistic_nontie ? (double)c->disagree / (double)c->holistic_nontie : 0.0;
}

double consist_consistency(const consist_counts *c)
{
    uint64_t d = c->agree + c->disagree;
    return d ? (double)c->agree / (double)d : NAN;
}

size_t consist_select(int *selected, size_t *rank, const consist_counts *counts,
                      const int *eligible, size_t n, size_t k, double max_incons)
{
    size_t picked = 0;
    for (size_t i = 0; i < n; i++) {
        selected[i] = 0;
        rank[i] = 0;
        if (!eligible[i])
            continue;
        /* Rank = 1 + candidates strictly better, or equal and earlier: a
         * stable order without sorting (candidate lists are short). */
        double xi = consist_inconsistency(&counts[i]);
        size_t r = 1;
        for (size_t j = 0; j < n; j++) {
            if (j == i || !eligible[j])
                continue;
            double xj = consist_inconsistency(&counts[j]);
            if (xj < xi || (xj == xi && j < i))
                r++;
        }
        rank[i] = r;
    }
    for (size_t r = 1; r <= n && picked < k; r++)
        for (size_t i = 0; i < n; i++)
            if (rank[i] == r) {
                if (max_incons < 0 || consist_inconsistency(&counts[i]) <= max_incons) {
                    selected[i] = 1;
                    picked++;
                }
                break;
            }
    return picked;
}
