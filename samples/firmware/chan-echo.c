/*
 * samples/firmware/chan-echo.c - bytes from the UART's receive interrupt
 * to a task, through a bounded channel.
 *
 * The UART's receive handler does not fill the UART's own ring here: it
 * sends each byte into a channel of CHAN_CAP bytes with
 * ptio_port_chan_try_send, which never blocks and is safe in a handler
 * (ptio/port.h, section 4); the loop's next wait hands the bytes to the
 * task blocked in ptio_chan_recv, through the same lost-wakeup-safe path
 * every interrupt takes.  While the channel is full the byte stays in the
 * UART and its interrupt is stopped (src/port/uart.h,
 * ptio_uart_rx_to_chan); the task restarts it after each receive, so no
 * byte is lost however fast input arrives.
 *
 *   UART0 RX interrupt -> channel (16 bytes) -> "upper" task
 *     -> upper-cases the line, writes "> LINE\n" with write_all
 *
 * It prints "ptio chan-echo ready"; the line "quit" makes it print how
 * many bytes went through the channel and return 0.  Lines longer than
 * LINE_MAX are cut.  Build and run like uart-echo.c.
 */
#include <ptio.h>
#include <ptio/fmt.h>
#include "port/board.h"

#define CHAN_CAP 16
#define LINE_MAX 64

struct upper {
	struct ptio_task task;
	struct ptio_waiter w;        /* the channel wait */
	struct ptio_op op;           /* the writes */
	struct ptio_chan *ch;
	struct ptio_uart *u;
	struct ptio_write out;
	uint8_t c;                   /* the byte being received */
	size_t len;
	unsigned long bytes;
	int status;                  /* main's return value */
	uint8_t line[2 + LINE_MAX + 1]; /* "> " LINE "\n" */
};

static const char banner[] = "ptio chan-echo ready\n";

static bool is_quit(const struct upper *up)
{
	const uint8_t *d = up->line + 2;

	return up->len == 4 && d[0] == 'Q' && d[1] == 'U' && d[2] == 'I' &&
	       d[3] == 'T';
}

/* Add byte C to the line; true when the line is complete. */
static bool upper_take(struct upper *up, uint8_t c)
{
	up->bytes++;
	if (c == '\n') {
		up->line[2 + up->len] = '\n';
		return true;
	}
	if (c >= 'a' && c <= 'z')
		c = (uint8_t)(c - 'a' + 'A');
	if (up->len < LINE_MAX)
		up->line[2 + up->len++] = c;
	return false;
}

static ptio_ssize upper_run(struct ptio_task *task)
{
	struct upper *up = PTIO_CONTAINER_OF(task, struct upper, task);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	PTIO_AWAIT(&task->pt, r, ptio_write_all(&up->op, up->out, banner,
						sizeof(banner) - 1));
	PTIO_TRY(&task->pt, r);
	for (;;) {
		PTIO_AWAIT(&task->pt, r, ptio_chan_recv(&up->w, up->ch, &up->c));
		PTIO_TRY(&task->pt, r);
		/* A place is free in the channel: restart the receiver if
		 * the handler had to stop it. */
		ptio_uart_rx_resume(up->u);
		if (!upper_take(up, up->c))
			continue;
		if (is_quit(up))
			break;
		PTIO_AWAIT(&task->pt, r, ptio_write_all(&up->op, up->out,
							up->line, up->len + 3));
		PTIO_TRY(&task->pt, r);
		up->len = 0;
	}
	PTIO_AWAIT(&task->pt, r,
		   ptio_write_fmt(&up->op, up->out,
				  "bye: %lu bytes through the channel\n",
				  up->bytes));
	PTIO_TRY(&task->pt, r);
	PTIO_AWAIT(&task->pt, r, ptio_flush(&up->op, up->out));
	PTIO_TRY(&task->pt, r);
	up->status = 0;
	PTIO_END(&task->pt);
}

int main(void)
{
	static struct ptio_loop loop;
	static struct upper up;
	static struct ptio_chan ch;
	static struct ptio_port_chan pc;
	static uint8_t ring[CHAN_CAP];
	struct ptio_backend *be = ptio_board_backend();
	struct ptio_uart *u = ptio_board_uart();
	ptio_ssize r;

	ptio_loop_init(&loop, be);
	ptio_chan_init(&ch, ring, 1, CHAN_CAP);
	ptio_port_chan_init(&pc, u->ps.pb, &ch);
	ptio_uart_rx_to_chan(u, &pc);
	up.ch = &ch;
	up.u = u;
	up.out = ptio_uart_writer(u);
	up.line[0] = '>';
	up.line[1] = ' ';
	up.status = 1; /* until the task says otherwise */
	ptio_waiter_init(&up.w, &up.task);
	ptio_op_init(&up.op, &up.task);
	ptio_task_start(&loop, &up.task, upper_run);
	r = ptio_loop_run(&loop, PTIO_RUN_DEFAULT);
	return r == 0 ? up.status : 2;
}
