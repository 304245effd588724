/*
 * live_harness.c - the dispatcher's live mode on the host: commands.c and
 * protocol.c with a small port whose front end is the real live.c and
 * afe_ads1298.c on the chip model (ads1298_sim.c / boards/ads1298_model.c).
 * Writes every frame the board sends to stdout, for tests/test_firmware_live.py.
 *
 * Usage: live_harness SCENARIO
 *   faults   - LIVE start, /DRDY with a lead-off status (frame 3), an
 *              overrun (at step 6, MYE_AFE_RING_FRAMES + 1 /DRDY before the
 *              main loop reads: the last one finds the ring full) and a
 *              corrupt status word (step 9), then LIVE stop;
 *   commands - LIVE start, one prediction, INFO (leaves live mode), then bad
 *              LIVE requests and a start against a chip with the wrong ID;
 *   restart  - LIVE start, 4 /DRDY, LIVE stop, then the same again;
 *   registers - LIVE start, then the chip's registers on stderr
 *              ("regs" and 0x1A hex bytes) and its mode ("mode rdatac start").
 */
#include <stdio.h>
#include <string.h>

#include "ads1298_sim.h"
#include "commands.h"
#include "live.h"
#include "myoedge_protocol.h"
#include "protocol.h"

#define CHANNELS 8u
#define HOP 2u
#define SCORES 3u

static const mye_port_info_t info = {
    "host", "none", "live-stub", "0000000000000000", "test", 1000000u, 0u, 0u, 0u, 0u,
    HOP, 1.0f, 0, 1.0f / 256.0f, -128, SCORES, HOP, CHANNELS, HOP, MYE_UNIT_TICKS,
};

static mye_live_t live;
static uint32_t ticks;
static uint32_t pushed;
static int8_t window[HOP];

const mye_port_info_t *mye_port_info(void) { return &info; }
void mye_port_write(const uint8_t *data, size_t length) { fwrite(data, 1u, length, stdout); }
int mye_port_read_byte(void) { return -1; }
uint32_t mye_port_cycles(void) { return ticks += 7u; }
void mye_port_preprocess_reset(void) { pushed = 0u; }

/* A hop every HOP samples; the "window" is channel 0 (clipped) and the sample count. */
const int8_t *mye_port_preprocess_push(const float *sample)
{
    pushed++;
    if (pushed % HOP != 0u) {
        return NULL;
    }
    float x = sample[0] > 127.0f ? 127.0f : (sample[0] < -128.0f ? -128.0f : sample[0]);
    window[0] = (int8_t)x;
    window[1] = (int8_t)pushed;
    return window;
}

int mye_port_model_invoke(const int8_t *input, int8_t *output)
{
    for (uint32_t k = 0; k < SCORES; k++) {
        output[k] = (int8_t)(input[1] + (int8_t)k);
    }
    return 0;
}

uint8_t mye_port_live_start(uint8_t gain, float units_per_volt, mye_port_live_setup_t *setup,
                            uint32_t *expected, uint32_t *got)
{
    mye_live_config_t config = {CHANNELS, 250u, gain, units_per_volt > 0.0f ? units_per_volt : 1.0e6f};
    uint32_t detail = 0u;
    int rc = mye_live_start(&live, &config, &detail);
    *expected = 0u;
    *got = 0u;
    if (rc == MYE_LIVE_ERR_ABSENT) {
        *expected = ADS1298_ID_VALUE;
        *got = detail;
        return MYE_ERR_AFE_ABSENT;
    }
    if (rc != MYE_LIVE_OK) {
        return MYE_ERR_AFE_CONFIG;
    }
    setup->chips = (uint8_t)live.chips;
    setup->gain = gain;
    setup->channels = (uint16_t)live.channels;
    setup->decimation = (uint16_t)live.decimation;
    setup->chip_rate_hz = live.chip_rate_hz;
    setup->model_rate_hz = config.model_rate_hz;
    setup->units_per_volt = config.units_per_volt;
    return 0u;
}

int mye_port_live_sample(float *sample)
{
    for (;;) {
        int rc = mye_live_poll(&live, sample);
        if (rc == MYE_LIVE_NONE) {
            return 0;
        }
        if (rc == MYE_LIVE_SAMPLE) {
            return 1;
        }
    }
}

void mye_port_live_status(mye_port_live_status_t *status, int take)
{
    status->frames_read = live.afe.frames_read;
    status->overruns = live.afe.overruns;
    status->frame_errors = live.afe.frame_errors;
    status->acquire_cycles = 0u;
    if (take) {
        mye_live_take_lead_off(&live, &status->lead_off_p, &status->lead_off_n);
    } else {
        status->lead_off_p = live.lead_off_p;
        status->lead_off_n = live.lead_off_n;
    }
}

void mye_port_live_stop(void) { mye_live_stop(&live); }

/* ---- the host's side: frames into the dispatcher ------------------------ */

static uint8_t wire[256];
static size_t wire_length;
static uint16_t next_seq = 1u;

static void collect(const uint8_t *data, size_t length)
{
    for (size_t i = 0; i < length && wire_length < sizeof wire; i++) {
        wire[wire_length++] = data[i];
    }
}

static void send_command(uint8_t code, const uint8_t *payload, size_t length)
{
    uint8_t frame[MYE_HEADER_SIZE + 64u + MYE_CRC_SIZE];
    memcpy(frame + MYE_HEADER_SIZE, payload, length);
    size_t total = mye_frame_finish(frame, sizeof frame, code, next_seq++, length);
    wire_length = 0u;
    mye_frame_write(frame, total, collect);
    for (size_t i = 0; i < wire_length; i++) {
        myoedge_protocol_feed(wire[i]);
    }
}

