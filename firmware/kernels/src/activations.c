/*
 * activations.c - int8 LOGISTIC, TANH, HARD_SWISH, RSQRT and SOFTMAX.
 *
 * Each follows TFLM's int8 reference kernel: LOGISTIC and TANH rescale the
 * input to Q4 and evaluate gemmlowp's fixed-point logistic / tanh;
 * HARD_SWISH works in 16-bit fixed point; RSQRT uses a Newton-Raphson
 * inverse square root; SOFTMAX sums fixed-point exponentials in Q12 and
 * multiplies by a fixed-point reciprocal. The fixed-point helpers live in
 * mye_fixedpoint.h.
 *
 * Paths:
 *  - SOFTMAX with the emitter's exp table (the default): one table load per
 *    element for the sum and one for the output, the reciprocal rescale
 *    folded into one 64-bit multiply-add and a shift (exact for the
 *    non-negative values involved). The DSP path finds each row's maximum
 *    four int8 lanes at a time (SSUB8 + SEL, mye_lanes_max_s8); the portable
 *    path compares element by element. Same results.
 *  - LOGISTIC, TANH, HARD_SWISH, RSQRT: portable C only. Each element goes
 *    through a data-dependent fixed-point evaluation (exp / reciprocal
 *    polynomials, Newton steps) with 64-bit products and saturating shifts;
 *    SIMD lanes cannot carry it. In the attention models these ops are
 *    fused into 256-entry tables ahead of time (fuse_lut.py) and never run.
 */
#include <string.h>

#include "mye_kernels.h"
#include "mye_dsp.h"

/* ---- LOGISTIC / TANH ---------------------------------------------------------- */

void mye_logistic_s8(const mye_sigmoid_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)input[i] - p->input_zero_point;
        if (x <= -p->input_range_radius) {
            output[i] = MYE_INT8_MIN;
        } else if (x >= p->input_range_radius) {
            output[i] = MYE_INT8_MAX;
        } else {
            const int32_t x_q4 =
                mye_mul_by_quantized_multiplier(x, p->input_multiplier, p->input_left_shift);
            const int32_t y_q0 = mye_logistic_fixed(x_q4, 4);
            /* Q0.31 -> 1/256 steps, then the output zero point -128. */
            const int32_t y = mye_rounding_divide_by_pot(y_q0, 31 - 8) - 128;
            output[i] = mye_sat_s8(y);
        }
    }
}

void mye_tanh_s8(const mye_sigmoid_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)input[i] - p->input_zero_point;
        if (x <= -p->input_range_radius) {
            output[i] = MYE_INT8_MIN;
        } else if (x >= p->input_range_radius) {
            output[i] = MYE_INT8_MAX;
        } else {
            const int32_t x_q4 =
                mye_mul_by_quantized_multiplier(x, p->input_multiplier, p->input_left_shift);
            const int32_t y_q0 = mye_tanh_fixed(x_q4, 4);
            /* Q0.31 -> 1/128 steps, output zero point 0. */
            output[i] = mye_sat_s8(mye_rounding_divide_by_pot(y_q0, 31 - 7));
        }
    }
}

/* ---- HARD_SWISH ----------------------------------------------------------------- */

/* 16-bit saturating rounding doubling high multiply (gemmlowp's int16 form). */
static inline int32_t srdhm_s16(int32_t a, int32_t b)
{
    const int32_t product = a * b;
    const int32_t nudge = product >= 0 ? (1 << 14) : (1 - (1 << 14));
    if (a == MYE_INT16_MIN && b == MYE_INT16_MIN) {
        return MYE_INT16_MAX;
    }
    return (int32_t)(int16_t)((product + nudge) / (1 << 15));
}

/* 16-bit doubling high multiply without rounding (truncates toward zero). */
static inline int32_t dhm_s16(int32_t a, int32_t b)
{
    if (a == MYE_INT16_MIN && b == MYE_INT16_MIN) {
        return MYE_INT16_MAX;
    }
    return (int32_t)(int16_t)((a * b) / (1 << 15));
}

/* value * 2^amount saturated to int16. */
static inline int32_t shl_sat_s16(int32_t value, int amount)
{
    return mye_sat_s16(mye_shl_sat(value, amount));
}

void mye_hard_swish_s8(const mye_hard_swish_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)(int16_t)((int32_t)input[i] - p->input_zero_point);
        const int32_t x_hires = (int32_t)(int16_t)(x * (1 << 7));
        const int32_t x_preshift_output = srdhm_s16(x_hires, p->output_multiplier);
        int32_t reluish = x_hires;
        int32_t y;
        if (p->reluish_exponent > 0) {
            reluish = shl_sat_s16(reluish, p->reluish_exponent - 1);
        }
        reluish = srdhm_s16(reluish, p->reluish_multiplier);
        if (p->reluish_exponent > 0) {
            reluish = shl_sat_s16(reluish, 1);
        }
        if (p->reluish_exponent < 0) {
            reluish = mye_rounding_divide_by_pot(reluish, -p->reluish_exponent);
        }
        /* Map [-1, 1) in Q0.15 onto [0, 1) in Q0.15. */
        reluish = (int32_t)(int16_t)((reluish + (1 << 15)) >> 1);
        y = dhm_s16(reluish, x_preshift_output);
        y = mye_rounding_divide_by_pot(y, -p->output_exponent);
        y = (int32_t)(int16_t)(y + p->output_zero_point);
        output[i] = mye_sat_s8(y);
    }
}

