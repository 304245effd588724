/*
 * cortexm.c - SysTick tick counter, DWT, semihosting exit, system reset.
 *
 * SysTick counts down from 0xFFFFFF on the processor clock; its interrupt
 * (once per 2^24 ticks) adds 2^24 to the high part, so cm_systick_ticks()
 * gives a 64-bit count. Under QEMU -icount the count is deterministic.
 * CVR is never written while running (under -icount it would read back 0).
 */
#include "cortexm.h"

#define SYST_ENABLE (1u << 0)
#define SYST_TICKINT (1u << 1)
#define SYST_CLKSOURCE_CPU (1u << 2)
#define SYST_RELOAD 0x00FFFFFFu

/* Ticks accounted for by completed wraps. Each wrap sets COUNTFLAG once and
 * reading CSR clears it, so whoever reads it first (the interrupt or a
 * reader) adds that wrap exactly once. */
static volatile uint64_t systick_base;

static uint64_t systick_sync(void)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
    uint32_t current = CM_SYST_CVR & SYST_RELOAD;
    if ((CM_SYST_CSR >> 16) & 1u) { /* COUNTFLAG: a wrap not yet counted */
        systick_base = systick_base + ((uint64_t)SYST_RELOAD + 1u);
        current = CM_SYST_CVR & SYST_RELOAD;
    }
    uint64_t ticks = systick_base + (uint64_t)(SYST_RELOAD - current);
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
    return ticks;
}

void SysTick_Handler(void)
{
    (void)systick_sync();
}

void cm_systick_start(void)
{
    CM_SYST_CSR = 0u;
    systick_base = 0u;
    CM_SYST_RVR = SYST_RELOAD;
    CM_SYST_CVR = 0u; /* written while stopped: loads RVR on enable */
    /* Lowest priority for SysTick (the wrap count is not time critical). */
    CM_SCB_SHPR3 = (CM_SCB_SHPR3 & 0x00FFFFFFu) | 0xF0000000u;
    CM_SYST_CSR = SYST_ENABLE | SYST_TICKINT | SYST_CLKSOURCE_CPU;
}

uint64_t cm_systick_ticks(void)
{
    return systick_sync();
}

static uint64_t icount_num = 1u;
static uint64_t icount_den = 1u;

void cm_icount_setup(uint32_t clock_hz, uint32_t icount_shift)
{
    uint64_t num = 1000000000ull;
    uint64_t den = (uint64_t)clock_hz << icount_shift;
    uint64_t a = num;
    uint64_t b = den;
    while (b != 0u) { /* greatest common divisor */
        uint64_t r = a % b;
        a = b;
        b = r;
    }
    icount_num = num / a;
    icount_den = den / a;
}

uint64_t cm_icount_instructions(void)
{
    return cm_systick_ticks() * icount_num / icount_den;
}

uint32_t cm_systick_millis(uint32_t clock_hz)
{
    return (uint32_t)(cm_systick_ticks() / (clock_hz / 1000u));
}

void cm_dwt_start(void)
{
    CM_DEMCR = CM_DEMCR | (1u << 24); /* TRCENA */
    CM_DWT_LAR = 0xC5ACCE55u;         /* unlock where a lock exists (M7) */
    CM_DWT_CYCCNT = 0u;
    CM_DWT_CTRL = CM_DWT_CTRL | 1u; /* CYCCNTENA */
}

void cm_semihosting_exit(int code)
{
    /* SYS_EXIT_EXTENDED (0x20) with {ADP_Stopped_ApplicationExit, code}. */
    volatile uint32_t block[2];
    block[0] = 0x20026u;
    block[1] = (uint32_t)code;
    register uint32_t r0 __asm__("r0") = 0x20u;
    register uint32_t r1 __asm__("r1") = (uint32_t)(uintptr_t)block;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) {
    }
}

void cm_system_reset(void)
{
    __asm__ volatile("dsb 0xF" ::: "memory");
    CM_SCB_AIRCR = (0x5FAu << 16) | (1u << 2); /* VECTKEY | SYSRESETREQ */
    __asm__ volatile("dsb 0xF" ::: "memory");
    for (;;) {
    }
}
