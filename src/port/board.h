/*
 * src/port/board.h - what every board in src/port offers the firmware.
 *
 * A board (src/port/mps2-an385, src/port/qemu-virt-rv32) supplies its
 * start-up code, a 1 ms tick, the port hooks of ptio/port.h, a port
 * backend, and UART0 as a ptio stream.  The firmware samples are written
 * against this header only, so the same sample builds for every board.
 *
 * The start-up code calls ptio_board_init() and then main() with
 * interrupts enabled; when main returns, its value becomes the emulator's
 * exit status (through ptio_board_exit).  Faults, interrupts nobody
 * handles and failed assertions print a line on UART0 and exit with:
 */
#ifndef PTIO_SRC_PORT_BOARD_H
#define PTIO_SRC_PORT_BOARD_H

#include "ptio/port.h"
#include "ptio/uart.h"

#define PTIO_BOARD_EXIT_FAULT  3 /* a CPU fault or exception */
#define PTIO_BOARD_EXIT_IRQ    4 /* an interrupt nobody handles */
#define PTIO_BOARD_EXIT_ASSERT 5 /* ptio_assert_fail */

/* Set up the tick, UART0 and the backend.  Called by the start-up code
 * before main. */
void ptio_board_init(void);

/* The board's port backend, to pass to ptio_loop_init. */
struct ptio_backend *ptio_board_backend(void);

/* UART0 as a stream (see ptio/uart.h). */
struct ptio_uart *ptio_board_uart(void);

/* Write S to UART0 by polling, after whatever is queued: for fault and
 * assertion messages, just before ptio_board_exit.  Silent before
 * ptio_board_init. */
void ptio_board_puts(const char *s);

/* Send what UART0 still holds, then stop the emulator with STATUS (0 is
 * success).  Does not return. */
void ptio_board_exit(int status) __attribute__((noreturn));

/* The firmware's entry point. */
int main(void);

#endif /* PTIO_SRC_PORT_BOARD_H */
