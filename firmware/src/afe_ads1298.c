/*
 * afe_ads1298.c - ADS1298 front-end driver (see afe_ads1298.h).
 */
#include "afe_ads1298.h"

#include <stdatomic.h>
#include <stddef.h>

#include "board.h"

/* Timing at the 2.048 MHz internal clock (t_CLK = 488 ns), with margin. */
#define T_POR_US 150000u      /* 2^18 t_CLK = 128 ms after power-up */
#define T_RESET_PULSE_US 2u   /* /RESET low for >= 2 t_CLK */
#define T_AFTER_RESET_US 10u  /* 18 t_CLK before the first command */
#define T_BYTE_GAP_US 2u      /* 4 t_CLK between bytes of a multi-byte command */

#define CONFIG1_HR (1u << 7)     /* high-resolution mode */
#define CONFIG1_DAISY (0u << 6)  /* DAISY_EN = 0: daisy-chain mode */
#define CONFIG2_DEFAULT 0x00u    /* no test signal */
#define CONFIG3_REFBUF 0xC0u     /* internal reference buffer on (bit 6 reserved, reads 1) */
#define CONFIG3_VREF_4V (1u << 5)
#define CHSET_NORMAL_INPUT 0x00u /* MUX = 000: normal electrode input, powered */
#define LOFF_DC_6NA_95 0x03u     /* FLEAD_OFF = 11 (DC), ILEAD_OFF = 6 nA, COMP_TH = 95 % */
#define CONFIG4_LOFF_COMP 0x02u  /* PD_LOFF_COMP: lead-off comparators powered */

static mye_afe_t *active_afe;

static void read_raw_frame(uint32_t chips, uint8_t *frame)
{
    board_afe_select(1);
    board_afe_spi_transfer(NULL, frame, (size_t)chips * ADS1298_FRAME_BYTES);
    board_afe_select(0);
}

void mye_afe_drdy_isr(void)
{
    mye_afe_t *afe = active_afe;
    if (afe == NULL) {
        return;
    }
    afe->drdy_count = afe->drdy_count + 1u;
    if (!afe->read_in_isr) {
        return;
    }
    const uint32_t head = afe->ring_head;
    if (head - afe->ring_tail >= MYE_AFE_RING_FRAMES) {
        afe->overruns += 1u; /* the main loop is MYE_AFE_RING_FRAMES behind: this frame is lost */
        return;
    }
    read_raw_frame(afe->config.chips, afe->ring[head % MYE_AFE_RING_FRAMES]);
    atomic_signal_fence(memory_order_seq_cst); /* the frame is in the ring before head says so */
    afe->ring_head = head + 1u;
}

void mye_afe_read_in_isr(mye_afe_t *afe, uint32_t enable)
{
    afe->ring_tail = afe->ring_head;
    afe->read_in_isr = enable ? 1u : 0u;
}

int32_t mye_afe_code24(const uint8_t *bytes)
{
    uint32_t raw = ((uint32_t)bytes[0] << 16) | ((uint32_t)bytes[1] << 8) | (uint32_t)bytes[2];
    if (raw & 0x800000u) {
        raw |= 0xFF000000u; /* sign-extend bit 23 */
    }
    return (int32_t)raw;
}

static void send_command(uint8_t opcode)
{
    board_afe_select(1);
    board_afe_spi_transfer(&opcode, NULL, 1u);
    board_delay_us(T_BYTE_GAP_US);
    board_afe_select(0);
}

static void write_registers(uint8_t first, const uint8_t *values, uint8_t count)
{
    uint8_t header[2] = {(uint8_t)(ADS1298_CMD_WREG | first), (uint8_t)(count - 1u)};
    board_afe_select(1);
    for (uint8_t i = 0; i < 2u; ++i) {
        board_afe_spi_transfer(&header[i], NULL, 1u);
        board_delay_us(T_BYTE_GAP_US);
    }
    for (uint8_t i = 0; i < count; ++i) {
        board_afe_spi_transfer(&values[i], NULL, 1u);
        board_delay_us(T_BYTE_GAP_US);
    }
    board_afe_select(0);
}

static void read_registers(uint8_t first, uint8_t *values, uint8_t count)
{
    uint8_t header[2] = {(uint8_t)(ADS1298_CMD_RREG | first), (uint8_t)(count - 1u)};
    board_afe_select(1);
    for (uint8_t i = 0; i < 2u; ++i) {
        board_afe_spi_transfer(&header[i], NULL, 1u);
        board_delay_us(T_BYTE_GAP_US);
    }
    for (uint8_t i = 0; i < count; ++i) {
        uint8_t zero = 0u;
        board_afe_spi_transfer(&zero, &values[i], 1u);
    }
    board_afe_select(0);
}

