/*
 * fully_connected.c - FULLY_CONNECTED, int8 activations and weights.
 *
 * For every input row b and output unit o:
 *   acc = sum_d (w[o][d] + filter_offset) * (x[b][d] + input_offset) + bias[o]
 *   y   = clamp(requantise(acc, multiplier[o or 0], shift[o or 0]) + output_offset)
 * exactly as TFLM's reference integer kernel computes it.
 *
 * Paths (offsets zero: the generator folds the input offset into the bias
 * for symmetric weights, the usual case):
 *  - mye_fully_connected_s8, several rows: 2 rows x 2 units per pass, each
 *    input and weight word sign-extended once (SXTB16) and used twice
 *    (8 SMLAD per 16 MACs); each unit's requantisation is set up once for
 *    all rows. On the target the inner loop is inline assembly (22
 *    instructions per 16 MACs; GCC 12 spills four registers there).
 *  - mye_fully_connected_s8, one row: units in pairs sharing one
 *    sign-extended input word (mye_dot2_s8), a last odd unit via mye_dot_s8.
 *  - mye_fully_connected_blocked_s8 (one row; weights in blocks of four
 *    units, written by quantize/aot/ops_fc_blocked.py): the input row is
 *    sign-extended once per call into halfword pairs on the stack, then per
 *    16 MACs one LDRD (input pairs), one LDM (four weight words), 8 SXTB16,
 *    8 SMLAD: 19 instructions in the target's assembly loop (two chunks per pass).
 *  - any non-zero offset: one unit at a time through mye_dot_s8 (SADD16 adds
 *    the offsets to the sign-extended pairs on the DSP path).
 * The DSP path is taken with __ARM_FEATURE_DSP (inline assembly for the two
 * inner loops named above, ACLE intrinsics elsewhere) and with
 * MYE_EMULATE_DSP on the host (the intrinsics written out in C, the same
 * loops in C instead of assembly); the portable path runs the same blocking
 * with scalar multiply-accumulates. All sum the same int32 products with
 * wrapping adds, so they agree bit for bit. The requantisation (64-bit high
 * multiply and rounding shift) is scalar on every path: it runs once per
 * output, not per MAC. The assembly loops need word-aligned weights (the
 * generator aligns its const arrays to 16 bytes).
 */
#include <stdint.h>
#include <string.h>

#include "mye_kernels.h"
#include "mye_dsp.h"

/* Requantise one accumulator and clamp it to the activation range. */
static inline int8_t fc_output(const mye_fully_connected_params_t *p, int32_t acc, int32_t unit)
{
    const int32_t q = p->per_channel ? unit : 0;
    int32_t y = mye_requantize_fast(acc, p->output_multiplier[q], (int)p->output_shift[q]);
    y += p->output_offset;
    return (int8_t)mye_clamp_s32(y, p->activation_min, p->activation_max);
}

/*
 * Outputs of `count` consecutive units (unit0, unit0 + 1, ...) from raw dot
 * products acc[0..count), written `out_step` bytes apart. Everything is read
 * into locals first (the int8 output may alias anything, so GCC would reload
 * the parameters after every store), and the rescale is spelled out with the
 * fast exact forms (mye_kernels_elementwise.h).
 */
static inline __attribute__((always_inline)) void fc_finish_units(const mye_fully_connected_params_t *p,
                                                                  const int32_t *bias, const int32_t *acc,
                                                                  int32_t count, int32_t unit0, int8_t *out,
                                                                  int32_t out_step)
{
    const int32_t step = p->per_channel ? 1 : 0;
    const int32_t *multiplier = p->output_multiplier + step * unit0;
    const int32_t *shift = p->output_shift + step * unit0;
    const int32_t *unit_bias = bias != 0 ? bias + unit0 : 0;
    const int32_t output_offset = p->output_offset;
    const int32_t act_min = p->activation_min;
    const int32_t act_max = p->activation_max;
    int32_t k;
    for (k = 0; k < count; ++k) {
        const int32_t m = multiplier[k * step];
        const int32_t s = shift[k * step];
        const int32_t sum = unit_bias != 0 ? (int32_t)((uint32_t)acc[k] + (uint32_t)unit_bias[k]) : acc[k];
        int32_t y;
        if (m == INT32_MIN) {
            y = mye_requantize_fast(sum, m, (int)s);
        } else {
            const int32_t left = s > 0 ? s : 0;
            const int32_t right = s > 0 ? 0 : -s;
            const int32_t shifted = (int32_t)((uint32_t)sum << left);
            const int32_t high = (int32_t)(((int64_t)shifted * (int64_t)m + ((int64_t)1 << 30)) >> 31);
            const int32_t mask = (int32_t)((1u << right) - 1u);
            const int32_t threshold = (mask >> 1) - (high >> 31);
            y = (high >> right) + ((high & mask) > threshold ? 1 : 0);
        }
        y += output_offset;
        out[k * out_step] = (int8_t)mye_clamp_s32(y, act_min, act_max);
    }
}

