/* commands.c - answers the host: INFO, INFER, STREAM, BENCH, RESET, LIVE,
 * and runs live mode (predictions from the board's own front end, pushed
 * to the host as LIVE_PREDICTION frames).
 *
 * Payload layouts and error codes are the generated ones in
 * myoedge_protocol.h (from host/protocol_spec.py); docs/PROTOCOL.md says
 * what each command means. Checks run in one order for every command:
 * fixed part present (BAD_LENGTH), argument ranges (BAD_ARGUMENT), byte
 * count against the payload's own fields (BAD_LENGTH), shape against the
 * model and the preprocessing (BAD_SHAPE). Only then is anything run.
 */
#include "commands.h"

#include <string.h>

#include "protocol.h"

/* An outcome: error 0 means success, else an MYE_ERR_* with its numbers. */
typedef struct {
    uint8_t error;
    uint32_t expected;
    uint32_t got;
} outcome_t;

/* A window as INFER and BENCH carry it; data points into the receive buffer. */
typedef struct {
    uint8_t mode;
    uint16_t rows;
    uint16_t cols;
    const uint8_t *data;
} window_t;

/* Stage cycles of one inference. */
typedef struct {
    uint32_t preprocess;
    uint32_t network;
} stage_cycles_t;

static mye_rx_t rx;
static uint8_t reply[MYE_MAX_REPLY_FRAME]; /* the last reply, resent for a duplicate */
static size_t reply_length;
static uint8_t have_last;
static uint8_t last_code;
static uint16_t last_seq;
static uint16_t last_crc;

static uint32_t stream_position;
static uint16_t vote_history[MYE_MAX_VOTE]; /* ring of the latest predictions */
static uint8_t vote_count;
static uint8_t vote_next;

static int8_t scores[MYE_MAX_SCORES];
static uint16_t predicted;

static uint32_t bench_preprocess[MYE_MAX_BENCH_RUNS];
static uint32_t bench_network[MYE_MAX_BENCH_RUNS];
static uint32_t bench_total[MYE_MAX_BENCH_RUNS];

static const outcome_t ok = {0u, 0u, 0u};

/* Live mode. */
static uint8_t live_active;
static uint8_t live_vote;
static uint32_t live_seq;        /* LIVE_PREDICTION frames sent since start */
static uint32_t live_position;   /* model-rate samples since start */
static uint32_t live_preprocess; /* preprocessing cycles since the last prediction */
static mye_port_live_setup_t live_setup;
static mye_port_live_status_t live_final; /* counters when live mode last stopped */
static uint8_t live_frame[MYE_HEADER_SIZE + MYE_LIVE_PREDICTION_SIZE + MYE_MAX_SCORES + MYE_CRC_SIZE];

/* ---- defaults for ports without a front end (the boards override them) --- */

__attribute__((weak)) uint8_t mye_port_live_start(uint8_t gain, float units_per_volt,
                                                  mye_port_live_setup_t *setup,
                                                  uint32_t *expected, uint32_t *got)
{
    (void)gain;
    (void)units_per_volt;
    (void)setup;
    *expected = 0x92u; /* the ID an ADS1298 answers */
    *got = 0u;
    return MYE_ERR_AFE_ABSENT;
}

__attribute__((weak)) int mye_port_live_sample(float *sample)
{
    (void)sample;
    return 0;
}

__attribute__((weak)) void mye_port_live_status(mye_port_live_status_t *status, int take)
{
    (void)take;
    memset(status, 0, sizeof *status);
}

__attribute__((weak)) void mye_port_live_stop(void) {}

static outcome_t fail(uint8_t error, uint64_t expected, uint64_t got)
{
    outcome_t outcome;
    outcome.error = error;
    outcome.expected = expected > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)expected;
    outcome.got = got > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)got;
    return outcome;
}

/* The port's description is usable: limits the buffers here rely on. */
static int port_ok(const mye_port_info_t *info)
{
    return info != NULL && info->output_size >= 1u && info->output_size <= MYE_MAX_SCORES &&
           info->raw_channels >= 1u && info->raw_channels <= MYE_MAX_CHANNELS &&
           info->input_size >= 1u;
}

static void reset_stream(void)
{
    mye_port_preprocess_reset();
    stream_position = 0;
    vote_count = 0;
    vote_next = 0;
}

static void remember_prediction(uint16_t label)
{
    vote_history[vote_next] = label;
    vote_next = (uint8_t)((vote_next + 1u) % MYE_MAX_VOTE);
    if (vote_count < MYE_MAX_VOTE) {
        vote_count++;
    }
}

