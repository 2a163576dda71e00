/* check: numeric and text assertions shared by the cmocka tests.
 * Include after <cmocka.h>. */
#ifndef ALARM_TEST_CHECK_H
#define ALARM_TEST_CHECK_H

#include <stddef.h>

/* Fails the current test when any |got-want| > atol + rtol*|want| (or a value
 * is not finite where want is), naming the array and its worst element. */
void check_close(const char *name, const float *got, const float *want, size_t n,
                 double atol, double rtol);
void check_close_d(const char *name, const double *got, const double *want, size_t n,
                   double atol, double rtol);

/* Path of a file under the repository's tests/ directory (static buffer). */
const char *test_path(const char *rel);

#endif