/*
 * Two input rows x two units: acc[r][k] = sum_i x_r[i] * w_k[i] (no offsets),
 * int32 wrapping. Each input word and each weight word is sign-extended once
 * and used twice: 20 instructions per 16 MACs on the DSP path.
 */
static inline void dot2x2_s8(const int8_t *x0, const int8_t *x1, const int8_t *w0, const int8_t *w1,
                             int32_t n, int32_t acc[4])
{
    uint32_t s00 = 0;
    uint32_t s01 = 0;
    uint32_t s10 = 0;
    uint32_t s11 = 0;
    int32_t i = 0;
#if defined(MYE_USE_DSP)
    {
        int32_t a00 = 0;
        int32_t a01 = 0;
        int32_t a10 = 0;
        int32_t a11 = 0;
#if defined(__ARM_FEATURE_DSP) && !defined(MYE_EMULATE_DSP)
        /*
         * On the target, assembly: x1 = x0 + n and w1 = w0 + n (rows and units
         * are n bytes apart), so one offset register reaches both and the 14
         * live values fit the core's registers (GCC 12 spills four of them).
         * Same SXTB16 / SMLAD work as the C loop below.
         */
        if (x1 == x0 + n && w1 == w0 + n && n >= 4) {
            const int8_t *px = x0;
            const int8_t *pw = w0;
            int32_t chunks = n / 4;
            uint32_t t;
            uint32_t u;
            uint32_t x0a;
            uint32_t x0b;
            uint32_t x1a;
            uint32_t x1b;
            __asm__ volatile(
                "1:\n\t"
                "ldr %[t], [%[px], %[n]]\n\t"
                "sxtb16 %[x1a], %[t]\n\t"
                "sxtb16 %[x1b], %[t], ror #8\n\t"
                "ldr %[t], [%[px]], #4\n\t"
                "sxtb16 %[x0a], %[t]\n\t"
                "sxtb16 %[x0b], %[t], ror #8\n\t"
                "ldr %[t], [%[pw], %[n]]\n\t"
                "sxtb16 %[u], %[t]\n\t"
                "smlad %[a01], %[x0a], %[u], %[a01]\n\t"
                "smlad %[a11], %[x1a], %[u], %[a11]\n\t"
                "sxtb16 %[u], %[t], ror #8\n\t"
                "smlad %[a01], %[x0b], %[u], %[a01]\n\t"
                "smlad %[a11], %[x1b], %[u], %[a11]\n\t"
                "ldr %[t], [%[pw]], #4\n\t"
                "sxtb16 %[u], %[t]\n\t"
                "smlad %[a00], %[x0a], %[u], %[a00]\n\t"
                "smlad %[a10], %[x1a], %[u], %[a10]\n\t"
                "sxtb16 %[u], %[t], ror #8\n\t"
                "smlad %[a00], %[x0b], %[u], %[a00]\n\t"
                "smlad %[a10], %[x1b], %[u], %[a10]\n\t"
                "subs %[chunks], %[chunks], #1\n\t"
                "bne 1b\n\t"
                : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [px] "+r"(px),
                  [pw] "+r"(pw), [chunks] "+r"(chunks), [t] "=&r"(t), [u] "=&r"(u), [x0a] "=&r"(x0a),
                  [x0b] "=&r"(x0b), [x1a] "=&r"(x1a), [x1b] "=&r"(x1b)
                : [n] "r"(n)
                : "cc", "memory");
            i = n & ~3;
        }
#endif
        for (; i + 4 <= n; i += 4) {
            uint32_t word;
            mye_pair_t x0_02;
            mye_pair_t x0_13;
            mye_pair_t x1_02;
            mye_pair_t x1_13;
            mye_pair_t wp;
            memcpy(&word, x0 + i, 4);
            x0_02 = mye_sxtb16(word);
            x0_13 = mye_sxtb16_hi(word);
            memcpy(&word, x1 + i, 4);
            x1_02 = mye_sxtb16(word);
            x1_13 = mye_sxtb16_hi(word);
            memcpy(&word, w0 + i, 4);
            wp = mye_sxtb16(word);
            a00 = mye_smlad(x0_02, wp, a00);
            a10 = mye_smlad(x1_02, wp, a10);
            wp = mye_sxtb16_hi(word);
            a00 = mye_smlad(x0_13, wp, a00);
            a10 = mye_smlad(x1_13, wp, a10);
            memcpy(&word, w1 + i, 4);
            wp = mye_sxtb16(word);
            a01 = mye_smlad(x0_02, wp, a01);
            a11 = mye_smlad(x1_02, wp, a11);
            wp = mye_sxtb16_hi(word);
            a01 = mye_smlad(x0_13, wp, a01);
            a11 = mye_smlad(x1_13, wp, a11);
        }
        s00 = (uint32_t)a00;
        s01 = (uint32_t)a01;
        s10 = (uint32_t)a10;
        s11 = (uint32_t)a11;
    }
#endif
    for (; i < n; ++i) {
        const int32_t u = x0[i];
        const int32_t v = x1[i];
        const int32_t p = w0[i];
        const int32_t q = w1[i];
        s00 += (uint32_t)(u * p);
        s01 += (uint32_t)(u * q);
        s10 += (uint32_t)(v * p);
        s11 += (uint32_t)(v * q);
    }
    acc[0] = (int32_t)s00;
    acc[1] = (int32_t)s01;
    acc[2] = (int32_t)s10;
    acc[3] = (int32_t)s11;
}

