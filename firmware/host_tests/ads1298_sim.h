/*
 * ads1298_sim.h - the simulated ADS1298 pair of the host tests: the one
 * chip model the emulated boards use too (boards/ads1298_model.h), as the
 * global `sim`, behind the board's AFE hooks (ads1298_sim.c).
 */
#ifndef MYOEDGE_ADS1298_SIM_H
#define MYOEDGE_ADS1298_SIM_H

#include <stdint.h>

#include "../boards/ads1298_model.h"

#define SIM_REGS ADS1298_MODEL_REGS
#define SIM_MAX_LOG ADS1298_MODEL_LOG

typedef ads1298_model_t sim_ads1298_t;

extern sim_ads1298_t sim;

void sim_reset_state(uint8_t id);
void sim_set_frame(int chip, uint32_t status24, const int32_t codes[8]);
/* A conversion finished: /DRDY falls (calls the attached handler when START is high). */
void sim_data_ready(void);

#endif /* MYOEDGE_ADS1298_SIM_H */
