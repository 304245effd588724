/* test_protocol_main.c - the protocol codec and the command dispatcher,
 * compiled for the host with a stub board, a stub preprocessor and a stub
 * model (tests/test_protocol.py builds it with ASan and UBSan).
 *
 *   test_protocol selftest          CRC check value, COBS round trips
 *   test_protocol fuzz N SEED       N random and corrupted frames; each bad
 *                                   frame must get exactly the right ERROR
 *   test_protocol serve             act as a board on stdin/stdout
 *   test_protocol fault             the FAULT frame a fault handler sends
 *
 * The stubs are small enough to restate in Python (tests/test_protocol.py
 * does), so the host side can check every reply byte.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "protocol.h"

/* ---- stub port --------------------------------------------------------- */

#define STUB_WINDOW 4u
#define STUB_CHANNELS 2u
#define STUB_HOP 2u
#define STUB_INPUT (STUB_WINDOW * STUB_CHANNELS)
#define STUB_CLASSES 5u
#define STUB_CYCLE_STEP 7u

static const mye_port_info_t stub_info = {
    "host-stub", "host", "stub-model", "0123456789abcdef", "test",
    1000000u, 1000u, 2000u, 300u, 400u,
    STUB_INPUT, 0.5f, -3, 0.25f, 1,
    STUB_CLASSES, STUB_WINDOW, STUB_CHANNELS, STUB_HOP, MYE_UNIT_INSTRUCTIONS,
};

static uint32_t stub_clock;
static float stub_ring[STUB_WINDOW][STUB_CHANNELS];
static uint32_t stub_seen;
static int8_t stub_window[STUB_INPUT];

static uint8_t *capture; /* where mye_port_write puts bytes in fuzz mode */
static size_t capture_length;
static size_t capture_capacity;
static int serving;

const mye_port_info_t *mye_port_info(void) { return &stub_info; }

void mye_port_write(const uint8_t *data, size_t length)
{
    if (serving) {
        fwrite(data, 1, length, stdout);
        return;
    }
    if (capture_length + length > capture_capacity) {
        fprintf(stderr, "capture buffer overflow\n");
        abort();
    }
    memcpy(capture + capture_length, data, length);
    capture_length += length;
}

int mye_port_read_byte(void) { return -1; }

uint32_t mye_port_cycles(void)
{
    stub_clock += STUB_CYCLE_STEP;
    return stub_clock;
}

void mye_port_preprocess_reset(void)
{
    memset(stub_ring, 0, sizeof stub_ring);
    stub_seen = 0;
}

/* Rectify and quantise with the input scale and zero point. */
static int8_t stub_quantise(float x)
{
    float scaled = floorf(fabsf(x) / stub_info.input_scale + 0.5f);
    float q = scaled + (float)stub_info.input_zero_point;
    if (!(q >= -128.0f)) { /* also catches NaN */
        return q != q ? (int8_t)stub_info.input_zero_point : (int8_t)-128;
    }
    if (q > 127.0f) {
        return 127;
    }
    return (int8_t)q;
}

const int8_t *mye_port_preprocess_push(const float *sample)
{
    for (uint32_t t = 0; t + 1u < STUB_WINDOW; t++) {
        for (uint32_t c = 0; c < STUB_CHANNELS; c++) {
            stub_ring[t][c] = stub_ring[t + 1u][c];
        }
    }
    for (uint32_t c = 0; c < STUB_CHANNELS; c++) {
        stub_ring[STUB_WINDOW - 1u][c] = sample[c];
    }
    stub_seen++;
    if (stub_seen < STUB_WINDOW || (stub_seen - STUB_WINDOW) % STUB_HOP != 0u) {
        return NULL;
    }
    for (uint32_t t = 0; t < STUB_WINDOW; t++) {
        for (uint32_t c = 0; c < STUB_CHANNELS; c++) {
            stub_window[t * STUB_CHANNELS + c] = stub_quantise(stub_ring[t][c]);
        }
    }
    return stub_window;
}

/* scores[k] = clamp(k + sum_i input[i] * ((i + k) % 3 - 1)); fails (3) when
 * every input is -128, so the tests can reach INTERNAL. */
int mye_port_model_invoke(const int8_t *input, int8_t *output)
{
    int all_min = 1;
    for (uint32_t i = 0; i < STUB_INPUT; i++) {
        all_min = all_min && input[i] == -128;
    }
    if (all_min) {
        return 3;
    }
    for (uint32_t k = 0; k < STUB_CLASSES; k++) {
        int32_t acc = (int32_t)k;
        for (uint32_t i = 0; i < STUB_INPUT; i++) {
            acc += (int32_t)input[i] * (int32_t)((i + k) % 3u) - (int32_t)input[i];
        }
        output[k] = (int8_t)(acc > 127 ? 127 : (acc < -128 ? -128 : acc));
    }
    return 0;
}

