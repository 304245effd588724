/*
 * ringbuf_harness.c - exercises ringbuf.c on the host.
 *
 * Usage: ringbuf_harness ROWS COLS PUSHES
 * Pushes PUSHES rows (row i holds i * 100 + column), printing after every
 * push "count <n>" and the held rows oldest first ("row <values...>"), then
 * "out-of-range <0|1>" (1 when asking for row `count` gives NULL) and the
 * result of mye_ringbuf_copy into a buffer of 2 rows.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ringbuf.h"

#define MAX_VALUES 4096

int main(int argc, char **argv)
{
    static float storage[MAX_VALUES];
    static float copy[MAX_VALUES];
    if (argc != 4) {
        return 2;
    }
    const uint32_t rows = (uint32_t)strtoul(argv[1], NULL, 10);
    const uint32_t cols = (uint32_t)strtoul(argv[2], NULL, 10);
    const uint32_t pushes = (uint32_t)strtoul(argv[3], NULL, 10);
    mye_ringbuf_t rb;
    if ((uint64_t)rows * cols > MAX_VALUES || mye_ringbuf_init(&rb, storage, rows, cols) != 0) {
        printf("init-error\n");
        return 0;
    }
    float row[64];
    for (uint32_t i = 0; i < pushes; ++i) {
        for (uint32_t c = 0; c < cols && c < 64u; ++c) {
            row[c] = (float)(i * 100u + c);
        }
        mye_ringbuf_push(&rb, row);
        printf("count %u\n", rb.count);
        for (uint32_t r = 0; r < rb.count; ++r) {
            const float *held = mye_ringbuf_row(&rb, r);
            printf("row");
            for (uint32_t c = 0; c < cols; ++c) {
                printf(" %.0f", (double)held[c]);
            }
            printf("\n");
        }
        printf("out-of-range %d\n", mye_ringbuf_row(&rb, rb.count) == NULL);
    }
    uint32_t copied = mye_ringbuf_copy(&rb, copy, 2u);
    printf("copied %u", copied);
    for (uint32_t i = 0; i < copied * cols; ++i) {
        printf(" %.0f", (double)copy[i]);
    }
    printf("\n");
    mye_ringbuf_clear(&rb);
    printf("cleared %u %d\n", rb.count, mye_ringbuf_row(&rb, 0) == NULL);
    return 0;
}
