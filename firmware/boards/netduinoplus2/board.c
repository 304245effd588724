/*
 * netduinoplus2 board port: STM32F405 (Cortex-M4F).
 *
 * Host link: USART1 on PA9 (TX) / PA10 (RX), 115200 8N1.
 * Clock: QEMU models no RCC (its writes are ignored) and runs the core and
 * SysTick at 168 MHz; on a real STM32F405 this port stays on the 16 MHz HSI
 * (no PLL, nothing to wait for), built with MYOEDGE_BOARD_CLOCK_HZ=16000000.
 * Timing: SysTick under QEMU -icount ("instructions"), DWT CYCCNT on silicon
 * ("cycles"). Watchdog: IWDG on silicon only.
 * Front end: SPI1 (PA5/PA6/PA7), /CS PA4, START PB1, /RESET+/PWDN PB2,
 * /DRDY PB0 (EXTI0) on silicon. Under QEMU (MYOEDGE_QEMU) there is no
 * ADS1298: the front end is a DEVICE MODEL, not hardware - the AFE hooks
 * drive a software model of two daisy-chained ADS1298 on the SPI bus
 * (../ads1298_model.c via ../afe_emulated.c, the host tests' chip model) with a deterministic
 * synthetic signal, and TIM2 (IRQ 28) raises /DRDY at the data rate the
 * driver wrote into CONFIG1 while START is high. Known limit: QEMU 7.2's
 * STM32 timer model does not keep its period (measured: about 8 update
 * interrupts per second instead of 1000), so live mode runs here, with
 * correct predictions, but far below the chip rate; mps2-an386 is the board
 * for live-mode tests.
 */
#include "board.h"
#include "cortexm.h"
#include "startup.h"
#include "../stm32f4.h"
#if defined(MYOEDGE_QEMU)
#include "../afe_emulated.h"
#endif

#define LINK_USART 0x40011000u /* USART1 on APB2 */
#define LINK_BAUD 115200u
#define APB2_HZ 16000000u /* HSI, no prescaler */

#if !defined(MYOEDGE_QEMU)
static void (*drdy_handler)(void);
#endif

void board_init(void)
{
    RCC_AHB1ENR = RCC_AHB1ENR | 3u;        /* GPIOA, GPIOB */
    RCC_APB2ENR = RCC_APB2ENR | (1u << 4); /* USART1 */
    stm32_gpio_mode(GPIOA_BASE, 9u, 2u, 7u);
    stm32_gpio_mode(GPIOA_BASE, 10u, 2u, 7u);
    stm32_usart_init(LINK_USART, APB2_HZ, LINK_BAUD);
    /* AFE control pins: outputs, idle levels (deselected, stopped, in reset). */
    stm32_gpio_write(GPIOA_BASE, 4u, 1);
    stm32_gpio_mode(GPIOA_BASE, 4u, 1u, 0u);
    stm32_gpio_write(GPIOB_BASE, 1u, 0);
    stm32_gpio_mode(GPIOB_BASE, 1u, 1u, 0u);
    stm32_gpio_write(GPIOB_BASE, 2u, 0);
    stm32_gpio_mode(GPIOB_BASE, 2u, 1u, 0u);
    cm_systick_start();
#if defined(MYOEDGE_QEMU)
    cm_icount_setup(MYOEDGE_BOARD_CLOCK_HZ, MYOEDGE_ICOUNT_SHIFT);
#else
    cm_dwt_start();
    stm32_iwdg_start();
#endif
    __asm__ volatile("cpsie i" ::: "memory");
}

void board_uart_write(const uint8_t *data, size_t len)
{
    stm32_usart_write(LINK_USART, data, (uint32_t)len);
}

int board_uart_read_byte(uint32_t timeout_ms)
{
    uint32_t start = board_millis();
    for (;;) {
        int byte = stm32_usart_poll(LINK_USART);
        if (byte >= 0) {
            return byte;
        }
        if ((uint32_t)(board_millis() - start) >= timeout_ms) {
            return -1;
        }
    }
}

