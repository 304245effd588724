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
 * The int16 sigmoid and tanh interpolate linearly in a 256-entry uint16
 * table of sigmoid(i / 24) in Q0.16 (p->sigmoid_table). The table is data of
 * the model, generated from its formula by quantize/aot/lut_tables.py
 * (samples corrected by half the interpolation error at each midpoint) and
 * emitted with the model's C, so the kernel holds no numeric table itself.
 */

/* Q3.12 int16 -> sigmoid in Q0.15 (TFLM int16 Logistic, power-of-two input scale). */
static int16_t sigmoid_s16(const uint16_t *table, int16_t x)
{
    const int32_t scaled = (int32_t)x * 3; /* 3/4 range expansion with the table's /24 step */
    const uint32_t magnitude = (uint32_t)(scaled < 0 ? -scaled : scaled);
    const uint32_t index = magnitude >> 9;
    uint32_t result;
    if (index >= 255u) {
        result = (uint32_t)0x7FFF << 10;
    } else {
        const uint32_t low = table[index];
        const uint32_t high = table[index + 1u];
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
static int16_t tanh_s16(const uint16_t *table, int16_t x, int32_t multiplier, int32_t left_shift)
{
    const int32_t round = left_shift > 0 ? ((int32_t)1 << (left_shift - 1)) : 0;
    const int32_t scaled = ((int32_t)x * multiplier + round) >> left_shift;
    const uint32_t magnitude = (uint32_t)(scaled < 0 ? -scaled : scaled);
    const uint32_t index = magnitude >> 8;
    int32_t result;
    if (index >= 255u) {
        result = (int32_t)(0xFFFFu << 8);
    } else {
        const uint32_t low = table[index];
        const uint32_t high = table[index + 1u];
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
        forget[i] = sigmoid_s16(p->sigmoid_table, forget[i]);
    }
    gate_preactivation(p, &p->gates[MYE_LSTM_GATE_INPUT], x, h, in_gate, tmp);
    for (i = 0; i < n; ++i) {
        in_gate[i] = sigmoid_s16(p->sigmoid_table, in_gate[i]);
    }
    gate_preactivation(p, &p->gates[MYE_LSTM_GATE_CELL], x, h, cell_gate, tmp);
    for (i = 0; i < n; ++i) {
        /* Gate pre-activations are Q3.12: scale 3 with no shift. */
        cell_gate[i] = tanh_s16(p->sigmoid_table, cell_gate[i], 3, 0);
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
        const int16_t out_gate = sigmoid_s16(p->sigmoid_table, forget[i]);
        const int16_t cell_tanh = tanh_s16(p->sigmoid_table, c[i], p->cell_tanh_multiplier,
                                            p->cell_tanh_left_shift);
        const int32_t y = mye_mul_by_quantized_multiplier((int32_t)cell_tanh * (int32_t)out_gate,
                                                          p->output_multiplier, p->output_shift) +
                          p->hidden_zero_point;
        h[i] = mye_sat_s8(y);
    }
}

/*
 * Access order (the arena planner relies on it, quantize/aot/overlap.py): one
 * row (batch, step) at a time, its input row read completely before its
 * output row is written; with batch-major input the rows go in increasing
 * address order, so the output may start below the end of the input.
 */
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
    if (p->sigmoid_table == 0) {
        return; /* generated parameters always carry the table */
    }
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
