/*
 * afe_emulated.c - the front end's board hooks on emulated boards: every SPI
 * byte, chip select, reset and /DRDY goes to the ADS1298 device model (see
 * afe_emulated.h). Linked by the emulated boards' board.cmake; compiled only
 * under QEMU (MYOEDGE_QEMU), so a port that also runs on silicon (netduinoplus2)
 * keeps its real SPI hooks there.
 */
#include "afe_emulated.h"

#include "board.h"

#if defined(MYOEDGE_QEMU)

#define ADS1298_ID 0x92u /* ID register of an ADS1298 */

static ads1298_model_t chip_model;
static int chip_model_ready;

ads1298_model_t *afe_emulated_model(void)
{
    if (!chip_model_ready) {
        ads1298_model_init(&chip_model, ADS1298_ID);
        chip_model_ready = 1;
    }
    return &chip_model;
}

void afe_emulated_conversion_done(void)
{
    ads1298_model_synthesize(afe_emulated_model());
    ads1298_model_data_ready(afe_emulated_model());
}

void board_afe_spi_transfer(const uint8_t *tx, uint8_t *rx, size_t len)
{
    for (size_t i = 0; i < len; ++i) {
        uint8_t out = ads1298_model_transfer(afe_emulated_model(), tx != NULL ? tx[i] : 0u);
        if (rx != NULL) {
            rx[i] = out;
        }
    }
}

void board_afe_select(int selected)
{
    uint32_t primask; /* the timer interrupt touches the model too; callable from the /DRDY handler */
    __asm__ volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
    ads1298_model_select(afe_emulated_model(), selected);
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
}

void board_afe_reset_pin(int level) { ads1298_model_reset_pin(afe_emulated_model(), level); }

void board_afe_drdy_attach(void (*handler)(void)) { afe_emulated_model()->drdy_handler = handler; }

#endif /* MYOEDGE_QEMU */