/* Most frequent class among the last k predictions; ties go to the latest. */
static uint16_t majority_vote(uint8_t k)
{
    uint8_t span = k < vote_count ? k : vote_count;
    uint16_t best = vote_history[(vote_next + MYE_MAX_VOTE - 1u) % MYE_MAX_VOTE];
    uint8_t best_count = 0;
    for (uint8_t age = 0; age < span; age++) {
        uint16_t candidate = vote_history[(vote_next + MYE_MAX_VOTE - 1u - age) % MYE_MAX_VOTE];
        uint8_t count = 0;
        for (uint8_t other = 0; other < span; other++) {
            if (vote_history[(vote_next + MYE_MAX_VOTE - 1u - other) % MYE_MAX_VOTE] == candidate) {
                count++;
            }
        }
        if (count > best_count) {
            best_count = count;
            best = candidate;
        }
    }
    return best;
}

/* Index of the first largest score. */
static uint16_t first_argmax(const int8_t *values, uint16_t count)
{
    uint16_t best = 0;
    for (uint16_t i = 1; i < count; i++) {
        if (values[i] > values[best]) {
            best = i;
        }
    }
    return best;
}

static void read_sample(const uint8_t *data, uint32_t row, uint16_t cols, float *sample)
{
    for (uint16_t c = 0; c < cols; c++) {
        sample[c] = mye_get_f32(data + 4u * ((size_t)row * cols + c));
    }
}

/* Parse the WINDOW layout at payload + offset; byte counts in errors are
 * counts of the whole payload. */
static outcome_t parse_window(const uint8_t *payload, size_t length, size_t offset,
                              const mye_port_info_t *info, window_t *window)
{
    if (length < offset + MYE_WINDOW_SIZE) {
        return fail(MYE_ERR_BAD_LENGTH, offset + MYE_WINDOW_SIZE, length);
    }
    const uint8_t *p = payload + offset;
    uint8_t mode = p[MYE_WINDOW_MODE];
    uint8_t flags = p[MYE_WINDOW_FLAGS];
    if (mode > MYE_MODE_RAW) {
        return fail(MYE_ERR_BAD_ARGUMENT, MYE_MODE_RAW, mode);
    }
    if (flags != 0u) {
        return fail(MYE_ERR_BAD_ARGUMENT, 0u, flags);
    }
    uint16_t rows = mye_get_u16(p + MYE_WINDOW_ROWS);
    uint16_t cols = mye_get_u16(p + MYE_WINDOW_COLS);
    uint64_t element_size = mode == MYE_MODE_RAW ? 4u : 1u;
    uint64_t expected = (uint64_t)offset + MYE_WINDOW_SIZE + (uint64_t)rows * cols * element_size;
    if (expected != length) {
        return fail(MYE_ERR_BAD_LENGTH, expected, length);
    }
    if (!port_ok(info)) {
        return fail(MYE_ERR_INTERNAL, 0u, 0u);
    }
    if (mode == MYE_MODE_PREPROCESSED) {
        uint64_t elements = (uint64_t)rows * cols;
        if (elements != info->input_size) {
            return fail(MYE_ERR_BAD_SHAPE, info->input_size, elements);
        }
    } else {
        if (rows != info->raw_window) {
            return fail(MYE_ERR_BAD_SHAPE, info->raw_window, rows);
        }
        if (cols != info->raw_channels) {
            return fail(MYE_ERR_BAD_SHAPE, info->raw_channels, cols);
        }
    }
    window->mode = mode;
    window->rows = rows;
    window->cols = cols;
    window->data = p + MYE_WINDOW_SIZE;
    return ok;
}

/* One inference on a checked window; fills scores and predicted. A RAW
 * window resets the stream before and after, so STREAM starts clean. */
static outcome_t run_window(const window_t *window, const mye_port_info_t *info,
                            stage_cycles_t *cycles)
{
    const int8_t *input;
    cycles->preprocess = 0;
    if (window->mode == MYE_MODE_RAW) {
        float sample[MYE_MAX_CHANNELS];
        const int8_t *last = NULL;
        reset_stream();
        uint32_t start = mye_port_cycles();
        for (uint16_t r = 0; r < window->rows; r++) {
            read_sample(window->data, r, window->cols, sample);
            last = mye_port_preprocess_push(sample);
        }
        cycles->preprocess = mye_port_cycles() - start;
        if (last == NULL) {
            reset_stream();
            return fail(MYE_ERR_INTERNAL, 1u, 0u); /* the window completed no hop */
        }
        input = last;
    } else {
        input = (const int8_t *)window->data;
    }
    uint32_t start = mye_port_cycles();
    int status = mye_port_model_invoke(input, scores);
    cycles->network = mye_port_cycles() - start;
    if (window->mode == MYE_MODE_RAW) {
        reset_stream();
    }
    if (status != 0) {
        return fail(MYE_ERR_INTERNAL, 0u, (uint32_t)status);
    }
    predicted = first_argmax(scores, info->output_size);
    return ok;
}

