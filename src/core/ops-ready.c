/*
 * src/core/ops-ready.c - the provided machines for readiness and time:
 * wait_ready (the wait every other machine is built on), ready,
 * ready_until, sleep and sleep_until.
 */
#include "core/internal.h"

/* ---- Waiting for readiness ---------------------------------------------- */

ptio_ssize ptio__wait_until(struct ptio_task *task, struct ptio_ready o,
			    unsigned interest, bool has_when, ptio_tick when)
{
	ptio_tick limit;
	ptio_ssize r;

	r = ptio_poll_ready(o, task, interest);
	if (r != PTIO_PENDING)
		return r;
	if (ptio__task_wait_limit(task, has_when, when, &limit)) {
		if (ptio_tick_reached(task->loop->now, limit)) {
			ptio__task_quiesce(task);
			return PTIO_ETIMEDOUT;
		}
		ptio__task_arm(PTIO__TIMED(task), limit);
	}
	return PTIO_PENDING;
}

/* The general case of ptio_wait_ready: spend (which delivers an abort and
 * yields on an empty budget), then poll with the deadline in mind. */
static PTIO__NOINLINE ptio_ssize wait_ready_slow(struct ptio_task *task, struct ptio_ready o,
				  unsigned interest)
{
	ptio_ssize r = ptio_task_spend(task);

	if (r != 0)
		return r;
	return ptio__wait_until(task, o, interest, false, 0);
}

/*
 * The hot path, taken by every message of a busy stream: the running task,
 * with budget left, no deadline and no abort pending, waits for READ or
 * WRITE on an open stream whose readiness is its source's cache (its
 * vtable's poll_ready is ptio_source_poll_ready).  Then spending is one
 * decrement, a cached answer costs no call, and a wait is the three
 * stores of ptio_source_poll's registration when the backend needs no
 * word of it (an edge-triggered backend, or none); a level-triggered
 * one's is a tail call of ptio_source_poll.  Anything else goes the
 * general way, also a tail call: this function saves no registers.
 */
ptio_ssize (ptio_wait_ready)(struct ptio_task *task, struct ptio_ready o,
			     unsigned interest)
{
	struct ptio_loop *loop = task->loop;
	struct ptio_source *src = o.self;
	unsigned answer, slot = interest - 1u;

	if (o.vt->poll_ready != ptio_source_poll_ready || loop == NULL ||
	    loop->current != task || loop->budget == 0 ||
	    (task->flags & PTIO__TASK_DEADLINE) ||
	    (task->readiness & PTIO__TASK_ABORT) || /* spend delivers it */
	    slot > 1u || (src->flags & PTIO_SOURCE_CLOSED))
		return wait_ready_slow(task, o, interest);
	answer = src->ready & (interest | PTIO_HUP | PTIO_ERROR);
	if (answer != 0) {
		loop->budget--;
		return (ptio_ssize)answer;
	}
	loop->budget--;
	/* A level-triggered backend hears of the new waiter, and the rare
	 * cases (a task queued already, a slot taken) have their answers:
	 * ptio_source_poll gives them all. */
	if ((task->flags & (PTIO__TASK_QUEUED | PTIO__TASK_WOKEN)) ||
	    task->u.source != NULL || src->waiter[slot] != NULL ||
	    (src->flags & (PTIO_SOURCE_BACKEND | PTIO_SOURCE_EDGE)) ==
		    PTIO_SOURCE_BACKEND)
		return ptio_source_poll(src, task, interest);
	src->waiter[slot] = task;
	task->u.source = src;
	loop->nwaits++;
	return PTIO_PENDING;
}

ptio_ssize ptio_ready(struct ptio_op *op, struct ptio_ready o,
		      unsigned interest)
{
	return ptio_wait_ready(op->task, o, interest);
}

/* One poll of ready_until, whose moment is latched in op->p.until. */
static ptio_ssize ready_until_poll(struct ptio_op *op, struct ptio_ready o,
				   unsigned interest)
{
	ptio_ssize r = ptio_task_spend(op->task);

	if (r != 0)
		return r;
	if (ptio_tick_reached(op->task->loop->now, op->p.until))
		return PTIO_ETIMEDOUT;
	return ptio__wait_until(op->task, o, interest, true, op->p.until);
}

ptio_ssize ptio_ready_until(struct ptio_op *op, struct ptio_ready o,
			    unsigned interest, ptio_tick when)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&op->pt);
	if (!(op->task->flags & PTIO__TASK_TIMED))
		PTIO_RETURN(&op->pt, PTIO_ENOTSUP);
	op->p.until = when;
	PTIO_AWAIT(&op->pt, r, ready_until_poll(op, o, interest));
	PTIO_END_WITH(&op->pt, r);
}

/* ---- Sleeping ----------------------------------------------------------- */

/* One poll of a sleep that ends at op->p.until.  A sleep that is over
 * wins over a deadline that passed at the same time (not over an abort,
 * which spend has consumed); it still spends, so a loop of zero-tick
 * sleeps yields like any other. */
static ptio_ssize sleep_poll(struct ptio_op *op)
{
	struct ptio_task *task = op->task;
	ptio_ssize r = ptio_task_spend(task);
	ptio_tick limit;

	if (r == PTIO_PENDING || r == PTIO_ECANCELED) /* abort wins */
		return r;
	if (ptio_tick_reached(task->loop->now, op->p.until))
		return 0;
	if (r < 0)
		return r;
	(void)ptio__task_wait_limit(task, true, op->p.until, &limit);
	ptio__task_arm(PTIO__TIMED(task), limit);
	return PTIO_PENDING;
}

ptio_ssize ptio_sleep_until(struct ptio_op *op, ptio_tick when)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&op->pt);
	if (!(op->task->flags & PTIO__TASK_TIMED))
		PTIO_RETURN(&op->pt, PTIO_ENOTSUP);
	op->p.until = when;
	PTIO_AWAIT(&op->pt, r, sleep_poll(op));
	PTIO_END_WITH(&op->pt, r);
}

ptio_ssize ptio_sleep(struct ptio_op *op, uint32_t ticks)
{
	return ptio_sleep_until(op, ptio_tick_after(op->task->loop->now, ticks));
}
