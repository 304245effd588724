/*
 * preprocess.h - streaming preprocessing of raw sEMG into the model's int8
 * input, per sample, exactly as training did it (float32; see
 * myoedge/board_preprocess.py, the bit-exact host reference).
 *
 * Per sample and channel: rectify (if MYE_PP_RECTIFY), CMSIS-DSP
 * arm_biquad_cascade_df2T_f32 high-pass (MYE_PP_HP_STAGES sections), push
 * into a ring buffer of the last MYE_PP_WINDOW filtered samples. After the
 * first MYE_PP_WINDOW samples and then every MYE_PP_STEP samples a window is
 * ready: moving average of MYE_PP_MA_WIDTH samples ('valid': MYE_PP_OUT_STEPS
 * rows), optional z-score per channel (MYE_PP_ZSCORE), optional (x - mean) /
 * std per channel (MYE_PP_NORMALISE), then int8 quantisation
 * clamp(roundf(x / MYE_PP_INPUT_SCALE) + MYE_PP_INPUT_ZERO_POINT).
 * Window layout: row-major [MYE_PP_OUT_STEPS][MYE_PP_CHANNELS].
 *
 * Parameters come from the model manifest (model_manifest.h, written by
 * quantize/headers.py from the run's PreprocessConfig and the .tflite):
 * MYE_PP_WINDOW, MYE_PP_STEP, MYE_PP_MOVING_AVERAGE, MYE_PP_OUTPUT_STEPS,
 * MYE_PP_RECTIFY, MYE_PP_ZSCORE_WINDOW, MYE_PP_HIGHPASS_SECTIONS,
 * MYE_PP_HIGHPASS_CMSIS_DF2T (b0, b1, b2, -a1, -a2 per section),
 * MYE_NORM_STANDARDIZE, MYE_NORM_LEN, MYE_NORM_MEAN, MYE_NORM_STD,
 * MYE_INPUT_SIZE, MYE_INPUT_SCALE, MYE_INPUT_ZERO_POINT, and optionally
 * MYE_PP_CHANNELS (else MYE_INPUT_SIZE / MYE_PP_OUTPUT_STEPS).
 * This header maps them onto the short names below. The host reference
 * (myoedge.board_preprocess.params_from_manifest) reads the same macros.
 * Build with -ffp-contract=off: the host reference does no fused multiply-add.
 */
#ifndef MYOEDGE_PREPROCESS_H
#define MYOEDGE_PREPROCESS_H

#include <stdint.h>

#include "model_manifest.h"
#include "ringbuf.h"

#if !defined(MYE_PP_WINDOW) || !defined(MYE_PP_STEP) || !defined(MYE_PP_MOVING_AVERAGE) || \
    !defined(MYE_PP_OUTPUT_STEPS) || !defined(MYE_INPUT_SIZE) || !defined(MYE_INPUT_SCALE) || \
    !defined(MYE_INPUT_ZERO_POINT)
#error "preprocess: model_manifest.h lacks the preprocessing / input quantisation macros"
#endif

#define MYE_PP_MA_WIDTH MYE_PP_MOVING_AVERAGE
#define MYE_PP_OUT_STEPS MYE_PP_OUTPUT_STEPS
#ifndef MYE_PP_CHANNELS
#define MYE_PP_CHANNELS (MYE_INPUT_SIZE / MYE_PP_OUTPUT_STEPS)
#endif
#ifndef MYE_PP_RECTIFY
#define MYE_PP_RECTIFY 0
#endif
#ifdef MYE_PP_ZSCORE_WINDOW
#define MYE_PP_ZSCORE MYE_PP_ZSCORE_WINDOW
#else
#define MYE_PP_ZSCORE 0
#endif
#ifdef MYE_PP_HIGHPASS_SECTIONS
#define MYE_PP_HP_STAGES MYE_PP_HIGHPASS_SECTIONS
#else
#define MYE_PP_HP_STAGES 0
#endif
#if MYE_PP_HP_STAGES > 0
#define MYE_PP_HP_COEFFS MYE_PP_HIGHPASS_CMSIS_DF2T
#endif
#if defined(MYE_NORM_STANDARDIZE) && MYE_NORM_STANDARDIZE
#define MYE_PP_NORMALISE 1
#if MYE_NORM_LEN == MYE_PP_CHANNELS
#define MYE_PP_NORM_INDEX(t, c) (c) /* one mean / std per channel */
#elif MYE_NORM_LEN == MYE_PP_CHANNELS * MYE_PP_OUTPUT_STEPS
#define MYE_PP_NORM_INDEX(t, c) ((t) * MYE_PP_CHANNELS + (c)) /* one per input element */
#else
#error "preprocess: MYE_NORM_LEN must be the channel count or the input size"
#endif
#else
#define MYE_PP_NORMALISE 0
#endif
#ifndef MYE_PP_REORDER
#define MYE_PP_REORDER 0 /* the model takes the channels in the order they arrive */
#endif
#define MYE_PP_INPUT_SCALE MYE_INPUT_SCALE
#define MYE_PP_INPUT_ZERO_POINT MYE_INPUT_ZERO_POINT

