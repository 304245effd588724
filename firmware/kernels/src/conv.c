/*
 * conv.c - CONV_2D and DEPTHWISE_CONV_2D, int8 with per-channel weights.
 *
 * Both give TFLM's reference per-channel results: taps in the padding
 * contribute nothing, the int32 accumulator gets the bias, is requantised
 * with the output channel's multiplier and shift, offset by the output zero
 * point and clamped to the fused activation range.
 *
 * The generator (quantize/aot/ops_conv.py) stores each filter in the order
 * these kernels read it (layouts in mye_kernels.h), so that on cores with
 * the DSP extension one SXTB16 of a filter word gives a pair of taps that
 * SMLAD multiplies with a pair of inputs in one instruction. The portable
 * path reads the same layouts with plain loops; both compute the same int32
 * sums (mod 2^32), so they agree bit for bit.
 *
 * CONV_2D: the receptive fields of two output pixels are gathered into an
 * int16 scratch ("im2col", padding taps hold the input zero point), then
 * blocks of 4 output channels x 2 pixels are accumulated: per 4 taps, 4
 * filter words (8 SXTB16) and 2 double-word input loads feed 16 SMLADs
 * (32 MACs). On Arm that inner loop is a short inline-assembly block (see
 * MYE_CONV_GROUP_4X2_ASM); the host's emulated-DSP build runs the same
 * steps in C. The generator has folded input_offset * sum(filter) into the
 * bias, which is the same sum in int32 (mod 2^32) arithmetic, so no offset
 * is added inside the loop. Memory-order contract the arena planner relies on
 * (quantize/aot/overlap.py): output pixels are computed in (batch, y, x)
 * order, two at a time; both pixels' windows are read into the scratch
 * before any of their output bytes is written, and nothing below them is
 * read again.
 *
 * DEPTHWISE_CONV_2D: per output pixel, the inputs (plus input offset) of
 * each input channel are packed into pairs of taps (0 for taps outside the
 * image), then each output channel is one SMLAD per pair of taps, four
 * output channels of the same input channel at a time.
 */
#include "mye_kernels.h"
#include "mye_dsp.h"

/* ---- requantisation ---------------------------------------------------- */

/*
 * TFLM's MultiplyByQuantizedMultiplier, for a multiplier in [0, 2^31) as
 * quantize_multiplier gives (so the high multiply cannot saturate): left shift
 * (wrapping), rounding doubling high multiply h = floor((a * m + 2^30) / 2^31),
 * then a rounding right shift by r = -shift, floor((h + 2^(r-1) - [h < 0]) / 2^r).
 * For r >= 1 the two roundings fold into one 64-bit multiply-accumulate:
 * with P = x * m + 2^30 the result is
 * floor((floor((P - [h < 0] * 2^31) / 2^32) + 2^(r-2)) / 2^(r-1)) (r >= 2), and
 * floor((P + (1 - [h < 0]) * 2^31) / 2^32) (r = 1); [h < 0] may be taken as
 * [x < 0], since they differ only where h is 0, which gives 0 either way.
 * (Checked against mye_mul_by_quantized_multiplier on 1.5e8 random and
 * extreme operands for every shift in [-31, 8].)
 */
static inline int32_t mye_conv_scale(int32_t x, int32_t multiplier, int32_t shift)
{
    if (shift <= -2) {
        const int32_t rshift = -shift - 1;
        const int32_t round = 1 << (rshift - 1);
        /* +-2^30 as a 64-bit value built from x's sign: high word 0 or -1, low word 2^30 | sign bit. */
        const uint32_t sign = (uint32_t)(x >> 31);
        const uint64_t nudge = ((uint64_t)sign << 32) | (uint64_t)((sign << 31) | 0x40000000u);
        const int32_t high = (int32_t)(((int64_t)x * (int64_t)multiplier + (int64_t)nudge) >> 32);
        return (high + round) >> rshift;
    }
    if (shift == -1) {
        const int64_t nudge = x < 0 ? ((int64_t)1 << 30) : ((int64_t)3 << 30);
        return (int32_t)(((int64_t)x * (int64_t)multiplier + nudge) >> 32);
    }
    {
        const int32_t a = (int32_t)((uint32_t)x << shift);
        return (int32_t)(((int64_t)a * (int64_t)multiplier + ((int64_t)1 << 30)) >> 31);
    }
}

