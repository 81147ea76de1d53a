/*
 * src/core/ops-read.c - the provided Read machines: read, read_buf,
 * read_exact, read_buf_exact, read_buf_vectored, read_to_end and
 * read_to_string.
 *
 * Each is written on PTIO_NB_AWAIT: the non-blocking read is tried first,
 * readiness is awaited only when it would block, PTIO_EINTR is retried,
 * and every try spends budget and checks the deadline.  Progress that
 * must survive a wait lives in the op (the count in op->p.done) or in the
 * caller's buffers, never in a local.
 *
 * read_to_end appends straight into the caller's ptio_bytes, through a
 * readbuf over its spare room (uninitialised memory costs nothing), and
 * grows it through the caller's allocator hook.  read_to_string is the
 * same loop plus a UTF-8 check of each read's bytes as they land.  Where
 * the call started is always b->len - op->p.done.
 */
#include <ptio/bytes.h>
#include "core/internal.h"

/* ---- read, read_buf, read_buf_vectored ---------------------------------- */

ptio_ssize ptio_read_buf(struct ptio_op *op, struct ptio_read r,
			 struct ptio_readbuf *rb)
{
	ptio_ssize n = 0;

	PTIO_BEGIN(&op->pt);
	PTIO_NB_AWAIT(&op->pt, op->task, n, ptio_nb_read_buf(r, rb),
		      ptio_read_as_ready(r), PTIO_READ);
	PTIO_END_WITH(&op->pt, n);
}

ptio_ssize ptio_read(struct ptio_op *op, struct ptio_read r, void *buf,
		     size_t len)
{
	ptio_ssize n = 0;

	PTIO_BEGIN(&op->pt);
	PTIO_NB_AWAIT(&op->pt, op->task, n, ptio_nb_read(r, buf, len),
		      ptio_read_as_ready(r), PTIO_READ);
	PTIO_END_WITH(&op->pt, n);
}

ptio_ssize ptio_read_buf_vectored(struct ptio_op *op, struct ptio_read r,
				  struct ptio_readbuf *rbs, size_t n)
{
	ptio_ssize got = 0;

	PTIO_BEGIN(&op->pt);
	PTIO_NB_AWAIT(&op->pt, op->task, got,
		      ptio_nb_read_buf_vectored(r, rbs, n),
		      ptio_read_as_ready(r), PTIO_READ);
	PTIO_END_WITH(&op->pt, got);
}

/* ---- read_exact, read_buf_exact ----------------------------------------- */

ptio_ssize ptio_read_buf_exact(struct ptio_op *op, struct ptio_read r,
			       struct ptio_readbuf *rb)
{
	ptio_ssize n = 0;

	PTIO_BEGIN(&op->pt);
	op->p.done = 0;
	if (!ptio_readbuf_valid(rb))
		PTIO_RETURN(&op->pt, PTIO_EINVAL);
	while (!ptio_readbuf_is_full(rb)) {
		PTIO_NB_AWAIT(&op->pt, op->task, n, ptio_nb_read_buf(r, rb),
			      ptio_read_as_ready(r), PTIO_READ);
		PTIO_TRY(&op->pt, n);
		if (n == 0)
			PTIO_RETURN(&op->pt, PTIO_EUNEXPECTEDEOF);
		op->p.done += (size_t)n;
	}
	PTIO_END_WITH(&op->pt, ptio__count(op->p.done));
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
		PTIO_NB_AWAIT(&op->pt, op->task, n,
			      ptio_nb_read(r, (uint8_t *)buf + op->p.done,
					   len - op->p.done),
			      ptio_read_as_ready(r), PTIO_READ);
		PTIO_TRY(&op->pt, n);
		if (n == 0)
			PTIO_RETURN(&op->pt, PTIO_EUNEXPECTEDEOF);
		op->p.done += (size_t)n;
	}
	PTIO_END_WITH(&op->pt, (ptio_ssize)len);
}

/* ---- read_to_end, read_to_string ---------------------------------------- */

/* One non-blocking read into B's spare room.  The readbuf is rebuilt on
 * every attempt, so nothing of it has to survive a wait. */
static ptio_ssize read_spare(struct ptio_read r, struct ptio_bytes *b)
{
	struct ptio_readbuf rb;
	ptio_ssize n;

	ptio_readbuf_init(&rb, b->data + b->len, b->cap - b->len);
	n = ptio_nb_read_buf(r, &rb);
	if (n > 0)
		b->len += (size_t)n;
	return n;
}

/* Room for the next read: grow when full (the hook decides how, or
 * PTIO_ENOBUFS without one). */
static ptio_ssize make_room(struct ptio_bytes *b)
{
	if (b->len < b->cap)
		return 0;
	return ptio_bytes_reserve(b, 1);
}

/*
 * The machine behind read_to_end and read_to_string.  With TEXT, the bytes
 * each read appends are checked before the next read; a bad byte puts B
 * back as it was when the call started.
 */
static ptio_ssize read_to_end(struct ptio_op *op, struct ptio_read r,
			      struct ptio_bytes *b, bool text)
{
	ptio_ssize n = 0;
	size_t start, from, tail;

	PTIO_BEGIN(&op->pt);
	op->p.done = 0;
	if (b->len > b->cap || (b->data == NULL && b->cap > 0))
		PTIO_RETURN(&op->pt, PTIO_EINVAL);
	for (;;) {
		n = make_room(b);
		PTIO_TRY(&op->pt, n);
		PTIO_NB_AWAIT(&op->pt, op->task, n, read_spare(r, b),
			      ptio_read_as_ready(r), PTIO_READ);
		PTIO_TRY(&op->pt, n);
		start = b->len - op->p.done - (size_t)n;
		if (text) {
			from = ptio__utf8_resume(b->data, start,
						 b->len - (size_t)n);
			if (ptio_utf8_check(b->data + from, b->len - from,
					    n == 0 ? NULL : &tail) < 0) {
				b->len = start;
				op->p.done = 0;
				PTIO_RETURN(&op->pt, PTIO_EILSEQ);
			}
		}
		if (n == 0)
			break;
		op->p.done += (size_t)n;
	}
	PTIO_END_WITH(&op->pt, ptio__count(op->p.done));
}

ptio_ssize ptio_read_to_end(struct ptio_op *op, struct ptio_read r,
			    struct ptio_bytes *b)
{
	return read_to_end(op, r, b, false);
}

ptio_ssize ptio_read_to_string(struct ptio_op *op, struct ptio_read r,
			       struct ptio_bytes *b)
{
	return read_to_end(op, r, b, true);
}
