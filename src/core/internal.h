/*
 * src/core/internal.h - what the core's files share and users never see.
 *
 * Divided into: byte helpers (the core has no libc), the timer heap, and
 * task bookkeeping used by sources and provided machines.
 */
#ifndef PTIO_CORE_INTERNAL_H
#define PTIO_CORE_INTERNAL_H

#include <ptio/base.h>
#include <ptio/io.h>
#include <ptio/loop.h>

/* ---- Bytes -------------------------------------------------------------- */

void ptio__copy(void *dst, const void *src, size_t n);
void ptio__zero(void *dst, size_t n);

/* ---- The timer heap (timer.c) -------------------------------------------
 *
 * Armed timed tasks sit in a pairing heap rooted at loop->timers, the one
 * that expires first: insert is O(1), removing any of them O(log n)
 * amortised, and it needs three links per task and no allocation. */

/* Insert TT (expiry in tt->when) and mark its task PTIO_TASK_TIMER. */
void ptio__timer_insert(struct ptio_timed_task *tt);
/* Remove TASK's timer if it has one armed. */
void ptio__timer_remove(struct ptio_task *task);

/* ---- Tasks (loop.c, source.c) ------------------------------------------- */

/* Arm TT's timer to fire at WHEN (replacing an armed one). */
void ptio__task_arm(struct ptio_timed_task *tt, ptio_tick when);

/* Drop TASK's wait registrations: its waiter slots and its timer.  Leaves
 * the run queue alone. */
void ptio__task_quiesce(struct ptio_task *task);

/* Clear every slot of SRC that TASK holds and tell the backend. */
void ptio__source_unwait(struct ptio_source *src, struct ptio_task *task);

/* When TASK's current wait should end at the latest: the earlier of WHEN
 * (if HAS_WHEN) and the task's deadline.  Returns false if neither is set
 * (always, for a plain task). */
bool ptio__task_wait_limit(const struct ptio_task *task, bool has_when,
			   ptio_tick when, ptio_tick *limit);

#endif /* PTIO_CORE_INTERNAL_H */
