/* judge_stats against hand-worked numbers: Wilson intervals, the three tie
 * conventions, the bootstrap against a direct resampling written here with
 * the same seed, and the length-controlled rate on verdicts that length
 * alone explains. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "judge_stats.h"
#include "rng.h"

static void wilson_and_ties(void **state)
{
    (void)state;
    double lo, hi;
    /* 8 of 10: p = 0.8, z = 1.96: (0.4902, 0.9433) by the textbook formula */
    judge_wilson(8, 10, &lo, &hi);
    assert_true(fabs(lo - 49.016) < 0.01 && fabs(hi - 94.331) < 0.01);
    judge_wilson(0, 20, &lo, &hi); /* never zero width at the edge */
    assert_true(lo == 0 && fabs(hi - 16.11) < 0.01);
    judge_wilson(0, 0, &lo, &hi);
    assert_true(lo == 0 && hi == 100);
    assert_true(judge_rate_ties(6, 2, 2, JT_EXCLUDE) == 75);
    assert_true(judge_rate_ties(6, 2, 2, JT_HALF) == 70);
    assert_true(judge_rate_ties(6, 2, 2, JT_LOSS) == 60);
    assert_true(judge_rate_ties(0, 0, 3, JT_EXCLUDE) == 50);
    assert_true(judge_rate_ties(0, 0, 3, JT_LOSS) == 0);
}

enum { NP = 40, NS = 3 };

/* A's average against B and C resampled by hand: prompt indices drawn from
 * the same stream, rates recounted. */
static void bootstrap_matches_direct_resampling(void **state)
{
    (void)state;
    static judge_counts out[NP * NS * NS];
    uint64_t g = 7;
    for (int p = 0; p < NP; p++)
        for (int i = 0; i < NS; i++)
            for (int j = i + 1; j < NS; j++) {
                /* system 0 usually wins; some ties; pair (1, 2) unjudged on prompt 3 */
                int r = (int)(rng_next(&g) % 10), o = r < 6 - 2 * i ? 1 : r < 8 ? -1 : 0;
                if (p == 3 && i == 1)
                    continue;
                judge_counts *ij = &out[(p * NS + i) * NS + j], *ji = &out[(p * NS + j) * NS + i];
                ij->win = ji->lose = o == 1;
                ij->lose = ji->win = o == -1;
                ij->tie = ji->tie = o == 0;
            }
    double avg[NS], lo[NS], hi[NS];
    judge_averages(out, NP, NS, JT_EXCLUDE, NULL, avg);
    alarm_err e;
    enum { D = 200 };
    assert_int_equal(judge_bootstrap(out, NP, NS, JT_EXCLUDE, D, 99, lo, hi, &e), 0);
    double direct[D];
    uint64_t s = 99;
    for (int d = 0; d < D; d++) {
        long c[2][2] = {{0}}; /* against 1 and 2: wins, losses */
        for (int k = 0; k < NP; k++) {
            int p = (int)(rng_next(&s) % NP);
            for (int j = 1; j < NS; j++) {
                c[j - 1][0] += out[(p * NS + 0) * NS + j].win;
                c[j - 1][1] += out[(p * NS + 0) * NS + j].lose;
            }
        }
        direct[d] = 0;
        for (int j = 0; j < 2; j++)
            direct[d] += (c[j][0] + c[j][1] ? 100.0 * c[j][0] / (c[j][0] + c[j][1]) : 50) / 2;
    }
    /* the percentiles of the direct draws, interpolated as numpy does */
    for (int a = 0; a < D; a++)
        for (int b = a + 1; b < D; b++)
            if (direct[b] < direct[a]) {
                double t = direct[a];
                direct[a] = direct[b];
                direct[b] = t;
            }
    double at = 0.025 * (D - 1), want_lo = direct[(int)at] + (at - (int)at) * (direct[(int)at + 1] - direct[(int)at]);
    at = 0.975 * (D - 1);
    double want_hi = direct[(int)at] + (at - (int)at) * (direct[(int)at + 1] - direct[(int)at]);
    assert_true(fabs(lo[0] - want_lo) < 1e-9 && fabs(hi[0] - want_hi) < 1e-9);
    for (int i = 0; i < NS; i++)
        assert_true(lo[i] <= avg[i] && avg[i] <= hi[i] && hi[i] - lo[i] > 1);
    assert_true(avg[0] > 50 && avg[2] < 50);
}

/* Verdicts that length explains: A is the longer answer on 9 prompts of 10
 * and the longer answer wins with P = sigmoid(3 d / 20) (d the length
 * difference, 10 to 50 tokens): the raw rate is near 90%, the
 * length-controlled rate near 50. With length unrelated to the verdict, the
 * two agree. And a separable case (the longer answer always wins) stays
 * finite and below its raw rate. */
static void length_controlled_rate(void **state)
{
    (void)state;
    enum { N = 2000 };
    static double d[N];
    static int won[N];
    uint64_t s = 3;
    long wins = 0;
    for (int k = 0; k < N; k++) {
        double mag = 10 + (double)(rng_next(&s) % 41);
        d[k] = k % 10 ? mag : -mag;
        won[k] = rng_unit(&s) < 1 / (1 + exp(-3 * d[k] / 20));
        wins += won[k];
    }
    double raw = 100.0 * wins / N, lc = judge_lc_rate(d, won, N);
    print_message("raw %.1f, length-controlled %.1f\n", raw, lc);
    assert_true(raw > 80 && fabs(lc - 50) < 8);
    for (int k = 0; k < N; k++)
        won[k] = d[k] > 0; /* separable */
    lc = judge_lc_rate(d, won, N);
    assert_true(isfinite(lc) && lc < 90);
    for (int k = 0; k < N; k++) {
        d[k] = (double)(rng_next(&s) % 81) - 40;
        won[k] = k % 4 != 0; /* 75% whatever the length */
    }
    lc = judge_lc_rate(d, won, N);
    assert_true(fabs(lc - 75) < 3);
    assert_true(judge_lc_rate(d, won + 1, 1) == 100); /* one verdict: the raw rate */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wilson_and_ties),
        cmocka_unit_test(bootstrap_matches_direct_resampling),
        cmocka_unit_test(length_controlled_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
