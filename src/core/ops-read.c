/*
 * src/core/ops-read.c - the provided Read machines: read, read_buf,
 * read_exact and read_buf_exact.
 *
 * Each tries the non-blocking read first and waits for readiness only when
 * it would block.  read and read_buf hand PTIO_EINTR to the caller; the
 * exact variants retry it, as Rust's do.  Progress that must survive a wait lives in the op (the
 * count in op->p.done) or in the caller's readbuf, never in a local.
 */
#include <ptio/err.h>
#include <ptio/ops.h>
#include "core/internal.h"

static ptio_ssize wait_readable(struct ptio_op *op, struct ptio_read r)
{
	return ptio_wait_ready(op->task, ptio_read_as_ready(r), PTIO_READ);
}

ptio_ssize ptio_read_buf(struct ptio_op *op, struct ptio_read r,
			 struct ptio_readbuf *rb)
{
	ptio_ssize n = 0;

	PTIO_BEGIN(&op->pt);
	for (;;) {
		n = ptio_nb_read_buf(r, rb);
		if (n != PTIO_WOULD_BLOCK)
			break;
		PTIO_AWAIT(&op->pt, n, wait_readable(op, r));
		if (n < 0)
			break;
	}
	PTIO_END_WITH(&op->pt, n);
}

ptio_ssize ptio_read(struct ptio_op *op, struct ptio_read r, void *buf,
		     size_t len)
{
	struct ptio_readbuf rb;

	/* Nothing is kept in RB across a wait: the read that fills it is
	 * also the one that finishes the machine. */
	ptio_readbuf_init_initialized(&rb, buf, len);
	return ptio_read_buf(op, r, &rb);
}

ptio_ssize ptio_read_buf_exact(struct ptio_op *op, struct ptio_read r,
			       struct ptio_readbuf *rb)
{
	ptio_ssize n = 0;

	PTIO_BEGIN(&op->pt);
	op->p.done = 0;
	if (!ptio_readbuf_valid(rb))
		PTIO_RETURN(&op->pt, PTIO_EINVAL);
	while (!ptio_readbuf_is_full(rb)) {
		n = ptio_nb_read_buf(r, rb);
		if (n == PTIO_WOULD_BLOCK) {
			PTIO_AWAIT(&op->pt, n, wait_readable(op, r));
			PTIO_TRY(&op->pt, n);
			continue;
		}
		if (n == PTIO_EINTR)
			continue; /* as Rust's exact/all methods do */
		PTIO_TRY(&op->pt, n);
		if (n == 0)
			PTIO_RETURN(&op->pt, PTIO_EUNEXPECTEDEOF);
		op->p.done += (size_t)n;
	}
	PTIO_END_WITH(&op->pt, (ptio_ssize)op->p.done);
}

ptio_ssize ptio_read_exact(struct ptio_op *op, struct ptio_read r, void *buf,
			   size_t len)
{
	ptio_ssize n = 0;

	PTIO_BEGIN(&op->pt);
	op->p.done = 0;
	if (len > PTIO_SSIZE_MAX)
		PTIO_RETURN(&op->pt, PTIO_EINVAL);
	while (op->p.done < len) {
		n = ptio_nb_read(r, (uint8_t *)buf + op->p.done,
				 len - op->p.done);
		if (n == PTIO_WOULD_BLOCK) {
			PTIO_AWAIT(&op->pt, n, wait_readable(op, r));
			PTIO_TRY(&op->pt, n);
			continue;
		}
		if (n == PTIO_EINTR)
			continue; /* as Rust's exact/all methods do */
		PTIO_TRY(&op->pt, n);
		if (n == 0)
			PTIO_RETURN(&op->pt, PTIO_EUNEXPECTEDEOF);
		op->p.done += (size_t)n;
	}
	PTIO_END_WITH(&op->pt, (ptio_ssize)len);
}
