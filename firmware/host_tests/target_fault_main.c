/*
 * target_fault_main.c - a firmware main() that faults on purpose (an
 * undefined instruction), for the test of the HardFault report: the board
 * must print "!FAULT ..." with the faulting pc and exit with code 3.
 * It prints the address of the faulting function first, so the test can
 * check the reported pc.
 */
#include <stdint.h>
#include <string.h>

#include "app.h"
#include "board.h"

__attribute__((noinline, noipa)) static void undefined_instruction(void)
{
    __asm__ volatile("udf #0x42");
}

static void write_hex(uint32_t value)
{
    static const char digits[] = "0123456789abcdef";
    char text[8];
    for (int i = 0; i < 8; ++i) {
        text[i] = digits[(value >> (28 - 4 * i)) & 0xFu];
    }
    board_uart_write((const uint8_t *)text, sizeof text);
}

int main(void)
{
    board_init();
    mye_print_banner();
    board_uart_write((const uint8_t *)"fault-at ", 9u);
    write_hex((uint32_t)(uintptr_t)&undefined_instruction & ~1u);
    board_uart_write((const uint8_t *)"\r\n", 2u);
    undefined_instruction();
    return 0;
}