/* The requantisation of one output unit, set up once for all rows. */
typedef struct {
    mye_rescale_t rescale;
    int32_t bias;
    int32_t exact;   /* 0: multiplier is INT32_MIN, use mye_requantize_fast */
    int32_t multiplier;
    int32_t shift;
} fc_unit_t;

static inline fc_unit_t fc_unit(const mye_fully_connected_params_t *p, const int32_t *bias, int32_t unit)
{
    fc_unit_t u;
    const int32_t q = p->per_channel ? unit : 0;
    u.multiplier = p->output_multiplier[q];
    u.shift = p->output_shift[q];
    u.rescale = mye_rescale_from_shift(u.multiplier, u.shift);
    u.exact = u.multiplier != INT32_MIN;
    u.bias = bias != 0 ? bias[unit] : 0;
    return u;
}

static inline int8_t fc_unit_output(const fc_unit_t *u, int32_t acc, int32_t output_offset, int32_t act_min,
                                    int32_t act_max)
{
    const int32_t sum = (int32_t)((uint32_t)acc + (uint32_t)u->bias);
    int32_t y = u->exact ? mye_rescale_apply(u->rescale, sum) : mye_requantize_fast(sum, u->multiplier, u->shift);
    y += output_offset;
    return (int8_t)mye_clamp_s32(y, act_min, act_max);
}

/*
 * Rows in pairs, no offsets: 2 x 2 blocks, looping over unit pairs outside
 * and row pairs inside so each unit's requantisation is set up once. An odd
 * last unit takes the rows two at a time through mye_dot2_s8; an odd last
 * row is left to the caller.
 */
