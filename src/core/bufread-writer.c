/*
 * src/core/bufread-writer.c - BufWriter: a buffer in front of any Write.
 *
 * Divided into: writing the buffer out, the Write side, the vtable.
 *
 * Buffered bytes are buf[head, tail).  New bytes only ever go in at the
 * tail; writing out advances the head.  Moving the rest down to the front
 * happens only once the head has passed half the buffer, so a writer that
 * takes one byte at a time costs O(1) amortised per byte instead of a
 * move of the whole buffer per byte.
 */
#include <ptio/bufread.h>
#include "core/internal.h"

/* ---- Writing out ------------------------------------------------------------ */

/* Move the buffered bytes to the front once the head is past halfway. */
static void settle(struct ptio_bufwriter *bw)
{
	size_t i, n = bw->tail - bw->head;

	if (n == 0) {
		bw->head = bw->tail = 0;
	} else if (bw->head >= bw->cap / 2) {
		/* A forward copy is safe: the destination is below. */
		for (i = 0; i < n; i++)
			bw->buf[i] = bw->buf[bw->head + i];
		bw->head = 0;
		bw->tail = n;
	}
}

/* Write buffered bytes to the inner writer until none are left (0), it
 * would block, or it fails. */
static ptio_ssize write_out(struct ptio_bufwriter *bw)
{
	size_t head = bw->head;
	ptio_ssize n = ptio__write_some(bw->inner, bw->buf, bw->tail, &head);

	bw->head = head;
	settle(bw);
	return n;
}

static ptio_ssize bufwriter_poll_ready(void *self, struct ptio_task *task,
				       unsigned interest)
{
	struct ptio_bufwriter *bw = (struct ptio_bufwriter *)self;

	/* Room in the buffer answers WRITE without asking anyone, unless
	 * what waits is blocked on the inner writer (a flush, or a write
	 * into a full buffer). */
	if ((interest & PTIO_WRITE) && !bw->blocked && bw->tail < bw->cap)
		return PTIO_WRITABLE;
	return ptio_poll_ready(ptio_write_as_ready(bw->inner), task, interest);
}

/* ---- Write ------------------------------------------------------------------------ */

/*
 * The common front of nb_write and nb_write_vectored for TOTAL new bytes:
 * write the buffer out first when they do not fit.  Returns 1 when they
 * should go straight to the inner writer (the buffer is empty and they
 * are at least as large as it), 0 to buffer what fits, or an error.
 *
 * Whenever there is room at the tail, a write takes at least one byte:
 * a straight write that would block buffers what fits instead.  That is
 * what lets poll_ready answer WRITE from the buffer's room alone without
 * ever sending a caller round a busy loop.
 */
static ptio_ssize make_room(struct ptio_bufwriter *bw, size_t total)
{
	ptio_ssize r;

	if (total > bw->cap - bw->tail) {
		r = write_out(bw);
		if (r < 0 && r != PTIO_WOULD_BLOCK)
			return r;
	}
	if (bw->head == bw->tail && total >= bw->cap)
		return 1;
	return bw->tail < bw->cap ? 0 : PTIO_WOULD_BLOCK;
}

static size_t buffer_in(struct ptio_bufwriter *bw, const void *src, size_t n)
{
	size_t k = ptio__min(n, bw->cap - bw->tail);

	ptio__copy(bw->buf + bw->tail, src, k);
	bw->tail += k;
	return k;
}

/* Remember whether R, about to be returned, is a block on the inner
 * writer: poll_ready must then ask the inner writer. */
static ptio_ssize note(struct ptio_bufwriter *bw, ptio_ssize r)
{
	bw->blocked = r == PTIO_WOULD_BLOCK;
	return r;
}

static ptio_ssize bufwriter_write(void *self, const void *buf, size_t len)
{
	struct ptio_bufwriter *bw = (struct ptio_bufwriter *)self;
	ptio_ssize r;

	if (len == 0)
		return 0;
	r = make_room(bw, len);
	if (r < 0)
		return note(bw, r);
	if (r == 1) {
		r = ptio_nb_write(bw->inner, buf, len);
		if (r != PTIO_WOULD_BLOCK)
			return note(bw, r);
	}
	return note(bw, (ptio_ssize)buffer_in(bw, buf, len));
}

static ptio_ssize bufwriter_write_vectored(void *self,
					   const struct ptio_iovec *iov,
					   size_t n)
{
	struct ptio_bufwriter *bw = (struct ptio_bufwriter *)self;
	size_t i, total = 0, done = 0;
	ptio_ssize r;

	for (i = 0; i < n; i++)
		total += iov[i].len; /* the dispatch checked the sum */
	if (total == 0)
		return 0;
	r = make_room(bw, total);
	if (r < 0)
		return note(bw, r);
	if (r == 1) {
		r = ptio_nb_write_vectored(bw->inner, iov, n);
		if (r != PTIO_WOULD_BLOCK)
			return note(bw, r);
	}
	for (i = 0; i < n && bw->tail < bw->cap; i++)
		done += buffer_in(bw, iov[i].base, iov[i].len);
	return note(bw, (ptio_ssize)done);
}

static ptio_ssize bufwriter_flush(void *self)
{
	struct ptio_bufwriter *bw = (struct ptio_bufwriter *)self;
	ptio_ssize r = write_out(bw);

	if (r < 0)
		return note(bw, r);
	return note(bw, ptio_nb_flush(bw->inner));
}

/* Gathering is what a buffer does best. */
static bool bufwriter_is_write_vectored(void *self)
{
	(void)self;
	return true;
}

/* ---- The vtable --------------------------------------------------------------------- */

static const struct ptio_write_vt bufwriter_write_vt = {
	.ready = { .poll_ready = bufwriter_poll_ready },
	.nb_write = bufwriter_write,
	.nb_write_vectored = bufwriter_write_vectored,
	.nb_flush = bufwriter_flush,
	.is_write_vectored = bufwriter_is_write_vectored,
};

void ptio_bufwriter_init(struct ptio_bufwriter *bw, struct ptio_write inner,
			 void *buf, size_t cap)
{
	PTIO_ASSERT(buf != NULL && cap > 0);
	bw->inner = inner;
	bw->buf = (uint8_t *)buf;
	bw->cap = cap;
	bw->head = bw->tail = 0;
	bw->blocked = false;
}

struct ptio_write ptio_bufwriter_writer(struct ptio_bufwriter *bw)
{
	struct ptio_write o = { bw, &bufwriter_write_vt };

	return o;
}

struct ptio_ready ptio_bufwriter_ready(struct ptio_bufwriter *bw)
{
	return ptio_write_as_ready(ptio_bufwriter_writer(bw));
}
