/* tfm_math: exp and tanh written so that the compiler can vectorise the
 * loops that call them (glibc's expf is a call per element, which keeps a
 * softmax over 8192 logits or a GELU over a batch scalar).
 *
 * tfm_expf: x = n ln2 + r with |r| <= ln2/2; exp(r) by a degree-6 polynomial
 * fitted for relative error (2e-9 on that interval), then scaled by 2^n in
 * two halves so that results down to the denormals and the overflow to
 * +inf come out right. Within 2 ulp of exp over the whole float range
 * (tests/test_tfm_math.c checks every float in [-104, 89] it samples); +inf
 * above 88.7229, 0 below -103.98, NaN for NaN, as expf. */
#ifndef ALARM_TFM_MATH_H
#define ALARM_TFM_MATH_H

#include <stdint.h>
#include <string.h>

/* The functions whose loops vectorise carry an AVX2 clone, chosen when the
 * program loads (the build targets plain x86-64, whose vectors are 4-wide
 * SSE). GCC clones a function's OpenMP bodies with it; the math
 * below is always_inline so that each clone gets its own vector copy. */
#if defined(__x86_64__) && defined(__GNUC__) && (!defined(__clang__) || __clang_major__ >= 16)
/* (clang before 16 names the dispatcher "f.ifunc", which callers in other
 * files cannot link against: the fuzz build, with clang 14, goes without) */
#define TFM_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define TFM_AVX2_CLONE
#endif

static inline __attribute__((always_inline)) float tfm_expf(float x)
{
    /* clamp first so that n stays in [-150, 128]: beyond it the two scale
     * factors still give 0 or +inf; a NaN passes through untouched */
    float xc = x < -104.0f ? -104.0f : x;
    xc = xc > 89.0f ? 89.0f : xc;
    /* round x / ln2 to the nearest integer: adding 1.5 * 2^23 leaves n in
     * the low mantissa bits of t */
    float t = xc * 1.44269504f + 12582912.0f;
    float n = t - 12582912.0f;
    float r = xc - n * 0.693145752f; /* ln2 in two parts: the first exact in n */
    r = r - n * 1.42860677e-6f;
    float p = 0.00138450065f;
    p = p * r + 0.00837413594f;
    p = p * r + 0.0416679792f;
    p = p * r + 0.166664317f;
    p = p * r + 0.49999994f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    uint32_t tb, ni, half, s1, s2;
    memcpy(&tb, &t, sizeof tb);
    ni = tb - 0x4B400000u;              /* n as a two's complement integer */
    half = (uint32_t)((int32_t)ni >> 1); /* n = half + (n - half), both in [-75, 64] */
    s1 = (half + 127u) << 23;
    s2 = (ni - half + 127u) << 23;
    float f1, f2;
    memcpy(&f1, &s1, sizeof f1);
    memcpy(&f2, &s2, sizeof f2);
    return p * f1 * f2;
}

/* tanh(u) = 1 - 2 / (1 + exp(2u)): exact limits at both ends (exp's 0 and
 * +inf), absolute error about 1e-7. */
static inline __attribute__((always_inline)) float tfm_tanhf(float u)
{
    return 1.0f - 2.0f / (1.0f + tfm_expf(2.0f * u));
}

#endif
