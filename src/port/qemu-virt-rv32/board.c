/*
 * src/port/qemu-virt-rv32/board.c - the port hooks for QEMU's RISC-V virt
 * machine (rv32imac, machine mode): ticks from the CLINT's mtime, a
 * tickless idle hook that programs mtimecmp for the deadline, mstatus.MIE
 * as the interrupt mask, and the test device to leave the emulator.
 *
 * Divided into: the port hooks, the trap handler, reset, and the board
 * functions of src/port/board.h.
 *
 * Unlike the Cortex-M board there is no periodic tick: a tick is 1 ms of
 * mtime (10 MHz), read on demand, and the idle hook arms the timer
 * interrupt only for the loop's deadline.  wfi with mstatus.MIE clear
 * still wakes when an interrupt enabled in mie is pending; the trap runs
 * when the backend sets MIE again (see ptio/port.h).
 */
#include "port/board.h"
#include "qemu-virt-rv32.h"

extern uint32_t __bss_start[], __bss_end[];

void ptio_rv32_reset(void) __attribute__((noreturn));
void ptio_rv32_trap(void);

static struct ptio_port_backend backend;
static struct ptio_uart uart0;

/* ---- The port hooks ------------------------------------------------------ */

/* mtime is two 32-bit halves: read high, low, high again until the high
 * half did not move, so a carry between the reads is never mixed in. */
static uint64_t rv_mtime(void)
{
	uint32_t hi, lo;

	do {
		hi = RV_REG32(RV_MTIME + 4);
		lo = RV_REG32(RV_MTIME);
	} while (hi != RV_REG32(RV_MTIME + 4));
	return ((uint64_t)hi << 32) | lo;
}

/* Writing the high half to all ones first keeps the compare from
 * matching a half-written value. */
static void rv_set_mtimecmp(uint64_t when)
{
	RV_REG32(RV_MTIMECMP + 4) = 0xFFFFFFFFu;
	RV_REG32(RV_MTIMECMP) = (uint32_t)when;
	RV_REG32(RV_MTIMECMP + 4) = (uint32_t)(when >> 32);
}

static ptio_tick rv_now(void)
{
	return (ptio_tick)(rv_mtime() / RV_MTIME_PER_TICK);
}

static void rv_idle(ptio_tick now, uint32_t timeout)
{
	(void)now;
	if (timeout != PTIO_WAIT_FOREVER)
		rv_set_mtimecmp(rv_mtime() +
				(uint64_t)timeout * RV_MTIME_PER_TICK);
	__asm volatile("wfi" ::: "memory");
}

static ptio_port_irq_state rv_irq_save(void)
{
	uint32_t mstatus;

	__asm volatile("csrrci %0, mstatus, %1"
		       : "=r"(mstatus)
		       : "i"(RV_MSTATUS_MIE)
		       : "memory");
	return mstatus & RV_MSTATUS_MIE;
}

static void rv_irq_restore(ptio_port_irq_state state)
{
	if (state & RV_MSTATUS_MIE)
		__asm volatile("csrsi mstatus, %0" ::"i"(RV_MSTATUS_MIE)
			       : "memory");
	else
		__asm volatile("csrci mstatus, %0" ::"i"(RV_MSTATUS_MIE)
			       : "memory");
}

static const struct ptio_port_ops rv_port = {
	.version = PTIO_PORT_OPS_VERSION,
	.now = rv_now,
	.idle = rv_idle,
	.irq_save = rv_irq_save,
	.irq_restore = rv_irq_restore,
};

/* ---- Traps --------------------------------------------------------------- */

/* The deadline has passed: the loop will look at its timers.  Disarm, or
 * the (level) timer interrupt would fire again at once. */
void ptio_rv32_timer_handler(void)
{
	rv_set_mtimecmp(UINT64_MAX);
}

static void rv_put_hex(uint32_t v)
{
	char s[11];
	int i;

	s[0] = '0';
	s[1] = 'x';
	for (i = 0; i < 8; i++)
		s[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xFu];
	s[10] = '\0';
	ptio_board_puts(s);
}

static void rv_fault(uint32_t mcause) __attribute__((noreturn));
static void rv_fault(uint32_t mcause)
{
	uint32_t mepc;

	__asm volatile("csrr %0, mepc" : "=r"(mepc));
	ptio_board_puts("ptio: fault: mcause ");
	rv_put_hex(mcause);
	ptio_board_puts(" mepc ");
	rv_put_hex(mepc);
	ptio_board_puts("\n");
	ptio_board_exit(PTIO_BOARD_EXIT_FAULT);
}

static void rv_external(void)
{
	uint32_t irq = RV_REG32(RV_PLIC_CLAIM0);

	if (irq == RV_UART0_IRQ) {
		ptio_rv32_uart0_handler();
	} else if (irq != 0) {
		ptio_board_puts("ptio: unexpected interrupt\n");
		ptio_board_exit(PTIO_BOARD_EXIT_IRQ);
	}
	if (irq != 0)
		RV_REG32(RV_PLIC_CLAIM0) = irq; /* complete */
}

/* Direct-mode trap vector: the attribute saves every register the body
 * uses and returns with mret.  Interrupts are off while it runs. */
__attribute__((interrupt("machine"), aligned(4))) void ptio_rv32_trap(void)
{
	uint32_t mcause;

	__asm volatile("csrr %0, mcause" : "=r"(mcause));
	if (!(mcause & RV_MCAUSE_INTERRUPT))
		rv_fault(mcause);
	mcause &= ~RV_MCAUSE_INTERRUPT;
	if (mcause == RV_IRQ_MTIMER) {
		ptio_rv32_timer_handler();
	} else if (mcause == RV_IRQ_MEXT) {
		rv_external();
	} else {
		ptio_board_puts("ptio: unexpected interrupt\n");
		ptio_board_exit(PTIO_BOARD_EXIT_IRQ);
	}
}

/* ---- Reset --------------------------------------------------------------- */

void ptio_rv32_reset(void)
{
	uint32_t *p;

	for (p = __bss_start; p < __bss_end; p++)
		*p = 0;
	__asm volatile("csrw mtvec, %0" ::"r"((uintptr_t)ptio_rv32_trap));
	ptio_board_init();
	ptio_board_exit(main());
}

/* ---- The board ----------------------------------------------------------- */

void ptio_board_init(void)
{
	ptio_port_backend_init(&backend, &rv_port);
	rv_set_mtimecmp(UINT64_MAX);
	ptio_rv32_uart0_init(&uart0, &backend);
	__asm volatile("csrs mie, %0" ::"r"(RV_MIE_MTIE | RV_MIE_MEIE));
	__asm volatile("csrsi mstatus, %0" ::"i"(RV_MSTATUS_MIE) : "memory");
}

struct ptio_backend *ptio_board_backend(void)
{
	return &backend.base;
}

struct ptio_uart *ptio_board_uart(void)
{
	return &uart0;
}

void ptio_board_exit(int status)
{
	if (uart0.ps.pb != NULL)
		ptio_uart_drain(&uart0);
	RV_REG32(RV_TEST) = status == 0 ? 0x5555u :
			    ((uint32_t)status << 16) | 0x3333u;
	for (;;)
		__asm volatile("wfi");
}
