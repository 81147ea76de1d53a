/*
 * src/core/io.c - non-blocking calls through trait objects (ptio/io.h),
 * and the names of readiness and interest bits.
 *
 * The single place where optional vtable slots get the seed's provided
 * defaults, and where what an implementation returns is checked before a
 * caller trusts it: a count larger than what was asked for, or a readbuf
 * left breaking its invariants, becomes PTIO_EIO rather than an overrun.
 */
#include <ptio/err.h>
#include "core/internal.h"

ptio_ssize ptio_poll_ready(struct ptio_ready o, struct ptio_task *task,
			   unsigned interest)
{
	if (interest == 0 || (interest & ~PTIO_READ_WRITE) != 0)
		return PTIO_EINVAL;
	return o.vt->poll_ready(o.self, task, interest);
}

ptio_ssize ptio_nb_read_buf(struct ptio_read r, struct ptio_readbuf *rb)
{
	size_t before = rb->filled;
	size_t init_before = rb->initialized;
	ptio_ssize n;

	if (!ptio_readbuf_valid(rb))
		return PTIO_EINVAL;
	n = r.vt->nb_read_buf(r.self, rb);
	if (n < 0)
		return n;
	if (!ptio_readbuf_valid(rb) || rb->initialized < init_before ||
	    rb->filled != before + (size_t)n)
		return PTIO_EIO;
	return n;
}

ptio_ssize (ptio_nb_read)(struct ptio_read r, void *buf, size_t len)
{
	struct ptio_readbuf rb;
	ptio_ssize n;

	if (r.vt->nb_read != NULL) {
		if (len > PTIO_SSIZE_MAX)
			len = PTIO_SSIZE_MAX; /* a read may be short anyway */
		n = r.vt->nb_read(r.self, buf, len);
		return n > (ptio_ssize)len ? PTIO_EIO : n;
	}
	/* The readbuf is made here, whole and all initialised, so only the
	 * count the reader returns needs checking. */
	ptio_readbuf_init_initialized(&rb, buf, len);
	n = r.vt->nb_read_buf(r.self, &rb);
	if (n >= 0 && (rb.filled != (size_t)n || rb.filled > len))
		return PTIO_EIO;
	return n;
}

ptio_ssize ptio_nb_read_buf_vectored(struct ptio_read r,
				     struct ptio_readbuf *rbs, size_t n)
{
	size_t i, room = 0;
	ptio_ssize got;

	for (i = 0; i < n; i++) {
		if (!ptio_readbuf_valid(&rbs[i]))
			return PTIO_EINVAL;
		if (ptio_readbuf_remaining(&rbs[i]) > PTIO_SSIZE_MAX - room)
			return PTIO_EINVAL;
		room += ptio_readbuf_remaining(&rbs[i]);
	}
	if (r.vt->nb_read_buf_vectored != NULL) {
		got = r.vt->nb_read_buf_vectored(r.self, rbs, n);
		if (got > (ptio_ssize)room)
			return PTIO_EIO;
		return got;
	}
	/* The provided default: read into the first readbuf with room. */
	for (i = 0; i < n; i++) {
		if (!ptio_readbuf_is_full(&rbs[i]))
			return ptio_nb_read_buf(r, &rbs[i]);
	}
	return 0;
}

bool ptio_is_read_vectored(struct ptio_read r)
{
	if (r.vt->is_read_vectored != NULL)
		return r.vt->is_read_vectored(r.self);
	return r.vt->nb_read_buf_vectored != NULL;
}

ptio_ssize (ptio_nb_write)(struct ptio_write w, const void *buf, size_t len)
{
	ptio_ssize n;

	if (len > PTIO_SSIZE_MAX)
		len = PTIO_SSIZE_MAX; /* a write may be short anyway */
	n = w.vt->nb_write(w.self, buf, len);
	if (n > (ptio_ssize)len)
		return PTIO_EIO;
	return n;
}

ptio_ssize ptio_nb_write_vectored(struct ptio_write w,
				  const struct ptio_iovec *iov, size_t n)
{
	size_t i, total = 0;
	ptio_ssize got;

	for (i = 0; i < n; i++) {
		if (iov[i].len > PTIO_SSIZE_MAX - total)
			return PTIO_EINVAL;
		total += iov[i].len;
	}
	if (w.vt->nb_write_vectored != NULL) {
		got = w.vt->nb_write_vectored(w.self, iov, n);
		if (got > (ptio_ssize)total)
			return PTIO_EIO;
		return got;
	}
	/* The provided default: write the first non-empty slice. */
	for (i = 0; i < n; i++) {
		if (iov[i].len > 0)
			return ptio_nb_write(w, iov[i].base, iov[i].len);
	}
	return 0;
}

ptio_ssize ptio_nb_flush(struct ptio_write w)
{
	if (w.vt->nb_flush == NULL)
		return 0;
	return w.vt->nb_flush(w.self);
}

bool ptio_is_write_vectored(struct ptio_write w)
{
	if (w.vt->is_write_vectored != NULL)
		return w.vt->is_write_vectored(w.self);
	return w.vt->nb_write_vectored != NULL;
}

/* ---- Names -------------------------------------------------------------- */

const char *ptio_readiness_name(unsigned readiness)
{
	/* Indexed by the four bits READABLE, WRITABLE, HUP, ERROR. */
	static const char *const names[16] = {
		"0",
		"READABLE",
		"WRITABLE",
		"READABLE|WRITABLE",
		"HUP",
		"READABLE|HUP",
		"WRITABLE|HUP",
		"READABLE|WRITABLE|HUP",
		"ERROR",
		"READABLE|ERROR",
		"WRITABLE|ERROR",
		"READABLE|WRITABLE|ERROR",
		"HUP|ERROR",
		"READABLE|HUP|ERROR",
		"WRITABLE|HUP|ERROR",
		"READABLE|WRITABLE|HUP|ERROR",
	};

	if (readiness >= 16)
		return NULL;
	return names[readiness];
}

const char *ptio_interest_name(unsigned interest)
{
	switch (interest) {
	case PTIO_READ:
		return "READ";
	case PTIO_WRITE:
		return "WRITE";
	case PTIO_READ_WRITE:
		return "READ_WRITE";
	default:
		return NULL;
	}
}
