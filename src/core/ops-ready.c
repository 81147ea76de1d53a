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

/* A level-triggered backend's source with nothing cached, which the
 * backend must be told of: the inline wait (ptio/ops.h) checked the rest
 * of the rules. */
ptio_ssize ptio_source_wait_level(struct ptio_task *task,
				  struct ptio_source *src, unsigned slot)
{
	struct ptio_loop *loop = task->loop;
	ptio_ssize r;

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

/* A wait on a source's cache, in the function: the fast path (which
 * the inline code tried already, but a caller may name the function),
 * then the general case. */
static ptio_ssize wait_source(struct ptio_task *task, struct ptio_source *src,
			      unsigned interest)
{
	ptio_ssize r = ptio__wait_source_fast(task, src, interest);

	if (r == PTIO__WAIT_LEVEL)
		return ptio_source_wait_level(task, src, interest - 1u);
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
