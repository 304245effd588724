/*
 * mye_fixedpoint.h - 32-bit fixed-point primitives of the myoedge kernels.
 *
 * Every int8 kernel rescales its accumulators with the same few integer
 * operations that TensorFlow Lite Micro's reference kernels use (the
 * "double rounding" build, TFLM's default): a saturating rounding doubling
 * high multiply followed by a rounding right shift. Matching them bit for bit
 * is what makes the AOT engine's outputs equal TFLM's, so these functions
 * are the single place where that arithmetic is spelled out.
 *
 * Conventions:
 *   - a quantised multiplier is an int32 in Q0.31 (value in [0.5, 1) scaled
 *     by 2^31, or 0), paired with a power-of-two exponent `shift`;
 *     shift > 0 means a left shift, shift < 0 a right shift (TFLM's sign);
 *   - signed overflow is never relied on: wrapping shifts go through
 *     uint32_t, the one saturating case is handled explicitly.
 *
 * Fixed-point helpers for the activation kernels (exp on negative values,
 * 1 / (1 + x), logistic, tanh in the gemmlowp number formats) are here as
 * well because the LSTM and the softmax need them too.
 */
#ifndef MYE_FIXEDPOINT_H
#define MYE_FIXEDPOINT_H

#include <stdint.h>

#define MYE_INT8_MIN (-128)
#define MYE_INT8_MAX 127
#define MYE_INT16_MIN (-32768)
#define MYE_INT16_MAX 32767

/* ---- clamps ---------------------------------------------------------- */

static inline int32_t mye_clamp_s32(int32_t x, int32_t lo, int32_t hi)
{
    if (x < lo) {
        return lo;
    }
    if (x > hi) {
        return hi;
    }
    return x;
}

static inline int32_t mye_min_s32(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t mye_max_s32(int32_t a, int32_t b) { return a > b ? a : b; }

/* Saturate an int32 to the int8 range. */
static inline int8_t mye_sat_s8(int32_t x)
{
    return (int8_t)mye_clamp_s32(x, MYE_INT8_MIN, MYE_INT8_MAX);
}

/* Saturate an int32 to the int16 range. */
static inline int16_t mye_sat_s16(int32_t x)
{
    return (int16_t)mye_clamp_s32(x, MYE_INT16_MIN, MYE_INT16_MAX);
}

/* ---- wrapping / saturating shifts ------------------------------------- */

/* x * 2^shift with two's complement wrap-around (0 <= shift <= 31). */
static inline int32_t mye_shl_wrap(int32_t x, int shift)
{
    return (int32_t)((uint32_t)x << shift);
}

/* x * 2^shift saturated to the int32 range (0 <= shift <= 31). */
static inline int32_t mye_shl_sat(int32_t x, int shift)
{
    const int64_t wide = (int64_t)x * ((int64_t)1 << shift);
    if (wide > INT32_MAX) {
        return INT32_MAX;
    }
    if (wide < INT32_MIN) {
        return INT32_MIN;
    }
    return (int32_t)wide;
}

/* ---- the two core primitives ------------------------------------------ */

/*
 * round(a * b / 2^31) with ties rounded upwards (the reference nudge), saturated: the only overflow,
 * INT32_MIN * INT32_MIN, returns INT32_MAX.
 */
static inline int32_t mye_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    const int64_t product = (int64_t)a * (int64_t)b;
    const int64_t nudge = product >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    /* C99 division truncates toward zero, as the reference requires. */
    return (int32_t)((product + nudge) / ((int64_t)1 << 31));
}

/* x / 2^exponent rounded to nearest, ties away from zero (0 <= exponent <= 31). */
static inline int32_t mye_rounding_divide_by_pot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* ---- rescaling by a quantised multiplier ------------------------------- */

/*
 * x * multiplier * 2^shift / 2^31 as TFLM's MultiplyByQuantizedMultiplier
 * computes it (double rounding): left shift first (wrapping), then the high
 * multiply, then a rounding right shift.
 */
static inline int32_t mye_mul_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift)
{
    const int left_shift = shift > 0 ? shift : 0;
    const int right_shift = shift > 0 ? 0 : -shift;
    return mye_rounding_divide_by_pot(
        mye_sat_rounding_doubling_high_mul(mye_shl_wrap(x, left_shift), multiplier), right_shift);
}

/* Variant for multipliers below one (shift <= 0): no left shift. */
static inline int32_t mye_mul_by_quantized_multiplier_smaller_than_one(int32_t x, int32_t multiplier,
                                                                       int shift)
{
    return mye_rounding_divide_by_pot(mye_sat_rounding_doubling_high_mul(x, multiplier), -shift);
}

