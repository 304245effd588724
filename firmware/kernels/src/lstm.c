/*
 * lstm.c - UNIDIRECTIONAL_SEQUENCE_LSTM with int8 activations and weights,
 * int32 biases and an int16 cell state, as TFLM's integer LSTM computes it.
 *
 * Per time step and batch row:
 *   gate pre-activations (Q3.12 int16) = sat16(FC(x, W_gate) + bias) +sat FC(h, R_gate)
 *   forget, input, output gates = sigmoid (int16 table with interpolation)
 *   cell gate = tanh (same table, tanh(x) = 2 sigmoid(2x) - 1)
 *   c = sat16(forget * c) +sat (input * cell_gate), optionally clipped
 *   h = int8(tanh(c) * output_gate), requantised to the hidden scale
 * The multiplies use the int16 element-wise MUL arithmetic (one quantised
 * multiplier each); the FC dot products use mye_dot_s8 (DSP SMLAD on
 * Cortex-M with the DSP extension, plain C elsewhere, identical results).
 */
#include "mye_kernels.h"
#include "mye_dsp.h"

/*
 * sigmoid(i / 24) in Q0.16 for i = 0..255, the values TFLM's int16
 * logistic/tanh interpolate between (numeric constants needed for
 * bit-exactness; close to round(65536 / (1 + exp(-i / 24))), adjusted by TFLM
 * for linear interpolation).
 */
static const uint16_t sigmoid_q16[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841,
    39498, 40149, 40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102,
    45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464,
    50942, 51409, 51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755,
    55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433, 57724, 58007,
    58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036,
    62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968,
    64030, 64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450, 64494,
    64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845,
    64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234,
    65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337,
    65345, 65352, 65360, 65367, 65374, 65381, 65387, 65393, 65399, 65404,
    65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479,
    65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511,
    65512, 65513, 65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520,
    65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524, 65525, 65525,
    65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529,
    65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531, 65531, 65531,
    65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65534, 65534, 65535,};

/* Q3.12 int16 -> sigmoid in Q0.15 (TFLM int16 Logistic, power-of-two input scale). */
static int16_t sigmoid_s16(int16_t x)
{
    const int32_t scaled = (int32_t)x * 3; /* 3/4 range expansion with the table's /24 step */
    const uint32_t magnitude = (uint32_t)(scaled < 0 ? -scaled : scaled);
    const uint32_t index = magnitude >> 9;
    uint32_t result;
    if (index >= 255u) {
        result = (uint32_t)0x7FFF << 10;
    } else {
        const uint32_t low = sigmoid_q16[index];
        const uint32_t high = sigmoid_q16[index + 1u];
        const uint32_t fraction = magnitude & 0x1FFu;
        result = (low << 9) + fraction * (high - low);
    }
    if (scaled >= 0) {
        result = result + (1u << 9);
    } else {
        result = (1u << (16 + 9)) - result + (1u << 9) - 1u;
    }
    return (int16_t)(result >> 10);
}

/*
 * int16 -> tanh in Q0.15 (TFLM int16 Tanh): the input is first scaled by
 * multiplier / 2^left_shift (rounding), which folds in the table's 3/4.
 */
static int16_t tanh_s16(int16_t x, int32_t multiplier, int32_t left_shift)
{
    const int32_t round = left_shift > 0 ? ((int32_t)1 << (left_shift - 1)) : 0;
    const int32_t scaled = ((int32_t)x * multiplier + round) >> left_shift;
    const uint32_t magnitude = (uint32_t)(scaled < 0 ? -scaled : scaled);
    const uint32_t index = magnitude >> 8;
    int32_t result;
    if (index >= 255u) {
        result = (int32_t)(0xFFFFu << 8);
    } else {
        const uint32_t low = sigmoid_q16[index];
        const uint32_t high = sigmoid_q16[index + 1u];
        const uint32_t fraction = magnitude & 0xFFu;
        result = (int32_t)((low << 8) + fraction * (high - low));
    }
    if (scaled >= 0) {
        result = result - (1 << (14 + 9)) + (1 << (9 - 2));
    } else {
        result = -result + (1 << (14 + 9)) + (1 << (9 - 2)) - 1;
    }
    return (int16_t)(result >> (9 - 1));
}

/* Saturating int16 add. */
static inline int16_t add_sat_s16(int16_t a, int16_t b)
{
    return mye_sat_s16((int32_t)a + (int32_t)b);
}

/* int16 x int16 element-wise MUL requantised to int16 (zero points 0). */
static inline int16_t mul_s16(int16_t a, int16_t b, int32_t multiplier, int32_t shift)
{
    return mye_sat_s16(mye_mul_by_quantized_multiplier((int32_t)a * (int32_t)b, multiplier, shift));
}

