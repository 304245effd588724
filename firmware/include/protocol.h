/* protocol.h - frame codec of the myoedge wire protocol.
 *
 * Layouts and limits come from myoedge_protocol.h, which is generated from
 * host/protocol_spec.py. This module knows bytes only: COBS framing with a
 * 0x00 delimiter, CRC-16/CCITT-FALSE, the header, little-endian field
 * access. It allocates nothing; the receive buffer is a fixed array in the
 * caller's mye_rx_t, and every length it is given is checked.
 */
#ifndef MYOEDGE_FRAME_PROTOCOL_H
#define MYOEDGE_FRAME_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "myoedge_protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

/* CRC-16/CCITT-FALSE of data, continuing from crc (start with MYE_CRC_INIT). */
uint16_t mye_crc16(const uint8_t *data, size_t length, uint16_t crc);

/* Decode COBS in place (the output is never longer than the input).
 * Returns the decoded length, or -1 when the bytes are not valid COBS. */
int32_t mye_cobs_decode(uint8_t *buffer, size_t length);

/* Encode length bytes into out (capacity bytes, no delimiters added).
 * Returns the encoded length, or -1 when out is too small. */
int32_t mye_cobs_encode(const uint8_t *data, size_t length, uint8_t *out, size_t capacity);

/* Where the bytes of a frame go: a UART, a test's capture buffer. */
typedef void (*mye_write_fn)(const uint8_t *data, size_t length);

/* Send 0x00, COBS(frame), 0x00 through write without a second buffer. */
void mye_frame_write(const uint8_t *frame, size_t length, mye_write_fn write);

/* Fill in header and CRC around a payload already written at
 * frame + MYE_HEADER_SIZE. capacity is the size of frame. Returns the frame
 * length (header + payload + CRC), or 0 when it does not fit. */
size_t mye_frame_finish(uint8_t *frame, size_t capacity, uint8_t code, uint16_t seq,
                        size_t payload_length);

/* Little-endian access at any alignment. */
uint16_t mye_get_u16(const uint8_t *p);
uint32_t mye_get_u32(const uint8_t *p);
float mye_get_f32(const uint8_t *p);
void mye_put_u16(uint8_t *p, uint16_t value);
void mye_put_u32(uint8_t *p, uint32_t value);
void mye_put_f32(uint8_t *p, float value);

/* A frame that passed COBS, CRC, version and length checks. payload points
 * into the receive buffer and is valid until the next mye_rx_push. */
typedef struct {
    uint8_t code;
    uint16_t seq;
    uint16_t crc;
    uint16_t length;
    const uint8_t *payload;
} mye_frame_t;

/* Why a run of bytes was refused: what the ERROR reply says. */
typedef struct {
    uint8_t error;   /* MYE_ERR_* */
    uint8_t command; /* code of the frame, 0 when unreadable */
    uint16_t seq;    /* echoed only when the CRC was good, else 0 */
    uint32_t expected;
    uint32_t got;
} mye_link_error_t;

/* Receiver state: the bytes since the last delimiter. */
typedef struct {
    uint8_t buffer[MYE_MAX_REQUEST_ENCODED];
    size_t length;
    uint32_t dropped; /* bytes beyond the buffer since the last delimiter */
} mye_rx_t;

typedef enum {
    MYE_RX_NOTHING = 0, /* byte stored, or an empty frame ignored */
    MYE_RX_FRAME = 1,   /* *frame is valid */
    MYE_RX_ERROR = 2    /* *error says why the bytes were refused */
} mye_rx_result_t;

void mye_rx_init(mye_rx_t *rx);

/* Take one byte from the link. At a delimiter, decode and check the frame. */
mye_rx_result_t mye_rx_push(mye_rx_t *rx, uint8_t byte, mye_frame_t *frame,
                            mye_link_error_t *error);

#ifdef __cplusplus
}
#endif

#endif /* MYOEDGE_FRAME_PROTOCOL_H */
