/*
 * afe_ads1298.h - driver for the TI ADS1298 8-channel 24-bit biopotential
 * front end, one chip (8 channels) or two daisy-chained (16 channels: the
 * second chip's DOUT feeds the first chip's DAISY_IN, /CS, SCLK, DIN, START
 * and /DRDY shared).
 *
 * It talks to the hardware only through the board hooks in board.h
 * (board_afe_spi_transfer, board_afe_select, board_afe_start_pin,
 * board_afe_reset_pin, board_delay_us, board_afe_drdy_attach), so the same
 * code runs on a board and against the simulated chip of the host tests.
 *
 * Sequence (datasheet "initial flow at power-up"): /RESET+/PWDN high, wait
 * t_POR, reset pulse, SDATAC (the chip wakes up in RDATAC), check the ID
 * register, write CONFIG1..CONFIG3 and CH1SET..CH8SET (shared DIN: both chips
 * of a chain take the same writes), read them back, turn on DC lead-off
 * detection on every input (LOFF = 6 nA at a 95 % threshold, LOFF_SENSP/N,
 * CONFIG4 comparators; read back too: the status word's LOFF_STATP/N bits
 * then flag loose electrodes), RDATAC, START high, and
 * count /DRDY interrupts. A frame is, per chip, 24 status bits (1100 +
 * LOFF_STATP + LOFF_STATN + GPIO) and 8 channels of 24-bit two's complement,
 * MSB first; chip 1's 27 bytes come first.
 *
 * Scaling: volts = code * VREF / (gain * (2^23 - 1)); model units = volts *
 * units_per_volt (from the model manifest: the units the model was trained
 * in per volt at the electrode).
 */
#ifndef MYOEDGE_AFE_ADS1298_H
#define MYOEDGE_AFE_ADS1298_H

#include <stdint.h>

#define ADS1298_CHANNELS 8u
#define ADS1298_MAX_CHIPS 2u
#define ADS1298_FRAME_BYTES 27u /* 3 status + 8 x 3 data, per chip */
/* Frames the /DRDY interrupt can hold for the main loop in ISR-read mode
 * (mye_afe_read_in_isr): 64 ms at 1000 SPS. */
#ifndef MYE_AFE_RING_FRAMES
#define MYE_AFE_RING_FRAMES 64u
#endif
#define ADS1298_ID_VALUE 0x92u  /* ID register of an ADS1298: rev 100, bit 4 set, 8 channels (110) */

/* Commands (opcodes). */
#define ADS1298_CMD_WAKEUP 0x02u
#define ADS1298_CMD_STANDBY 0x04u
#define ADS1298_CMD_RESET 0x06u
#define ADS1298_CMD_START 0x08u
#define ADS1298_CMD_STOP 0x0Au
#define ADS1298_CMD_RDATAC 0x10u
#define ADS1298_CMD_SDATAC 0x11u
#define ADS1298_CMD_RDATA 0x12u
#define ADS1298_CMD_RREG 0x20u /* | address; next byte: count - 1 */
#define ADS1298_CMD_WREG 0x40u /* | address; next byte: count - 1, then the values */

/* Registers. */
#define ADS1298_REG_ID 0x00u
#define ADS1298_REG_CONFIG1 0x01u
#define ADS1298_REG_CONFIG2 0x02u
#define ADS1298_REG_CONFIG3 0x03u
#define ADS1298_REG_LOFF 0x04u
#define ADS1298_REG_CH1SET 0x05u /* CH1SET..CH8SET at 0x05..0x0C */
#define ADS1298_REG_LOFF_SENSP 0x0Fu
#define ADS1298_REG_LOFF_SENSN 0x10u
#define ADS1298_REG_CONFIG4 0x17u
#define ADS1298_REG_COUNT 0x1Au