/* Variant for multipliers of one or more (shift >= 0): no right shift. */
static inline int32_t mye_mul_by_quantized_multiplier_greater_than_one(int32_t x, int32_t multiplier,
                                                                       int shift)
{
    return mye_sat_rounding_doubling_high_mul(mye_shl_wrap(x, shift), multiplier);
}

/*
 * 64-bit accumulator version (TFLM's int64 MultiplyByQuantizedMultiplier):
 * the multiplier is reduced to Q0.15 with rounding, then one rounding shift.
 * Valid for |x| < 2^47 and -31 <= shift < 8.
 */
static inline int32_t mye_mul_by_quantized_multiplier_s64(int64_t x, int32_t multiplier, int shift)
{
    const int32_t reduced = multiplier < 0x7FFF0000 ? ((multiplier + (1 << 15)) >> 16) : 0x7FFF;
    const int total_shift = 15 - shift;
    const int64_t rounded = x * (int64_t)reduced + ((int64_t)1 << (total_shift - 1));
    return (int32_t)(rounded >> total_shift);
}

/* ---- gemmlowp-style fixed-point helpers -------------------------------- */
/*
 * A value in "Qm" below is an int32 with m integer bits (and 31 - m
 * fractional bits). Names follow what the number means, not the C++
 * templates they mirror.
 */

/* Rounding half-sum (a + b) / 2, ties away from zero, without overflow. */
static inline int32_t mye_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/* Bitwise select: where mask bits are set take a, else b. */
static inline int32_t mye_select_s32(int32_t mask, int32_t a, int32_t b)
{
    return (int32_t)(((uint32_t)mask & (uint32_t)a) | (~(uint32_t)mask & (uint32_t)b));
}

/* All ones when cond is true, else 0. */
static inline int32_t mye_mask_if(int cond) { return cond ? -1 : 0; }

/*
 * exp(a) for a in [-1/4, 0) given in Q0 (all fractional bits); result in Q0.
 * Taylor expansion around -1/8, as the reference computes it.
 */
static inline int32_t mye_exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a)
{
    const int32_t constant_term = 1895147668;         /* exp(-1/8) in Q0.31 */
    const int32_t constant_1_over_3 = 715827883;      /* 1/3 in Q0.31 */
    const int32_t x = a + (1 << 28);                  /* a + 1/8 */
    const int32_t x2 = mye_sat_rounding_doubling_high_mul(x, x);
    const int32_t x3 = mye_sat_rounding_doubling_high_mul(x2, x);
    const int32_t x4 = mye_sat_rounding_doubling_high_mul(x2, x2);
    const int32_t x4_over_4 = mye_rounding_divide_by_pot(x4, 2);
    const int32_t poly_part = mye_rounding_divide_by_pot(
        mye_sat_rounding_doubling_high_mul(x4_over_4 + x3, constant_1_over_3) + x2, 1);
    return constant_term + mye_sat_rounding_doubling_high_mul(constant_term, x + poly_part);
}

/*
 * exp(a) for a <= 0 given with `integer_bits` integer bits; result in Q0
 * (fraction of one). Splits a into a multiple of 1/4 and a remainder, and
 * multiplies in exp(-2^k) constants for each set bit of the multiple.
 */
static inline int32_t mye_exp_on_negative_values(int32_t a, int integer_bits)
{
    const int fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
    /* Rescale the remainder (in [-1/4, 0)) from Q(integer_bits) to Q0. */
    int32_t result = mye_exp_on_interval_between_negative_one_quarter_and_0_excl(
        mye_shl_sat(a_mod_quarter_minus_one_quarter, integer_bits));
    const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
    /* exp(-2^k) for k = -2 .. 4 in Q0.31. */
    static const int32_t exp_neg_pow2[7] = {
        1672461947, /* exp(-1/4) */
        1302514674, /* exp(-1/2) */
        790015084,  /* exp(-1)   */
        290630308,  /* exp(-2)   */
        39332535,   /* exp(-4)   */
        720401,     /* exp(-8)   */
        242,        /* exp(-16)  */
    };
    int k;
    for (k = 0; k < 7; ++k) {
        const int exponent = k - 2;
        const int bit = fractional_bits + exponent;
        if (integer_bits > exponent && bit >= 0 && bit < 31) {
            const int32_t bit_set = mye_mask_if((remainder & ((int32_t)1 << bit)) != 0);
            result = mye_select_s32(bit_set,
                                    mye_sat_rounding_doubling_high_mul(result, exp_neg_pow2[k]),
                                    result);
        }
    }
    if (integer_bits > 5) {
        /* Below -32 the result is 0 in Q0.31. */
        const int32_t clamp_point = -((int32_t)1 << (fractional_bits + 5));
        result = mye_select_s32(mye_mask_if(a < clamp_point), 0, result);
    }
    /* exp(0) = 1 saturates to the largest Q0.31 value. */
    return mye_select_s32(mye_mask_if(a == 0), INT32_MAX, result);
}

