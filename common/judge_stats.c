/* judge_stats: the formulas of judge_stats.h. */
#include "judge_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

double judge_rate_ties(long win, long lose, long tie, judge_ties ties)
{
    double num = (double)win, den = (double)(win + lose);
    if (ties == JT_HALF) {
        num += 0.5 * (double)tie;
        den += (double)tie;
    } else if (ties == JT_LOSS)
        den += (double)tie;
    return den > 0 ? 100.0 * num / den : 50.0;
}

void judge_wilson(long k, long n, double *lo, double *hi)
{
    if (n <= 0) {
        *lo = 0;
        *hi = 100;
        return;
    }
    const double z = 1.959963984540054; /* the 97.5th percentile of N(0, 1) */
    double p = (double)k / (double)n, z2n = z * z / (double)n;
    double mid = (p + z2n / 2) / (1 + z2n);
    double half = z * sqrt(p * (1 - p) / (double)n + z2n / (4.0 * (double)n)) / (1 + z2n);
    *lo = 100 * fmax(0, mid - half);
    *hi = 100 * fmin(1, mid + half);
}

void judge_averages(const judge_counts *c, size_t np, size_t ns, judge_ties ties,
                    const unsigned *w, double *avg)
{
    for (size_t i = 0; i < ns; i++) {
        double sum = 0;
        for (size_t j = 0; j < ns; j++) {
            if (j == i)
                continue;
            long n[3] = {0}; /* win, lose, tie */
            for (size_t p = 0; p < np; p++) {
                const judge_counts *x = &c[(p * ns + i) * ns + j];
                long k = w ? (long)w[p] : 1;
                n[0] += k * x->win;
                n[1] += k * x->lose;
                n[2] += k * x->tie;
            }
            sum += judge_rate_ties(n[0], n[1], n[2], ties);
        }
        avg[i] = ns > 1 ? sum / (double)(ns - 1) : 50;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of sorted x[0, n), linearly interpolated (numpy's default). */
static double quantile(const double *x, int n, double q)
{
    double at = q * (n - 1);
    int k = (int)floor(at);
    return k + 1 < n ? x[k] + (at - k) * (x[k + 1] - x[k]) : x[n - 1];
}

int judge_bootstrap(const judge_counts *c, size_t np, size_t ns, judge_ties ties, int draws,
                    uint64_t seed, double *lo, double *hi, alarm_err *e)
{
    unsigned *w = malloc((np ? np : 1) * sizeof *w);
    double *avg = malloc(ns * sizeof *avg), *all = malloc((size_t)draws * ns * sizeof *all);
    double *col = malloc((size_t)draws * sizeof *col);
    if (!w || !avg || !all || !col || draws < 1) {
        free(w), free(avg), free(all), free(col);
        return err_set(e, draws < 1 ? "a bootstrap needs at least one draw" : "out of memory");
    }
    uint64_t s = seed;
    for (int d = 0; d < draws; d++) {
        memset(w, 0, np * sizeof *w);
        for (size_t k = 0; k < np; k++)
            w[rng_next(&s) % np]++;
        judge_averages(c, np, ns, ties, w, avg);
        for (size_t i = 0; i < ns; i++)
            all[(size_t)d * ns + i] = avg[i];
    }
    for (size_t i = 0; i < ns; i++) {
        for (int d = 0; d < draws; d++)
            col[d] = all[(size_t)d * ns + i];
        qsort(col, (size_t)draws, sizeof *col, cmp_double);
        lo[i] = quantile(col, draws, 0.025);
        hi[i] = quantile(col, draws, 0.975);
    }
    free(w), free(avg), free(all), free(col);
    return 0;
}

double judge_lc_rate(const double *d, const int *won, size_t n)
{
    double wins = 0, mean = 0, var = 0;
    for (size_t k = 0; k < n; k++) {
        wins += won[k] != 0;
        mean += d[k];
    }
    if (n == 0)
        return 50;
    mean /= (double)n;
    for (size_t k = 0; k < n; k++)
        var += (d[k] - mean) * (d[k] - mean);
    double sd = n > 1 ? sqrt(var / (double)(n - 1)) : 0;
    if (n < 2 || !(sd > 0))
        return 100 * wins / (double)n;
    /* Newton's method on the log-likelihood with a small ridge on both
     * coefficients: on separable verdicts (length explains them all) the fit
     * then tends to the widest margin, whose boundary lies between the
     * classes, instead of running off to infinity */
    const double ridge = 1e-3;
    double b0 = 0, b1 = 0;
    for (int it = 0; it < 200; it++) {
        double g0 = -ridge * b0, g1 = -ridge * b1, h00 = ridge, h01 = 0, h11 = ridge;
        for (size_t k = 0; k < n; k++) {
            double x = d[k] / sd, p = 1 / (1 + exp(-(b0 + b1 * x))), r = (won[k] != 0) - p;
            double q = p * (1 - p);
            g0 += r;
            g1 += r * x;
            h00 += q;
            h01 += q * x;
            h11 += q * x * x;
        }
        double det = h00 * h11 - h01 * h01;
        if (!(det > 1e-300))
            break;
        double s0 = (h11 * g0 - h01 * g1) / det, s1 = (h00 * g1 - h01 * g0) / det;
        b0 += s0;
        b1 += s1;
        if (fabs(s0) + fabs(s1) < 1e-10)
            break;
    }
    return 100 / (1 + exp(-b0));
}
