/*
 * preprocess.c - streaming preprocessing (see preprocess.h). Plain float32
 * arithmetic in a fixed order that myoedge/board_preprocess.py repeats.
 */
#include "preprocess.h"

#include <math.h>
#include <stddef.h>

#if MYE_PP_HP_STAGES > 0
static const float32_t highpass_coeffs[5 * MYE_PP_HP_STAGES] = MYE_PP_HP_COEFFS;
#endif
#if MYE_PP_NORMALISE
static const float norm_mean[MYE_NORM_LEN] = MYE_NORM_MEAN;
static const float norm_std[MYE_NORM_LEN] = MYE_NORM_STD;
#endif
#if MYE_PP_REORDER
static const uint16_t channel_order[MYE_PP_CHANNELS] = MYE_PP_CHANNEL_ORDER;
#endif

void mye_pp_init(mye_pp_t *pp)
{
    (void)mye_ringbuf_init(&pp->ring, pp->ring_storage, MYE_PP_WINDOW, MYE_PP_CHANNELS);
    mye_pp_reset(pp);
}

void mye_pp_reset(mye_pp_t *pp)
{
#if MYE_PP_HP_STAGES > 0
    for (uint32_t c = 0; c < MYE_PP_CHANNELS; ++c) {
        for (uint32_t i = 0; i < 2u * MYE_PP_HP_STAGES; ++i) {
            pp->highpass_state[c][i] = 0.0f;
        }
        arm_biquad_cascade_df2T_init_f32(&pp->highpass[c], MYE_PP_HP_STAGES, highpass_coeffs, pp->highpass_state[c]);
    }
#endif
    mye_ringbuf_clear(&pp->ring);
    pp->samples_seen = 0u;
    pp->since_window = 0u;
}

int mye_pp_push(mye_pp_t *pp, const float sample[MYE_PP_CHANNELS])
{
    float filtered[MYE_PP_CHANNELS];
    for (uint32_t c = 0; c < MYE_PP_CHANNELS; ++c) {
        if (!isfinite(sample[c])) {
            return MYE_PP_ERR_NOT_FINITE;
        }
    }
    for (uint32_t c = 0; c < MYE_PP_CHANNELS; ++c) {
        float x = sample[c];
#if MYE_PP_RECTIFY
        x = fabsf(x);
#endif
#if MYE_PP_HP_STAGES > 0
        float y;
        arm_biquad_cascade_df2T_f32(&pp->highpass[c], &x, &y, 1u);
        x = y;
#endif
        filtered[c] = x;
    }
    mye_ringbuf_push(&pp->ring, filtered);
    if (pp->samples_seen != 0xFFFFFFFFu) {
        pp->samples_seen += 1u;
    }
    if (pp->samples_seen < MYE_PP_WINDOW) {
        return MYE_PP_OK;
    }
    /* The first window ends at sample WINDOW, the next ones every STEP. */
    if (pp->samples_seen == MYE_PP_WINDOW) {
        pp->since_window = 0u;
        return MYE_PP_WINDOW_READY;
    }
    pp->since_window += 1u;
    if (pp->since_window == MYE_PP_STEP) {
        pp->since_window = 0u;
        return MYE_PP_WINDOW_READY;
    }
    return MYE_PP_OK;
}

