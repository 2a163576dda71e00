/* Unit tests for consist: pair counts, ratios and automatic selection, with
 * expected numbers worked out by hand in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "consist.h"

static void expect_counts(const consist_counts *c, uint64_t nontie, uint64_t agree,
                          uint64_t disagree, uint64_t ties)
{
    assert_int_equal(c->holistic_nontie, nontie);
    assert_int_equal(c->agree, agree);
    assert_int_equal(c->disagree, disagree);
    assert_int_equal(c->aspect_ties, ties);
}

static void single_pairs(void **state)
{
    (void)state;
    consist_counts c = {0};
    consist_count_pair(&c, 1.0, 0.0, 2.0, 1.0, 0); /* same sign: agree */
    expect_counts(&c, 1, 1, 0, 0);
    consist_count_pair(&c, 0.0, 1.0, 2.0, 1.0, 0); /* dh < 0, da > 0: disagree */
    expect_counts(&c, 2, 1, 1, 0);
    consist_count_pair(&c, 0.0, 1.0, 5.0, 5.0, 0); /* aspect tie */
    expect_counts(&c, 3, 1, 1, 1);
    consist_count_pair(&c, 0.5, 0.5, 1.0, 9.0, 0); /* holistic tie: counted nowhere */
    expect_counts(&c, 3, 1, 1, 1);
    consist_count_pair(&c, 1.0, 0.0, 1.0, 2.0, 1); /* lower is better: da negated, agree */
    expect_counts(&c, 4, 2, 1, 1);
}

/* h = [0.9, 0.5, 0.5, 0.1], a = [1, 3, 2, 0]:
 * (0,1) dh+ da- disagree; (0,2) dh+ da- disagree; (0,3) dh+ da+ agree;
 * (1,2) holistic tie; (1,3) dh+ da+ agree; (2,3) dh+ da+ agree.
 * nontie 5, agree 3, disagree 2: inconsistency 2/5, consistency 3/5.
 * Lower is better flips every aspect sign: agree 2, disagree 3. */
static void group_with_ties(void **state)
{
    (void)state;
    const double h[] = {0.9, 0.5, 0.5, 0.1}, a[] = {1, 3, 2, 0};
    consist_counts c = {0};
    consist_count_group(&c, h, a, 4, 0);
    expect_counts(&c, 5, 3, 2, 0);
    assert_float_equal(consist_inconsistency(&c), 0.4, 1e-12);
    assert_float_equal(consist_consistency(&c), 0.6, 1e-12);
    consist_counts l = {0};
    consist_count_group(&l, h, a, 4, 1);
    expect_counts(&l, 5, 2, 3, 0);
    assert_float_equal(consist_inconsistency(&l), 0.6, 1e-12);
    assert_float_equal(consist_consistency(&l), 0.4, 1e-12);

    /* Ties in the aspect: a = [2, 2, 1, 2]: (0,1) tie; (0,2) agree; (0,3) tie;
     * (1,2) holistic tie; (1,3) tie; (2,3) dh+ da- disagree.
     * nontie 5, agree 1, disagree 1, ties 3. */
    const double t[] = {2, 2, 1, 2};
    consist_counts k = {0};
    consist_count_group(&k, h, t, 4, 0);
    expect_counts(&k, 5, 1, 1, 3);
    assert_float_equal(consist_inconsistency(&k), 0.2, 1e-12);
    assert_float_equal(consist_consistency(&k), 0.5, 1e-12);
}

static void no_pairs_and_absent_values(void **state)
{
    (void)state;
    consist_counts c = {0};
    const double h1[] = {0.7}, a1[] = {0.2};
    consist_count_group(&c, h1, a1, 1, 0); /* one sample: no pair */
    expect_counts(&c, 0, 0, 0, 0);
    assert_float_equal(consist_inconsistency(&c), 0.0, 0);
    assert_true(isnan(consist_consistency(&c)));
    /* An absent aspect value (NaN) takes part in no pair: only (0,2) counts. */
    const double h[] = {1, 2, 0}, a[] = {1, NAN, 0};
    consist_count_group(&c, h, a, 3, 0);
    expect_counts(&c, 1, 1, 0, 0);
    consist_counts sum = {1, 0, 1, 0};
    consist_add(&sum, &c);
    expect_counts(&sum, 2, 1, 1, 0);
    assert_float_equal(consist_inconsistency(&sum), 0.5, 1e-12);
}

/* Inconsistencies 0.3, 0.1, 0.1 (disagree/nontie = 3/10, 1/10, 2/20). */
static void selection_ranks_and_bounds(void **state)
{
    (void)state;
    const consist_counts c[3] = {{10, 7, 3, 0}, {10, 9, 1, 0}, {20, 18, 2, 0}};
    int elig[3] = {1, 1, 1}, sel[3];
    size_t rank[3];
    assert_int_equal(consist_select(sel, rank, c, elig, 3, 2, -1), 2);
    assert_int_equal(rank[0], 3); /* ties keep the given order: 1 before 2 */
    assert_int_equal(rank[1], 1);
    assert_int_equal(rank[2], 2);
    assert_true(!sel[0] && sel[1] && sel[2]);
    assert_int_equal(consist_select(sel, rank, c, elig, 3, 3, 0.2), 2); /* 0.3 is above */
    assert_false(sel[0]);
    assert_int_equal(consist_select(sel, rank, c, elig, 3, 1, 0.05), 0);
    elig[1] = 0;
    assert_int_equal(consist_select(sel, rank, c, elig, 3, 1, -1), 1);
    assert_int_equal(rank[1], 0);
    assert_true(!sel[0] && !sel[1] && sel[2]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_pairs),
        cmocka_unit_test(group_with_ties),
        cmocka_unit_test(no_pairs_and_absent_values),
        cmocka_unit_test(selection_ranks_and_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
