/*
 * test/firmware-crash.c - firmware that fails on purpose, to show that a
 * fault or a failed assertion ends the emulator with a non-zero status
 * instead of hanging a test.
 *
 * It prints "crash: ready", reads one byte from UART0 and then:
 *   'f'  executes a trap instruction (__builtin_trap: UDF on Cortex-M,
 *        EBREAK on RISC-V): the board's fault handler exits with 3;
 *   'a'  fails a PTIO_ASSERT: the board's ptio_assert_fail exits with 5;
 *   else returns 7 from main.
 */
#include <ptio.h>
#include "port/board.h"

struct crash {
	struct ptio_task task;
	struct ptio_op op;
	uint8_t c;
	int status;
};

static struct crash crash;

static ptio_ssize crash_run(struct ptio_task *task)
{
	struct crash *k = PTIO_CONTAINER_OF(task, struct crash, task);
	struct ptio_uart *u = ptio_board_uart();
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	PTIO_AWAIT(&task->pt, r, ptio_write_all(&k->op, ptio_uart_writer(u),
						"crash: ready\n", 13));
	PTIO_TRY(&task->pt, r);
	PTIO_AWAIT(&task->pt, r,
		   ptio_read_exact(&k->op, ptio_uart_reader(u), &k->c, 1));
	PTIO_TRY(&task->pt, r);
	if (k->c == 'f')
		__builtin_trap();
	PTIO_ASSERT(k->c != 'a');
	k->status = 7;
	PTIO_END(&task->pt);
}

int main(void)
{
	static struct ptio_loop loop;

	ptio_loop_init(&loop, ptio_board_backend());
	ptio_op_init(&crash.op, &crash.task);
	ptio_task_start(&loop, &crash.task, crash_run);
	if (ptio_loop_run(&loop, PTIO_RUN_DEFAULT) != 0)
		return 1;
	return crash.status;
}