/* ---- RSQRT ---------------------------------------------------------------------- */

/*
 * 1 / sqrt(x) for x >= 2 as a Q0.31 multiplier and a left shift (TFLM's
 * GetInvSqrtQuantizedMultiplierExp with reverse_shift = -1).
 */
static void inv_sqrt_multiplier(int32_t x, int32_t *multiplier, int *shift)
{
    int right_shift = 11;
    int max_left_shift_bits;
    int left_shift_bit_pairs;
    int32_t input_q3;
    int32_t half_input;
    int32_t estimate = (int32_t)1 << 28; /* 1.0 in Q3 */
    const int32_t half_three = ((int32_t)1 << 28) + ((int32_t)1 << 27);
    int iteration;
    if (x <= 1) {
        *multiplier = INT32_MAX;
        *shift = 0;
        return;
    }
    while (x >= ((int32_t)1 << 29)) {
        x /= 4;
        ++right_shift;
    }
    {
        uint32_t u = (uint32_t)x;
        int zeros = 0;
        while ((u & 0x80000000u) == 0u) {
            u <<= 1;
            ++zeros;
        }
        max_left_shift_bits = zeros - 1;
    }
    left_shift_bit_pairs = max_left_shift_bits / 2 - 1;
    right_shift -= left_shift_bit_pairs;
    x = mye_shl_wrap(x, 2 * left_shift_bit_pairs);
    input_q3 = x >> 1;
    half_input = mye_rounding_divide_by_pot(input_q3, 1);
    for (iteration = 0; iteration < 5; ++iteration) {
        /* x^3: Q3 * Q3 * Q3 = Q9, back to Q3. */
        const int32_t cube = mye_shl_sat(
            mye_sat_rounding_doubling_high_mul(mye_sat_rounding_doubling_high_mul(estimate, estimate),
                                               estimate),
            6);
        /* 1.5 x - x^3 / 2 * input: Q6, back to Q3. */
        const int32_t difference = mye_sat_rounding_doubling_high_mul(half_three, estimate) -
                                   mye_sat_rounding_doubling_high_mul(half_input, cube);
        estimate = mye_shl_sat(difference, 3);
    }
    /* Times sqrt(2) / 2 in Q0. */
    estimate = mye_sat_rounding_doubling_high_mul(estimate, 1518500250);
    if (right_shift < 0) {
        estimate = mye_shl_wrap(estimate, -right_shift);
        right_shift = 0;
    }
    *multiplier = estimate;
    *shift = -right_shift;
}

void mye_rsqrt_s8(const mye_rsqrt_params_t *p, const int8_t *input, int8_t *output)
{
    const int keep_integer_shift = 20;
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)input[i] - p->input_zero_point;
        if (x <= 0) {
            /* 0 reads as the largest output (TFLM); negatives are invalid there. */
            output[i] = MYE_INT8_MAX;
        } else {
            int32_t inv_multiplier;
            int inv_shift;
            int32_t value;
            int32_t y;
            inv_sqrt_multiplier(x, &inv_multiplier, &inv_shift);
            value = mye_mul_by_quantized_multiplier(1, inv_multiplier, inv_shift + keep_integer_shift);
            y = mye_mul_by_quantized_multiplier(value, p->multiplier, p->shift - keep_integer_shift) +
                p->output_zero_point;
            output[i] = mye_sat_s8(y);
        }
    }
}

/* ---- SOFTMAX -------------------------------------------------------------------- */

/* exp(diff * beta * scale) in Q0 for a difference diff <= 0 (0 below diff_min). */
static inline int32_t softmax_exp(const mye_softmax_params_t *p, int32_t diff)
{
    if (p->exp_table != 0) {
        return p->exp_table[-diff];
    }
    if (diff < p->diff_min) {
        return 0;
    }
    return mye_exp_on_negative_values(
        mye_mul_by_quantized_multiplier_greater_than_one(diff, p->input_multiplier,
                                                         p->input_left_shift),
        5);
}

/* Largest of n int8 values (at least MYE_INT8_MIN). The DSP path compares
 * four lanes per SSUB8 + SEL and reduces the lanes at the end. */
static int32_t max_s8(const int8_t *x, int32_t n)
{
    int32_t best = MYE_INT8_MIN;
    int32_t i = 0;
#if defined(MYE_USE_DSP)
    if (n >= 8) {
        uint32_t lanes = 0x80808080u;
        uint32_t word;
        for (; i + 4 <= n; i += 4) {
            memcpy(&word, x + i, 4);
            lanes = mye_lanes_max_s8(lanes, word);
        }
        lanes = mye_lanes_max_s8(lanes, lanes >> 16);
        lanes = mye_lanes_max_s8(lanes, lanes >> 8);
        best = (int8_t)(lanes & 0xFFu);
    }
#endif
    for (; i < n; ++i) {
        best = x[i] > best ? x[i] : best;
    }
    return best;
}

