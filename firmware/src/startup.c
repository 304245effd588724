/*
 * startup.c - vector table, reset handler and fault reporting, shared by all
 * boards (the memory layout comes from the board's board.ld).
 *
 * Reset: copy .data from flash, zero .bss, enable the FPU when the build uses
 * it, point VTOR at our table, run main(). Every external interrupt goes to
 * one handler that passes the IRQ number to board_irq_handler(), which a
 * board overrides when it uses interrupts (DRDY of the front end).
 * HardFault / MemManage / BusFault / UsageFault print the stacked registers
 * and fault status over the link (mye_fault_report, which the protocol layer
 * may override to send a framed error) and then end the run with
 * board_exit(MYE_EXIT_FAULT).
 */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "cortexm.h"
#include "startup.h"

/* Symbols from the linker script (firmware/boards/common_sections.ld). */
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _sstack, _estack;

#define STACK_PAINT 0xA5A5A5A5u

int main(void);

void Reset_Handler(void) __attribute__((noreturn));
void Default_Handler(void);
void Fault_Handler(void) __attribute__((naked));
void SysTick_Handler(void);

__attribute__((weak)) void board_irq_handler(uint32_t irq)
{
    /* An interrupt nobody enabled: disable it so it cannot storm. */
    CM_NVIC_ICER(irq / 32u) = 1u << (irq % 32u);
}

void Default_Handler(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    uint32_t exception = ipsr & 0x1FFu;
    if (exception >= 16u) {
        board_irq_handler(exception - 16u);
    }
}

__attribute__((section(".isr_vector"), used)) void (*const mye_vector_table[16 + MYE_IRQ_VECTORS])(void) = {
    [0] = (void (*)(void))(uintptr_t)&_estack,
    [1] = Reset_Handler,
    [2] = Default_Handler, /* NMI */
    [3] = Fault_Handler,   /* HardFault */
    [4] = Fault_Handler,   /* MemManage */
    [5] = Fault_Handler,   /* BusFault */
    [6] = Fault_Handler,   /* UsageFault */
    [7] = Fault_Handler,   /* SecureFault (Armv8-M) */
    [11] = Default_Handler, /* SVCall */
    [12] = Default_Handler, /* DebugMon */
    [14] = Default_Handler, /* PendSV */
    [15] = SysTick_Handler,
    [16 ... 16 + MYE_IRQ_VECTORS - 1] = Default_Handler,
};

void Reset_Handler(void)
{
    /* Paint the unused stack so mye_stack_used_bytes() can find the
     * high-water mark (stop 64 bytes below this frame). */
    uint32_t here;
    for (uint32_t *word = &_sstack; word < (uint32_t *)((uintptr_t)&here - 64u); ++word) {
        *word = STACK_PAINT;
    }
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata; ++dst, ++src) {
        *dst = *src;
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss; ++dst) {
        *dst = 0u;
    }
#if defined(__ARM_FP)
    /* Full access to CP10 and CP11 (the FPU). */
    CM_SCB_CPACR = CM_SCB_CPACR | (0xFu << 20);
    __asm__ volatile("dsb 0xF\n isb 0xF" ::: "memory");
#endif
    CM_SCB_VTOR = (uint32_t)(uintptr_t)mye_vector_table;
    __asm__ volatile("dsb 0xF\n isb 0xF" ::: "memory");
    int code = main();
    board_exit(code);
}

uint32_t mye_stack_used_bytes(void)
{
    const uint32_t *word = &_sstack;
    while (word < &_estack && *word == STACK_PAINT) {
        ++word;
    }
    return (uint32_t)((uintptr_t)&_estack - (uintptr_t)word);
}

uint32_t mye_stack_size_bytes(void)
{
    return (uint32_t)((uintptr_t)&_estack - (uintptr_t)&_sstack);
}

/* ---- fault reporting --------------------------------------------------- */

static char *put_hex(char *out, uint32_t value)
{
    static const char digits[] = "0123456789abcdef";
    for (int shift = 28; shift >= 0; shift -= 4) {
        *out++ = digits[(value >> (uint32_t)shift) & 0xFu];
    }
    return out;
}

static char *put_text(char *out, const char *text)
{
    while (*text != '\0') {
        *out++ = *text++;
    }
    return out;
}

__attribute__((weak)) void mye_fault_report(const mye_fault_info_t *fault)
{
    static const char *const names[8] = {"r0", "r1", "r2", "r3", "r12", "lr", "pc", "xpsr"};
    char line[256];
    char *out = put_text(line, "\r\n!FAULT exc=");
    out = put_hex(out, fault->exception);
    for (int i = 0; i < 8; ++i) {
        *out++ = ' ';
        out = put_text(out, names[i]);
        *out++ = '=';
        out = put_hex(out, fault->stacked[i]);
    }
    out = put_text(out, " cfsr=");
    out = put_hex(out, fault->cfsr);
    out = put_text(out, " hfsr=");
    out = put_hex(out, fault->hfsr);
    out = put_text(out, " bfar=");
    out = put_hex(out, fault->bfar);
    out = put_text(out, " mmfar=");
    out = put_hex(out, fault->mmfar);
    out = put_text(out, "\r\n");
    board_uart_write((const uint8_t *)line, (size_t)(out - line));
}

void mye_fault_dispatch(const uint32_t *frame, uint32_t exc_return) __attribute__((used, noreturn));
void mye_fault_dispatch(const uint32_t *frame, uint32_t exc_return)
{
    mye_fault_info_t fault;
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    fault.exception = ipsr & 0x1FFu;
    fault.exc_return = exc_return;
    for (int i = 0; i < 8; ++i) {
        fault.stacked[i] = frame[i];
    }
    fault.cfsr = CM_SCB_CFSR;
    fault.hfsr = CM_SCB_HFSR;
    fault.bfar = CM_SCB_BFAR;
    fault.mmfar = CM_SCB_MMFAR;
    mye_fault_report(&fault);
    board_exit(MYE_EXIT_FAULT);
}

void Fault_Handler(void)
{
    /* Pick the stack the faulting code used (EXC_RETURN bit 2) and hand the
     * frame to C. */
    __asm__ volatile(
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "mov r1, lr\n"
        "b mye_fault_dispatch\n");
}
