/* dist, as the serial build has it: one rank that takes every row, whose
 * status and message pass through unchanged and whose sums change nothing.
 * The MPI build's collectives are tested across ranks by tests/mpi.bats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "dist.h"

static void one_rank(void **state)
{
    (void)state;
    alarm_err e;
    assert_int_equal(dist_init(&e), 0);
    assert_int_equal(dist_rank(), 0);
    assert_int_equal(dist_size(), 1);
    size_t lo = 7, hi = 7;
    dist_share(5, &lo, &hi);
    assert_int_equal(lo, 0);
    assert_int_equal(hi, 5);
    dist_finish();
}

static void agree_keeps_the_message(void **state)
{
    (void)state;
    alarm_err e;
    assert_int_equal(dist_agree(0, &e), 0);
    err_set(&e, "data.jsonl:3: field \"response\": expected a string");
    assert_int_equal(dist_agree(-1, &e), -1);
    assert_string_equal(e.msg, "data.jsonl:3: field \"response\": expected a string");
}

static void sums_are_the_values(void **state)
{
    (void)state;
    float f[3] = {1.5f, -2, 0.25f};
    double d[2] = {3, 4};
    dist_sum_floats(f, 3);
    dist_sum_doubles(d, 2);
    assert_true(f[0] == 1.5f && f[1] == -2 && f[2] == 0.25f);
    assert_true(d[0] == 3 && d[1] == 4);
    alarm_err e;
    assert_int_equal(dist_same(f, sizeof f, "weights", &e), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_rank),
        cmocka_unit_test(agree_keeps_the_message),
        cmocka_unit_test(sums_are_the_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
