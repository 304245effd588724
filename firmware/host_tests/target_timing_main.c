/*
 * target_timing_main.c - a firmware main() for the timing test: counts a loop
 * of known length with board_cycles() and prints
 *   "timing iterations=<n> measured=<count> unit=<unit>\r\n"
 * for each length, then "stack used=<bytes> size=<bytes>", and exits
 * through semihosting. The loop is two
 * instructions per iteration (subs + bne), so under QEMU -icount the
 * measured instruction count must be about 2 * n.
 */
#include <stdint.h>
#include <string.h>

#include "app.h"
#include "board.h"
#include "startup.h"

static void write_text(const char *text) { board_uart_write((const uint8_t *)text, strlen(text)); }

static void write_decimal(uint32_t value)
{
    char text[11];
    int n = 10;
    text[n] = '\0';
    do {
        text[--n] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u && n > 0);
    write_text(&text[n]);
}

__attribute__((noipa)) static void spin(uint32_t iterations)
{
    __asm__ volatile(
        "1: subs %0, %0, #1\n"
        "   bne 1b\n"
        : "+r"(iterations)::"cc");
}

int main(void)
{
    static const uint32_t lengths[] = {1000u, 100000u, 5000000u, 60000000u};
    board_init();
    mye_print_banner();
    for (uint32_t i = 0; i < sizeof lengths / sizeof lengths[0]; ++i) {
        uint32_t start = board_cycles();
        spin(lengths[i]);
        uint32_t measured = board_cycles() - start;
        write_text("timing iterations=");
        write_decimal(lengths[i]);
        write_text(" measured=");
        write_decimal(measured);
        write_text(" unit=");
        write_text(board_cycle_unit());
        write_text("\r\n");
    }
    write_text("stack used=");
    write_decimal(mye_stack_used_bytes());
    write_text(" size=");
    write_decimal(mye_stack_size_bytes());
    write_text("\r\n");
    return 0;
}
