/*
 * elementwise.c - int8 ADD, SUB, MUL, DIV with broadcasting, and table lookup.
 *
 * Arithmetic per element is TFLM's reference (integer_ops/add.h, sub.h,
 * integer_ops/mul.h, div.h); the element-to-element mapping of broadcasting
 * is NumPy's, expressed by per-axis strides the emitter computes. Each op has
 * one "row" function (a run of output elements with constant input steps);
 * the broadcast walker calls it once per innermost row.
 *
 * Speed without changing a bit:
 *  - ADD / SUB: each input's rescale is looked up in a per-call table of its
 *    256 possible values; MUL multiplies the offset inputs. The output
 *    rescale of these small values (< 2^30) is one rounded high multiply
 *    (mye_smmulr) plus an add-and-shift rounding (small_rescale_apply).
 *  - A row of >= 256 elements whose other operand is fixed along it (a
 *    broadcast mean or 1/sigma, a scalar) becomes a 256-entry output table
 *    built with the same arithmetic, then one byte lookup per element.
 *
 * Paths: on a DSP core (and with MYE_EMULATE_DSP) the high multiply is one
 * SMMULR, the int8 saturation one SSAT, and the table lookup reads and
 * writes four elements per word; the portable path computes the same values
 * in plain C (64-bit product, compares). The per-element work is a
 * requantisation with a 64-bit product and a data-dependent rounding, so
 * ADD, SUB, MUL and DIV gain nothing from the 8/16-bit SIMD lanes. DIV
 * (Newton reciprocal per element) is portable C only.
 */
#include <string.h>

#include "mye_kernels.h"
#include "mye_dsp.h"

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

/*
 * Rows at least this long whose second operand stays put (a broadcast
 * per-row value or a scalar) are mapped through a 256-entry table built for
 * the row: 256 evaluations of the exact per-element arithmetic, then one
 * byte lookup per element.
 */
#define MYE_ROW_TABLE_MIN 256

/* out[i] = table[in[i * step] + 128]. */
static void map_row(const int8_t *table, const int8_t *in, int32_t step, int8_t *out, int32_t count)
{
    const int8_t *centre = table + 128;
    int32_t i;
    for (i = 0; i < count; ++i) {
        out[i] = centre[in[i * step]];
    }
}

/* ---- rescaling values known to be small ------------------------------------------ */

/*
 * TFLM's rescale (mye_mul_by_quantized_multiplier with a right shift r >= 1
 * and no left shift) of a value |x| < 2^30, from 2x: the rounding doubling
 * high multiply is one SMMULR of 2x (mye_smmulr), and rounding half away
 * from zero by 2^r is (h + 2^(r-1) - (h < 0)) >> r, which cannot overflow as
 * |h| <= |x| < 2^30. Every value these kernels rescale is that small: ADD /
 * SUB inputs are (x + offset) << 20 < 2^28 and their sums < 2^29, MUL
 * products are at most 255 * 255.
 */
typedef struct {
    int32_t multiplier;
    int32_t right_shift;  /* >= 1 */
    int32_t half;         /* 2^(right_shift - 1) */
} small_rescale_t;

/* Whether (multiplier, TFLM shift) can use small_rescale_t (right shift 1..31, no left shift). */
static inline int small_rescale_ok(int32_t multiplier, int32_t shift)
{
    return multiplier != INT32_MIN && shift <= -1 && shift >= -31;
}

static inline small_rescale_t small_rescale(int32_t multiplier, int32_t shift)
{
    small_rescale_t r;
    r.multiplier = multiplier;
    r.right_shift = -shift;
    r.half = (int32_t)(1u << (-shift - 1));
    return r;
}

/* The rescale of x from twice_x = 2x (|x| < 2^30). */
static inline int32_t small_rescale_apply(int32_t twice_x, int32_t multiplier, int32_t right_shift, int32_t half)
{
    const int32_t high = mye_smmulr(twice_x, multiplier);
    return (high + half + (high >> 31)) >> right_shift;
}

/* Saturate to the fused activation range; the full int8 range is one SSAT on a DSP core. */
static inline int8_t clamp_output(int32_t y, int32_t full_range, int32_t act_min, int32_t act_max)
{
    return (int8_t)(full_range ? mye_ssat8(y) : mye_clamp_s32(y, act_min, act_max));
}

/* ---- ADD / SUB ---------------------------------------------------------------- */

