/*
 * ads1298_model.h - a software model of two daisy-chained ADS1298 chips on
 * the SPI bus: the host tests' simulated chip (host_tests/ads1298_sim.c)
 * and the emulated boards' front end (QEMU has no ADS1298) are this one
 * source.
 *
 * It decodes the byte stream as the chip does (opcodes; RREG/WREG with their
 * count byte; RDATAC / SDATAC, register commands ignored in RDATAC), clocks
 * out data frames (chip 1's 27 bytes, then chip 2's) in RDATAC, and can
 * synthesise a deterministic EMG-like signal (ads1298_model_synthesize):
 *
 *   after every chip reset: state = 0x2545F491, frame n = 0;
 *   per frame n, for k = 0..15 (chip 1's channels 0..7, then chip 2's):
 *     state = xorshift32(state)   (x ^= x << 13; x ^= x >> 17; x ^= x << 5)
 *     code[k] = ((int32)(state >> 20) - 2048) * (1 + ((n / 256) * 5 + 3 * k) % 8)
 *   status word 0xC00000 (no lead-off) on both chips.
 *
 * so bursts of noise of 8 amplitudes change every 256 frames and channel.
 * tests/test_firmware_live.py mirrors it in Python.
 */
#ifndef MYOEDGE_ADS1298_MODEL_H
#define MYOEDGE_ADS1298_MODEL_H

#include <stdint.h>

#define ADS1298_MODEL_REGS 0x1A
#define ADS1298_MODEL_LOG 64
#define ADS1298_MODEL_SEED 0x2545F491u
#define ADS1298_MODEL_FRAME_BYTES 54

enum { ADS1298_EXPECT_OPCODE = 0, ADS1298_EXPECT_COUNT, ADS1298_EXPECT_WRITE, ADS1298_EXPECT_READ };

typedef struct {
    uint8_t id;
    uint8_t regs[2][ADS1298_MODEL_REGS];
    int rdatac;
    int selected, start_pin, reset_pin, powered;
    int expect, remaining, reg_write;
    uint8_t reg_address;
    int refuse_writes;                      /* fault injection: registers keep their values */
    uint8_t frame[ADS1298_MODEL_FRAME_BYTES]; /* what the bus clocks out: chip 1 then chip 2 */
    uint8_t next_frame[ADS1298_MODEL_FRAME_BYTES]; /* a conversion that ended during a read */
    int next_pending;
    int frame_pos;
    uint8_t commands[ADS1298_MODEL_LOG];
    int command_count;
    int ignored_in_rdatac;
    int bytes_without_cs;
    int reset_pulses;
    int64_t time_us, powered_at_us, first_command_us, last_command_us;
    uint32_t noise_state;                   /* synthesised signal */
    uint32_t frames_made;
    void (*drdy_handler)(void);
} ads1298_model_t;

/* Power-on state (chip in RDATAC, registers at their defaults). */
void ads1298_model_init(ads1298_model_t *m, uint8_t id);
/* One byte on the bus while /CS is low (or not): returns what DOUT carries. */
uint8_t ads1298_model_transfer(ads1298_model_t *m, uint8_t in);
void ads1298_model_select(ads1298_model_t *m, int selected);
void ads1298_model_reset_pin(ads1298_model_t *m, int level);
/* Put a frame on the bus for one chip (0 or 1). */
void ads1298_model_set_frame(ads1298_model_t *m, int chip, uint32_t status24, const int32_t codes[8]);
/* The next frame of the synthetic signal (see above), latched at once or,
 * if a read is under way, when /CS rises. */
void ads1298_model_synthesize(ads1298_model_t *m);
/* A conversion finished: /DRDY falls (calls the attached handler when START is high). */
void ads1298_model_data_ready(ads1298_model_t *m);
/* Data rate the registers select (CONFIG1), in samples per second. */
uint32_t ads1298_model_rate_hz(const ads1298_model_t *m);

#endif /* MYOEDGE_ADS1298_MODEL_H */
