/*
 * target_preprocess_main.c - a firmware main() that runs preprocess.c on the
 * board over a stream the host sends, for the on-target bit-exactness test.
 *
 * Host -> board: one sample at a time, MYE_PP_CHANNELS float32 little-endian.
 * Board -> host, per sample: '.' (no window), 'N' (non-finite, dropped), or
 * 'W' + MYE_PP_WINDOW_VALUES int8 + uint32 LE board_cycles() spent in
 * mye_pp_window_int8 (unit: board_cycle_unit()).
 */
#include <stdint.h>
#include <string.h>

#include "app.h"
#include "board.h"
#include "preprocess.h"

static mye_pp_t pp;
static int8_t window[MYE_PP_WINDOW_VALUES];

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

int main(void)
{
    board_init();
    mye_print_banner();
    mye_pp_init(&pp);
    for (;;) {
        uint8_t bytes[4 * MYE_PP_CHANNELS];
        float sample[MYE_PP_CHANNELS];
        read_exact(bytes, sizeof bytes);
        memcpy(sample, bytes, sizeof sample);
        int rc = mye_pp_push(&pp, sample);
        if (rc == MYE_PP_ERR_NOT_FINITE) {
            board_uart_write((const uint8_t *)"N", 1u);
        } else if (rc == MYE_PP_WINDOW_READY) {
            uint32_t start = board_cycles();
            (void)mye_pp_window_int8(&pp, window);
            uint32_t spent = board_cycles() - start;
            uint8_t cycles[4] = {(uint8_t)spent, (uint8_t)(spent >> 8), (uint8_t)(spent >> 16), (uint8_t)(spent >> 24)};
            board_uart_write((const uint8_t *)"W", 1u);
            board_uart_write((const uint8_t *)window, sizeof window);
            board_uart_write(cycles, sizeof cycles);
        } else {
            board_uart_write((const uint8_t *)".", 1u);
        }
    }
}
