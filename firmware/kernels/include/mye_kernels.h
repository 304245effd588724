/*
 * mye_kernels.h - the int8 kernel library that the AOT-generated C calls.
 *
 * One parameter struct per kernel holds everything the generator knows ahead
 * of time: shapes, zero points (as offsets), requantisation multipliers and
 * shifts (pointers to const arrays) and the fused activation range. Kernels
 * never allocate and touch no global state; the caller (generated code)
 * passes arena pointers. Arithmetic follows TensorFlow Lite Micro's reference
 * kernels bit for bit (see mye_fixedpoint.h).
 *
 * Layouts are TFLite's: activations NHWC; FULLY_CONNECTED weights
 * [output_depth][accum_depth]. CONV_2D and DEPTHWISE_CONV_2D filters come in
 * the packed orders described at their kernels (the generator writes them).
 *
 * Conventions: an "offset" added to an input is minus its zero point; an
 * "output_offset" is the output zero point; shifts use TFLM's sign
 * (positive = left).
 */
#ifndef MYE_KERNELS_H
#define MYE_KERNELS_H

#include <stdint.h>

#include "mye_fixedpoint.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest rank TRANSPOSE and STRIDED_SLICE handle. */
#define MYE_MAX_DIMS 6

/* ---- conv.c --------------------------------------------------------------- */

typedef struct {
    int32_t batches;
    int32_t input_height;
    int32_t input_width;
    int32_t input_depth;
    int32_t filter_height;
    int32_t filter_width;
    int32_t output_height;
    int32_t output_width;
    int32_t output_depth;
    int32_t stride_height;
    int32_t stride_width;
    int32_t dilation_height;
    int32_t dilation_width;
    int32_t pad_height;            /* rows of zero padding above the input */
    int32_t pad_width;             /* columns of zero padding left of the input */
    int32_t input_offset;          /* -input zero point */
    int32_t output_offset;         /* output zero point */
    const int32_t *output_multiplier; /* [output_depth] */
    const int32_t *output_shift;      /* [output_depth] */
    int32_t activation_min;
    int32_t activation_max;
} mye_conv2d_params_t;

/*
 * CONV_2D, per-channel int8. `bias` must already hold
 * bias[oc] + input_offset * sum(filter[oc]) (int32, wrapping), as the generator
 * writes it, zero-padded to a multiple of 4 channels; it may be NULL only when
 * that is zero for every channel.
 *
 * `filter` is packed (quantize/aot/ops_conv.py, pack_conv_filter): the
 * K = filter_height * filter_width * input_depth taps of each output channel
 * (TFLite's (fy, fx, c) order) padded with zeros to K4 (a multiple of 4),
 * output channels padded with zero filters to a multiple of 4; for each block
 * of 4 channels o0..o3 and each group of 4 taps k0..k3, 16 bytes
 * [o0k0 o1k0 o0k2 o1k2][o2k0 o3k0 o2k2 o3k2][o0k1 o1k1 o0k3 o1k3][o2k1 o3k1 o2k3 o3k3].
 * `scratch` holds 4 * K4 bytes (two pixels of int16 taps), 4-byte aligned.
 */
void mye_conv2d_s8(const mye_conv2d_params_t *p, const int8_t *input, const int8_t *filter,
                   const int32_t *bias, int8_t *scratch, int8_t *output);

typedef struct {
    int32_t batches;
    int32_t input_height;
    int32_t input_width;
    int32_t input_depth;
    int32_t depth_multiplier;      /* output_depth = input_depth * depth_multiplier */
    int32_t filter_height;
    int32_t filter_width;
    int32_t output_height;
    int32_t output_width;
    int32_t stride_height;
    int32_t stride_width;
    int32_t dilation_height;
    int32_t dilation_width;
    int32_t pad_height;
    int32_t pad_width;
    int32_t input_offset;
    int32_t output_offset;
    const int32_t *output_multiplier; /* [output_depth] */
    const int32_t *output_shift;      /* [output_depth] */
    int32_t activation_min;
    int32_t activation_max;
} mye_depthwise_conv2d_params_t;

