/*
 * op_profile_main.c - replaces the firmware's main.c for benchmarks/op_profile.py.
 *
 * Runs the ahead-of-time model (built with MYE_AOT_DEBUG, so it calls a hook
 * after every op) on one window and prints, over the board's UART:
 *   total N        instructions (or cycles) of one inference without the hook
 *   op I N         instructions spent in op I (hook overhead excluded)
 *   out S0 S1 ...  the int8 scores + 128, to check against TFLM
 *   done
 * The window comes from profile_input.h, written by the script.
 */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "model_aot.h"
#include "profile_input.h"

#define PROFILE_MAX_OPS 512

static uint32_t op_counts[PROFILE_MAX_OPS];
static uint32_t op_started;

static void write_text(const char *text)
{
    board_uart_write((const uint8_t *)text, strlen(text));
}

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

/* Called by the model after each op, once per output tensor. */
static void after_op(int op_index, int tensor_index, const int8_t *data, int bytes)
{
    const uint32_t now = board_cycles();
    (void)tensor_index;
    (void)data;
    (void)bytes;
    if (op_index >= 0 && op_index < PROFILE_MAX_OPS) {
        op_counts[op_index] += now - op_started;
    }
    op_started = board_cycles();
}

int main(void)
{
    static int8_t scores[MYE_MODEL_OUTPUT_SIZE];
    uint32_t start;
    uint32_t total;
    int i;

    board_init();
    mye_model_invoke(profile_input, scores); /* warm-up: first-call effects out of the figures */
    start = board_cycles();
    mye_model_invoke(profile_input, scores);
    total = board_cycles() - start;
    write_text("total ");
    write_decimal(total);
    write_text("\r\n");

    mye_model_set_tensor_hook(after_op);
    op_started = board_cycles();
    mye_model_invoke(profile_input, scores);
    for (i = 0; i < PROFILE_MAX_OPS; ++i) {
        if (op_counts[i] != 0u) {
            write_text("op ");
            write_decimal((uint32_t)i);
            write_text(" ");
            write_decimal(op_counts[i]);
            write_text("\r\n");
        }
    }
    write_text("out");
    for (i = 0; i < MYE_MODEL_OUTPUT_SIZE; ++i) {
        write_text(" ");
        write_decimal((uint32_t)(scores[i] + 128));
    }
    write_text("\r\ndone\r\n");
    for (;;) {
        /* the script closes QEMU once it has read "done" */
    }
}
