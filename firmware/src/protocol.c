/* protocol.c - COBS framing, CRC-16/CCITT-FALSE and header checks.
 *
 * See protocol.h and docs/PROTOCOL.md. Nothing here trusts the bytes it is
 * given: every block length is checked against the bytes that remain, and
 * the receive buffer stops filling at its fixed size.
 */
#include "protocol.h"

#include <string.h>

#define COBS_MAX_RUN 254u /* non-zero bytes one COBS code byte can cover */

uint16_t mye_crc16(const uint8_t *data, size_t length, uint16_t crc)
{
    for (size_t i = 0; i < length; i++) {
        crc = (uint16_t)(crc ^ ((uint16_t)data[i] << 8));
        for (int bit = 0; bit < 8; bit++) {
            if (crc & 0x8000u) {
                crc = (uint16_t)((crc << 1) ^ MYE_CRC_POLY);
            } else {
                crc = (uint16_t)(crc << 1);
            }
        }
    }
    return crc;
}

int32_t mye_cobs_decode(uint8_t *buffer, size_t length)
{
    size_t in = 0;
    size_t out = 0;
    while (in < length) {
        uint8_t code = buffer[in];
        if (code == 0u) {
            return -1;
        }
        if ((size_t)code > length - in) {
            return -1; /* the block runs past the end of the frame */
        }
        in++;
        for (uint8_t i = 1; i < code; i++) {
            buffer[out] = buffer[in]; /* out < in: in-place copy is safe */
            out++;
            in++;
        }
        if (code != COBS_MAX_RUN + 1u && in < length) {
            buffer[out] = 0u;
            out++;
        }
    }
    return (int32_t)out;
}

int32_t mye_cobs_encode(const uint8_t *data, size_t length, uint8_t *out, size_t capacity)
{
    size_t position = 0;
    size_t written = 0;
    for (;;) {
        size_t run = 0;
        while (position + run < length && data[position + run] != 0u && run < COBS_MAX_RUN) {
            run++;
        }
        if (written + 1u + run > capacity) {
            return -1;
        }
        out[written] = (uint8_t)(run + 1u);
        written++;
        for (size_t i = 0; i < run; i++) {
            out[written] = data[position + i];
            written++;
        }
        position += run;
        if (run == COBS_MAX_RUN) {
            continue; /* a full block consumes no zero */
        }
        if (position >= length) {
            break;
        }
        position++; /* the zero this block stands for */
    }
    return (int32_t)written;
}

void mye_frame_write(const uint8_t *frame, size_t length, mye_write_fn write)
{
    static const uint8_t delimiter = MYE_FRAME_DELIMITER;
    size_t position = 0;
    write(&delimiter, 1u);
    for (;;) {
        size_t run = 0;
        while (position + run < length && frame[position + run] != 0u && run < COBS_MAX_RUN) {
            run++;
        }
        uint8_t code = (uint8_t)(run + 1u);
        write(&code, 1u);
        if (run > 0u) {
            write(frame + position, run);
        }
        position += run;
        if (run == COBS_MAX_RUN) {
            continue;
        }
        if (position >= length) {
            break;
        }
        position++;
    }
    write(&delimiter, 1u);
}

size_t mye_frame_finish(uint8_t *frame, size_t capacity, uint8_t code, uint16_t seq,
                        size_t payload_length)
{
    if (payload_length > 0xFFFFu || capacity < MYE_HEADER_SIZE + MYE_CRC_SIZE ||
        payload_length > capacity - MYE_HEADER_SIZE - MYE_CRC_SIZE) {
        return 0;
    }
    frame[MYE_HEADER_VERSION] = MYE_PROTOCOL_VERSION;
    frame[MYE_HEADER_CODE] = code;
    mye_put_u16(frame + MYE_HEADER_SEQ, seq);
    mye_put_u16(frame + MYE_HEADER_LENGTH, (uint16_t)payload_length);
    size_t body = MYE_HEADER_SIZE + payload_length;
    mye_put_u16(frame + body, mye_crc16(frame, body, MYE_CRC_INIT));
    return body + MYE_CRC_SIZE;
}

uint16_t mye_get_u16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] | ((uint16_t)p[1] << 8));
}

uint32_t mye_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

