/*
 * startup.h - what startup.c shares with the rest of the firmware: the fault
 * report record and its hook, the IRQ hook, exit codes.
 */
#ifndef MYOEDGE_STARTUP_H
#define MYOEDGE_STARTUP_H

#include <stdint.h>

/* External interrupt vectors in the table (enough for STM32F4: 91 + spare). */
#ifndef MYE_IRQ_VECTORS
#define MYE_IRQ_VECTORS 128
#endif

/* Exit codes passed to board_exit(). */
#define MYE_EXIT_OK 0
#define MYE_EXIT_FAULT 3

typedef struct {
    uint32_t exception;  /* IPSR number: 3 HardFault, 4 MemManage, 5 BusFault, 6 UsageFault */
    uint32_t exc_return; /* LR on exception entry */
    uint32_t stacked[8]; /* r0, r1, r2, r3, r12, lr, pc, xpsr */
    uint32_t cfsr, hfsr, bfar, mmfar;
} mye_fault_info_t;

/* Report a fault over the link. The default (weak) writes one text line
 * "!FAULT exc=... pc=... cfsr=..."; the protocol layer may override it with a
 * framed error. Runs in the fault handler: polled I/O only. */
void mye_fault_report(const mye_fault_info_t *fault);

/* Deepest main-stack use since reset (bytes), from the stack painted at
 * reset: a measured figure for the size report / INFO, next to the
 * reserved size. */
uint32_t mye_stack_used_bytes(void);
uint32_t mye_stack_size_bytes(void);

/* Called with the external IRQ number for every enabled interrupt; boards
 * that use interrupts override this weak default. */
void board_irq_handler(uint32_t irq);

#endif /* MYOEDGE_STARTUP_H */
