/*
 * src/core/loop.c - tasks and the loop.
 *
 * Divided into: the run queue, task life cycle, deadlines, and the loop's
 * iteration (fire timers, run one round, wait in the backend).
 *
 * The rule everything here keeps: a task holds registrations (waiter slots
 * on one source, an armed timer) only while it sleeps.  Every path that
 * queues a task first drops them, so when a machine runs it owns nothing
 * in the loop, and when it finishes the loop forgets it without touching
 * its memory again.
 */
#include <ptio/err.h>
#include "core/internal.h"

/* ---- The run queue ------------------------------------------------------
 *
 * Two singly linked FIFO lists: run_head/run_tail collects tasks queued for
 * the next round, and `round` holds what is left of the round being run.
 * Only ptio_task_cancel ever unlinks from the middle (by a scan). */

static void enqueue(struct ptio_loop *loop, struct ptio_task *task)
{
	task->u.next = NULL;
	if (loop->run_tail != NULL)
		loop->run_tail->u.next = task;
	else
		loop->run_head = task;
	loop->run_tail = task;
	task->flags |= PTIO_TASK_QUEUED;
}

/* Unlink TASK from the list at *HEAD; returns the new last node's address
 * or NULL if TASK was not found. */
static bool unlink_from(struct ptio_task **head, struct ptio_task **tail,
			struct ptio_task *task)
{
	struct ptio_task *prev = NULL, *t;

	for (t = *head; t != NULL; prev = t, t = t->u.next) {
		if (t != task)
			continue;
		if (prev != NULL)
			prev->u.next = t->u.next;
		else
			*head = t->u.next;
		if (tail != NULL && *tail == t)
			*tail = prev;
		return true;
	}
	return false;
}

/* ---- Task life cycle ---------------------------------------------------- */

static void task_start(struct ptio_loop *loop, struct ptio_task *task,
		       ptio_task_fn fn, unsigned flags)
{
	task->u.source = NULL;
	task->loop = loop;
	task->fn = fn;
	PTIO_PT_INIT(&task->pt);
	task->flags = (uint8_t)(PTIO_TASK_ALIVE | flags);
	task->readiness = 0;
	loop->ntasks++;
	enqueue(loop, task);
}

void ptio_task_start(struct ptio_loop *loop, struct ptio_task *task,
		     ptio_task_fn fn)
{
	task_start(loop, task, fn, 0);
}

void ptio_timed_task_start(struct ptio_loop *loop, struct ptio_timed_task *tt,
			   ptio_task_fn fn)
{
	tt->tleft = tt->tright = NULL;
	tt->when = tt->deadline = 0;
	task_start(loop, &tt->task, fn, PTIO_TASK_TIMED);
}

void ptio__task_arm(struct ptio_timed_task *tt, ptio_tick when)
{
	struct ptio_task *task = &tt->task;
	struct ptio_loop *loop = task->loop;

	/* A queued task runs next round anyway and re-arms then; arming now
	 * would leave a timer on a task that holds no wait. */
	if (task->flags & (PTIO_TASK_QUEUED | PTIO_TASK_WOKEN))
		return;
	if (task->flags & PTIO_TASK_TIMER)
		ptio__timer_remove(loop, tt);
	else
		loop->ntimers++;
	tt->when = when;
	task->flags |= PTIO_TASK_TIMER;
	ptio__timer_insert(loop, tt);
}

void ptio__task_quiesce(struct ptio_task *task)
{
	if (task->flags & PTIO_TASK_TIMER) {
		ptio__timer_remove(task->loop, ptio_task_timed(task));
		task->flags &= (uint8_t)~PTIO_TASK_TIMER;
		task->loop->ntimers--;
	}
	if (!(task->flags & PTIO_TASK_QUEUED) && task->u.source != NULL)
		ptio__source_unwait(task->u.source, task);
}

void ptio_task_wake(struct ptio_task *task)
{
	/* The running task is queued when its machine suspends, not now: if
	 * the machine finishes instead, the queue must not hold it. */
	if (task->flags & PTIO_TASK_RUNNING) {
		task->flags |= PTIO_TASK_WOKEN;
		return;
	}
	if (!(task->flags & PTIO_TASK_ALIVE) || (task->flags & PTIO_TASK_QUEUED))
		return;
	ptio__task_quiesce(task);
	enqueue(task->loop, task);
}

void ptio_task_cancel(struct ptio_task *task)
{
	struct ptio_loop *loop = task->loop;

	if (task->flags & PTIO_TASK_RUNNING) {
		task->flags |= PTIO_TASK_CANCEL; /* finished by the loop */
		return;
	}
	if (!(task->flags & PTIO_TASK_ALIVE))
		return;
	ptio__task_quiesce(task);
	if (task->flags & PTIO_TASK_QUEUED) {
		if (!unlink_from(&loop->run_head, &loop->run_tail, task))
			(void)unlink_from(&loop->round, NULL, task);
	}
	task->u.source = NULL;
	task->flags = 0;
	loop->ntasks--;
}

