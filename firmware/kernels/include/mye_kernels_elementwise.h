/*
 * mye_kernels_elementwise.h - element-wise, reduction, activation, softmax and
 * LSTM kernels of the myoedge int8 library (included by mye_kernels.h).
 *
 * Every parameter struct is filled ahead of time by the Python emitters in
 * quantize/aot/ops_*.py with the numbers TFLM's Prepare functions compute
 * (quantize/aot/quant_math.py), so the kernels do integer work only.
 * Offsets follow mye_kernels.h: "input*_offset" is minus the input zero point,
 * "output_offset" the output zero point (exceptions are named "*_zero_point").
 */
#ifndef MYE_KERNELS_ELEMENTWISE_H
#define MYE_KERNELS_ELEMENTWISE_H

#include <stdint.h>

#include "mye_fixedpoint.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MYE_MAX_DIMS
#define MYE_MAX_DIMS 6
#endif

/* ---- rescaling in fewer instructions, same results ----------------------------- */

/*
 * Equal to mye_sat_rounding_doubling_high_mul for every input. For a product
 * p = a * b the reference computes (p + nudge) / 2^31 truncated toward zero,
 * nudge = 2^30 for p >= 0 and 1 - 2^30 for p < 0. For p < 0 that is
 * ceil((p + 1 - 2^30) / 2^31) = floor((p + 2^30) / 2^31), so both signs
 * reduce to (p + 2^30) >> 31 (arithmetic shift, as GCC defines it): one
 * SMLAL-style multiply-add and a 64-bit shift instead of a 64-bit signed
 * division. The one overflow, INT32_MIN * INT32_MIN, still saturates.
 */