static void fc_rows_in_pairs(const mye_fully_connected_params_t *p, const int8_t *input,
                             const int8_t *filter, const int32_t *bias, int8_t *output)
{
    const int32_t depth = p->accum_depth;
    const int32_t units = p->output_depth;
    const int32_t pairs = p->batches / 2;
    const int32_t output_offset = p->output_offset;
    const int32_t act_min = p->activation_min;
    const int32_t act_max = p->activation_max;
    int32_t o;
    int32_t b;
    for (o = 0; o + 2 <= units; o += 2) {
        const fc_unit_t u0 = fc_unit(p, bias, o);
        const fc_unit_t u1 = fc_unit(p, bias, o + 1);
        const int8_t *w0 = filter + o * depth;
        const int8_t *w1 = w0 + depth;
        for (b = 0; b < pairs; ++b) {
            const int8_t *x0 = input + 2 * b * depth;
            int8_t *y0 = output + 2 * b * units + o;
            int32_t acc[4];
            dot2x2_s8(x0, x0 + depth, w0, w1, depth, acc);
            y0[0] = fc_unit_output(&u0, acc[0], output_offset, act_min, act_max);
            y0[1] = fc_unit_output(&u1, acc[1], output_offset, act_min, act_max);
            y0[units] = fc_unit_output(&u0, acc[2], output_offset, act_min, act_max);
            y0[units + 1] = fc_unit_output(&u1, acc[3], output_offset, act_min, act_max);
        }
    }
    if (o < units) {
        const fc_unit_t u0 = fc_unit(p, bias, o);
        for (b = 0; b < pairs; ++b) {
            const int8_t *x0 = input + 2 * b * depth;
            int8_t *y0 = output + 2 * b * units + o;
            int32_t acc0;
            int32_t acc1;
            mye_dot2_s8(filter + o * depth, x0, x0 + depth, depth, &acc0, &acc1);
            y0[0] = fc_unit_output(&u0, acc0, output_offset, act_min, act_max);
            y0[units] = fc_unit_output(&u0, acc1, output_offset, act_min, act_max);
        }
    }
}

/* One input row, no offsets: units in pairs sharing the sign-extended input
 * (mye_dot2_s8), then one. (The generator sends one-row ops with 4 or more
 * units to mye_fully_connected_blocked_s8, which is faster.) */
static void fc_row_no_offsets(const mye_fully_connected_params_t *p, const int8_t *row,
                              const int8_t *filter, const int32_t *bias, int8_t *out_row)
{
    const int32_t depth = p->accum_depth;
    int32_t o = 0;
    for (; o + 2 <= p->output_depth; o += 2) {
        int32_t acc0;
        int32_t acc1;
        mye_dot2_s8(row, filter + o * depth, filter + (o + 1) * depth, depth, &acc0, &acc1);
        if (bias != 0) {
            acc0 = (int32_t)((uint32_t)acc0 + (uint32_t)bias[o]);
            acc1 = (int32_t)((uint32_t)acc1 + (uint32_t)bias[o + 1]);
        }
        out_row[o] = fc_output(p, acc0, o);
        out_row[o + 1] = fc_output(p, acc1, o + 1);
    }
    for (; o < p->output_depth; ++o) {
        int32_t acc = mye_dot_s8(filter + o * depth, 0, row, 0, depth);
        if (bias != 0) {
            acc = (int32_t)((uint32_t)acc + (uint32_t)bias[o]);
        }
        out_row[o] = fc_output(p, acc, o);
    }
}

void mye_fully_connected_s8(const mye_fully_connected_params_t *p, const int8_t *input,
                            const int8_t *filter, const int32_t *bias, int8_t *output)
{
    int32_t b = 0;
    int32_t o;
    if (p->input_offset == 0 && p->filter_offset == 0 && p->batches >= 2) {
        fc_rows_in_pairs(p, input, filter, bias, output);
        b = p->batches & ~1;
    }
    for (; b < p->batches; ++b) {
        const int8_t *row = input + b * p->accum_depth;
        int8_t *out_row = output + b * p->output_depth;
        if (p->input_offset == 0 && p->filter_offset == 0) {
            fc_row_no_offsets(p, row, filter, bias, out_row);
            continue;
        }
        for (o = 0; o < p->output_depth; ++o) {
            const int8_t *weights = filter + o * p->accum_depth;
            int32_t acc = mye_dot_s8(weights, p->filter_offset, row, p->input_offset, p->accum_depth);
            if (bias != 0) {
                acc = (int32_t)((uint32_t)acc + (uint32_t)bias[o]);
            }
            out_row[o] = fc_output(p, acc, o);
        }
    }
}

/* ---- FULLY_CONNECTED with the weights in blocks of four units -------------------- */