/*
 * The table path: exp(-d) comes from p->exp_table (0 below diff_min), so
 * every value summed or scaled is >= 0 and the rounding shifts reduce to an
 * add and a shift (exact for non-negative values), and the reciprocal is
 * positive, so its high multiply never saturates.
 */
static void softmax_table_rows(const mye_softmax_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t *table = p->exp_table;
    const int32_t depth = p->depth;
    int32_t row;
    for (row = 0; row < p->outer_size; ++row) {
        const int8_t *in = input + row * depth;
        int8_t *out = output + row * depth;
        const int32_t *exp_of;
        int32_t max_in_row = MYE_INT8_MIN;
        uint32_t sum_of_exps_q12 = 0;
        int32_t headroom_plus_one;
        int32_t reciprocal;
        int32_t exponent;
        int32_t c;
        max_in_row = max_s8(in, depth);
        /* exp_of[v] = exp(v - max) for an input value v: one load per element. */
        exp_of = table + max_in_row;
        for (c = 0; c < depth; ++c) {
            sum_of_exps_q12 += ((uint32_t)exp_of[-(int32_t)in[c]] + (1u << 11)) >> 12;
        }
        /* Leading zeros of the sum (CLZ); the sum holds exp(0) of the maximum, so it is > 0. */
        headroom_plus_one = sum_of_exps_q12 == 0u ? 32 : __builtin_clz(sum_of_exps_q12);
        reciprocal = mye_one_over_one_plus_x_for_x_in_0_1(
            (int32_t)((sum_of_exps_q12 << headroom_plus_one) - ((uint32_t)1 << 31)));
        exponent = 12 - headroom_plus_one + 31 - 8;
        if (exponent < 1 || exponent > 31 || reciprocal < 0) {
            /* Outside the fast form's range (never for depth < 2^18): exact general form. */
            for (c = 0; c < depth; ++c) {
                const int32_t scaled = mye_rounding_divide_by_pot(
                    mye_sat_rounding_doubling_high_mul(reciprocal, exp_of[-(int32_t)in[c]]), exponent);
                out[c] = mye_sat_s8(scaled - 128);
            }
            continue;
        }
        {
            /* floor((floor((p + 2^30) / 2^31) + 2^(e-1)) / 2^e) = floor((p + 2^30 + 2^(30+e)) / 2^(31+e)):
             * one multiply-accumulate into a 64-bit constant and the high word shifted by e - 1. */
            const int64_t rounding = ((int64_t)1 << 30) + ((int64_t)1 << (30 + exponent));
            const int32_t high_shift = exponent - 1;
            for (c = 0; c < depth; ++c) {
                const int64_t total = rounding + (int64_t)reciprocal * (int64_t)exp_of[-(int32_t)in[c]];
                const int32_t scaled = (int32_t)((uint32_t)(total >> 32) >> high_shift);
                out[c] = (int8_t)mye_ssat8(scaled - 128);
            }
        }
    }
}

void mye_softmax_s8(const mye_softmax_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t row;
    if (p->exp_table != 0) {
        softmax_table_rows(p, input, output);
        return;
    }
    for (row = 0; row < p->outer_size; ++row) {
        const int8_t *in = input + row * p->depth;
        int8_t *out = output + row * p->depth;
        int32_t max_in_row = MYE_INT8_MIN;
        int32_t sum_of_exps_q12 = 0;
        int32_t reciprocal;
        int32_t headroom_plus_one;
        int32_t bits_over_unit;
        int32_t exponent;
        int32_t c;
        for (c = 0; c < p->depth; ++c) {
            max_in_row = mye_max_s32(max_in_row, in[c]);
        }
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)in[c] - max_in_row;
            if (diff >= p->diff_min) {
                sum_of_exps_q12 += mye_rounding_divide_by_pot(softmax_exp(p, diff), 12);
            }
        }
        /* Reciprocal of the sum (Q12) as a Q0 fraction and a power of two. */
        {
            uint32_t u = (uint32_t)sum_of_exps_q12;
            headroom_plus_one = 0;
            if (u == 0u) {
                headroom_plus_one = 32;
            } else {
                while ((u & 0x80000000u) == 0u) {
                    u <<= 1;
                    ++headroom_plus_one;
                }
            }
        }
        bits_over_unit = 12 - headroom_plus_one;
        reciprocal = mye_one_over_one_plus_x_for_x_in_0_1((int32_t)(
            ((uint32_t)sum_of_exps_q12 << headroom_plus_one) - ((uint32_t)1 << 31)));
        exponent = bits_over_unit + 31 - 8;
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)in[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t exp_q0 = softmax_exp(p, diff);
                const int32_t scaled = mye_rounding_divide_by_pot(
                    mye_sat_rounding_doubling_high_mul(reciprocal, exp_q0), exponent);
                out[c] = mye_sat_s8(scaled - 128);
            } else {
                out[c] = MYE_INT8_MIN;
            }
        }
    }
}
