/* tfm_gemm_small: unpacked matrix products for a handful of rows (decode
 * steps), used by tfm_sgemm; see tfm_gemm_small.c. */
#ifndef ALARM_TFM_GEMM_SMALL_H
#define ALARM_TFM_GEMM_SMALL_H

enum { TFM_SMALL_M = 8 };

/* Whether tfm_sgemm_small can do a product with M rows and A transposed
 * or not (it needs A untransposed, M <= TFM_SMALL_M and a CPU with AVX2+FMA). */
int tfm_sgemm_small_ok(int ta, int M);

/* Columns [n0, n1) of C (M, N) = alpha A (M, K) op(B) + beta C, row-major,
 * op(B) = B (K, N) or, when tb, B^T with B (N, K). Beta 0 overwrites C. */
void tfm_sgemm_small(int tb, int M, int n0, int n1, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc);

#endif
