/*
 * src/core/compose.c - select, child tasks and join (ptio/compose.h).
 *
 * Divided into: select (a pass over the branches, and the waiter slots of
 * a select that waits), then child tasks and join.
 *
 * How a select waits on many things with one task: a provided machine
 * registers its task on one source (task->u.source) and arms the task's
 * one timer.  After each branch's call the select moves that source into
 * the branch (branch->src) and takes the timer back, keeping the earliest
 * expiry, so the next branch finds the task holding nothing and may
 * register in turn.  When no branch finished, the select points the task
 * at itself (u.sel, flagged PTIO__TASK_SELECT) and arms the earliest
 * timer: whatever wakes the task then goes through ptio__task_quiesce,
 * which clears every branch's slot, so the task runs holding nothing, as
 * everywhere else in the loop.
 */
#include "core/internal.h"

/* ---- Select ------------------------------------------------------------- */

void ptio__select_unwait(struct ptio_select *sel, struct ptio_task *task)
{
	size_t i;

	for (i = 0; i < sel->n; i++) {
		if (sel->branch[i].src != NULL) {
			ptio__source_unwait(sel->branch[i].src, task);
			sel->branch[i].src = NULL;
		}
	}
	task->readiness &= (uint8_t)~PTIO__TASK_SELECT;
	task->u.source = NULL;
}

void ptio_select_init(struct ptio_select *sel, struct ptio_task *task,
		      struct ptio_select_branch *branches, size_t n)
{
	size_t i;

	sel->task = task;
	sel->branch = branches;
	sel->n = n;
	for (i = 0; i < n; i++) {
		ptio_op_init(&branches[i].op, task);
		branches[i].src = NULL;
	}
}

void ptio_select_pass(struct ptio_select *sel)
{
	struct ptio_task *task = sel->task;

	sel->has_when = 0;
	sel->winner = PTIO_PENDING;
	/* The select is an await of its own: an abort or a passed deadline
	 * ends it before any branch is polled. */
	if (task->readiness & PTIO__TASK_ABORT) {
		task->readiness &= (uint8_t)~PTIO__TASK_ABORT;
		sel->winner = PTIO_ECANCELED;
	} else if (ptio_task_expired(task)) {
		sel->winner = PTIO_ETIMEDOUT;
	} else if (sel->n == 0) {
		sel->winner = PTIO_EINVAL;
	}
}

/* Take back the timer TASK armed for a branch, keeping the earliest. */
static void take_timer(struct ptio_select *sel, struct ptio_task *task)
{
	ptio_tick when;

	if (!(task->flags & PTIO__TASK_TIMER))
		return;
	when = PTIO__TIMED(task)->when;
	if (!sel->has_when || ptio_tick_before(when, sel->when))
		sel->when = when;
	sel->has_when = 1;
	ptio__timer_remove(task);
}

void ptio_select_polled(struct ptio_select *sel, size_t i, ptio_ssize r)
{
	struct ptio_task *task = sel->task;

	take_timer(sel, task);
	if (i >= sel->n) {
		/* No branch to keep it in: drop what the call registered. */
		ptio__task_unwait(task);
		sel->winner = PTIO_EINVAL;
		return;
	}
	if (task->u.source != NULL) {
		sel->branch[i].src = task->u.source;
		task->u.source = NULL;
	}
	if (r != PTIO_PENDING) {
		sel->winner = (ptio_ssize)i;
		sel->result = r;
	}
}

ptio_ssize ptio_select_finish(struct ptio_select *sel)
{
	struct ptio_task *task = sel->task;

	if (sel->winner != PTIO_PENDING) {
		/* The branches polled before the winner still wait. */
		ptio__select_unwait(sel, task);
		return sel->winner;
	}
	task->u.sel = sel;
	task->readiness |= PTIO__TASK_SELECT;
	if (sel->has_when)
		ptio__task_arm(PTIO__TIMED(task), sel->when);
	return PTIO_PENDING;
}

/* ---- Child tasks and join ----------------------------------------------- */

/* Every child's task function: run the child's machine, and when it
 * finishes keep its result and wake the parent.  The loop forgets the
 * child after this returns; its memory stays the parent's. */
static ptio_ssize child_run(struct ptio_task *task)
{
	struct ptio_child *child = ptio_child_of(task);
	ptio_ssize r = child->fn(task);

	if (r != PTIO_PENDING) {
		child->result = r;
		ptio_task_wake(child->parent);
	}
	return r;
}

ptio_ssize ptio_child_start(struct ptio_task *parent, struct ptio_child *child,
			    ptio_task_fn fn)
{
	ptio_ssize r = ptio_timed_task_start(parent->loop, &child->tt,
					     child_run);

	if (r == 0) {
		child->fn = fn;
		child->parent = parent;
		child->result = PTIO_PENDING;
	}
	return r;
}

/* One poll of TASK's wait for something DONE: 0 when it is done, or
 * PTIO_PENDING (the deadline's timer armed), PTIO_ECANCELED or
 * PTIO_ETIMEDOUT.  Nothing registers with a source: the child wakes its
 * parent itself. */
static ptio_ssize wait_done(struct ptio_task *task, bool done)
{
	ptio_ssize r = ptio_task_spend(task);
	ptio_tick limit;

	if (r == PTIO_PENDING || r == PTIO_ECANCELED)
		return r;
	if (done)
		return 0;
	if (r < 0)
		return r;
	if (ptio__task_wait_limit(task, false, 0, &limit))
		ptio__task_arm(PTIO__TIMED(task), limit);
	return PTIO_PENDING;
}

ptio_ssize ptio_child_wait(struct ptio_task *task, struct ptio_child *child)
{
	ptio_ssize r = wait_done(task, child->result != PTIO_PENDING);

	return r == 0 ? child->result : r;
}

ptio_ssize ptio_child_join(struct ptio_task *task,
			   struct ptio_child *const *children, size_t n)
{
	size_t i = 0;

	while (i < n && children[i]->result != PTIO_PENDING)
		i++;
	return wait_done(task, i == n);
}
