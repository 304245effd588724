/*
 * pooling.c - MAX_POOL_2D and AVERAGE_POOL_2D on int8 NHWC tensors.
 *
 * Input and output share scale and zero point, so no requantisation: the
 * window is clipped to the image (padding is never counted), the average
 * divides by the number of in-bounds taps rounding half away from zero, and
 * both clamp to the fused activation range, as TFLM's reference does.
 *
 * DSP path (MYE_USE_DSP, see mye_dsp.h): four neighbouring channels travel
 * in one 32-bit word. The maximum takes four signed byte maxima at once
 * (SSUB8 sets one GE flag per byte where a >= b, SEL then picks a or b per
 * byte); the average sign-extends bytes 0/2 and 1/3 into halfword pairs
 * (SXTB16) and adds them with SADD16, which cannot overflow while the window
 * has at most MYE_POOL_MAX_SIMD_TAPS taps (255 * 128 < 2^15). Channels left
 * over (depth not a multiple of four) and larger windows take the portable
 * loop. Both paths compute the same integers, so they agree bit for bit.
 *
 * Access order (the arena planner relies on it, quantize/aot/overlap.py):
 * output pixels in (batch, y, x) order; each output byte, or group of four
 * channel bytes, is written after its window has been read for exactly
 * those channels. With VALID padding no window starts before its own output
 * pixel, so the output may overwrite the input in place.
 */
#include "mye_kernels.h"
#include "mye_dsp.h"

/* Largest window the halfword sums of the DSP average path hold exactly. */
#define MYE_POOL_MAX_SIMD_TAPS 255

/* One output pixel's window, clipped to the input: its first in-bounds tap and its extent. */
typedef struct {
    const int8_t *first;  /* channel 0 of the top-left in-bounds input pixel */
    int32_t rows;         /* in-bounds taps down */
    int32_t cols;         /* in-bounds taps across */
    int32_t row_stride;   /* bytes from one input row to the next */
} mye_pool_window_t;

static mye_pool_window_t mye_pool_window(const mye_pool_params_t *p, const int8_t *input, int32_t b, int32_t oy,
                                         int32_t ox)
{
    mye_pool_window_t w;
    const int32_t in_y0 = oy * p->stride_height - p->pad_height;
    const int32_t in_x0 = ox * p->stride_width - p->pad_width;
    const int32_t y_start = mye_max_s32(0, -in_y0);
    const int32_t y_end = mye_min_s32(p->filter_height, p->input_height - in_y0);
    const int32_t x_start = mye_max_s32(0, -in_x0);
    const int32_t x_end = mye_min_s32(p->filter_width, p->input_width - in_x0);
    w.rows = mye_max_s32(0, y_end - y_start);
    w.cols = mye_max_s32(0, x_end - x_start);
    w.row_stride = p->input_width * p->depth;
    w.first = input;
    if (w.rows > 0 && w.cols > 0) {
        w.first = input + ((b * p->input_height + in_y0 + y_start) * p->input_width + in_x0 + x_start) * p->depth;
    }
    return w;
}

/* Shapes the kernels can walk: positive sizes and strides, a valid activation range. */
static int mye_pool_params_ok(const mye_pool_params_t *p)
{
    return p->batches > 0 && p->input_height > 0 && p->input_width > 0 && p->depth > 0 &&
           p->output_height > 0 && p->output_width > 0 && p->filter_height > 0 && p->filter_width > 0 &&
           p->stride_height > 0 && p->stride_width > 0 && p->activation_min <= p->activation_max;
}

