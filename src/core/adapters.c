/*
 * src/core/adapters.c - the stream adapters of ptio/adapters.h: take,
 * chain, empty, repeat and sink.  (The copies are in copy.c.)
 *
 * Each adapter is a vtable over the caller's small struct; the adapters
 * that wrap another stream pass readiness through to it, and answer at
 * once when they know the answer without it (a used-up take is at end of
 * stream, which is readable).
 */
#include <ptio/adapters.h>
#include "core/internal.h"

/* The readiness bits that answer INTEREST for a stream that is always
 * ready. */
static ptio_ssize always_ready(unsigned interest)
{
	unsigned bits = 0;

	if (interest & PTIO_READ)
		bits |= PTIO_READABLE;
	if (interest & PTIO_WRITE)
		bits |= PTIO_WRITABLE;
	return bits != 0 ? (ptio_ssize)bits : PTIO_EINVAL;
}

/* ---- take -------------------------------------------------------------------- */

static size_t take_cap(const struct ptio_take *t, size_t n)
{
	return (uint64_t)n > t->limit ? (size_t)t->limit : n;
}

static ptio_ssize take_poll_ready(void *self, struct ptio_task *task,
				  unsigned interest)
{
	struct ptio_take *t = (struct ptio_take *)self;

	if (t->limit == 0 && (interest & PTIO_READ))
		return PTIO_READABLE;
	if (t->binner.vt != NULL)
		return ptio_poll_ready(ptio_bufread_as_ready(t->binner), task,
				       interest);
	return ptio_poll_ready(ptio_read_as_ready(t->inner), task, interest);
}

/* Read over a plain reader: hand it a readbuf cut at the limit, over the
 * same memory, so it cannot read one byte too many. */
static ptio_ssize take_read_plain(struct ptio_take *t, struct ptio_readbuf *rb)
{
	struct ptio_readbuf sub;
	ptio_ssize n;

	sub.buf = ptio_readbuf_unfilled(rb);
	sub.capacity = take_cap(t, ptio_readbuf_remaining(rb));
	sub.filled = 0;
	sub.initialized = ptio__min(rb->initialized - rb->filled, sub.capacity);
	n = ptio_nb_read_buf(t->inner, &sub);
	if (n < 0)
		return n;
	if (sub.initialized > rb->initialized - rb->filled)
		(void)ptio_readbuf_assume_init(rb, sub.initialized);
	(void)ptio_readbuf_advance(rb, (size_t)n);
	t->limit -= (uint64_t)n;
	return n;
}

/* Read over a BufRead: copy from its view, cut at the limit. */
static ptio_ssize take_read_buffered(struct ptio_take *t,
				     struct ptio_readbuf *rb)
{
	const uint8_t *d;
	ptio_ssize n = ptio_nb_fill_buf(t->binner, &d);
	size_t k;

	if (n <= 0)
		return n;
	k = ptio_readbuf_append(rb, d, take_cap(t, (size_t)n));
	ptio_bufread_consume(t->binner, k);
	t->limit -= (uint64_t)k;
	return (ptio_ssize)k;
}

static ptio_ssize take_read_buf(void *self, struct ptio_readbuf *rb)
{
	struct ptio_take *t = (struct ptio_take *)self;

	if (t->limit == 0 || ptio_readbuf_remaining(rb) == 0)
		return 0;
	if (t->binner.vt != NULL)
		return take_read_buffered(t, rb);
	return take_read_plain(t, rb);
}

static ptio_ssize take_fill_buf(void *self, const uint8_t **data)
{
	struct ptio_take *t = (struct ptio_take *)self;
	ptio_ssize n;

	if (t->limit == 0)
		return 0;
	n = ptio_nb_fill_buf(t->binner, data);
	if (n <= 0)
		return n;
	return (ptio_ssize)take_cap(t, (size_t)n);
}

static void take_consume(void *self, size_t n)
{
	struct ptio_take *t = (struct ptio_take *)self;

	n = take_cap(t, n);
	ptio_bufread_consume(t->binner, n);
	t->limit -= (uint64_t)n;
}

static const struct ptio_read_vt take_read_vt = {
	.ready = { .poll_ready = take_poll_ready },
	.nb_read_buf = take_read_buf,
};

static const struct ptio_bufread_vt take_bufread_vt = {
	.ready = { .poll_ready = take_poll_ready },
	.nb_fill_buf = take_fill_buf,
	.consume = take_consume,
};

void ptio_take_init(struct ptio_take *t, struct ptio_read inner,
		    uint64_t limit)
{
	t->inner = inner;
	t->binner.self = NULL;
	t->binner.vt = NULL;
	t->limit = limit;
}

void ptio_take_init_bufread(struct ptio_take *t, struct ptio_bufread inner,
			    uint64_t limit)
{
	t->inner.self = NULL;
	t->inner.vt = NULL;
	t->binner = inner;
	t->limit = limit;
}

struct ptio_read ptio_take_reader(struct ptio_take *t)
{
	struct ptio_read o = { t, &take_read_vt };

