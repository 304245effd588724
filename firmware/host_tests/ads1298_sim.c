/*
 * ads1298_sim.c - the board's AFE hooks on the host: they drive the chip
 * model (boards/ads1298_model.c, the same source the emulated boards use)
 * and keep simulated time, so tests can check the power-up wait.
 * Link boards/ads1298_model.c with it.
 */
#include "ads1298_sim.h"

#include "board.h"

sim_ads1298_t sim;

void sim_reset_state(uint8_t id) { ads1298_model_init(&sim, id); }

void sim_set_frame(int chip, uint32_t status24, const int32_t codes[8])
{
    ads1298_model_set_frame(&sim, chip, status24, codes);
}

void sim_data_ready(void) { ads1298_model_data_ready(&sim); }

void board_afe_spi_transfer(const uint8_t *tx, uint8_t *rx, size_t len)
{
    for (size_t i = 0; i < len; ++i) {
        uint8_t out = ads1298_model_transfer(&sim, tx != NULL ? tx[i] : 0u);
        if (rx != NULL) {
            rx[i] = out;
        }
    }
}

void board_afe_select(int selected) { ads1298_model_select(&sim, selected); }

void board_afe_start_pin(int level) { sim.start_pin = level; }

void board_afe_reset_pin(int level) { ads1298_model_reset_pin(&sim, level); }

void board_delay_us(uint32_t us) { sim.time_us += (int64_t)us; }

void board_afe_drdy_attach(void (*handler)(void)) { sim.drdy_handler = handler; }
