/*
 * mye_dsp.h - choice between the portable C path and the Cortex-M DSP path.
 *
 * On a core with the DSP extension (__ARM_FEATURE_DSP and SIMD32, e.g.
 * Cortex-M4/M7/M33) the kernels' inner MAC loops use the dual 16-bit
 * multiply-accumulate SMLAD on sign-extended byte pairs (SXTB16) through
 * GCC's ACLE intrinsics. Building on the host with MYE_EMULATE_DSP defined
 * selects the same DSP path with the intrinsics written out in plain C, so
 * host tests can check that both paths give identical results.
 *
 * Both paths compute sum((a[i] + a_offset) * (b[i] + b_offset)) exactly in
 * two's complement int32 arithmetic, so they agree bit for bit.
 */
#ifndef MYE_DSP_H
#define MYE_DSP_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32)
#include <arm_acle.h>
#define MYE_USE_DSP 1
#define mye_sxtb16(x) __sxtb16(x)
#define mye_sxtb16_ror8(x) __sxtb16((int32_t)(((uint32_t)(x) >> 8) | ((uint32_t)(x) << 24)))
#define mye_sadd16(a, b) __sadd16((a), (b))
#define mye_smlad(a, b, acc) __smlad((a), (b), (acc))
#define mye_pkhbt(lo, hi) ((uint32_t)(((uint32_t)(lo) & 0xFFFFu) | ((uint32_t)(hi) << 16)))
typedef int16x2_t mye_pair_t;
/* Same result as mye_sxtb16_ror8 in one instruction (GCC 12 does not fold the
 * rotate into SXTB16's operand by itself). */
static inline int16x2_t mye_sxtb16_hi(uint32_t x)
{
    int16x2_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
#elif defined(MYE_EMULATE_DSP)
#define MYE_USE_DSP 1
typedef uint32_t mye_pair_t;
/* Bytes 0 and 2 of x, sign-extended into the two halfwords. */
static inline uint32_t mye_sxtb16(uint32_t x)
{
    const uint32_t lo = (uint32_t)(int32_t)(int8_t)(x & 0xFFu) & 0xFFFFu;
    const uint32_t hi = (uint32_t)(int32_t)(int8_t)((x >> 16) & 0xFFu) & 0xFFFFu;
    return lo | (hi << 16);
}
/* Bytes 1 and 3 of x, sign-extended into the two halfwords. */
static inline uint32_t mye_sxtb16_ror8(uint32_t x)
{
    return mye_sxtb16((x >> 8) | (x << 24));
}
/* Halfword-wise wrapping add. */
static inline uint32_t mye_sadd16(uint32_t a, uint32_t b)
{
    const uint32_t lo = (a + b) & 0xFFFFu;
    const uint32_t hi = ((a >> 16) + (b >> 16)) & 0xFFFFu;
    return lo | (hi << 16);
}
/* acc + lo(a)*lo(b) + hi(a)*hi(b), signed halfwords, wrapping int32. */
static inline int32_t mye_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    const int32_t p0 = (int32_t)(int16_t)(a & 0xFFFFu) * (int32_t)(int16_t)(b & 0xFFFFu);
    const int32_t p1 = (int32_t)(int16_t)(a >> 16) * (int32_t)(int16_t)(b >> 16);
    return (int32_t)((uint32_t)acc + (uint32_t)p0 + (uint32_t)p1);
}
#define mye_pkhbt(lo, hi) ((uint32_t)(((uint32_t)(lo) & 0xFFFFu) | ((uint32_t)(hi) << 16)))
#define mye_sxtb16_hi(x) mye_sxtb16_ror8(x)
#endif

/*
 * (a * b + 2^31) >> 32, the rounded high word of a 32 x 32 product: one
 * SMMULR on a DSP core, the same value from 64-bit C elsewhere. For
 * |a| < 2^30, mye_smmulr(2 * a, b) equals the saturating rounding doubling
 * high multiply of a and b (floor((a b + 2^30) / 2^31)).
 */
static inline int32_t mye_smmulr(int32_t a, int32_t b)
{
#if defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32) && !defined(MYE_EMULATE_DSP)
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 31)) >> 32);
#endif
}

/* Byte-wise signed maximum of two words of four int8 lanes: SSUB8 sets the
 * GE flag of every lane where a >= b, SEL picks those lanes from a. */
static inline uint32_t mye_lanes_max_s8(uint32_t a, uint32_t b)
{
#if defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32) && !defined(MYE_EMULATE_DSP)
    (void)__ssub8((int8x4_t)a, (int8x4_t)b);
    return (uint32_t)__sel((uint8x4_t)a, (uint8x4_t)b);
#else
    uint32_t r = 0;
    int lane;
    for (lane = 0; lane < 4; ++lane) {
        const int8_t x = (int8_t)(a >> (8 * lane));
        const int8_t y = (int8_t)(b >> (8 * lane));
        r |= (uint32_t)(uint8_t)(x >= y ? x : y) << (8 * lane);
    }
    return r;
#endif
}

