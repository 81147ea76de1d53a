/*
 * src/port/uart.c - an interrupt-driven UART as a ptio stream (see
 * ptio/uart.h).
 *
 * Divided into: the interrupt side, the thread side (Ready, Read, Write,
 * flush), and setup.  Index arithmetic is free-running uint16_t: the
 * count in a ring is (head - tail) modulo 2^16, and sizes are powers of
 * two no larger than 2^15, so it never overflows.
 */
#include "ptio/uart.h"

#define RX_MASK (PTIO_UART_RX_SIZE - 1u)
#define TX_MASK (PTIO_UART_TX_SIZE - 1u)

PTIO_STATIC_ASSERT((PTIO_UART_RX_SIZE & RX_MASK) == 0 &&
			   PTIO_UART_RX_SIZE <= 32768u,
		   uart_rx_size_power_of_two);
PTIO_STATIC_ASSERT((PTIO_UART_TX_SIZE & TX_MASK) == 0 &&
			   PTIO_UART_TX_SIZE <= 32768u,
		   uart_tx_size_power_of_two);

static uint16_t ring_count(uint16_t head, uint16_t tail)
{
	return (uint16_t)(head - tail);
}

static ptio_port_irq_state uart_mask(const struct ptio_uart *u)
{
	return u->ps.pb->ops->irq_save();
}

static void uart_unmask(const struct ptio_uart *u, ptio_port_irq_state s)
{
	u->ps.pb->ops->irq_restore(s);
}

/* ---- Interrupt side ------------------------------------------------------ */

static bool uart_chan_room(const struct ptio_uart *u)
{
	return ptio_chan_len(u->rx_chan->chan) < u->rx_chan->chan->cap;
}

bool ptio_uart_rx_room(const struct ptio_uart *u)
{
	/* Bytes that reached the ring before it was bound to a channel go
	 * to the channel first (ptio_uart_rx_resume moves them). */
	if (u->rx_chan != NULL)
		return u->rx_head == u->rx_tail && uart_chan_room(u);
	return ring_count(u->rx_head, u->rx_tail) < PTIO_UART_RX_SIZE;
}

void ptio_uart_rx_put(struct ptio_uart *u, uint8_t c)
{
	/* rx_room said yes, and only handlers send into the channel, so
	 * this send cannot fail. */
	if (u->rx_chan != NULL) {
		(void)ptio_port_chan_try_send(u->rx_chan, &c);
		return;
	}
	u->rx[u->rx_head & RX_MASK] = c;
	u->rx_head++;
	ptio_port_source_ready(&u->ps, PTIO_READABLE);
}

void ptio_uart_rx_stall(struct ptio_uart *u)
{
	u->rx_stalled = 1;
}

int ptio_uart_tx_take(struct ptio_uart *u)
{
	uint16_t n = ring_count(u->tx_head, u->tx_tail);
	int c;

	if (n == 0) {
		u->tx_busy = 0;
		ptio_port_source_ready(&u->ps, PTIO_WRITABLE);
		return -1;
	}
	c = u->tx[u->tx_tail & TX_MASK];
	u->tx_tail++;
	/* A writer may be waiting only if the ring was full. */
	if (n == PTIO_UART_TX_SIZE)
		ptio_port_source_ready(&u->ps, PTIO_WRITABLE);
	return c;
}

/* ---- Thread side --------------------------------------------------------- */

static ptio_ssize uart_poll_ready(void *self, struct ptio_task *task,
				  unsigned interest)
{
	struct ptio_uart *u = self;

	return ptio_source_poll(&u->ps.src, task, interest);
}

static ptio_ssize uart_nb_read_buf(void *self, struct ptio_readbuf *rb)
{
	struct ptio_uart *u = self;
	ptio_port_irq_state s;
	uint8_t *dst = ptio_readbuf_unfilled(rb);
	size_t room = ptio_readbuf_remaining(rb);
	uint16_t head, tail = u->rx_tail;
	size_t n = 0;

	if (room == 0)
		return 0;
	s = uart_mask(u);
	head = u->rx_head;
	uart_unmask(u, s);
	/* The handler writes only at head and beyond, never in [tail, head),
	 * and the new tail is published masked, after the copy. */
	while (n < room && tail != head) {
		dst[n++] = u->rx[tail & RX_MASK];
		tail++;
	}
	if (n == 0) {
		/* A byte that arrived after the snapshot has reported READABLE
		 * as pending, so clearing the cache here cannot lose it: the
		 * loop delivers it again. */
		ptio_source_clear(&u->ps.src, PTIO_READABLE);
		return PTIO_WOULD_BLOCK;
	}
	s = uart_mask(u);
	u->rx_tail = tail;
	uart_unmask(u, s);
	ptio_uart_rx_resume(u);
	return ptio_readbuf_advance(rb, n);
}