/*
 * DEPTHWISE_CONV_2D, per-channel int8. bias may be NULL.
 * `filter` is packed (pack_depthwise_filter) as int16 pairs
 * [input_depth][tap_pairs][depth_multiplier][2], tap_pairs = ceil(fh * fw / 2):
 * pair t holds the weights of taps 2t and 2t + 1 in (fy, fx) order (0 for the
 * missing tap when fh * fw is odd); output channel ic * depth_multiplier + m
 * reads input channel ic. `scratch` holds input_depth * tap_pairs int16
 * pairs (4 * input_depth * tap_pairs bytes, 4-byte aligned).
 */
void mye_depthwise_conv2d_s8(const mye_depthwise_conv2d_params_t *p, const int8_t *input,
                             const int16_t *filter, const int32_t *bias, int16_t *scratch, int8_t *output);

/* ---- fully_connected.c ------------------------------------------------------ */

typedef struct {
    int32_t batches;               /* rows of the input (product of leading dims) */
    int32_t accum_depth;           /* length of one input row */
    int32_t output_depth;          /* output units */
    int32_t input_offset;          /* -input zero point */
    int32_t filter_offset;         /* -weights zero point (0 for symmetric weights) */
    int32_t output_offset;         /* output zero point */
    int32_t per_channel;           /* 1: multiplier/shift have output_depth entries, 0: one */
    const int32_t *output_multiplier;
    const int32_t *output_shift;
    int32_t activation_min;
    int32_t activation_max;
} mye_fully_connected_params_t;

/* FULLY_CONNECTED int8 (per-tensor or per-channel weights). bias may be NULL. */
void mye_fully_connected_s8(const mye_fully_connected_params_t *p, const int8_t *input,
                            const int8_t *filter, const int32_t *bias, int8_t *output);

/*
 * FULLY_CONNECTED with the weights re-laid out ahead of time in blocks of
 * four units (layout in fully_connected.c; written by
 * quantize/aot/ops_fc_blocked.py). Same parameters and results as
 * mye_fully_connected_s8.
 */
void mye_fully_connected_blocked_s8(const mye_fully_connected_params_t *p, const int8_t *input,
                                    const int8_t *filter, const int32_t *bias, int8_t *output);

/* ---- pooling.c -------------------------------------------------------------- */

typedef struct {
    int32_t batches;
    int32_t input_height;
    int32_t input_width;
    int32_t depth;
    int32_t output_height;
    int32_t output_width;
    int32_t filter_height;
    int32_t filter_width;
    int32_t stride_height;
    int32_t stride_width;
    int32_t pad_height;
    int32_t pad_width;
    int32_t activation_min;
    int32_t activation_max;
} mye_pool_params_t;

/* MAX_POOL_2D int8 (input and output share scale and zero point). Both pooling kernels write
   their output in input order, so the output may overlap the input as quantize/aot/overlap.py
   computes (fully in place with VALID padding); they do nothing for non-positive sizes. */
void mye_max_pool_s8(const mye_pool_params_t *p, const int8_t *input, int8_t *output);

/* AVERAGE_POOL_2D int8: mean of the in-bounds window, rounded half away from zero. */
void mye_average_pool_s8(const mye_pool_params_t *p, const int8_t *input, int8_t *output);

/* ---- reshape.c: data movement and requantisation ----------------------------- */

/* Plain byte copy (RESHAPE that the planner could not alias). */
void mye_copy_bytes(const int8_t *input, int8_t *output, int32_t bytes);

typedef struct {
    int32_t dims;                       /* 1..MYE_MAX_DIMS */
    int32_t input_shape[MYE_MAX_DIMS];  /* first `dims` entries used */
    int32_t perm[MYE_MAX_DIMS];         /* output axis i reads input axis perm[i] */
} mye_transpose_params_t;

