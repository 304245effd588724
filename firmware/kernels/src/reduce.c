/*
 * reduce.c - int8 MEAN and SUM over any set of axes (TFLM reference arithmetic).
 *
 * Raw int8 values are summed in int32 per output element, the zero point
 * times the element count is subtracted, and one requantisation maps the
 * result to the output scale. For MEAN the emitter has already folded
 * 1 / count into the multiplier exactly as TFLM does, so both ops share the
 * kernel.
 *
 * Paths: when the innermost axis is reduced (MEAN over the channels of a
 * LayerNorm) the DSP path sums four bytes per word with SXTB16 + SMLAD
 * against (1, 1); the portable path adds them one by one. Same sums. The
 * final requantisation is one 64-bit rescale per output on both paths.
 */
#include "mye_kernels.h"
#include "mye_dsp.h"

/*
 * Sum of n int8 values in int32. With the DSP extension four bytes at a time
 * are sign-extended in pairs (SXTB16) and added with SMLAD against (1, 1);
 * the plain loop gives the same sum.
 */
static int32_t sum_s8(const int8_t *x, int32_t n)
{
    int32_t acc = 0;
    int32_t i = 0;
#if defined(MYE_USE_DSP)
    const mye_pair_t ones = (mye_pair_t)mye_pkhbt(1, 1);
    for (; i + 4 <= n; i += 4) {
        uint32_t word;
        memcpy(&word, x + i, 4);
        acc = mye_smlad(mye_sxtb16(word), ones, acc);
        acc = mye_smlad(mye_sxtb16_ror8(word), ones, acc);
    }
#endif
    for (; i < n; ++i) {
        acc += x[i];
    }
    return acc;
}

/* Sum the input into scratch[0 .. num_outputs) following the output strides. */
static void accumulate(const mye_reduce_params_t *p, const int8_t *input, int32_t *sums)
{
    const int32_t *shape = p->in_shape;
    const int32_t *stride = p->out_strides;
    const int32_t last = MYE_MAX_DIMS - 1;
    int32_t i0, i1, i2, i3, i4, i5;
    for (i0 = 0; i0 < shape[0]; ++i0) {
        for (i1 = 0; i1 < shape[1]; ++i1) {
            for (i2 = 0; i2 < shape[2]; ++i2) {
                for (i3 = 0; i3 < shape[3]; ++i3) {
                    for (i4 = 0; i4 < shape[4]; ++i4) {
                        int32_t *row = sums + i0 * stride[0] + i1 * stride[1] + i2 * stride[2] +
                                       i3 * stride[3] + i4 * stride[4];
                        if (stride[last] == 0) {
                            /* Innermost axis reduced: one running sum for the row. */
                            row[0] += sum_s8(input, shape[last]);
                        } else {
                            for (i5 = 0; i5 < shape[last]; ++i5) {
                                row[i5 * stride[last]] += input[i5];
                            }
                        }
                        input += shape[last];
                    }
                }
            }
        }
    }
}

void mye_reduce_sum_s8(const mye_reduce_params_t *p, const int8_t *input, int32_t *scratch,
                       int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->num_outputs; ++i) {
        scratch[i] = 0;
    }
    accumulate(p, input, scratch);
    for (i = 0; i < p->num_outputs; ++i) {
        const int32_t shifted = scratch[i] - p->input_zero_point * p->count;
        const int32_t y = mye_mul_by_quantized_multiplier(shifted, p->multiplier, p->shift) +
                          p->output_zero_point;
        output[i] = mye_sat_s8(y);
    }
}