static size_t put_string(uint8_t *out, const char *text)
{
    size_t length = 0;
    if (text != NULL) {
        while (length < MYE_MAX_STRING && text[length] != '\0') {
            length++;
        }
    }
    out[0] = (uint8_t)length;
    for (size_t i = 0; i < length; i++) {
        out[1u + i] = (uint8_t)text[i];
    }
    return 1u + length;
}

static outcome_t handle_info(size_t length, uint8_t *out, size_t *out_length)
{
    if (length != 0u) {
        return fail(MYE_ERR_BAD_LENGTH, 0u, length);
    }
    const mye_port_info_t *info = mye_port_info();
    if (info == NULL) {
        return fail(MYE_ERR_INTERNAL, 0u, 0u);
    }
    memset(out, 0, MYE_INFO_REPLY_SIZE);
    out[MYE_INFO_REPLY_PROTOCOL_VERSION] = MYE_PROTOCOL_VERSION;
    out[MYE_INFO_REPLY_FW_MAJOR] = MYE_FIRMWARE_MAJOR;
    out[MYE_INFO_REPLY_FW_MINOR] = MYE_FIRMWARE_MINOR;
    out[MYE_INFO_REPLY_FW_PATCH] = MYE_FIRMWARE_PATCH;
    mye_put_u32(out + MYE_INFO_REPLY_CLOCK_HZ, info->clock_hz);
    mye_put_u32(out + MYE_INFO_REPLY_FLASH_USED, info->flash_used);
    mye_put_u32(out + MYE_INFO_REPLY_FLASH_SIZE, info->flash_size);
    mye_put_u32(out + MYE_INFO_REPLY_RAM_USED, info->ram_used);
    mye_put_u32(out + MYE_INFO_REPLY_RAM_SIZE, info->ram_size);
    mye_put_u32(out + MYE_INFO_REPLY_INPUT_SIZE, info->input_size);
    mye_put_f32(out + MYE_INFO_REPLY_INPUT_SCALE, info->input_scale);
    mye_put_u32(out + MYE_INFO_REPLY_INPUT_ZERO_POINT, (uint32_t)info->input_zero_point);
    mye_put_f32(out + MYE_INFO_REPLY_OUTPUT_SCALE, info->output_scale);
    mye_put_u32(out + MYE_INFO_REPLY_OUTPUT_ZERO_POINT, (uint32_t)info->output_zero_point);
    mye_put_u16(out + MYE_INFO_REPLY_OUTPUT_SIZE, info->output_size);
    mye_put_u16(out + MYE_INFO_REPLY_RAW_WINDOW, info->raw_window);
    mye_put_u16(out + MYE_INFO_REPLY_RAW_CHANNELS, info->raw_channels);
    mye_put_u16(out + MYE_INFO_REPLY_HOP, info->hop);
    out[MYE_INFO_REPLY_CYCLE_UNIT] = info->cycle_unit;
    out[MYE_INFO_REPLY_MAX_VOTE] = MYE_MAX_VOTE;
    mye_put_u16(out + MYE_INFO_REPLY_MAX_BENCH_RUNS, MYE_MAX_BENCH_RUNS);
    mye_put_u16(out + MYE_INFO_REPLY_MAX_REQUEST_PAYLOAD, MYE_MAX_REQUEST_PAYLOAD);
    mye_put_u16(out + MYE_INFO_REPLY_MAX_STREAM_SAMPLES, MYE_MAX_STREAM_SAMPLES);
    size_t position = MYE_INFO_REPLY_SIZE;
    position += put_string(out + position, info->board);
    position += put_string(out + position, info->core);
    position += put_string(out + position, info->model_name);
    position += put_string(out + position, info->model_hash);
    position += put_string(out + position, info->build);
    *out_length = position;
    return ok;
}

