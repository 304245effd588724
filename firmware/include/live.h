/*
 * live.h - the front-end side of live mode: the ADS1298 (one chip or two
 * daisy-chained) set up for the model, its frames read as /DRDY announces
 * them, averaged down to the model's sampling rate, and every problem
 * counted (overruns, bad frames, lead-off bits) so the application can
 * report it instead of hiding it.
 *
 * Sample rate: the chip's data rate is the model's rate when the ADS1298
 * has it (250, 500, 1000, ... 32000 SPS), else the lowest chip rate that is
 * an integer multiple of it; `decimation` frames are then averaged into one
 * model-rate sample (sum in frame order, then divide: the host mirror in
 * tests/test_firmware_live.py does the same float32 operations). A model
 * rate with no such multiple is refused (MYE_LIVE_ERR_RATE).
 *
 * Portable C: it reaches the chip only through afe_ads1298.c and the board
 * hooks, so it runs on every board and in the host tests.
 */
#ifndef MYOEDGE_LIVE_H
#define MYOEDGE_LIVE_H

#include <stdint.h>

#include "afe_ads1298.h"

#define MYE_LIVE_AFE_CHANNELS (ADS1298_MAX_CHIPS * ADS1298_CHANNELS)

/* Return codes. */
#define MYE_LIVE_NONE 0          /* mye_live_poll: no new chip frame */
#define MYE_LIVE_FRAME 1         /* a frame was read (or dropped); no model-rate sample yet */
#define MYE_LIVE_SAMPLE 2        /* sample[] holds a new model-rate sample */
#define MYE_LIVE_OK 0
#define MYE_LIVE_ERR_CHANNELS (-1) /* 0 or more than MYE_LIVE_AFE_CHANNELS channels */
#define MYE_LIVE_ERR_RATE (-2)     /* no chip rate is the model's rate or a multiple of it */
#define MYE_LIVE_ERR_ABSENT (-3)   /* the ID register is not an ADS1298's */
#define MYE_LIVE_ERR_CONFIG (-4)   /* register read-back differs, or the driver refused */

typedef struct {
    uint32_t channels;      /* model channels, 1..MYE_LIVE_AFE_CHANNELS */
    uint32_t model_rate_hz; /* the model's sampling rate */
    uint32_t gain;          /* PGA gain: 1, 2, 3, 4, 6, 8 or 12 */
    float units_per_volt;   /* model input units per volt at the electrodes */
} mye_live_config_t;

typedef struct {
    mye_afe_t afe;
    uint32_t channels;
    uint32_t chips;
    uint32_t chip_rate_hz;
    uint32_t decimation;     /* chip frames per model-rate sample */
    uint32_t phase;          /* frames summed into sum[] so far */
    float frame[MYE_LIVE_AFE_CHANNELS];
    float sum[MYE_LIVE_AFE_CHANNELS];
    uint32_t lead_off_p;     /* LOFF_STATP bits seen since the last take (bit i: channel i) */
    uint32_t lead_off_n;     /* LOFF_STATN bits seen since the last take */
    uint32_t running;
} mye_live_t;

/* The chip rate for a model rate (0: none) and the decimation it needs. */
uint32_t mye_live_chip_rate(uint32_t model_rate_hz, uint32_t *decimation);

/* Configure the front end and start conversions. MYE_LIVE_OK or an error;
 * *detail gets the ID register read for MYE_LIVE_ERR_ABSENT, else 0. */
int mye_live_start(mye_live_t *live, const mye_live_config_t *config, uint32_t *detail);

/* Read the chip frame /DRDY announced, if any. MYE_LIVE_SAMPLE: sample[]
 * (channels values) holds the next model-rate sample; MYE_LIVE_FRAME: a
 * frame was read (or dropped for a bad status word) but the average is not
 * complete; MYE_LIVE_NONE: nothing new. */
int mye_live_poll(mye_live_t *live, float *sample);

/* A /DRDY is waiting to be read (for the idle loop: sleep only when 0). */
int mye_live_pending(const mye_live_t *live);

/* Lead-off bits seen since the last call; clears them. */
void mye_live_take_lead_off(mye_live_t *live, uint32_t *lead_off_p, uint32_t *lead_off_n);

/* START low, SDATAC, /DRDY detached. Safe to call when not running. */
void mye_live_stop(mye_live_t *live);

#endif /* MYOEDGE_LIVE_H */