/* out[i] = sat16(MBQM(sum_j (x[j] + x_offset) * w[i][j] + bias[i])), i < rows. */
static void fc_to_s16(const int8_t *x, int32_t x_offset, const int8_t *weights, const int32_t *bias,
                      int32_t rows, int32_t cols, int32_t multiplier, int32_t shift, int16_t *out)
{
    int32_t i;
    for (i = 0; i < rows; ++i) {
        int32_t acc = mye_dot_s8(x, x_offset, weights + i * cols, 0, cols);
        if (bias != 0) {
            acc = (int32_t)((uint32_t)acc + (uint32_t)bias[i]);
        }
        out[i] = mye_sat_s16(mye_mul_by_quantized_multiplier(acc, multiplier, shift));
    }
}

/* One gate's pre-activation for one batch row: input FC + recurrent FC, saturated. */
static void gate_preactivation(const mye_lstm_params_t *p, const mye_lstm_gate_t *g, const int8_t *x,
                               const int8_t *h, int16_t *out, int16_t *tmp)
{
    int32_t i;
    fc_to_s16(x, p->input_offset, g->input_weights, g->bias, p->state_dim, p->input_dim,
              g->input_multiplier, g->input_shift, out);
    fc_to_s16(h, p->hidden_offset, g->recurrent_weights, 0, p->state_dim, p->state_dim,
              g->recurrent_multiplier, g->recurrent_shift, tmp);
    for (i = 0; i < p->state_dim; ++i) {
        out[i] = add_sat_s16(out[i], tmp[i]);
    }
}

/* One LSTM step for one batch row; updates c (int16) and h (int8) in place. */
static void lstm_step(const mye_lstm_params_t *p, const int8_t *x, int8_t *h, int16_t *c,
                      int16_t *forget, int16_t *in_gate, int16_t *cell_gate, int16_t *tmp)
{
    const int32_t n = p->state_dim;
    int32_t i;
    gate_preactivation(p, &p->gates[MYE_LSTM_GATE_FORGET], x, h, forget, tmp);
    for (i = 0; i < n; ++i) {
        forget[i] = sigmoid_s16(forget[i]);
    }
    gate_preactivation(p, &p->gates[MYE_LSTM_GATE_INPUT], x, h, in_gate, tmp);
    for (i = 0; i < n; ++i) {
        in_gate[i] = sigmoid_s16(in_gate[i]);
    }
    gate_preactivation(p, &p->gates[MYE_LSTM_GATE_CELL], x, h, cell_gate, tmp);
    for (i = 0; i < n; ++i) {
        /* Gate pre-activations are Q3.12: scale 3 with no shift. */
        cell_gate[i] = tanh_s16(cell_gate[i], 3, 0);
    }
    /* Cell update: c = forget * c + input * cell_gate. */
    for (i = 0; i < n; ++i) {
        const int16_t kept = mul_s16(forget[i], c[i], p->forget_cell_multiplier, p->forget_cell_shift);
        const int16_t added = mul_s16(in_gate[i], cell_gate[i], p->input_cell_multiplier,
                                      p->input_cell_shift);
        int16_t updated = add_sat_s16(kept, added);
        if (p->cell_clip > 0) {
            updated = (int16_t)mye_clamp_s32(updated, -p->cell_clip, p->cell_clip);
        }
        c[i] = updated;
    }
    /* Output gate (reads the previous hidden state, like the other gates). */
    gate_preactivation(p, &p->gates[MYE_LSTM_GATE_OUTPUT], x, h, forget, tmp);
    for (i = 0; i < n; ++i) {
        const int16_t out_gate = sigmoid_s16(forget[i]);
        const int16_t cell_tanh = tanh_s16(c[i], p->cell_tanh_multiplier, p->cell_tanh_left_shift);
        const int32_t y = mye_mul_by_quantized_multiplier((int32_t)cell_tanh * (int32_t)out_gate,
                                                          p->output_multiplier, p->output_shift) +
                          p->hidden_zero_point;
        h[i] = mye_sat_s8(y);
    }
}

void mye_lstm_s8(const mye_lstm_params_t *p, const int8_t *input, int8_t *hidden_state,
                 int16_t *cell_state, int8_t *output, int16_t *scratch)
{
    const int32_t n = p->state_dim;
    int16_t *forget = scratch;                          /* 4 gate buffers of [state] */
    int16_t *in_gate = forget + n;
    int16_t *cell_gate = in_gate + n;
    int16_t *tmp = cell_gate + n;
    int32_t b;
    int32_t t;
    int32_t i;
    for (b = 0; b < p->batches; ++b) {
        int8_t *h = hidden_state + b * n;
        int16_t *c = cell_state + b * n;
        for (t = 0; t < p->time_steps; ++t) {
            const int32_t row = p->time_major ? t * p->batches + b : b * p->time_steps + t;
            lstm_step(p, input + row * p->input_dim, h, c, forget, in_gate, cell_gate, tmp);
            for (i = 0; i < n; ++i) {
                output[row * n + i] = h[i];
            }
        }
    }
}