/* Exact TFLM arithmetic with the general helpers (rescales outside small_rescale_t's range). */
static int8_t add_reference(const mye_add_params_t *p, int32_t x1, int32_t x2, int32_t sign)
{
    const int32_t a = mye_requantize_fast((int32_t)((uint32_t)(x1 + p->input1_offset) << p->left_shift),
                                          p->input1_multiplier, p->input1_shift);
    const int32_t b = mye_requantize_fast((int32_t)((uint32_t)(x2 + p->input2_offset) << p->left_shift),
                                          p->input2_multiplier, p->input2_shift);
    const int32_t out = mye_requantize_fast(a + sign * b, p->output_multiplier, p->output_shift) +
                        p->output_offset;
    return (int8_t)mye_clamp_s32(out, p->activation_min, p->activation_max);
}

/* What every row of one ADD / SUB call shares. */
typedef struct {
    const mye_add_params_t *p;
    int32_t sign;            /* +1 ADD, -1 SUB */
    int32_t fast;            /* 0: some rescale is outside small_rescale_t's range: add_reference */
    int32_t full_range;      /* activation range is all of int8 */
    small_rescale_t out;
    /* Twice each input's rescaled value, for every int8 input: index x + 128. */
    int32_t twice1[256];
    int32_t twice2[256];
} add_context_t;

/*
 * out = in1 + sign * in2 on the common scale: two table loads, one small
 * rescale. A long row whose second (or first) operand stays put goes
 * through a 256-entry output table built for the row.
 */
static void add_sub_row(const void *context, const int8_t *in1, int32_t step1, const int8_t *in2,
                        int32_t step2, int8_t *out, int32_t count)
{
    const add_context_t *c = (const add_context_t *)context;
    const int32_t *t1 = c->twice1 + 128;
    const int32_t *t2 = c->twice2 + 128;
    const int32_t sign = c->sign;
    const int32_t m = c->out.multiplier;
    const int32_t r = c->out.right_shift;
    const int32_t half = c->out.half;
    const int32_t zp = c->p->output_offset;
    const int32_t act_min = c->p->activation_min;
    const int32_t act_max = c->p->activation_max;
    const int32_t full = c->full_range;
    int32_t i;
    if (!c->fast) {
        for (i = 0; i < count; ++i) {
            out[i] = add_reference(c->p, in1[i * step1], in2[i * step2], sign);
        }
        return;
    }
    if (step2 == 0 || step1 == 0) {
        /* One operand fixed along the row: out is a function of the other. */
        const int32_t fixed = step2 == 0 ? sign * t2[in2[0]] : t1[in1[0]];
        const int32_t *moving = step2 == 0 ? t1 : t2;
        const int32_t moving_sign = step2 == 0 ? 1 : sign;
        const int8_t *in = step2 == 0 ? in1 : in2;
        const int32_t step = step2 == 0 ? step1 : step2;
        if (count >= MYE_ROW_TABLE_MIN) {
            int8_t table[256];
            for (i = -128; i < 128; ++i) {
                const int32_t y = small_rescale_apply(moving_sign * moving[i] + fixed, m, r, half) + zp;
                table[i + 128] = clamp_output(y, full, act_min, act_max);
            }
            map_row(table, in, step, out, count);
            return;
        }
        if (moving_sign > 0) {
            for (i = 0; i < count; ++i) {
                const int32_t y = small_rescale_apply(moving[in[i * step]] + fixed, m, r, half) + zp;
                out[i] = clamp_output(y, full, act_min, act_max);
            }
        } else {
            for (i = 0; i < count; ++i) {
                const int32_t y = small_rescale_apply(fixed - moving[in[i * step]], m, r, half) + zp;
                out[i] = clamp_output(y, full, act_min, act_max);
            }
        }
        return;
    }
    for (i = 0; i < count; ++i) {
        const int32_t y = small_rescale_apply(t1[in1[i * step1]] + sign * t2[in2[i * step2]], m, r, half) + zp;
        out[i] = clamp_output(y, full, act_min, act_max);
    }
}

static void add_sub(const mye_add_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output,
                    int32_t sign)
{
    add_context_t c;
    c.p = p;
    c.sign = sign;
    c.full_range = p->activation_min <= MYE_INT8_MIN && p->activation_max >= MYE_INT8_MAX;
    /* The inputs' own rescales have shifts <= 0 (multipliers <= 1/2) and values
     * (x + offset) << 20 < 2^28, so their sums stay below 2^29. */
    c.fast = small_rescale_ok(p->output_multiplier, p->output_shift) && p->left_shift >= 0 &&
             p->left_shift <= 20 && p->input1_shift <= 0 && p->input2_shift <= 0;
    if (c.fast) {
        /* The 2 x 256 exact input rescales cost about what 50 elements would. */
        const mye_rescale_t r1 = mye_rescale_make(p->input1_multiplier, p->left_shift, -p->input1_shift);
        const mye_rescale_t r2 = mye_rescale_make(p->input2_multiplier, p->left_shift, -p->input2_shift);
        int32_t v;
        c.out = small_rescale(p->output_multiplier, p->output_shift);
        for (v = -128; v < 128; ++v) {
            const int32_t a = p->input1_multiplier == INT32_MIN
                                  ? mye_requantize_fast((v + p->input1_offset) * (1 << p->left_shift),
                                                        p->input1_multiplier, p->input1_shift)
                                  : mye_rescale_apply(r1, v + p->input1_offset);
            const int32_t b = p->input2_multiplier == INT32_MIN
                                  ? mye_requantize_fast((v + p->input2_offset) * (1 << p->left_shift),
                                                        p->input2_multiplier, p->input2_shift)
                                  : mye_rescale_apply(r2, v + p->input2_offset);
            c.twice1[v + 128] = 2 * a;
            c.twice2[v + 128] = 2 * b;
        }
    }
    broadcast_rows(&p->shape, &c, input1, input2, output, add_sub_row);
}

