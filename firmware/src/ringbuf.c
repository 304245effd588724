/*
 * ringbuf.c - fixed-capacity ring of float rows (see ringbuf.h).
 */
#include "ringbuf.h"

#include <stddef.h>

int mye_ringbuf_init(mye_ringbuf_t *rb, float *storage, uint32_t rows, uint32_t cols)
{
    if (rb == NULL || storage == NULL || rows == 0u || cols == 0u) {
        return -1;
    }
    rb->storage = storage;
    rb->rows = rows;
    rb->cols = cols;
    mye_ringbuf_clear(rb);
    return 0;
}

void mye_ringbuf_clear(mye_ringbuf_t *rb)
{
    rb->next = 0u;
    rb->count = 0u;
}

void mye_ringbuf_push(mye_ringbuf_t *rb, const float *row)
{
    float *slot = rb->storage + (size_t)rb->next * rb->cols;
    for (uint32_t c = 0; c < rb->cols; ++c) {
        slot[c] = row[c];
    }
    rb->next = (rb->next + 1u == rb->rows) ? 0u : rb->next + 1u;
    if (rb->count < rb->rows) {
        rb->count += 1u;
    }
}

const float *mye_ringbuf_row(const mye_ringbuf_t *rb, uint32_t age)
{
    if (age >= rb->count) {
        return NULL;
    }
    /* The oldest held row sits `count` slots behind `next`. */
    uint32_t slot = rb->next + rb->rows - rb->count + age;
    if (slot >= rb->rows) {
        slot -= rb->rows;
    }
    if (slot >= rb->rows) {
        slot -= rb->rows;
    }
    return rb->storage + (size_t)slot * rb->cols;
}

uint32_t mye_ringbuf_copy(const mye_ringbuf_t *rb, float *out, uint32_t out_rows)
{
    uint32_t n = rb->count < out_rows ? rb->count : out_rows;
    for (uint32_t r = 0; r < n; ++r) {
        const float *row = mye_ringbuf_row(rb, r);
        for (uint32_t c = 0; c < rb->cols; ++c) {
            out[(size_t)r * rb->cols + c] = row[c];
        }
    }
    return n;
}