/* Output range and zero point of one conv op, read once. */
typedef struct {
    int32_t offset;
    int32_t min;
    int32_t max;
} mye_conv_range_t;

static inline int8_t mye_conv_clamp(int32_t v, int32_t offset, int32_t min, int32_t max)
{
    v += offset;
    if (v < min) {
        v = min;
    }
    if (v > max) {
        v = max;
    }
    return (int8_t)v;
}

#if defined(__GNUC__)
#define MYE_CONV_NOINLINE __attribute__((noinline))
#else
#define MYE_CONV_NOINLINE
#endif

/*
 * Requantise and store the outputs of `count` (<= 4) channels for two pixels:
 * acc[2 * o + s] is channel o of pixel s; pixel 1 is stored only when `two`.
 * Kept out of line so that the compiler has all registers for it.
 */
static void MYE_CONV_NOINLINE mye_conv_store(const int32_t acc[8], int32_t count, int32_t two,
                                                     const int32_t *multipliers, const int32_t *shifts,
                                                     const mye_conv_range_t *range, int8_t *out0, int8_t *out1)
{
    /* In locals: the int8 stores below could alias *range for the compiler. */
    const int32_t offset = range->offset;
    const int32_t min = range->min;
    const int32_t max = range->max;
    int32_t o;
    if (two) {
        for (o = 0; o < count; ++o) {
            const int32_t m = multipliers[o];
            const int32_t sh = shifts[o];
            out0[o] = mye_conv_clamp(mye_conv_scale(acc[2 * o], m, sh), offset, min, max);
            out1[o] = mye_conv_clamp(mye_conv_scale(acc[2 * o + 1], m, sh), offset, min, max);
        }
        return;
    }
    for (o = 0; o < count; ++o) {
        out0[o] = mye_conv_clamp(mye_conv_scale(acc[2 * o], multipliers[o], shifts[o]), offset, min, max);
    }
}

/* ---- CONV_2D ------------------------------------------------------------ */

/* Bytes 1 and 3 of a word, sign-extended into two halfwords: one SXTB16 with ROR #8 on Arm. */
#if defined(MYE_USE_DSP)
static inline uint32_t mye_conv_sxtb16_odd(uint32_t word)
{
#if defined(__ARM_FEATURE_DSP)
    uint32_t result;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(result) : "r"(word));
    return result;
#else
    return (uint32_t)mye_sxtb16_ror8(word);
#endif
}
#endif

/*
 * The hand-scheduled inner loop needs all 14 allocatable registers, so it is
 * used only in optimised builds (at -O0 GCC keeps r7 as a frame pointer);
 * define MYE_CONV_NO_ASM to fall back to the C loop, e.g. when building with
 * -fno-omit-frame-pointer.
 */
#if defined(MYE_USE_DSP) && defined(__ARM_FEATURE_DSP) && defined(__OPTIMIZE__) && !defined(MYE_CONV_NO_ASM)
#define MYE_CONV_ASM 1
#endif

#if defined(MYE_CONV_ASM)
/*
 * Two taps for 4 channels x 2 slots in Thumb-2 (a group of 4 taps is two of them), as the C of
 * mye_conv_group_4x2 below spells it out: the loop needs 8 accumulators,
 * 2 pointers and 4 temporaries, exactly the 14 registers a Cortex-M has
 * free, and GCC's scheduler spills some of them when this is written in C.
 * Operands: a00..a31 accumulators (channel, slot), w filter words, x input
 * pairs (both post-incremented), xa/xb input pairs of slot 0/1, wv/c a
 * filter word and its even-byte pair.
 */
