/* tfm_gemm_small: C = alpha A op(B) + beta C for the few rows of a decode
 * step (M <= TFM_SMALL_M), without packing. OpenBLAS's sgemm copies the
 * whole weight matrix into its panel layout before multiplying, which for
 * eight rows costs as much as the product; these kernels stream each weight
 * once from where it lies. AVX2 + FMA, chosen at run time: the build itself
 * targets plain x86-64, so the kernels carry their own target attribute. */
#include "tfm_gemm_small.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define INLINE_AVX2 static inline __attribute__((always_inline, target("avx2,fma")))

enum { MR = 4, NV = 3 };

/* Writes alpha acc + beta C (beta 0 ignores what C held, NaN included). */
INLINE_AVX2 void store8(float *c, __m256 acc, float alpha, float beta)
{
    __m256 r = _mm256_mul_ps(acc, _mm256_set1_ps(alpha));
    if (beta != 0.0f)
        r = _mm256_fmadd_ps(_mm256_loadu_ps(c), _mm256_set1_ps(beta), r);
    _mm256_storeu_ps(c, r);
}

static inline void store1(float *c, float acc, float alpha, float beta)
{
    *c = beta != 0.0f ? alpha * acc + beta * *c : alpha * acc;
}

/* B is (K, N) row-major: C rows m0..m0+mr, columns j..j+8nv. Each step over k
 * loads nv vectors of one row of B and broadcasts one element of each A row. */
