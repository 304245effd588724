/*
 * mps2-an386 board port (QEMU): CMSDK UART0 for the host link, SysTick under
 * -icount for instruction counts, semihosting exit.
 *
 * Front end: QEMU has no ADS1298, so on this board the front end is a
 * DEVICE MODEL, not hardware: the AFE hooks drive a software model of two
 * daisy-chained ADS1298 on the SPI bus (../ads1298_model.c via ../afe_emulated.c, the same model
 * the host tests use) that produces a deterministic synthetic EMG-like
 * signal. CMSDK APB timer 0 (IRQ 8, 25 MHz) raises /DRDY at the data rate the
 * driver wrote into CONFIG1 while START is high, so the interrupt, the
 * overrun accounting and the SPI reads take their real paths.
 */
#include "board.h"
#include "cortexm.h"
#include "../afe_emulated.h"

#define UART0_BASE 0x40004000u
#define UART_DATA CM_REG(UART0_BASE + 0x00u)
#define UART_STATE CM_REG(UART0_BASE + 0x04u)
#define UART_CTRL CM_REG(UART0_BASE + 0x08u)
#define UART_INTCLEAR CM_REG(UART0_BASE + 0x0Cu)
#define UART_BAUDDIV CM_REG(UART0_BASE + 0x10u)
#define UART_STATE_TX_FULL (1u << 0)
#define UART_STATE_RX_FULL (1u << 1)
#define UART_CTRL_TX_RX_ENABLE 3u
#define UART_CTRL_RX_IRQ_ENABLE (1u << 3)
#define UART_INT_RX (1u << 1)
#define UART0_RX_IRQ 0u /* MPS2 AN386: UART0 RX is IRQ 0, TX IRQ 1 */

#define NVIC_ISER0 CM_REG(0xE000E100u)

#define TIMER0_BASE 0x40000000u /* CMSDK APB timer 0, clocked at 25 MHz */
#define TIMER_CTRL CM_REG(TIMER0_BASE + 0x00u)
#define TIMER_RELOAD CM_REG(TIMER0_BASE + 0x08u)
#define TIMER_VALUE CM_REG(TIMER0_BASE + 0x04u)
#define TIMER_INTCLEAR CM_REG(TIMER0_BASE + 0x0Cu)
#define TIMER_CTRL_ENABLE (1u << 0)
#define TIMER_CTRL_IRQ_ENABLE (1u << 3)
#define TIMER0_IRQ 8u

void board_init(void)
{
    UART_BAUDDIV = 16u; /* minimum legal divider; QEMU ignores the rate */
    UART_CTRL = UART_CTRL_TX_RX_ENABLE | UART_CTRL_RX_IRQ_ENABLE;
    NVIC_ISER0 = 1u << UART0_RX_IRQ;
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

/* The RX interrupt only wakes the core; the byte stays in DATA until read. */
void board_irq_handler(uint32_t irq)
{
    if (irq == UART0_RX_IRQ) {
        UART_INTCLEAR = UART_INT_RX;
    } else if (irq == TIMER0_IRQ) {
        TIMER_INTCLEAR = 1u;
        afe_emulated_conversion_done(); /* new data, /DRDY falls */
    }
}

/*
 * Waits in WFI rather than spinning: under QEMU the emulator delivers the
 * next byte only when the core yields, so a spinning reader takes a main-loop
 * round trip per byte. Interrupts are masked around the check and the WFI so
 * a byte arriving in between still wakes the core (WFI wakes on a pending
 * interrupt even while PRIMASK masks it); SysTick's wrap interrupt bounds the
 * sleep, so the timeout still expires.
 */
int board_uart_read_byte(uint32_t timeout_ms)
{
    uint32_t start = board_millis();
    for (;;) {
        __asm__ volatile("cpsid i" ::: "memory");
        if (UART_STATE & UART_STATE_RX_FULL) {
            __asm__ volatile("cpsie i" ::: "memory");
            return (int)(UART_DATA & 0xFFu);
        }
        if ((uint32_t)(board_millis() - start) >= timeout_ms) {
            __asm__ volatile("cpsie i" ::: "memory");
            return -1;
        }
        __asm__ volatile("wfi" ::: "memory");
        __asm__ volatile("cpsie i" ::: "memory");
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

/* ---- front end: the ADS1298 device model (see the top of this file) ---- */

void board_afe_start_pin(int level)
{
    ads1298_model_t *m = afe_emulated_model();
    TIMER_CTRL = 0u;
    m->start_pin = level;
    uint32_t rate = ads1298_model_rate_hz(m);
    if (level && rate > 0u) {
        TIMER_RELOAD = MYOEDGE_BOARD_CLOCK_HZ / rate - 1u;
        TIMER_VALUE = MYOEDGE_BOARD_CLOCK_HZ / rate - 1u;
        TIMER_INTCLEAR = 1u;
        NVIC_ISER0 = 1u << TIMER0_IRQ;
        TIMER_CTRL = TIMER_CTRL_ENABLE | TIMER_CTRL_IRQ_ENABLE;
    }
}


void board_delay_us(uint32_t us)
{
    uint32_t start = board_cycles();
    /* Instructions stand in for cycles: 1 per ns of virtual time / 2^S. */
    uint32_t wait = us * (1000u >> MYOEDGE_ICOUNT_SHIFT);
    while ((uint32_t)(board_cycles() - start) < wait) {
    }
}