#define MYE_CONV_PAIR_4X2_ASM                     \
    "ldrd   %[xa], %[xb], [%[x]], #8\n\t"         \
    "ldr    %[wv], [%[w]], #4\n\t"                \
    "sxtb16 %[c], %[wv]\n\t"                      \
    "sxtb16 %[wv], %[wv], ror #8\n\t"             \
    "smlad  %[a00], %[c], %[xa], %[a00]\n\t"      \
    "smlad  %[a01], %[c], %[xb], %[a01]\n\t"      \
    "smlad  %[a10], %[wv], %[xa], %[a10]\n\t"     \
    "smlad  %[a11], %[wv], %[xb], %[a11]\n\t"     \
    "ldr    %[wv], [%[w]], #4\n\t"                \
    "sxtb16 %[c], %[wv]\n\t"                      \
    "sxtb16 %[wv], %[wv], ror #8\n\t"             \
    "smlad  %[a20], %[c], %[xa], %[a20]\n\t"      \
    "smlad  %[a21], %[c], %[xb], %[a21]\n\t"      \
    "smlad  %[a30], %[wv], %[xa], %[a30]\n\t"     \
    "smlad  %[a31], %[wv], %[xb], %[a31]\n\t"

/* Four taps: two pairs. */
#define MYE_CONV_GROUP_4X2_ASM MYE_CONV_PAIR_4X2_ASM MYE_CONV_PAIR_4X2_ASM

#define MYE_CONV_GROUP_4X2_OPERANDS(inputs)                                                          \
    : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [a20] "+r"(a20),          \
      [a21] "+r"(a21), [a30] "+r"(a30), [a31] "+r"(a31), [w] "+r"(w), [x] "+r"(x), [xa] "=&r"(xa), \
      [xb] "=&r"(xb), [wv] "=&r"(wv), [c] "=&r"(c)                                                  \
    inputs                                                                                            \
    : "cc", "memory"
#elif defined(MYE_USE_DSP)
/*
 * One group of 4 taps for 4 channels x 2 slots: w holds the group's 4 filter
 * words, x its 4 input-pair words (slot 0 and 1 of taps (k0, k2), then of
 * (k1, k3)); a[2 * o + s] is the accumulator of channel o, slot s.
 */
static inline void mye_conv_group_4x2(const uint32_t *w, const uint32_t *x, int32_t a[8])
{
    int32_t half;
    for (half = 0; half < 2; ++half) {
        const uint32_t xa = x[2 * half];
        const uint32_t xb = x[2 * half + 1];
        int32_t pair;
        for (pair = 0; pair < 2; ++pair) {
            const uint32_t wv = w[2 * half + pair];
            const uint32_t c0 = (uint32_t)mye_sxtb16(wv);  /* channel 2 * pair */
            const uint32_t c1 = mye_conv_sxtb16_odd(wv);   /* channel 2 * pair + 1 */
            a[4 * pair + 0] = mye_smlad(c0, xa, a[4 * pair + 0]);
            a[4 * pair + 1] = mye_smlad(c0, xb, a[4 * pair + 1]);
            a[4 * pair + 2] = mye_smlad(c1, xa, a[4 * pair + 2]);
            a[4 * pair + 3] = mye_smlad(c1, xb, a[4 * pair + 3]);
        }
    }
}
#endif

/* Taps per output channel (fh * fw * in_c) rounded up to a multiple of 4. */
static inline int32_t mye_conv_taps4(const mye_conv2d_params_t *p)
{
    return (p->filter_height * p->filter_width * p->input_depth + 3) & ~3;
}

/* Bias block of a conv without bias. */
static const int32_t mye_conv_zero_bias[4] = {0, 0, 0, 0};

/* Where tap j (0..3) of a group sits among its 8 int16 (slot 0): pairs (k0, k2), (k1, k3). */
static const uint8_t mye_conv_tap_slot[4] = {0, 4, 1, 5};