/* ---- helpers ----------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static uint32_t rnd_below(uint32_t n) { return n == 0u ? 0u : rnd() % n; }

static int failures;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            failures++;                                                   \
            if (failures <= 20) {                                         \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);      \
                fprintf(stderr, __VA_ARGS__);                             \
                fputc('\n', stderr);                                      \
            }                                                             \
        }                                                                 \
    } while (0)

typedef struct {
    uint8_t code;
    uint16_t seq;
    uint16_t length;
    uint8_t payload[MYE_MAX_REPLY_PAYLOAD];
} reply_t;

#define MAX_REPLIES 64
static reply_t replies[MAX_REPLIES];
static int reply_count;
static mye_rx_t reply_rx;

/* Split the captured bytes into reply frames; a bad reply is a failure. */
static void collect_replies(void)
{
    reply_count = 0;
    mye_rx_init(&reply_rx);
    for (size_t i = 0; i < capture_length; i++) {
        mye_frame_t frame;
        mye_link_error_t error;
        mye_rx_result_t result = mye_rx_push(&reply_rx, capture[i], &frame, &error);
        if (result == MYE_RX_ERROR) {
            CHECK(0, "board sent a bad frame (error %u)", error.error);
        } else if (result == MYE_RX_FRAME) {
            CHECK(frame.length <= MYE_MAX_REPLY_PAYLOAD, "reply too long: %u", frame.length);
            if (reply_count < MAX_REPLIES && frame.length <= MYE_MAX_REPLY_PAYLOAD) {
                replies[reply_count].code = frame.code;
                replies[reply_count].seq = frame.seq;
                replies[reply_count].length = frame.length;
                memcpy(replies[reply_count].payload, frame.payload, frame.length);
                reply_count++;
            }
        }
    }
    CHECK(reply_rx.length == 0u, "reply bytes after the last delimiter");
}

static void feed_bytes(const uint8_t *data, size_t length)
{
    capture_length = 0;
    for (size_t i = 0; i < length; i++) {
        myoedge_protocol_feed(data[i]);
    }
    collect_replies();
}

/* Frame body (header, payload, CRC) with any version, code and length field. */
static size_t build_body(uint8_t *body, uint8_t version, uint8_t code, uint16_t seq,
                         uint16_t declared, const uint8_t *payload, size_t length)
{
    body[MYE_HEADER_VERSION] = version;
    body[MYE_HEADER_CODE] = code;
    mye_put_u16(body + MYE_HEADER_SEQ, seq);
    mye_put_u16(body + MYE_HEADER_LENGTH, declared);
    memcpy(body + MYE_HEADER_SIZE, payload, length);
    size_t end = MYE_HEADER_SIZE + length;
    mye_put_u16(body + end, mye_crc16(body, end, MYE_CRC_INIT));
    return end + MYE_CRC_SIZE;
}

static uint8_t wire[MYE_MAX_REQUEST_ENCODED + 512];

/* 0x00, COBS(body), 0x00 into wire; returns the length. */
static size_t frame_wire(const uint8_t *body, size_t length)
{
    wire[0] = 0u;
    int32_t n = mye_cobs_encode(body, length, wire + 1, sizeof wire - 2u);
    if (n < 0) {
        fprintf(stderr, "wire buffer too small\n");
        abort();
    }
    wire[1 + n] = 0u;
    return (size_t)n + 2u;
}

static int expect_error(uint8_t error, uint16_t seq, uint32_t expected, uint32_t got,
                        const char *what)
{
    CHECK(reply_count == 1, "%s: %d replies", what, reply_count);
    if (reply_count != 1) {
        return 0;
    }
    const reply_t *r = &replies[0];
    CHECK(r->code == MYE_REPLY_ERROR, "%s: reply code 0x%02X", what, r->code);
    if (r->code != MYE_REPLY_ERROR || r->length != MYE_ERROR_REPLY_SIZE) {
        return 0;
    }
    uint8_t e = r->payload[MYE_ERROR_REPLY_ERROR];
    uint32_t exp = mye_get_u32(r->payload + MYE_ERROR_REPLY_EXPECTED);
    uint32_t gt = mye_get_u32(r->payload + MYE_ERROR_REPLY_GOT);
    CHECK(e == error, "%s: error %u, wanted %u", what, e, error);
    CHECK(r->seq == seq, "%s: seq %u, wanted %u", what, r->seq, seq);
    CHECK(exp == expected, "%s: expected field %u, wanted %u", what, exp, expected);
    CHECK(gt == got, "%s: got field %u, wanted %u", what, gt, got);
    return e == error;
}

/* ---- selftest ---------------------------------------------------------- */

