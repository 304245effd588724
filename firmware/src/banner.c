/*
 * banner.c - the boot banner line (format in app.h). Its own file so that
 * test programs replacing main.c still print it.
 */
#include <stdint.h>
#include <string.h>

#include "app.h"
#include "board.h"

#if defined(MYOEDGE_HAVE_MODEL)
#include "model_manifest.h"
#endif
#if defined(MYE_MODEL_NAME)
#define MYOEDGE_BANNER_MODEL MYE_MODEL_NAME
#else
#define MYOEDGE_BANNER_MODEL "none"
#endif

static void write_text(const char *text)
{
    board_uart_write((const uint8_t *)text, strlen(text));
}

static void write_decimal(uint32_t value)
{
    char digits[10];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u && n < sizeof digits);
    char text[11];
    for (size_t i = 0; i < n; ++i) {
        text[i] = digits[n - 1u - i];
    }
    text[n] = '\0';
    write_text(text);
}

void mye_print_banner(void)
{
    write_text(MYOEDGE_BANNER_PREFIX MYOEDGE_FIRMWARE_VERSION " board=");
    write_text(board_name());
    write_text(" core=");
    write_text(board_core());
    write_text(" clock_hz=");
    write_decimal(board_clock_hz());
    write_text(" unit=");
    write_text(board_cycle_unit());
    write_text(" model=" MYOEDGE_BANNER_MODEL "\r\n");
}

