/* grow and clock, the base utilities: doubling keeps contents and capacity,
 * a failed growth leaves the array alone; the monotonic clock moves forward. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "grow.h"

static void doubling(void **state)
{
    (void)state;
    int *a = NULL;
    size_t cap = 0;
    alarm_err e;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(grow_array(&a, &cap, (size_t)i + 1, sizeof *a, 8, &e), 0);
        assert_true(cap >= (size_t)i + 1);
        a[i] = i;
    }
    assert_int_equal(cap, 1024); /* 8, 16, ..., 1024 */
    for (int i = 0; i < 1000; i++)
        assert_int_equal(a[i], i);
    int *before = a;
    assert_int_equal(grow_array(&a, &cap, 10, sizeof *a, 8, &e), 0); /* already room */
    assert_ptr_equal(a, before);
    assert_int_equal(grow_array(&a, &cap, SIZE_MAX / 2, sizeof *a, 8, &e), -1);
    assert_ptr_equal(a, before);
    assert_int_equal(cap, 1024);
    assert_string_equal(e.msg, "out of memory");
    free(a);
}

static void clock_moves(void **state)
{
    (void)state;
    double t0 = clock_mono();
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    double dt = clock_mono() - t0;
    assert_true(dt >= 0.019 && dt < 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(doubling), cmocka_unit_test(clock_moves)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
