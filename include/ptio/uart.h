/*
 * ptio/uart.h - an interrupt-driven UART as a ptio stream (Ready, Read
 * and Write), shared by every board in src/port.
 *
 * A board's driver owns the registers; this file owns the two ring
 * buffers and the stream.  The split:
 *
 *   interrupt side (the driver's handlers call these):
 *     ptio_uart_rx_room / ptio_uart_rx_put   move a received byte in
 *     ptio_uart_tx_take                      get the next byte to send
 *   thread side (tasks, through the trait objects):
 *     ptio_uart_reader / ptio_uart_writer    Read and Write over the rings
 *   driver hooks (struct ptio_uart_hw), called from thread context with
 *   interrupts masked:
 *     tx_start    the transmitter is idle and the TX ring has bytes
 *     rx_resume   the RX ring has room again after the handler stopped
 *
 * Flow control: when the RX ring is full the driver leaves the byte in
 * the hardware and stops its receive interrupt (ptio_uart_rx_room returned
 * false); the next read that frees room calls rx_resume.  Nothing is lost
 * in software, and under QEMU the backpressure reaches the host's stdin.
 *
 * Rings are single-producer single-consumer: the handler only advances
 * one index, thread code the other.  Thread code reads the handler's index
 * and publishes its own with interrupts masked (the masks are compiler
 * barriers), after copying the bytes, so no `volatile` and no atomics are
 * needed on a single core.
 *
 * Installed by a freestanding build (the porting kit), which puts
 * src/port/uart.c into libptio.a; a host build uses it only in its tests.
 * The ring sizes below are part of struct ptio_uart: a program and the
 * libptio.a it links must agree on them, so a firmware that changes them
 * builds the library with the same -D flags (configure CFLAGS=...).
 */
#ifndef PTIO_UART_H
#define PTIO_UART_H

#include "ptio/port.h"

/* Ring sizes: powers of two, at most 32768. */
#ifndef PTIO_UART_RX_SIZE
#define PTIO_UART_RX_SIZE 64u
#endif
#ifndef PTIO_UART_TX_SIZE
#define PTIO_UART_TX_SIZE 128u
#endif

#ifdef __cplusplus
extern "C" {
#endif

struct ptio_uart;

/* What the board's driver provides. */
struct ptio_uart_hw {
	/* The transmitter is idle and the TX ring holds bytes: start it (send
	 * ptio_uart_tx_take's byte, or enable the TX-empty interrupt). */
	void (*tx_start)(struct ptio_uart *u);
	/* The RX ring has room again after the handler found it full: take
	 * the byte left in the hardware and re-enable the RX interrupt. */
	void (*rx_resume)(struct ptio_uart *u);
	/* Send one byte by polling, interrupts masked: for draining the TX
	 * ring before exit and for fault messages. */
	void (*putc_polled)(struct ptio_uart *u, uint8_t c);
};

struct ptio_uart {
	struct ptio_port_source ps;   /* first: readiness and waiters */
	const struct ptio_uart_hw *hw;
	uint16_t rx_head;             /* written by the handler */
	uint16_t rx_tail;             /* written by readers */
	uint16_t tx_head;             /* written by writers */
	uint16_t tx_tail;             /* written by the handler */
	uint8_t tx_busy;              /* a byte is in the transmitter */
	uint8_t rx_stalled;           /* the handler stopped: RX ring full */
	/* When set, received bytes go into this channel instead of the RX
	 * ring (see ptio_uart_rx_to_chan). */
	struct ptio_port_chan *rx_chan;
	uint8_t rx[PTIO_UART_RX_SIZE];
	uint8_t tx[PTIO_UART_TX_SIZE];
};

/* Initialise U on backend PB with driver hooks HW.  The driver enables
 * its interrupts afterwards. */
void ptio_uart_init(struct ptio_uart *u, struct ptio_port_backend *pb,
		    const struct ptio_uart_hw *hw);

/* The trait objects. */
struct ptio_read ptio_uart_reader(struct ptio_uart *u);
struct ptio_write ptio_uart_writer(struct ptio_uart *u);

/*
 * Send received bytes (uint8_t items) into the channel bound by PC
 * instead of the RX ring: the receive handler then calls
 * ptio_port_chan_try_send for each byte, and the reader is unused.  Flow
 * control stays: while the channel is full the byte stays in the
 * hardware and the receive interrupt is stopped; the task that receives
 * from the channel calls ptio_uart_rx_resume after each receive (it
 * costs a masked test when nothing is stalled).  Bytes the ring received
 * before the call go to the channel first, in order.  Thread context.
 * NULL goes back to the ring.
 */
void ptio_uart_rx_to_chan(struct ptio_uart *u, struct ptio_port_chan *pc);

/* Restart a receiver that stopped because its ring or channel was full,
 * if it did and there is room now.  Thread context. */
void ptio_uart_rx_resume(struct ptio_uart *u);

/* ---- Interrupt side ------------------------------------------------------ */

/* True when the RX ring can take a byte.  When it returns false the
 * driver must leave the byte in the hardware, stop its RX interrupt, and
 * call ptio_uart_rx_stall. */
bool ptio_uart_rx_room(const struct ptio_uart *u);

/* Store a received byte (ptio_uart_rx_room must have said yes) and report
 * READABLE. */
void ptio_uart_rx_put(struct ptio_uart *u, uint8_t c);

/* Note that the driver stopped receiving because the ring was full. */
void ptio_uart_rx_stall(struct ptio_uart *u);

/* The next byte to transmit, or -1 when the TX ring is empty (the
 * transmitter is then idle: tx_start will be called for the next write).
 * Reports WRITABLE when it frees the first slot of a full ring and when the
 * ring empties (what a flush waits for). */
int ptio_uart_tx_take(struct ptio_uart *u);

/* ---- Thread side, outside the loop --------------------------------------- */

/* Send every queued byte by polling, with interrupts masked: before the
 * program exits, so no output is lost. */
void ptio_uart_drain(struct ptio_uart *u);

#ifdef __cplusplus
}
#endif

#endif /* PTIO_UART_H */
