/*
 * ringbuf.h - ring buffer of the last `rows` rows of `cols` floats (the last
 * window of multi-channel samples). Storage is the caller's (a static array
 * of rows * cols floats); nothing is allocated.
 */
#ifndef MYOEDGE_RINGBUF_H
#define MYOEDGE_RINGBUF_H

#include <stdint.h>

typedef struct {
    float *storage;  /* rows * cols floats, row-major */
    uint32_t rows;   /* capacity in rows */
    uint32_t cols;   /* floats per row */
    uint32_t next;   /* row slot the next push writes */
    uint32_t count;  /* rows held, <= rows */
} mye_ringbuf_t;

/* Returns 0, or -1 when storage is NULL or rows / cols is 0. */
int mye_ringbuf_init(mye_ringbuf_t *rb, float *storage, uint32_t rows, uint32_t cols);
/* Forget every row. */
void mye_ringbuf_clear(mye_ringbuf_t *rb);
/* Append one row of cols floats, dropping the oldest row when full. */
void mye_ringbuf_push(mye_ringbuf_t *rb, const float *row);
/* Row `age` counted from the oldest held row (0 = oldest, count-1 = newest),
 * or NULL when age >= count. */
const float *mye_ringbuf_row(const mye_ringbuf_t *rb, uint32_t age);
/* Copy the held rows, oldest first, into out (count * cols floats);
 * returns the number of rows copied. */
uint32_t mye_ringbuf_copy(const mye_ringbuf_t *rb, float *out, uint32_t out_rows);

#endif /* MYOEDGE_RINGBUF_H */
