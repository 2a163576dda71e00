/* st_conv: exact conversions between fp32 and the 16-bit float formats found
 * in checkpoints. Bit-level, so results match PyTorch's CPU conversions and do
 * not depend on the compiler's _Float16 support or the FPU rounding mode. */
#include "st.h"

#include <string.h>

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float st_bf16_to_f32(uint16_t h)
{
    return bits_f32((uint32_t)h << 16);
}

/* Round to nearest, ties to even, on the 16 bits dropped. Every NaN becomes
 * 0xffff: that is what PyTorch's CPU .to(torch.bfloat16) writes (its
 * vectorised kernel), so files we write match its bytes. */
uint16_t st_f32_to_bf16(float f)
{
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return 0xffff;
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float st_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0) {
        /* Zero or subnormal: mant * 2^-24, exact in fp32. */
        float v = (float)mant * 0x1p-24f;
        return bits_f32(sign | f32_bits(v));
    }
    if (exp == 31) /* inf; a NaN keeps its payload and is made quiet, as F16C and PyTorch do */
        return bits_f32(sign | 0x7f800000u | (mant << 13) | (mant ? 0x400000u : 0u));
    return bits_f32(sign | ((exp + 112u) << 23) | (mant << 13));
}

uint16_t st_f32_to_f16(float f)
{
    uint32_t u = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u)
        return sign | 0x7e00;
    if (a >= 0x477ff000u) /* >= 65520 rounds to inf (65504 is odd, so the tie goes up) */
        return sign | 0x7c00;
    if (a >= 0x38800000u) { /* normal half, >= 2^-14: rebias and round 13 bits away */
        uint32_t m = a - 0x38000000u;
        m += 0xfffu + ((m >> 13) & 1u);
        return (uint16_t)(sign | (m >> 13));
    }
    if (a <= 0x33000000u) /* <= 2^-25: rounds to (signed) zero, the tie included */
        return sign;
    /* Subnormal half: count units of 2^-24 from the 24-bit significand. */
    uint32_t e = a >> 23;
    uint32_t mant = (a & 0x7fffffu) | 0x800000u;
    unsigned shift = 126u - e; /* 14..24 */
    uint32_t q = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u)))
        q++;
    return (uint16_t)(sign | q);
}

int st_to_f32(const st_tensor *t, float *dst, alarm_err *e)
{
    const unsigned char *p = t->data;
    size_t n = t->numel;
    switch (t->dtype) {
    case ST_F32:
        if (n)
            memcpy(dst, p, n * 4);
        return 0;
    case ST_BF16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h = (uint16_t)(p[2 * i] | (p[2 * i + 1] << 8));
            dst[i] = st_bf16_to_f32(h);
        }
        return 0;
    case ST_F16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h = (uint16_t)(p[2 * i] | (p[2 * i + 1] << 8));
            dst[i] = st_f16_to_f32(h);
        }
        return 0;
    default:
        return err_set(e, "tensor \"%s\": dtype %s cannot be converted to F32 "
                          "(only F32, F16 and BF16 can)", t->name, t->dtype_name);
    }
}
