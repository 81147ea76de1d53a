/*
 * src/port/board-common.c - what every board shares: polled messages and
 * the assertion handler that turns a failed PTIO_ASSERT into a message on
 * UART0 and a non-zero exit, so a broken invariant never hangs a test.
 */
#include "board.h"

void ptio_board_puts(const char *s)
{
	struct ptio_uart *u = ptio_board_uart();

	/* A fault may come before ptio_board_init; then there is no one to
	 * tell.  Interrupts are left alone: the caller is about to exit. */
	if (u->hw == NULL || u->ps.pb == NULL)
		return;
	ptio_uart_drain(u);
	while (*s != '\0')
		u->hw->putc_polled(u, (uint8_t)*s++);
}

/* Overrides the core's weak default. */
void ptio_assert_fail(const char *file, int line, const char *expr)
{
	char num[12];
	char *p = num + sizeof(num) - 1;
	unsigned v = line < 0 ? 0u : (unsigned)line;

	*p = '\0';
	do {
		*--p = (char)('0' + v % 10u);
		v /= 10u;
	} while (v != 0 && p > num);
	ptio_board_puts("ptio: assertion failed: ");
	ptio_board_puts(file);
	ptio_board_puts(":");
	ptio_board_puts(p);
	ptio_board_puts(": ");
	ptio_board_puts(expr);
	ptio_board_puts("\n");
	ptio_board_exit(PTIO_BOARD_EXIT_ASSERT);
}
