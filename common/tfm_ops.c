/* tfm_ops: forward kernels and their backward twins (see tfm_ops.h).
 * Matrix products go to OpenBLAS; the rest are plain loops threaded with
 * OpenMP over rows, never while OpenBLAS runs (no nesting: sgemm is only
 * called outside parallel regions). Backward twins accumulate (+=). */
#include "tfm_ops.h"
#include "tfm_gemm_small.h"
#include "omp_sizes.h"
#include "tfm_math.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

/* A decode step's few rows: the N columns of C split over the threads, each
 * running the unpacked small-M kernel, or for one row of A times B (K, N)
 * OpenBLAS's matrix-vector product, which walks B's rows in order and beats
 * the kernel's column walk there (sgemm would copy the whole weight matrix
 * into its panels for a single row). */
static void few_rows(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc)
{
    int nt = omp_get_max_threads(), small = (M > 1 || tb) && tfm_sgemm_small_ok(ta, M);
#pragma omp parallel num_threads(nt) if (nt > 1 && (double)M * N * K > 2e5)
    {
        int id = omp_get_thread_num(), n = omp_get_num_threads();
        int chunk = ((N + n - 1) / n + 7) & ~7; /* whole vectors */
        int n0 = id * chunk, n1 = n0 + chunk < N ? n0 + chunk : N;
        if (n0 < n1 && small)
            tfm_sgemm_small(tb, M, n0, n1, K, alpha, A, lda, B, ldb, beta, C, ldc);
        else if (n0 < n1 && tb)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, n1 - n0, K, alpha, B + (size_t)n0 * ldb, ldb,
                        A, ta ? lda : 1, beta, C + n0, 1);
        else if (n0 < n1)
            cblas_sgemv(CblasRowMajor, CblasTrans, K, n1 - n0, alpha, B + n0, ldb, A,
                        ta ? lda : 1, beta, C + n0, 1);
    }
}

/* C (M, N) = alpha op(A) op(B) + beta C, row-major. Larger products split
 * the longer side of C over the OpenMP threads, each calling single-threaded
 * OpenBLAS: one pool of threads does all the work, so OpenBLAS's own threads
 * never spin against ours (tfm_build sets OpenBLAS to one thread). */
