/* Finite-difference checks of every tfm kernel's backward twin: the loss is
 * sum(r * forward(inputs)) for a random r, so dout = r, and the analytic
 * gradient of each input and weight is compared with central differences
 * on sampled indices. Also checks that backward twins accumulate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "lib/check.h"
#include "lib/fdcheck.h"
#include "tfm_ops.h"

#define H 1e-2
#define ATOL 2e-3
#define RTOL 1e-2
#define SAMPLES 24

static float *fa(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* ---- matmul ---- */
typedef struct { float *out, *inp, *w, *b, *r; size_t N; int IC, OC, wt; } mm_ctx;
static double mm_loss(void *p)
{
    mm_ctx *c = p;
    tfm_matmul_forward(c->out, c->inp, c->w, c->b, c->N, c->IC, c->OC, c->wt);
    return dot(c->out, c->r, c->N * c->OC);
}

static void matmul_grad(void **state)
{
    (void)state;
    uint64_t rng = 1;
    for (int wt = 0; wt < 2; wt++) {
        mm_ctx c = {.N = 5, .IC = 7, .OC = 6, .wt = wt};
        size_t ni = c.N * c.IC, nw = (size_t)c.IC * c.OC, no = c.N * c.OC;
        c.out = fa(no), c.inp = fa(ni), c.w = fa(nw), c.b = fa(c.OC), c.r = fa(no);
        float *di = fa(ni), *dw = fa(nw), *db = fa(c.OC);
        fd_fill(c.inp, ni, -1, 1, &rng);
        fd_fill(c.w, nw, -1, 1, &rng);
        fd_fill(c.b, c.OC, -1, 1, &rng);
        fd_fill(c.r, no, -1, 1, &rng);
        tfm_matmul_backward(di, dw, db, c.r, c.inp, c.w, c.N, c.IC, c.OC, wt);
        fd_check("matmul dinp", c.inp, ni, di, mm_loss, &c, SAMPLES, &rng, H, ATOL, RTOL);
        fd_check("matmul dw", c.w, nw, dw, mm_loss, &c, SAMPLES, &rng, H, ATOL, RTOL);
        fd_check("matmul dbias", c.b, c.OC, db, mm_loss, &c, SAMPLES, &rng, H, ATOL, RTOL);
        /* the residual form adds the same product onto res */
        float *res = fa(no), *fused = fa(no), *want = fa(no);
        fd_fill(res, no, -1, 1, &rng);
        tfm_matmul_forward(c.out, c.inp, c.w, c.b, c.N, c.IC, c.OC, wt);
        for (size_t i = 0; i < no; i++)
            want[i] = c.out[i] + res[i];
        tfm_matmul_forward_res(fused, res, c.inp, c.w, c.b, c.N, c.IC, c.OC, wt);
        check_close("matmul_forward_res", fused, want, no, 1e-6, 1e-6);
        tfm_matmul_forward_res(res, res, c.inp, c.w, NULL, c.N, c.IC, c.OC, wt); /* in place */
        free(res), free(fused), free(want);
        /* a second backward doubles the gradients: twins accumulate */
        float before = dw[3];
        tfm_matmul_backward(di, dw, db, c.r, c.inp, c.w, c.N, c.IC, c.OC, wt);
        assert_true(fabsf(dw[3] - 2 * before) <= 1e-5f * (1 + fabsf(before)));
        free(c.out), free(c.inp), free(c.w), free(c.b), free(c.r), free(di), free(dw), free(db);
    }
}

/* ---- norms ---- */
typedef struct { float *out, *mean, *rstd, *inp, *w, *b, *r; size_t N; int C, rms; } nm_ctx;
static double nm_loss(void *p)
{
    nm_ctx *c = p;
    if (c->rms)
        tfm_rmsnorm_forward(c->out, c->rstd, c->inp, c->w, c->N, c->C, 1e-5f);
    else
        tfm_layernorm_forward(c->out, c->mean, c->rstd, c->inp, c->w, c->b, c->N, c->C, 1e-5f);
    return dot(c->out, c->r, c->N * c->C);
}

