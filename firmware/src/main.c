/*
 * main.c - boot: board, banner, then the application loop (mye_app_run).
 */
#include <stdint.h>

#include "app.h"
#include "board.h"

/* Fallback until the protocol dispatcher is linked: echo bytes (link check),
 * kick the watchdog while idle. */
__attribute__((weak)) void mye_app_run(void)
{
    for (;;) {
        int byte = board_uart_read_byte(10u);
        board_watchdog_kick();
        if (byte >= 0) {
            uint8_t b = (uint8_t)byte;
            board_uart_write(&b, 1u);
        }
    }
}

int main(void)
{
    board_init();
    mye_print_banner();
    mye_app_run();
    return 0;
}
