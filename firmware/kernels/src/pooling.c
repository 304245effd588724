/*
 * pooling.c - MAX_POOL_2D and AVERAGE_POOL_2D on int8 NHWC tensors.
 *
 * Input and output share scale and zero point, so no requantisation: the
 * window is clipped to the image (padding is never counted), the average
 * divides by the number of in-bounds taps rounding half away from zero, and
 * both clamp to the fused activation range, as TFLM's reference does.
 */
#include "mye_kernels.h"

/* Window bounds of one output pixel, clipped to the input. */
typedef struct {
    int32_t y_start;
    int32_t y_end;
    int32_t x_start;
    int32_t x_end;
    int32_t in_y0;
    int32_t in_x0;
} mye_pool_window_t;

static mye_pool_window_t mye_pool_window(const mye_pool_params_t *p, int32_t oy, int32_t ox)
{
    mye_pool_window_t w;
    w.in_y0 = oy * p->stride_height - p->pad_height;
    w.in_x0 = ox * p->stride_width - p->pad_width;
    w.y_start = mye_max_s32(0, -w.in_y0);
    w.y_end = mye_min_s32(p->filter_height, p->input_height - w.in_y0);
    w.x_start = mye_max_s32(0, -w.in_x0);
    w.x_end = mye_min_s32(p->filter_width, p->input_width - w.in_x0);
    return w;
}

void mye_max_pool_s8(const mye_pool_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t c;
    int32_t fy;
    int32_t fx;
    for (b = 0; b < p->batches; ++b) {
        for (oy = 0; oy < p->output_height; ++oy) {
            for (ox = 0; ox < p->output_width; ++ox) {
                const mye_pool_window_t w = mye_pool_window(p, oy, ox);
                int8_t *out_px = output + ((b * p->output_height + oy) * p->output_width + ox) * p->depth;
                for (c = 0; c < p->depth; ++c) {
                    int32_t best = MYE_INT8_MIN;
                    for (fy = w.y_start; fy < w.y_end; ++fy) {
                        for (fx = w.x_start; fx < w.x_end; ++fx) {
                            const int32_t iy = w.in_y0 + fy;
                            const int32_t ix = w.in_x0 + fx;
                            const int32_t v =
                                input[((b * p->input_height + iy) * p->input_width + ix) * p->depth + c];
                            if (v > best) {
                                best = v;
                            }
                        }
                    }
                    out_px[c] = (int8_t)mye_clamp_s32(best, p->activation_min, p->activation_max);
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
    int32_t fy;
    int32_t fx;
    for (b = 0; b < p->batches; ++b) {
        for (oy = 0; oy < p->output_height; ++oy) {
            for (ox = 0; ox < p->output_width; ++ox) {
                const mye_pool_window_t w = mye_pool_window(p, oy, ox);
                const int32_t count = (w.y_end - w.y_start) * (w.x_end - w.x_start);
                int8_t *out_px = output + ((b * p->output_height + oy) * p->output_width + ox) * p->depth;
                for (c = 0; c < p->depth; ++c) {
                    int32_t sum = 0;
                    int32_t avg;
                    for (fy = w.y_start; fy < w.y_end; ++fy) {
                        for (fx = w.x_start; fx < w.x_end; ++fx) {
                            const int32_t iy = w.in_y0 + fy;
                            const int32_t ix = w.in_x0 + fx;
                            sum += input[((b * p->input_height + iy) * p->input_width + ix) * p->depth + c];
                        }
                    }
                    if (count <= 0) {
                        avg = 0; /* empty window: cannot happen for shapes TFLite accepts */
                    } else if (sum > 0) {
                        avg = (sum + count / 2) / count;
                    } else {
                        avg = (sum - count / 2) / count;
                    }
                    out_px[c] = (int8_t)mye_clamp_s32(avg, p->activation_min, p->activation_max);
                }
            }
        }
    }
}
