/* The hand-written kernels under the runtime: the small-M matrix product
 * (every row count up to TFM_SMALL_M, both layouts of B, column and depth
 * tails, strides, alpha and beta) against a naive product in double, and
 * tfm_expf / tfm_tanhf against libm in double, in ulps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/check.h"
#include "lib/fdcheck.h"
#include "tfm_gemm_small.h"
#include "tfm_math.h"
#include "tfm_ops.h"

typedef struct {
    int M, N, K, tb, lda, ldb, ldc;
    float *A, *B, *C;
    double *want;
} product;

static void product_init(product *p, int M, int N, int K, int tb, uint64_t *rng)
{
    p->M = M, p->N = N, p->K = K, p->tb = tb;
    p->lda = K + 3, p->ldb = (tb ? K : N) + 5, p->ldc = N + 2;
    size_t na = (size_t)M * p->lda, nb = (size_t)(tb ? N : K) * p->ldb, nc = (size_t)M * p->ldc;
    p->A = malloc(na * sizeof(float));
    p->B = malloc(nb * sizeof(float));
    p->C = malloc(nc * sizeof(float));
    p->want = malloc((size_t)M * N * sizeof(double));
    fd_fill(p->A, na, -1, 1, rng);
    fd_fill(p->B, nb, -1, 1, rng);
    fd_fill(p->C, nc, -1, 1, rng);
}

/* want = alpha A op(B) + beta C, in double from the inputs as they are now. */
static void product_want(product *p, float alpha, float beta)
{
    for (int i = 0; i < p->M; i++)
        for (int j = 0; j < p->N; j++) {
            double acc = 0;
            for (int k = 0; k < p->K; k++)
                acc += (double)p->A[(size_t)i * p->lda + k] *
                       (p->tb ? p->B[(size_t)j * p->ldb + k] : p->B[(size_t)k * p->ldb + j]);
            double c = beta != 0 ? beta * (double)p->C[(size_t)i * p->ldc + j] : 0.0;
            p->want[(size_t)i * p->N + j] = alpha * acc + c;
        }
}

static void product_check(const product *p, const char *what)
{
    double *got = malloc((size_t)p->M * p->N * sizeof(double));
    for (int i = 0; i < p->M; i++)
        for (int j = 0; j < p->N; j++)
            got[(size_t)i * p->N + j] = p->C[(size_t)i * p->ldc + j];
    char name[96];
    snprintf(name, sizeof name, "%s M=%d N=%d K=%d tb=%d", what, p->M, p->N, p->K, p->tb);
    check_close_d(name, got, p->want, (size_t)p->M * p->N, 1e-5, 1e-5);
    free(got);
}

static void product_free(product *p)
{
    free(p->A), free(p->B), free(p->C), free(p->want);
}

/* Every row count and both layouts, with column counts around the kernels'
 * vector (8) and tile (24, 3) widths and depths around the 8-lane and
 * 16-row panel steps, straight and through tfm_sgemm's thread split. Beta 0
 * must ignore what C held, NaN included. */