#if MYE_PP_HP_STAGES > 0
#include "dsp/filtering_functions.h"
#endif

#if MYE_PP_WINDOW < 1 || MYE_PP_STEP < 1 || MYE_PP_MA_WIDTH < 1 || MYE_PP_MA_WIDTH > MYE_PP_WINDOW
#error "preprocess: manifest needs WINDOW >= 1, STEP >= 1, 1 <= MOVING_AVERAGE <= WINDOW"
#endif
#if MYE_PP_OUT_STEPS != (MYE_PP_WINDOW - MYE_PP_MA_WIDTH + 1)
#error "preprocess: MYE_PP_OUTPUT_STEPS must be WINDOW - MOVING_AVERAGE + 1"
#endif
#if MYE_PP_CHANNELS * MYE_PP_OUT_STEPS != MYE_INPUT_SIZE
#error "preprocess: the window (OUTPUT_STEPS x channels) must fill the model input"
#endif

#define MYE_PP_WINDOW_VALUES (MYE_PP_OUT_STEPS * MYE_PP_CHANNELS)

/* Return codes. */
#define MYE_PP_OK 0
#define MYE_PP_WINDOW_READY 1
#define MYE_PP_ERR_NOT_FINITE (-1) /* a NaN or infinite sample: dropped, state unchanged */
#define MYE_PP_ERR_NO_WINDOW (-2)  /* fewer than MYE_PP_WINDOW samples seen since reset */

typedef struct {
#if MYE_PP_HP_STAGES > 0
    arm_biquad_cascade_df2T_instance_f32 highpass[MYE_PP_CHANNELS];
    float32_t highpass_state[MYE_PP_CHANNELS][2 * MYE_PP_HP_STAGES];
#endif
    float ring_storage[MYE_PP_WINDOW * MYE_PP_CHANNELS];
    mye_ringbuf_t ring;        /* the last MYE_PP_WINDOW filtered samples */
    uint32_t samples_seen;     /* since reset (saturates at 0xFFFFFFFF) */
    uint32_t since_window;     /* samples since the last window was ready */
    float scratch[MYE_PP_WINDOW_VALUES]; /* float window on its way to int8 (off the stack) */
} mye_pp_t;

/* Set up and reset (zero filter state, empty window). */
void mye_pp_init(mye_pp_t *pp);
void mye_pp_reset(mye_pp_t *pp);

/* Feed one sample of MYE_PP_CHANNELS raw values. Returns MYE_PP_WINDOW_READY
 * when this sample completed a window (fetch it with mye_pp_window*),
 * MYE_PP_OK otherwise, or MYE_PP_ERR_NOT_FINITE (sample dropped). */
int mye_pp_push(mye_pp_t *pp, const float sample[MYE_PP_CHANNELS]);

/* The preprocessed float window of the last MYE_PP_WINDOW samples.
 * MYE_PP_OK, or MYE_PP_ERR_NO_WINDOW before enough samples. */
int mye_pp_window(const mye_pp_t *pp, float out[MYE_PP_WINDOW_VALUES]);

/* Same, quantised to the model's int8 input. */
int mye_pp_window_int8(mye_pp_t *pp, int8_t out[MYE_PP_WINDOW_VALUES]);

/* INFER on a raw window: reset, push MYE_PP_WINDOW samples
 * (raw[MYE_PP_WINDOW][MYE_PP_CHANNELS]) and quantise the window.
 * MYE_PP_OK or MYE_PP_ERR_NOT_FINITE (nothing written to out). */
int mye_pp_raw_window_int8(mye_pp_t *pp, const float *raw, int8_t out[MYE_PP_WINDOW_VALUES]);

/* clamp(roundf(x / MYE_PP_INPUT_SCALE) + MYE_PP_INPUT_ZERO_POINT) for n values
 * (NaN -> the zero point). */
void mye_pp_quantize(const float *in, int8_t *out, uint32_t n);

#endif /* MYOEDGE_PREPROCESS_H */
