/*
 * target_cmsis_main.c - a firmware main() that runs CMSIS-DSP q15 functions
 * built with the Cortex-M DSP-extension path (through our cmsis_compiler.h),
 * for the test that checks them against the cmsisdsp Python package.
 *
 * Twice: read 64 int16 (little-endian) from the host, then send back
 * arm_abs_q15 (64 x int16), arm_mean_q15 (int16), arm_dot_prod_q15 of the
 * block with itself (int64), arm_fir_q15 (64 x int16, 8 taps, state kept
 * across blocks) and arm_biquad_cascade_df1_q15 (64 x int16, one stage,
 * post-shift 1, state kept). Then exit 0 through semihosting.
 */
#include <stdint.h>
#include <string.h>

#include "app.h"
#include "arm_math.h"
#include "board.h"

#define BLOCK 64u
#define TAPS 8u

static const q15_t fir_coeffs[TAPS] = {100, -200, 300, 4000, 4000, 300, -200, 100};
static q15_t fir_state[TAPS + BLOCK];
static const q15_t biquad_coeffs[6] = {8192, 0, -16384, 8192, 16000, -6000};
static q15_t biquad_state[4];

static void read_exact(uint8_t *out, uint32_t len)
{
    for (uint32_t i = 0; i < len; ++i) {
        int byte;
        do {
            byte = board_uart_read_byte(1000u);
        } while (byte < 0);
        out[i] = (uint8_t)byte;
    }
}

static void send(const void *data, uint32_t len) { board_uart_write((const uint8_t *)data, len); }

int main(void)
{
    static q15_t input[BLOCK], output[BLOCK];
    arm_fir_instance_q15 fir;
    arm_biquad_casd_df1_inst_q15 biquad;
    board_init();
    mye_print_banner();
    (void)arm_fir_init_q15(&fir, TAPS, fir_coeffs, fir_state, BLOCK);
    arm_biquad_cascade_df1_init_q15(&biquad, 1u, biquad_coeffs, biquad_state, 1);
    for (int block = 0; block < 2; ++block) {
        uint8_t bytes[2u * BLOCK];
        read_exact(bytes, sizeof bytes);
        memcpy(input, bytes, sizeof input);
        arm_abs_q15(input, output, BLOCK);
        send(output, sizeof output);
        q15_t mean;
        arm_mean_q15(input, BLOCK, &mean);
        send(&mean, sizeof mean);
        q63_t dot;
        arm_dot_prod_q15(input, input, BLOCK, &dot);
        send(&dot, sizeof dot);
        arm_fir_q15(&fir, input, output, BLOCK);
        send(output, sizeof output);
        arm_biquad_cascade_df1_q15(&biquad, input, output, BLOCK);
        send(output, sizeof output);
    }
    return 0;
}
