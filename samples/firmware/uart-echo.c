/*
 * samples/firmware/uart-echo.c - a line echo on a microcontroller's UART.
 *
 * It prints "ptio uart-echo ready", then reads lines from UART0 and writes
 * each back prefixed with "echo: "; the line "quit" makes it print "bye"
 * and return 0 from main, which the board turns into the emulator's exit
 * status.  One task does it all:
 *
 *   UART0 (interrupt-driven rings, src/port/uart.c)
 *     -> BufReader (a 32-byte buffer)  -> the lines loop (80-byte lines;
 *        a longer line, or one that is not UTF-8, is reported as
 *        "error: ..." and skipped, never overflowing anything)
 *     -> write_all_vectored of { "echo: ", line, "\n" }
 *
 * Every byte of state lives in `struct echo`, a static: no heap, no
 * stack that survives a suspension.  Build it for any board in src/port
 * (see src/port/local.mk); run it with, for the Cortex-M3 board,
 *
 *   printf 'hello\nquit\n' | qemu-system-arm -M mps2-an385 -nographic \
 *     -monitor none -semihosting-config enable=on,target=native \
 *     -kernel uart-echo.elf
 *
 * (-monitor none: see test/firmware-test.sh for why piped input needs it.)
 */
#include <ptio.h>
#include <ptio/bufread.h>
#include "port/board.h"

#define ECHO_LINE_MAX 80

struct echo {
	struct ptio_task task;
	struct ptio_op op;
	struct ptio_bufreader br;
	struct ptio_lines lines;
	struct ptio_write out;
	struct ptio_iovec iov[3];  /* prefix, line, newline: must outlive
				      the write's suspensions */
	int status;                /* main's return value */
	uint8_t rbuf[32];
	uint8_t line[ECHO_LINE_MAX];
};

static const char banner[] = "ptio uart-echo ready\n";
static const char prefix[] = "echo: ";
static const char error[] = "error: ";
static const char bye[] = "bye\n";

static bool is_quit(const struct ptio_lines *ln)
{
	const uint8_t *d = ptio_lines_data(ln);

	return ptio_lines_len(ln) == 4 && d[0] == 'q' && d[1] == 'u' &&
	       d[2] == 'i' && d[3] == 't';
}

/* Point the three slices at the current line. */
static void echo_prepare(struct echo *e)
{
	e->iov[0] = ptio_iovec_make(prefix, sizeof(prefix) - 1);
	e->iov[1] = ptio_iovec_make(ptio_lines_data(&e->lines),
				    ptio_lines_len(&e->lines));
	e->iov[2] = ptio_iovec_make("\n", 1);
}

/* ... or at the text of an error CODE. */
static void echo_prepare_error(struct echo *e, ptio_ssize code)
{
	const char *text = ptio_strerror(code);
	size_t n = 0;

	while (text[n] != '\0')
		n++;
	e->iov[0] = ptio_iovec_make(error, sizeof(error) - 1);
	e->iov[1] = ptio_iovec_make(text, n);
	e->iov[2] = ptio_iovec_make("\n", 1);
}

static ptio_ssize echo_run(struct ptio_task *task)
{
	struct echo *e = PTIO_CONTAINER_OF(task, struct echo, task);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	PTIO_AWAIT(&task->pt, r, ptio_write_all(&e->op, e->out, banner,
						sizeof(banner) - 1));
	PTIO_TRY(&task->pt, r);
	for (;;) {
		PTIO_AWAIT(&task->pt, r, ptio_lines_next(&e->op, &e->lines));
		/* A line too long or not UTF-8 was skipped: say so, go on. */
		if (r == PTIO_ETOOLONG || r == PTIO_EILSEQ)
			echo_prepare_error(e, r);
		else if (r < 0)
			PTIO_RETURN(&task->pt, r);
		else if (r == 0 || is_quit(&e->lines))
			break;
		else
			echo_prepare(e);
		PTIO_AWAIT(&task->pt, r,
			   ptio_write_all_vectored(&e->op, e->out, e->iov, 3));
		PTIO_TRY(&task->pt, r);
	}
	PTIO_AWAIT(&task->pt, r,
		   ptio_write_all(&e->op, e->out, bye, sizeof(bye) - 1));
	PTIO_TRY(&task->pt, r);
	/* Wait until the last byte has left the UART. */
	PTIO_AWAIT(&task->pt, r, ptio_flush(&e->op, e->out));
	PTIO_TRY(&task->pt, r);
	e->status = 0;
	PTIO_END(&task->pt);
}

int main(void)
{
	static struct ptio_loop loop;
	static struct echo e;
	struct ptio_uart *u = ptio_board_uart();
	ptio_ssize r;

	ptio_loop_init(&loop, ptio_board_backend());
	ptio_bufreader_init(&e.br, ptio_uart_reader(u), e.rbuf, sizeof(e.rbuf));
	ptio_lines_init(&e.lines, ptio_bufreader_bufread(&e.br), e.line,
			sizeof(e.line));
	e.out = ptio_uart_writer(u);
	e.status = 1; /* until the task says otherwise */
	ptio_op_init(&e.op, &e.task);
	ptio_task_start(&loop, &e.task, echo_run);
	r = ptio_loop_run(&loop, PTIO_RUN_DEFAULT);
	return r == 0 ? e.status : 2;
}
