/*
 * src/core/bufio-internal.h - what the BufRead, adapter, write_fmt and
 * read_to_end files share.
 *
 * Its main piece is PTIO__NB_AWAIT, the step every provided machine is
 * built from: try the non-blocking call, and wait for readiness only when
 * it would block.  Then a UTF-8 helper and two size helpers.
 */
#ifndef PTIO_CORE_BUFIO_INTERNAL_H
#define PTIO_CORE_BUFIO_INTERNAL_H

#include <ptio/base.h>
#include <ptio/err.h>
#include <ptio/io.h>
#include <ptio/loop.h>
#include <ptio/ops.h>

/*
 * PTIO__NB_AWAIT(pt, task, r, nbcall, ready, interest) - inside a machine:
 * evaluate NBCALL into R until it returns something other than
 * PTIO_WOULD_BLOCK or PTIO_EINTR.  On WOULD_BLOCK, await READY's
 * INTEREST for TASK (honouring its deadline) and try again; an error from
 * the wait (PTIO_ETIMEDOUT, PTIO_ECLOSED, ...) finishes the machine with
 * it.  PTIO_EINTR is retried at once, as Rust's provided methods retry
 * ErrorKind::Interrupted: a stream should never return it, but one that
 * does must not make a copy or a line read fail.
 *
 * After a wakeup the call is simply made again: spurious readiness costs
 * one more WOULD_BLOCK (which clears the stream's cached bit) and one more
 * wait.  NBCALL is evaluated anew every time, so it must not depend on
 * locals set before a suspension.  It contains one await: nothing else on
 * the line may await.
 */
#define PTIO__NB_AWAIT(pt, task, r, nbcall, ready, interest)              \
	for (;;) {                                                        \
		(r) = (nbcall);                                           \
		if ((r) == PTIO_EINTR)                                    \
			continue;                                         \
		if ((r) != PTIO_WOULD_BLOCK)                              \
			break;                                            \
		PTIO_AWAIT(pt, r, ptio_wait_ready(task, ready, interest)); \
		PTIO_TRY(pt, r);                                          \
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

#endif /* PTIO_CORE_BUFIO_INTERNAL_H */