#if defined(MYOEDGE_QEMU)
uint32_t board_cycles(void) { return (uint32_t)cm_icount_instructions(); }
const char *board_cycle_unit(void) { return "instructions"; }
void board_watchdog_kick(void) {}
void board_exit(int code) { cm_semihosting_exit(code); }
#else
uint32_t board_cycles(void) { return CM_DWT_CYCCNT; }
const char *board_cycle_unit(void) { return "cycles"; }
void board_watchdog_kick(void) { stm32_iwdg_kick(); }
void board_exit(int code) { (void)code; cm_system_reset(); }
#endif
uint32_t board_clock_hz(void) { return MYOEDGE_BOARD_CLOCK_HZ; }
const char *board_name(void) { return MYOEDGE_BOARD_NAME; }
const char *board_core(void) { return MYOEDGE_BOARD_CORE; }
uint32_t board_millis(void) { return cm_systick_millis(MYOEDGE_BOARD_CLOCK_HZ); }

void board_delay_us(uint32_t us)
{
    uint64_t start = cm_systick_ticks();
    uint64_t wait = (uint64_t)us * (MYOEDGE_BOARD_CLOCK_HZ / 1000000u);
    while (cm_systick_ticks() - start < wait) {
    }
}

#if defined(MYOEDGE_QEMU)
/* ---- front end: the ADS1298 device model (see the top of this file) ---- */

#define TIM2_BASE 0x40000000u
#define TIM2_CR1 CM_REG(TIM2_BASE + 0x00u)
#define TIM2_DIER CM_REG(TIM2_BASE + 0x0Cu)
#define TIM2_SR CM_REG(TIM2_BASE + 0x10u)
#define TIM2_EGR CM_REG(TIM2_BASE + 0x14u)
#define TIM2_PSC CM_REG(TIM2_BASE + 0x28u)
#define TIM2_ARR CM_REG(TIM2_BASE + 0x2Cu)
#define TIM2_IRQ 28u
/* QEMU's STM32F2xx/F4xx timer model counts at 1 GHz; it is driven with no
 * prescaler (the model's alarm ignores PSC when it converts back to time). */
#define QEMU_TIMER_CLOCK_HZ 1000000000u

void board_afe_start_pin(int level)
{
    ads1298_model_t *m = afe_emulated_model();
    TIM2_CR1 = 0u;
    m->start_pin = level;
    uint32_t rate = ads1298_model_rate_hz(m);
    if (level && rate > 0u) {
        RCC_APB1ENR = RCC_APB1ENR | 1u; /* TIM2 */
        TIM2_PSC = 0u;
        TIM2_ARR = QEMU_TIMER_CLOCK_HZ / rate - 1u;
        TIM2_EGR = 1u; /* load PSC */
        TIM2_SR = 0u;
        TIM2_DIER = 1u; /* update interrupt */
        CM_NVIC_ISER(0) = 1u << TIM2_IRQ;
        TIM2_CR1 = 1u;
    }
}


void board_irq_handler(uint32_t irq)
{
    if (irq == TIM2_IRQ) {
        TIM2_SR = 0u;
        afe_emulated_conversion_done(); /* new data, /DRDY falls */
        return;
    }
    CM_NVIC_ICER(irq / 32u) = 1u << (irq % 32u);
}

#else /* real STM32F405: the ADS1298 on SPI1, /DRDY on EXTI0 */

void board_afe_spi_transfer(const uint8_t *tx, uint8_t *rx, size_t len)
{
    static int ready;
    if (!ready) {
        stm32_spi1_init(2u); /* 16 MHz / 8 = 2 MHz */
        ready = 1;
    }
    for (size_t i = 0; i < len; ++i) {
        uint8_t in = stm32_spi1_byte(tx != NULL ? tx[i] : 0u);
        if (rx != NULL) {
            rx[i] = in;
        }
    }
}

void board_afe_select(int selected) { stm32_gpio_write(GPIOA_BASE, 4u, !selected); }
void board_afe_start_pin(int level) { stm32_gpio_write(GPIOB_BASE, 1u, level); }
void board_afe_reset_pin(int level) { stm32_gpio_write(GPIOB_BASE, 2u, level); }

void board_afe_drdy_attach(void (*handler)(void))
{
    drdy_handler = handler;
    stm32_drdy_exti0(handler != NULL);
}

void board_irq_handler(uint32_t irq)
{
    if (irq == EXTI0_IRQ) {
        EXTI_PR = 1u;
        if (drdy_handler != NULL) {
            drdy_handler();
        }
        return;
    }
    CM_NVIC_ICER(irq / 32u) = 1u << (irq % 32u);
}
#endif