int mye_pp_window(const mye_pp_t *pp, float out[MYE_PP_WINDOW_VALUES])
{
    if (pp->ring.count < MYE_PP_WINDOW) {
        return MYE_PP_ERR_NO_WINDOW;
    }
    /* Moving average: out[t][c] = (w[t][c] + w[t+1][c] + ... + w[t+M-1][c]) / M,
     * added in that order (the host reference adds in the same order). The
     * window is full, so its oldest row sits in the slot the next push writes. */
    const float *storage = pp->ring.storage;
    const uint32_t oldest = pp->ring.next;
    for (uint32_t t = 0; t < MYE_PP_OUT_STEPS; ++t) {
        float *row_out = &out[t * MYE_PP_CHANNELS];
        uint32_t slot = oldest + t;
        if (slot >= MYE_PP_WINDOW) {
            slot -= MYE_PP_WINDOW;
        }
        const float *row = &storage[slot * MYE_PP_CHANNELS];
        for (uint32_t c = 0; c < MYE_PP_CHANNELS; ++c) {
            row_out[c] = row[c];
        }
        for (uint32_t k = 1; k < MYE_PP_MA_WIDTH; ++k) {
            slot = (slot + 1u == MYE_PP_WINDOW) ? 0u : slot + 1u;
            row = &storage[slot * MYE_PP_CHANNELS];
            for (uint32_t c = 0; c < MYE_PP_CHANNELS; ++c) {
                row_out[c] = row_out[c] + row[c];
            }
        }
        for (uint32_t c = 0; c < MYE_PP_CHANNELS; ++c) {
            row_out[c] = row_out[c] / (float)MYE_PP_MA_WIDTH;
        }
    }
#if MYE_PP_ZSCORE
    /* Population z-score per channel over the window's time steps. */
    for (uint32_t c = 0; c < MYE_PP_CHANNELS; ++c) {
        float total = out[c];
        for (uint32_t t = 1; t < MYE_PP_OUT_STEPS; ++t) {
            total = total + out[t * MYE_PP_CHANNELS + c];
        }
        const float mean = total / (float)MYE_PP_OUT_STEPS;
        float centred = out[c] - mean;
        float squares = centred * centred;
        for (uint32_t t = 1; t < MYE_PP_OUT_STEPS; ++t) {
            centred = out[t * MYE_PP_CHANNELS + c] - mean;
            squares = squares + centred * centred;
        }
        float std = sqrtf(squares / (float)MYE_PP_OUT_STEPS);
        if (std < 1e-12f) {
            std = 1.0f; /* a constant channel is centred, not scaled */
        }
        for (uint32_t t = 0; t < MYE_PP_OUT_STEPS; ++t) {
            out[t * MYE_PP_CHANNELS + c] = (out[t * MYE_PP_CHANNELS + c] - mean) / std;
        }
    }
#endif
#if MYE_PP_REORDER
    /* Image models: model element c of each step is channel channel_order[c]
     * (the electrode grid, row-major; the manifest's MYE_PP_CHANNEL_ORDER). */
    for (uint32_t t = 0; t < MYE_PP_OUT_STEPS; ++t) {
        static float arrived[MYE_PP_CHANNELS];
        float *row_out = &out[t * MYE_PP_CHANNELS];
        for (uint32_t c = 0; c < MYE_PP_CHANNELS; ++c) {
            arrived[c] = row_out[c];
        }
        for (uint32_t c = 0; c < MYE_PP_CHANNELS; ++c) {
            row_out[c] = arrived[channel_order[c]];
        }
    }
#endif
#if MYE_PP_NORMALISE
    for (uint32_t t = 0; t < MYE_PP_OUT_STEPS; ++t) {
        for (uint32_t c = 0; c < MYE_PP_CHANNELS; ++c) {
            out[t * MYE_PP_CHANNELS + c] =
                (out[t * MYE_PP_CHANNELS + c] - norm_mean[MYE_PP_NORM_INDEX(t, c)]) / norm_std[MYE_PP_NORM_INDEX(t, c)];
        }
    }
#endif
    return MYE_PP_OK;
}

void mye_pp_quantize(const float *in, int8_t *out, uint32_t n)
{
    for (uint32_t i = 0; i < n; ++i) {
        float q = roundf(in[i] / MYE_PP_INPUT_SCALE) + (float)(MYE_PP_INPUT_ZERO_POINT);
        if (q != q) {
            q = (float)(MYE_PP_INPUT_ZERO_POINT);
        }
        if (q > 127.0f) {
            q = 127.0f;
        } else if (q < -128.0f) {
            q = -128.0f;
        }
        out[i] = (int8_t)q;
    }
}

int mye_pp_window_int8(mye_pp_t *pp, int8_t out[MYE_PP_WINDOW_VALUES])
{
    int rc = mye_pp_window(pp, pp->scratch);
    if (rc != MYE_PP_OK) {
        return rc;
    }
    mye_pp_quantize(pp->scratch, out, MYE_PP_WINDOW_VALUES);
    return MYE_PP_OK;
}

int mye_pp_raw_window_int8(mye_pp_t *pp, const float *raw, int8_t out[MYE_PP_WINDOW_VALUES])
{
    for (uint32_t i = 0; i < (uint32_t)MYE_PP_WINDOW * MYE_PP_CHANNELS; ++i) {
        if (!isfinite(raw[i])) {
            return MYE_PP_ERR_NOT_FINITE;
        }
    }
    mye_pp_reset(pp);
    for (uint32_t s = 0; s < MYE_PP_WINDOW; ++s) {
        (void)mye_pp_push(pp, &raw[s * MYE_PP_CHANNELS]);
    }
    return mye_pp_window_int8(pp, out);
}
