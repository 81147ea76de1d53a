/*
 * test/fake/op-task.c - a task that awaits one call (see op-task.h).
 */
#include "test/fake/op-task.h"

static ptio_ssize op_task_fn(struct ptio_task *task)
{
	struct op_task *t = PTIO_CONTAINER_OF(task, struct op_task, tt.task);
	ptio_ssize r;

	t->runs++;
	PTIO_BEGIN(&task->pt);
	t->started = ptio_loop_now(task->loop);
	if (t->has_deadline)
		ptio_task_set_timeout(&t->tt, t->deadline_in);
	ptio_op_init(&t->op, task);
	PTIO_AWAIT(&task->pt, r, t->call(t));
	t->result = r;
	t->at = ptio_loop_now(task->loop);
	t->regs_after = ptio_loop_registrations(task->loop);
	t->finished = true;
	PTIO_END(&task->pt);
}

void op_task_start(struct ptio_loop *loop, struct op_task *t,
		   op_task_call call)
{
	t->call = call;
	t->runs = 0;
	t->finished = false;
	t->result = PTIO_PENDING;
	if (t->plain)
		ptio_task_start(loop, &t->tt.task, op_task_fn);
	else
		ptio_timed_task_start(loop, &t->tt, op_task_fn);
}