INLINE_AVX2 void tile_nn(int mr, int nv, int K, float alpha, const float *A, int lda,
                         const float *B, int ldb, float beta, float *C, int ldc)
{
    __m256 acc[MR][NV];
#pragma GCC unroll 4
    for (int r = 0; r < mr; r++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            acc[r][v] = _mm256_setzero_ps();
    for (int k = 0; k < K; k++) {
        const float *b = B + (size_t)k * ldb;
        __m256 bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            bv[v] = _mm256_loadu_ps(b + 8 * v);
#pragma GCC unroll 4
        for (int r = 0; r < mr; r++) {
            __m256 a = _mm256_broadcast_ss(A + (size_t)r * lda + k);
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++)
                acc[r][v] = _mm256_fmadd_ps(a, bv[v], acc[r][v]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < mr; r++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            store8(C + (size_t)r * ldc + 8 * v, acc[r][v], alpha, beta);
}

/* Sum of the eight lanes. */
INLINE_AVX2 float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* B is (N, K) row-major (nn.Linear): C rows m0..m0+mr, columns j..j+nc, as
 * dot products along k, eight lanes at a time, summed across at the end. */
INLINE_AVX2 void tile_nt(int mr, int nc, int K, float alpha, const float *A, int lda,
                         const float *B, int ldb, float beta, float *C, int ldc)
{
    __m256 acc[MR][NV];
#pragma GCC unroll 4
    for (int r = 0; r < mr; r++)
#pragma GCC unroll 4
        for (int c = 0; c < nc; c++)
            acc[r][c] = _mm256_setzero_ps();
    int k8 = K & ~7;
    for (int k = 0; k < k8; k += 8) {
        __m256 bv[NV];
#pragma GCC unroll 4
        for (int c = 0; c < nc; c++) {
            /* the next tile's rows, a line each eight floats: done by mid-tile */
            _mm_prefetch((const char *)(B + (size_t)(NV + c) * ldb + 2 * k), _MM_HINT_T0);
            bv[c] = _mm256_loadu_ps(B + (size_t)c * ldb + k);
        }
#pragma GCC unroll 4
        for (int r = 0; r < mr; r++) {
            __m256 a = _mm256_loadu_ps(A + (size_t)r * lda + k);
#pragma GCC unroll 4
            for (int c = 0; c < nc; c++)
                acc[r][c] = _mm256_fmadd_ps(a, bv[c], acc[r][c]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < mr; r++)
#pragma GCC unroll 4
        for (int c = 0; c < nc; c++) {
            float s = hsum(acc[r][c]);
            for (int k = k8; k < K; k++)
                s += A[(size_t)r * lda + k] * B[(size_t)c * ldb + k];
            store1(C + (size_t)r * ldc + c, s, alpha, beta);
        }
}

/* The row count as a constant, so each tile's loops unroll and its
 * accumulators stay in registers. */
#define BY_ROWS(mr, call)                                                                         \
    switch (mr) {                                                                                 \
    case 1: call(1); break;                                                                       \
    case 2: call(2); break;                                                                       \
    case 3: call(3); break;                                                                       \
    default: call(4); break;                                                                      \
    }

/* Panels of KP rows of B: a tile walking all K rows at once would touch K
 * distant rows of B per column tile, more streams than the hardware
 * prefetcher follows; a panel keeps it to KP, read left to right across the
 * tiles. The partial sums go through C (beta 1 after the first panel). */
enum { KP = 16 };

AVX2 static void small_nn(int M, int n0, int n1, int K, float alpha, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc)
{
    int n8 = n0 + (n1 - n0) / 8 * 8; /* columns in whole vectors */
    for (int k0 = 0; k0 < K; k0 += KP) {
        int kp = K - k0 < KP ? K - k0 : KP;
        float bk = k0 ? 1.0f : beta;
        const float *Bk = B + (size_t)k0 * ldb;
        for (int j = n0; j < n8;) {
            int nv = (n8 - j) / 8 < NV ? (n8 - j) / 8 : NV;
            for (int m0 = 0; m0 < M; m0 += MR) {
                const float *a = A + (size_t)m0 * lda + k0;
                float *c = C + (size_t)m0 * ldc + j;
                int mr = M - m0 < MR ? M - m0 : MR;
#define NN(R)                                                                                     \
    (nv == 3   ? tile_nn(R, 3, kp, alpha, a, lda, Bk + j, ldb, bk, c, ldc)                        \
     : nv == 2 ? tile_nn(R, 2, kp, alpha, a, lda, Bk + j, ldb, bk, c, ldc)                        \
               : tile_nn(R, 1, kp, alpha, a, lda, Bk + j, ldb, bk, c, ldc))
                BY_ROWS(mr, NN)
#undef NN
            }
            j += 8 * nv;
        }
    }
    for (int j = n8; j < n1; j++) /* the columns left over, fewer than eight */
        for (int m = 0; m < M; m++) {
            float s = 0.0f;
            for (int k = 0; k < K; k++)
                s += A[(size_t)m * lda + k] * B[(size_t)k * ldb + j];
            store1(C + (size_t)m * ldc + j, s, alpha, beta);
        }
}

AVX2 static void small_nt(int M, int n0, int n1, int K, float alpha, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc)
{
    for (int j = n0; j < n1; j += NV) {
        int nc = n1 - j < NV ? n1 - j : NV;
        const float *b = B + (size_t)j * ldb;
        for (int m0 = 0; m0 < M; m0 += MR) {
            const float *a = A + (size_t)m0 * lda;
            float *c = C + (size_t)m0 * ldc + j;
            int mr = M - m0 < MR ? M - m0 : MR;
#define NT(R)                                                                                     \
    (nc == 3   ? tile_nt(R, 3, K, alpha, a, lda, b, ldb, beta, c, ldc)                            \
     : nc == 2 ? tile_nt(R, 2, K, alpha, a, lda, b, ldb, beta, c, ldc)                            \
               : tile_nt(R, 1, K, alpha, a, lda, b, ldb, beta, c, ldc))
            BY_ROWS(mr, NT)
#undef NT
        }
    }
}

int tfm_sgemm_small_ok(int ta, int M)
{
    /* reads flags the runtime filled in at start-up: cheap, and no cache
     * that threads calling at once could race on */
    return !ta && M >= 1 && M <= TFM_SMALL_M && __builtin_cpu_supports("avx2") &&
           __builtin_cpu_supports("fma");
}

void tfm_sgemm_small(int tb, int M, int n0, int n1, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc)
{
    if (tb)
        small_nt(M, n0, n1, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else
        small_nn(M, n0, n1, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

#else /* no AVX2 kernels on this compiler or CPU family: OpenBLAS does it all */

int tfm_sgemm_small_ok(int ta, int M)
{
    (void)ta, (void)M;
    return 0;
}

void tfm_sgemm_small(int tb, int M, int n0, int n1, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc)
{
    (void)tb, (void)M, (void)n0, (void)n1, (void)K, (void)alpha, (void)A, (void)lda, (void)B;
    (void)ldb, (void)beta, (void)C, (void)ldc;
}
#endif
