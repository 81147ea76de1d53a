/*
 * src/core/loop.c - tasks and the loop.
 *
 * Divided into: the run queue, task life cycle, deadlines, and the loop's
 * iteration (fire timers, run one round, wait in the backend).
 *
 * The rule everything here keeps: a task holds registrations (waiter slots
 * on one source, or on several in a select, and an armed timer) only while
 * it sleeps.  Every path that queues a task first drops them, so when a
 * machine runs it owns nothing in the loop, and when it finishes the loop
 * forgets it without touching its memory again.
 */
#include <ptio/err.h>
#include "core/internal.h"

/* ---- The run queue ------------------------------------------------------
 *
 * Two singly linked FIFO lists: run_head collects tasks queued for the
 * next round (run_tail points at the link that ends it; ptio__task_enqueue
 * in core/internal.h appends), and `round` holds what is left of the
 * round being run.  Only ptio_task_cancel ever unlinks from the middle,
 * by a scan. */

/* The link in the list at PP that points at TASK, or the final NULL one. */
static struct ptio_task **find_link(struct ptio_task **pp,
				    const struct ptio_task *task)
{
	while (*pp != NULL && *pp != task)
		pp = &(*pp)->u.next;
	return pp;
}

/* ---- Task life cycle ---------------------------------------------------- */

ptio_ssize ptio_task_start(struct ptio_loop *loop, struct ptio_task *task,
			   ptio_task_fn fn)
{
	/* Counting a live task twice would corrupt the loop's count.  The
	 * running task is not flagged alive (see run_round).  Memory that
	 * never held a task may hold anything: a stray ALIVE bit in it is
	 * told apart by the loop pointer, which only a live task of this
	 * loop has next to it. */
	if (((task->flags & PTIO__TASK_ALIVE) && task->loop == loop) ||
	    loop->current == task)
		return PTIO_EALREADY;
	task->loop = loop;
	task->fn = fn;
	PTIO_PT_INIT(&task->pt);
	task->flags = PTIO__TASK_ALIVE;
	task->readiness = 0;
	loop->ntasks++;
	ptio__task_enqueue(task);
	return 0;
}

ptio_ssize ptio_timed_task_start(struct ptio_loop *loop,
				 struct ptio_timed_task *tt, ptio_task_fn fn)
{
	ptio_ssize r = ptio_task_start(loop, &tt->task, fn);

	/* The timer links and expiry are set when the timer is armed, the
	 * deadline with its flag. */
	if (r == 0)
		tt->task.flags |= PTIO__TASK_TIMED;
	return r;
}

void ptio__task_arm(struct ptio_timed_task *tt, ptio_tick when)
{
	struct ptio_task *task = &tt->task;

	/* A queued task runs next round anyway and re-arms then; arming now
	 * would leave a timer on a task that holds no wait. */
	if (task->flags & (PTIO__TASK_QUEUED | PTIO__TASK_WOKEN))
		return;
	ptio__timer_remove(task);
	tt->when = when;
	ptio__timer_insert(tt);
}

void ptio__task_quiesce(struct ptio_task *task)
{
	ptio__timer_remove(task);
	if (!(task->flags & PTIO__TASK_QUEUED))
		ptio__task_unwait(task);
}

void ptio_task_wake(struct ptio_task *task)
{
	/* The running task is queued when its machine suspends, not now: if
	 * the machine finishes instead, the queue must not hold it.  A
	 * finished task (a stale RUNNING flag) is not written at all. */
	if (task->flags & PTIO__TASK_RUNNING) {
		if (task->loop->current == task)
			task->flags |= PTIO__TASK_WOKEN;
		return;
	}
	if ((task->flags & (PTIO__TASK_ALIVE | PTIO__TASK_QUEUED)) !=
	    PTIO__TASK_ALIVE)
		return;
	ptio__task_quiesce(task);
	ptio__task_enqueue(task);
}

void ptio_task_cancel(struct ptio_task *task)
{
	struct ptio_loop *loop = task->loop;
	struct ptio_task **pp;

	if (task->flags & PTIO__TASK_RUNNING) {
		if (task->loop->current == task) /* else it has finished */
			task->flags |= PTIO__TASK_CANCEL; /* done by the loop */
		return;
	}
	if (!(task->flags & PTIO__TASK_ALIVE))
		return;
	ptio__task_quiesce(task);
	if (task->flags & PTIO__TASK_QUEUED) {
		pp = find_link(&loop->round, task);
		if (*pp == NULL)
			pp = find_link(&loop->run_head, task);
		*pp = task->u.next;
		if (loop->run_tail == &task->u.next)
			loop->run_tail = pp;
	}
	task->flags = 0;
	loop->ntasks--;
}

/* ---- Deadlines ---------------------------------------------------------- */

void (ptio_task_set_deadline)(struct ptio_timed_task *tt, ptio_tick when)
{
	tt->deadline = when;
	tt->task.flags |= PTIO__TASK_DEADLINE;
	/* A sleeping task re-arms with the new deadline when it re-polls. */
	if (!(tt->task.flags & PTIO__TASK_RUNNING))
		ptio_task_wake(&tt->task);
}

void (ptio_task_set_timeout)(struct ptio_timed_task *tt, uint32_t ticks)
{
	(ptio_task_set_deadline)(tt,
				  ptio_tick_after(tt->task.loop->now, ticks));
}

void (ptio_task_clear_deadline)(struct ptio_timed_task *tt)
{
	tt->task.flags &= (uint8_t)~PTIO__TASK_DEADLINE;
}

