/*
 * elementwise.c - int8 ADD, SUB, MUL, DIV with broadcasting, and table lookup.
 *
 * Arithmetic per element is TFLM's reference (integer_ops/add.h, sub.h,
 * integer_ops/mul.h, div.h); the element-to-element mapping of broadcasting
 * is NumPy's, expressed by per-axis strides the emitter computes. Each op has
 * one "row" function (a run of output elements with constant input steps);
 * the broadcast walker calls it once per innermost row.
 */
#include "mye_kernels.h"

typedef void (*mye_row_fn)(const void *params, const int8_t *in1, int32_t step1, const int8_t *in2,
                           int32_t step2, int8_t *out, int32_t count);

/* Walk the output in row-major order, one innermost row per call of `row`. */
static void broadcast_rows(const mye_broadcast_t *b, const void *params, const int8_t *in1,
                           const int8_t *in2, int8_t *out, mye_row_fn row)
{
    const int32_t last = MYE_MAX_DIMS - 1;
    int32_t i0, i1, i2, i3, i4;
    if (!b->broadcast) {
        row(params, in1, 1, in2, 1, out, b->flat_size);
        return;
    }
    for (i0 = 0; i0 < b->out_shape[0]; ++i0) {
        for (i1 = 0; i1 < b->out_shape[1]; ++i1) {
            for (i2 = 0; i2 < b->out_shape[2]; ++i2) {
                for (i3 = 0; i3 < b->out_shape[3]; ++i3) {
                    for (i4 = 0; i4 < b->out_shape[4]; ++i4) {
                        const int32_t off1 = i0 * b->in1_strides[0] + i1 * b->in1_strides[1] +
                                             i2 * b->in1_strides[2] + i3 * b->in1_strides[3] +
                                             i4 * b->in1_strides[4];
                        const int32_t off2 = i0 * b->in2_strides[0] + i1 * b->in2_strides[1] +
                                             i2 * b->in2_strides[2] + i3 * b->in2_strides[3] +
                                             i4 * b->in2_strides[4];
                        row(params, in1 + off1, b->in1_strides[last], in2 + off2,
                            b->in2_strides[last], out, b->out_shape[last]);
                        out += b->out_shape[last];
                    }
                }
            }
        }
    }
}

/* ---- ADD / SUB ---------------------------------------------------------------- */

/* One input moved onto the common high-resolution scale. */
static inline int32_t add_scale_input(int32_t value, int32_t offset, int32_t left_shift,
                                      int32_t multiplier, int32_t shift)
{
    const int32_t shifted = mye_shl_wrap(value + offset, left_shift);
    return mye_mul_by_quantized_multiplier_smaller_than_one(shifted, multiplier, shift);
}

static inline int8_t add_finish(const mye_add_params_t *p, int32_t raw)
{
    int32_t out = mye_mul_by_quantized_multiplier_smaller_than_one(raw, p->output_multiplier,
                                                                   p->output_shift) +
                  p->output_offset;
    out = mye_clamp_s32(out, p->activation_min, p->activation_max);
    return (int8_t)out;
}

static void add_row(const void *params, const int8_t *in1, int32_t step1, const int8_t *in2,
                    int32_t step2, int8_t *out, int32_t count)
{
    const mye_add_params_t *p = (const mye_add_params_t *)params;
    int32_t i;
    for (i = 0; i < count; ++i) {
        const int32_t a = add_scale_input(in1[i * step1], p->input1_offset, p->left_shift,
                                          p->input1_multiplier, p->input1_shift);
        const int32_t b = add_scale_input(in2[i * step2], p->input2_offset, p->left_shift,
                                          p->input2_multiplier, p->input2_shift);
        out[i] = add_finish(p, a + b);
    }
}

static void sub_row(const void *params, const int8_t *in1, int32_t step1, const int8_t *in2,
                    int32_t step2, int8_t *out, int32_t count)
{
    const mye_add_params_t *p = (const mye_add_params_t *)params;
    int32_t i;
    for (i = 0; i < count; ++i) {
        const int32_t a = add_scale_input(in1[i * step1], p->input1_offset, p->left_shift,
                                          p->input1_multiplier, p->input1_shift);
        const int32_t b = add_scale_input(in2[i * step2], p->input2_offset, p->left_shift,
                                          p->input2_multiplier, p->input2_shift);
        out[i] = add_finish(p, a - b);
    }
}

void mye_add_s8(const mye_add_params_t *p, const int8_t *input1, const int8_t *input2,
                int8_t *output)
{
    broadcast_rows(&p->shape, p, input1, input2, output, add_row);
}

void mye_sub_s8(const mye_add_params_t *p, const int8_t *input1, const int8_t *input2,
                int8_t *output)
{
    broadcast_rows(&p->shape, p, input1, input2, output, sub_row);
}

/* ---- MUL ---------------------------------------------------------------------- */

