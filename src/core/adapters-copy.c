/*
 * src/core/adapters-copy.c - io::copy through the loop's scratch buffer, and
 * copy_buf straight out of a BufRead.
 *
 * ptio_copy alternates two phases.  Drain: write what the spill holds
 * (bytes read earlier that the writer refused), waiting for writability
 * as needed; the spill is caller memory, so waiting is safe.  Burst: wait
 * for readability holding nothing, then, in one activation with no
 * suspension in between, read a chunk into the scratch buffer and write
 * as much of it as the writer takes; the rest goes into the spill before
 * the machine can suspend.  Chunks are never larger than the spill, so
 * the rest always fits.  See ptio/adapters.h.
 */
#include <ptio/adapters.h>
#include "core/internal.h"

/* ---- copy --------------------------------------------------------------------- */

/*
 * One burst: read a chunk and write it on at once; park what the writer
 * refused in the spill (which is empty on entry).  Returns the count
 * read (> 0), 0 at end of stream, WOULD_BLOCK from the read, or an error
 * (from the read, or from the write, with the unwritten rest spilled).
 */
static ptio_ssize burst(struct ptio_op *op, struct ptio_read r,
			struct ptio_write w, struct ptio_spill *sp)
{
	size_t len, wrote = 0;
	uint8_t *buf = ptio_loop_scratch(op->task->loop, &len);
	ptio_ssize n, err;

	if (buf == NULL || len == 0) {
		buf = sp->buf; /* no scratch: the spill is the buffer */
		len = sp->cap;
	}
	n = ptio_nb_read(r, buf, ptio__min(len, sp->cap));
	if (n <= 0)
		return n;
	err = ptio__write_some(w, buf, (size_t)n, &wrote);
	op->p.done += wrote;
	if (wrote < (size_t)n) {
		if (buf != sp->buf)
			ptio__copy(sp->buf, buf + wrote, (size_t)n - wrote);
		sp->pos = buf != sp->buf ? 0 : wrote;
		sp->len = buf != sp->buf ? (size_t)n - wrote : (size_t)n;
	}
	/* A block or an interruption leaves the rest in the spill, which
	 * the machine drains next: a burst never runs with a full spill. */
	if (err < 0 && err != PTIO_WOULD_BLOCK && err != PTIO_EINTR)
		return err;
	return n;
}

/* One non-blocking write of the spill's pending bytes. */
static ptio_ssize drain_some(struct ptio_write w, struct ptio_spill *sp)
{
	ptio_ssize k = ptio_nb_write(w, sp->buf + sp->pos, sp->len - sp->pos);

	if (k == 0)
		return PTIO_EWRITEZERO;
	if (k > 0) {
		sp->pos += (size_t)k;
		if (sp->pos == sp->len)
			sp->pos = sp->len = 0;
	}
	return k;
}

ptio_ssize ptio_copy(struct ptio_op *op, struct ptio_read r,
		     struct ptio_write w, struct ptio_spill *spill)
{
	ptio_ssize n = 0;

	PTIO_BEGIN(&op->pt);
	op->p.done = 0;
	if (spill->cap == 0 || spill->pos > spill->len ||
	    spill->len > spill->cap)
		PTIO_RETURN(&op->pt, PTIO_EINVAL);
	for (;;) {
		while (ptio_spill_pending(spill) > 0) {
			PTIO_NB_AWAIT(&op->pt, op->task, n,
				      drain_some(w, spill),
				      ptio_write_as_ready(w), PTIO_WRITE);
			PTIO_TRY(&op->pt, n);
			op->p.done += (size_t)n;
		}
		PTIO_NB_AWAIT(&op->pt, op->task, n, burst(op, r, w, spill),
			      ptio_read_as_ready(r), PTIO_READ);
		PTIO_TRY(&op->pt, n);
		if (n == 0)
			break;
	}
	PTIO_END_WITH(&op->pt, ptio__count(op->p.done));
}

/* ---- copy_buf ------------------------------------------------------------------ */

/* Write from B's view once; consume what was written.  The view is asked
 * for again here rather than kept from an earlier activation: a BufRead
 * returns the same bytes at once when nothing was consumed. */
static ptio_ssize copy_buf_step(struct ptio_bufread b, struct ptio_write w)
{
	const uint8_t *d;
	ptio_ssize n = ptio_nb_fill_buf(b, &d);

	if (n == 0 || n == PTIO_WOULD_BLOCK)
		return PTIO_EIO; /* the view vanished: a broken BufRead */
	if (n < 0)
		return n;
	n = ptio_nb_write(w, d, (size_t)n);
	if (n == 0)
		return PTIO_EWRITEZERO;
	if (n > 0)
		ptio_bufread_consume(b, (size_t)n);
	return n;
}

ptio_ssize ptio_copy_buf(struct ptio_op *op, struct ptio_bufread b,
			 struct ptio_write w)
{
	ptio_ssize n = 0;
	const uint8_t *d;

	PTIO_BEGIN(&op->pt);
	op->p.done = 0;
	for (;;) {
		PTIO_NB_AWAIT(&op->pt, op->task, n, ptio_nb_fill_buf(b, &d),
			      ptio_bufread_as_ready(b), PTIO_READ);
		PTIO_TRY(&op->pt, n);
		if (n == 0)
			break;
		PTIO_NB_AWAIT(&op->pt, op->task, n, copy_buf_step(b, w),
			      ptio_write_as_ready(w), PTIO_WRITE);
		PTIO_TRY(&op->pt, n);
		op->p.done += (size_t)n;
	}
	PTIO_END_WITH(&op->pt, ptio__count(op->p.done));
}