/*
 * 1 / (1 + a) for a in [0, 1) given in Q0; result in Q0 (value in (1/2, 1]).
 * Newton-Raphson division with three iterations, as the reference does.
 */
static inline int32_t mye_one_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    /* half_denominator = (1 + a) / 2 in Q0. */
    const int32_t half_denominator = mye_rounding_half_sum(a, INT32_MAX);
    const int32_t constant_48_over_17 = 1515870810;  /* Q2 */
    const int32_t constant_neg_32_over_17 = -1010580540; /* Q2 */
    /* x in Q2: 48/17 + (-32/17) * half_denominator; the product of Q2 by Q0 is Q2. */
    int32_t x = constant_48_over_17 +
                mye_sat_rounding_doubling_high_mul(half_denominator, constant_neg_32_over_17);
    int i;
    for (i = 0; i < 3; ++i) {
        /* half_denominator_times_x: Q0 * Q2 -> Q2. */
        const int32_t half_denominator_times_x = mye_sat_rounding_doubling_high_mul(half_denominator, x);
        /* one_minus: 1 in Q2 is 2^29. */
        const int32_t one_minus = ((int32_t)1 << 29) - half_denominator_times_x;
        /* x * one_minus: Q2 * Q2 -> Q4, back to Q2 by a saturating shift of 2. */
        x = x + mye_shl_sat(mye_sat_rounding_doubling_high_mul(x, one_minus), 2);
    }
    /* Result = x / 2, i.e. x (Q2) seen as Q1 with one bit less: shift Q2 -> Q0 by 1 left saturating. */
    return mye_shl_sat(x, 1);
}

/*
 * (1 - a) / (1 + a) for a in [0, 1) given in Q0; result in Q0. Same
 * Newton-Raphson iteration as above, used by tanh.
 */
static inline int32_t mye_one_minus_x_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    const int32_t half_denominator = mye_rounding_half_sum(a, INT32_MAX);
    const int32_t constant_48_over_17 = 1515870810;
    const int32_t constant_neg_32_over_17 = -1010580540;
    int32_t x = constant_48_over_17 +
                mye_sat_rounding_doubling_high_mul(half_denominator, constant_neg_32_over_17);
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t half_denominator_times_x = mye_sat_rounding_doubling_high_mul(half_denominator, x);
        const int32_t one_minus = ((int32_t)1 << 29) - half_denominator_times_x;
        x = x + mye_shl_sat(mye_sat_rounding_doubling_high_mul(x, one_minus), 2);
    }
    /* 2 / (1 + a) - 1 in Q2, rescaled to Q0. */
    return mye_shl_sat(x - ((int32_t)1 << 29), 2);
}

/* logistic(a) for a with `integer_bits` integer bits; result in Q0. */
static inline int32_t mye_logistic_fixed(int32_t a, int integer_bits)
{
    const int positive = a > 0;
    const int32_t abs_a = positive ? a : -a;
    const int32_t if_positive =
        mye_one_over_one_plus_x_for_x_in_0_1(mye_exp_on_negative_values(-abs_a, integer_bits));
    const int32_t if_negative = INT32_MAX - if_positive;
    if (a == 0) {
        return (int32_t)1 << 30;
    }
    return positive ? if_positive : if_negative;
}

/* tanh(a) for a with `integer_bits` integer bits (< 31); result in Q0. */
static inline int32_t mye_tanh_fixed(int32_t a, int integer_bits)
{
    const int negative = a < 0;
    const int32_t neg_abs = negative ? a : -a;
    /* exp(2 * neg_abs): doubling is exact by reading the value with one more integer bit. */
    const int32_t t =
        mye_one_minus_x_over_one_plus_x_for_x_in_0_1(mye_exp_on_negative_values(neg_abs, integer_bits + 1));
    if (a == 0) {
        return 0;
    }
    return negative ? -t : t;
}

#endif /* MYE_FIXEDPOINT_H */