static outcome_t handle_infer(const uint8_t *payload, size_t length, uint32_t start,
                              uint8_t *out, size_t *out_length)
{
    const mye_port_info_t *info = mye_port_info();
    window_t window;
    outcome_t outcome = parse_window(payload, length, 0u, info, &window);
    if (outcome.error != 0u) {
        return outcome;
    }
    stage_cycles_t cycles;
    outcome = run_window(&window, info, &cycles);
    if (outcome.error != 0u) {
        return outcome;
    }
    memset(out, 0, MYE_INFER_REPLY_SIZE);
    mye_put_u16(out + MYE_INFER_REPLY_PREDICTED, predicted);
    mye_put_u16(out + MYE_INFER_REPLY_N_SCORES, info->output_size);
    out[MYE_INFER_REPLY_MODE] = window.mode;
    out[MYE_INFER_REPLY_CYCLE_UNIT] = info->cycle_unit;
    mye_put_u32(out + MYE_INFER_REPLY_PREPROCESS_CYCLES, cycles.preprocess);
    mye_put_u32(out + MYE_INFER_REPLY_NETWORK_CYCLES, cycles.network);
    for (uint16_t i = 0; i < info->output_size; i++) {
        out[MYE_INFER_REPLY_SIZE + i] = (uint8_t)scores[i];
    }
    mye_put_u32(out + MYE_INFER_REPLY_TOTAL_CYCLES, mye_port_cycles() - start);
    *out_length = MYE_INFER_REPLY_SIZE + info->output_size;
    return ok;
}

static outcome_t handle_stream(const uint8_t *payload, size_t length, uint8_t *out,
                               size_t *out_length)
{
    if (length < MYE_STREAM_REQUEST_SIZE) {
        return fail(MYE_ERR_BAD_LENGTH, MYE_STREAM_REQUEST_SIZE, length);
    }
    uint8_t flags = payload[MYE_STREAM_REQUEST_FLAGS];
    uint8_t vote = payload[MYE_STREAM_REQUEST_VOTE];
    uint16_t n_samples = mye_get_u16(payload + MYE_STREAM_REQUEST_N_SAMPLES);
    uint16_t n_channels = mye_get_u16(payload + MYE_STREAM_REQUEST_N_CHANNELS);
    if ((flags & (uint8_t)~MYE_STREAM_FLAG_RESET) != 0u) {
        return fail(MYE_ERR_BAD_ARGUMENT, MYE_STREAM_FLAG_RESET, flags);
    }
    if (vote > MYE_MAX_VOTE) {
        return fail(MYE_ERR_BAD_ARGUMENT, MYE_MAX_VOTE, vote);
    }
    uint64_t expected = MYE_STREAM_REQUEST_SIZE + (uint64_t)n_samples * n_channels * 4u;
    if (expected != length) {
        return fail(MYE_ERR_BAD_LENGTH, expected, length);
    }
    const mye_port_info_t *info = mye_port_info();
    if (!port_ok(info)) {
        return fail(MYE_ERR_INTERNAL, 0u, 0u);
    }
    if (n_channels != info->raw_channels) {
        return fail(MYE_ERR_BAD_SHAPE, info->raw_channels, n_channels);
    }
    if (n_samples > MYE_MAX_STREAM_SAMPLES) {
        return fail(MYE_ERR_BAD_SHAPE, MYE_MAX_STREAM_SAMPLES, n_samples);
    }
    if ((flags & MYE_STREAM_FLAG_RESET) != 0u) {
        reset_stream();
    }
    const uint8_t *data = payload + MYE_STREAM_REQUEST_SIZE;
    float sample[MYE_MAX_CHANNELS];
    uint16_t count = 0;
    uint32_t preprocess = 0;
    for (uint16_t s = 0; s < n_samples; s++) {
        read_sample(data, s, n_channels, sample);
        uint32_t start = mye_port_cycles();
        const int8_t *input = mye_port_preprocess_push(sample);
        preprocess += mye_port_cycles() - start;
        stream_position++;
        if (input == NULL) {
            continue;
        }
        start = mye_port_cycles();
        int status = mye_port_model_invoke(input, scores);
        uint32_t network = mye_port_cycles() - start;
        if (status != 0) {
            return fail(MYE_ERR_INTERNAL, 0u, (uint32_t)status);
        }
        uint16_t label = first_argmax(scores, info->output_size);
        remember_prediction(label);
        uint16_t voted = vote > 1u ? majority_vote(vote) : label;
        uint8_t *record = out + MYE_STREAM_REPLY_SIZE + (size_t)count * MYE_STREAM_PREDICTION_SIZE;
        memset(record, 0, MYE_STREAM_PREDICTION_SIZE);
        mye_put_u32(record + MYE_STREAM_PREDICTION_POSITION, stream_position);
        mye_put_u16(record + MYE_STREAM_PREDICTION_PREDICTED, label);
        mye_put_u16(record + MYE_STREAM_PREDICTION_VOTED, voted);
        record[MYE_STREAM_PREDICTION_SCORE] = (uint8_t)scores[label];
        mye_put_u32(record + MYE_STREAM_PREDICTION_PREPROCESS_CYCLES, preprocess);
        mye_put_u32(record + MYE_STREAM_PREDICTION_NETWORK_CYCLES, network);
        count++;
        preprocess = 0;
    }
    memset(out, 0, MYE_STREAM_REPLY_SIZE);
    mye_put_u32(out + MYE_STREAM_REPLY_POSITION, stream_position);
    mye_put_u16(out + MYE_STREAM_REPLY_N_PREDICTIONS, count);
    out[MYE_STREAM_REPLY_CYCLE_UNIT] = info->cycle_unit;
    out[MYE_STREAM_REPLY_VOTE] = vote;
    *out_length = MYE_STREAM_REPLY_SIZE + (size_t)count * MYE_STREAM_PREDICTION_SIZE;
    return ok;
}

