/*
 * src/core/ops-write.c - the provided Write machines: write,
 * write_vectored, write_all, write_all_vectored and flush, all on
 * PTIO_NB_AWAIT; and ptio__write_some, the "write until blocked" loop of
 * copy, BufWriter and write_fmt.
 *
 * write_all_vectored never modifies the caller's slices.  On each attempt
 * it skips the slices op->p.done already covers and gathers the rest into
 * a small window on the stack, the split slice starting at its exact
 * unwritten byte and empty slices left out, so a short write can neither
 * repeat nor drop a byte.
 */
#include "core/internal.h"

/* Slices gathered per write attempt: at most this many go to the stream
 * at once (the rest follow), which also keeps writev under IOV_MAX. */
#define PTIO_IOV_WINDOW 16

/* The sum of the slices' lengths, or PTIO_EINVAL if it overflows. */
static ptio_ssize iov_total(const struct ptio_iovec *iov, size_t n)
{
	size_t i, total = 0;

	for (i = 0; i < n; i++) {
		if (iov[i].len > PTIO_SSIZE_MAX - total)
			return PTIO_EINVAL;
		total += iov[i].len;
	}
	return (ptio_ssize)total;
}

ptio_ssize ptio_write(struct ptio_op *op, struct ptio_write w,
		      const void *buf, size_t len)
{
	ptio_ssize n = 0;

	PTIO_BEGIN(&op->pt);
	PTIO_NB_AWAIT(&op->pt, op->task, n, ptio_nb_write(w, buf, len),
		      ptio_write_as_ready(w), PTIO_WRITE);
	PTIO_END_WITH(&op->pt, n);
}

ptio_ssize ptio_write_vectored(struct ptio_op *op, struct ptio_write w,
			       const struct ptio_iovec *iov, size_t n)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&op->pt);
	PTIO_NB_AWAIT(&op->pt, op->task, r, ptio_nb_write_vectored(w, iov, n),
		      ptio_write_as_ready(w), PTIO_WRITE);
	PTIO_END_WITH(&op->pt, r);
}

ptio_ssize ptio_write_all(struct ptio_op *op, struct ptio_write w,
			  const void *buf, size_t len)
{
	ptio_ssize n = 0;

	PTIO_BEGIN(&op->pt);
	op->p.done = 0;
	if (len > PTIO_SSIZE_MAX)
		PTIO_RETURN(&op->pt, PTIO_EINVAL);
	while (op->p.done < len) {
		PTIO_NB_AWAIT(&op->pt, op->task, n,
			      ptio_nb_write(w, (const uint8_t *)buf + op->p.done,
					    len - op->p.done),
			      ptio_write_as_ready(w), PTIO_WRITE);
		PTIO_TRY(&op->pt, n);
		if (n == 0)
			PTIO_RETURN(&op->pt, PTIO_EWRITEZERO);
		op->p.done += (size_t)n;
	}
	PTIO_END_WITH(&op->pt, (ptio_ssize)len);
}

/* Gather into WIN the unwritten part of IOV after DONE bytes: skips what is
 * written and empty slices, starts the split slice at its first unwritten
 * byte.  Returns the number of window entries. */
static size_t iov_window(const struct ptio_iovec *iov, size_t n, size_t done,
			 struct ptio_iovec *win)
{
	size_t i = 0, k = 0;

	while (i < n && done >= iov[i].len)
		done -= iov[i++].len;
	for (; i < n && k < PTIO_IOV_WINDOW; i++) {
		if (iov[i].len == done)
			continue; /* empty (done is 0 past the first) */
		win[k] = ptio_iovec_make((const uint8_t *)iov[i].base + done,
					 iov[i].len - done);
		done = 0;
		k++;
	}
	return k;
}

ptio_ssize ptio_write_all_vectored(struct ptio_op *op, struct ptio_write w,
				   const struct ptio_iovec *iov, size_t n)
{
	struct ptio_iovec win[PTIO_IOV_WINDOW];
	ptio_ssize r = 0;

	PTIO_BEGIN(&op->pt);
	op->p.done = 0;
	r = iov_total(iov, n);
	PTIO_TRY(&op->pt, r);
	while (op->p.done < (size_t)iov_total(iov, n)) {
		PTIO_NB_AWAIT(&op->pt, op->task, r,
			      ptio_nb_write_vectored(
				      w, win, iov_window(iov, n, op->p.done, win)),
			      ptio_write_as_ready(w), PTIO_WRITE);
		PTIO_TRY(&op->pt, r);
		if (r == 0)
			PTIO_RETURN(&op->pt, PTIO_EWRITEZERO);
		op->p.done += (size_t)r;
	}
	PTIO_END_WITH(&op->pt, (ptio_ssize)op->p.done);
}

ptio_ssize ptio_flush(struct ptio_op *op, struct ptio_write w)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&op->pt);
	PTIO_NB_AWAIT(&op->pt, op->task, r, ptio_nb_flush(w),
		      ptio_write_as_ready(w), PTIO_WRITE);
	PTIO_END_WITH(&op->pt, r < 0 ? r : 0);
}

/* ---- Writing until blocked ---------------------------------------------- */

ptio_ssize ptio__write_some(struct ptio_write w, const uint8_t *buf,
			    size_t n, size_t *done)
{
	ptio_ssize k;

	while (*done < n) {
		k = ptio_nb_write(w, buf + *done, n - *done);
		if (k == 0)
			return PTIO_EWRITEZERO;
		if (k < 0)
			return k;
		*done += (size_t)k;
	}
	return 0;
}
