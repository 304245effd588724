/*
 * conv.c - CONV_2D and DEPTHWISE_CONV_2D, int8 with per-channel weights.
 *
 * Both give TFLM's reference per-channel results: taps in the padding
 * contribute nothing, the int32 accumulator gets the bias, is requantised
 * with the output channel's multiplier and shift, offset by the output zero
 * point and clamped to the fused activation range.
 *
 * CONV_2D gathers each receptive field into a scratch patch (padding taps set
 * to the input zero point) and takes one plain dot product per output
 * channel; the generator has folded input_offset * sum(filter) into the
 * bias, which is the same sum in int32 (mod 2^32) arithmetic. On cores with
 * the DSP extension the dot product runs two SMLADs per four bytes.
 */
#include "mye_kernels.h"
#include "mye_dsp.h"

/* Bias, per-channel requantisation, output offset and activation clamp of one output. */
static inline int8_t mye_conv_requantize(const mye_conv2d_params_t *p, const int32_t *bias, int32_t oc,
                                         int32_t acc)
{
    if (bias != 0) {
        acc += bias[oc];
    }
    acc = mye_mul_by_quantized_multiplier(acc, p->output_multiplier[oc], (int)p->output_shift[oc]);
    acc += p->output_offset;
    return (int8_t)mye_clamp_s32(acc, p->activation_min, p->activation_max);
}

void mye_conv2d_s8(const mye_conv2d_params_t *p, const int8_t *input, const int8_t *filter,
                   const int32_t *bias, int8_t *scratch, int8_t *output)
{
    const int32_t in_h = p->input_height;
    const int32_t in_w = p->input_width;
    const int32_t in_c = p->input_depth;
    const int32_t patch = p->filter_height * p->filter_width * in_c;
    /* A padding tap holds the input zero point, so (x + input_offset) is 0 there. */
    const int8_t pad_value = (int8_t)(-p->input_offset);
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t oc;
    int32_t fy;
    int32_t fx;
    int32_t c;
    for (b = 0; b < p->batches; ++b) {
        for (oy = 0; oy < p->output_height; ++oy) {
            const int32_t in_y0 = oy * p->stride_height - p->pad_height;
            for (ox = 0; ox < p->output_width; ++ox) {
                const int32_t in_x0 = ox * p->stride_width - p->pad_width;
                int8_t *out_px = output + ((b * p->output_height + oy) * p->output_width + ox) * p->output_depth;
                int8_t *dst = scratch;
                /* Gather the receptive field in filter order (fy, fx, c). */
                for (fy = 0; fy < p->filter_height; ++fy) {
                    const int32_t iy = in_y0 + p->dilation_height * fy;
                    for (fx = 0; fx < p->filter_width; ++fx) {
                        const int32_t ix = in_x0 + p->dilation_width * fx;
                        if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) {
                            for (c = 0; c < in_c; ++c) {
                                dst[c] = pad_value;
                            }
                        } else {
                            const int8_t *src = input + ((b * in_h + iy) * in_w + ix) * in_c;
                            for (c = 0; c < in_c; ++c) {
                                dst[c] = src[c];
                            }
                        }
                        dst += in_c;
                    }
                }
                /* Two output channels per pass over the patch; the input offset times
                 * the filter sum is already in the bias. */
                for (oc = 0; oc + 2 <= p->output_depth; oc += 2) {
                    int32_t acc0;
                    int32_t acc1;
                    mye_dot2_s8(scratch, filter + oc * patch, filter + (oc + 1) * patch, patch, &acc0, &acc1);
                    out_px[oc] = mye_conv_requantize(p, bias, oc, acc0);
                    out_px[oc + 1] = mye_conv_requantize(p, bias, oc + 1, acc1);
                }
                if (oc < p->output_depth) {
                    const int32_t acc = mye_dot_s8(filter + oc * patch, 0, scratch, 0, patch);
                    out_px[oc] = mye_conv_requantize(p, bias, oc, acc);
                }
            }
        }
    }
}

void mye_depthwise_conv2d_s8(const mye_depthwise_conv2d_params_t *p, const int8_t *input,
                             const int8_t *filter, const int32_t *bias, int32_t *scratch, int8_t *output)
{
    const int32_t in_h = p->input_height;
    const int32_t in_w = p->input_width;
    const int32_t in_c = p->input_depth;
    const int32_t mult = p->depth_multiplier;
    const int32_t out_c = in_c * mult;
    const int32_t input_offset = p->input_offset;
    int32_t *acc = scratch; /* one accumulator per output channel of the current pixel */
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t ic;
    int32_t m;
    int32_t oc;
    int32_t fy;
    int32_t fx;
    for (b = 0; b < p->batches; ++b) {
        for (oy = 0; oy < p->output_height; ++oy) {
            const int32_t in_y0 = oy * p->stride_height - p->pad_height;
            for (ox = 0; ox < p->output_width; ++ox) {
                const int32_t in_x0 = ox * p->stride_width - p->pad_width;
                int8_t *out_px = output + ((b * p->output_height + oy) * p->output_width + ox) * out_c;
                for (oc = 0; oc < out_c; ++oc) {
                    acc[oc] = 0;
                }
                /* Taps outside the image are skipped: they contribute zero. */
                for (fy = 0; fy < p->filter_height; ++fy) {
                    const int32_t iy = in_y0 + p->dilation_height * fy;
                    if (iy < 0 || iy >= in_h) {
                        continue;
                    }
                    for (fx = 0; fx < p->filter_width; ++fx) {
                        const int32_t ix = in_x0 + p->dilation_width * fx;
                        const int8_t *in_px;
                        const int8_t *taps;
                        if (ix < 0 || ix >= in_w) {
                            continue;
                        }
                        in_px = input + ((b * in_h + iy) * in_w + ix) * in_c;
                        taps = filter + (fy * p->filter_width + fx) * out_c;
                        if (mult == 1) {
                            for (ic = 0; ic < in_c; ++ic) {
                                acc[ic] += (int32_t)taps[ic] * ((int32_t)in_px[ic] + input_offset);
                            }
                        } else {
                            /* Output channel ic * mult + m reads input channel ic. */
                            int32_t *a = acc;
                            const int8_t *w = taps;
                            for (ic = 0; ic < in_c; ++ic) {
                                const int32_t x = (int32_t)in_px[ic] + input_offset;
                                for (m = 0; m < mult; ++m) {
                                    *a++ += (int32_t)(*w++) * x;
                                }
                            }
                        }
                    }
                }
                for (oc = 0; oc < out_c; ++oc) {
                    int32_t sum = acc[oc];
                    if (bias != 0) {
                        sum += bias[oc];
                    }
                    sum = mye_mul_by_quantized_multiplier(sum, p->output_multiplier[oc], (int)p->output_shift[oc]);
                    sum += p->output_offset;
                    out_px[oc] = (int8_t)mye_clamp_s32(sum, p->activation_min, p->activation_max);
                }
            }
        }
    }
}