/* Return codes. */
#define MYE_AFE_OK 0
#define MYE_AFE_NO_FRAME 0           /* mye_afe_poll: nothing new */
#define MYE_AFE_FRAME 1              /* mye_afe_poll: out[] holds a new sample */
#define MYE_AFE_ERR_ARG (-1)         /* unsupported chips / gain / rate / NULL */
#define MYE_AFE_ERR_ID (-2)          /* ID register is not an ADS1298's */
#define MYE_AFE_ERR_CONFIG (-3)      /* register read-back differs from what was written */
#define MYE_AFE_ERR_FRAME (-4)       /* a frame's status word does not start with 1100 */
#define MYE_AFE_ERR_OVERRUN (-5)     /* /DRDY came again before the last frame was read */

typedef struct {
    uint32_t chips;           /* 1 (8 channels) or 2 (16, daisy chain) */
    uint32_t sample_rate_hz;  /* 250 (low-power mode) or 500..32000 (high-resolution) */
    uint32_t gain;            /* PGA gain: 1, 2, 3, 4, 6, 8 or 12 */
    uint32_t vref_4v;         /* 0: VREF = 2.4 V, 1: VREF = 4.0 V (needs AVDD >= 4.75 V) */
    float units_per_volt;     /* model input units per volt at the electrodes */
} mye_afe_config_t;

typedef struct {
    mye_afe_config_t config;
    float units_per_code;      /* VREF / (gain * (2^23 - 1)) * units_per_volt */
    uint8_t registers[ADS1298_REG_COUNT]; /* what was written (chip 1 read-back) */
    volatile uint32_t drdy_count;  /* /DRDY edges seen (interrupt) */
    uint32_t frames_read;
    uint32_t overruns;         /* frames lost: /DRDY came again before the last was read */
    uint32_t frame_errors;     /* frames read with a bad status word (dropped) */
    uint32_t status[ADS1298_MAX_CHIPS]; /* last status word per chip (lead-off, GPIO) */
    uint32_t read_in_isr;      /* 1: the /DRDY interrupt reads each frame into ring[] */
    volatile uint32_t ring_head; /* frames the interrupt stored (written by the interrupt) */
    uint32_t ring_tail;          /* frames mye_afe_poll took */
    uint8_t ring[MYE_AFE_RING_FRAMES][ADS1298_MAX_CHIPS * ADS1298_FRAME_BYTES];
} mye_afe_t;

/* Configure the chip(s) and start continuous conversion. */
int mye_afe_init(mye_afe_t *afe, const mye_afe_config_t *config);
/* (On MYE_AFE_ERR_ID, afe->registers[ADS1298_REG_ID] holds what was read.) */

/* If a /DRDY arrived since the last call, read the frame and write
 * chips * 8 scaled samples to out: MYE_AFE_FRAME, MYE_AFE_NO_FRAME or an
 * error (MYE_AFE_ERR_FRAME: out untouched, counted in frame_errors;
 * MYE_AFE_ERR_OVERRUN: the frame is still read and written, and an earlier
 * one was lost, counted in overruns). Every /DRDY ends up in exactly one
 * of frames_read, overruns, frame_errors. */
int mye_afe_poll(mye_afe_t *afe, float *out);

/* Read every frame in the /DRDY interrupt (1) or in mye_afe_poll (0, the
 * default of a zeroed mye_afe_t). Call it before mye_afe_init, whose /DRDY
 * interrupt may fire as soon as it returns; the setting stays until changed.
 * Reading in the interrupt
 * keeps frames while the main loop runs a long inference: a frame is then
 * lost (an overrun) only when MYE_AFE_RING_FRAMES frames wait unread. The
 * board's SPI hooks must be usable from the /DRDY interrupt. */
void mye_afe_read_in_isr(mye_afe_t *afe, uint32_t enable);

/* Read one frame now (RDATAC: just clock it out) and scale it. */
int mye_afe_read_frame(mye_afe_t *afe, float *out);

/* START low, SDATAC, detach /DRDY. */
void mye_afe_stop(mye_afe_t *afe);

/* Sign-extend one 24-bit big-endian code. */
int32_t mye_afe_code24(const uint8_t *bytes);

/* The /DRDY interrupt handler (attached by mye_afe_init). */
void mye_afe_drdy_isr(void);

#endif /* MYOEDGE_AFE_ADS1298_H */