static inline int32_t mye_srdhm_fast(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/* Equal to mye_rounding_divide_by_pot for 0 <= exponent <= 31, with a 32-bit mask. */
static inline int32_t mye_rdbp_fast(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)((1u << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* Equal to mye_mul_by_quantized_multiplier (TFLM's double-rounding rescale). */
static inline int32_t mye_requantize_fast(int32_t x, int32_t multiplier, int shift)
{
    const int left_shift = shift > 0 ? shift : 0;
    const int right_shift = shift > 0 ? 0 : -shift;
    return mye_rdbp_fast(mye_srdhm_fast((int32_t)((uint32_t)x << left_shift), multiplier), right_shift);
}

/*
 * A rescale (shift decomposed, rounding mask ready) set up once per kernel
 * call, so the per-element work is one multiply-add, a shift and the
 * rounding fix-up. mye_rescale_apply(mye_rescale_make(m, s), x) equals
 * mye_mul_by_quantized_multiplier(x, m, s) for every x, provided
 * m != INT32_MIN (quantised multipliers lie in [2^30, 2^31) or are 0; the
 * kernels fall back to mye_requantize_fast otherwise).
 */
typedef struct {
    int32_t multiplier;
    int32_t left_shift;
    int32_t right_shift;
    int32_t mask;        /* 2^right_shift - 1 */
    int32_t half_mask;   /* mask >> 1 */
} mye_rescale_t;

static inline mye_rescale_t mye_rescale_make(int32_t multiplier, int32_t left_shift, int32_t right_shift)
{
    mye_rescale_t r;
    r.multiplier = multiplier;
    r.left_shift = left_shift;
    r.right_shift = right_shift;
    r.mask = (int32_t)((1u << right_shift) - 1u);
    r.half_mask = r.mask >> 1;
    return r;
}

/* TFLM's shift convention: shift > 0 shifts left before the multiply, < 0 right after. */
static inline mye_rescale_t mye_rescale_from_shift(int32_t multiplier, int32_t shift)
{
    return mye_rescale_make(multiplier, shift > 0 ? shift : 0, shift > 0 ? 0 : -shift);
}

static inline int32_t mye_rescale_apply(mye_rescale_t r, int32_t x)
{
    const int32_t shifted = (int32_t)((uint32_t)x << r.left_shift);
    const int32_t high = (int32_t)(((int64_t)shifted * (int64_t)r.multiplier + ((int64_t)1 << 30)) >> 31);
    const int32_t remainder = high & r.mask;
    const int32_t threshold = r.half_mask + (high < 0 ? 1 : 0);
    return (high >> r.right_shift) + (remainder > threshold ? 1 : 0);
}

/* ---- elementwise.c: binary ops with NumPy-style broadcasting ----------------- */

/*
 * How two inputs map onto the output. When `broadcast` is 0 both inputs have
 * the output's shape and the kernel runs one flat loop over `flat_size`
 * elements. Otherwise the output shape is padded on the left to MYE_MAX_DIMS
 * and each input has an element stride per output axis (0 where that input
 * is broadcast along the axis).
 */
typedef struct {
    int32_t broadcast;
    int32_t flat_size;
    int32_t out_shape[MYE_MAX_DIMS];
    int32_t in1_strides[MYE_MAX_DIMS];
    int32_t in2_strides[MYE_MAX_DIMS];
} mye_broadcast_t;

/* ADD and SUB int8: both inputs rescaled to a common scale (left_shift 20). */
typedef struct {
    mye_broadcast_t shape;
    int32_t input1_offset;
    int32_t input2_offset;
    int32_t output_offset;
    int32_t left_shift;
    int32_t input1_multiplier;
    int32_t input1_shift;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t activation_min;
    int32_t activation_max;
} mye_add_params_t;

void mye_add_s8(const mye_add_params_t *p, const int8_t *input1, const int8_t *input2,
                int8_t *output);
void mye_sub_s8(const mye_add_params_t *p, const int8_t *input1, const int8_t *input2,
                int8_t *output);

/* MUL and DIV int8: one output multiplier applied to the product / quotient. */
typedef struct {
    mye_broadcast_t shape;
    int32_t input1_offset;
    int32_t input2_offset;
    int32_t output_offset;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t activation_min;
    int32_t activation_max;
} mye_mul_params_t;

void mye_mul_s8(const mye_mul_params_t *p, const int8_t *input1, const int8_t *input2,
                int8_t *output);
/* DIV int8. A zero divisor (input2 == its zero point) gives the saturated
 * value in the sign of the dividend (TFLM leaves it undefined). For tiny
 * dividends TFLM's final shift exceeds 31 bits (undefined in C++); the kernel
 * reproduces what TFLM's x86 build returns there (see elementwise.c). */
void mye_div_s8(const mye_mul_params_t *p, const int8_t *input1, const int8_t *input2,
                int8_t *output);

/* Table lookup: output[i] = table[input[i] + 128]. Any int8 -> int8 function. */
void mye_lut_s8(const int8_t *table, const int8_t *input, int8_t *output, int32_t size);

/* ---- reduce.c: MEAN and SUM over any set of axes ------------------------------ */

/*
 * The input shape is padded on the left to MYE_MAX_DIMS; out_strides gives
 * the output element stride of each input axis (0 for a reduced axis), so
 * keep_dims does not matter to the kernel. The int32 partial sums live in
 * `scratch` (num_outputs entries, from the arena).
 */
typedef struct {
    int32_t in_shape[MYE_MAX_DIMS];
    int32_t out_strides[MYE_MAX_DIMS];
    int32_t num_outputs;
    int32_t count;                 /* input elements per output element */
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier;            /* MEAN: already divided by count as TFLM does */
    int32_t shift;
} mye_reduce_params_t;

/* MEAN and SUM int8 (the emitter picks multiplier/shift for each). */
void mye_reduce_sum_s8(const mye_reduce_params_t *p, const int8_t *input, int32_t *scratch,
                       int8_t *output);

/* ---- activations.c ------------------------------------------------------------ */

/* LOGISTIC / TANH int8 (gemmlowp fixed point, input in Q4). */
typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t input_range_radius;
    int32_t input_multiplier;
    int32_t input_left_shift;
} mye_sigmoid_params_t;

/* LOGISTIC: output scale 1/256, zero point -128. */
void mye_logistic_s8(const mye_sigmoid_params_t *p, const int8_t *input, int8_t *output);
/* TANH: output scale 1/128, zero point 0. */
void mye_tanh_s8(const mye_sigmoid_params_t *p, const int8_t *input, int8_t *output);

/* HARD_SWISH int8 (16-bit fixed point as TFLM's reference). */
typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t reluish_multiplier;    /* Q0.15 */
    int32_t reluish_exponent;
    int32_t output_multiplier;     /* Q0.15 */
    int32_t output_exponent;       /* <= 0 */
} mye_hard_swish_params_t;

void mye_hard_swish_s8(const mye_hard_swish_params_t *p, const int8_t *input, int8_t *output);

/* RSQRT int8. Inputs below the zero point are invalid (TFLM fails); they give 127 here. */
typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier;
    int32_t shift;
} mye_rsqrt_params_t;

void mye_rsqrt_s8(const mye_rsqrt_params_t *p, const int8_t *input, int8_t *output);

/* SOFTMAX int8 -> int8 (output scale 1/256, zero point -128) over the last axis. */
typedef struct {
    int32_t outer_size;            /* rows */
    int32_t depth;                 /* last axis length */
    int32_t input_multiplier;
    int32_t input_left_shift;
    int32_t diff_min;              /* differences below this give exp = 0 */
    const int32_t *exp_table;      /* NULL, or exp(-d) in Q0 for d = 0..255 (0 below diff_min) */
} mye_softmax_params_t;

void mye_softmax_s8(const mye_softmax_params_t *p, const int8_t *input, int8_t *output);

/* ---- lstm.c: UNIDIRECTIONAL_SEQUENCE_LSTM, int8 activations, int16 cell state ---- */

/* One gate: input FC (with the gate bias) + recurrent FC, both to Q3.12 int16. */
typedef struct {
    const int8_t *input_weights;      /* [state_dim][input_dim] */
    const int8_t *recurrent_weights;  /* [state_dim][state_dim] */
    const int32_t *bias;              /* [state_dim], may be NULL */
    int32_t input_multiplier;
    int32_t input_shift;
    int32_t recurrent_multiplier;
    int32_t recurrent_shift;
} mye_lstm_gate_t;

typedef struct {
    int32_t batches;
    int32_t time_steps;
    int32_t input_dim;
    int32_t state_dim;
    int32_t time_major;               /* 1: input is [time][batch][input_dim] */
    int32_t input_offset;             /* -input zero point */
    int32_t hidden_offset;            /* -hidden state zero point */
    int32_t hidden_zero_point;        /* zero point of the hidden state / output */
    mye_lstm_gate_t gates[4];         /* MYE_LSTM_GATE_* order */
    int32_t forget_cell_multiplier;   /* forget gate x cell state -> cell state */
    int32_t forget_cell_shift;
    int32_t input_cell_multiplier;    /* input gate x cell gate -> cell state */
    int32_t input_cell_shift;
    int32_t output_multiplier;        /* tanh(cell) x output gate -> hidden (int8) */
    int32_t output_shift;
    int32_t cell_tanh_multiplier;     /* int16 tanh input scaling of the cell state */
    int32_t cell_tanh_left_shift;
    int32_t cell_clip;                /* quantised clip, 0 = none */
    const uint16_t *sigmoid_table;    /* 256 x sigmoid(i/24) in Q0.16 (quantize/aot/lut_tables.py) */
} mye_lstm_params_t;

#define MYE_LSTM_GATE_INPUT 0
#define MYE_LSTM_GATE_FORGET 1
#define MYE_LSTM_GATE_CELL 2
#define MYE_LSTM_GATE_OUTPUT 3

/* Scratch bytes mye_lstm_s8 needs: four int16 gate buffers of state_dim. */
#define MYE_LSTM_SCRATCH_BYTES(state_dim) (8 * (int32_t)(state_dim))

/*
 * Runs the whole sequence, writing the hidden state of every step to
 * `output` ([batch][time][state] or [time][batch][state], as the input).
 * `hidden_state` (int8, [batch][state]) and `cell_state` (int16) are the
 * op's variable tensors: read as the initial state and left holding the
 * final one, so the state carries over between calls exactly as in TFLM
 * until the caller resets it (hidden = its zero point, cell = 0).
 * `scratch` holds MYE_LSTM_SCRATCH_BYTES(state_dim) bytes, 2-byte aligned.
 */
void mye_lstm_s8(const mye_lstm_params_t *p, const int8_t *input, int8_t *hidden_state,
                 int16_t *cell_state, int8_t *output, int16_t *scratch);

#ifdef __cplusplus
}
#endif

#endif /* MYE_KERNELS_ELEMENTWISE_H */