static void mul_row(const void *params, const int8_t *in1, int32_t step1, const int8_t *in2,
                    int32_t step2, int8_t *out, int32_t count)
{
    const mye_mul_params_t *p = (const mye_mul_params_t *)params;
    int32_t i;
    for (i = 0; i < count; ++i) {
        const int32_t a = (int32_t)in1[i * step1] + p->input1_offset;
        const int32_t b = (int32_t)in2[i * step2] + p->input2_offset;
        int32_t result = mye_mul_by_quantized_multiplier(a * b, p->output_multiplier,
                                                         p->output_shift) +
                         p->output_offset;
        result = mye_clamp_s32(result, p->activation_min, p->activation_max);
        out[i] = (int8_t)result;
    }
}

void mye_mul_s8(const mye_mul_params_t *p, const int8_t *input1, const int8_t *input2,
                int8_t *output)
{
    broadcast_rows(&p->shape, p, input1, input2, output, mul_row);
}

/* ---- DIV ---------------------------------------------------------------------- */

/* Leading zero bits of a 32-bit value (32 for 0). */
static inline int count_leading_zeros(uint32_t x)
{
    int n = 0;
    if (x == 0u) {
        return 32;
    }
    while ((x & 0x80000000u) == 0u) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* Redundant sign bits of x (31 for 0 and -1), as GCC's __builtin_clrsb. */
static inline int count_leading_sign_bits(int32_t x)
{
    const uint32_t u = x < 0 ? ~(uint32_t)x : (uint32_t)x;
    return count_leading_zeros(u) - 1;
}

/*
 * 1 / x for x > 0 as a Q0 value and the number of bits x has above one
 * (x read with `integer_digits` integer bits), as TFLM's GetReciprocal.
 */
static inline int32_t reciprocal_q0(int32_t x, int integer_digits, int *bits_over_unit)
{
    const int headroom_plus_one = count_leading_zeros((uint32_t)x);
    const int32_t shifted_minus_one =
        (int32_t)(((uint32_t)x << headroom_plus_one) - ((uint32_t)1 << 31));
    *bits_over_unit = integer_digits - headroom_plus_one;
    return mye_one_over_one_plus_x_for_x_in_0_1(shifted_minus_one);
}

/*
 * TFLM's rounding divide by 2^exponent as its x86 host build evaluates it
 * when the DIV rescale asks for exponent > 31 (undefined in C++: the mask
 * (1 << exponent) - 1 truncates to all ones and the int32 shift count is
 * taken modulo 32). It only happens for dividends so small that the exact
 * quotient is below one output step; the TFLM Python interpreter is the
 * reference, so the kernel reproduces its result rather than the exact one.
 */
static inline int32_t rounding_divide_by_pot_wide(int32_t x, int exponent)
{
    if (exponent < 0) {
        return x;
    }
    if (exponent > 31) {
        const int32_t threshold = -1 + (x < 0 ? 1 : 0);
        return (x >> (exponent & 31)) + (x > threshold ? 1 : 0);
    }
    return mye_rounding_divide_by_pot(x, exponent);
}

static void div_row(const void *params, const int8_t *in1, int32_t step1, const int8_t *in2,
                    int32_t step2, int8_t *out, int32_t count)
{
    const mye_mul_params_t *p = (const mye_mul_params_t *)params;
    int32_t i;
    for (i = 0; i < count; ++i) {
        int32_t a = (int32_t)in1[i * step1] + p->input1_offset;
        int32_t b = (int32_t)in2[i * step2] + p->input2_offset;
        int32_t result;
        if (b == 0) {
            result = a >= 0 ? p->activation_max : p->activation_min;
        } else {
            int recip_shift;
            int32_t inverse;
            int headroom;
            int32_t unscaled;
            int total_shift;
            if (b < 0) {
                a = -a;
                b = -b;
            }
            inverse = reciprocal_q0(b, 31, &recip_shift);
            headroom = count_leading_sign_bits(a);
            unscaled = mye_mul_by_quantized_multiplier_greater_than_one(a, inverse, headroom);
            total_shift = p->output_shift - recip_shift - headroom;
            result = rounding_divide_by_pot_wide(
                         mye_sat_rounding_doubling_high_mul(unscaled, p->output_multiplier),
                         -total_shift) +
                     p->output_offset;
            result = mye_clamp_s32(result, p->activation_min, p->activation_max);
        }
        out[i] = (int8_t)result;
    }
}

void mye_div_s8(const mye_mul_params_t *p, const int8_t *input1, const int8_t *input2,
                int8_t *output)
{
    broadcast_rows(&p->shape, p, input1, input2, output, div_row);
}

/* ---- table lookup ------------------------------------------------------------- */

void mye_lut_s8(const int8_t *table, const int8_t *input, int8_t *output, int32_t size)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        output[i] = table[(int32_t)input[i] + 128];
    }
}