static void norm_grad(void **state)
{
    (void)state;
    uint64_t rng = 2;
    for (int rms = 0; rms < 2; rms++) {
        nm_ctx c = {.N = 4, .C = 16, .rms = rms};
        size_t n = c.N * c.C;
        c.out = fa(n), c.mean = fa(c.N), c.rstd = fa(c.N), c.inp = fa(n), c.w = fa(c.C),
        c.b = fa(c.C), c.r = fa(n);
        float *di = fa(n), *dw = fa(c.C), *db = fa(c.C);
        fd_fill(c.inp, n, -2, 2, &rng);
        fd_fill(c.w, c.C, 0.5, 1.5, &rng);
        fd_fill(c.b, c.C, -1, 1, &rng);
        fd_fill(c.r, n, -1, 1, &rng);
        nm_loss(&c);
        if (rms)
            tfm_rmsnorm_backward(di, dw, c.r, c.inp, c.w, c.rstd, c.N, c.C);
        else
            tfm_layernorm_backward(di, dw, db, c.r, c.inp, c.w, c.mean, c.rstd, c.N, c.C);
        const char *nm = rms ? "rmsnorm" : "layernorm";
        fd_check(nm, c.inp, n, di, nm_loss, &c, SAMPLES, &rng, H, ATOL, RTOL);
        fd_check(nm, c.w, c.C, dw, nm_loss, &c, SAMPLES, &rng, H, ATOL, RTOL);
        if (!rms)
            fd_check(nm, c.b, c.C, db, nm_loss, &c, SAMPLES, &rng, H, ATOL, RTOL);
        free(c.out), free(c.mean), free(c.rstd), free(c.inp), free(c.w), free(c.b), free(c.r);
        free(di), free(dw), free(db);
    }
}

/* ---- activations ---- */
typedef struct { float *out, *inp, *r; size_t N; int FF, swiglu; } act_ctx;
static double act_loss(void *p)
{
    act_ctx *c = p;
    if (c->swiglu)
        tfm_swiglu_forward(c->out, c->inp, c->N, c->FF);
    else
        tfm_gelu_forward(c->out, NULL, c->inp, c->N * c->FF);
    return dot(c->out, c->r, c->N * c->FF);
}

static void activation_grad(void **state)
{
    (void)state;
    uint64_t rng = 3;
    for (int sw = 0; sw < 2; sw++) {
        act_ctx c = {.N = 6, .FF = 9, .swiglu = sw};
        size_t nin = c.N * c.FF * (sw ? 2 : 1), nout = c.N * c.FF;
        c.out = fa(nout), c.inp = fa(nin), c.r = fa(nout);
        float *di = fa(nin);
        fd_fill(c.inp, nin, -4, 4, &rng);
        fd_fill(c.r, nout, -1, 1, &rng);
        if (sw)
            tfm_swiglu_backward(di, c.r, c.inp, c.N, c.FF);
        else
            tfm_gelu_backward(di, c.r, c.inp, NULL, nout);
        fd_check(sw ? "swiglu" : "gelu", c.inp, nin, di, act_loss, &c, 1000, &rng, 1e-3, ATOL,
                 RTOL);
        if (!sw) { /* the saved-tanh path gives the same gradient */
            float *t = fa(nin), *di2 = fa(nin);
            tfm_gelu_forward(c.out, t, c.inp, nout);
            tfm_gelu_backward(di2, c.r, c.inp, t, nout);
            check_close("gelu saved tanh", di2, di, nin, 1e-6, 1e-5);
            free(t), free(di2);
        }
        free(c.out), free(c.inp), free(c.r), free(di);
    }
}

