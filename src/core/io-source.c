/*
 * src/core/io-source.c - readiness sources (ptio/io.h): the cache and the
 * waiter slots.
 *
 * A task waits on at most one source at a time (it is suspended in one
 * await), so the task records that source in its u.source link and the
 * loop can undo the wait from either side: the source wakes the task, or
 * the task's timer fires or it is woken or cancelled and leaves the
 * source.  Either way both sides forget each other before the task runs.
 * The one exception is a select (ptio/compose.h): its task waits on each
 * branch's source, and its u.sel link leads to them all, so any wake
 * clears every one of them just the same.
 */
#include <ptio/err.h>
#include "core/internal.h"

void ptio_source_init(struct ptio_source *src, unsigned ready, unsigned flags)
{
	src->waiter[0] = src->waiter[1] = NULL;
	src->ready = (uint8_t)ready;
	src->flags = (uint8_t)flags;
	src->oflags = 0;
	src->spare = 0;
	src->handle = -1;
}

/* Tell the backend that SRC's waiters changed.  An edge-triggered
 * backend registered SRC once, for its whole life, and reports whatever
 * readiness comes whoever waits: it needs no word, and the hot path makes
 * no call. */
static ptio_ssize backend_update(struct ptio_loop *loop, struct ptio_source *src)
{
	if ((src->flags & (PTIO_SOURCE_BACKEND | PTIO_SOURCE_EDGE)) !=
	    PTIO_SOURCE_BACKEND)
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
	if (src->flags & PTIO__SOURCE_WAITER) {
		ptio__wait_unlink(&PTIO_CONTAINER_OF(src, struct ptio_waiter,
						     src)->link);
		return;
	}
	(void)backend_update(loop, src); /* removal cannot need memory */
}

void ptio__task_unwait(struct ptio_task *task)
{
	if (task->readiness & PTIO__TASK_SELECT)
		ptio__select_unwait(task->u.sel, task);
	else if (task->u.source != NULL)
		ptio__source_unwait(task->u.source, task);
}

ptio_ssize ptio_source_poll(struct ptio_source *src, struct ptio_task *task,
			    unsigned interest)
{
	struct ptio_task **w = src->waiter;
	unsigned answer, added = 0;
	ptio_ssize r;
	int i;

	if (interest - 1u >= PTIO_READ_WRITE) /* 0, or an unknown bit */
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
	if (task->flags & (PTIO__TASK_QUEUED | PTIO__TASK_WOKEN))
		return PTIO_PENDING;
	/* One source per task, one task per slot.  Any error undoes the
	 * whole wait, so it leaves nothing registered. */
	if (task->u.source != NULL && task->u.source != src)
		return PTIO_EBUSY;
	task->u.source = src;
	for (i = 0; i < 2; i++) {
		if (!(interest >> i & 1u) || w[i] == task)
			continue;
		r = PTIO_EBUSY;
		if (w[i] != NULL)
			goto undo;
		w[i] = task;
		task->loop->nwaits++;
		added = 1;
	}
	/* The backend hears only of a new interest. */
	if (!added)
		return PTIO_PENDING;
	r = backend_update(task->loop, src);
	if (r >= 0)
		return PTIO_PENDING;
undo:
	ptio__source_unwait(src, task);
	return r;
}

ptio_ssize ptio_source_poll_ready(void *self, struct ptio_task *task,
				  unsigned interest)
{
	return ptio_source_poll(self, task, interest);
}

/* Wake T, which waits in slot I of SRC, delivering READY.  The usual
 * case, a task asleep on this one source with no timer armed (not in a
 * select, not running, not queued), is done here in place: clear its
 * slots, tell a level-triggered backend (which stops asking for them),
 * queue it.  Everything else goes through ptio_task_wake, which undoes
 * any wait. */
static inline void wake_one(struct ptio_source *src, struct ptio_task *t,
			    int i, unsigned ready)
{
	struct ptio_loop *loop = t->loop;

	t->readiness = (uint8_t)((t->readiness & ~PTIO__READINESS) | ready);
	if (t->u.source != src || (t->readiness & PTIO__TASK_SELECT) ||
	    (t->flags & (PTIO__TASK_ALIVE | PTIO__TASK_QUEUED |
			 PTIO__TASK_RUNNING | PTIO__TASK_TIMER)) !=
		    PTIO__TASK_ALIVE ||
	    (src->flags & PTIO__SOURCE_WAITER)) {
		ptio_task_wake(t);
		return;
	}
	src->waiter[i] = NULL;
	loop->nwaits--;
	if (src->waiter[i ^ 1] == t) {
		src->waiter[i ^ 1] = NULL;
		loop->nwaits--;
	}
	(void)backend_update(loop, src); /* removal cannot need memory */
	ptio__task_enqueue(t);
}

/* Wake the waiters of SRC that BITS answer (HUP and ERROR answer both
 * slots).  Waking clears every slot a task holds here, so a task waiting
 * in both is woken once: the write slot is read after the read slot's
 * wake. */
static void wake_waiters(struct ptio_source *src, unsigned bits)
{
	unsigned ready = src->ready & PTIO__READINESS;
	struct ptio_task *t;

	if (bits & (PTIO_HUP | PTIO_ERROR))
		bits |= PTIO_READABLE | PTIO_WRITABLE;
	t = src->waiter[PTIO_SLOT_READ];
	if (t != NULL && (bits & PTIO_READABLE))
		wake_one(src, t, PTIO_SLOT_READ, ready);
	t = src->waiter[PTIO_SLOT_WRITE];
	if (t != NULL && (bits & PTIO_WRITABLE))
		wake_one(src, t, PTIO_SLOT_WRITE, ready);
}

/* Every readiness report comes here, a backend's after its inline common
 * case (ptio__source_ready_inline in ptio/loop.h). */
void ptio_source_ready(struct ptio_source *src, unsigned bits)
{
	if (ptio__source_ready_fast(src, bits))
		return;
	src->ready = (uint8_t)(src->ready | bits);
	if (src->waiter[PTIO_SLOT_READ] != NULL ||
	    src->waiter[PTIO_SLOT_WRITE] != NULL)
		wake_waiters(src, bits);
}

void ptio_source_close(struct ptio_source *src)
{
	src->flags = (uint8_t)(src->flags | PTIO_SOURCE_CLOSED);
	wake_waiters(src, PTIO_HUP);
}
