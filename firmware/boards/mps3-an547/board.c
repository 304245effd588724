/*
 * mps3-an547 board port (QEMU, Cortex-M55, secure state): CMSDK UART0 for the host link, SysTick under
 * -icount for instruction counts, semihosting exit. No front end: the AFE
 * hooks are inert (no SPI on this machine), DRDY never fires, and LIVE start
 * is refused with AFE_ABSENT (the ID register reads 0). The ADS1298 device
 * model (../ads1298_model.c) runs on mps2-an386 and netduinoplus2; it is not
 * wired here because this port has no timer driver yet for /DRDY (the
 * SSE-300's timers differ from the CMSDK APB timer the MPS2 uses).
 */
#include "board.h"
#include "cortexm.h"

#define UART0_BASE 0x59303000u
#define UART_DATA CM_REG(UART0_BASE + 0x00u)
#define UART_STATE CM_REG(UART0_BASE + 0x04u)
#define UART_CTRL CM_REG(UART0_BASE + 0x08u)
#define UART_BAUDDIV CM_REG(UART0_BASE + 0x10u)
#define UART_STATE_TX_FULL (1u << 0)
#define UART_STATE_RX_FULL (1u << 1)
#define UART_CTRL_TX_RX_ENABLE 3u

void board_init(void)
{
    UART_BAUDDIV = 16u; /* minimum legal divider; QEMU ignores the rate */
    UART_CTRL = UART_CTRL_TX_RX_ENABLE;
    cm_icount_setup(MYOEDGE_BOARD_CLOCK_HZ, MYOEDGE_ICOUNT_SHIFT);
    cm_systick_start();
    __asm__ volatile("cpsie i" ::: "memory");
}

void board_uart_write(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; ++i) {
        while (UART_STATE & UART_STATE_TX_FULL) {
        }
        UART_DATA = data[i];
    }
}

int board_uart_read_byte(uint32_t timeout_ms)
{
    uint32_t start = board_millis();
    for (;;) {
        if (UART_STATE & UART_STATE_RX_FULL) {
            return (int)(UART_DATA & 0xFFu);
        }
        if ((uint32_t)(board_millis() - start) >= timeout_ms) {
            return -1;
        }
    }
}

uint32_t board_cycles(void) { return (uint32_t)cm_icount_instructions(); }
const char *board_cycle_unit(void) { return "instructions"; }
uint32_t board_clock_hz(void) { return MYOEDGE_BOARD_CLOCK_HZ; }
const char *board_name(void) { return MYOEDGE_BOARD_NAME; }
const char *board_core(void) { return MYOEDGE_BOARD_CORE; }
uint32_t board_millis(void) { return cm_systick_millis(MYOEDGE_BOARD_CLOCK_HZ); }
void board_watchdog_kick(void) {}
void board_exit(int code) { cm_semihosting_exit(code); }

void board_afe_spi_transfer(const uint8_t *tx, uint8_t *rx, size_t len)
{
    (void)tx;
    for (size_t i = 0; rx != NULL && i < len; ++i) {
        rx[i] = 0u;
    }
}
void board_afe_select(int selected) { (void)selected; }
void board_afe_start_pin(int level) { (void)level; }
void board_afe_reset_pin(int level) { (void)level; }
void board_afe_drdy_attach(void (*handler)(void)) { (void)handler; }

void board_delay_us(uint32_t us)
{
    uint32_t start = board_cycles();
    /* Instructions stand in for cycles: 1 per ns of virtual time / 2^S. */
    uint32_t wait = us * (1000u >> MYOEDGE_ICOUNT_SHIFT);
    while ((uint32_t)(board_cycles() - start) < wait) {
    }
}