static void sort_ascending(uint32_t *values, uint16_t count)
{
    for (uint16_t i = 1; i < count; i++) {
        uint32_t value = values[i];
        uint16_t j = i;
        while (j > 0u && values[j - 1u] > value) {
            values[j] = values[j - 1u];
            j--;
        }
        values[j] = value;
    }
}

/* Sort values and write min, lower median, max at out. */
static void put_stats(uint8_t *out, uint32_t *values, uint16_t count)
{
    sort_ascending(values, count);
    mye_put_u32(out, values[0]);
    mye_put_u32(out + 4u, values[(count - 1u) / 2u]);
    mye_put_u32(out + 8u, values[count - 1u]);
}

static outcome_t handle_bench(const uint8_t *payload, size_t length, uint8_t *out,
                              size_t *out_length)
{
    if (length < MYE_BENCH_REQUEST_SIZE) {
        return fail(MYE_ERR_BAD_LENGTH, MYE_BENCH_REQUEST_SIZE, length);
    }
    uint16_t runs = mye_get_u16(payload + MYE_BENCH_REQUEST_RUNS);
    if (runs == 0u || runs > MYE_MAX_BENCH_RUNS) {
        return fail(MYE_ERR_BAD_ARGUMENT, MYE_MAX_BENCH_RUNS, runs);
    }
    const mye_port_info_t *info = mye_port_info();
    window_t window;
    outcome_t outcome = parse_window(payload, length, MYE_BENCH_REQUEST_MODE, info, &window);
    if (outcome.error != 0u) {
        return outcome;
    }
    for (uint16_t run = 0; run < runs; run++) {
        stage_cycles_t cycles;
        uint32_t start = mye_port_cycles();
        outcome = run_window(&window, info, &cycles);
        bench_total[run] = mye_port_cycles() - start;
        if (outcome.error != 0u) {
            return outcome;
        }
        bench_preprocess[run] = cycles.preprocess;
        bench_network[run] = cycles.network;
    }
    memset(out, 0, MYE_BENCH_REPLY_SIZE);
    mye_put_u16(out + MYE_BENCH_REPLY_RUNS, runs);
    out[MYE_BENCH_REPLY_MODE] = window.mode;
    out[MYE_BENCH_REPLY_CYCLE_UNIT] = info->cycle_unit;
    mye_put_u16(out + MYE_BENCH_REPLY_PREDICTED, predicted);
    put_stats(out + MYE_BENCH_REPLY_PREPROCESS_MIN, bench_preprocess, runs);
    put_stats(out + MYE_BENCH_REPLY_NETWORK_MIN, bench_network, runs);
    put_stats(out + MYE_BENCH_REPLY_TOTAL_MIN, bench_total, runs);
    *out_length = MYE_BENCH_REPLY_SIZE;
    return ok;
}

static outcome_t handle_reset(size_t length, size_t *out_length)
{
    if (length != 0u) {
        return fail(MYE_ERR_BAD_LENGTH, 0u, length);
    }
    reset_stream();
    *out_length = 0;
    return ok;
}

/* Leave live mode (before any other command runs); keeps the final counters. */
static void live_stop(void)
{
    if (!live_active) {
        return;
    }
    mye_port_live_stop();
    mye_port_live_status(&live_final, 1);
    live_active = 0u;
    reset_stream();
}

static void put_live_reply(uint8_t *out, uint8_t action)
{
    memset(out, 0, MYE_LIVE_REPLY_SIZE);
    out[MYE_LIVE_REPLY_ACTION] = action;
    out[MYE_LIVE_REPLY_CHIPS] = live_setup.chips;
    out[MYE_LIVE_REPLY_GAIN] = live_setup.gain;
    out[MYE_LIVE_REPLY_VOTE] = live_vote;
    mye_put_u16(out + MYE_LIVE_REPLY_CHANNELS, live_setup.channels);
    mye_put_u16(out + MYE_LIVE_REPLY_DECIMATION, live_setup.decimation);
    mye_put_u32(out + MYE_LIVE_REPLY_CHIP_RATE_HZ, live_setup.chip_rate_hz);
    mye_put_u32(out + MYE_LIVE_REPLY_MODEL_RATE_HZ, live_setup.model_rate_hz);
    mye_put_f32(out + MYE_LIVE_REPLY_UNITS_PER_VOLT, live_setup.units_per_volt);
    mye_put_u32(out + MYE_LIVE_REPLY_PREDICTIONS, live_seq);
    mye_put_u32(out + MYE_LIVE_REPLY_FRAMES_READ, live_final.frames_read);
    mye_put_u32(out + MYE_LIVE_REPLY_OVERRUNS, live_final.overruns);
    mye_put_u32(out + MYE_LIVE_REPLY_FRAME_ERRORS, live_final.frame_errors);
}

