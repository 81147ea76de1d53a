/*
 * src/core/loop-coop.c - what ptio/loop.h offers machines, apart from the
 * scheduler itself: the cooperative budget (spending it, and the loop's
 * setting), abort (which the budget's spend delivers), the op, and two
 * questions about a task.
 *
 * The scheduler (loop.c) only refills the budget when it runs a task and
 * records which task that is; the provided machines spend it here.
 */
#include "core/internal.h"

/* ---- The budget --------------------------------------------------------- */

ptio_ssize (ptio_task_spend)(struct ptio_task *task)
{
	struct ptio_loop *loop = task->loop;

	/* Only the activation the loop is running has a budget: a machine
	 * called by hand (even for a task never started) is not limited.
	 * The budget is spent before the deadline is looked at, so that even
	 * a machine that ignores PTIO_ETIMEDOUT and goes on cannot hold the
	 * loop. */
	if (task->readiness & PTIO__TASK_ABORT) {
		task->readiness &= (uint8_t)~PTIO__TASK_ABORT;
		return PTIO_ECANCELED;
	}
	if (loop != NULL && loop->current == task) {
		if (loop->budget == 0) {
			ptio_task_wake(task); /* queued when it suspends */
			return PTIO_PENDING;
		}
		loop->budget--;
	}
	if (!(task->flags & PTIO__TASK_DEADLINE))
		return 0;
	return ptio_task_expired(task) ? PTIO_ETIMEDOUT : 0;
}

/* ---- Abort ------------------------------------------------------------- */

void ptio_task_abort(struct ptio_task *task)
{
	bool running = ptio__task_running(task);

	if (!running && !(task->flags & PTIO__TASK_ALIVE))
		return;
	task->readiness |= PTIO__TASK_ABORT;
	/* A waiting task leaves its waits and runs; a queued one runs
	 * anyway, and the running one meets the abort at its next await. */
	if (!running)
		ptio_task_wake(task);
}

bool ptio_task_aborting(const struct ptio_task *task)
{
	return (task->readiness & PTIO__TASK_ABORT) != 0;
}

void ptio_loop_set_budget(struct ptio_loop *loop, unsigned budget)
{
	if (budget == 0 || budget > 0xFFFFu)
		budget = budget == 0 ? PTIO_CONF_BUDGET : 0xFFFFu;
	loop->budget_max = (uint16_t)budget;
}

/* ---- The op and the task ------------------------------------------------ */

void ptio_op_init(struct ptio_op *op, struct ptio_task *task)
{
	op->task = task;
	PTIO_PT_INIT(&op->pt);
	op->p.done = 0;
}

struct ptio_timed_task *ptio_task_timed(struct ptio_task *task)
{
	return task->flags & PTIO__TASK_TIMED ? PTIO__TIMED(task) : NULL;
}

bool ptio_task_alive(const struct ptio_task *task)
{
	return (task->flags & PTIO__TASK_ALIVE) || task->loop->current == task;
}
