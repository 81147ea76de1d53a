/*
 * src/core/ops-ready.c - the provided machines for readiness and time:
 * ptio_wait_ready (the one wait every other machine is built on), ready,
 * ready_until, sleep and sleep_until.
 */
#include <ptio/err.h>
#include <ptio/ops.h>
#include "core/internal.h"

/* Poll O; if it registered TASK, arm the timer for the earlier of WHEN and
 * the task's deadline, or give up with PTIO_ETIMEDOUT (dropping the
 * registration) when that moment has already come. */
static ptio_ssize wait_ready_until(struct ptio_task *task, struct ptio_ready o,
				   unsigned interest, bool has_when,
				   ptio_tick when)
{
	ptio_tick limit;
	ptio_ssize r;

	if (has_when && !(task->flags & PTIO_TASK_TIMED))
		return PTIO_ENOTSUP;
	r = ptio_poll_ready(o, task, interest);
	if (r != PTIO_PENDING)
		return r;
	if (ptio__task_wait_limit(task, has_when, when, &limit)) {
		if (ptio_tick_reached(task->loop->now, limit)) {
			ptio__task_quiesce(task);
			return PTIO_ETIMEDOUT;
		}
		ptio__task_arm(ptio_task_timed(task), limit);
	}
	return PTIO_PENDING;
}

ptio_ssize ptio_wait_ready(struct ptio_task *task, struct ptio_ready o,
			   unsigned interest)
{
	return wait_ready_until(task, o, interest, false, 0);
}

ptio_ssize ptio_ready(struct ptio_op *op, struct ptio_ready o,
		      unsigned interest)
{
	return wait_ready_until(op->task, o, interest, false, 0);
}

ptio_ssize ptio_ready_until(struct ptio_op *op, struct ptio_ready o,
			    unsigned interest, ptio_tick when)
{
	return wait_ready_until(op->task, o, interest, true, when);
}

/* One poll of a sleep that ends at op->p.until. */
static ptio_ssize sleep_poll(struct ptio_op *op)
{
	struct ptio_task *task = op->task;
	ptio_tick limit;

	if (ptio_tick_reached(task->loop->now, op->p.until))
		return 0;
	if (ptio_task_expired(task))
		return PTIO_ETIMEDOUT;
	(void)ptio__task_wait_limit(task, true, op->p.until, &limit);
	ptio__task_arm(ptio_task_timed(task), limit);
	return PTIO_PENDING;
}

ptio_ssize ptio_sleep_until(struct ptio_op *op, ptio_tick when)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&op->pt);
	if (!(op->task->flags & PTIO_TASK_TIMED))
		PTIO_RETURN(&op->pt, PTIO_ENOTSUP);
	op->p.until = when;
	PTIO_AWAIT(&op->pt, r, sleep_poll(op));
	PTIO_END_WITH(&op->pt, r);
}

ptio_ssize ptio_sleep(struct ptio_op *op, uint32_t ticks)
{
	return ptio_sleep_until(op, ptio_tick_after(op->task->loop->now, ticks));
}
