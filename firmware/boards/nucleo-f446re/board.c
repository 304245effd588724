/*
 * nucleo-f446re board port: ST NUCLEO-F446RE (STM32F446RE, Cortex-M4F), real
 * hardware.
 *
 * Clock: 180 MHz from the 16 MHz HSI through the main PLL (M = 16, N = 360,
 * P = 2), voltage scale 1 with over-drive, 5 flash wait states; AHB 180 MHz,
 * APB1 45 MHz, APB2 90 MHz (RM0390, section 6).
 * Host link: USART2 on PA2 (TX) / PA3 (RX), AF7, 115200 8N1, wired to the
 * ST-LINK virtual COM port.
 * Timing: DWT CYCCNT ("cycles"). Watchdog: IWDG, ~2 s, kicked by the main loop.
 * Front end: SPI1 (PA5/PA6/PA7) at 90 MHz / 64 = 1.4 MHz, /CS PA4, START PB1,
 * /RESET+/PWDN PB2, /DRDY PB0 (EXTI0).
 */
#include "board.h"
#include "cortexm.h"
#include "startup.h"
#include "../stm32f4.h"

#define LINK_USART 0x40004400u /* USART2 on APB1 */
#define LINK_BAUD 115200u
#define APB1_HZ 45000000u

static void (*drdy_handler)(void);

static void wait_set(volatile uint32_t *reg, uint32_t mask)
{
    for (uint32_t n = 0; n < STM32_WAIT_LIMIT && (*reg & mask) != mask; ++n) {
    }
}

static void clock_180mhz(void)
{
    RCC_APB1ENR = RCC_APB1ENR | (1u << 28); /* PWR */
    PWR_CR = (PWR_CR & ~(3u << 14)) | (3u << 14); /* VOS = scale 1 */
    RCC_CR = RCC_CR | 1u; /* HSION */
    wait_set(&RCC_CR, 1u << 1);
    /* PLLM = 16 (1 MHz), PLLN = 360 (360 MHz VCO), PLLP = /2 (00), source HSI, PLLQ = 8. */
    RCC_PLLCFGR = 16u | (360u << 6) | (0u << 16) | (0u << 22) | (8u << 24) | (2u << 28);
    RCC_CR = RCC_CR | (1u << 24); /* PLLON */
    PWR_CR = PWR_CR | (1u << 16); /* ODEN */
    wait_set(&PWR_CSR, 1u << 16); /* ODRDY */
    PWR_CR = PWR_CR | (1u << 17); /* ODSWEN */
    wait_set(&PWR_CSR, 1u << 17); /* ODSWRDY */
    wait_set(&RCC_CR, 1u << 25);  /* PLLRDY */
    /* 5 wait states, prefetch, instruction and data caches. */
    FLASH_ACR = 5u | (1u << 8) | (1u << 9) | (1u << 10);
    /* AHB /1, APB1 /4 (101), APB2 /2 (100). */
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 4) | (7u << 10) | (7u << 13))) | (5u << 10) | (4u << 13);
    RCC_CFGR = (RCC_CFGR & ~3u) | 2u; /* SW = PLL */
    for (uint32_t n = 0; n < STM32_WAIT_LIMIT && ((RCC_CFGR >> 2) & 3u) != 2u; ++n) {
    }
}

void board_init(void)
{
    clock_180mhz();
    RCC_AHB1ENR = RCC_AHB1ENR | 3u;         /* GPIOA, GPIOB */
    RCC_APB1ENR = RCC_APB1ENR | (1u << 17); /* USART2 */
    stm32_gpio_mode(GPIOA_BASE, 2u, 2u, 7u);
    stm32_gpio_mode(GPIOA_BASE, 3u, 2u, 7u);
    stm32_usart_init(LINK_USART, APB1_HZ, LINK_BAUD);
    stm32_gpio_write(GPIOA_BASE, 4u, 1);
    stm32_gpio_mode(GPIOA_BASE, 4u, 1u, 0u);
    stm32_gpio_write(GPIOB_BASE, 1u, 0);
    stm32_gpio_mode(GPIOB_BASE, 1u, 1u, 0u);
    stm32_gpio_write(GPIOB_BASE, 2u, 0);
    stm32_gpio_mode(GPIOB_BASE, 2u, 1u, 0u);
    cm_systick_start();
    cm_dwt_start();
    stm32_iwdg_start();
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

uint32_t board_cycles(void) { return CM_DWT_CYCCNT; }
const char *board_cycle_unit(void) { return "cycles"; }
uint32_t board_clock_hz(void) { return MYOEDGE_BOARD_CLOCK_HZ; }
const char *board_name(void) { return MYOEDGE_BOARD_NAME; }
const char *board_core(void) { return MYOEDGE_BOARD_CORE; }
uint32_t board_millis(void) { return cm_systick_millis(MYOEDGE_BOARD_CLOCK_HZ); }
void board_watchdog_kick(void) { stm32_iwdg_kick(); }
void board_exit(int code) { (void)code; cm_system_reset(); }

void board_delay_us(uint32_t us)
{
    uint32_t start = CM_DWT_CYCCNT;
    uint32_t wait = us * (MYOEDGE_BOARD_CLOCK_HZ / 1000000u);
    while ((uint32_t)(CM_DWT_CYCCNT - start) < wait) {
    }
}

void board_afe_spi_transfer(const uint8_t *tx, uint8_t *rx, size_t len)
{
    static int ready;
    if (!ready) {
        stm32_spi1_init(5u); /* 90 MHz / 64 = 1.4 MHz */
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