/*
 * Gather the receptive field of output pixel (b, oy, ox) into slot `slot`
 * (0 or 1) of the two-pixel int16 scratch. Within each group of 4 taps
 * (k0..k3) the scratch holds 8 int16: [s0k0 s0k2][s1k0 s1k2][s0k1 s0k3][s1k1 s1k3]
 * (s = slot), so tap j of group g lives at 8*g + 4*(j & 1) + 2*slot + (j >> 1).
 * Taps in the padding hold the input zero point; taps past the end of the
 * filter (the round-up to 4) hold 0 (their weights are 0).
 */
static void mye_conv_im2col(const mye_conv2d_params_t *p, const int8_t *input, int32_t b, int32_t oy, int32_t ox,
                            int32_t slot, int16_t *cols)
{
    const int32_t in_h = p->input_height;
    const int32_t in_w = p->input_width;
    const int32_t in_c = p->input_depth;
    const int32_t taps = p->filter_height * p->filter_width * in_c;
    const int32_t taps4 = mye_conv_taps4(p);
    const int32_t in_y0 = oy * p->stride_height - p->pad_height;
    const int32_t in_x0 = ox * p->stride_width - p->pad_width;
    const int16_t pad_value = (int16_t)(-p->input_offset);
    int32_t k = 0;
    int32_t fy;
    int32_t fx;
    int32_t c;
#if defined(MYE_USE_DSP)
    if ((in_c & 3) == 0) {
        /* Whole groups of 4 channels: one word load and two SXTB16 give the two pairs. */
        uint32_t *words = (uint32_t *)(void *)cols;
        const uint32_t pad_pair = mye_pkhbt(pad_value, pad_value);
        for (fy = 0; fy < p->filter_height; ++fy) {
            const int32_t iy = in_y0 + p->dilation_height * fy;
            for (fx = 0; fx < p->filter_width; ++fx) {
                const int32_t ix = in_x0 + p->dilation_width * fx;
                uint32_t *dst = words + k + slot; /* 4 words per group of 4 taps */
                if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) {
                    for (c = 0; c < in_c; c += 4) {
                        dst[0] = pad_pair;
                        dst[2] = pad_pair;
                        dst += 4;
                    }
                } else {
                    const int8_t *src = input + ((b * in_h + iy) * in_w + ix) * in_c;
                    for (c = 0; c + 8 <= in_c; c += 8) {
                        uint32_t word0;
                        uint32_t word1;
                        memcpy(&word0, src + c, 4);
                        memcpy(&word1, src + c + 4, 4);
                        dst[0] = (uint32_t)mye_sxtb16(word0);
                        dst[2] = mye_conv_sxtb16_odd(word0);
                        dst[4] = (uint32_t)mye_sxtb16(word1);
                        dst[6] = mye_conv_sxtb16_odd(word1);
                        dst += 8;
                    }
                    if (c < in_c) {
                        uint32_t word;
                        memcpy(&word, src + c, 4);
                        dst[0] = (uint32_t)mye_sxtb16(word);
                        dst[2] = mye_conv_sxtb16_odd(word);
                    }
                }
                k += in_c;
            }
        }
        return;
    }
#endif
    {
        /* Any depth: one tap at a time, tap j of a group at 8 * group + {0, 4, 1, 5}[j] + 2 * slot. */
        int16_t *dst = cols + 2 * slot;
        for (fy = 0; fy < p->filter_height; ++fy) {
            const int32_t iy = in_y0 + p->dilation_height * fy;
            for (fx = 0; fx < p->filter_width; ++fx) {
                const int32_t ix = in_x0 + p->dilation_width * fx;
                const int inside = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
                const int8_t *src = inside ? input + ((b * in_h + iy) * in_w + ix) * in_c : input;
                for (c = 0; c < in_c; ++c) {
                    dst[8 * (k >> 2) + mye_conv_tap_slot[k & 3]] = inside ? (int16_t)src[c] : pad_value;
                    ++k;
                }
            }
        }
        for (; k < taps4; ++k) {
            dst[8 * (k >> 2) + mye_conv_tap_slot[k & 3]] = 0;
        }
    }
    (void)taps;
}

