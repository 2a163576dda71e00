/* fdcheck: see fdcheck.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "fdcheck.h"

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void fd_fill(float *x, size_t n, double lo, double hi, uint64_t *rng)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(lo + (hi - lo) * (double)(next(rng) >> 11) / 9007199254740992.0);
}

void fd_check(const char *name, float *x, size_t n, const float *grad, fd_loss_fn f, void *ctx,
              int samples, uint64_t *rng, double h, double atol, double rtol)
{
    size_t count = (size_t)samples >= n ? n : (size_t)samples;
    double worst = 0;
    size_t wi = 0;
    double wg = 0, wfd = 0;
    for (size_t s = 0; s < count; s++) {
        size_t i = count == n ? s : (size_t)(next(rng) % n);
        float old = x[i];
        float up = (float)(old + h), down = (float)(old - h);
        x[i] = up;
        double lp = f(ctx);
        x[i] = down;
        double lm = f(ctx);
        x[i] = old;
        double fd = (lp - lm) / ((double)up - (double)down);
        double g = grad[i];
        double excess = fabs(g - fd) - (atol + rtol * fmax(fabs(fd), fabs(g)));
        if (!isfinite(g) || excess > worst) {
            worst = isfinite(g) ? excess : INFINITY;
            wi = i;
            wg = g;
            wfd = fd;
        }
    }
    if (worst > 0)
        fail_msg("%s: index %zu: analytic %.8g, finite difference %.8g", name, wi, wg, wfd);
}