/* TRANSPOSE of one-byte elements. */
void mye_transpose_s8(const mye_transpose_params_t *p, const int8_t *input, int8_t *output);

typedef struct {
    int32_t dims;                       /* 1..MYE_MAX_DIMS */
    int32_t input_shape[MYE_MAX_DIMS];
    int32_t start[MYE_MAX_DIMS];        /* first input index per axis */
    int32_t stride[MYE_MAX_DIMS];       /* step per axis (may be negative) */
    int32_t output_shape[MYE_MAX_DIMS]; /* elements taken per axis */
} mye_strided_slice_params_t;

/* STRIDED_SLICE of one-byte elements (start/stride/count resolved ahead of time). */
void mye_strided_slice_s8(const mye_strided_slice_params_t *p, const int8_t *input, int8_t *output);

typedef struct {
    int32_t size;                  /* elements */
    int32_t input_offset;          /* -input zero point */
    int32_t output_offset;         /* output zero point */
    int32_t multiplier;
    int32_t shift;
} mye_requantize_params_t;

/* QUANTIZE int8 -> int8: rescale to a new scale and zero point. */
void mye_requantize_s8(const mye_requantize_params_t *p, const int8_t *input, int8_t *output);

typedef struct {
    int32_t size;
    int32_t zero_point;
    double scale;
} mye_dequantize_params_t;

/* DEQUANTIZE int8 -> float32: scale * (x - zero_point), computed in double. */
void mye_dequantize_s8_f32(const mye_dequantize_params_t *p, const int8_t *input, float *output);

/*
 * Fused element-wise chain with one table per channel (last axis):
 * output[r][c] = table[c * 256 + input[r][c] + 128].
 */
void mye_lut_channels_s8(const int8_t *table, const int8_t *input, int8_t *output, int32_t rows,
                         int32_t channels);

/* ---- element-wise, reduction, softmax and LSTM kernels (helper B) ----------- */
#include "mye_kernels_elementwise.h"

/* ---- shape_ops.c: REVERSE_V2, CONCATENATION (byte moves) and PRELU ---------- */

/* REVERSE_V2 of one axis: `outer` blocks of `axis_size` rows of `inner` bytes.
 * input == output reverses in place. No requantisation (as TFLM). */
typedef struct {
    int32_t outer;
    int32_t axis_size;
    int32_t inner;
} mye_reverse_params_t;

void mye_reverse_s8(const mye_reverse_params_t *p, const int8_t *input, int8_t *output);

#define MYE_CONCAT_MAX_INPUTS 16

/* CONCATENATION along one axis: per outer block, input k gives copy_bytes[k] bytes. */
typedef struct {
    int32_t n_inputs;                            /* 1..MYE_CONCAT_MAX_INPUTS */
    int32_t outer;                               /* product of the dims before the axis */
    int32_t copy_bytes[MYE_CONCAT_MAX_INPUTS];   /* axis length x inner size of input k */
} mye_concatenation_params_t;

void mye_concatenation_s8(const mye_concatenation_params_t *p, const int8_t *const *inputs, int8_t *output);

/* PRELU int8: x >= 0 -> x * positive multiplier; else x * alpha * negative multiplier.
 * `shape` broadcasts input (in1) and alpha (in2) onto the output. */
typedef struct {
    mye_broadcast_t shape;
    int32_t input_offset;          /* -input zero point */
    int32_t alpha_offset;          /* -alpha zero point */
    int32_t output_offset;         /* output zero point */
    int32_t positive_multiplier;   /* input_scale / output_scale */
    int32_t positive_shift;
    int32_t negative_multiplier;   /* input_scale * alpha_scale / output_scale */
    int32_t negative_shift;
} mye_prelu_params_t;

void mye_prelu_s8(const mye_prelu_params_t *p, const int8_t *input, const int8_t *alpha, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* MYE_KERNELS_H */