/*
 * acc[2 * o + s] = bias4[o] + sum over the block's taps of filter(o, k) * cols(s, k),
 * for the 4 output channels o of one filter block and the 2 scratch slots s.
 * `block` is the block's packed filter: per group of 4 taps, 16 bytes
 * [o0k0 o1k0 o0k2 o1k2][o2k0 o3k0 o2k2 o3k2][o0k1 o1k1 o0k3 o1k3][o2k1 o3k1 o2k3 o3k3];
 * `cols` the two-slot im2col scratch. Per group on the DSP path: 4 filter
 * words (8 SXTB16), 2 double-word input loads and 16 SMLAD for 32 MACs.
 */
static inline void mye_conv_block_4x2(const int8_t *block, const int16_t *cols, int32_t groups,
                                      const int32_t bias4[4], int32_t acc[8])
{
#if defined(MYE_CONV_ASM)
    const uint32_t *w = (const uint32_t *)(const void *)block;
    const uint32_t *x = (const uint32_t *)(const void *)cols;
    const uint32_t *x_pairs_end = x + 4 * (groups & ~1);
    int32_t a00 = bias4[0];
    int32_t a01 = a00;
    int32_t a10 = bias4[1];
    int32_t a11 = a10;
    int32_t a20 = bias4[2];
    int32_t a21 = a20;
    int32_t a30 = bias4[3];
    int32_t a31 = a30;
    uint32_t xa;
    uint32_t xb;
    uint32_t wv;
    uint32_t c;
    /* Two groups (8 taps, 64 MACs) per pass, then the odd group if there is one. The loop
     * runs inside the assembly: the end pointer is read from memory into the free temporary. */
    if (x < x_pairs_end) {
        __asm__ volatile("1:\n\t" MYE_CONV_GROUP_4X2_ASM MYE_CONV_GROUP_4X2_ASM
                         "ldr    %[wv], %[end]\n\t"
                         "cmp    %[x], %[wv]\n\t"
                         "blo    1b\n\t"
                         MYE_CONV_GROUP_4X2_OPERANDS(: [end] "m"(x_pairs_end)));
    }
    if ((groups & 1) != 0) {
        __asm__ volatile(MYE_CONV_GROUP_4X2_ASM MYE_CONV_GROUP_4X2_OPERANDS(:));
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
    acc[4] = a20;
    acc[5] = a21;
    acc[6] = a30;
    acc[7] = a31;
#elif defined(MYE_USE_DSP)
    const uint32_t *w = (const uint32_t *)(const void *)block;
    const uint32_t *x = (const uint32_t *)(const void *)cols;
    int32_t g;
    for (g = 0; g < 8; ++g) {
        acc[g] = bias4[g >> 1];
    }
    for (g = 0; g < groups; ++g) {
        mye_conv_group_4x2(w + 4 * g, x + 4 * g, acc);
    }
#else
    int32_t g;
    int32_t j;
    int32_t o;
    int32_t s;
    for (g = 0; g < 8; ++g) {
        acc[g] = bias4[g >> 1];
    }
    for (g = 0; g < groups; ++g) {
        const int8_t *wg = block + 16 * g;
        const int16_t *xg = cols + 8 * g;
        for (o = 0; o < 4; ++o) {
            for (s = 0; s < 2; ++s) {
                uint32_t sum = (uint32_t)acc[2 * o + s];
                for (j = 0; j < 4; ++j) {
                    const int32_t wt = wg[8 * (j & 1) + 4 * (o >> 1) + (o & 1) + 2 * (j >> 1)];
                    const int32_t xt = xg[4 * (j & 1) + 2 * s + (j >> 1)];
                    sum += (uint32_t)(wt * xt);
                }
                acc[2 * o + s] = (int32_t)sum;
            }
        }
    }
#endif
}

void mye_conv2d_s8(const mye_conv2d_params_t *p, const int8_t *input, const int8_t *filter,
                   const int32_t *bias, int8_t *scratch, int8_t *output)
{
    const int32_t out_c = p->output_depth;
    const int32_t taps4 = mye_conv_taps4(p);
    const int32_t groups = taps4 >> 2;
    const int32_t pixels_per_image = p->output_height * p->output_width;
    const int32_t pixels = p->batches * pixels_per_image;
    const int32_t output_width = p->output_width;
    const mye_conv_range_t range = {p->output_offset, p->activation_min, p->activation_max};
    int16_t *cols = (int16_t *)(void *)scratch; /* 2 pixels x taps4 int16 */
    int32_t q;
    for (q = 0; q < pixels; q += 2) {
        /* Two output pixels q and q + 1 (the last one twice when the count is odd). */
        const int32_t two = q + 1 < pixels;
        int8_t *out0 = output + q * out_c;
        int8_t *out1 = out0 + out_c;
        int32_t s;
        int32_t ob;
        for (s = 0; s < 2; ++s) {
            const int32_t px = two ? q + s : q;
            const int32_t b = px / pixels_per_image;
            const int32_t rem = px - b * pixels_per_image;
            const int32_t oy = rem / output_width;
            const int32_t ox = rem - oy * output_width;
            mye_conv_im2col(p, input, b, oy, ox, s, cols);
        }
        for (ob = 0; ob < out_c; ob += 4) {
            int32_t acc[8];
            mye_conv_block_4x2(filter + ob * taps4, cols, groups, bias != 0 ? bias + ob : mye_conv_zero_bias, acc);
            mye_conv_store(acc, out_c - ob < 4 ? out_c - ob : 4, two, p->output_multiplier + ob,
                           p->output_shift + ob, &range, out0 + ob, out1 + ob);
        }
    }
}

/* ---- DEPTHWISE_CONV_2D ---------------------------------------------------- */

/*
 * Filter layout (written by the generator): int16 pairs [in_c][tap_pairs][depth_multiplier][2],
 * pair t holding the weights of taps 2t and 2t + 1 (taps in (fy, fx) order; the
 * second tap of the last pair is 0 when fh * fw is odd). Output channel
 * ic * depth_multiplier + m reads input channel ic.
 * Scratch: int16 pairs [in_c][tap_pairs], one pixel's inputs plus input offset.
 */
void mye_depthwise_conv2d_s8(const mye_depthwise_conv2d_params_t *p, const int8_t *input,
                             const int16_t *filter, const int32_t *bias, int16_t *scratch, int8_t *output)
{
    const int32_t in_h = p->input_height;
    const int32_t in_w = p->input_width;
    const int32_t in_c = p->input_depth;
    const int32_t mult = p->depth_multiplier;
    const int32_t out_c = in_c * mult;
    const int32_t taps = p->filter_height * p->filter_width;
    const int32_t tap_pairs = (taps + 1) >> 1;
    const int32_t input_offset = p->input_offset;
    /* In locals: the int8 stores below could alias *p for the compiler. */
    const int32_t out_offset = p->output_offset;
    const int32_t act_min = p->activation_min;
    const int32_t act_max = p->activation_max;
    const int32_t *multipliers = p->output_multiplier;
    const int32_t *shifts = p->output_shift;
    int32_t b;
    int32_t oy;
    int32_t ox;
    for (b = 0; b < p->batches; ++b) {
        for (oy = 0; oy < p->output_height; ++oy) {
            const int32_t in_y0 = oy * p->stride_height - p->pad_height;
            for (ox = 0; ox < p->output_width; ++ox) {
                const int32_t in_x0 = ox * p->stride_width - p->pad_width;
                int8_t *out_px = output + ((b * p->output_height + oy) * p->output_width + ox) * out_c;
                int32_t t;
                int32_t ic;
                /* Inputs of this pixel, plus the input offset, in tap pairs; 0 outside the image. */
                for (t = 0; t < 2 * tap_pairs; ++t) {
                    const int32_t fy = t / p->filter_width;
                    const int32_t fx = t - fy * p->filter_width;
                    const int32_t iy = in_y0 + p->dilation_height * fy;
                    const int32_t ix = in_x0 + p->dilation_width * fx;
                    int16_t *dst = scratch + 2 * (t >> 1) + (t & 1);
                    if (t >= taps || iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) {
                        for (ic = 0; ic < in_c; ++ic) {
                            dst[2 * tap_pairs * ic] = 0;
                        }
                    } else {
                        const int8_t *src = input + ((b * in_h + iy) * in_w + ix) * in_c;
                        for (ic = 0; ic < in_c; ++ic) {
                            dst[2 * tap_pairs * ic] = (int16_t)(src[ic] + input_offset);
                        }
                    }
                }
                for (ic = 0; ic < in_c; ++ic) {
                    const int16_t *xs = scratch + 2 * tap_pairs * ic;
                    const int16_t *ws = filter + 2 * tap_pairs * mult * ic;
                    int32_t m = 0;
#if defined(MYE_USE_DSP)
                    const uint32_t *xw = (const uint32_t *)(const void *)xs;
                    const uint32_t *ww = (const uint32_t *)(const void *)ws;
                    /* Four output channels of this input channel at a time: one SMLAD per tap pair each. */
                    for (; m + 4 <= mult; m += 4) {
                        const int32_t oc = ic * mult + m;
                        int32_t a0 = bias != 0 ? bias[oc] : 0;
                        int32_t a1 = bias != 0 ? bias[oc + 1] : 0;
                        int32_t a2 = bias != 0 ? bias[oc + 2] : 0;
                        int32_t a3 = bias != 0 ? bias[oc + 3] : 0;
                        const uint32_t *w = ww + m;
                        for (t = 0; t < tap_pairs; ++t) {
                            const uint32_t x = xw[t];
                            a0 = mye_smlad(x, w[0], a0);
                            a1 = mye_smlad(x, w[1], a1);
                            a2 = mye_smlad(x, w[2], a2);
                            a3 = mye_smlad(x, w[3], a3);
                            w += mult;
                        }
                        out_px[oc] = mye_conv_clamp(mye_conv_scale(a0, multipliers[oc], shifts[oc]), out_offset,
                                                    act_min, act_max);
                        out_px[oc + 1] = mye_conv_clamp(mye_conv_scale(a1, multipliers[oc + 1], shifts[oc + 1]),
                                                        out_offset, act_min, act_max);
                        out_px[oc + 2] = mye_conv_clamp(mye_conv_scale(a2, multipliers[oc + 2], shifts[oc + 2]),
                                                        out_offset, act_min, act_max);
                        out_px[oc + 3] = mye_conv_clamp(mye_conv_scale(a3, multipliers[oc + 3], shifts[oc + 3]),
                                                        out_offset, act_min, act_max);
                    }
                    for (; m < mult; ++m) {
                        const int32_t oc = ic * mult + m;
                        int32_t a = bias != 0 ? bias[oc] : 0;
                        for (t = 0; t < tap_pairs; ++t) {
                            a = mye_smlad(xw[t], ww[t * mult + m], a);
                        }
                        out_px[oc] = mye_conv_clamp(mye_conv_scale(a, multipliers[oc], shifts[oc]), out_offset,
                                                    act_min, act_max);
                    }
#else
                    for (; m < mult; ++m) {
                        const int32_t oc = ic * mult + m;
                        uint32_t a = bias != 0 ? (uint32_t)bias[oc] : 0u;
                        for (t = 0; t < tap_pairs; ++t) {
                            const int16_t *w = ws + 2 * (t * mult + m);
                            a += (uint32_t)((int32_t)w[0] * (int32_t)xs[2 * t]);
                            a += (uint32_t)((int32_t)w[1] * (int32_t)xs[2 * t + 1]);
                        }
                        out_px[oc] = mye_conv_clamp(mye_conv_scale((int32_t)a, multipliers[oc], shifts[oc]),
                                                    out_offset, act_min, act_max);
                    }
#endif
                }
            }
        }
    }
}