void mye_add_s8(const mye_add_params_t *p, const int8_t *input1, const int8_t *input2,
                int8_t *output)
{
    add_sub(p, input1, input2, output, 1);
}

void mye_sub_s8(const mye_add_params_t *p, const int8_t *input1, const int8_t *input2,
                int8_t *output)
{
    add_sub(p, input1, input2, output, -1);
}

/* ---- MUL ---------------------------------------------------------------------- */

static void mul_row(const void *params, const int8_t *in1, int32_t step1, const int8_t *in2,
                    int32_t step2, int8_t *out, int32_t count)
{
    const mye_mul_params_t *p = (const mye_mul_params_t *)params;
    const int32_t offset1 = p->input1_offset;
    const int32_t offset2 = p->input2_offset;
    const int32_t zp = p->output_offset;
    const int32_t act_min = p->activation_min;
    const int32_t act_max = p->activation_max;
    const int32_t full = act_min <= MYE_INT8_MIN && act_max >= MYE_INT8_MAX;
    int32_t i;
    if (!small_rescale_ok(p->output_multiplier, p->output_shift)) {
        for (i = 0; i < count; ++i) {
            const int32_t product = ((int32_t)in1[i * step1] + offset1) * ((int32_t)in2[i * step2] + offset2);
            const int32_t y = mye_requantize_fast(product, p->output_multiplier, p->output_shift) + zp;
            out[i] = (int8_t)mye_clamp_s32(y, act_min, act_max);
        }
        return;
    }
    {
        const small_rescale_t rs = small_rescale(p->output_multiplier, p->output_shift);
        const int32_t m = rs.multiplier;
        const int32_t r = rs.right_shift;
        const int32_t half = rs.half;
        if (step2 == 0) {
            /* A row scaled by one value (a broadcast 1/sigma, a scalar constant). */
            const int32_t twice_b = 2 * ((int32_t)in2[0] + offset2);
            if (count >= MYE_ROW_TABLE_MIN) {
                int8_t table[256];
                for (i = -128; i < 128; ++i) {
                    const int32_t y = small_rescale_apply((i + offset1) * twice_b, m, r, half) + zp;
                    table[i + 128] = clamp_output(y, full, act_min, act_max);
                }
                map_row(table, in1, step1, out, count);
                return;
            }
            for (i = 0; i < count; ++i) {
                const int32_t y = small_rescale_apply(((int32_t)in1[i * step1] + offset1) * twice_b, m, r, half) + zp;
                out[i] = clamp_output(y, full, act_min, act_max);
            }
            return;
        }
        for (i = 0; i < count; ++i) {
            const int32_t a = (int32_t)in1[i * step1] + offset1;
            const int32_t twice_b = 2 * ((int32_t)in2[i * step2] + offset2);
            const int32_t y = small_rescale_apply(a * twice_b, m, r, half) + zp;
            out[i] = clamp_output(y, full, act_min, act_max);
        }
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
    const int8_t *centre = table + 128;
    int32_t i = 0;
#if defined(MYE_USE_DSP)
    /* Four elements per word: one load and one store instead of four each
     * (the output may be the input: each word is read before it is written). */
    for (; i + 4 <= size; i += 4) {
        uint32_t word;
        uint32_t result;
        memcpy(&word, input + i, 4);
        result = (uint32_t)(uint8_t)centre[(int8_t)(word & 0xFFu)];
        result |= (uint32_t)(uint8_t)centre[(int8_t)((word >> 8) & 0xFFu)] << 8;
        result |= (uint32_t)(uint8_t)centre[(int8_t)((word >> 16) & 0xFFu)] << 16;
        result |= (uint32_t)(uint8_t)centre[(int8_t)(word >> 24)] << 24;
        memcpy(output + i, &result, 4);
    }
#endif
    for (; i < size; ++i) {
        output[i] = centre[input[i]];
    }
}
