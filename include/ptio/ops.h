/*
 * ptio/ops.h - the provided async methods, as machines over any trait object.
 *
 * Each takes a caller-owned struct ptio_op first (see ptio/loop.h), is
 * awaited with PTIO_AWAIT, returns PTIO_PENDING until it finishes, and then
 * returns its result: a count >= 0 or an error code.  They try the
 * non-blocking call first and only wait for readiness when it would block,
 * so data already there costs no wait.  They keep their own progress in
 * the op, so the caller never re-implements partial-transfer bookkeeping,
 * and after an error or PTIO_ETIMEDOUT, ptio_op_done(op) tells how much was
 * done.  Every wait honours the task's deadline (ptio_task_set_deadline).
 * PTIO_EINTR from a stream is retried by every machine (it spends budget
 * each time, so a stream that keeps returning it cannot hold the loop).
 *
 * Fairness: every machine here spends the running task's budget once per
 * non-blocking call and once per readiness wait, and suspends, re-queued
 * behind the other ready tasks, when it runs out (ptio_task_spend in
 * ptio/loop.h); and a task's deadline ends the machine with
 * PTIO_ETIMEDOUT once it has passed, even when data keeps arriving.
 *
 * Arguments: PTIO_AWAIT evaluates the call again on every resume.  Unless
 * a machine's comment says it latches an argument when it starts (the
 * moments of sleep, sleep_until and ready_until are latched), pass the
 * same values on every resume until it finishes: the trait object, the
 * buffer, the length, the slices.  Buffers must stay valid (and untouched
 * by anyone else) until then; they are caller memory, never copied.
 *
 * Divided into: the step for machines of your own, readiness and time,
 * Read, Write.
 */
#ifndef PTIO_OPS_H
#define PTIO_OPS_H

#include "base.h"
#include "io.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The step every provided machine is built from --------------------- */

/*
 * PTIO_NB_AWAIT(pt, task, r, nbcall, ready, interest) - inside a machine
 * whose continuation is PT, run by TASK: evaluate the non-blocking call
 * NBCALL into R until it returns something other than PTIO_WOULD_BLOCK
 * or PTIO_EINTR; on PTIO_WOULD_BLOCK, await READY (a struct ptio_ready)
 * for INTEREST and try again.  Each try spends from the task's budget
 * (suspending when it runs out) and checks the task's deadline.  R ends
 * up with NBCALL's result, or with an error from the budget or the wait
 * (PTIO_ETIMEDOUT, PTIO_ECLOSED, ...): test it afterwards.
 *
 *     PTIO_NB_AWAIT(&op->pt, op->task, n, my_nb_parse(s),
 *                   ptio_read_as_ready(r), PTIO_READ);
 *     PTIO_TRY(&op->pt, n);
 *
 * It is one await: nothing else on the line may await.  NBCALL, READY
 * and INTEREST are evaluated anew on every try, so they must not depend
 * on locals set before a suspension.  A wake-up is answered by simply
 * calling NBCALL again: spurious readiness costs one more would-block.
 */
#define PTIO_NB_AWAIT(pt, task, r, nbcall, ready, interest)              \
	for (;;) {                                                       \
		PTIO_LC_LABEL((pt)->lc)                                  \
		(r) = ptio_task_spend(task);                             \
		if ((r) == 0) {                                          \
			(r) = (nbcall);                                  \
			if ((r) == PTIO_EINTR)                           \
				continue;                                \
			if ((r) != PTIO_WOULD_BLOCK)                     \
				break;                                   \
			(r) = ptio_wait_ready(task, ready, interest);    \
			if ((r) > 0)                                     \
				continue; /* ready again: try again */   \
		}                                                        \
		if ((r) != PTIO_PENDING)                                 \
			break;                                           \
		PTIO_LC_SAVE((pt)->lc);                                  \
		return PTIO_PENDING;                                     \
	}

/* ---- Readiness and time ------------------------------------------------ */