/*
 * Layout written by the generator (quantize/aot/ops_fc_blocked.py) for
 * units U, depth D, D4 = D rounded down to a multiple of 4:
 *   for each block j < U / 4 (units 4j .. 4j+3), 4 * D bytes:
 *     for each 4-byte chunk c < D4 / 4: w[4j][4c..4c+3], w[4j+1][4c..4c+3],
 *                                        w[4j+2][4c..4c+3], w[4j+3][4c..4c+3]
 *     then the tails: w[4j][D4..D), w[4j+1][D4..D), w[4j+2][D4..D), w[4j+3][D4..D)
 *   then the last U % 4 units row-major.
 * One pointer walks a block, so the four weight words of a chunk come in
 * with one 16-byte load (LDM) and no per-unit pointers compete for
 * registers: 22 instructions per 16 MACs in the inner loop on the DSP path.
 */

/*
 * Input rows up to this many bytes are sign-extended once per call into
 * halfword pairs on the stack (4 bytes of stack per 4 input bytes), so the
 * inner loop loads each pair of pairs with one LDRD instead of a load and two
 * SXTB16 per block.
 */
#define MYE_FC_PAIRS_MAX_DEPTH 1024

/*
 * One 16-byte chunk of the blocked FC's inner loop on the DSP path: load two
 * sign-extended input pairs (x0 x2, x1 x3) and one word of each of the four
 * units' weights, then two SMLADs per unit. The loop body runs it twice.
 */
#define MYE_FC_CHUNK_4X4_ASM \
    "ldrd %[x02], %[x13], [%[pp]], #8\n\t"           \
    "ldmia %[pw]!, {%[w0], %[w1], %[w2], %[w3]}\n\t" \
    "sxtb16 %[t], %[w0]\n\t"                         \
    "smlad %[a0], %[x02], %[t], %[a0]\n\t"           \
    "sxtb16 %[t], %[w0], ror #8\n\t"                 \
    "smlad %[a0], %[x13], %[t], %[a0]\n\t"           \
    "sxtb16 %[t], %[w1]\n\t"                         \
    "smlad %[a1], %[x02], %[t], %[a1]\n\t"           \
    "sxtb16 %[t], %[w1], ror #8\n\t"                 \
    "smlad %[a1], %[x13], %[t], %[a1]\n\t"           \
    "sxtb16 %[t], %[w2]\n\t"                         \
    "smlad %[a2], %[x02], %[t], %[a2]\n\t"           \
    "sxtb16 %[t], %[w2], ror #8\n\t"                 \
    "smlad %[a2], %[x13], %[t], %[a2]\n\t"           \
    "sxtb16 %[t], %[w3]\n\t"                         \
    "smlad %[a3], %[x02], %[t], %[a3]\n\t"           \
    "sxtb16 %[t], %[w3], ror #8\n\t"                 \
    "smlad %[a3], %[x13], %[t], %[a3]\n\t"

#if defined(MYE_USE_DSP)
/* One 16-byte chunk of a block: four weight words (one per unit), each sign-extended in
 * pairs and multiplied with the input pairs (x0 x2) and (x1 x3) by SMLAD. */
static inline void mye_chunk_4units(mye_pair_t x02, mye_pair_t x13, const int8_t *chunk, int32_t *a0,
                                    int32_t *a1, int32_t *a2, int32_t *a3)
{
    uint32_t w0;
    uint32_t w1;
    uint32_t w2;
    uint32_t w3;
    memcpy(&w0, chunk, 4);
    memcpy(&w1, chunk + 4, 4);
    memcpy(&w2, chunk + 8, 4);
    memcpy(&w3, chunk + 12, 4);
    *a0 = mye_smlad(x02, mye_sxtb16(w0), *a0);
    *a0 = mye_smlad(x13, mye_sxtb16_hi(w0), *a0);
    *a1 = mye_smlad(x02, mye_sxtb16(w1), *a1);
    *a1 = mye_smlad(x13, mye_sxtb16_hi(w1), *a1);
    *a2 = mye_smlad(x02, mye_sxtb16(w2), *a2);
    *a2 = mye_smlad(x13, mye_sxtb16_hi(w2), *a2);
    *a3 = mye_smlad(x02, mye_sxtb16(w3), *a3);
    *a3 = mye_smlad(x13, mye_sxtb16_hi(w3), *a3);
}

#endif

/* acc[k] = sum_d x[d] * w_k[d] for the four units of one block (no offsets).
 * On the DSP path `pairs` (or NULL) holds x sign-extended: for chunk c,
 * pairs[2c] = SXTB16(x word c), pairs[2c + 1] = SXTB16(x word c, ror 8). */
