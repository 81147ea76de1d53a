/*
 * src/core/pipe.c - the in-memory byte pipe (ptio/pipe.h).
 *
 * Divided into: the ring, the read end (Read and BufRead), the write end,
 * closing and setup.  The ring is a plain head/len pair over the
 * caller's buffer; every byte copy is at most two ptio__copy calls.
 */
#include <ptio/pipe.h>
#include <ptio/err.h>
#include "core/internal.h"

/* ---- The ring ------------------------------------------------------------ */

/* How many bytes from HEAD can be read in one piece. */
static size_t ring_contig(const struct ptio_pipe *p)
{
	size_t to_end = p->cap - p->head;

	return p->len < to_end ? p->len : to_end;
}

/* Drop the N oldest bytes and tell a waiting writer there is room. */
static void ring_drop(struct ptio_pipe *p, size_t n)
{
	p->head += n;
	if (p->head >= p->cap)
		p->head -= p->cap;
	p->len -= n;
	if (n > 0)
		ptio_source_ready(p->ws, PTIO_WRITABLE);
}

/* Copy up to N of the oldest bytes to DST and drop them. */
static size_t ring_take(struct ptio_pipe *p, uint8_t *dst, size_t n)
{
	size_t done = 0, k;

	while (done < n && p->len > 0) {
		k = ring_contig(p);
		if (k > n - done)
			k = n - done;
		ptio__copy(dst + done, p->buf + p->head, k);
		done += k;
		ring_drop(p, k);
	}
	return done;
}

/* Append up to N bytes of SRC. */
static size_t ring_put(struct ptio_pipe *p, const uint8_t *src, size_t n)
{
	size_t done = 0, tail, k;

	while (done < n && p->len < p->cap) {
		tail = p->head + p->len;
		if (tail >= p->cap)
			tail -= p->cap;
		k = (tail >= p->head ? p->cap : p->head) - tail;
		if (k > n - done)
			k = n - done;
		ptio__copy(p->buf + tail, src + done, k);
		p->len += k;
		done += k;
	}
	return done;
}

/* ---- The read end ---------------------------------------------------------- */

static ptio_ssize pipe_poll_read(void *self, struct ptio_task *task,
				 unsigned interest)
{
	struct ptio_pipe *p = self;

	return ptio_source_poll(p->rs, task, interest);
}

/* What a read of an empty ring returns: end of stream, closed, or wait. */
static ptio_ssize pipe_empty(struct ptio_pipe *p)
{
	if (p->flags & PTIO_PIPE_RCLOSED)
		return PTIO_ECLOSED;
	if (p->flags & PTIO_PIPE_WCLOSED)
		return 0;
	ptio_source_clear(p->rs, PTIO_READABLE);
	return PTIO_WOULD_BLOCK;
}

static ptio_ssize pipe_read_buf(void *self, struct ptio_readbuf *rb)
{
	struct ptio_pipe *p = self;
	size_t n;

	if (p->len == 0 || (p->flags & PTIO_PIPE_RCLOSED))
		return pipe_empty(p);
	n = ring_take(p, ptio_readbuf_unfilled(rb), ptio_readbuf_remaining(rb));
	(void)ptio_readbuf_advance(rb, n);
	return (ptio_ssize)n;
}

static ptio_ssize pipe_fill_buf(void *self, const uint8_t **data)
{
	struct ptio_pipe *p = self;

	if (p->len == 0 || (p->flags & PTIO_PIPE_RCLOSED))
		return pipe_empty(p);
	*data = p->buf + p->head;
	return (ptio_ssize)ring_contig(p);
}

static void pipe_consume(void *self, size_t n)
{
	struct ptio_pipe *p = self;
	size_t k = ring_contig(p);

	ring_drop(p, n < k ? n : k);
}

static const struct ptio_read_vt pipe_read_vt = {
	.ready = { .poll_ready = pipe_poll_read },
	.nb_read_buf = pipe_read_buf,
};

static const struct ptio_bufread_vt pipe_bufread_vt = {
	.ready = { .poll_ready = pipe_poll_read },
	.nb_fill_buf = pipe_fill_buf,
	.consume = pipe_consume,
};

struct ptio_read ptio_pipe_reader(struct ptio_pipe *p)
{
	struct ptio_read r = { p, &pipe_read_vt };

	return r;
}

struct ptio_bufread ptio_pipe_bufread(struct ptio_pipe *p)
{
	struct ptio_bufread b = { p, &pipe_bufread_vt };

	return b;
}

/* ---- The write end --------------------------------------------------------- */

static ptio_ssize pipe_poll_write(void *self, struct ptio_task *task,
				  unsigned interest)
{
	struct ptio_pipe *p = self;

	return ptio_source_poll(p->ws, task, interest);
}

static ptio_ssize pipe_write(void *self, const void *buf, size_t len)
{
	struct ptio_pipe *p = self;
	size_t n;

	if (p->flags & PTIO_PIPE_RCLOSED)
		return PTIO_EPIPE;
	if (p->flags & PTIO_PIPE_WCLOSED)
		return PTIO_ECLOSED;
	if (len == 0)
		return 0;
	if (p->len == p->cap) {
		ptio_source_clear(p->ws, PTIO_WRITABLE);
		return PTIO_WOULD_BLOCK;
	}
	n = ring_put(p, buf, len);
	ptio_source_ready(p->rs, PTIO_READABLE);
	return (ptio_ssize)n;
}

static const struct ptio_write_vt pipe_write_vt = {
	.ready = { .poll_ready = pipe_poll_write },
	.nb_write = pipe_write,
};

struct ptio_write ptio_pipe_writer(struct ptio_pipe *p)
{
	struct ptio_write w = { p, &pipe_write_vt };

	return w;
}

/* ---- Closing and setup ------------------------------------------------------ */

void ptio_pipe_close_write(struct ptio_pipe *p)
{
	p->flags |= PTIO_PIPE_WCLOSED;
	ptio_source_ready(p->rs, PTIO_READABLE);
}

void ptio_pipe_close_read(struct ptio_pipe *p)
{
	p->flags |= PTIO_PIPE_RCLOSED;
	p->head = 0;
	p->len = 0;
	ptio_source_ready(p->ws, PTIO_WRITABLE);
}

void ptio_pipe_init_sources(struct ptio_pipe *p, void *buf, size_t cap,
			    struct ptio_source *rs, struct ptio_source *ws)
{
	PTIO_ASSERT(cap > 0);
	p->buf = buf;
	p->cap = cap;
	p->head = 0;
	p->len = 0;
	p->flags = 0;
	p->rs = rs;
	p->ws = ws;
	ws->ready = (uint8_t)(ws->ready | PTIO_WRITABLE);
}

void ptio_pipe_init(struct ptio_pipe *p, void *buf, size_t cap)
{
	ptio_source_init(&p->own[0], 0, 0);
	ptio_source_init(&p->own[1], 0, 0);
	ptio_pipe_init_sources(p, buf, cap, &p->own[0], &p->own[1]);
}