/* CONFIG1 data-rate bits for a sample rate, or -1. */
static int data_rate_bits(uint32_t rate_hz, uint8_t *config1)
{
    /* High-resolution mode: f_MOD = 512 kHz, DR = 000 -> 32 kSPS ... 110 -> 500 SPS. */
    uint32_t rate = 32000u;
    for (uint8_t dr = 0; dr <= 6u; ++dr) {
        if (rate_hz == rate) {
            *config1 = (uint8_t)(CONFIG1_HR | CONFIG1_DAISY | dr);
            return 0;
        }
        rate /= 2u;
    }
    if (rate_hz == 250u) { /* low-power mode, DR = 110 */
        *config1 = (uint8_t)(CONFIG1_DAISY | 6u);
        return 0;
    }
    return -1;
}

static int gain_bits(uint32_t gain, uint8_t *bits)
{
    static const uint8_t gains[7] = {6u, 1u, 2u, 3u, 4u, 8u, 12u}; /* GAIN[2:0] = 000..110 */
    for (uint8_t i = 0; i < 7u; ++i) {
        if (gains[i] == gain) {
            *bits = (uint8_t)(i << 4);
            return 0;
        }
    }
    return -1;
}

/* DC lead-off detection on every input; MYE_AFE_OK or MYE_AFE_ERR_CONFIG
 * when a register reads back differently. */
static int enable_lead_off(mye_afe_t *afe)
{
    static const uint8_t lead_off_registers[4] = {ADS1298_REG_LOFF, ADS1298_REG_LOFF_SENSP,
                                                  ADS1298_REG_LOFF_SENSN, ADS1298_REG_CONFIG4};
    afe->registers[ADS1298_REG_LOFF] = LOFF_DC_6NA_95;
    afe->registers[ADS1298_REG_LOFF_SENSP] = 0xFFu;
    afe->registers[ADS1298_REG_LOFF_SENSN] = 0xFFu;
    afe->registers[ADS1298_REG_CONFIG4] = CONFIG4_LOFF_COMP;
    write_registers(ADS1298_REG_LOFF, &afe->registers[ADS1298_REG_LOFF], 1u);
    write_registers(ADS1298_REG_LOFF_SENSP, &afe->registers[ADS1298_REG_LOFF_SENSP], 2u);
    write_registers(ADS1298_REG_CONFIG4, &afe->registers[ADS1298_REG_CONFIG4], 1u);
    for (uint32_t i = 0; i < 4u; ++i) {
        uint8_t value = 0u;
        read_registers(lead_off_registers[i], &value, 1u);
        if (value != afe->registers[lead_off_registers[i]]) {
            return MYE_AFE_ERR_CONFIG;
        }
    }
    return MYE_AFE_OK;
}

int mye_afe_init(mye_afe_t *afe, const mye_afe_config_t *config)
{
    uint8_t config1 = 0u;
    uint8_t gain = 0u;
    if (afe == NULL || config == NULL || config->chips < 1u || config->chips > ADS1298_MAX_CHIPS ||
        data_rate_bits(config->sample_rate_hz, &config1) != 0 || gain_bits(config->gain, &gain) != 0 ||
        !(config->units_per_volt > 0.0f)) {
        return MYE_AFE_ERR_ARG;
    }
    afe->config = *config;
    const float vref = config->vref_4v ? 4.0f : 2.4f;
    afe->units_per_code = vref / ((float)config->gain * 8388607.0f) * config->units_per_volt;
    afe->drdy_count = 0u;
    afe->frames_read = 0u;
    afe->overruns = 0u;
    afe->frame_errors = 0u;
    afe->ring_head = 0u; /* read_in_isr stays as the caller set it */
    afe->ring_tail = 0u;
    afe->ring_tail = 0u;
    for (uint32_t i = 0; i < ADS1298_REG_COUNT; ++i) {
        afe->registers[i] = 0u;
    }
    for (uint32_t i = 0; i < ADS1298_MAX_CHIPS; ++i) {
        afe->status[i] = 0u;
    }

    /* Power up and reset. */
    board_afe_drdy_attach(NULL);
    board_afe_start_pin(0);
    board_afe_select(0);
    board_afe_reset_pin(1);
    board_delay_us(T_POR_US);
    board_afe_reset_pin(0);
    board_delay_us(T_RESET_PULSE_US);
    board_afe_reset_pin(1);
    board_delay_us(T_AFTER_RESET_US);
    send_command(ADS1298_CMD_SDATAC); /* registers are only writable outside RDATAC */

    uint8_t id = 0u;
    read_registers(ADS1298_REG_ID, &id, 1u);
    afe->registers[ADS1298_REG_ID] = id; /* kept for the error report */
    if (id != ADS1298_ID_VALUE) {
        return MYE_AFE_ERR_ID;
    }
    afe->registers[ADS1298_REG_CONFIG1] = config1;
    afe->registers[ADS1298_REG_CONFIG2] = CONFIG2_DEFAULT;
    afe->registers[ADS1298_REG_CONFIG3] = (uint8_t)(CONFIG3_REFBUF | (config->vref_4v ? CONFIG3_VREF_4V : 0u));
    for (uint32_t ch = 0; ch < ADS1298_CHANNELS; ++ch) {
        afe->registers[ADS1298_REG_CH1SET + ch] = (uint8_t)(gain | CHSET_NORMAL_INPUT);
    }
    write_registers(ADS1298_REG_CONFIG1, &afe->registers[ADS1298_REG_CONFIG1], 3u);
    write_registers(ADS1298_REG_CH1SET, &afe->registers[ADS1298_REG_CH1SET], (uint8_t)ADS1298_CHANNELS);
    if (enable_lead_off(afe) != MYE_AFE_OK) {
        return MYE_AFE_ERR_CONFIG;
    }

    uint8_t readback[3u + ADS1298_CHANNELS];
    read_registers(ADS1298_REG_CONFIG1, readback, 3u);
    read_registers(ADS1298_REG_CH1SET, &readback[3], (uint8_t)ADS1298_CHANNELS);
    for (uint32_t i = 0; i < 3u + ADS1298_CHANNELS; ++i) {
        uint8_t expected = afe->registers[(i < 3u) ? ADS1298_REG_CONFIG1 + i : ADS1298_REG_CH1SET + (i - 3u)];
        if (readback[i] != expected) {
            return MYE_AFE_ERR_CONFIG;
        }
    }

    active_afe = afe;
    send_command(ADS1298_CMD_RDATAC);
    board_afe_drdy_attach(mye_afe_drdy_isr);
    board_afe_start_pin(1);
    return MYE_AFE_OK;
}