static void send_live(uint8_t action, uint8_t vote, uint8_t gain, uint8_t flags, float units,
                      size_t length)
{
    uint8_t payload[16] = {0};
    payload[MYE_LIVE_REQUEST_ACTION] = action;
    payload[MYE_LIVE_REQUEST_VOTE] = vote;
    payload[MYE_LIVE_REQUEST_GAIN] = gain;
    payload[MYE_LIVE_REQUEST_FLAGS] = flags;
    mye_put_f32(payload + MYE_LIVE_REQUEST_UNITS_PER_VOLT, units);
    send_command(MYE_CMD_LIVE, payload, length);
}

static void conversion(uint32_t status, int32_t level)
{
    int32_t codes[8];
    for (int ch = 0; ch < 8; ch++) {
        codes[ch] = level * (ch + 1);
    }
    sim_set_frame(0, status, codes);
    sim_data_ready();
}

static void step_until_idle(void)
{
    while (myoedge_live_step()) {
    }
}

int main(int argc, char **argv)
{
    const char *scenario = argc > 1 ? argv[1] : "";
    sim_reset_state(ADS1298_ID_VALUE);
    myoedge_protocol_init(0u);
    if (strcmp(scenario, "faults") == 0) {
        send_live(MYE_LIVE_START, 0u, 0u, 0u, 0.0f, MYE_LIVE_REQUEST_SIZE);
        for (uint32_t i = 1; i <= 11u; i++) {
            uint32_t status = 0xC00000u;
            if (i == 3u) {
                status |= (1u << (12 + 2)) | (1u << (4 + 5)); /* LOFF_STATP ch 2, LOFF_STATN ch 5 */
            }
            if (i == 9u) {
                status = 0x000000u; /* the 1100 header is gone: a corrupt frame */
            }
            conversion(status, (int32_t)(1000 * i));
            if (i == 6u) {
                for (uint32_t extra = 0; extra < MYE_AFE_RING_FRAMES; extra++) {
                    conversion(0xC00000u, 6000); /* the main loop is busy: the ring fills, one frame lost */
                }
            }
            step_until_idle();
        }
        send_live(MYE_LIVE_STOP, 0u, 0u, 0u, 0.0f, MYE_LIVE_REQUEST_SIZE);
        return 0;
    }
    if (strcmp(scenario, "restart") == 0) {
        for (int run = 0; run < 2; run++) {
            send_live(MYE_LIVE_START, 0u, 0u, 0u, 0.0f, MYE_LIVE_REQUEST_SIZE);
            for (int32_t i = 1; i <= 4; i++) {
                conversion(0xC00000u, i);
                step_until_idle();
            }
            send_live(MYE_LIVE_STOP, 0u, 0u, 0u, 0.0f, MYE_LIVE_REQUEST_SIZE);
        }
        return 0;
    }
    if (strcmp(scenario, "registers") == 0) {
        send_live(MYE_LIVE_START, 0u, 12u, 0u, 0.0f, MYE_LIVE_REQUEST_SIZE);
        fprintf(stderr, "regs");
        for (int r = 0; r < SIM_REGS; r++) {
            fprintf(stderr, " %02x", sim.regs[0][r]);
        }
        fprintf(stderr, "\nmode %d %d\n", sim.rdatac, sim.start_pin);
        send_live(MYE_LIVE_STOP, 0u, 0u, 0u, 0.0f, MYE_LIVE_REQUEST_SIZE);
        fprintf(stderr, "stopped %d %d\n", sim.rdatac, sim.start_pin);
        return 0;
    }
    if (strcmp(scenario, "commands") == 0) {
        send_live(MYE_LIVE_START, 0u, 0u, 0u, 0.0f, MYE_LIVE_REQUEST_SIZE);
        conversion(0xC00000u, 10);
        step_until_idle();
        conversion(0xC00000u, 20);
        step_until_idle();
        send_command(MYE_CMD_INFO, NULL, 0u);
        conversion(0xC00000u, 30); /* live mode is off: nothing reads it */
        conversion(0xC00000u, 40);
        step_until_idle();
        send_live(MYE_LIVE_START, 0u, 0u, 0u, 0.0f, MYE_LIVE_REQUEST_SIZE - 1u);  /* BAD_LENGTH */
        send_live(MYE_LIVE_START, 0u, 0u, 0u, 0.0f, MYE_LIVE_REQUEST_SIZE + 1u);  /* BAD_LENGTH */
        send_live(2u, 0u, 0u, 0u, 0.0f, MYE_LIVE_REQUEST_SIZE);                   /* action */
        send_live(MYE_LIVE_START, 0u, 5u, 0u, 0.0f, MYE_LIVE_REQUEST_SIZE);       /* gain 5 */
        send_live(MYE_LIVE_START, 0u, 0u, 1u, 0.0f, MYE_LIVE_REQUEST_SIZE);       /* flags */
        uint8_t nan_units[MYE_LIVE_REQUEST_SIZE] = {MYE_LIVE_START, 0u, 0u, 0u, 0x00u, 0x00u, 0xC0u, 0x7Fu};
        send_command(MYE_CMD_LIVE, nan_units, sizeof nan_units);                  /* NaN units */
        sim_reset_state(0x90u); /* an ADS1296 on the bus */
        send_live(MYE_LIVE_START, 0u, 0u, 0u, 0.0f, MYE_LIVE_REQUEST_SIZE);       /* AFE_ABSENT */
        step_until_idle();
        return 0;
    }
    fprintf(stderr, "unknown scenario '%s'\n", scenario);
    return 2;
}