/* ---- RoPE ---- */
typedef struct { float *x, *y, *r, *cs, *sn; size_t N; int T, stride, nheads, HS; } rope_ctx;
static double rope_loss(void *p)
{
    rope_ctx *c = p;
    memcpy(c->y, c->x, c->N * c->stride * sizeof(float));
    tfm_rope(c->y, c->cs, c->sn, NULL, c->N, c->T, c->stride, c->nheads, c->HS, 0);
    return dot(c->y, c->r, c->N * c->stride);
}

static void rope_grad(void **state)
{
    (void)state;
    uint64_t rng = 4;
    rope_ctx c = {.N = 10, .T = 5, .HS = 8, .nheads = 3};
    c.stride = 4 * c.HS; /* the last head is not rotated (a value head) */
    size_t n = c.N * c.stride;
    c.x = fa(n), c.y = fa(n), c.r = fa(n), c.cs = fa(c.T * c.HS / 2), c.sn = fa(c.T * c.HS / 2);
    tfm_rope_table(c.cs, c.sn, c.T, c.HS, 10000.0, 2, 8.0, 1.0, 4.0, 16);
    fd_fill(c.x, n, -1, 1, &rng);
    fd_fill(c.r, n, -1, 1, &rng);
    float *g = fa(n);
    memcpy(g, c.r, n * sizeof(float));
    tfm_rope(g, c.cs, c.sn, NULL, c.N, c.T, c.stride, c.nheads, c.HS, 1);
    fd_check("rope", c.x, n, g, rope_loss, &c, 1000, &rng, H, ATOL, RTOL);
    /* rotation then inverse is the identity */
    rope_loss(&c);
    tfm_rope(c.y, c.cs, c.sn, NULL, c.N, c.T, c.stride, c.nheads, c.HS, 1);
    check_close("rope inverse", c.y, c.x, n, 1e-6, 1e-5);
    free(c.x), free(c.y), free(c.r), free(c.cs), free(c.sn), free(g);
}

/* ---- attention ---- */
typedef struct { float *out, *att, *qkv, *r; int B, T, NH, NKV, HS; } at_ctx;
static double at_loss(void *p)
{
    at_ctx *c = p;
    tfm_attention_forward(c->out, c->att, c->qkv, c->B, c->T, c->NH, c->NKV, c->HS, NULL);
    return dot(c->out, c->r, (size_t)c->B * c->T * c->NH * c->HS);
}

static void attention_grad(void **state)
{
    (void)state;
    uint64_t rng = 5;
    /* GQA groups of 1, 2, 4 heads; and a length past one row block (64) */
    int nkv[] = {4, 2, 1, 1}, len[] = {6, 6, 6, 70};
    for (int k = 0; k < 4; k++) {
        at_ctx c = {.B = 2, .T = len[k], .NH = 4, .NKV = nkv[k], .HS = 4};
        size_t nq = (size_t)c.B * c.T * (c.NH + 2 * c.NKV) * c.HS;
        size_t no = (size_t)c.B * c.T * c.NH * c.HS, na = (size_t)c.B * c.NH * c.T * c.T;
        c.out = fa(no), c.att = fa(na), c.qkv = fa(nq), c.r = fa(no);
        float *dq = fa(nq), *datt = fa(na);
        fd_fill(c.qkv, nq, -2, 2, &rng);
        fd_fill(c.r, no, -1, 1, &rng);
        at_loss(&c);
        for (int t = 0; t < c.T; t++) { /* causal rows of probabilities summing to one */
            double s = 0;
            for (int t2 = 0; t2 < c.T; t2++)
                s += c.att[t * c.T + t2];
            assert_true(fabs(s - 1) < 1e-5);
            assert_true(t + 1 == c.T || c.att[t * c.T + t + 1] == 0.0f);
        }
        tfm_attention_backward(dq, datt, c.r, c.qkv, c.att, c.B, c.T, c.NH, c.NKV, c.HS, NULL);
        fd_check("attention", c.qkv, nq, dq, at_loss, &c, 200, &rng, H, ATOL, RTOL);
        free(c.out), free(c.att), free(c.qkv), free(c.r), free(dq), free(datt);
    }
}