static inline void dot4_blocked_s8(const int8_t *x, const uint32_t *pairs, const int8_t *block, int32_t n,
                                   int32_t acc[4])
{
    const int32_t n4 = n & ~3;
    const int8_t *tail = block + 4 * n4;
    uint32_t s0 = 0;
    uint32_t s1 = 0;
    uint32_t s2 = 0;
    uint32_t s3 = 0;
    int32_t i;
#if defined(MYE_USE_DSP)
    if (pairs != 0) {
        const uint32_t *pp = pairs;
        const uint32_t *pp_end = pairs + n4 / 2;
        const int8_t *pw = block;
        int32_t a0 = 0;
        int32_t a1 = 0;
        int32_t a2 = 0;
        int32_t a3 = 0;
#if defined(__ARM_FEATURE_DSP) && !defined(MYE_EMULATE_DSP)
        /*
         * On the target the loop is written out in assembly: GCC 12 keeps
         * too few of its 13 live values in registers (it spills or splits
         * the 16-byte weight load). Per chunk: one LDRD for the input pairs,
         * one LDM for the four weight words, 8 SXTB16 and 8 SMLAD - the same
         * operations, in the same order per accumulator, as the C loop below
         * (which the host builds run with MYE_EMULATE_DSP).
         */
        {
            int32_t chunks = n4 / 4;
            /* LDM needs word-aligned weights: otherwise the C loop below does the work. */
            if (chunks > 0 && ((uintptr_t)pw & 3u) == 0u) {
                /* LDM fills its list in ascending register order: pin the four words. */
                register uint32_t w0 __asm__("r4");
                register uint32_t w1 __asm__("r5");
                register uint32_t w2 __asm__("r6");
                register uint32_t w3 __asm__("r8");
                uint32_t x02;
                uint32_t x13;
                uint32_t t;
                /* Two chunks per pass (the loop counter runs over pairs of chunks); an odd
                 * last chunk is left to the C loop below. */
                int32_t pairs_of_chunks = chunks / 2;
                if (pairs_of_chunks > 0) {
                    __asm__ volatile(
                        "1:\n\t"
                        MYE_FC_CHUNK_4X4_ASM
                        MYE_FC_CHUNK_4X4_ASM
                        "subs %[n], %[n], #1\n\t"
                        "bne 1b\n\t"
                        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [pp] "+r"(pp),
                          [pw] "+r"(pw), [n] "+r"(pairs_of_chunks), [x02] "=&r"(x02), [x13] "=&r"(x13),
                          [t] "=&r"(t), [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2), [w3] "=&r"(w3)
                        :
                        : "cc", "memory");
                }
            }
        }
#endif
        while (pp < pp_end) {
            const int8_t *chunk = (const int8_t *)__builtin_assume_aligned(pw, 4);
            const mye_pair_t x02 = (mye_pair_t)pp[0];
            const mye_pair_t x13 = (mye_pair_t)pp[1];
            mye_chunk_4units(x02, x13, chunk, &a0, &a1, &a2, &a3);
            pp += 2;
            pw += 16;
        }
        s0 = (uint32_t)a0;
        s1 = (uint32_t)a1;
        s2 = (uint32_t)a2;
        s3 = (uint32_t)a3;
    } else {
        const int8_t *px = x;
        const int8_t *pw = block;
        const int8_t *x_end = x + n4;
        int32_t a0 = 0;
        int32_t a1 = 0;
        int32_t a2 = 0;
        int32_t a3 = 0;
        while (px < x_end) {
            /* The block is word-aligned (the generator aligns the array, blocks are 4 * D bytes). */
            const int8_t *chunk = (const int8_t *)__builtin_assume_aligned(pw, 4);
            uint32_t wx;
            memcpy(&wx, px, 4);
            mye_chunk_4units(mye_sxtb16(wx), mye_sxtb16_hi(wx), chunk, &a0, &a1, &a2, &a3);
            px += 4;
            pw += 16;
        }
        s0 = (uint32_t)a0;
        s1 = (uint32_t)a1;
        s2 = (uint32_t)a2;
        s3 = (uint32_t)a3;
    }
#else
    (void)pairs;
    for (i = 0; i < n4; i += 4) {
        const int8_t *chunk = block + 4 * i;
        int32_t b;
        for (b = 0; b < 4; ++b) {
            const int32_t xv = x[i + b];
            s0 += (uint32_t)(xv * (int32_t)chunk[b]);
            s1 += (uint32_t)(xv * (int32_t)chunk[4 + b]);
            s2 += (uint32_t)(xv * (int32_t)chunk[8 + b]);
            s3 += (uint32_t)(xv * (int32_t)chunk[12 + b]);
        }
    }
#endif
    {
        const int32_t rest = n - n4;
        for (i = 0; i < rest; ++i) {
            const int32_t xv = x[n4 + i];
            s0 += (uint32_t)(xv * (int32_t)tail[i]);
            s1 += (uint32_t)(xv * (int32_t)tail[rest + i]);
            s2 += (uint32_t)(xv * (int32_t)tail[2 * rest + i]);
            s3 += (uint32_t)(xv * (int32_t)tail[3 * rest + i]);
        }
    }
    acc[0] = (int32_t)s0;
    acc[1] = (int32_t)s1;
    acc[2] = (int32_t)s2;
    acc[3] = (int32_t)s3;
}

