/*
 * board.h - what every board port provides (firmware/boards/<board>/board.c).
 *
 * The rest of the firmware (startup, main loop, protocol, preprocessing, AFE
 * driver) talks to the hardware only through these functions, so a new board
 * is one folder with board.c, board.ld and board.cmake.
 *
 * Timing: board_cycles() is a free-running 32-bit counter; subtract two
 * readings (modulo 2^32) to time a region. Its unit is board_cycle_unit():
 *   "cycles"       - DWT CYCCNT on real silicon (true core clock cycles);
 *   "instructions" - under QEMU with -icount shift=S, SysTick ticks converted
 *                    to executed guest instructions
 *                    (instructions = ticks * 1e9 / (f_systick * 2^S)).
 * Every figure the firmware reports carries that unit.
 */
#ifndef MYOEDGE_BOARD_H
#define MYOEDGE_BOARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Clocks, UART, cycle counter, watchdog. Called once, first thing in main(). */
void board_init(void);

/* Blocking write of len bytes to the host link (UART). */
void board_uart_write(const uint8_t *data, size_t len);

/* Next received byte (0..255), or -1 when none arrived within timeout_ms
 * milliseconds of board time (0 = poll once, do not wait). */
int board_uart_read_byte(uint32_t timeout_ms);

/* Free-running counter in board_cycle_unit() units, wraps modulo 2^32. */
uint32_t board_cycles(void);
const char *board_cycle_unit(void);

/* Core clock in Hz (under QEMU: the emulated SysTick/CPU clock). */
uint32_t board_clock_hz(void);
const char *board_name(void);
const char *board_core(void);

/* Milliseconds since board_init(), from the same counter (wraps). */
uint32_t board_millis(void);

/* Restart the watchdog (no-op on boards without one). */
void board_watchdog_kick(void);

/* End the program: semihosting exit with `code` under QEMU, a system reset on
 * real boards. Never returns. */
void board_exit(int code) __attribute__((noreturn));

/* ---- Analog front end hooks (ADS1298 on SPI), see afe_ads1298.h ---------- */

/* Full-duplex SPI transfer of len bytes (rx may be NULL); mode 1, MSB first.
 * Chip select is driven separately with board_afe_select(). */
void board_afe_spi_transfer(const uint8_t *tx, uint8_t *rx, size_t len);
/* Drive the (shared) /CS line: 1 = selected (low on the wire). */
void board_afe_select(int selected);
/* Drive the START pin: 1 = conversions running. */
void board_afe_start_pin(int level);
/* Drive /RESET and /PWDN: 1 = chip out of reset / powered. */
void board_afe_reset_pin(int level);
/* Busy-wait at least `us` microseconds (datasheet t_POR, t_RST, 4 t_CLK ...). */
void board_delay_us(uint32_t us);
/* Call `handler` from the /DRDY falling-edge interrupt (NULL disables). */
void board_afe_drdy_attach(void (*handler)(void));

#ifdef __cplusplus
}
#endif

#endif /* MYOEDGE_BOARD_H */
