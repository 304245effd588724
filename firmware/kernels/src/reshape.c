/*
 * reshape.c - data movement (copy, TRANSPOSE, STRIDED_SLICE) and the int8
 * QUANTIZE (requantise) and DEQUANTIZE kernels.
 *
 * Shapes arrive padded to MYE_MAX_DIMS with leading ones so that every
 * kernel walks six plain nested loops; indices are computed from strides.
 */
#include "mye_kernels.h"

void mye_copy_bytes(const int8_t *input, int8_t *output, int32_t bytes)
{
    int32_t i;
    if (input == output) {
        return;
    }
    for (i = 0; i < bytes; ++i) {
        output[i] = input[i];
    }
}

/* Left-pad a shape of `dims` entries to MYE_MAX_DIMS with ones. */
static void mye_pad_shape(int32_t dims, const int32_t *shape, int32_t *padded)
{
    const int32_t lead = MYE_MAX_DIMS - dims;
    int32_t d;
    for (d = 0; d < MYE_MAX_DIMS; ++d) {
        padded[d] = d < lead ? 1 : shape[d - lead];
    }
}

/* Row-major strides of a MYE_MAX_DIMS shape. */
static void mye_strides(const int32_t *shape, int32_t *strides)
{
    int32_t d;
    int32_t s = 1;
    for (d = MYE_MAX_DIMS - 1; d >= 0; --d) {
        strides[d] = s;
        s *= shape[d];
    }
}

void mye_transpose_s8(const mye_transpose_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t in_shape[MYE_MAX_DIMS];
    int32_t in_strides[MYE_MAX_DIMS];
    int32_t out_shape[MYE_MAX_DIMS];
    int32_t step[MYE_MAX_DIMS]; /* input stride walked by each output axis */
    const int32_t lead = MYE_MAX_DIMS - p->dims;
    int32_t d;
    int32_t i0, i1, i2, i3, i4, i5;
    int32_t o = 0;
    if (p->dims < 1 || p->dims > MYE_MAX_DIMS) {
        return;
    }
    mye_pad_shape(p->dims, p->input_shape, in_shape);
    mye_strides(in_shape, in_strides);
    for (d = 0; d < MYE_MAX_DIMS; ++d) {
        if (d < lead) {
            out_shape[d] = 1;
            step[d] = 0;
        } else {
            const int32_t src = lead + p->perm[d - lead];
            out_shape[d] = in_shape[src];
            step[d] = in_strides[src];
        }
    }
    for (i0 = 0; i0 < out_shape[0]; ++i0) {
        for (i1 = 0; i1 < out_shape[1]; ++i1) {
            for (i2 = 0; i2 < out_shape[2]; ++i2) {
                for (i3 = 0; i3 < out_shape[3]; ++i3) {
                    for (i4 = 0; i4 < out_shape[4]; ++i4) {
                        const int32_t base = i0 * step[0] + i1 * step[1] + i2 * step[2] +
                                             i3 * step[3] + i4 * step[4];
                        for (i5 = 0; i5 < out_shape[5]; ++i5) {
                            output[o++] = input[base + i5 * step[5]];
                        }
                    }
                }
            }
        }
    }
}

void mye_strided_slice_s8(const mye_strided_slice_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t in_shape[MYE_MAX_DIMS];
    int32_t in_strides[MYE_MAX_DIMS];
    int32_t start[MYE_MAX_DIMS];
    int32_t stride[MYE_MAX_DIMS];
    int32_t count[MYE_MAX_DIMS];
    const int32_t lead = MYE_MAX_DIMS - p->dims;
    int32_t d;
    int32_t i0, i1, i2, i3, i4, i5;
    int32_t o = 0;
    if (p->dims < 1 || p->dims > MYE_MAX_DIMS) {
        return;
    }
    mye_pad_shape(p->dims, p->input_shape, in_shape);
    mye_strides(in_shape, in_strides);
    for (d = 0; d < MYE_MAX_DIMS; ++d) {
        start[d] = d < lead ? 0 : p->start[d - lead];
        stride[d] = d < lead ? 1 : p->stride[d - lead];
        count[d] = d < lead ? 1 : p->output_shape[d - lead];
    }
    for (i0 = 0; i0 < count[0]; ++i0) {
        for (i1 = 0; i1 < count[1]; ++i1) {
            for (i2 = 0; i2 < count[2]; ++i2) {
                for (i3 = 0; i3 < count[3]; ++i3) {
                    for (i4 = 0; i4 < count[4]; ++i4) {
                        const int32_t base = (start[0] + i0 * stride[0]) * in_strides[0] +
                                             (start[1] + i1 * stride[1]) * in_strides[1] +
                                             (start[2] + i2 * stride[2]) * in_strides[2] +
                                             (start[3] + i3 * stride[3]) * in_strides[3] +
                                             (start[4] + i4 * stride[4]) * in_strides[4];
                        for (i5 = 0; i5 < count[5]; ++i5) {
                            output[o++] = input[base + (start[5] + i5 * stride[5]) * in_strides[5]];
                        }
                    }
                }
            }
        }
    }
}

void mye_requantize_s8(const mye_requantize_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t centred = (int32_t)input[i] + p->input_offset;
        const int32_t scaled = mye_mul_by_quantized_multiplier(centred, p->multiplier, (int)p->shift);
        output[i] = mye_sat_s8(scaled + p->output_offset);
    }
}

void mye_dequantize_s8_f32(const mye_dequantize_params_t *p, const int8_t *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        output[i] = (float)(p->scale * (double)((int32_t)input[i] - p->zero_point));
    }
}

void mye_lut_channels_s8(const int8_t *table, const int8_t *input, int8_t *output, int32_t rows,
                         int32_t channels)
{
    int32_t r;
    int32_t c;
    for (r = 0; r < rows; ++r) {
        const int8_t *in_row = input + r * channels;
        int8_t *out_row = output + r * channels;
        for (c = 0; c < channels; ++c) {
            out_row[c] = table[c * 256 + (int32_t)in_row[c] + 128];
        }
    }
}