/* The deadline of TASK, which must have PTIO__TASK_DEADLINE (so is timed). */
static ptio_tick deadline_of(const struct ptio_task *task)
{
	return PTIO_CONTAINER_OF(task, const struct ptio_timed_task, task)
		->deadline;
}

bool ptio_task_expired(const struct ptio_task *task)
{
	return (task->flags & PTIO__TASK_DEADLINE) &&
	       ptio_tick_reached(task->loop->now, deadline_of(task));
}

bool ptio__task_wait_limit(const struct ptio_task *task, bool has_when,
			   ptio_tick when, ptio_tick *limit)
{
	if (task->flags & PTIO__TASK_DEADLINE) {
		if (!has_when || ptio_tick_before(deadline_of(task), when))
			when = deadline_of(task);
		has_when = true;
	}
	*limit = when;
	return has_when;
}

/* ---- The loop ----------------------------------------------------------- */

void ptio_loop_init(struct ptio_loop *loop, struct ptio_backend *backend)
{
	loop->backend = backend;
	loop->current = NULL;
	loop->budget = 0;
	loop->budget_max = PTIO_CONF_BUDGET;
	loop->run_head = loop->round = NULL;
	loop->run_tail = &loop->run_head;
	loop->timers = NULL;
	loop->stop = 0;
	loop->ntasks = loop->nwaits = loop->ntimers = 0;
	loop->scratch = NULL;
	loop->scratch_len = 0;
	ptio_loop_update_time(loop);
}

void ptio_loop_set_scratch(struct ptio_loop *loop, void *buf, size_t len)
{
	loop->scratch = buf;
	loop->scratch_len = buf != NULL ? len : 0;
}

ptio_tick ptio_loop_update_time(struct ptio_loop *loop)
{
	loop->now = loop->backend->vt->now(loop->backend);
	return loop->now;
}

size_t ptio_loop_registrations(const struct ptio_loop *loop)
{
	const struct ptio_backend *be = loop->backend;
	size_t n = loop->nwaits + loop->ntimers;

	if (be->vt->registrations != NULL)
		n += be->vt->registrations((struct ptio_backend *)(uintptr_t)be);
	return n;
}

/* Run each task queued before the round began exactly once; tasks queued
 * meanwhile wait for the next round, so none can starve the others. */
static void run_round(struct ptio_loop *loop)
{
	struct ptio_task *t;
	ptio_ssize r;
	unsigned f;

	loop->round = loop->run_head;
	loop->run_head = NULL;
	loop->run_tail = &loop->run_head;
	while ((t = loop->round) != NULL) {
		loop->round = t->u.next;
		t->u.source = NULL;
		/* Not ALIVE while it runs: if the machine finishes, the loop
		 * never touches T again, and what T holds already reads as a
		 * finished task (wake and cancel on it are no-ops).  Each
		 * activation starts with a full budget. */
		t->flags ^= PTIO__TASK_QUEUED | PTIO__TASK_ALIVE |
			    PTIO__TASK_RUNNING; /* queued, alive: both set */
		loop->current = t;
		loop->budget = loop->budget_max;
		r = t->fn(t);
		loop->current = NULL;
		if (r != PTIO_PENDING) {
			/* Finished: T may already be freed; never touch it. */
			loop->ntasks--;
			continue;
		}
		f = t->flags;
		t->flags = (uint8_t)((f & ~(PTIO__TASK_RUNNING | PTIO__TASK_WOKEN |
					    PTIO__TASK_CANCEL)) |
				     PTIO__TASK_ALIVE);
		if (!(f & (PTIO__TASK_CANCEL | PTIO__TASK_WOKEN)))
			continue; /* the usual case: one test */
		if (f & PTIO__TASK_CANCEL)
			ptio_task_cancel(t);
		else
			ptio_task_wake(t);
	}
}

/* Read the clock and wake every task whose timer is due.  Returns how
 * long the backend may then sleep: until the earliest timer left, or
 * PTIO_WAIT_FOREVER when none is. */
static uint32_t fire_timers(struct ptio_loop *loop)
{
	struct ptio_timed_task *t;
	int32_t d;

	ptio_loop_update_time(loop);
	while ((t = loop->timers) != NULL) {
		d = ptio_tick_diff(t->when, loop->now);
		if (d > 0)
			return (uint32_t)d;
		ptio_task_wake(&t->task);
	}
	return PTIO_WAIT_FOREVER;
}

ptio_ssize ptio_loop_run(struct ptio_loop *loop, int mode)
{
	uint32_t timeout;
	ptio_ssize r;

	loop->stop = 0;
	for (;;) {
		(void)fire_timers(loop);
		run_round(loop);
		if (loop->ntasks == 0)
			return 0;
		/* Again after the round, which may have taken a while: the
		 * sleep is measured from now. */
		timeout = fire_timers(loop);
		if (loop->run_head != NULL || loop->stop ||
		    mode == PTIO_RUN_NOWAIT)
			timeout = 0;
		else if (timeout == PTIO_WAIT_FOREVER && loop->nwaits == 0)
			/* Tasks remain but nothing can ever wake them: no
			 * queued task, no timer, no waiter slot.  Waiting
			 * would hang. */
			return (ptio_ssize)loop->ntasks;
		r = loop->backend->vt->wait(loop->backend, timeout);
		if (r < 0)
			return r;
		if (mode != PTIO_RUN_DEFAULT || loop->stop)
			return (ptio_ssize)loop->ntasks;
	}
}
