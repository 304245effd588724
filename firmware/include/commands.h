/* commands.h - the firmware's command dispatcher (INFO, INFER, STREAM,
 * BENCH, RESET, LIVE) and the port it runs on.
 *
 * The dispatcher reads frames through protocol.c, runs the command and
 * sends the reply. It reaches the board, the preprocessor and the model
 * only through the mye_port_* functions below, which one glue file per
 * build implements (firmware/src/commands_port.c on the boards; stubs in
 * firmware/host_tests/ for the host fuzz test). It allocates nothing: every
 * buffer is a static array sized from myoedge_protocol.h.
 */
#ifndef MYOEDGE_COMMANDS_H
#define MYOEDGE_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Most channels of one raw sample the dispatcher converts at a time: 128
 * covers the HD-sEMG grids (8 x 16 electrodes, CapgMyo) the ConvNets take.
 * Each converting command holds one sample of floats on the stack (512 B). */
#ifndef MYE_MAX_CHANNELS
#define MYE_MAX_CHANNELS 128u
#endif

/* Most front-end samples one myoedge_live_step() call processes, so the
 * link is still read between them. */
#ifndef MYE_LIVE_SAMPLES_PER_STEP
#define MYE_LIVE_SAMPLES_PER_STEP 8u
#endif

/* Firmware version reported by INFO. */
#define MYE_FIRMWARE_MAJOR 0u
#define MYE_FIRMWARE_MINOR 1u
#define MYE_FIRMWARE_PATCH 0u

/* What INFO reports and what the shape checks compare against. */
typedef struct {
    const char *board;      /* e.g. "mps2-an386" */
    const char *core;       /* e.g. "cortex-m4f" */
    const char *model_name; /* from the model manifest */
    const char *model_hash; /* from the model manifest */
    const char *build;      /* e.g. compile date or git revision */
    uint32_t clock_hz;
    uint32_t flash_used, flash_size, ram_used, ram_size;
    uint32_t input_size; /* int8 elements of the network input */
    float input_scale;
    int32_t input_zero_point;
    float output_scale;
    int32_t output_zero_point;
    uint16_t output_size;  /* int8 scores (classes), <= MYE_MAX_SCORES */
    uint16_t raw_window;   /* samples in a raw window */
    uint16_t raw_channels; /* channels per raw sample, <= MYE_MAX_CHANNELS */
    uint16_t hop;          /* samples between predictions when streaming */
    uint8_t cycle_unit;    /* MYE_UNIT_* */
} mye_port_info_t;

/* ---- implemented by the port (board glue or test stubs) ---------------- */

/* Static description of the board and model; must stay valid forever. */
const mye_port_info_t *mye_port_info(void);
/* Send bytes on the link (blocking until queued). */
void mye_port_write(const uint8_t *data, size_t length);
/* One received byte, or -1 when none is waiting (must not block). */
int mye_port_read_byte(void);
/* Free-running counter in cycle_unit; differences are taken modulo 2^32. */
uint32_t mye_port_cycles(void);
/* Forget the preprocessor's history (filters, ring buffer, hop counter). */
void mye_port_preprocess_reset(void);
/* Push one raw sample of raw_channels values. Returns the int8 network
 * input (input_size values) when this sample completes a hop, else NULL. */
const int8_t *mye_port_preprocess_push(const float *sample);
/* Run the network: input_size int8 in, output_size int8 out; 0 on success. */
int mye_port_model_invoke(const int8_t *input, int8_t *output);

/* ---- live mode: the board's own front end (ADS1298, see live.h) -------- */
/* commands.c holds weak defaults for ports without a front end (LIVE start
 * answers AFE_ABSENT); commands_port.c overrides them on the boards. */

/* What LIVE start set up. */
typedef struct {
    uint8_t chips;          /* 1 or 2 ADS1298 */
    uint8_t gain;           /* PGA gain */
    uint16_t channels;      /* model channels (= raw_channels) */
    uint16_t decimation;    /* chip frames per model-rate sample */
    uint32_t chip_rate_hz;
    uint32_t model_rate_hz;
    float units_per_volt;
} mye_port_live_setup_t;

/* Counters since LIVE start, and what changed since the last take. */
typedef struct {
    uint32_t frames_read;
    uint32_t overruns;
    uint32_t frame_errors;
    uint32_t lead_off_p;     /* bits seen since the last take (bit i: channel i) */
    uint32_t lead_off_n;
    uint32_t acquire_cycles; /* reading + scaling frames since the last take */
} mye_port_live_status_t;

/* Configure the front end for the model (gain 1..12, units_per_volt 0: the
 * port's default) and start conversions. 0 on success, else an MYE_ERR_*
 * code with the numbers its ERROR reply carries. */
uint8_t mye_port_live_start(uint8_t gain, float units_per_volt, mye_port_live_setup_t *setup,
                            uint32_t *expected, uint32_t *got);
/* The next model-rate sample (raw_channels values) if the front end has
 * one: 1 (sample filled) or 0. Must not block. */
int mye_port_live_sample(float *sample);
/* Counters; with take != 0 the lead-off bits and acquire cycles restart. */
void mye_port_live_status(mye_port_live_status_t *status, int take);
/* Leave live mode: START low, SDATAC, /DRDY detached. */
void mye_port_live_stop(void);

/* ---- provided by commands.c -------------------------------------------- */

/* Reset the dispatcher and announce the start with a BOOT frame. */
void myoedge_protocol_init(uint8_t reset_cause);
/* Read every byte waiting (at most one receive buffer's worth per call)
 * and answer the frames they complete. Call it from the main loop. */
void myoedge_protocol_poll(void);
/* Take one byte from the link (for boards that receive in an interrupt). */
void myoedge_protocol_feed(uint8_t byte);
/* Live mode: process the samples the front end has ready (at most
 * MYE_LIVE_SAMPLES_PER_STEP), sending a LIVE_PREDICTION frame per hop.
 * Returns 1 when it did some work, 0 when idle or not in live mode. Call it
 * from the main loop after myoedge_protocol_poll(). */
int myoedge_live_step(void);
/* 1 while live mode runs. */
int myoedge_live_active(void);
/* Send a FAULT frame; safe from a fault handler (uses the stack only). */
void myoedge_protocol_fault(uint32_t pc, uint32_t lr, uint32_t cfsr, uint32_t hfsr);

#ifdef __cplusplus
}
#endif

#endif /* MYOEDGE_COMMANDS_H */