/* 0 (the default gain) or one of the protocol's PGA gains. */
static int valid_gain(uint8_t gain)
{
    static const uint8_t gains[MYE_LIVE_GAIN_COUNT] = MYE_LIVE_GAINS;
    if (gain == 0u) {
        return 1;
    }
    for (uint32_t i = 0u; i < MYE_LIVE_GAIN_COUNT; ++i) {
        if (gains[i] == gain) {
            return 1;
        }
    }
    return 0;
}

static outcome_t handle_live(const uint8_t *payload, size_t length, uint8_t *out,
                             size_t *out_length)
{
    if (length < MYE_LIVE_REQUEST_SIZE) {
        return fail(MYE_ERR_BAD_LENGTH, MYE_LIVE_REQUEST_SIZE, length);
    }
    uint8_t action = payload[MYE_LIVE_REQUEST_ACTION];
    uint8_t vote = payload[MYE_LIVE_REQUEST_VOTE];
    uint8_t gain = payload[MYE_LIVE_REQUEST_GAIN];
    uint8_t flags = payload[MYE_LIVE_REQUEST_FLAGS];
    float units = mye_get_f32(payload + MYE_LIVE_REQUEST_UNITS_PER_VOLT);
    if (action > MYE_LIVE_START) {
        return fail(MYE_ERR_BAD_ARGUMENT, MYE_LIVE_START, action);
    }
    if (vote > MYE_MAX_VOTE) {
        return fail(MYE_ERR_BAD_ARGUMENT, MYE_MAX_VOTE, vote);
    }
    if (!valid_gain(gain)) {
        return fail(MYE_ERR_BAD_ARGUMENT, 12u, gain);
    }
    if (flags != 0u) {
        return fail(MYE_ERR_BAD_ARGUMENT, 0u, flags);
    }
    if (!(units >= 0.0f && units <= 3.0e38f)) { /* also refuses NaN and infinity */
        return fail(MYE_ERR_BAD_ARGUMENT, 0u, mye_get_u32(payload + MYE_LIVE_REQUEST_UNITS_PER_VOLT));
    }
    if (length != MYE_LIVE_REQUEST_SIZE) {
        return fail(MYE_ERR_BAD_LENGTH, MYE_LIVE_REQUEST_SIZE, length);
    }
    const mye_port_info_t *info = mye_port_info();
    if (!port_ok(info)) {
        return fail(MYE_ERR_INTERNAL, 0u, 0u);
    }
    live_stop();
    if (action == MYE_LIVE_STOP) {
        put_live_reply(out, action);
        *out_length = MYE_LIVE_REPLY_SIZE;
        return ok;
    }
    uint32_t expected = 0u;
    uint32_t got = 0u;
    mye_port_live_setup_t setup;
    memset(&setup, 0, sizeof setup);
    reset_stream();
    uint8_t error = mye_port_live_start(gain != 0u ? gain : (uint8_t)MYE_LIVE_DEFAULT_GAIN, units,
                                        &setup, &expected, &got);
    if (error != 0u) {
        return fail(error, expected, got);
    }
    live_setup = setup;
    live_vote = vote;
    live_seq = 0u;
    live_position = 0u;
    live_preprocess = 0u;
    memset(&live_final, 0, sizeof live_final);
    mye_port_live_status(&live_final, 1); /* restart lead-off bits and cycle sums */
    memset(&live_final, 0, sizeof live_final);
    live_active = 1u;
    put_live_reply(out, action);
    *out_length = MYE_LIVE_REPLY_SIZE;
    return ok;
}

