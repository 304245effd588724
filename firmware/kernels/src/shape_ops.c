/*
 * shape_ops.c - REVERSE_V2, CONCATENATION and PRELU for int8 tensors.
 *
 * REVERSE_V2 and CONCATENATION move bytes only: TFLM copies the raw int8
 * values without requantising (REVERSE_V2 even when the output tensor carries
 * another scale; CONCATENATION refuses differing scales in its Prepare), so
 * these kernels copy bytes too. PRELU rescales each element with one of two
 * multipliers, chosen by the sign of the centred input, as TFLM's reference
 * kernel does.
 */
#include "mye_kernels.h"

/* Reverse one axis: rows of `inner` bytes, `axis_size` rows per block. */
void mye_reverse_s8(const mye_reverse_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t o;
    int32_t r;
    int32_t i;
    const int32_t block = p->axis_size * p->inner;
    if (p->outer < 0 || p->axis_size < 0 || p->inner < 0) {
        return;
    }
    for (o = 0; o < p->outer; ++o) {
        const int8_t *in_block = input + o * block;
        int8_t *out_block = output + o * block;
        if (input == output) {
            /* In place: swap row r with its mirror row; the middle row stays. */
            for (r = 0; r < p->axis_size / 2; ++r) {
                int8_t *a = out_block + r * p->inner;
                int8_t *b = out_block + (p->axis_size - 1 - r) * p->inner;
                for (i = 0; i < p->inner; ++i) {
                    const int8_t t = a[i];
                    a[i] = b[i];
                    b[i] = t;
                }
            }
        } else {
            for (r = 0; r < p->axis_size; ++r) {
                const int8_t *src = in_block + (p->axis_size - 1 - r) * p->inner;
                int8_t *dst = out_block + r * p->inner;
                for (i = 0; i < p->inner; ++i) {
                    dst[i] = src[i];
                }
            }
        }
    }
}

/*
 * Concatenate along one axis: for each of `outer` blocks, input k contributes
 * `copy_bytes[k]` consecutive bytes (its axis length times the inner size).
 */
void mye_concatenation_s8(const mye_concatenation_params_t *p, const int8_t *const *inputs, int8_t *output)
{
    int32_t o;
    int32_t k;
    int32_t i;
    int32_t out_pos = 0;
    if (p->n_inputs < 1 || p->n_inputs > MYE_CONCAT_MAX_INPUTS || p->outer < 0) {
        return;
    }
    for (o = 0; o < p->outer; ++o) {
        for (k = 0; k < p->n_inputs; ++k) {
            const int32_t bytes = p->copy_bytes[k];
            const int8_t *src = inputs[k] + o * bytes;
            for (i = 0; i < bytes; ++i) {
                output[out_pos + i] = src[i];
            }
            out_pos += bytes;
        }
    }
}

/* One PRELU element: centred input x, centred slope a. */
static int8_t mye_prelu_element(const mye_prelu_params_t *p, int32_t x, int32_t a)
{
    int32_t y;
    if (x >= 0) {
        y = mye_mul_by_quantized_multiplier(x, p->positive_multiplier, (int)p->positive_shift);
    } else {
        y = mye_mul_by_quantized_multiplier(x * a, p->negative_multiplier, (int)p->negative_shift);
    }
    return mye_sat_s8(y + p->output_offset);
}

void mye_prelu_s8(const mye_prelu_params_t *p, const int8_t *input, const int8_t *alpha, int8_t *output)
{
    const mye_broadcast_t *s = &p->shape;
    int32_t i0, i1, i2, i3, i4, i5;
    int32_t o = 0;
    if (!s->broadcast) {
        for (o = 0; o < s->flat_size; ++o) {
            output[o] = mye_prelu_element(p, (int32_t)input[o] + p->input_offset,
                                          (int32_t)alpha[o] + p->alpha_offset);
        }
        return;
    }
    for (i0 = 0; i0 < s->out_shape[0]; ++i0) {
        for (i1 = 0; i1 < s->out_shape[1]; ++i1) {
            for (i2 = 0; i2 < s->out_shape[2]; ++i2) {
                for (i3 = 0; i3 < s->out_shape[3]; ++i3) {
                    for (i4 = 0; i4 < s->out_shape[4]; ++i4) {
                        const int32_t base1 = i0 * s->in1_strides[0] + i1 * s->in1_strides[1] +
                                              i2 * s->in1_strides[2] + i3 * s->in1_strides[3] +
                                              i4 * s->in1_strides[4];
                        const int32_t base2 = i0 * s->in2_strides[0] + i1 * s->in2_strides[1] +
                                              i2 * s->in2_strides[2] + i3 * s->in2_strides[3] +
                                              i4 * s->in2_strides[4];
                        for (i5 = 0; i5 < s->out_shape[5]; ++i5) {
                            const int32_t x = (int32_t)input[base1 + i5 * s->in1_strides[5]] + p->input_offset;
                            const int32_t a = (int32_t)alpha[base2 + i5 * s->in2_strides[5]] + p->alpha_offset;
                            output[o++] = mye_prelu_element(p, x, a);
                        }
                    }
                }
            }
        }
    }
}
