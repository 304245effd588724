/*
 * stm32f4.h - the STM32F4 peripherals both STM32 ports use (netduinoplus2 =
 * STM32F405, nucleo-f446re = STM32F446): register addresses from the STM32F4
 * reference manuals, and small helpers for GPIO, USART, SPI1, EXTI and the
 * independent watchdog. Every wait on a status bit is bounded, so a missing
 * or emulated-away peripheral cannot hang the board.
 */
#ifndef MYOEDGE_STM32F4_H
#define MYOEDGE_STM32F4_H

#include <stdint.h>

#include "cortexm.h"

#define RCC_BASE 0x40023800u
#define RCC_CR CM_REG(RCC_BASE + 0x00u)
#define RCC_PLLCFGR CM_REG(RCC_BASE + 0x04u)
#define RCC_CFGR CM_REG(RCC_BASE + 0x08u)
#define RCC_AHB1ENR CM_REG(RCC_BASE + 0x30u)
#define RCC_APB1ENR CM_REG(RCC_BASE + 0x40u)
#define RCC_APB2ENR CM_REG(RCC_BASE + 0x44u)
#define RCC_CSR CM_REG(RCC_BASE + 0x74u)
#define PWR_CR CM_REG(0x40007000u)
#define PWR_CSR CM_REG(0x40007004u)
#define FLASH_ACR CM_REG(0x40023C00u)

#define GPIOA_BASE 0x40020000u
#define GPIOB_BASE 0x40020400u
#define GPIO_MODER(base) CM_REG((base) + 0x00u)
#define GPIO_OSPEEDR(base) CM_REG((base) + 0x08u)
#define GPIO_PUPDR(base) CM_REG((base) + 0x0Cu)
#define GPIO_BSRR(base) CM_REG((base) + 0x18u)
#define GPIO_AFR(base, pin) CM_REG((base) + 0x20u + 4u * ((pin) / 8u))

#define USART_SR(base) CM_REG((base) + 0x00u)
#define USART_DR(base) CM_REG((base) + 0x04u)
#define USART_BRR(base) CM_REG((base) + 0x08u)
#define USART_CR1(base) CM_REG((base) + 0x0Cu)
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TXE (1u << 7)
#define USART_SR_ORE (1u << 3)
#define USART_CR1_RE (1u << 2)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_UE (1u << 13)

#define SPI1_BASE 0x40013000u
#define SPI_CR1 CM_REG(SPI1_BASE + 0x00u)
#define SPI_SR CM_REG(SPI1_BASE + 0x08u)
#define SPI_DR CM_REG(SPI1_BASE + 0x0Cu)

#define SYSCFG_EXTICR1 CM_REG(0x40013808u)
#define EXTI_IMR CM_REG(0x40013C00u)
#define EXTI_FTSR CM_REG(0x40013C0Cu)
#define EXTI_PR CM_REG(0x40013C14u)
#define EXTI0_IRQ 6u

#define IWDG_KR CM_REG(0x40003000u)
#define IWDG_PR CM_REG(0x40003004u)
#define IWDG_RLR CM_REG(0x40003008u)

#define STM32_WAIT_LIMIT 1000000u

/* Pin modes: 0 input, 1 output, 2 alternate function. */
static inline void stm32_gpio_mode(uint32_t base, uint32_t pin, uint32_t mode, uint32_t af)
{
    GPIO_MODER(base) = (GPIO_MODER(base) & ~(3u << (2u * pin))) | (mode << (2u * pin));
    GPIO_OSPEEDR(base) = GPIO_OSPEEDR(base) | (2u << (2u * pin)); /* fast */
    if (mode == 2u) {
        uint32_t shift = 4u * (pin % 8u);
        GPIO_AFR(base, pin) = (GPIO_AFR(base, pin) & ~(0xFu << shift)) | (af << shift);
    }
}

static inline void stm32_gpio_write(uint32_t base, uint32_t pin, int level)
{
    GPIO_BSRR(base) = level ? (1u << pin) : (1u << (pin + 16u));
}