static void small_products(void **state)
{
    (void)state;
    if (!tfm_sgemm_small_ok(0, 2))
        skip(); /* no AVX2+FMA here: tfm_sgemm uses OpenBLAS, covered in test_tfm_ops */
    assert_false(tfm_sgemm_small_ok(1, 2));               /* A transposed: not this kernel */
    assert_false(tfm_sgemm_small_ok(0, TFM_SMALL_M + 1)); /* too many rows */
    int Ns[] = {1, 7, 8, 9, 23, 24, 25, 50, 97}, Ks[] = {1, 7, 8, 15, 16, 17, 40, 70};
    float ab[][2] = {{1.0f, 0.0f}, {0.5f, 2.0f}, {1.0f, 1.0f}};
    uint64_t rng = 5;
    for (int M = 1; M <= TFM_SMALL_M; M++)
        for (int tb = 0; tb < 2; tb++)
            for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++)
                for (size_t ki = 0; ki < sizeof Ks / sizeof *Ks; ki++) {
                    product p;
                    float alpha = ab[(ni + ki) % 3][0], beta = ab[(ni + ki) % 3][1];
                    product_init(&p, M, Ns[ni], Ks[ki], tb, &rng);
                    if (beta == 0)
                        p.C[0] = NAN;
                    product_want(&p, alpha, beta);
                    tfm_sgemm_small(tb, M, 0, p.N, p.K, alpha, p.A, p.lda, p.B, p.ldb, beta, p.C,
                                    p.ldc);
                    product_check(&p, "tfm_sgemm_small");
                    /* a column range leaves the other columns alone */
                    fd_fill(p.C, (size_t)M * p.ldc, -1, 1, &rng);
                    product_want(&p, alpha, beta);
                    int n0 = p.N / 3;
                    for (int i = 0; i < M; i++)
                        for (int j = 0; j < n0; j++)
                            p.want[(size_t)i * p.N + j] = p.C[(size_t)i * p.ldc + j];
                    tfm_sgemm_small(tb, M, n0, p.N, p.K, alpha, p.A, p.lda, p.B, p.ldb, beta,
                                    p.C, p.ldc);
                    product_check(&p, "tfm_sgemm_small columns");
                    product_free(&p);
                }
    omp_set_num_threads(2);
    for (int M = 1; M <= TFM_SMALL_M; M++)
        for (int tb = 0; tb < 2; tb++) {
            product p;
            product_init(&p, M, 1000 + M, 300, tb, &rng); /* big enough to split */
            product_want(&p, 1.0f, 1.0f);
            tfm_sgemm(0, tb, M, p.N, p.K, 1.0f, p.A, p.lda, p.B, p.ldb, 1.0f, p.C, p.ldc);
            product_check(&p, "tfm_sgemm");
            product_free(&p);
        }
    omp_set_num_threads(omp_get_num_procs());
}

/* Distance from the correctly rounded float of exp(x), in units of the
 * spacing of floats there (the smallest denormal below FLT_MIN). */
static double ulps(float got, double want)
{
    float w = (float)want;
    double spacing = fabs(want) < 0x1p-126 ? 0x1p-149 : nextafterf(w, INFINITY) - (double)w;
    return fabs((double)got - want) / spacing;
}

/* Every float in [-104, 89] at a fixed stride (about 2 million), and the
 * special values: within 2 ulp, 0 and +inf at the ends, NaN through. */
static void exp_accuracy(void **state)
{
    (void)state;
    double worst = 0;
    float at = 0;
    for (float x = -104.0f; x < 89.0f;) {
        double want = exp((double)x);
        if (want <= 0x1p128 * (1 - 0x1p-25)) { /* below float overflow */
            double u = ulps(tfm_expf(x), want);
            if (u > worst)
                worst = u, at = x;
        }
        uint32_t bits; /* sign and magnitude: the next float up is magnitude -/+ 1 */
        memcpy(&bits, &x, sizeof bits);
        if (x < 0 && (bits & 0x7fffffffu) <= 997)
            bits = 0; /* across zero */
        else
            bits = x < 0 ? bits - 997 : bits + 997;
        memcpy(&x, &bits, sizeof x);
    }
    if (worst > 2.0)
        fail_msg("tfm_expf is %.2f ulp off at %.9g", worst, (double)at);
    assert_true(tfm_expf(0.0f) == 1.0f);
    assert_true(isinf(tfm_expf(88.73f)) && isinf(tfm_expf(INFINITY)));
    assert_true(isfinite(tfm_expf(88.72f)));
    assert_true(tfm_expf(-105.0f) == 0.0f && tfm_expf(-INFINITY) == 0.0f);
    assert_true(tfm_expf(-100.0f) > 0.0f); /* a denormal, not flushed */
    assert_true(isnan(tfm_expf(NAN)));
    double tworst = 0;
    for (float u = -12.0f; u <= 12.0f; u += 0.001f)
        tworst = fmax(tworst, fabs(tfm_tanhf(u) - tanh((double)u)));
    if (tworst > 3e-7)
        fail_msg("tfm_tanhf is %.3g off", tworst);
    assert_true(tfm_tanhf(INFINITY) == 1.0f && tfm_tanhf(-INFINITY) == -1.0f);
    assert_true(tfm_tanhf(50.0f) == 1.0f && tfm_tanhf(-50.0f) == -1.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_products),
        cmocka_unit_test(exp_accuracy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