void tfm_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M == 1 || tfm_sgemm_small_ok(ta, M)) {
        few_rows(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    int nt = omp_get_max_threads();
    if (nt == 1 || (double)M * N * K < 4e5) {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    /* Split the longer side of C: each thread packs only its share of the
     * operand on that side (splitting rows when a weight matrix is on the
     * column side would have every thread pack all of it). */
    int split_n = N > M;
    int len = split_n ? N : M;
#pragma omp parallel num_threads(nt)
    {
        int id = omp_get_thread_num(), n = omp_get_num_threads();
        int chunk = ((len + n - 1) / n + 15) & ~15;
        int i0 = id * chunk, i1 = i0 + chunk < len ? i0 + chunk : len;
        if (i0 < i1) {
            const float *a = A, *b = B;
            float *c = C;
            int m = M, nn = N;
            if (split_n) {
                b = tb ? B + (size_t)i0 * ldb : B + i0;
                c = C + i0;
                nn = i1 - i0;
            } else {
                a = ta ? A + i0 : A + (size_t)i0 * lda;
                c = C + (size_t)i0 * ldc;
                m = i1 - i0;
            }
            cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                        tb ? CblasTrans : CblasNoTrans, m, nn, K, alpha, a, lda, b, ldb, beta, c,
                        ldc);
        }
    }
}

/* This thread's share [c0, c1) of C columns, inside a parallel region. */
static void thread_columns(int C, int *c0, int *c1)
{
    int id = omp_get_thread_num(), nt = omp_get_num_threads();
    int chunk = (C + nt - 1) / nt;
    *c0 = id * chunk < C ? id * chunk : C;
    *c1 = *c0 + chunk < C ? *c0 + chunk : C;
}

void tfm_matmul_forward(float *out, const float *inp, const float *w, const float *bias,
                        size_t N, int IC, int OC, int wt)
{
    float beta = 0.0f;
    if (bias) {
#pragma omp parallel for if (N * (size_t)OC > OMP_MIN_ELEMS)
        for (size_t n = 0; n < N; n++)
            memcpy(out + n * OC, bias, (size_t)OC * sizeof *out);
        beta = 1.0f;
    }
    tfm_sgemm(0, wt, (int)N, OC, IC, 1.0f, inp, IC, w, wt ? IC : OC, beta, out, OC);
}

void tfm_matmul_forward_res(float *out, const float *res, const float *inp, const float *w,
                            const float *bias, size_t N, int IC, int OC, int wt)
{
#pragma omp parallel for if (N * (size_t)OC > OMP_MIN_ELEMS)
    for (size_t n = 0; n < N; n++) {
        float *o = out + n * OC;
        const float *r = res + n * OC;
        if (bias)
            for (int i = 0; i < OC; i++)
                o[i] = r[i] + bias[i];
        else if (o != r)
            memcpy(o, r, (size_t)OC * sizeof *o);
    }
    tfm_sgemm(0, wt, (int)N, OC, IC, 1.0f, inp, IC, w, wt ? IC : OC, 1.0f, out, OC);
}

void tfm_matmul_backward(float *dinp, float *dw, float *dbias, const float *dout,
                         const float *inp, const float *w, size_t N, int IC, int OC, int wt)
{
    if (dinp)
        tfm_sgemm(0, !wt, (int)N, IC, OC, 1.0f, dout, OC, w, wt ? IC : OC, 1.0f, dinp, IC);
    if (dw) {
        if (wt)
            tfm_sgemm(1, 0, OC, IC, (int)N, 1.0f, dout, OC, inp, IC, 1.0f, dw, IC);
        else
            tfm_sgemm(1, 0, IC, OC, (int)N, 1.0f, inp, IC, dout, OC, 1.0f, dw, OC);
    }
    if (dbias) {
        /* each thread sums its own stretch of columns, rows streamed in order */
#pragma omp parallel if ((size_t)OC * N > OMP_MIN_ELEMS)
        {
            int o0, o1;
            thread_columns(OC, &o0, &o1);
            for (size_t n = 0; n < N; n++) {
                const float *d = dout + n * OC;
#pragma omp simd
                for (int o = o0; o < o1; o++)
                    dbias[o] += d[o];
            }
        }
    }
}

TFM_AVX2_CLONE void tfm_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                           const float *w, const float *b, size_t N, int C, float eps)
{
#pragma omp parallel for if (N * (size_t)C > 32768)
    for (size_t n = 0; n < N; n++) {
        const float *x = inp + n * C;
        float *y = out + n * C;
        float m = 0.0f, v = 0.0f;
#pragma omp simd reduction(+ : m)
        for (int i = 0; i < C; i++)
            m += x[i];
        m /= C;
#pragma omp simd reduction(+ : v)
        for (int i = 0; i < C; i++)
            v += (x[i] - m) * (x[i] - m);
        float s = 1.0f / sqrtf(v / C + eps);
        for (int i = 0; i < C; i++)
            y[i] = (x[i] - m) * s * w[i] + b[i];
        mean[n] = m;
        rstd[n] = s;
    }
}

TFM_AVX2_CLONE void tfm_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                            const float *inp, const float *w, const float *mean,
                            const float *rstd, size_t N, int C)
{
#pragma omp parallel for if (N * (size_t)C > 32768)
    for (size_t n = 0; n < N; n++) {
        const float *x = inp + n * C, *g = dout + n * C;
        float m = mean[n], s = rstd[n], a = 0.0f, bsum = 0.0f;
#pragma omp simd reduction(+ : a, bsum)
        for (int i = 0; i < C; i++) {
            float dn = g[i] * w[i];
            a += dn;
            bsum += dn * (x[i] - m) * s;
        }
        a /= C;
        bsum /= C;
        float *dx = dinp + n * C;
        for (int i = 0; i < C; i++)
            dx[i] += s * (g[i] * w[i] - a - (x[i] - m) * s * bsum);
    }
    if (!dw)
        return; /* frozen (LoRA) */
    /* Weight gradients sum over rows: each thread owns a stretch of columns
     * and adds the rows in order, so the sums are race-free and the same
     * whatever the thread count. */
#pragma omp parallel if (N * (size_t)C > 32768)
    {
        int c0, c1;
        thread_columns(C, &c0, &c1);
        for (size_t n = 0; n < N; n++) {
            const float *x = inp + n * C, *g = dout + n * C;
            float m = mean[n], s = rstd[n];
#pragma omp simd
            for (int i = c0; i < c1; i++) {
                dw[i] += g[i] * (x[i] - m) * s;
                db[i] += g[i];
            }
        }
    }
}