/* Enable a USART at baud from its bus clock (16x oversampling). */
static inline void stm32_usart_init(uint32_t base, uint32_t bus_hz, uint32_t baud)
{
    /* BRR = bus / baud with 4 fraction bits, rounded. */
    USART_BRR(base) = (bus_hz + baud / 2u) / baud;
    USART_CR1(base) = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE;
}

static inline void stm32_usart_write(uint32_t base, const uint8_t *data, uint32_t len)
{
    for (uint32_t i = 0; i < len; ++i) {
        for (uint32_t n = 0; n < STM32_WAIT_LIMIT && !(USART_SR(base) & USART_SR_TXE); ++n) {
        }
        USART_DR(base) = data[i];
    }
}

/* -1 when no byte is waiting; an overrun is cleared (SR then DR read). */
static inline int stm32_usart_poll(uint32_t base)
{
    uint32_t sr = USART_SR(base);
    if (sr & (USART_SR_RXNE | USART_SR_ORE)) {
        uint32_t byte = USART_DR(base) & 0xFFu;
        return (sr & USART_SR_RXNE) ? (int)byte : -1;
    }
    return -1;
}

/* SPI1 master, mode 1 (CPOL 0, CPHA 1), software NSS, clock = bus / 2^(br+1).
 * Pins: PA5 SCK, PA6 MISO, PA7 MOSI (AF5). */
static inline void stm32_spi1_init(uint32_t br)
{
    RCC_AHB1ENR = RCC_AHB1ENR | 1u; /* GPIOA */
    RCC_APB2ENR = RCC_APB2ENR | (1u << 12); /* SPI1 */
    stm32_gpio_mode(GPIOA_BASE, 5u, 2u, 5u);
    stm32_gpio_mode(GPIOA_BASE, 6u, 2u, 5u);
    stm32_gpio_mode(GPIOA_BASE, 7u, 2u, 5u);
    SPI_CR1 = (1u << 0) /* CPHA */ | (1u << 2) /* MSTR */ | ((br & 7u) << 3) | (1u << 8) /* SSI */ | (1u << 9) /* SSM */;
    SPI_CR1 = SPI_CR1 | (1u << 6); /* SPE */
}

static inline uint8_t stm32_spi1_byte(uint8_t out)
{
    for (uint32_t n = 0; n < STM32_WAIT_LIMIT && !(SPI_SR & (1u << 1)); ++n) { /* TXE */
    }
    *(volatile uint8_t *)&SPI_DR = out;
    for (uint32_t n = 0; n < STM32_WAIT_LIMIT && !(SPI_SR & 1u); ++n) { /* RXNE */
    }
    return (uint8_t)(*(volatile uint8_t *)&SPI_DR);
}

/* Falling edge on PB0 -> EXTI0 interrupt (the ADS1298 /DRDY). */
static inline void stm32_drdy_exti0(int enable)
{
    RCC_AHB1ENR = RCC_AHB1ENR | 2u;        /* GPIOB */
    RCC_APB2ENR = RCC_APB2ENR | (1u << 14); /* SYSCFG */
    stm32_gpio_mode(GPIOB_BASE, 0u, 0u, 0u);
    SYSCFG_EXTICR1 = (SYSCFG_EXTICR1 & ~0xFu) | 1u; /* EXTI0 <- port B */
    EXTI_FTSR = EXTI_FTSR | 1u;
    if (enable) {
        EXTI_PR = 1u;
        EXTI_IMR = EXTI_IMR | 1u;
        CM_NVIC_ISER(0) = 1u << EXTI0_IRQ;
    } else {
        EXTI_IMR = EXTI_IMR & ~1u;
        CM_NVIC_ICER(0) = 1u << EXTI0_IRQ;
    }
}

/* Independent watchdog on the ~32 kHz LSI: prescaler /64, reload -> ~2 s. */
static inline void stm32_iwdg_start(void)
{
    IWDG_KR = 0xCCCCu; /* start */
    IWDG_KR = 0x5555u; /* unlock PR / RLR */
    IWDG_PR = 4u;      /* /64: 500 Hz */
    IWDG_RLR = 1000u;  /* 2 s */
    IWDG_KR = 0xAAAAu; /* reload */
}

static inline void stm32_iwdg_kick(void)
{
    IWDG_KR = 0xAAAAu;
}

#endif /* MYOEDGE_STM32F4_H */
