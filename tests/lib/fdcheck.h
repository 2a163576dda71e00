/* fdcheck: central finite-difference gradient checks for the tests.
 * The loss is evaluated in double (fp32 kernels, double accumulation). */
#ifndef ALARM_TEST_FDCHECK_H
#define ALARM_TEST_FDCHECK_H

#include <stddef.h>
#include <stdint.h>

typedef double (*fd_loss_fn)(void *ctx);

/* Checks grad[i] against (f(x+h) - f(x-h)) / 2h at `samples` indices of x
 * drawn from *rng (all indices when samples >= n). Fails the test naming
 * `name` and the worst index. */
void fd_check(const char *name, float *x, size_t n, const float *grad, fd_loss_fn f, void *ctx,
              int samples, uint64_t *rng, double h, double atol, double rtol);

/* Fills x with uniform values in [lo, hi). */
void fd_fill(float *x, size_t n, double lo, double hi, uint64_t *rng);

#endif
