/*
 * ads1298_sim.h - state of the simulated ADS1298 pair (ads1298_sim.c).
 */
#ifndef MYOEDGE_ADS1298_SIM_H
#define MYOEDGE_ADS1298_SIM_H

#include <stdint.h>

#define SIM_REGS 0x1A
#define SIM_MAX_LOG 64

enum { SIM_EXPECT_OPCODE = 0, SIM_EXPECT_COUNT, SIM_EXPECT_WRITE, SIM_EXPECT_READ };

typedef struct {
    uint8_t id;
    uint8_t regs[2][SIM_REGS];
    int rdatac;
    int selected, start_pin, reset_pin, powered;
    int expect, remaining, reg_write;
    uint8_t reg_address;
    int refuse_writes;            /* fault injection: registers keep their values */
    uint8_t frame[54];            /* chip 1 then chip 2 */
    int frame_pos;
    uint8_t commands[SIM_MAX_LOG];
    int command_count;
    int ignored_in_rdatac;
    int bytes_without_cs;
    int reset_pulses;
    int64_t time_us, powered_at_us, first_command_us, last_command_us;
    void (*drdy_handler)(void);
} sim_ads1298_t;

extern sim_ads1298_t sim;

void sim_reset_state(uint8_t id);
void sim_set_frame(int chip, uint32_t status24, const int32_t codes[8]);
/* A conversion finished: /DRDY falls (calls the attached handler when START is high). */
void sim_data_ready(void);

#endif /* MYOEDGE_ADS1298_SIM_H */