/* ---- Deadlines ---------------------------------------------------------- */

void ptio_task_set_deadline(struct ptio_timed_task *tt, ptio_tick when)
{
	tt->deadline = when;
	tt->task.flags |= PTIO_TASK_DEADLINE;
	/* A sleeping task re-arms with the new deadline when it re-polls. */
	if (!(tt->task.flags & PTIO_TASK_RUNNING))
		ptio_task_wake(&tt->task);
}

void ptio_task_set_timeout(struct ptio_timed_task *tt, uint32_t ticks)
{
	ptio_task_set_deadline(tt, ptio_tick_after(tt->task.loop->now, ticks));
}

void ptio_task_clear_deadline(struct ptio_timed_task *tt)
{
	tt->task.flags &= (uint8_t)~PTIO_TASK_DEADLINE;
}

/* The deadline of TASK, which must have PTIO_TASK_DEADLINE (so is timed). */
static ptio_tick deadline_of(const struct ptio_task *task)
{
	return PTIO_CONTAINER_OF(task, const struct ptio_timed_task, task)
		->deadline;
}

bool ptio_task_expired(const struct ptio_task *task)
{
	return (task->flags & PTIO_TASK_DEADLINE) &&
	       ptio_tick_reached(task->loop->now, deadline_of(task));
}

bool ptio__task_wait_limit(const struct ptio_task *task, bool has_when,
			   ptio_tick when, ptio_tick *limit)
{
	if (task->flags & PTIO_TASK_DEADLINE) {
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
	loop->run_head = loop->run_tail = loop->round = NULL;
	loop->timers = NULL;
	loop->stop = 0;
	loop->ntasks = loop->nwaits = loop->ntimers = 0;
	loop->scratch = NULL;
	loop->scratch_len = 0;
	loop->now = backend->vt->now(backend);
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

/* Wake every task whose timer is due. */
static void fire_timers(struct ptio_loop *loop)
{
	struct ptio_timed_task *t;

	while ((t = ptio__timer_min(loop)) != NULL &&
	       ptio_tick_reached(loop->now, t->when))
		ptio_task_wake(&t->task);
}

/* Run each task queued before the round began exactly once; tasks queued
 * meanwhile wait for the next round, so none can starve the others. */
static void run_round(struct ptio_loop *loop)
{
	struct ptio_task *t;
	ptio_ssize r;

	loop->round = loop->run_head;
	loop->run_head = loop->run_tail = NULL;
	while ((t = loop->round) != NULL) {
		loop->round = t->u.next;
		t->u.source = NULL;
		/* Not ALIVE while it runs: if the machine finishes, the loop
		 * never touches T again, and what T holds already reads as a
		 * finished task (wake and cancel on it are no-ops). */
		t->flags = (uint8_t)((t->flags & ~(PTIO_TASK_QUEUED |
						   PTIO_TASK_ALIVE)) |
				     PTIO_TASK_RUNNING);
		r = t->fn(t);
		if (r != PTIO_PENDING) {
			/* Finished: T may already be freed; never touch it. */
			loop->ntasks--;
			continue;
		}
		t->flags = (uint8_t)((t->flags & ~PTIO_TASK_RUNNING) |
				     PTIO_TASK_ALIVE);
		if (t->flags & PTIO_TASK_CANCEL) {
			t->flags &= (uint8_t)~(PTIO_TASK_CANCEL | PTIO_TASK_WOKEN);
			ptio_task_cancel(t);
		} else if (t->flags & PTIO_TASK_WOKEN) {
			t->flags &= (uint8_t)~PTIO_TASK_WOKEN;
			ptio_task_wake(t);
		}
	}
}

/* How long the backend may sleep. */
static uint32_t wait_timeout(struct ptio_loop *loop)
{
	struct ptio_timed_task *t;
	int32_t d;

	if (loop->run_head != NULL || loop->stop)
		return 0;
	t = ptio__timer_min(loop);
	if (t == NULL)
		return PTIO_WAIT_FOREVER;
	d = ptio_tick_diff(t->when, loop->now);
	return d > 0 ? (uint32_t)d : 0;
}

ptio_ssize ptio_loop_run(struct ptio_loop *loop, int mode)
{
	ptio_ssize r;
	uint32_t timeout;

	loop->stop = 0;
	for (;;) {
		ptio_loop_update_time(loop);
		fire_timers(loop);
		run_round(loop);
		if (loop->ntasks == 0)
			return 0;
		/* Tasks remain but nothing can ever wake them: no queued
		 * task, no timer, no waiter slot.  Waiting would hang. */
		if (loop->run_head == NULL && loop->ntimers == 0 &&
		    loop->nwaits == 0)
			return (ptio_ssize)loop->ntasks;
		timeout = mode == PTIO_RUN_NOWAIT ? 0 : wait_timeout(loop);
		r = loop->backend->vt->wait(loop->backend, timeout);
		if (r < 0)
			return r;
		if (mode != PTIO_RUN_DEFAULT || loop->stop)
			return (ptio_ssize)loop->ntasks;
	}
}