/* Move bytes the ring holds into the bound channel while it has room;
 * interrupts masked. */
static void uart_rx_flush(struct ptio_uart *u)
{
	uint8_t c;

	while (u->rx_chan != NULL && u->rx_head != u->rx_tail &&
	       uart_chan_room(u)) {
		c = u->rx[u->rx_tail & RX_MASK];
		u->rx_tail++;
		(void)ptio_port_chan_try_send(u->rx_chan, &c);
	}
}

void ptio_uart_rx_resume(struct ptio_uart *u)
{
	ptio_port_irq_state s = uart_mask(u);

	uart_rx_flush(u);
	if (u->rx_stalled && ptio_uart_rx_room(u)) {
		u->rx_stalled = 0;
		u->hw->rx_resume(u);
	}
	uart_unmask(u, s);
}

void ptio_uart_rx_to_chan(struct ptio_uart *u, struct ptio_port_chan *pc)
{
	ptio_port_irq_state s = uart_mask(u);

	u->rx_chan = pc;
	uart_rx_flush(u);
	uart_unmask(u, s);
}

/* Start the transmitter if the handler left it idle; interrupts masked. */
static void uart_kick(struct ptio_uart *u)
{
	if (!u->tx_busy && u->tx_head != u->tx_tail) {
		u->tx_busy = 1;
		u->hw->tx_start(u);
	}
}

static ptio_ssize uart_nb_write(void *self, const void *buf, size_t len)
{
	struct ptio_uart *u = self;
	const uint8_t *src = buf;
	ptio_port_irq_state s;
	uint16_t tail, head = u->tx_head;
	size_t n = 0;

	if (len == 0)
		return 0;
	s = uart_mask(u);
	tail = u->tx_tail;
	uart_unmask(u, s);
	/* The handler reads only in [tail, head); the new head is published
	 * masked, after the bytes are in place. */
	while (n < len && ring_count(head, tail) < PTIO_UART_TX_SIZE) {
		u->tx[head & TX_MASK] = src[n++];
		head++;
	}
	if (n == 0) {
		ptio_source_clear(&u->ps.src, PTIO_WRITABLE);
		return PTIO_WOULD_BLOCK;
	}
	s = uart_mask(u);
	u->tx_head = head;
	uart_kick(u);
	uart_unmask(u, s);
	return (ptio_ssize)n;
}

/* Done when the last byte has left the transmitter; until then wait for
 * the WRITABLE that ptio_uart_tx_take reports when the ring empties. */
static ptio_ssize uart_nb_flush(void *self)
{
	struct ptio_uart *u = self;
	ptio_port_irq_state s;
	bool idle;

	s = uart_mask(u);
	idle = !u->tx_busy;
	uart_unmask(u, s);
	if (idle)
		return 0;
	ptio_source_clear(&u->ps.src, PTIO_WRITABLE);
	return PTIO_WOULD_BLOCK;
}

static const struct ptio_read_vt uart_read_vt = {
	.ready = { .poll_ready = uart_poll_ready },
	.nb_read_buf = uart_nb_read_buf,
};

static const struct ptio_write_vt uart_write_vt = {
	.ready = { .poll_ready = uart_poll_ready },
	.nb_write = uart_nb_write,
	.nb_flush = uart_nb_flush,
};

struct ptio_read ptio_uart_reader(struct ptio_uart *u)
{
	struct ptio_read r;

	r.self = u;
	r.vt = &uart_read_vt;
	return r;
}

struct ptio_write ptio_uart_writer(struct ptio_uart *u)
{
	struct ptio_write w;

	w.self = u;
	w.vt = &uart_write_vt;
	return w;
}

void ptio_uart_drain(struct ptio_uart *u)
{
	ptio_port_irq_state s = uart_mask(u);
	int c;

	while ((c = ptio_uart_tx_take(u)) >= 0)
		u->hw->putc_polled(u, (uint8_t)c);
	uart_unmask(u, s);
}

/* ---- Setup --------------------------------------------------------------- */

void ptio_uart_init(struct ptio_uart *u, struct ptio_port_backend *pb,
		    const struct ptio_uart_hw *hw)
{
	ptio_port_source_init(&u->ps, pb, PTIO_WRITABLE);
	u->hw = hw;
	u->rx_head = u->rx_tail = 0;
	u->tx_head = u->tx_tail = 0;
	u->tx_busy = 0;
	u->rx_stalled = 0;
	u->rx_chan = NULL;
}
