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

/* What ptio__wait_source_fast (ptio/ops.h) leaves to the function most
 * often: a source of a level-triggered backend (poll, select) with
 * nothing cached, which the backend must be told of.  The same rules,
 * without the general case's layers: the running task, with no deadline
 * and no abort pending, takes a free slot and the backend hears of it.
 * PTIO__WAIT_SLOW for anything else. */
static ptio_ssize wait_source_level(struct ptio_task *task,
				    struct ptio_source *src, unsigned interest)
{
	struct ptio_loop *loop = task->loop;
	unsigned slot = interest - 1u;
	ptio_ssize r;

	if ((src->flags & (PTIO_SOURCE_CLOSED | PTIO_SOURCE_BACKEND |
			   PTIO_SOURCE_EDGE)) != PTIO_SOURCE_BACKEND ||
	    slot > 1u || loop == NULL || loop->current != task ||
	    (ptio__task_bits(task) &
	     (PTIO__TASK_DEADLINE | PTIO__TASK_ABORT << 8)) ||
	    (src->ready & (interest | PTIO_HUP | PTIO_ERROR)) ||
	    (task->flags & (PTIO__TASK_QUEUED | PTIO__TASK_WOKEN)) ||
	    task->u.source != NULL || src->waiter[slot] != NULL)
		return PTIO__WAIT_SLOW;
	src->waiter[slot] = task;
	task->u.source = src;
	loop->nwaits++;
	r = loop->backend->vt->update(loop->backend, src);
	if (r < 0) {
		ptio__source_unwait(src, task);
		return r;
	}
	return PTIO_PENDING;
}

/* The general case of a wait on a source's cache. */
static ptio_ssize wait_source_general(struct ptio_task *task,
				      struct ptio_source *src,
				      unsigned interest)
{
	static const struct ptio_ready_vt source_ready_vt = {
		ptio_source_poll_ready
	};
	struct ptio_ready o;

	o.self = src;
	o.vt = &source_ready_vt;
	return wait_ready_slow(task, o, interest);
}

/* A wait on a source's cache, in the function.  The inline fast path
 * usually failed just before, so the level case is tried first. */
static ptio_ssize wait_source(struct ptio_task *task, struct ptio_source *src,
			      unsigned interest)
{
	ptio_ssize r = wait_source_level(task, src, interest);

	if (r == PTIO__WAIT_SLOW)
		r = ptio__wait_source_fast(task, src, interest);
	if (r == PTIO__WAIT_SLOW)
		r = wait_source_general(task, src, interest);
	return r;
}

/* Every wait comes here when ptio__wait_source_fast cannot answer, and a
 * wait on a source's cache takes that fast path first (ptio/ops.h). */
ptio_ssize (ptio_wait_ready)(struct ptio_task *task, struct ptio_ready o,
			     unsigned interest)
{
	if (o.vt->poll_ready == ptio_source_poll_ready)
		return wait_source(task, o.self, interest);
	return wait_ready_slow(task, o, interest);
}

ptio_ssize (ptio_wait_source)(struct ptio_task *task, struct ptio_source *src,
			      unsigned interest)
{
	return wait_source(task, src, interest);
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
