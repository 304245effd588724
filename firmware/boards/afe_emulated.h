/*
 * afe_emulated.h - the board hooks of the front end on emulated boards.
 *
 * QEMU has no ADS1298. The boards it emulates wire the driver's board hooks
 * (board.h: board_afe_spi_transfer, board_afe_select, board_afe_reset_pin,
 * board_afe_drdy_attach) to one software model of two daisy-chained ADS1298
 * (ads1298_model.c), defined once in afe_emulated.c. What differs per board
 * stays in its board.c: board_afe_start_pin starts the board's own timer at
 * the data rate the driver wrote into CONFIG1, and that timer's interrupt
 * calls afe_emulated_conversion_done().
 */
#ifndef MYOEDGE_AFE_EMULATED_H
#define MYOEDGE_AFE_EMULATED_H

#include "ads1298_model.h"

/* The chip model (an ADS1298's ID), initialised on first use. */
ads1298_model_t *afe_emulated_model(void);

/* A conversion ends: new synthetic data, /DRDY falls (call from the data-rate timer's interrupt). */
void afe_emulated_conversion_done(void);

#endif /* MYOEDGE_AFE_EMULATED_H */