TFM_AVX2_CLONE void tfm_rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w, size_t N,
                         int C, float eps)
{
#pragma omp parallel for if (N * (size_t)C > 32768)
    for (size_t n = 0; n < N; n++) {
        const float *x = inp + n * C;
        float *y = out + n * C;
        float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
        for (int i = 0; i < C; i++)
            ss += x[i] * x[i];
        float s = 1.0f / sqrtf(ss / C + eps);
        for (int i = 0; i < C; i++)
            y[i] = w[i] * (x[i] * s);
        rstd[n] = s;
    }
}

TFM_AVX2_CLONE void tfm_rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp,
                          const float *w, const float *rstd, size_t N, int C)
{
#pragma omp parallel for if (N * (size_t)C > 32768)
    for (size_t n = 0; n < N; n++) {
        const float *x = inp + n * C, *g = dout + n * C;
        float s = rstd[n], dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (int i = 0; i < C; i++)
            dot += g[i] * w[i] * x[i];
        float k = dot * s * s * s / C;
        float *dx = dinp + n * C;
        for (int i = 0; i < C; i++)
            dx[i] += s * g[i] * w[i] - k * x[i];
    }
    if (!dw)
        return;
#pragma omp parallel if (N * (size_t)C > 32768) /* as in tfm_layernorm_backward */
    {
        int c0, c1;
        thread_columns(C, &c0, &c1);
        for (size_t n = 0; n < N; n++) {
            const float *x = inp + n * C, *g = dout + n * C;
            float s = rstd[n];
#pragma omp simd
            for (int i = c0; i < c1; i++)
                dw[i] += g[i] * x[i] * s;
        }
    }
}

#define GELU_S 0.7978845608028654f /* sqrt(2/pi) */

/* The tanh inside GELU (glibc's tanhf would keep the loops scalar). */
static inline __attribute__((always_inline)) float gelu_tanh(float x)
{
    return tfm_tanhf(GELU_S * (x + 0.044715f * x * x * x));
}

/* (The `parallel :` in the if clauses below matters: a bare if on a
 * combined parallel-for-simd also switches off simd when false, and the
 * loop then runs 4x slower on one thread.)
 * Elements below which a transcendental loop stays on one thread: a decode
 * step's 8 x 1024 GELU is worth splitting (8.7 us on two threads, 11.1 on
 * one, here). */
enum { PAR_TRANSCENDENTAL = 4096 };

TFM_AVX2_CLONE void tfm_gelu_forward(float *out, float *tanh_out, const float *inp, size_t n)
{
    if (!tanh_out) {
#pragma omp parallel for simd if (parallel : n > PAR_TRANSCENDENTAL)
        for (size_t i = 0; i < n; i++)
            out[i] = 0.5f * inp[i] * (1.0f + gelu_tanh(inp[i]));
        return;
    }
#pragma omp parallel for simd if (parallel : n > PAR_TRANSCENDENTAL)
    for (size_t i = 0; i < n; i++) {
        float t = gelu_tanh(inp[i]);
        out[i] = 0.5f * inp[i] * (1.0f + t);
        tanh_out[i] = t;
    }
}

TFM_AVX2_CLONE void tfm_gelu_backward(float *dinp, const float *dout, const float *inp, const float *tanh_in,
                       size_t n)
{
    if (tanh_in) {
        /* with the forward's tanh this is arithmetic only, and vectorises */
#pragma omp parallel for simd if (parallel : n > OMP_MIN_ELEMS)
        for (size_t i = 0; i < n; i++) {
            float x = inp[i], t = tanh_in[i];
            float dt = (1.0f - t * t) * GELU_S * (1.0f + 3.0f * 0.044715f * x * x);
            dinp[i] += dout[i] * (0.5f * (1.0f + t) + 0.5f * x * dt);
        }
        return;
    }
#pragma omp parallel for simd if (parallel : n > OMP_MIN_ELEMS)
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        float t = gelu_tanh(x);
        float dt = (1.0f - t * t) * GELU_S * (1.0f + 3.0f * 0.044715f * x * x);
        dinp[i] += dout[i] * (0.5f * (1.0f + t) + 0.5f * x * dt);
    }
}

TFM_AVX2_CLONE void tfm_swiglu_forward(float *out, const float *fc, size_t N, int FF)
{
#pragma omp parallel for if (N * (size_t)FF > PAR_TRANSCENDENTAL)
    for (size_t n = 0; n < N; n++) {
        const float *g = fc + n * 2 * FF, *u = g + FF;
        float *y = out + n * FF;
#pragma omp simd
        for (int i = 0; i < FF; i++)
            y[i] = g[i] / (1.0f + tfm_expf(-g[i])) * u[i];
    }
}

