/*
 * src/port/mps2-an385/startup.c - vector table, reset and fault handlers
 * for QEMU's mps2-an385 (Cortex-M3).
 *
 * Divided into: the handlers, the reset sequence (copy .data, zero .bss,
 * board init, main, exit), and the vector table itself.  Every fault and
 * every interrupt without a handler prints a line and exits the emulator
 * with a non-zero status, so a crash never hangs a test.
 */
#include "port/board.h"
#include "mps2-an385.h"

/* Symbols of mps2-an385.ld. */
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[], __stack_top[];

void ptio_mps2_reset(void) __attribute__((noreturn));

/* ---- Handlers ------------------------------------------------------------ */

static void fault(const char *what) __attribute__((noreturn));
static void fault(const char *what)
{
	ptio_board_puts("ptio: fault: ");
	ptio_board_puts(what);
	ptio_board_puts("\n");
	ptio_board_exit(PTIO_BOARD_EXIT_FAULT);
}

static void nmi_handler(void)
{
	fault("NMI");
}

static void hard_fault_handler(void)
{
	fault("HardFault");
}

static void mem_manage_handler(void)
{
	fault("MemManage");
}

static void bus_fault_handler(void)
{
	fault("BusFault");
}

static void usage_fault_handler(void)
{
	fault("UsageFault");
}

static void unexpected_handler(void)
{
	ptio_board_puts("ptio: unexpected interrupt\n");
	ptio_board_exit(PTIO_BOARD_EXIT_IRQ);
}

/* ---- Reset --------------------------------------------------------------- */

void ptio_mps2_reset(void)
{
	uint32_t *src = __data_load, *dst = __data_start;

	while (dst < __data_end)
		*dst++ = *src++;
	for (dst = __bss_start; dst < __bss_end; dst++)
		*dst = 0;
	/* Make the configurable faults report as themselves rather than
	 * escalate to HardFault, so the message names the real cause. */
	MPS2_REG(MPS2_SCB_SHCSR) |= MPS2_SHCSR_FAULTS_ENABLE;
	ptio_board_init();
	ptio_board_exit(main());
}

/* ---- The vector table ---------------------------------------------------- */

typedef void (*vector)(void);

#define MPS2_NUM_IRQ 32

/* The initial stack pointer is an address, not code; the cast is what
 * every Cortex-M vector table does.  UART0 takes external interrupts 0
 * and 1; every other one is unexpected. */
__attribute__((section(".vectors"), used))
static const vector vectors[16 + MPS2_NUM_IRQ] = {
	[0] = (vector)(uintptr_t)__stack_top,
	[1] = ptio_mps2_reset,
	[2] = nmi_handler,
	[3] = hard_fault_handler,
	[4] = mem_manage_handler,
	[5] = bus_fault_handler,
	[6] = usage_fault_handler,
	[11] = unexpected_handler,               /* SVCall */
	[12] = unexpected_handler,               /* DebugMonitor */
	[14] = unexpected_handler,               /* PendSV */
	[15] = ptio_mps2_systick_handler,
	[16 + MPS2_UART0_RX_IRQ] = ptio_mps2_uart0_rx_handler,
	[16 + MPS2_UART0_TX_IRQ] = ptio_mps2_uart0_tx_handler,
	[16 + 2 ... 16 + MPS2_NUM_IRQ - 1] = unexpected_handler,
};
