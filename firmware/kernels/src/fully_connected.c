/*
 * fully_connected.c - FULLY_CONNECTED, int8 activations and weights.
 *
 * For every input row b and output unit o:
 *   acc = sum_d (w[o][d] + filter_offset) * (x[b][d] + input_offset) + bias[o]
 *   y   = clamp(requantise(acc, multiplier[o or 0], shift[o or 0]) + output_offset)
 * exactly as TFLM's reference integer kernel computes it. The dot product goes
 * through mye_dot_s8, which uses SMLAD on cores with the DSP extension.
 */
#include "mye_kernels.h"
#include "mye_dsp.h"

void mye_fully_connected_s8(const mye_fully_connected_params_t *p, const int8_t *input,
                            const int8_t *filter, const int32_t *bias, int8_t *output)
{
    int32_t b;
    int32_t o;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *row = input + b * p->accum_depth;
        int8_t *out_row = output + b * p->output_depth;
        for (o = 0; o < p->output_depth; ++o) {
            const int8_t *weights = filter + o * p->accum_depth;
            const int32_t q = p->per_channel ? o : 0;
            int32_t acc = mye_dot_s8(weights, p->filter_offset, row, p->input_offset, p->accum_depth);
            if (bias != 0) {
                acc += bias[o];
            }
            acc = mye_mul_by_quantized_multiplier(acc, p->output_multiplier[q], (int)p->output_shift[q]);
            acc += p->output_offset;
            out_row[o] = (int8_t)mye_clamp_s32(acc, p->activation_min, p->activation_max);
        }
    }
}
