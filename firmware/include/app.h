/*
 * app.h - the entry points main() hands control to.
 *
 * main() initialises the board, prints the boot banner, then calls
 * mye_app_run(), which should never return. The protocol dispatcher
 * (src/commands.c) provides the real mye_app_run(); until it is linked in,
 * main.c's weak fallback echoes every received byte back (a link check).
 */
#ifndef MYOEDGE_APP_H
#define MYOEDGE_APP_H

#include <stddef.h>

/* Firmware version string, e.g. "0.1.0". */
#define MYOEDGE_FIRMWARE_VERSION "0.1.0"

/* First bytes a booted board sends, before any protocol frame. The host waits
 * for this line (some emulated UARTs drop bytes sent before they are up). */
#define MYOEDGE_BANNER_PREFIX "myoedge-fw "

void mye_app_run(void);

/* Writes the banner line:
 * "myoedge-fw <version> board=<name> core=<core> clock_hz=<hz> unit=<unit> model=<name|none>\r\n" */
void mye_print_banner(void);

#endif /* MYOEDGE_APP_H */
