/*
 * src/port/mps2-an385/board.c - the port hooks for QEMU's mps2-an385: a
 * SysTick 1 ms tick, PRIMASK as the interrupt mask, WFI as the idle hook,
 * and semihosting to leave the emulator with a status.
 *
 * The idle hook sleeps with one WFI: SysTick interrupts every millisecond
 * and ends the sleep, so the deadline needs no timer of its own (the loop
 * calls the hook again until its next timer is due).  PRIMASK is set while
 * it sleeps; WFI still wakes on a pending interrupt, whose handler runs
 * when the backend restores PRIMASK (see ptio/port.h).
 */
#include "port/board.h"
#include "mps2-an385.h"

static volatile uint32_t ticks;
static struct ptio_port_backend backend;
static struct ptio_uart uart0;

void ptio_mps2_systick_handler(void)
{
	ticks++;
}

/* ---- The port hooks ------------------------------------------------------ */

static ptio_tick mps2_now(void)
{
	return ticks;
}

static void mps2_idle(ptio_tick now, uint32_t timeout)
{
	(void)now;
	(void)timeout;
	__asm volatile("dsb\n\twfi" ::: "memory");
}

static ptio_port_irq_state mps2_irq_save(void)
{
	uint32_t primask;

	__asm volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
	return primask;
}

static void mps2_irq_restore(ptio_port_irq_state state)
{
	__asm volatile("msr primask, %0" ::"r"(state) : "memory");
}

static const struct ptio_port_ops mps2_port = {
	.version = PTIO_PORT_OPS_VERSION,
	.now = mps2_now,
	.idle = mps2_idle,
	.irq_save = mps2_irq_save,
	.irq_restore = mps2_irq_restore,
};

/* ---- The board ----------------------------------------------------------- */

void ptio_board_init(void)
{
	ptio_port_backend_init(&backend, &mps2_port);
	ptio_mps2_uart0_init(&uart0, &backend);
	MPS2_REG(MPS2_SYST_RVR) = MPS2_CORE_HZ / 1000u - 1u;
	MPS2_REG(MPS2_SYST_CVR) = 0;
	MPS2_REG(MPS2_SYST_CSR) = MPS2_SYST_CSR_RUN;
	__asm volatile("cpsie i" ::: "memory");
}

struct ptio_backend *ptio_board_backend(void)
{
	return &backend.base;
}

struct ptio_uart *ptio_board_uart(void)
{
	return &uart0;
}

/* Semihosting SYS_EXIT_EXTENDED (0x20): r1 points at the reason
 * ADP_Stopped_ApplicationExit (0x20026) and the status.  QEMU needs
 * -semihosting-config enable=on,target=native for BKPT 0xAB.  The
 * register variables are set right before the asm: a call in between
 * would clobber them. */
static void semihost_exit(uint32_t status) __attribute__((noreturn));
static void semihost_exit(uint32_t status)
{
	static uint32_t block[2];

	block[0] = 0x20026u;
	block[1] = status;
	{
		register uint32_t r0 __asm("r0") = 0x20u;
		register uint32_t *r1 __asm("r1") = block;

		__asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
	}
	for (;;)
		__asm volatile("wfi");
}

void ptio_board_exit(int status)
{
	if (uart0.ps.pb != NULL)
		ptio_uart_drain(&uart0);
	semihost_exit((uint32_t)status);
}