/* Weight of unit `unit`, element `d`, in the blocked layout (the general path). */
static inline int32_t blocked_weight(const int8_t *filter, int32_t units, int32_t depth, int32_t unit, int32_t d)
{
    const int32_t blocks = units / 4;
    const int32_t n4 = depth & ~3;
    const int32_t k = unit & 3;
    const int8_t *block = filter + (unit / 4) * 4 * depth;
    if (unit >= 4 * blocks) {
        return filter[blocks * 4 * depth + (unit - 4 * blocks) * depth + d];
    }
    if (d < n4) {
        return block[(d / 4) * 16 + k * 4 + (d & 3)];
    }
    return block[4 * n4 + k * (depth - n4) + (d - n4)];
}

void mye_fully_connected_blocked_s8(const mye_fully_connected_params_t *p, const int8_t *input,
                                    const int8_t *filter, const int32_t *bias, int8_t *output)
{
    const int32_t depth = p->accum_depth;
    const int32_t units = p->output_depth;
    const int32_t blocks = units / 4;
    const int8_t *rest = filter + blocks * 4 * depth;
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *row = input + b * depth;
        int8_t *out_row = output + b * units;
        int32_t o;
        if (p->input_offset != 0 || p->filter_offset != 0) {
            /* Offsets the generator did not fold: element by element. */
            for (o = 0; o < units; ++o) {
                uint32_t acc = 0;
                int32_t d;
                for (d = 0; d < depth; ++d) {
                    const int32_t w = blocked_weight(filter, units, depth, o, d) + p->filter_offset;
                    acc += (uint32_t)(w * ((int32_t)row[d] + p->input_offset));
                }
                if (bias != 0) {
                    acc += (uint32_t)bias[o];
                }
                out_row[o] = fc_output(p, (int32_t)acc, o);
            }
            continue;
        }
#if defined(MYE_USE_DSP)
        uint32_t pairs_buffer[MYE_FC_PAIRS_MAX_DEPTH / 2];
        const uint32_t *pairs = 0;
        if (depth <= MYE_FC_PAIRS_MAX_DEPTH && blocks > 1) {
            const int32_t n4 = depth & ~3;
            int32_t d;
            for (d = 0; d < n4; d += 4) {
                uint32_t word;
                memcpy(&word, row + d, 4);
                pairs_buffer[d / 2] = (uint32_t)mye_sxtb16(word);
                pairs_buffer[d / 2 + 1] = (uint32_t)mye_sxtb16_hi(word);
            }
            pairs = pairs_buffer;
        }
#else
        const uint32_t *pairs = 0;
#endif
        for (o = 0; o < 4 * blocks; o += 4) {
            int32_t acc[4];
            dot4_blocked_s8(row, pairs, filter + o * depth, depth, acc);
            fc_finish_units(p, bias, acc, 4, o, out_row + o, 1);
        }
        for (; o < units; ++o) {
            int32_t acc = mye_dot_s8(rest + (o - 4 * blocks) * depth, 0, row, 0, depth);
            if (bias != 0) {
                acc = (int32_t)((uint32_t)acc + (uint32_t)bias[o]);
            }
            out_row[o] = fc_output(p, acc, o);
        }
    }
}
