/*
 * live.c - the front-end side of live mode (see live.h).
 */
#include "live.h"

#include <stddef.h>

/* ADS1298 data rates, lowest first: 250 SPS (low-power mode), then the
 * high-resolution rates 500 .. 32000 SPS. */
static const uint32_t chip_rates[8] = {250u, 500u, 1000u, 2000u, 4000u, 8000u, 16000u, 32000u};

uint32_t mye_live_chip_rate(uint32_t model_rate_hz, uint32_t *decimation)
{
    *decimation = 0u;
    if (model_rate_hz == 0u) {
        return 0u;
    }
    for (uint32_t i = 0; i < 8u; ++i) {
        if (chip_rates[i] % model_rate_hz == 0u) {
            *decimation = chip_rates[i] / model_rate_hz;
            return chip_rates[i];
        }
    }
    return 0u;
}

int mye_live_start(mye_live_t *live, const mye_live_config_t *config, uint32_t *detail)
{
    *detail = 0u;
    live->running = 0u;
    if (config->channels < 1u || config->channels > MYE_LIVE_AFE_CHANNELS) {
        return MYE_LIVE_ERR_CHANNELS;
    }
    uint32_t decimation = 0u;
    uint32_t chip_rate = mye_live_chip_rate(config->model_rate_hz, &decimation);
    if (chip_rate == 0u) {
        return MYE_LIVE_ERR_RATE;
    }
    mye_afe_config_t afe_config;
    afe_config.chips = config->channels <= ADS1298_CHANNELS ? 1u : 2u;
    afe_config.sample_rate_hz = chip_rate;
    afe_config.gain = config->gain;
    afe_config.vref_4v = 0u; /* 2.4 V: works from AVDD = 3 V up */
    afe_config.units_per_volt = config->units_per_volt;
    mye_afe_read_in_isr(&live->afe, 1u); /* a long inference must not lose frames */
    int rc = mye_afe_init(&live->afe, &afe_config);
    if (rc == MYE_AFE_ERR_ID) {
        *detail = live->afe.registers[ADS1298_REG_ID];
        mye_afe_stop(&live->afe);
        return MYE_LIVE_ERR_ABSENT;
    }
    if (rc != MYE_AFE_OK) {
        mye_afe_stop(&live->afe);
        return MYE_LIVE_ERR_CONFIG;
    }
    live->channels = config->channels;
    live->chips = afe_config.chips;
    live->chip_rate_hz = chip_rate;
    live->decimation = decimation;
    live->phase = 0u;
    live->lead_off_p = 0u;
    live->lead_off_n = 0u;
    for (uint32_t c = 0; c < MYE_LIVE_AFE_CHANNELS; ++c) {
        live->sum[c] = 0.0f;
    }
    live->running = 1u;
    return MYE_LIVE_OK;
}

int mye_live_pending(const mye_live_t *live)
{
    const mye_afe_t *afe = &live->afe;
    return live->running &&
           afe->drdy_count != afe->frames_read + afe->overruns + afe->frame_errors;
}

/* Lead-off bits of the frame just read: status = 1100 | LOFF_STATP[7:0] |
 * LOFF_STATN[7:0] | GPIO[3:0]; chip k's channels are bits 8k..8k+7. */
static void collect_lead_off(mye_live_t *live)
{
    for (uint32_t chip = 0; chip < live->chips; ++chip) {
        uint32_t status = live->afe.status[chip];
        live->lead_off_p |= ((status >> 12) & 0xFFu) << (8u * chip);
        live->lead_off_n |= ((status >> 4) & 0xFFu) << (8u * chip);
    }
}

int mye_live_poll(mye_live_t *live, float *sample)
{
    if (!live->running) {
        return MYE_LIVE_NONE;
    }
    int rc = mye_afe_poll(&live->afe, live->frame);
    if (rc == MYE_AFE_NO_FRAME) {
        return MYE_LIVE_NONE;
    }
    if (rc != MYE_AFE_FRAME && rc != MYE_AFE_ERR_OVERRUN) {
        return MYE_LIVE_FRAME; /* a bad frame: the driver counted it, nothing to average */
    }
    /* MYE_AFE_ERR_OVERRUN: this frame is good, earlier ones were lost (counted). */
    collect_lead_off(live);
    for (uint32_t c = 0; c < live->channels; ++c) {
        live->sum[c] = live->sum[c] + live->frame[c];
    }
    live->phase += 1u;
    if (live->phase < live->decimation) {
        return MYE_LIVE_FRAME;
    }
    const float count = (float)live->decimation;
    for (uint32_t c = 0; c < live->channels; ++c) {
        sample[c] = live->sum[c] / count;
        live->sum[c] = 0.0f;
    }
    live->phase = 0u;
    return MYE_LIVE_SAMPLE;
}

void mye_live_take_lead_off(mye_live_t *live, uint32_t *lead_off_p, uint32_t *lead_off_n)
{
    *lead_off_p = live->lead_off_p;
    *lead_off_n = live->lead_off_n;
    live->lead_off_p = 0u;
    live->lead_off_n = 0u;
}

void mye_live_stop(mye_live_t *live)
{
    if (live->running) {
        mye_afe_stop(&live->afe);
    }
    live->running = 0u;
}