/* x saturated to int8: one SSAT on cores that have it. */
static inline int32_t mye_ssat8(int32_t x)
{
#if defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32) && !defined(MYE_EMULATE_DSP)
    return __ssat(x, 8);
#else
    return x < -128 ? -128 : (x > 127 ? 127 : x);
#endif
}

/*
 * sum over i < n of (a[i] + a_offset) * (b[i] + b_offset), int32 wrapping.
 * Offsets must lie in [-255, 255] so that every shifted value fits int16.
 */
static inline int32_t mye_dot_s8(const int8_t *a, int32_t a_offset, const int8_t *b,
                                 int32_t b_offset, int32_t n)
{
    uint32_t acc = 0;
    int32_t i = 0;
#if defined(MYE_USE_DSP)
    const mye_pair_t a_off2 = (mye_pair_t)mye_pkhbt(a_offset, a_offset);
    const mye_pair_t b_off2 = (mye_pair_t)mye_pkhbt(b_offset, b_offset);
    int32_t sacc = 0;
    if (a_offset == 0 && b_offset == 0) {
        /* No offsets (folded into the bias ahead of time): two SMLADs per four bytes. */
        for (; i + 4 <= n; i += 4) {
            uint32_t wa;
            uint32_t wb;
            memcpy(&wa, a + i, 4);
            memcpy(&wb, b + i, 4);
            sacc = mye_smlad(mye_sxtb16(wa), mye_sxtb16(wb), sacc);
            sacc = mye_smlad(mye_sxtb16_ror8(wa), mye_sxtb16_ror8(wb), sacc);
        }
    }
    for (; i + 4 <= n; i += 4) {
        uint32_t wa;
        uint32_t wb;
        memcpy(&wa, a + i, 4);
        memcpy(&wb, b + i, 4);
        {
            const mye_pair_t a02 = mye_sadd16(mye_sxtb16(wa), a_off2);
            const mye_pair_t a13 = mye_sadd16(mye_sxtb16_ror8(wa), a_off2);
            const mye_pair_t b02 = mye_sadd16(mye_sxtb16(wb), b_off2);
            const mye_pair_t b13 = mye_sadd16(mye_sxtb16_ror8(wb), b_off2);
            sacc = mye_smlad(a02, b02, sacc);
            sacc = mye_smlad(a13, b13, sacc);
        }
    }
    acc = (uint32_t)sacc;
#endif
    for (; i < n; ++i) {
        const int32_t av = (int32_t)a[i] + a_offset;
        const int32_t bv = (int32_t)b[i] + b_offset;
        acc += (uint32_t)(av * bv);
    }
    return (int32_t)acc;
}

/*
 * Two dot products sharing one operand: *acc0 = sum x[i] * w0[i] and
 * *acc1 = sum x[i] * w1[i] (no offsets), int32 wrapping. Loading and
 * sign-extending x once for both halves the work per MAC on the DSP path.
 */
static inline void mye_dot2_s8(const int8_t *x, const int8_t *w0, const int8_t *w1, int32_t n,
                               int32_t *acc0, int32_t *acc1)
{
    uint32_t sum0 = 0;
    uint32_t sum1 = 0;
    int32_t i = 0;
#if defined(MYE_USE_DSP)
    int32_t s0 = 0;
    int32_t s1 = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t wx;
        uint32_t wa;
        uint32_t wb;
        memcpy(&wx, x + i, 4);
        memcpy(&wa, w0 + i, 4);
        memcpy(&wb, w1 + i, 4);
        {
            const mye_pair_t x02 = mye_sxtb16(wx);
            const mye_pair_t x13 = mye_sxtb16_ror8(wx);
            s0 = mye_smlad(x02, mye_sxtb16(wa), s0);
            s0 = mye_smlad(x13, mye_sxtb16_ror8(wa), s0);
            s1 = mye_smlad(x02, mye_sxtb16(wb), s1);
            s1 = mye_smlad(x13, mye_sxtb16_ror8(wb), s1);
        }
    }
    sum0 = (uint32_t)s0;
    sum1 = (uint32_t)s1;
#endif
    for (; i < n; ++i) {
        sum0 += (uint32_t)((int32_t)x[i] * (int32_t)w0[i]);
        sum1 += (uint32_t)((int32_t)x[i] * (int32_t)w1[i]);
    }
    *acc0 = (int32_t)sum0;
    *acc1 = (int32_t)sum1;
}

#endif /* MYE_DSP_H */