/* Average of `count` taps summing to `sum`, rounded half away from zero (TFLM reference). */
static inline int32_t mye_pool_average(int32_t sum, int32_t count)
{
    if (count <= 0) {
        return 0; /* empty window: cannot happen for shapes TFLite accepts */
    }
    return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

/* Max of channel c over the window (-128 for an empty window). */
static int32_t mye_pool_max_channel(const mye_pool_window_t *w, int32_t depth, int32_t c)
{
    int32_t best = MYE_INT8_MIN;
    int32_t fy;
    int32_t fx;
    for (fy = 0; fy < w->rows; ++fy) {
        const int8_t *tap = w->first + fy * w->row_stride + c;
        for (fx = 0; fx < w->cols; ++fx) {
            const int32_t v = *tap;
            if (v > best) {
                best = v;
            }
            tap += depth;
        }
    }
    return best;
}

/* Sum of channel c over the window. */
static int32_t mye_pool_sum_channel(const mye_pool_window_t *w, int32_t depth, int32_t c)
{
    int32_t sum = 0;
    int32_t fy;
    int32_t fx;
    for (fy = 0; fy < w->rows; ++fy) {
        const int8_t *tap = w->first + fy * w->row_stride + c;
        for (fx = 0; fx < w->cols; ++fx) {
            sum += *tap;
            tap += depth;
        }
    }
    return sum;
}

#if defined(MYE_USE_DSP)
#if defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32)
/* Byte-wise signed maximum / minimum: SSUB8 sets GE[i] where a[i] >= b[i], SEL picks per byte. */
static inline uint32_t mye_max_s8x4(uint32_t a, uint32_t b)
{
    (void)__ssub8((int8x4_t)a, (int8x4_t)b);
    return (uint32_t)__sel((uint8x4_t)a, (uint8x4_t)b);
}
static inline uint32_t mye_min_s8x4(uint32_t a, uint32_t b)
{
    (void)__ssub8((int8x4_t)a, (int8x4_t)b);
    return (uint32_t)__sel((uint8x4_t)b, (uint8x4_t)a);
}
#else
/* MYE_EMULATE_DSP: the same byte-wise selection written out in C. */
static inline uint32_t mye_pick_s8x4(uint32_t a, uint32_t b, int want_max)
{
    uint32_t out = 0;
    int32_t k;
    for (k = 0; k < 4; ++k) {
        const int32_t av = (int32_t)(int8_t)((a >> (8 * k)) & 0xFFu);
        const int32_t bv = (int32_t)(int8_t)((b >> (8 * k)) & 0xFFu);
        const int a_ge_b = av - bv >= 0; /* the GE flag SSUB8 sets for this byte */
        const uint32_t byte = ((a_ge_b == want_max) ? (a >> (8 * k)) : (b >> (8 * k))) & 0xFFu;
        out |= byte << (8 * k);
    }
    return out;
}
static inline uint32_t mye_max_s8x4(uint32_t a, uint32_t b)
{
    return mye_pick_s8x4(a, b, 1);
}
static inline uint32_t mye_min_s8x4(uint32_t a, uint32_t b)
{
    return mye_pick_s8x4(a, b, 0);
}
#endif

/* The same int8 value in all four bytes. */
static inline uint32_t mye_splat_s8x4(int32_t v)
{
    const uint32_t byte = (uint32_t)v & 0xFFu;
    return byte | (byte << 8) | (byte << 16) | (byte << 24);
}

/* Max over the window of channels c..c+3, clamped to [lo, hi] (splatted), written as one word. */
static void mye_max_pool_word(const mye_pool_window_t *w, int32_t depth, int32_t c, uint32_t lo, uint32_t hi,
                              int8_t *out)
{
    uint32_t best = mye_splat_s8x4(MYE_INT8_MIN);
    int32_t fy;
    int32_t fx;
    for (fy = 0; fy < w->rows; ++fy) {
        const int8_t *tap = w->first + fy * w->row_stride + c;
        for (fx = 0; fx < w->cols; ++fx) {
            uint32_t word;
            memcpy(&word, tap, 4);
            best = mye_max_s8x4(best, word);
            tap += depth;
        }
    }
    best = mye_min_s8x4(mye_max_s8x4(best, lo), hi);
    memcpy(out, &best, 4);
}

/* Average over the window of channels c..c+3 (at most MYE_POOL_MAX_SIMD_TAPS taps), clamped. */
static void mye_average_pool_word(const mye_pool_params_t *p, const mye_pool_window_t *w, int32_t c,
                                  int32_t count, int8_t *out)
{
    uint32_t sum02 = 0; /* halfword sums of channels c and c+2 */
    uint32_t sum13 = 0; /* halfword sums of channels c+1 and c+3 */
    int32_t sums[4];
    int32_t k;
    int32_t fy;
    int32_t fx;
    for (fy = 0; fy < w->rows; ++fy) {
        const int8_t *tap = w->first + fy * w->row_stride + c;
        for (fx = 0; fx < w->cols; ++fx) {
            uint32_t word;
            memcpy(&word, tap, 4);
            sum02 = (uint32_t)mye_sadd16((mye_pair_t)sum02, (mye_pair_t)mye_sxtb16(word));
            sum13 = (uint32_t)mye_sadd16((mye_pair_t)sum13, (mye_pair_t)mye_sxtb16_ror8(word));
            tap += p->depth;
        }
    }
    sums[0] = (int32_t)(int16_t)(sum02 & 0xFFFFu);
    sums[1] = (int32_t)(int16_t)(sum13 & 0xFFFFu);
    sums[2] = (int32_t)(int16_t)(sum02 >> 16);
    sums[3] = (int32_t)(int16_t)(sum13 >> 16);
    for (k = 0; k < 4; ++k) {
        out[k] = (int8_t)mye_clamp_s32(mye_pool_average(sums[k], count), p->activation_min, p->activation_max);
    }
}
#endif /* MYE_USE_DSP */

void mye_max_pool_s8(const mye_pool_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t c;
    if (p == 0 || input == 0 || output == 0 || !mye_pool_params_ok(p)) {
        return;
    }
    for (b = 0; b < p->batches; ++b) {
        for (oy = 0; oy < p->output_height; ++oy) {
            for (ox = 0; ox < p->output_width; ++ox) {
                const mye_pool_window_t w = mye_pool_window(p, input, b, oy, ox);
                int8_t *out_px = output + ((b * p->output_height + oy) * p->output_width + ox) * p->depth;
                c = 0;
#if defined(MYE_USE_DSP)
                {
                    const uint32_t lo = mye_splat_s8x4(p->activation_min);
                    const uint32_t hi = mye_splat_s8x4(p->activation_max);
                    for (; c + 4 <= p->depth; c += 4) {
                        mye_max_pool_word(&w, p->depth, c, lo, hi, out_px + c);
                    }
                }
#endif
                for (; c < p->depth; ++c) {
                    out_px[c] = (int8_t)mye_clamp_s32(mye_pool_max_channel(&w, p->depth, c), p->activation_min,
                                                      p->activation_max);
                }
            }
        }
    }
}

void mye_average_pool_s8(const mye_pool_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t c;
    if (p == 0 || input == 0 || output == 0 || !mye_pool_params_ok(p)) {
        return;
    }
    for (b = 0; b < p->batches; ++b) {
        for (oy = 0; oy < p->output_height; ++oy) {
            for (ox = 0; ox < p->output_width; ++ox) {
                const mye_pool_window_t w = mye_pool_window(p, input, b, oy, ox);
                const int32_t count = w.rows * w.cols;
                int8_t *out_px = output + ((b * p->output_height + oy) * p->output_width + ox) * p->depth;
                c = 0;
#if defined(MYE_USE_DSP)
                if (count <= MYE_POOL_MAX_SIMD_TAPS) {
                    for (; c + 4 <= p->depth; c += 4) {
                        mye_average_pool_word(p, &w, c, count, out_px + c);
                    }
                }
#endif
                for (; c < p->depth; ++c) {
                    out_px[c] = (int8_t)mye_clamp_s32(mye_pool_average(mye_pool_sum_channel(&w, p->depth, c), count),
                                                      p->activation_min, p->activation_max);
                }
            }
        }
    }
}
