/* tfm_attn: causal (grouped-query) attention, forward and backward, as
 * matrix products per (sequence, head) on single-threaded OpenBLAS, the
 * (sequence, head) pairs spread over the OpenMP threads. Rows go in blocks
 * of RB so that the products skip most of the masked upper triangle. */
#include "tfm_ops.h"
#include "tfm_math.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

enum { RB = 64 };

static void gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M,
                N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Softmax of row t over columns [0, t], zeros after it (the backward's
 * full-width products rely on them). */
static inline __attribute__((always_inline)) void causal_softmax_row(float *p, int t, int T)
{
    float mx = -INFINITY, sum = 0.0f;
#pragma omp simd reduction(max : mx)
    for (int j = 0; j <= t; j++)
        mx = p[j] > mx ? p[j] : mx;
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j <= t; j++) {
        p[j] = tfm_expf(p[j] - mx);
        sum += p[j];
    }
    float inv = 1.0f / sum;
#pragma omp simd
    for (int j = 0; j <= t; j++)
        p[j] *= inv;
    memset(p + t + 1, 0, (size_t)(T - t - 1) * sizeof *p);
}

/* Rows [r0, r1) of one (sequence, head)'s probabilities P into S with the
 * dropout mask applied (bh = b NH + h), zero right of the diagonal up to
 * r1, as the products over those columns read them. */
static const float *drop_rows(const tfm_drop *d, float *S, const float *P, size_t bh, int r0,
                              int r1, int T)
{
    for (int t = r0; t < r1; t++) {
        size_t row = (size_t)t * T, at = (bh * T + (size_t)t) * T;
        for (int j = 0; j <= t; j++)
            S[row + j] = P[row + j] * tfm_drop_mul(d, at + (size_t)j);
        for (int j = t + 1; j < r1; j++)
            S[row + j] = 0.0f;
    }
    return S;
}

TFM_AVX2_CLONE void tfm_attention_forward(float *out, float *att, const float *qkv, int B, int T, int NH,
                           int NKV, int HS, const tfm_drop *drop)
{
    int QKV = (NH + 2 * NKV) * HS, AD = NH * HS, group = NH / NKV;
    float scale = 1.0f / sqrtf((float)HS);
#pragma omp parallel for collapse(2) schedule(dynamic)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            int kh = h / group;
            const float *base = qkv + (size_t)b * T * QKV;
            const float *q = base + (size_t)h * HS, *k = base + (size_t)(NH + kh) * HS;
            const float *v = base + (size_t)(NH + NKV + kh) * HS;
            size_t bh = (size_t)b * NH + h;
            float *P = att + bh * T * T;
            float *y = out + (size_t)b * T * AD + (size_t)h * HS;
            for (int r0 = 0; r0 < T; r0 += RB) {
                int r1 = r0 + RB < T ? r0 + RB : T;
                gemm(0, 1, r1 - r0, r1, HS, scale, q + (size_t)r0 * QKV, QKV, k, QKV, 0.0f,
                     P + (size_t)r0 * T, T);
                for (int t = r0; t < r1; t++)
                    causal_softmax_row(P + (size_t)t * T, t, T);
                /* dropout weighs the values by kept probabilities; att keeps them all */
                const float *W = drop ? drop_rows(drop, drop->buf + bh * T * T, P, bh, r0, r1, T) : P;
                gemm(0, 0, r1 - r0, HS, r1, 1.0f, W + (size_t)r0 * T, T, v, QKV, 0.0f,
                     y + (size_t)r0 * AD, AD);
            }
        }
}

TFM_AVX2_CLONE void tfm_attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv,
                            const float *att, int B, int T, int NH, int NKV, int HS,
                            const tfm_drop *drop)
{
    int QKV = (NH + 2 * NKV) * HS, AD = NH * HS, group = NH / NKV;
    float scale = 1.0f / sqrtf((float)HS);
    /* Threads split over (b, kv head): the query heads of a group share dk, dv. */
#pragma omp parallel for collapse(2) schedule(dynamic)
    for (int b = 0; b < B; b++)
        for (int kh = 0; kh < NKV; kh++) {
            const float *base = qkv + (size_t)b * T * QKV;
            float *dbase = dqkv + (size_t)b * T * QKV;
            const float *k = base + (size_t)(NH + kh) * HS;
            const float *v = base + (size_t)(NH + NKV + kh) * HS;
            float *dk = dbase + (size_t)(NH + kh) * HS, *dv = dbase + (size_t)(NH + NKV + kh) * HS;
            for (int h = kh * group; h < (kh + 1) * group; h++) {
                const float *q = base + (size_t)h * HS;
                float *dq = dbase + (size_t)h * HS;
                size_t bh = (size_t)b * NH + h;
                const float *P = att + bh * T * T;
                float *dS = datt + bh * T * T;
                const float *dy = dout + (size_t)b * T * AD + (size_t)h * HS;
                for (int r0 = 0; r0 < T; r0 += RB) {
                    int r1 = r0 + RB < T ? r0 + RB : T, n = r1 - r0;
                    const float *Pr = P + (size_t)r0 * T;
                    float *dSr = dS + (size_t)r0 * T;
                    if (drop) { /* dV from the kept probabilities, regenerated where dS goes */
                        drop_rows(drop, dS, P, bh, r0, r1, T);
                        gemm(1, 0, r1, HS, n, 1.0f, dSr, T, dy + (size_t)r0 * AD, AD, 1.0f, dv, QKV);
                    }
                    /* dP = dY V^T (times the mask), then dS = P (dP - rowsum(P dP)) scale */
                    gemm(0, 1, n, r1, HS, 1.0f, dy + (size_t)r0 * AD, AD, v, QKV, 0.0f, dSr, T);
                    for (int t = r0; t < r1; t++) {
                        const float *p = P + (size_t)t * T;
                        float *d = dS + (size_t)t * T, dot = 0.0f;
                        size_t at = (bh * T + (size_t)t) * T;
                        for (int j = 0; drop && j <= t; j++)
                            d[j] *= tfm_drop_mul(drop, at + (size_t)j);
#pragma omp simd reduction(+ : dot)
                        for (int j = 0; j <= t; j++)
                            dot += p[j] * d[j];
#pragma omp simd
                        for (int j = 0; j <= t; j++)
                            d[j] = p[j] * (d[j] - dot) * scale;
                        for (int j = t + 1; j < r1; j++)
                            d[j] = 0.0f;
                    }
                    gemm(0, 0, n, HS, r1, 1.0f, dSr, T, k, QKV, 1.0f, dq + (size_t)r0 * QKV, QKV);
                    gemm(1, 0, r1, HS, n, 1.0f, dSr, T, q + (size_t)r0 * QKV, QKV, 1.0f, dk, QKV);
                    if (!drop)
                        gemm(1, 0, r1, HS, n, 1.0f, Pr, T, dy + (size_t)r0 * AD, AD, 1.0f, dv, QKV);
                }
            }
        }
}
