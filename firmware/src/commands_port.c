/* commands_port.c - the dispatcher's port on a real (or emulated) board:
 * board.h for the link, clock and counter; preprocess.c for the streaming
 * preprocessing; the ahead-of-time model for the network; the model
 * manifest and the linker script for what INFO reports.
 *
 * It also provides the application loop main() hands over to
 * (mye_app_run), the framed fault report (mye_fault_report) and live mode's
 * front end (live.c on the board's ADS1298 hooks; on emulated boards those
 * hooks drive a software model of the chip, see boards/ads1298_model.h).
 *
 * Live mode settings come from the manifest: MYE_PP_CHANNELS channels,
 * MYE_PP_SAMPLING_RATE_HZ, and MYE_AFE_UNITS_PER_VOLT when the manifest (or
 * the build, -DMYE_AFE_UNITS_PER_VOLT=...) defines it, else 1e6 (the model
 * was trained on microvolts); a LIVE request may override the units.
 *
 * The model library must export int mye_model_invoke(const int8_t *input,
 * int8_t *output) (the quantize stage's AOT C generated with the name
 * "model"); define MYE_MODEL_INVOKE to call another name. Every window is
 * classified on its own, as the host's TFLM reference does: a model with
 * variable tensors (an LSTM's hidden and cell state) gets its
 * mye_model_reset() before each inference, so nothing carries over from the
 * previous window. The reset is declared weak: a model library without one
 * has no state to reset.
 */
#include <stdint.h>
#include <string.h>

#include "app.h"
#include "board.h"
#include "commands.h"
#include "live.h"
#include "model_manifest.h"
#include "myoedge_protocol.h"
#include "preprocess.h"
#include "startup.h"

#ifndef MYE_MODEL_INVOKE
#define MYE_MODEL_INVOKE mye_model_invoke
#endif
int MYE_MODEL_INVOKE(const int8_t *input, int8_t *output);
#ifndef MYE_MODEL_RESET
#define MYE_MODEL_RESET mye_model_reset
#endif
void MYE_MODEL_RESET(void) __attribute__((weak));

#ifndef MYOEDGE_BUILD_ID
#define MYOEDGE_BUILD_ID "dev"
#endif

#if MYE_PP_WINDOW_VALUES != MYE_INPUT_SIZE
#error "the preprocessed window (MYE_PP_OUT_STEPS x MYE_PP_CHANNELS) must fill the model input"
#endif
#if MYE_OUTPUT_SIZE > MYE_MAX_SCORES
#error "the model has more outputs than a reply carries (MYE_MAX_SCORES)"
#endif
#if MYE_PP_CHANNELS > MYE_MAX_CHANNELS
#error "more channels than the dispatcher converts (MYE_MAX_CHANNELS)"
#endif
#if MYE_PP_WINDOW > 0xFFFF || MYE_PP_STEP > 0xFFFF
#error "window and step must fit 16 bits"
#endif

/* Linker symbols (firmware/boards/common_sections.ld). The region sizes are
 * weak: a linker script that does not define them reports 0 (unknown). */
extern uint32_t _sidata, _sdata, _edata, _estack;
extern void (*const mye_vector_table[])(void);
extern const uint8_t _flash_size[] __attribute__((weak));
extern const uint8_t _ram_size[] __attribute__((weak));

#ifndef MYE_AFE_UNITS_PER_VOLT
#define MYE_AFE_UNITS_PER_VOLT 1.0e6f /* microvolts */
#endif
#if MYE_PP_CHANNELS > MYE_LIVE_AFE_CHANNELS
#define MYE_LIVE_CHANNELS_OK 0 /* LIVE start answers BAD_SHAPE */
#else
#define MYE_LIVE_CHANNELS_OK 1
#endif

static mye_pp_t preprocessor;
static mye_live_t live;
static uint32_t live_acquire_cycles;
static int8_t window[MYE_PP_WINDOW_VALUES] __attribute__((aligned(4)));
static mye_port_info_t info;

static uint8_t unit_code(const char *unit)
{
    if (unit != NULL && strcmp(unit, "cycles") == 0) {
        return MYE_UNIT_CYCLES;
    }
    if (unit != NULL && strcmp(unit, "instructions") == 0) {
        return MYE_UNIT_INSTRUCTIONS;
    }
    return MYE_UNIT_TICKS;
}

static void describe(void)
{
    uintptr_t flash_start = (uintptr_t)mye_vector_table;
    uintptr_t data_bytes = (uintptr_t)&_edata - (uintptr_t)&_sdata;
    info.board = board_name();
    info.core = board_core();
    info.model_name = MYE_MODEL_NAME;
    info.model_hash = MYE_MODEL_HASH_HEX;
    info.build = MYOEDGE_FIRMWARE_VERSION "+" MYOEDGE_BUILD_ID;
    info.clock_hz = board_clock_hz();
    info.flash_used = (uint32_t)((uintptr_t)&_sidata - flash_start + data_bytes);
    info.flash_size = (uint32_t)(uintptr_t)_flash_size;
    info.ram_used = (uint32_t)((uintptr_t)&_estack - (uintptr_t)&_sdata);
    info.ram_size = (uint32_t)(uintptr_t)_ram_size;
    info.input_size = MYE_INPUT_SIZE;
    info.input_scale = MYE_INPUT_SCALE;
    info.input_zero_point = MYE_INPUT_ZERO_POINT;
    info.output_scale = MYE_OUTPUT_SCALE;
    info.output_zero_point = MYE_OUTPUT_ZERO_POINT;
    info.output_size = MYE_OUTPUT_SIZE;
    info.raw_window = MYE_PP_WINDOW;
    info.raw_channels = MYE_PP_CHANNELS;
    info.hop = MYE_PP_STEP;
    info.cycle_unit = unit_code(board_cycle_unit());
}