/* Check and scale one raw frame: MYE_AFE_FRAME or MYE_AFE_ERR_FRAME (out untouched). */
static int decode_frame(mye_afe_t *afe, const uint8_t *frame, float *out)
{
    const uint32_t chips = afe->config.chips;
    for (uint32_t chip = 0; chip < chips; ++chip) {
        const uint8_t *block = &frame[chip * ADS1298_FRAME_BYTES];
        if ((block[0] & 0xF0u) != 0xC0u) {
            return MYE_AFE_ERR_FRAME;
        }
    }
    for (uint32_t chip = 0; chip < chips; ++chip) {
        const uint8_t *block = &frame[chip * ADS1298_FRAME_BYTES];
        afe->status[chip] = ((uint32_t)block[0] << 16) | ((uint32_t)block[1] << 8) | (uint32_t)block[2];
        for (uint32_t ch = 0; ch < ADS1298_CHANNELS; ++ch) {
            int32_t code = mye_afe_code24(&block[3u + 3u * ch]);
            out[chip * ADS1298_CHANNELS + ch] = (float)code * afe->units_per_code;
        }
    }
    afe->frames_read += 1u;
    return MYE_AFE_FRAME;
}

int mye_afe_read_frame(mye_afe_t *afe, float *out)
{
    uint8_t frame[ADS1298_MAX_CHIPS * ADS1298_FRAME_BYTES];
    read_raw_frame(afe->config.chips, frame);
    return decode_frame(afe, frame, out);
}

int mye_afe_poll(mye_afe_t *afe, float *out)
{
    if (afe->read_in_isr) {
        const uint32_t tail = afe->ring_tail;
        if (afe->ring_head == tail) {
            return MYE_AFE_NO_FRAME;
        }
        atomic_signal_fence(memory_order_seq_cst); /* read the frame only after head */
        int decoded = decode_frame(afe, afe->ring[tail % MYE_AFE_RING_FRAMES], out);
        afe->ring_tail = tail + 1u;
        if (decoded != MYE_AFE_FRAME) {
            afe->frame_errors += 1u; /* dropped, counted */
        }
        return decoded;
    }
    /* drdy_count is written by the interrupt: read it once. */
    const uint32_t seen = afe->drdy_count;
    const uint32_t pending = seen - afe->frames_read - afe->overruns - afe->frame_errors;
    if (pending == 0u) {
        return MYE_AFE_NO_FRAME;
    }
    int rc = mye_afe_read_frame(afe, out);
    if (rc != MYE_AFE_FRAME) {
        afe->frame_errors += 1u; /* the frame is gone either way: count it, do not retry it */
        if (pending > 1u) {
            afe->overruns += pending - 1u;
        }
        return rc;
    }
    if (pending > 1u) {
        afe->overruns += pending - 1u;
        return MYE_AFE_ERR_OVERRUN;
    }
    return MYE_AFE_FRAME;
}

void mye_afe_stop(mye_afe_t *afe)
{
    board_afe_drdy_attach(NULL); /* first: no interrupt reads the bus while SDATAC goes out */
    board_afe_start_pin(0);
    send_command(ADS1298_CMD_SDATAC);
    if (active_afe == afe) {
        active_afe = NULL;
    }
}
