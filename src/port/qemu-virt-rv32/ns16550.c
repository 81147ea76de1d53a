/*
 * src/port/qemu-virt-rv32/ns16550.c - the ns16550 UART driver: UART0's
 * registers under the ring buffers and stream of src/port/uart.c.
 *
 * The FIFOs stay off, so the UART holds one byte each way.  Both
 * interrupts reach the CPU through the PLIC as IRQ 10.  The transmit
 * interrupt ("holding register empty") is level-like: it stays asserted
 * while enabled and the register is empty, so it is enabled only while the
 * TX ring has bytes (tx_start enables it, the handler disables it when the
 * ring is empty).  The receive interrupt is dropped while the RX ring is
 * full and re-enabled by rx_resume; it is level-triggered too, so a byte
 * left waiting raises it again at once.
 */
#include "port/board.h"
#include "qemu-virt-rv32.h"

#define UART(reg) RV_REG8(RV_UART0 + RV_UART_##reg)

static struct ptio_uart *uart0;

static void uart0_receive(struct ptio_uart *u)
{
	while (UART(LSR) & RV_UART_LSR_DR) {
		if (!ptio_uart_rx_room(u)) {
			UART(IER) = (uint8_t)(UART(IER) & ~RV_UART_IER_RDI);
			ptio_uart_rx_stall(u);
			return;
		}
		ptio_uart_rx_put(u, UART(RBR));
	}
}

static void uart0_transmit(struct ptio_uart *u)
{
	int c;

	if (!(UART(LSR) & RV_UART_LSR_THRE))
		return;
	c = ptio_uart_tx_take(u);
	if (c >= 0)
		UART(THR) = (uint8_t)c;
	else
		UART(IER) = (uint8_t)(UART(IER) & ~RV_UART_IER_THRI);
}

/* Serve every cause the UART reports, then return to the PLIC. */
void ptio_rv32_uart0_handler(void)
{
	uint8_t iir;

	while (!((iir = UART(IIR)) & RV_UART_IIR_NONE)) {
		if ((iir & RV_UART_IIR_ID) == RV_UART_IIR_THRI)
			uart0_transmit(uart0);
		else
			uart0_receive(uart0);
		/* A full RX ring leaves data pending with its interrupt off;
		 * the IIR then stops reporting it, which ends this loop. */
	}
}

static void uart0_tx_start(struct ptio_uart *u)
{
	(void)u;
	UART(IER) = (uint8_t)(UART(IER) | RV_UART_IER_THRI);
}

static void uart0_rx_resume(struct ptio_uart *u)
{
	(void)u;
	UART(IER) = (uint8_t)(UART(IER) | RV_UART_IER_RDI);
}

static void uart0_putc_polled(struct ptio_uart *u, uint8_t c)
{
	(void)u;
	while (!(UART(LSR) & RV_UART_LSR_THRE))
		;
	UART(THR) = c;
}

static const struct ptio_uart_hw uart0_hw = {
	.tx_start = uart0_tx_start,
	.rx_resume = uart0_rx_resume,
	.putc_polled = uart0_putc_polled,
};

void ptio_rv32_uart0_init(struct ptio_uart *u, struct ptio_port_backend *pb)
{
	ptio_uart_init(u, pb, &uart0_hw);
	uart0 = u;
	UART(LCR) = 0x03;  /* 8N1 */
	UART(FCR) = 0x00;  /* no FIFOs */
	UART(MCR) = 0x0B;  /* DTR, RTS, OUT2 (the interrupt gate on PCs) */
	UART(IER) = RV_UART_IER_RDI;
	RV_REG32(RV_PLIC_PRIORITY(RV_UART0_IRQ)) = 1;
	RV_REG32(RV_PLIC_ENABLE0) |= 1u << RV_UART0_IRQ;
	RV_REG32(RV_PLIC_THRESHOLD0) = 0;
}