/* Ready::ready: wait until O is ready for INTEREST; returns the readiness
 * bits (> 0: READABLE, WRITABLE, HUP, ERROR).  PTIO_ETIMEDOUT when the
 * task's deadline passes first.  Same on every resume: O, INTEREST. */
ptio_ssize ptio_ready(struct ptio_op *op, struct ptio_ready o,
		      unsigned interest);

/* ready with its own deadline WHEN (the earlier of it and the task's
 * deadline applies): PTIO_ETIMEDOUT when it passes first.  WHEN is
 * latched when the call starts, so `ptio_loop_now(loop) + 50` is fine.
 * Same on every resume: O, INTEREST.  The task must be a timed task
 * (PTIO_ENOTSUP otherwise). */
ptio_ssize ptio_ready_until(struct ptio_op *op, struct ptio_ready o,
			    unsigned interest, ptio_tick when);

/* Suspend for TICKS ticks, or until the moment WHEN; returns 0, or
 * PTIO_ETIMEDOUT if the task's deadline comes first.  The moment is
 * latched when the call starts, so TICKS and WHEN may change.  The task
 * must be a timed task (PTIO_ENOTSUP otherwise). */
ptio_ssize ptio_sleep(struct ptio_op *op, uint32_t ticks);
ptio_ssize ptio_sleep_until(struct ptio_op *op, ptio_tick when);

/*
 * ptio_wait_ready(task, o, interest) - one poll of O for INTEREST on behalf
 * of TASK, spending its budget and honouring its deadline: readiness bits,
 * PTIO_PENDING after registering TASK (and arming its deadline timer) or
 * because the budget ran out (TASK is queued), PTIO_ETIMEDOUT, or an
 * error.  Not a machine (no state): PTIO_AWAIT it directly from a task to
 * wait for readiness without an op (the memory-sensitive path), or use it
 * to build your own machines.
 */
ptio_ssize ptio_wait_ready(struct ptio_task *task, struct ptio_ready o,
			   unsigned interest);

/*
 * ptio_wait_source(task, src, interest) - ptio_wait_ready on a stream whose
 * readiness is the cache of its source SRC (ptio_source_poll_ready is its
 * poll_ready, as every fd stream's is: ptio_fd_wait_ready in ptio/posix.h
 * passes its source), without the trait object.  The same rules, the same
 * results: use it where the concrete stream is known, as the seed's
 * generic code would be monomorphised.
 */
ptio_ssize ptio_wait_source(struct ptio_task *task, struct ptio_source *src,
			    unsigned interest);

/* What ptio__wait_source_fast returns when the call must decide, and
 * when ptio_source_wait_level must finish the wait. */
#define PTIO__WAIT_SLOW (-(ptio_ssize)PTIO_SSIZE_MAX)
#define PTIO__WAIT_LEVEL (-(ptio_ssize)PTIO_SSIZE_MAX + 1)

/* The rest of a wait that ptio__wait_source_fast below found to be the
 * common case on a level-triggered backend (poll, select): TASK takes
 * slot SLOT of SRC and the backend hears of it.  PTIO_PENDING, or the
 * backend's error with the slot left free.  Exported for that code
 * only: it trusts every check the inline code made. */
ptio_ssize ptio_source_wait_level(struct ptio_task *task,
				  struct ptio_source *src, unsigned slot);

/* The common case of a wait on a source's cache, inline in the caller:
 * the running task, with no deadline and no abort pending, asks an open
 * source for READ or WRITE.  A cached answer, with budget left, is one
 * decrement of the budget; otherwise, when the slot is free and the task
 * is not queued already, the wait is three stores (an edge-triggered
 * backend registered the source once; a source of no backend is woken
 * by its owner); a level-triggered backend must hear of the waiter too,
 * which PTIO__WAIT_LEVEL leaves to ptio_source_wait_level.  (The budget
 * is not looked at then: the task suspends either way, where the
 * function would queue it to poll again next round.)  Anything else is
 * PTIO__WAIT_SLOW: the exported function decides, with every rule of
 * ptio_wait_ready. */
