/* rng: splitmix64 gives the reference stream (values from the published
 * algorithm), so seeds that tests and runs pin keep their meaning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rng.h"

static void reference_stream(void **state)
{
    (void)state;
    uint64_t s = 0;
    assert_true(rng_next(&s) == 0xe220a8397b1dcdafull);
    assert_true(rng_next(&s) == 0x6e789e6aa1b965f4ull);
    assert_true(rng_next(&s) == 0x06c45d188009454full);
    s = 42;
    assert_true(rng_next(&s) == 0xbdd732262feb6e95ull);
    s = 42;
    double u = rng_unit(&s);
    assert_true(u == (double)(0xbdd732262feb6e95ull >> 11) * 0x1.0p-53);
    for (int i = 0; i < 100000; i++) {
        u = rng_unit(&s);
        assert_true(u >= 0 && u < 1);
    }
}

/* rng_at(seed, i) is the (i+1)-th value of the stream from seed, whatever
 * order it is asked in: what lets a backward pass regenerate dropout masks. */
static void direct_access(void **state)
{
    (void)state;
    uint64_t s = 42, want[64];
    for (int i = 0; i < 64; i++)
        want[i] = rng_next(&s);
    for (int i = 63; i >= 0; i--)
        assert_true(rng_at(42, (uint64_t)i) == want[i]);
    assert_true(rng_at(0, 2) == 0x06c45d188009454full);
    assert_true(rng_at(43, 0) != rng_at(42, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(reference_stream),
                                       cmocka_unit_test(direct_access)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