/* One LIVE_PREDICTION frame (header sequence number 0: unsolicited). */
static void send_live_prediction(const mye_port_info_t *info, uint16_t label, uint16_t voted,
                                 uint32_t network)
{
    mye_port_live_status_t status;
    mye_port_live_status(&status, 1);
    uint8_t *out = live_frame + MYE_HEADER_SIZE;
    live_seq++;
    memset(out, 0, MYE_LIVE_PREDICTION_SIZE);
    mye_put_u32(out + MYE_LIVE_PREDICTION_SEQ, live_seq);
    mye_put_u32(out + MYE_LIVE_PREDICTION_POSITION, live_position);
    mye_put_u16(out + MYE_LIVE_PREDICTION_PREDICTED, label);
    mye_put_u16(out + MYE_LIVE_PREDICTION_VOTED, voted);
    mye_put_u16(out + MYE_LIVE_PREDICTION_N_SCORES, info->output_size);
    out[MYE_LIVE_PREDICTION_CYCLE_UNIT] = info->cycle_unit;
    out[MYE_LIVE_PREDICTION_CHIPS] = live_setup.chips;
    mye_put_u32(out + MYE_LIVE_PREDICTION_ACQUIRE_CYCLES, status.acquire_cycles);
    mye_put_u32(out + MYE_LIVE_PREDICTION_PREPROCESS_CYCLES, live_preprocess);
    mye_put_u32(out + MYE_LIVE_PREDICTION_NETWORK_CYCLES, network);
    mye_put_u16(out + MYE_LIVE_PREDICTION_LEAD_OFF_P, (uint16_t)status.lead_off_p);
    mye_put_u16(out + MYE_LIVE_PREDICTION_LEAD_OFF_N, (uint16_t)status.lead_off_n);
    mye_put_u32(out + MYE_LIVE_PREDICTION_FRAMES_READ, status.frames_read);
    mye_put_u32(out + MYE_LIVE_PREDICTION_OVERRUNS, status.overruns);
    mye_put_u32(out + MYE_LIVE_PREDICTION_FRAME_ERRORS, status.frame_errors);
    for (uint16_t i = 0; i < info->output_size; i++) {
        out[MYE_LIVE_PREDICTION_SIZE + i] = (uint8_t)scores[i];
    }
    size_t length = mye_frame_finish(live_frame, sizeof live_frame, MYE_REPLY_LIVE_PREDICTION, 0u,
                                     MYE_LIVE_PREDICTION_SIZE + (size_t)info->output_size);
    mye_frame_write(live_frame, length, mye_port_write);
    live_preprocess = 0u;
}

static void put_error(uint8_t *out, uint8_t error, uint8_t command, uint32_t expected,
                      uint32_t got)
{
    memset(out, 0, MYE_ERROR_REPLY_SIZE);
    out[MYE_ERROR_REPLY_ERROR] = error;
    out[MYE_ERROR_REPLY_COMMAND] = command;
    mye_put_u32(out + MYE_ERROR_REPLY_EXPECTED, expected);
    mye_put_u32(out + MYE_ERROR_REPLY_GOT, got);
}

/* Answer a frame the link layer refused (not cached: no command ran). */
static void send_link_error(const mye_link_error_t *error)
{
    uint8_t frame[MYE_HEADER_SIZE + MYE_ERROR_REPLY_SIZE + MYE_CRC_SIZE];
    put_error(frame + MYE_HEADER_SIZE, error->error, error->command, error->expected, error->got);
    size_t length = mye_frame_finish(frame, sizeof frame, MYE_REPLY_ERROR, error->seq,
                                     MYE_ERROR_REPLY_SIZE);
    mye_frame_write(frame, length, mye_port_write);
}

static void handle_frame(const mye_frame_t *frame)
{
    if (have_last && frame->seq == last_seq && frame->code == last_code &&
        frame->crc == last_crc) {
        mye_frame_write(reply, reply_length, mye_port_write); /* a retry: same answer */
        return;
    }
    if (frame->code != MYE_CMD_LIVE) {
        live_stop(); /* any other command leaves live mode first */
    }
    uint32_t start = mye_port_cycles();
    uint8_t *out = reply + MYE_HEADER_SIZE;
    size_t out_length = 0;
    outcome_t outcome;
    switch (frame->code) {
    case MYE_CMD_INFO:
        outcome = handle_info(frame->length, out, &out_length);
        break;
    case MYE_CMD_INFER:
        outcome = handle_infer(frame->payload, frame->length, start, out, &out_length);
        break;
    case MYE_CMD_STREAM:
        outcome = handle_stream(frame->payload, frame->length, out, &out_length);
        break;
    case MYE_CMD_BENCH:
        outcome = handle_bench(frame->payload, frame->length, out, &out_length);
        break;
    case MYE_CMD_RESET:
        outcome = handle_reset(frame->length, &out_length);
        break;
    case MYE_CMD_LIVE:
        outcome = handle_live(frame->payload, frame->length, out, &out_length);
        break;
    default:
        outcome = fail(MYE_ERR_UNKNOWN_COMMAND, 0u, frame->code);
        break;
    }
    uint8_t code = (uint8_t)(frame->code | MYE_REPLY_BIT);
    if (outcome.error != 0u) {
        put_error(out, outcome.error, frame->code, outcome.expected, outcome.got);
        out_length = MYE_ERROR_REPLY_SIZE;
        code = MYE_REPLY_ERROR;
    }
    reply_length = mye_frame_finish(reply, sizeof reply, code, frame->seq, out_length);
    have_last = 1u;
    last_code = frame->code;
    last_seq = frame->seq;
    last_crc = frame->crc;
    mye_frame_write(reply, reply_length, mye_port_write);
}