static int selftest(void)
{
    const uint8_t check[] = "123456789";
    CHECK(mye_crc16(check, 9, MYE_CRC_INIT) == MYE_CRC_CHECK, "CRC check value");
    static uint8_t data[1200], encoded[1300], decoded[1300];
    const size_t lengths[] = {0, 1, 2, 253, 254, 255, 256, 507, 508, 509, 1000, 1200};
    for (size_t n = 0; n < sizeof lengths / sizeof lengths[0]; n++) {
        for (int pattern = 0; pattern < 3; pattern++) {
            for (size_t i = 0; i < lengths[n]; i++) {
                data[i] = pattern == 0 ? 0u : (pattern == 1 ? (uint8_t)(1u + i % 255u)
                                                            : (uint8_t)rnd_below(3));
            }
            int32_t e = mye_cobs_encode(data, lengths[n], encoded, sizeof encoded);
            CHECK(e >= 0 && (size_t)e <= lengths[n] + lengths[n] / 254u + 1u, "encode %zu", lengths[n]);
            for (int32_t i = 0; i < e; i++) {
                CHECK(encoded[i] != 0u, "zero in COBS output");
            }
            memcpy(decoded, encoded, (size_t)e);
            int32_t d = mye_cobs_decode(decoded, (size_t)e);
            CHECK(d == (int32_t)lengths[n] && memcmp(decoded, data, lengths[n]) == 0,
                  "round trip %zu pattern %d", lengths[n], pattern);
            CHECK(mye_cobs_encode(data, lengths[n], encoded, (size_t)e - 1u) == -1 || e == 0,
                  "encode must refuse a short buffer");
        }
    }
    uint8_t bad[] = {5, 1, 2};
    CHECK(mye_cobs_decode(bad, sizeof bad) == -1, "block past the end");
    printf("selftest %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}

/* ---- fuzz -------------------------------------------------------------- */

enum {
    K_VALID, K_UNKNOWN, K_VERSION, K_CRC, K_HEADER_LENGTH, K_SHORT, K_FRAMING,
    K_TOO_LONG, K_SHAPE, K_PAYLOAD_LENGTH, K_ARGUMENT, K_RANDOM, K_DUPLICATE,
    K_INTERNAL, K_COUNT
};
static const char *kind_names[K_COUNT] = {
    "valid", "unknown_command", "bad_version", "bad_crc", "header_length", "short_frame",
    "bad_framing", "too_long", "bad_shape", "payload_length", "bad_argument", "random_bytes",
    "duplicate", "internal",
};

static uint16_t next_seq;
static uint32_t oracle_position; /* the stream position the board should be at */
static uint8_t cached_wire[MYE_MAX_REQUEST_ENCODED + 512];
static size_t cached_wire_length;
static uint8_t cached_reply[2 * MYE_MAX_REPLY_ENCODED + 4];
static size_t cached_reply_length;
static int have_cached;

static uint16_t take_seq(void)
{
    next_seq++;
    if (next_seq == 0u) {
        next_seq = 1u;
    }
    return next_seq;
}

/* Send a CRC-good frame; it is cached by the board, so remember it. */
static void send_cached(uint8_t code, uint16_t seq, const uint8_t *payload, size_t length)
{
    static uint8_t body[MYE_MAX_REQUEST_FRAME + 16];
    size_t n = build_body(body, MYE_PROTOCOL_VERSION, code, seq, (uint16_t)length, payload, length);
    size_t w = frame_wire(body, n);
    feed_bytes(wire, w);
    memcpy(cached_wire, wire, w);
    cached_wire_length = w;
    memcpy(cached_reply, capture, capture_length);
    cached_reply_length = capture_length;
    have_cached = 1;
}

static void stub_model_copy(const int8_t *input, int8_t *out)
{
    int status = mye_port_model_invoke(input, out);
    CHECK(status == 0, "stub model failed on a valid input");
}

static uint16_t argmax5(const int8_t *s)
{
    uint16_t best = 0;
    for (uint16_t i = 1; i < STUB_CLASSES; i++) {
        if (s[i] > s[best]) {
            best = i;
        }
    }
    return best;
}

static size_t window_payload(uint8_t *p, uint8_t mode, uint8_t flags, uint16_t rows,
                             uint16_t cols, size_t data_bytes)
{
    p[MYE_WINDOW_MODE] = mode;
    p[MYE_WINDOW_FLAGS] = flags;
    mye_put_u16(p + MYE_WINDOW_ROWS, rows);
    mye_put_u16(p + MYE_WINDOW_COLS, cols);
    for (size_t i = 0; i < data_bytes; i++) {
        p[MYE_WINDOW_SIZE + i] = (uint8_t)rnd();
    }
    return MYE_WINDOW_SIZE + data_bytes;
}

/* Small integer-valued float32 samples: exact in every rounding. */
static void random_samples(uint8_t *p, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        mye_put_f32(p + 4u * i, (float)((int)rnd_below(200) - 100));
    }
}

static void fuzz_valid(void)
{
    static uint8_t payload[MYE_MAX_REQUEST_PAYLOAD];
    uint16_t seq = take_seq();
    uint32_t which = rnd_below(6);
    if (which == 0u) {
        send_cached(MYE_CMD_INFO, seq, payload, 0);
        CHECK(reply_count == 1 && replies[0].code == MYE_REPLY_INFO && replies[0].seq == seq,
              "INFO reply");
    } else if (which == 1u) {
        size_t n = window_payload(payload, MYE_MODE_PREPROCESSED, 0, 2, 4, STUB_INPUT);
        if ((int8_t)payload[MYE_WINDOW_SIZE] == -128) {
            payload[MYE_WINDOW_SIZE] = 0; /* keep clear of the stub's failure trigger */
        }
        send_cached(MYE_CMD_INFER, seq, payload, n);
        int8_t expected[STUB_CLASSES];
        stub_model_copy((const int8_t *)(payload + MYE_WINDOW_SIZE), expected);
        CHECK(reply_count == 1 && replies[0].code == MYE_REPLY_INFER && replies[0].seq == seq,
              "INFER reply");
        if (reply_count == 1 && replies[0].code == MYE_REPLY_INFER) {
            const uint8_t *r = replies[0].payload;
            CHECK(replies[0].length == MYE_INFER_REPLY_SIZE + STUB_CLASSES, "INFER length");
            CHECK(memcmp(r + MYE_INFER_REPLY_SIZE, expected, STUB_CLASSES) == 0, "INFER scores");
            CHECK(mye_get_u16(r + MYE_INFER_REPLY_PREDICTED) == argmax5(expected), "INFER class");
            CHECK(mye_get_u32(r + MYE_INFER_REPLY_NETWORK_CYCLES) == STUB_CYCLE_STEP,
                  "INFER network cycles");
        }
    } else if (which == 2u) {
        size_t n = window_payload(payload, MYE_MODE_RAW, 0, STUB_WINDOW, STUB_CHANNELS, 0);
        random_samples(payload + n, STUB_INPUT);
        n += 4u * STUB_INPUT;
        send_cached(MYE_CMD_INFER, seq, payload, n);
        oracle_position = 0;
        int8_t window[STUB_INPUT], expected[STUB_CLASSES];
        for (uint32_t i = 0; i < STUB_INPUT; i++) {
            window[i] = stub_quantise(mye_get_f32(payload + MYE_WINDOW_SIZE + 4u * i));
        }
        stub_model_copy(window, expected);
        CHECK(reply_count == 1 && replies[0].code == MYE_REPLY_INFER, "raw INFER reply");
        if (reply_count == 1 && replies[0].code == MYE_REPLY_INFER) {
            CHECK(memcmp(replies[0].payload + MYE_INFER_REPLY_SIZE, expected, STUB_CLASSES) == 0,
                  "raw INFER scores");
        }
    } else if (which == 3u) {
        uint8_t flags = (uint8_t)(rnd_below(4) == 0u ? MYE_STREAM_FLAG_RESET : 0u);
        uint8_t vote = (uint8_t)rnd_below(6);
        uint16_t samples = (uint16_t)rnd_below(MYE_MAX_STREAM_SAMPLES + 1u);
        payload[MYE_STREAM_REQUEST_FLAGS] = flags;
        payload[MYE_STREAM_REQUEST_VOTE] = vote;
        mye_put_u16(payload + MYE_STREAM_REQUEST_N_SAMPLES, samples);
        mye_put_u16(payload + MYE_STREAM_REQUEST_N_CHANNELS, STUB_CHANNELS);
        random_samples(payload + MYE_STREAM_REQUEST_SIZE, (size_t)samples * STUB_CHANNELS);
        send_cached(MYE_CMD_STREAM, seq, payload,
                    MYE_STREAM_REQUEST_SIZE + 4u * (size_t)samples * STUB_CHANNELS);
        if (flags) {
            oracle_position = 0;
        }
        uint16_t hops = 0;
        for (uint16_t s = 0; s < samples; s++) {
            oracle_position++;
            if (oracle_position >= STUB_WINDOW && (oracle_position - STUB_WINDOW) % STUB_HOP == 0u) {
                hops++;
            }
        }
        CHECK(reply_count == 1 && replies[0].code == MYE_REPLY_STREAM, "STREAM reply");
        if (reply_count == 1 && replies[0].code == MYE_REPLY_STREAM) {
            const uint8_t *r = replies[0].payload;
            CHECK(mye_get_u32(r + MYE_STREAM_REPLY_POSITION) == oracle_position,
                  "STREAM position %u, wanted %u", mye_get_u32(r + MYE_STREAM_REPLY_POSITION),
                  oracle_position);
            CHECK(mye_get_u16(r + MYE_STREAM_REPLY_N_PREDICTIONS) == hops, "STREAM hops");
            CHECK(replies[0].length == MYE_STREAM_REPLY_SIZE + hops * MYE_STREAM_PREDICTION_SIZE,
                  "STREAM length");
        }
    } else if (which == 4u) {
        uint16_t runs = (uint16_t)(1u + rnd_below(4));
        mye_put_u16(payload + MYE_BENCH_REQUEST_RUNS, runs);
        size_t n = 2u + window_payload(payload + 2, MYE_MODE_PREPROCESSED, 0, 1, STUB_INPUT, STUB_INPUT);
        payload[2 + MYE_WINDOW_SIZE] = 1; /* keep clear of the failure trigger */
        send_cached(MYE_CMD_BENCH, seq, payload, n);
        int8_t expected[STUB_CLASSES];
        stub_model_copy((const int8_t *)(payload + 2 + MYE_WINDOW_SIZE), expected);
        CHECK(reply_count == 1 && replies[0].code == MYE_REPLY_BENCH, "BENCH reply");
        if (reply_count == 1 && replies[0].code == MYE_REPLY_BENCH) {
            const uint8_t *r = replies[0].payload;
            CHECK(mye_get_u16(r + MYE_BENCH_REPLY_RUNS) == runs, "BENCH runs");
            CHECK(mye_get_u16(r + MYE_BENCH_REPLY_PREDICTED) == argmax5(expected), "BENCH class");
            CHECK(mye_get_u32(r + MYE_BENCH_REPLY_NETWORK_MIN) == STUB_CYCLE_STEP &&
                      mye_get_u32(r + MYE_BENCH_REPLY_NETWORK_MAX) == STUB_CYCLE_STEP,
                  "BENCH network cycles");
        }
    } else {
        send_cached(MYE_CMD_RESET, seq, payload, 0);
        oracle_position = 0;
        CHECK(reply_count == 1 && replies[0].code == MYE_REPLY_RESET && replies[0].length == 0u,
              "RESET reply");
    }
}

static void fuzz_one(int kind)
{
    static uint8_t payload[MYE_MAX_REQUEST_PAYLOAD + 64];
    static uint8_t body[MYE_MAX_REQUEST_FRAME + 64];
    uint16_t seq;
    size_t n, w;
    switch (kind) {
    case K_VALID:
        fuzz_valid();
        break;
    case K_UNKNOWN: {
        uint8_t code;
        do {
            code = (uint8_t)rnd();
        } while (code >= MYE_CMD_INFO && code <= MYE_CMD_LIVE); /* every command code the dispatcher knows */
        seq = take_seq();
        n = rnd_below(20);
        for (size_t i = 0; i < n; i++) {
            payload[i] = (uint8_t)rnd();
        }
        send_cached(code, seq, payload, n);
        expect_error(MYE_ERR_UNKNOWN_COMMAND, seq, 0u, code, "unknown command");
        break;
    }
    case K_VERSION: {
        uint8_t version;
        do {
            version = (uint8_t)rnd();
        } while (version == MYE_PROTOCOL_VERSION);
        seq = take_seq();
        n = build_body(body, version, MYE_CMD_INFO, seq, 0, payload, 0);
        w = frame_wire(body, n);
        feed_bytes(wire, w);
        expect_error(MYE_ERR_BAD_VERSION, seq, MYE_PROTOCOL_VERSION, version, "bad version");
        break;
    }
    case K_CRC: {
        seq = take_seq();
        size_t length = rnd_below(300);
        for (size_t i = 0; i < length; i++) {
            payload[i] = (uint8_t)rnd();
        }
        n = build_body(body, MYE_PROTOCOL_VERSION, (uint8_t)(1u + rnd_below(5)), seq,
                       (uint16_t)length, payload, length);
        /* A burst of at most 16 bits: CRC-16 catches every one of them. */
        uint32_t span = 1u + rnd_below(16);
        uint32_t start = rnd_below((uint32_t)(8u * n - span + 1u));
        uint32_t pattern = (rnd() & ((1u << span) - 1u)) | 1u | (1u << (span - 1u));
        for (uint32_t b = 0; b < span; b++) {
            if (pattern & (1u << b)) {
                uint32_t bit = start + b;
                body[bit / 8u] ^= (uint8_t)(1u << (bit % 8u));
            }
        }
        uint16_t computed = mye_crc16(body, n - 2u, MYE_CRC_INIT);
        uint16_t received = mye_get_u16(body + n - 2u);
        w = frame_wire(body, n);
        feed_bytes(wire, w);
        expect_error(MYE_ERR_BAD_CRC, 0u, computed, received, "bad CRC");
        break;
    }
    case K_HEADER_LENGTH: {
        seq = take_seq();
        size_t length = rnd_below(40);
        uint16_t declared;
        do {
            declared = (uint16_t)rnd_below(rnd_below(2) ? 60u : 65536u);
        } while (declared == length);
        n = build_body(body, MYE_PROTOCOL_VERSION, MYE_CMD_INFO, seq, declared, payload, length);
        w = frame_wire(body, n);
        feed_bytes(wire, w);
        expect_error(MYE_ERR_BAD_LENGTH, seq, declared, (uint32_t)length, "header length");
        break;
    }
    case K_SHORT: {
        size_t length = 1u + rnd_below(MYE_HEADER_SIZE + MYE_CRC_SIZE - 1u);
        for (size_t i = 0; i < length; i++) {
            body[i] = (uint8_t)rnd_below(4);
        }
        w = frame_wire(body, length);
        feed_bytes(wire, w);
        expect_error(MYE_ERR_BAD_LENGTH, 0u, MYE_HEADER_SIZE + MYE_CRC_SIZE, (uint32_t)length,
                     "short frame");
        break;
    }
    case K_FRAMING: {
        seq = take_seq();
        size_t length = rnd_below(200);
        for (size_t i = 0; i < length; i++) {
            payload[i] = (uint8_t)rnd();
        }
        n = build_body(body, MYE_PROTOCOL_VERSION, MYE_CMD_INFO, seq, (uint16_t)length, payload, length);
        w = frame_wire(body, n);
        if (rnd_below(2)) {
            /* a last code byte that promises more bytes than follow */
            wire[w - 1u] = (uint8_t)(2u + rnd_below(200));
            wire[w] = 0u;
            w++;
        } else {
            wire[1] = 0xFFu; /* the first block claims 254 bytes; fewer follow */
        }
        size_t encoded = w - 2u;
        feed_bytes(wire, w);
        expect_error(MYE_ERR_BAD_FRAMING, 0u, 0u, (uint32_t)encoded, "bad framing");
        break;
    }
    case K_TOO_LONG: {
        size_t length = MYE_MAX_REQUEST_ENCODED + 1u + rnd_below(300);
        wire[0] = 0u;
        for (size_t i = 1; i <= length; i++) {
            wire[i] = (uint8_t)(1u + rnd_below(255));
        }
        wire[length + 1u] = 0u;
        feed_bytes(wire, length + 2u);
        expect_error(MYE_ERR_FRAME_TOO_LONG, 0u, MYE_MAX_REQUEST_ENCODED, (uint32_t)length,
                     "too long");
        break;
    }
    case K_SHAPE: {
        seq = take_seq();
        uint32_t which = rnd_below(4);
        if (which == 0u) {
            uint16_t rows, cols;
            do {
                rows = (uint16_t)rnd_below(12);
                cols = (uint16_t)rnd_below(12);
            } while ((uint32_t)rows * cols == STUB_INPUT);
            n = window_payload(payload, MYE_MODE_PREPROCESSED, 0, rows, cols, (size_t)rows * cols);
            send_cached(MYE_CMD_INFER, seq, payload, n);
            expect_error(MYE_ERR_BAD_SHAPE, seq, STUB_INPUT, (uint32_t)rows * cols, "shape pre");
        } else if (which == 1u) {
            uint16_t rows;
            do {
                rows = (uint16_t)rnd_below(10);
            } while (rows == STUB_WINDOW);
            n = window_payload(payload, MYE_MODE_RAW, 0, rows, STUB_CHANNELS, 0);
            random_samples(payload + n, (size_t)rows * STUB_CHANNELS);
            n += 4u * (size_t)rows * STUB_CHANNELS;
            send_cached(MYE_CMD_INFER, seq, payload, n);
            expect_error(MYE_ERR_BAD_SHAPE, seq, STUB_WINDOW, rows, "shape raw rows");
        } else if (which == 2u) {
            uint16_t cols;
            do {
                cols = (uint16_t)rnd_below(6);
            } while (cols == STUB_CHANNELS);
            n = window_payload(payload, MYE_MODE_RAW, 0, STUB_WINDOW, cols, 0);
            random_samples(payload + n, (size_t)STUB_WINDOW * cols);
            n += 4u * (size_t)STUB_WINDOW * cols;
            send_cached(MYE_CMD_INFER, seq, payload, n);
            expect_error(MYE_ERR_BAD_SHAPE, seq, STUB_CHANNELS, cols, "shape raw cols");
        } else {
            int wrong_channels = (int)rnd_below(2);
            uint16_t channels = wrong_channels ? (uint16_t)(3u + rnd_below(4)) : STUB_CHANNELS;
            uint16_t samples = wrong_channels ? (uint16_t)rnd_below(10)
                                              : (uint16_t)(MYE_MAX_STREAM_SAMPLES + 1u + rnd_below(50));
            payload[MYE_STREAM_REQUEST_FLAGS] = 0;
            payload[MYE_STREAM_REQUEST_VOTE] = 0;
            mye_put_u16(payload + MYE_STREAM_REQUEST_N_SAMPLES, samples);
            mye_put_u16(payload + MYE_STREAM_REQUEST_N_CHANNELS, channels);
            random_samples(payload + MYE_STREAM_REQUEST_SIZE, (size_t)samples * channels);
            send_cached(MYE_CMD_STREAM, seq, payload,
                        MYE_STREAM_REQUEST_SIZE + 4u * (size_t)samples * channels);
            if (wrong_channels) {
                expect_error(MYE_ERR_BAD_SHAPE, seq, STUB_CHANNELS, channels, "stream channels");
            } else {
                expect_error(MYE_ERR_BAD_SHAPE, seq, MYE_MAX_STREAM_SAMPLES, samples, "stream samples");
            }
        }
        break;
    }
    case K_PAYLOAD_LENGTH: {
        seq = take_seq();
        uint32_t which = rnd_below(5);
        if (which == 0u || which == 1u) {
            uint8_t code = which == 0u ? MYE_CMD_INFO : MYE_CMD_RESET;
            n = 1u + rnd_below(30);
            send_cached(code, seq, payload, n);
            expect_error(MYE_ERR_BAD_LENGTH, seq, 0u, (uint32_t)n, "INFO/RESET payload");
        } else if (which == 2u) {
            n = rnd_below(MYE_WINDOW_SIZE);
            for (size_t i = 0; i < n; i++) {
                payload[i] = 0;
            }
            send_cached(MYE_CMD_INFER, seq, payload, n);
            expect_error(MYE_ERR_BAD_LENGTH, seq, MYE_WINDOW_SIZE, (uint32_t)n, "short window");
        } else if (which == 3u) {
            uint8_t mode = (uint8_t)rnd_below(2);
            uint16_t rows = (uint16_t)rnd_below(300), cols = (uint16_t)rnd_below(300);
            size_t right = MYE_WINDOW_SIZE + (size_t)rows * cols * (mode ? 4u : 1u);
            size_t actual;
            do {
                actual = MYE_WINDOW_SIZE + rnd_below(600);
            } while (actual == right);
            window_payload(payload, mode, 0, rows, cols, actual - MYE_WINDOW_SIZE);
            send_cached(MYE_CMD_INFER, seq, payload, actual);
            expect_error(MYE_ERR_BAD_LENGTH, seq, (uint32_t)right, (uint32_t)actual, "window bytes");
        } else {
            uint16_t samples = (uint16_t)rnd_below(50);
            size_t right = MYE_STREAM_REQUEST_SIZE + 4u * (size_t)samples * STUB_CHANNELS;
            size_t actual = right + 1u + rnd_below(3);
            payload[MYE_STREAM_REQUEST_FLAGS] = 0;
            payload[MYE_STREAM_REQUEST_VOTE] = 0;
            mye_put_u16(payload + MYE_STREAM_REQUEST_N_SAMPLES, samples);
            mye_put_u16(payload + MYE_STREAM_REQUEST_N_CHANNELS, STUB_CHANNELS);
            random_samples(payload + MYE_STREAM_REQUEST_SIZE, (actual - MYE_STREAM_REQUEST_SIZE) / 4u + 1u);
            send_cached(MYE_CMD_STREAM, seq, payload, actual);
            expect_error(MYE_ERR_BAD_LENGTH, seq, (uint32_t)right, (uint32_t)actual, "stream bytes");
        }
        break;
    }
    case K_ARGUMENT: {
        seq = take_seq();
        uint32_t which = rnd_below(5);
        if (which == 0u) {
            uint8_t mode = (uint8_t)(2u + rnd_below(254));
            n = window_payload(payload, mode, 0, 2, 4, 8);
            send_cached(MYE_CMD_INFER, seq, payload, n);
            expect_error(MYE_ERR_BAD_ARGUMENT, seq, MYE_MODE_RAW, mode, "mode");
        } else if (which == 1u) {
            uint8_t flags = (uint8_t)(1u + rnd_below(255));
            n = window_payload(payload, MYE_MODE_PREPROCESSED, flags, 2, 4, 8);
            send_cached(MYE_CMD_INFER, seq, payload, n);
            expect_error(MYE_ERR_BAD_ARGUMENT, seq, 0u, flags, "window flags");
        } else if (which == 2u) {
            uint16_t runs = rnd_below(2) ? 0u : (uint16_t)(MYE_MAX_BENCH_RUNS + 1u + rnd_below(1000));
            mye_put_u16(payload + MYE_BENCH_REQUEST_RUNS, runs);
            n = 2u + window_payload(payload + 2, MYE_MODE_PREPROCESSED, 0, 1, STUB_INPUT, STUB_INPUT);
            send_cached(MYE_CMD_BENCH, seq, payload, n);
            expect_error(MYE_ERR_BAD_ARGUMENT, seq, MYE_MAX_BENCH_RUNS, runs, "bench runs");
        } else {
            int bad_vote = which == 3u;
            uint8_t vote = bad_vote ? (uint8_t)(MYE_MAX_VOTE + 1u + rnd_below(200)) : 0u;
            uint8_t flags = bad_vote ? 0u : (uint8_t)(2u + rnd_below(254));
            payload[MYE_STREAM_REQUEST_FLAGS] = flags;
            payload[MYE_STREAM_REQUEST_VOTE] = vote;
            mye_put_u16(payload + MYE_STREAM_REQUEST_N_SAMPLES, 1);
            mye_put_u16(payload + MYE_STREAM_REQUEST_N_CHANNELS, STUB_CHANNELS);
            random_samples(payload + MYE_STREAM_REQUEST_SIZE, STUB_CHANNELS);
            send_cached(MYE_CMD_STREAM, seq, payload, MYE_STREAM_REQUEST_SIZE + 4u * STUB_CHANNELS);
            if (bad_vote) {
                expect_error(MYE_ERR_BAD_ARGUMENT, seq, MYE_MAX_VOTE, vote, "vote");
            } else {
                expect_error(MYE_ERR_BAD_ARGUMENT, seq, MYE_STREAM_FLAG_RESET, flags, "stream flags");
            }
        }
        break;
    }
    case K_RANDOM: {
        size_t length = 1u + rnd_below(400);
        int zero_heavy = (int)rnd_below(3) == 0;
        for (size_t i = 0; i < length; i++) {
            wire[i] = zero_heavy ? (uint8_t)rnd_below(3) : (uint8_t)rnd();
        }
        if (rnd_below(2)) {
            wire[length] = 0u; /* else the INFO's leading delimiter ends the garbage */
            length++;
        }
        feed_bytes(wire, length);
        /* Then a valid INFO must be answered, whatever came before. */
        seq = take_seq();
        send_cached(MYE_CMD_INFO, seq, payload, 0);
        CHECK(reply_count >= 1 && replies[reply_count - 1].code == MYE_REPLY_INFO &&
                  replies[reply_count - 1].seq == seq,
              "INFO after random bytes");
        have_cached = reply_count == 1; /* the capture may also hold the garbage's ERROR */
        break;
    }
    case K_DUPLICATE: {
        if (!have_cached) {
            break;
        }
        static uint8_t previous[2 * MYE_MAX_REPLY_ENCODED + 4];
        size_t previous_length = cached_reply_length;
        memcpy(previous, cached_reply, previous_length);
        capture_length = 0;
        for (size_t i = 0; i < cached_wire_length; i++) {
            myoedge_protocol_feed(cached_wire[i]);
        }
        CHECK(capture_length == previous_length && memcmp(capture, previous, previous_length) == 0,
              "duplicate must get the cached reply");
        break;
    }
    case K_INTERNAL: {
        seq = take_seq();
        n = window_payload(payload, MYE_MODE_PREPROCESSED, 0, 1, STUB_INPUT, 0);
        memset(payload + n, 0x80, STUB_INPUT);
        send_cached(MYE_CMD_INFER, seq, payload, n + STUB_INPUT);
        expect_error(MYE_ERR_INTERNAL, seq, 0u, 3u, "model failure");
        break;
    }
    default:
        break;
    }
}

static int fuzz(long iterations, uint64_t seed)
{
    static long tally[K_COUNT];
    capture_capacity = 16u * MYE_MAX_REPLY_ENCODED + 4096u;
    capture = malloc(capture_capacity); /* test harness only; the firmware never allocates */
    if (capture == NULL) {
        return 2;
    }
    rng_state = seed * 2654435761u + 88172645463325252ull;
    capture_length = 0;
    myoedge_protocol_init(0);
    collect_replies();
    CHECK(reply_count == 1 && replies[0].code == MYE_REPLY_BOOT, "BOOT frame at start");
    oracle_position = 0;
    for (long i = 0; i < iterations; i++) {
        uint32_t roll = rnd_below(1000);
        int kind;
        if (roll < 5u) {
            kind = K_TOO_LONG;
        } else if (roll < 10u) {
            kind = K_INTERNAL;
        } else {
            kind = (int)((roll - 10u) % (K_COUNT - 2)); /* K_VALID .. K_DUPLICATE, no TOO_LONG */
            if (kind >= K_TOO_LONG) {
                kind++;
            }
        }
        fuzz_one(kind);
        tally[kind]++;
    }
    for (int k = 0; k < K_COUNT; k++) {
        printf("%s %ld\n", kind_names[k], tally[k]);
        CHECK(tally[k] > 0 || iterations < 1000, "kind %s never ran", kind_names[k]);
    }
    printf("frames %ld\nfailures %d\n", iterations, failures);
    free(capture);
    return failures ? 1 : 0;
}

/* ---- serve ------------------------------------------------------------- */

static int serve(void)
{
    serving = 1;
    myoedge_protocol_init(0);
    fflush(stdout);
    uint8_t buffer[4096];
    for (;;) {
        ssize_t n = read(0, buffer, sizeof buffer);
        if (n <= 0) {
            return 0;
        }
        for (ssize_t i = 0; i < n; i++) {
            myoedge_protocol_feed(buffer[i]);
        }
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "selftest") == 0) {
        return selftest();
    }
    if (argc >= 4 && strcmp(argv[1], "fuzz") == 0) {
        return fuzz(atol(argv[2]), (uint64_t)strtoull(argv[3], NULL, 10));
    }
    if (argc >= 2 && strcmp(argv[1], "serve") == 0) {
        return serve();
    }
    if (argc >= 2 && strcmp(argv[1], "fault") == 0) {
        serving = 1; /* what a fault handler sends, on stdout */
        myoedge_protocol_fault(0x08001234u, 0xFFFFFFF9u, 0x00000400u, 0x40000000u);
        fflush(stdout);
        return 0;
    }
    fprintf(stderr, "usage: %s selftest | fuzz N SEED | serve | fault\n", argv[0]);
    return 2;
}