	return o;
}

struct ptio_bufread ptio_take_bufread(struct ptio_take *t)
{
	struct ptio_bufread o = { t, &take_bufread_vt };

	PTIO_ASSERT(t->binner.vt != NULL);
	return o;
}

/* ---- chain ------------------------------------------------------------------- */

static struct ptio_read chain_current(const struct ptio_chain *c)
{
	return c->done_first ? c->second : c->first;
}

static ptio_ssize chain_poll_ready(void *self, struct ptio_task *task,
				   unsigned interest)
{
	struct ptio_chain *c = (struct ptio_chain *)self;

	return ptio_poll_ready(ptio_read_as_ready(chain_current(c)), task,
			       interest);
}

static ptio_ssize chain_read_buf(void *self, struct ptio_readbuf *rb)
{
	struct ptio_chain *c = (struct ptio_chain *)self;
	ptio_ssize n;

	if (!c->done_first) {
		n = ptio_nb_read_buf(c->first, rb);
		/* 0 into a buffer with room is the first one's end. */
		if (n != 0 || ptio_readbuf_remaining(rb) == 0)
			return n;
		c->done_first = true;
	}
	return ptio_nb_read_buf(c->second, rb);
}

static const struct ptio_read_vt chain_read_vt = {
	.ready = { .poll_ready = chain_poll_ready },
	.nb_read_buf = chain_read_buf,
};

void ptio_chain_init(struct ptio_chain *c, struct ptio_read first,
		     struct ptio_read second)
{
	c->first = first;
	c->second = second;
	c->done_first = false;
}

struct ptio_read ptio_chain_reader(struct ptio_chain *c)
{
	struct ptio_read o = { c, &chain_read_vt };

	return o;
}

/* ---- empty ------------------------------------------------------------------- */

static ptio_ssize trivial_poll_ready(void *self, struct ptio_task *task,
				     unsigned interest)
{
	(void)self;
	(void)task;
	return always_ready(interest);
}

static ptio_ssize empty_read_buf(void *self, struct ptio_readbuf *rb)
{
	(void)self;
	(void)rb;
	return 0;
}

static ptio_ssize empty_fill_buf(void *self, const uint8_t **data)
{
	(void)self;
	(void)data;
	return 0;
}

static void empty_consume(void *self, size_t n)
{
	(void)self;
	(void)n;
}

static const struct ptio_read_vt empty_read_vt = {
	.ready = { .poll_ready = trivial_poll_ready },
	.nb_read_buf = empty_read_buf,
};

static const struct ptio_bufread_vt empty_bufread_vt = {
	.ready = { .poll_ready = trivial_poll_ready },
	.nb_fill_buf = empty_fill_buf,
	.consume = empty_consume,
};

struct ptio_read ptio_empty_reader(void)
{
	struct ptio_read o = { NULL, &empty_read_vt };

	return o;
}

struct ptio_bufread ptio_empty_bufread(void)
{
	struct ptio_bufread o = { NULL, &empty_bufread_vt };

	return o;
}

/* ---- repeat ------------------------------------------------------------------ */

static ptio_ssize repeat_read_buf(void *self, struct ptio_readbuf *rb)
{
	struct ptio_repeat *rp = (struct ptio_repeat *)self;
	uint8_t *p = ptio_readbuf_unfilled(rb);
	size_t i, n = ptio_readbuf_remaining(rb);

	for (i = 0; i < n; i++)
		p[i] = rp->byte;
	(void)ptio_readbuf_advance(rb, n);
	return ptio__count(n);
}

static const struct ptio_read_vt repeat_read_vt = {
	.ready = { .poll_ready = trivial_poll_ready },
	.nb_read_buf = repeat_read_buf,
};

struct ptio_read ptio_repeat_reader(struct ptio_repeat *rp)
{
	struct ptio_read o = { rp, &repeat_read_vt };

	return o;
}

/* ---- sink -------------------------------------------------------------------- */

static ptio_ssize sink_write(void *self, const void *buf, size_t len)
{
	struct ptio_sink *s = (struct ptio_sink *)self;

	(void)buf;
	if (s != NULL)
		s->count += len;
	return (ptio_ssize)len; /* the dispatch capped LEN */
}

static ptio_ssize sink_write_vectored(void *self, const struct ptio_iovec *iov,
				      size_t n)
{
	struct ptio_sink *s = (struct ptio_sink *)self;
	size_t i, total = 0;

	for (i = 0; i < n; i++)
		total += iov[i].len; /* the dispatch checked the sum */
	if (s != NULL)
		s->count += total;
	return (ptio_ssize)total;
}

static const struct ptio_write_vt sink_write_vt = {
	.ready = { .poll_ready = trivial_poll_ready },
	.nb_write = sink_write,
	.nb_write_vectored = sink_write_vectored,
};

struct ptio_write ptio_sink_writer(struct ptio_sink *s)
{
	struct ptio_write o = { s, &sink_write_vt };

	return o;
}