static inline ptio_ssize ptio__wait_source_fast(struct ptio_task *task,
						struct ptio_source *src,
						unsigned interest)
{
	struct ptio_loop *loop = task->loop;
	unsigned slot = interest - 1u;
	ptio_ssize r;

	if (slot > 1u || loop == NULL || loop->current != task ||
	    (ptio__task_bits(task) &
	     (PTIO__TASK_DEADLINE | PTIO__TASK_ABORT << 8)) ||
	    (src->flags & PTIO_SOURCE_CLOSED))
		return PTIO__WAIT_SLOW;
	r = (ptio_ssize)(src->ready & (interest | PTIO_HUP | PTIO_ERROR));
	if (r != 0) {
		if (loop->budget == 0)
			return PTIO__WAIT_SLOW;
		loop->budget--;
		return r;
	}
	if ((task->flags & (PTIO__TASK_QUEUED | PTIO__TASK_WOKEN)) ||
	    task->u.source != NULL || src->waiter[slot] != NULL)
		return PTIO__WAIT_SLOW;
	if ((src->flags & (PTIO_SOURCE_BACKEND | PTIO_SOURCE_EDGE)) ==
	    PTIO_SOURCE_BACKEND)
		return PTIO__WAIT_LEVEL;
	src->waiter[slot] = task;
	task->u.source = src;
	loop->nwaits++;
	return PTIO_PENDING;
}

/* The macros below make every `ptio_wait_ready(...)` and
 * `ptio_wait_source(...)` these; `(ptio_wait_ready)` and
 * `(ptio_wait_source)` name the functions. */
static inline ptio_ssize ptio__wait_ready_inline(struct ptio_task *task,
						 struct ptio_ready o,
						 unsigned interest)
{
	if (o.vt->poll_ready == ptio_source_poll_ready) {
		struct ptio_source *src = (struct ptio_source *)o.self;
		ptio_ssize r = ptio__wait_source_fast(task, src, interest);

		if (r == PTIO__WAIT_LEVEL)
			return ptio_source_wait_level(task, src, interest - 1u);
		if (r != PTIO__WAIT_SLOW)
			return r;
	}
	return (ptio_wait_ready)(task, o, interest);
}
#define ptio_wait_ready(task, o, interest) \
	ptio__wait_ready_inline(task, o, interest)

static inline ptio_ssize ptio__wait_source_inline(struct ptio_task *task,
						  struct ptio_source *src,
						  unsigned interest)
{
	ptio_ssize r = ptio__wait_source_fast(task, src, interest);

	if (r == PTIO__WAIT_LEVEL)
		return ptio_source_wait_level(task, src, interest - 1u);
	return r != PTIO__WAIT_SLOW ? r : (ptio_wait_source)(task, src,
							    interest);
}
#define ptio_wait_source(task, src, interest) \
	ptio__wait_source_inline(task, src, interest)

/* ---- Read -------------------------------------------------------------- */

/* Read::read: read up to LEN bytes into BUF; returns the count, 0 at end of
 * stream (or when LEN is 0).  Same on every resume: R, BUF, LEN. */
ptio_ssize ptio_read(struct ptio_op *op, struct ptio_read r, void *buf,
		     size_t len);

/* Read::read_buf: read once into RB's unfilled region (which may be
 * uninitialised); returns the count added, 0 at end of stream.  Same on
 * every resume: R, RB (the same readbuf, untouched meanwhile). */
ptio_ssize ptio_read_buf(struct ptio_op *op, struct ptio_read r,
			 struct ptio_readbuf *rb);

/* Read::read_exact: read exactly LEN bytes.  Returns LEN, or
 * PTIO_EUNEXPECTEDEOF when the stream ends first (the first
 * ptio_op_done(op) bytes of BUF hold what did arrive).  Same on every
 * resume: R, BUF, LEN. */
ptio_ssize ptio_read_exact(struct ptio_op *op, struct ptio_read r, void *buf,
			   size_t len);