float mye_get_f32(const uint8_t *p)
{
    uint32_t bits = mye_get_u32(p);
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

void mye_put_u16(uint8_t *p, uint16_t value)
{
    p[0] = (uint8_t)(value & 0xFFu);
    p[1] = (uint8_t)(value >> 8);
}

void mye_put_u32(uint8_t *p, uint32_t value)
{
    p[0] = (uint8_t)(value & 0xFFu);
    p[1] = (uint8_t)((value >> 8) & 0xFFu);
    p[2] = (uint8_t)((value >> 16) & 0xFFu);
    p[3] = (uint8_t)(value >> 24);
}

void mye_put_f32(uint8_t *p, float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    mye_put_u32(p, bits);
}

void mye_rx_init(mye_rx_t *rx)
{
    rx->length = 0;
    rx->dropped = 0;
}

static mye_rx_result_t refuse(mye_link_error_t *error, uint8_t code, uint8_t command,
                              uint16_t seq, uint32_t expected, uint32_t got)
{
    error->error = code;
    error->command = command;
    error->seq = seq;
    error->expected = expected;
    error->got = got;
    return MYE_RX_ERROR;
}

/* Decode and check the bytes collected since the last delimiter. */
static mye_rx_result_t finish(mye_rx_t *rx, mye_frame_t *frame, mye_link_error_t *error)
{
    size_t encoded = rx->length;
    uint32_t dropped = rx->dropped;
    rx->length = 0;
    rx->dropped = 0;
    if (encoded == 0u && dropped == 0u) {
        return MYE_RX_NOTHING;
    }
    if (dropped != 0u) {
        return refuse(error, MYE_ERR_FRAME_TOO_LONG, 0u, 0u, MYE_MAX_REQUEST_ENCODED,
                      (uint32_t)encoded + dropped);
    }
    int32_t decoded = mye_cobs_decode(rx->buffer, encoded);
    if (decoded < 0) {
        return refuse(error, MYE_ERR_BAD_FRAMING, 0u, 0u, 0u, (uint32_t)encoded);
    }
    size_t length = (size_t)decoded;
    if (length < MYE_HEADER_SIZE + MYE_CRC_SIZE) {
        return refuse(error, MYE_ERR_BAD_LENGTH, 0u, 0u, MYE_HEADER_SIZE + MYE_CRC_SIZE,
                      (uint32_t)length);
    }
    size_t body = length - MYE_CRC_SIZE;
    uint16_t computed = mye_crc16(rx->buffer, body, MYE_CRC_INIT);
    uint16_t received = mye_get_u16(rx->buffer + body);
    if (computed != received) {
        return refuse(error, MYE_ERR_BAD_CRC, 0u, 0u, computed, received);
    }
    uint8_t version = rx->buffer[MYE_HEADER_VERSION];
    uint8_t code = rx->buffer[MYE_HEADER_CODE];
    uint16_t seq = mye_get_u16(rx->buffer + MYE_HEADER_SEQ);
    uint16_t declared = mye_get_u16(rx->buffer + MYE_HEADER_LENGTH);
    if (version != MYE_PROTOCOL_VERSION) {
        return refuse(error, MYE_ERR_BAD_VERSION, code, seq, MYE_PROTOCOL_VERSION, version);
    }
    size_t actual = body - MYE_HEADER_SIZE;
    if ((size_t)declared != actual) {
        return refuse(error, MYE_ERR_BAD_LENGTH, code, seq, declared, (uint32_t)actual);
    }
    frame->code = code;
    frame->seq = seq;
    frame->crc = received;
    frame->length = declared;
    frame->payload = rx->buffer + MYE_HEADER_SIZE;
    return MYE_RX_FRAME;
}

mye_rx_result_t mye_rx_push(mye_rx_t *rx, uint8_t byte, mye_frame_t *frame,
                            mye_link_error_t *error)
{
    if (byte == MYE_FRAME_DELIMITER) {
        return finish(rx, frame, error);
    }
    if (rx->length < sizeof rx->buffer) {
        rx->buffer[rx->length] = byte;
        rx->length++;
    } else if (rx->dropped < 0xFFFFFFFFu) {
        rx->dropped++;
    }
    return MYE_RX_NOTHING;
}