const mye_port_info_t *mye_port_info(void) { return &info; }

void mye_port_write(const uint8_t *data, size_t length) { board_uart_write(data, length); }

int mye_port_read_byte(void) { return board_uart_read_byte(0u); }

uint32_t mye_port_cycles(void) { return board_cycles(); }

void mye_port_preprocess_reset(void) { mye_pp_reset(&preprocessor); }

const int8_t *mye_port_preprocess_push(const float *sample)
{
    if (mye_pp_push(&preprocessor, sample) != MYE_PP_WINDOW_READY) {
        return NULL; /* no hop yet, or a non-finite sample the preprocessor dropped */
    }
    if (mye_pp_window_int8(&preprocessor, window) != MYE_PP_OK) {
        return NULL;
    }
    return window;
}

int mye_port_model_invoke(const int8_t *input, int8_t *output)
{
    board_watchdog_kick(); /* BENCH runs many inferences in one command */
    if (MYE_MODEL_RESET != NULL) {
        MYE_MODEL_RESET(); /* each window on its own: no state from the last one */
    }
    return MYE_MODEL_INVOKE(input, output);
}

/* The model's sampling rate in whole Hz, or 0 when it has none (or a fraction). */
static uint32_t model_rate_hz(void)
{
#ifdef MYE_PP_SAMPLING_RATE_HZ
    const float rate = (float)MYE_PP_SAMPLING_RATE_HZ;
    if (!(rate >= 1.0f && rate <= 100000.0f)) {
        return 0u;
    }
    const uint32_t whole = (uint32_t)rate;
    return (float)whole == rate ? whole : 0u;
#else
    return 0u;
#endif
}

uint8_t mye_port_live_start(uint8_t gain, float units_per_volt, mye_port_live_setup_t *setup,
                            uint32_t *expected, uint32_t *got)
{
    mye_live_config_t config;
    config.channels = MYE_PP_CHANNELS;
    config.model_rate_hz = model_rate_hz();
    config.gain = gain;
    config.units_per_volt = units_per_volt > 0.0f ? units_per_volt : MYE_AFE_UNITS_PER_VOLT;
    *expected = 0u;
    *got = 0u;
    if (!MYE_LIVE_CHANNELS_OK) {
        *expected = MYE_LIVE_AFE_CHANNELS;
        *got = MYE_PP_CHANNELS;
        return MYE_ERR_BAD_SHAPE;
    }
    uint32_t detail = 0u;
    int rc = mye_live_start(&live, &config, &detail);
    live_acquire_cycles = 0u;
    switch (rc) {
    case MYE_LIVE_OK:
        break;
    case MYE_LIVE_ERR_CHANNELS:
        *expected = MYE_LIVE_AFE_CHANNELS;
        *got = config.channels;
        return MYE_ERR_BAD_SHAPE;
    case MYE_LIVE_ERR_RATE:
        *got = config.model_rate_hz;
        return MYE_ERR_AFE_RATE;
    case MYE_LIVE_ERR_ABSENT:
        *expected = ADS1298_ID_VALUE;
        *got = detail;
        return MYE_ERR_AFE_ABSENT;
    default:
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
        uint32_t start = board_cycles();
        int rc = mye_live_poll(&live, sample);
        if (rc == MYE_LIVE_NONE) {
            return 0;
        }
        live_acquire_cycles += board_cycles() - start; /* only calls that read a frame */
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
    status->acquire_cycles = live_acquire_cycles;
    if (take) {
        mye_live_take_lead_off(&live, &status->lead_off_p, &status->lead_off_n);
        live_acquire_cycles = 0u;
    } else {
        status->lead_off_p = live.lead_off_p;
        status->lead_off_n = live.lead_off_n;
    }
}

void mye_port_live_stop(void) { mye_live_stop(&live); }

/* In live mode with nothing to do, sleep until the next interrupt (a /DRDY,
 * a received byte, SysTick). Interrupts are masked around the check and the
 * WFI, so a /DRDY that lands in between still wakes the core at once. */
static void idle_until_interrupt(void)
{
    __asm__ volatile("cpsid i" ::: "memory");
    if (!mye_live_pending(&live)) {
        __asm__ volatile("wfi" ::: "memory");
    }
    __asm__ volatile("cpsie i" ::: "memory");
}

void mye_app_run(void)
{
    mye_pp_init(&preprocessor);
    describe();
    myoedge_protocol_init(0u);
    for (;;) {
        myoedge_protocol_poll();
        if (myoedge_live_active() && !myoedge_live_step()) {
            idle_until_interrupt();
        }
        board_watchdog_kick();
    }
}

void mye_fault_report(const mye_fault_info_t *fault)
{
    /* stacked[5] is the LR and stacked[6] the PC of the faulting code. */
    myoedge_protocol_fault(fault->stacked[6], fault->stacked[5], fault->cfsr, fault->hfsr);
}
