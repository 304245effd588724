/*
 * cortexm.h - core peripherals every Cortex-M board port shares: SysTick as
 * an extended tick counter, the DWT cycle counter, semihosting exit and
 * system reset. Addresses are the Armv7-M / Armv8-M System Control Space.
 */
#ifndef MYOEDGE_CORTEXM_H
#define MYOEDGE_CORTEXM_H

#include <stdint.h>

#define CM_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* SysTick */
#define CM_SYST_CSR CM_REG(0xE000E010u)
#define CM_SYST_RVR CM_REG(0xE000E014u)
#define CM_SYST_CVR CM_REG(0xE000E018u)
/* System control block */
#define CM_SCB_ICSR CM_REG(0xE000ED04u)
#define CM_SCB_VTOR CM_REG(0xE000ED08u)
#define CM_SCB_AIRCR CM_REG(0xE000ED0Cu)
#define CM_SCB_SHPR3 CM_REG(0xE000ED20u)
#define CM_SCB_CPACR CM_REG(0xE000ED88u)
#define CM_SCB_CFSR CM_REG(0xE000ED28u)
#define CM_SCB_HFSR CM_REG(0xE000ED2Cu)
#define CM_SCB_MMFAR CM_REG(0xE000ED34u)
#define CM_SCB_BFAR CM_REG(0xE000ED38u)
/* Debug: DEMCR.TRCENA gates the DWT */
#define CM_DEMCR CM_REG(0xE000EDFCu)
#define CM_DWT_CTRL CM_REG(0xE0001000u)
#define CM_DWT_CYCCNT CM_REG(0xE0001004u)
#define CM_DWT_LAR CM_REG(0xE0001FB0u)
/* NVIC */
#define CM_NVIC_ISER(n) CM_REG(0xE000E100u + 4u * (uint32_t)(n))
#define CM_NVIC_ICER(n) CM_REG(0xE000E180u + 4u * (uint32_t)(n))

/* Start SysTick on the processor clock, full 24-bit reload, with the wrap
 * interrupt counting the high part. */
void cm_systick_start(void);
/* Ticks since cm_systick_start(), 64 bits (never wraps in practice). */
uint64_t cm_systick_ticks(void);
/* Under QEMU -icount shift=S every instruction advances virtual time by
 * 2^S ns, so ticks of a clock_hz SysTick convert to instructions as
 * ticks * 1e9 / (clock_hz * 2^S). cm_icount_setup() reduces that fraction
 * once; cm_icount_instructions() applies it to cm_systick_ticks(). */
void cm_icount_setup(uint32_t clock_hz, uint32_t icount_shift);
uint64_t cm_icount_instructions(void);
/* Milliseconds of board time from the SysTick count. */
uint32_t cm_systick_millis(uint32_t clock_hz);
/* Enable DWT CYCCNT (real silicon; QEMU 7.2 reads it as 0). */
void cm_dwt_start(void);
/* Semihosting SYS_EXIT_EXTENDED: QEMU exits with `code`. */
void cm_semihosting_exit(int code) __attribute__((noreturn));
/* Request a system reset through AIRCR. */
void cm_system_reset(void) __attribute__((noreturn));

#endif /* MYOEDGE_CORTEXM_H */
