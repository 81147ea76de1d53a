/*
 * src/core/source.c - readiness sources: the cache and the waiter slots.
 *
 * A task waits on at most one source at a time (it is suspended in one
 * await), so the task records that source in its u.source link and the
 * loop can undo the wait from either side: the source wakes the task, or
 * the task's timer fires or it is woken or cancelled and leaves the
 * source.  Either way both sides forget each other before the task runs.
 */
#include <ptio/err.h>
#include "core/internal.h"

/* The readiness bits each waiter slot is woken by. */
static const uint8_t slot_wakes[2] = {
	PTIO_READABLE | PTIO_HUP | PTIO_ERROR,
	PTIO_WRITABLE | PTIO_HUP | PTIO_ERROR,
};

void ptio_source_init(struct ptio_source *src, unsigned ready, unsigned flags)
{
	src->waiter[0] = src->waiter[1] = NULL;
	src->ready = (uint8_t)ready;
	src->flags = (uint8_t)flags;
	src->oflags = 0;
	src->spare = 0;
	src->handle = -1;
}

static ptio_ssize backend_update(struct ptio_loop *loop, struct ptio_source *src)
{
	if (!(src->flags & PTIO_SOURCE_BACKEND))
		return 0;
	return loop->backend->vt->update(loop->backend, src);
}

void ptio__source_unwait(struct ptio_source *src, struct ptio_task *task)
{
	struct ptio_loop *loop = task->loop;
	int i;

	for (i = 0; i < 2; i++) {
		if (src->waiter[i] == task) {
			src->waiter[i] = NULL;
			loop->nwaits--;
		}
	}
	task->u.source = NULL;
	(void)backend_update(loop, src); /* removal cannot need memory */
}

/* Register TASK in the slots of INTEREST; undo and fail on a conflict. */
static ptio_ssize wait_on(struct ptio_source *src, struct ptio_task *task,
			  unsigned interest)
{
	unsigned before = ptio_source_interest(src);
	ptio_ssize r;
	int i;

	if (task->u.source != NULL && task->u.source != src)
		return PTIO_EBUSY;
	for (i = 0; i < 2; i++) {
		if ((interest & (1u << i)) && src->waiter[i] != NULL &&
		    src->waiter[i] != task)
			return PTIO_EBUSY;
	}
	for (i = 0; i < 2; i++) {
		if ((interest & (1u << i)) && src->waiter[i] == NULL) {
			src->waiter[i] = task;
			task->loop->nwaits++;
		}
	}
	task->u.source = src;
	if (ptio_source_interest(src) == before)
		return PTIO_PENDING;
	r = backend_update(task->loop, src);
	if (r < 0) {
		ptio__source_unwait(src, task);
		return r;
	}
	return PTIO_PENDING;
}

ptio_ssize ptio_source_poll(struct ptio_source *src, struct ptio_task *task,
			    unsigned interest)
{
	unsigned answer;

	if (interest == 0 || (interest & ~PTIO_READ_WRITE) != 0)
		return PTIO_EINVAL;
	if (src->flags & PTIO_SOURCE_CLOSED)
		return PTIO_ECLOSED;
	/* PTIO_READ and PTIO_WRITE share their bits with READABLE and
	 * WRITABLE, so the interest selects the readiness directly. */
	answer = src->ready & (interest | PTIO_HUP | PTIO_ERROR);
	if (answer != 0)
		return (ptio_ssize)answer;
	if (task == NULL)
		return PTIO_WOULD_BLOCK;
	/* A task already queued to run (it woke itself) will poll again
	 * next round; it cannot wait while it sits in the run queue. */
	if (task->flags & (PTIO_TASK_QUEUED | PTIO_TASK_WOKEN))
		return PTIO_PENDING;
	return wait_on(src, task, interest);
}

void ptio_source_ready(struct ptio_source *src, unsigned bits)
{
	int i;

	src->ready = (uint8_t)(src->ready | bits);
	for (i = 0; i < 2; i++) {
		struct ptio_task *t = src->waiter[i];

		/* Waking clears every slot T holds here, so a task waiting
		 * for both is woken once. */
		if (t != NULL && (bits & slot_wakes[i])) {
			t->readiness = (uint8_t)src->ready;
			ptio_task_wake(t);
		}
	}
}

void ptio_source_close(struct ptio_source *src)
{
	int i;

	src->flags = (uint8_t)(src->flags | PTIO_SOURCE_CLOSED);
	for (i = 0; i < 2; i++) {
		if (src->waiter[i] != NULL)
			ptio_task_wake(src->waiter[i]);
	}
}