void myoedge_protocol_feed(uint8_t byte)
{
    mye_frame_t frame;
    mye_link_error_t error;
    mye_rx_result_t result = mye_rx_push(&rx, byte, &frame, &error);
    if (result == MYE_RX_FRAME) {
        handle_frame(&frame);
    } else if (result == MYE_RX_ERROR) {
        send_link_error(&error);
    }
}

void myoedge_protocol_poll(void)
{
    for (uint32_t i = 0; i < MYE_MAX_REQUEST_ENCODED + 2u; i++) {
        int byte = mye_port_read_byte();
        if (byte < 0) {
            return;
        }
        myoedge_protocol_feed((uint8_t)byte);
    }
}

static void send_live_error(uint8_t error, uint32_t expected, uint32_t got)
{
    mye_link_error_t report;
    report.error = error;
    report.command = MYE_CMD_LIVE;
    report.seq = 0u;
    report.expected = expected;
    report.got = got;
    send_link_error(&report);
}

int myoedge_live_active(void) { return live_active; }

int myoedge_live_step(void)
{
    if (!live_active) {
        return 0;
    }
    const mye_port_info_t *info = mye_port_info();
    float sample[MYE_MAX_CHANNELS];
    int worked = 0;
    for (uint32_t n = 0; n < MYE_LIVE_SAMPLES_PER_STEP && live_active; n++) {
        if (!mye_port_live_sample(sample)) {
            break;
        }
        worked = 1;
        live_position++;
        uint32_t start = mye_port_cycles();
        const int8_t *input = mye_port_preprocess_push(sample);
        live_preprocess += mye_port_cycles() - start;
        if (input == NULL) {
            continue;
        }
        start = mye_port_cycles();
        int status = mye_port_model_invoke(input, scores);
        uint32_t network = mye_port_cycles() - start;
        if (status != 0) {
            live_stop(); /* the model failed: say so (ERROR, sequence number 0) and stop */
            send_live_error(MYE_ERR_INTERNAL, 0u, (uint32_t)status);
            break;
        }
        uint16_t label = first_argmax(scores, info->output_size);
        remember_prediction(label);
        uint16_t voted = live_vote > 1u ? majority_vote(live_vote) : label;
        send_live_prediction(info, label, voted, network);
    }
    return worked;
}

void myoedge_protocol_init(uint8_t reset_cause)
{
    live_stop();
    mye_rx_init(&rx);
    have_last = 0;
    reply_length = 0;
    reset_stream();
    uint8_t frame[MYE_HEADER_SIZE + MYE_BOOT_EVENT_SIZE + MYE_CRC_SIZE];
    frame[MYE_HEADER_SIZE + MYE_BOOT_EVENT_PROTOCOL_VERSION] = MYE_PROTOCOL_VERSION;
    frame[MYE_HEADER_SIZE + MYE_BOOT_EVENT_RESET_CAUSE] = reset_cause;
    size_t length = mye_frame_finish(frame, sizeof frame, MYE_REPLY_BOOT, 0u, MYE_BOOT_EVENT_SIZE);
    mye_frame_write(frame, length, mye_port_write);
}

void myoedge_protocol_fault(uint32_t pc, uint32_t lr, uint32_t cfsr, uint32_t hfsr)
{
    uint8_t frame[MYE_HEADER_SIZE + MYE_FAULT_EVENT_SIZE + MYE_CRC_SIZE];
    mye_put_u32(frame + MYE_HEADER_SIZE + MYE_FAULT_EVENT_PC, pc);
    mye_put_u32(frame + MYE_HEADER_SIZE + MYE_FAULT_EVENT_LR, lr);
    mye_put_u32(frame + MYE_HEADER_SIZE + MYE_FAULT_EVENT_CFSR, cfsr);
    mye_put_u32(frame + MYE_HEADER_SIZE + MYE_FAULT_EVENT_HFSR, hfsr);
    size_t length = mye_frame_finish(frame, sizeof frame, MYE_REPLY_FAULT, 0u, MYE_FAULT_EVENT_SIZE);
    mye_frame_write(frame, length, mye_port_write);
}