/* ---- embedding ---- */
typedef struct { float *out, *wte, *wpe, *r; int *tok; int B, T, C; } em_ctx;
static double em_loss(void *p)
{
    em_ctx *c = p;
    tfm_embed_forward(c->out, c->tok, c->wte, c->wpe, c->B, c->T, c->C);
    return dot(c->out, c->r, (size_t)c->B * c->T * c->C);
}

static void embed_grad(void **state)
{
    (void)state;
    uint64_t rng = 6;
    int tok[] = {3, 1, 3, 0, 2, 3}; /* repeats must add up */
    em_ctx c = {.tok = tok, .B = 2, .T = 3, .C = 5};
    size_t no = 6 * 5;
    c.out = fa(no), c.wte = fa(4 * 5), c.wpe = fa(3 * 5), c.r = fa(no);
    float *dwte = fa(4 * 5), *dwpe = fa(3 * 5);
    fd_fill(c.wte, 20, -1, 1, &rng);
    fd_fill(c.wpe, 15, -1, 1, &rng);
    fd_fill(c.r, no, -1, 1, &rng);
    tfm_embed_backward(dwte, dwpe, c.r, tok, c.B, c.T, c.C);
    fd_check("embed wte", c.wte, 20, dwte, em_loss, &c, 100, &rng, H, ATOL, RTOL);
    fd_check("embed wpe", c.wpe, 15, dwpe, em_loss, &c, 100, &rng, H, ATOL, RTOL);
    free(c.out), free(c.wte), free(c.wpe), free(c.r), free(dwte), free(dwpe);
}

/* tfm_sgemm splits rows or columns over the threads: every transpose
 * combination, both split directions and the one-row path, against a naive
 * product in double, with beta accumulating. */
static void sgemm_threads(void **state)
{
    (void)state;
    uint64_t rng = 8;
    int shapes[][3] = {{150, 40, 90}, {37, 260, 70}, {1, 3000, 100}, {1, 20, 33}};
    omp_set_num_threads(2);
    for (int si = 0; si < 4; si++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int M = shapes[si][0], N = shapes[si][1], K = shapes[si][2];
                int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2, ldc = N + 5;
                size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb;
                float *A = fa(na), *Bm = fa(nb), *C = fa((size_t)M * ldc);
                double *want = calloc((size_t)M * N, sizeof(double));
                float *got = fa((size_t)M * N);
                fd_fill(A, na, -1, 1, &rng);
                fd_fill(Bm, nb, -1, 1, &rng);
                fd_fill(C, (size_t)M * ldc, -1, 1, &rng);
                for (int i = 0; i < M; i++)
                    for (int j = 0; j < N; j++) {
                        double acc = 0;
                        for (int k = 0; k < K; k++)
                            acc += (double)(ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]) *
                                   (tb ? Bm[(size_t)j * ldb + k] : Bm[(size_t)k * ldb + j]);
                        want[(size_t)i * N + j] = 0.5 * acc + 2.0 * C[(size_t)i * ldc + j];
                    }
                tfm_sgemm(ta, tb, M, N, K, 0.5f, A, lda, Bm, ldb, 2.0f, C, ldc);
                double *g = calloc((size_t)M * N, sizeof(double));
                for (int i = 0; i < M; i++)
                    for (int j = 0; j < N; j++)
                        g[(size_t)i * N + j] = C[(size_t)i * ldc + j];
                check_close_d("sgemm", g, want, (size_t)M * N, 1e-4, 1e-4);
                free(A), free(Bm), free(C), free(want), free(got), free(g);
            }
    omp_set_num_threads(omp_get_num_procs());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matmul_grad),     cmocka_unit_test(norm_grad),
        cmocka_unit_test(activation_grad), cmocka_unit_test(rope_grad),
        cmocka_unit_test(attention_grad),  cmocka_unit_test(embed_grad),
        cmocka_unit_test(sgemm_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
