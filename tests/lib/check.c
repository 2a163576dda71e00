/* check: numeric assertions for the cmocka tests (see check.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

/* Element i of an array of floats or doubles, as a double. */
static double elem(const void *a, int is_float, size_t i)
{
    return is_float ? ((const float *)a)[i] : ((const double *)a)[i];
}

static void check_close_any(const char *name, const void *got, const void *want, int is_float,
                            size_t n, double atol, double rtol)
{
    size_t worst = 0;
    double worst_excess = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double g = elem(got, is_float, i), w = elem(want, is_float, i);
        double excess = isfinite(g) ? fabs(g - w) - (atol + rtol * fabs(w)) : INFINITY;
        if (excess > worst_excess) {
            worst_excess = excess;
            worst = i;
        }
    }
    if (n > 0 && worst_excess > 0)
        fail_msg("%s: element %zu of %zu: got %.9g, want %.9g (atol %g, rtol %g)", name, worst,
                 n, elem(got, is_float, worst), elem(want, is_float, worst), atol, rtol);
}

void check_close(const char *name, const float *got, const float *want, size_t n,
                 double atol, double rtol)
{
    check_close_any(name, got, want, 1, n, atol, rtol);
}

void check_close_d(const char *name, const double *got, const double *want, size_t n,
                   double atol, double rtol)
{
    check_close_any(name, got, want, 0, n, atol, rtol);
}

const char *test_path(const char *rel)
{
    static char buf[4096];
    const char *root = getenv("ALARM_TEST_ROOT");
    snprintf(buf, sizeof buf, "%s/tests/%s", root ? root : ".", rel);
    return buf;
}