/* Read::read_buf_exact: fill RB completely.  Returns the count added, or
 * PTIO_EUNEXPECTEDEOF (what arrived is in RB's filled part).  Same on
 * every resume: R, RB. */
ptio_ssize ptio_read_buf_exact(struct ptio_op *op, struct ptio_read r,
			       struct ptio_readbuf *rb);

/* ---- Write ------------------------------------------------------------- */

/* Write::write: write up to LEN bytes of BUF once; returns the count.
 * Same on every resume: W, BUF, LEN. */
ptio_ssize ptio_write(struct ptio_op *op, struct ptio_write w,
		      const void *buf, size_t len);

/* Write::write_vectored: one gathered write of up to N slices; returns the
 * count.  PTIO_EINVAL if the lengths' sum overflows.  Same on every
 * resume: W, IOV (and the slices it holds), N. */
ptio_ssize ptio_write_vectored(struct ptio_op *op, struct ptio_write w,
			       const struct ptio_iovec *iov, size_t n);

/* Write::write_all: write all LEN bytes.  Returns LEN, PTIO_EWRITEZERO if
 * the writer accepts nothing, or an error (ptio_op_done(op) bytes went).
 * Same on every resume: W, BUF, LEN. */
ptio_ssize ptio_write_all(struct ptio_op *op, struct ptio_write w,
			  const void *buf, size_t len);

/* Write::write_all_vectored: write every byte of the N slices, in order.
 * The caller's slices are read, never modified; a slice split by a short
 * write is resumed at the exact byte, empty slices are skipped.  Returns
 * the total, or an error (ptio_op_done(op) bytes went).  PTIO_EINVAL if the
 * lengths' sum overflows.  Same on every resume: W, IOV (and the slices it
 * holds), N. */
ptio_ssize ptio_write_all_vectored(struct ptio_op *op, struct ptio_write w,
				   const struct ptio_iovec *iov, size_t n);

/* Write::flush: flush until the writer reports done; returns 0.  Same on
 * every resume: W. */
ptio_ssize ptio_flush(struct ptio_op *op, struct ptio_write w);

/* ---- Read: vectored, to the end ---------------------------------------- */

struct ptio_bytes; /* ptio/bytes.h */

/* Read::read_buf_vectored: one read into the N readbufs, filled in order
 * (the reader's readv, or the provided default: the first readbuf with
 * room).  Returns the count added in all, 0 at end of stream (or when
 * every readbuf is full).  Same on every resume: R, RBS, N. */
ptio_ssize ptio_read_buf_vectored(struct ptio_op *op, struct ptio_read r,
				  struct ptio_readbuf *rbs, size_t n);

/* Read::read_to_end: append everything up to end of stream to B, growing
 * it through its allocator hook.  Returns the count appended.  Errors
 * keep every byte read in B (ptio_op_done(op) of them): PTIO_ENOBUFS when
 * B is full and has no hook (nothing is read that B cannot hold, so a
 * fixed buffer needs one byte more than the stream to see its end),
 * PTIO_ENOMEM when the hook fails, or the stream's error.  Bound what an
 * untrusted peer can make it allocate with ptio_take.  Same on every
 * resume: R, B (which nobody else touches meanwhile). */
ptio_ssize ptio_read_to_end(struct ptio_op *op, struct ptio_read r,
			    struct ptio_bytes *b);

/* Read::read_to_string: read_to_end that checks the bytes it appends are
 * UTF-8, as they arrive (a character split between two reads is fine).
 * Invalid data: PTIO_EILSEQ, and B's content is what it was before the
 * call (its capacity may have grown).  Other errors keep the bytes read,
 * as read_to_end does.  B is not NUL-terminated; see ptio_bytes_cstr.
 * Same on every resume: R, B. */
ptio_ssize ptio_read_to_string(struct ptio_op *op, struct ptio_read r,
			       struct ptio_bytes *b);

#ifdef __cplusplus
}
#endif

#endif /* PTIO_OPS_H */
