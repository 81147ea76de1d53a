/*
 * src/core/internal.h - what the core's files share and users never see.
 *
 * Divided into: task flags, the timer heap, task bookkeeping used by
 * sources and provided machines, the step every provided machine is built
 * from and the "write until blocked" loop, then byte, size and UTF-8
 * helpers (the core has no libc).
 *
 * Every ptio__ name is internal: the shared library does not export it
 * (see Makefile.am), and it may change at any time.
 */
#ifndef PTIO_CORE_INTERNAL_H
#define PTIO_CORE_INTERNAL_H

#include <ptio/base.h>
#include <ptio/err.h>
#include <ptio/io.h>
#include <ptio/loop.h>
#include <ptio/ops.h>
#include <ptio/compose.h>
#include <ptio/sync.h>

/* The timed task of TASK, which must be one. */
#define PTIO__TIMED(task) \
	PTIO_CONTAINER_OF(task, struct ptio_timed_task, task)

/* The top bit of an op's progress (op->p.done), which no count reaches:
 * read_until sets it when it fails part-way through a line, so that the
 * next call goes on with the line.  With it, the bit below says the line
 * was over-long and its tail was being dropped: that a line at its limit
 * is not complete cannot be told from the count.  read_until keeps its
 * counts below that bit (PTIO__OP_COUNT_MAX), and ptio_op_done hides
 * both bits; the second only where the first is set, so any other
 * machine's count may use it. */
#define PTIO__OP_RESUME ((size_t)PTIO_SSIZE_MAX + 1u)
#define PTIO__OP_DROPPING (PTIO__OP_RESUME >> 1)
#define PTIO__OP_COUNT_MAX (PTIO__OP_DROPPING - 1u)

/* ---- The timer heap (timer.c) -------------------------------------------
 *
 * Armed timed tasks sit in a pairing heap rooted at loop->timers, the one
 * that expires first: insert is O(1), removing any of them O(log n)
 * amortised, and it needs three links per task and no allocation. */

/* Insert TT (expiry in tt->when) and mark its task PTIO__TASK_TIMER. */
void ptio__timer_insert(struct ptio_timed_task *tt);
/* Remove TASK's timer if it has one armed. */
void ptio__timer_remove(struct ptio_task *task);

/* ---- Tasks (loop.c, io-source.c) ---------------------------------------- */

/* Arm TT's timer to fire at WHEN (replacing an armed one). */
void ptio__task_arm(struct ptio_timed_task *tt, ptio_tick when);

/* Drop TASK's wait registrations: its waiter slots and its timer.  Leaves
 * the run queue alone. */
void ptio__task_quiesce(struct ptio_task *task);

/* Clear every slot of SRC that TASK holds and tell the backend. */
void ptio__source_unwait(struct ptio_source *src, struct ptio_task *task);

/* Keeps a function out of line: a hot path's rare case, so that the hot
 * path itself stays a leaf that saves no registers. */
#if defined(__GNUC__)
#define PTIO__NOINLINE __attribute__((noinline))
#else
#define PTIO__NOINLINE
#endif

/* True while TASK's machine runs.  A machine that finished keeps a stale
 * RUNNING flag (the loop never touches its task again, which may be freed
 * by then), so only the loop's current task is running. */
static inline bool ptio__task_running(const struct ptio_task *task)
{
	return (task->flags & PTIO__TASK_RUNNING) &&
	       task->loop->current == task;
}

/* Append TASK, which holds no registration, to its loop's run queue for
 * the next round (loop.c; inline for the wake in io-source.c). */
static inline void ptio__task_enqueue(struct ptio_task *task)
{
	struct ptio_loop *loop = task->loop;

	task->u.next = NULL;
	*loop->run_tail = task;
	loop->run_tail = &task->u.next;
	task->flags |= PTIO__TASK_QUEUED;
}

/* Clear every waiter slot TASK holds, on its one source or, waiting in a
 * select, on each branch's (io-source.c).  TASK must not be queued. */
void ptio__task_unwait(struct ptio_task *task);

/* Clear the waiter slots of every branch of SEL, which TASK runs
 * (compose.c). */
void ptio__select_unwait(struct ptio_select *sel, struct ptio_task *task);

/* When TASK's current wait should end at the latest: the earlier of WHEN
 * (if HAS_WHEN) and the task's deadline.  Returns false if neither is set
 * (always, for a plain task). */
bool ptio__task_wait_limit(const struct ptio_task *task, bool has_when,
			   ptio_tick when, ptio_tick *limit);

/* ---- Wait queues (sync.c, io-source.c) ----------------------------------
 *
 * PTIO__SOURCE_WAITER (ptio/io.h) marks a struct ptio_waiter's private
 * source. */

/* Take L out of whatever list holds it; harmless on an unlinked L. */
static inline void ptio__wait_unlink(struct ptio_wait_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->next = l->prev = l;
}

/* ---- The provided machines' step (ops-ready.c) ---------------------------
 *
 * Every provided machine is written on PTIO_NB_AWAIT (ptio/ops.h): try
 * the non-blocking call, retry PTIO_EINTR, spend budget, check the
 * deadline, await readiness.  A machine that waits for readiness with a
 * moment of its own (ready_until, sleep) uses this wait underneath: */

/* One poll of O for INTEREST on behalf of TASK that ends at the earlier
 * of WHEN (if HAS_WHEN) and the task's deadline: readiness bits,
 * PTIO_PENDING after registering (timer armed), PTIO_ETIMEDOUT (nothing
 * left registered), or an error.  It spends no budget. */
ptio_ssize ptio__wait_until(struct ptio_task *task, struct ptio_ready o,
			    unsigned interest, bool has_when, ptio_tick when);

/*
 * ptio__write_some(w, buf, n, done) - write BUF[*DONE, N) to W until it is
 * all written or W stops taking bytes, adding what went to *DONE.  Returns
 * 0 when all went, or why it stopped: PTIO_WOULD_BLOCK, PTIO_EINTR (left
 * to the machine, whose retry spends budget), PTIO_EWRITEZERO, or W's
 * error.  It is the inner loop of copy, BufWriter and write_fmt: a writer
 * that takes a byte at a time costs no suspension, and nothing here can
 * spin, as every pass moves at least one byte.
 */
ptio_ssize ptio__write_some(struct ptio_write w, const uint8_t *buf,
			    size_t n, size_t *done);

/* ---- Bytes, sizes and UTF-8 (bytes.c) ----------------------------------- */

void ptio__copy(void *dst, const void *src, size_t n);
void ptio__zero(void *dst, size_t n);

/* The smaller of two sizes. */
static inline size_t ptio__min(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* A count as a result: sizes beyond PTIO_SSIZE_MAX are clamped. */
static inline ptio_ssize ptio__count(size_t n)
{
	return n > PTIO_SSIZE_MAX ? (ptio_ssize)PTIO_SSIZE_MAX : (ptio_ssize)n;
}

/*
 * ptio__utf8_resume(s, start, end) - where a UTF-8 check of bytes that
 * follow S[end] must start.  S[start, end) was checked already, except
 * that it may end in a character cut short; this steps back to that
 * character's lead byte (at most three bytes, never before START) so the
 * character is checked whole once the rest has arrived.  Returns END when
 * nothing is cut short.
 */
size_t ptio__utf8_resume(const uint8_t *s, size_t start, size_t end);

#endif /* PTIO_CORE_INTERNAL_H */
