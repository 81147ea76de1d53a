/*
 * src/port/mps2-an385/cmsdk-uart.c - the CMSDK APB UART driver: UART0's
 * registers under the ring buffers and stream of src/port/uart.c.
 *
 * The CMSDK UART holds one byte each way.  Its RX interrupt (IRQ 0) is
 * raised when a byte arrives; its TX interrupt (IRQ 1) when the byte in
 * the transmitter has gone, i.e. only after a write, never merely because
 * the transmitter is empty, so the first byte of a burst is written by
 * tx_start and each interrupt writes the next.  Both status bits stay set
 * until cleared in INTSTATUS: every handler clears its own first.
 */
#include "port/board.h"
#include "mps2-an385.h"

#define UART(reg) MPS2_REG(MPS2_UART0 + MPS2_UART_##reg)

/* The UART the handlers serve (set by ptio_mps2_uart0_init). */
static struct ptio_uart *uart0;

/* Move received bytes into the ring until the hardware is empty or the
 * ring is full; in the second case stop the RX interrupt.  Masked. */
static void uart0_receive(struct ptio_uart *u)
{
	while (UART(STATE) & MPS2_UART_STATE_RXFULL) {
		if (!ptio_uart_rx_room(u)) {
			UART(CTRL) &= ~MPS2_UART_CTRL_RXIE;
			ptio_uart_rx_stall(u);
			return;
		}
		ptio_uart_rx_put(u, (uint8_t)UART(DATA));
	}
}

void ptio_mps2_uart0_rx_handler(void)
{
	/* Clear first: a byte arriving after the drain raises it again. */
	UART(INTSTATUS) = MPS2_UART_INT_RX;
	uart0_receive(uart0);
}

void ptio_mps2_uart0_tx_handler(void)
{
	int c;

	UART(INTSTATUS) = MPS2_UART_INT_TX;
	c = ptio_uart_tx_take(uart0);
	if (c >= 0)
		UART(DATA) = (uint32_t)c;
}

static void uart0_tx_start(struct ptio_uart *u)
{
	int c = ptio_uart_tx_take(u);

	if (c >= 0)
		UART(DATA) = (uint32_t)c;
}

/* Interrupt first, then drain: a byte landing between the two raises the
 * interrupt, which runs when the caller unmasks. */
static void uart0_rx_resume(struct ptio_uart *u)
{
	UART(CTRL) |= MPS2_UART_CTRL_RXIE;
	uart0_receive(u);
}

static void uart0_putc_polled(struct ptio_uart *u, uint8_t c)
{
	(void)u;
	while (UART(STATE) & MPS2_UART_STATE_TXFULL)
		;
	UART(DATA) = c;
}

static const struct ptio_uart_hw uart0_hw = {
	.tx_start = uart0_tx_start,
	.rx_resume = uart0_rx_resume,
	.putc_polled = uart0_putc_polled,
};

void ptio_mps2_uart0_init(struct ptio_uart *u, struct ptio_port_backend *pb)
{
	ptio_uart_init(u, pb, &uart0_hw);
	uart0 = u;
	UART(BAUDDIV) = MPS2_CORE_HZ / 115200u; /* 217: must be >= 16 */
	UART(INTSTATUS) = MPS2_UART_INT_TX | MPS2_UART_INT_RX;
	UART(CTRL) = MPS2_UART_CTRL_TXEN | MPS2_UART_CTRL_RXEN |
		     MPS2_UART_CTRL_TXIE | MPS2_UART_CTRL_RXIE;
	MPS2_REG(MPS2_NVIC_ISER0) = (1u << MPS2_UART0_RX_IRQ) |
				    (1u << MPS2_UART0_TX_IRQ);
}