TFM_AVX2_CLONE void tfm_swiglu_backward(float *dfc, const float *dout, const float *fc, size_t N, int FF)
{
#pragma omp parallel for if (N * (size_t)FF > OMP_MIN_ELEMS)
    for (size_t n = 0; n < N; n++) {
        const float *g = fc + n * 2 * FF, *u = g + FF, *d = dout + n * FF;
        float *dg = dfc + n * 2 * FF, *du = dg + FF;
#pragma omp simd
        for (int i = 0; i < FF; i++) {
            float sg = 1.0f / (1.0f + tfm_expf(-g[i]));
            du[i] += d[i] * g[i] * sg;
            dg[i] += d[i] * u[i] * sg * (1.0f + g[i] * (1.0f - sg));
        }
    }
}

void tfm_rope(float *x, const float *cosv, const float *sinv, const int *pos, size_t N, int T,
              int stride, int nheads, int HS, int inverse)
{
    int half = HS / 2;
    float sgn = inverse ? -1.0f : 1.0f;
#pragma omp parallel for if (N * (size_t)stride > OMP_MIN_ELEMS)
    for (size_t n = 0; n < N; n++) {
        int p = pos ? pos[n] : (int)(n % (size_t)T);
        const float *c = cosv + (size_t)p * half, *s = sinv + (size_t)p * half;
        for (int h = 0; h < nheads; h++) {
            float *a = x + n * stride + (size_t)h * HS, *b = a + half;
            for (int i = 0; i < half; i++) {
                float x1 = a[i], x2 = b[i];
                a[i] = x1 * c[i] - sgn * x2 * s[i];
                b[i] = x2 * c[i] + sgn * x1 * s[i];
            }
        }
    }
}

void tfm_rope_table(float *cosv, float *sinv, int P, int HS, double theta, int scaling,
                    double factor, double low, double high, int orig_max)
{
    int half = HS / 2;
    for (int i = 0; i < half; i++) {
        /* transformers computes the frequencies in fp32; so do we. */
        float f = (float)(1.0 / pow(theta, (double)(float)(2.0 * i / HS)));
        if (scaling == 1) {
            f = (float)(f / factor);
        } else if (scaling == 2) {
            double wavelen = 2.0 * M_PI / f;
            double lo_wl = orig_max / low, hi_wl = orig_max / high;
            if (wavelen > lo_wl) {
                f = (float)(f / factor);
            } else if (wavelen >= hi_wl) {
                double sm = (orig_max / wavelen - low) / (high - low);
                f = (float)((1.0 - sm) * f / factor + sm * f);
            }
        }
        for (int p = 0; p < P; p++) {
            float a = (float)p * f;
            cosv[(size_t)p * half + i] = cosf(a);
            sinv[(size_t)p * half + i] = sinf(a);
        }
    }
}

void tfm_embed_forward(float *out, const int *tokens, const float *wte, const float *wpe,
                       int B, int T, int C)
{
#pragma omp parallel for if ((size_t)B * T * C > OMP_MIN_ELEMS)
    for (int bt = 0; bt < B * T; bt++) {
        float *y = out + (size_t)bt * C;
        const float *e = wte + (size_t)tokens[bt] * C;
        if (wpe) {
            const float *p = wpe + (size_t)(bt % T) * C;
            for (int i = 0; i < C; i++)
                y[i] = e[i] + p[i];
        } else {
            memcpy(y, e, (size_t)C * sizeof *y);
        }
    }
}

void tfm_embed_backward(float *dwte, float *dwpe, const float *dout, const int *tokens,
                        int B, int T, int C)
{
    /* Serial: several rows may hold the same token. */
    for (int bt = 0; bt < B * T; bt++) {
        const float *d = dout + (size_t)bt * C;
        float *e = dwte + (size_t)tokens[bt] * C;
        for (int i = 0; i < C; i++)
            e[i] += d[i];
        if (dwpe) {
            float *p = dwpe + (size_t)(bt % T) * C;
            for (int i = 0; i < C; i++)
                p[i] += d[i];
        }
    }
}

void tfm_add(float *out, const float *a, const float *b, size_t n)
{
#pragma omp parallel for if (n > OMP_MIN_ELEMS)
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}
