/*
 * src/core/bufread-reader.c - BufReader: a buffer in front of any Read that
 * makes it a BufRead, and is itself a Read and a Ready.
 *
 * Divided into: filling the buffer, the BufRead side, the Read side, and
 * the vtables.
 *
 * The buffer is filled only when it is empty, with one read of the inner
 * reader, through a readbuf that remembers how much of the buffer was
 * ever initialised (br->init), so caller memory is never zeroed.
 */
#include <ptio/bufread.h>
#include "core/internal.h"

/* ---- Filling ------------------------------------------------------------------ */

/* One read of the inner reader into the empty buffer.  Returns the count,
 * 0 at end of stream, WOULD_BLOCK or an error. */
static ptio_ssize refill(struct ptio_bufreader *br)
{
	struct ptio_readbuf rb;
	ptio_ssize n;

	rb.buf = br->buf;
	rb.capacity = br->cap;
	rb.filled = 0;
	rb.initialized = br->init;
	br->pos = br->end = 0;
	n = ptio_nb_read_buf(br->inner, &rb);
	if (n > 0)
		br->end = (size_t)n;
	if (rb.initialized > br->init)
		br->init = rb.initialized;
	return n;
}

static ptio_ssize bufreader_poll_ready(void *self, struct ptio_task *task,
				       unsigned interest)
{
	struct ptio_bufreader *br = (struct ptio_bufreader *)self;

	/* Buffered bytes answer READ without asking anyone. */
	if ((interest & PTIO_READ) && br->pos < br->end)
		return PTIO_READABLE;
	return ptio_poll_ready(ptio_read_as_ready(br->inner), task, interest);
}

/* ---- BufRead --------------------------------------------------------------------- */

static ptio_ssize bufreader_fill_buf(void *self, const uint8_t **data)
{
	struct ptio_bufreader *br = (struct ptio_bufreader *)self;
	ptio_ssize n;

	if (br->pos == br->end) {
		n = refill(br);
		if (n <= 0)
			return n;
	}
	*data = br->buf + br->pos;
	return (ptio_ssize)(br->end - br->pos);
}

static void bufreader_consume(void *self, size_t n)
{
	struct ptio_bufreader *br = (struct ptio_bufreader *)self;

	br->pos += ptio__min(n, br->end - br->pos);
}

/* ---- Read ---------------------------------------------------------------------------- */

/* Copy buffered bytes into the readbufs, in order; returns the count. */
static size_t drain_into(struct ptio_bufreader *br, struct ptio_readbuf *rbs,
			 size_t n)
{
	size_t i, done = 0;

	for (i = 0; i < n && br->pos < br->end; i++) {
		size_t k = ptio_readbuf_append(&rbs[i], br->buf + br->pos,
					       br->end - br->pos);

		br->pos += k;
		done += k;
	}
	return done;
}

static size_t room_of(const struct ptio_readbuf *rbs, size_t n)
{
	size_t i, room = 0;

	for (i = 0; i < n; i++)
		room += ptio_readbuf_remaining(&rbs[i]);
	return room;
}

static ptio_ssize bufreader_read_buf_vectored(void *self,
					      struct ptio_readbuf *rbs,
					      size_t n)
{
	struct ptio_bufreader *br = (struct ptio_bufreader *)self;
	ptio_ssize got;
	size_t room = room_of(rbs, n);

	if (room == 0)
		return 0;
	if (br->pos == br->end) {
		/* A read at least as large as the buffer gains nothing from
		 * it: let the inner reader fill the caller's memory. */
		if (room >= br->cap)
			return ptio_nb_read_buf_vectored(br->inner, rbs, n);
		got = refill(br);
		if (got <= 0)
			return got;
	}
	return (ptio_ssize)drain_into(br, rbs, n);
}

static ptio_ssize bufreader_read_buf(void *self, struct ptio_readbuf *rb)
{
	return bufreader_read_buf_vectored(self, rb, 1);
}

static bool bufreader_is_read_vectored(void *self)
{
	struct ptio_bufreader *br = (struct ptio_bufreader *)self;

	return ptio_is_read_vectored(br->inner);
}

/* ---- Vtables ------------------------------------------------------------------------- */

static const struct ptio_bufread_vt bufreader_bufread_vt = {
	.ready = { .poll_ready = bufreader_poll_ready },
	.nb_fill_buf = bufreader_fill_buf,
	.consume = bufreader_consume,
};

static const struct ptio_read_vt bufreader_read_vt = {
	.ready = { .poll_ready = bufreader_poll_ready },
	.nb_read_buf = bufreader_read_buf,
	.nb_read_buf_vectored = bufreader_read_buf_vectored,
	.is_read_vectored = bufreader_is_read_vectored,
};

void ptio_bufreader_init(struct ptio_bufreader *br, struct ptio_read inner,
			 void *buf, size_t cap)
{
	PTIO_ASSERT(buf != NULL && cap > 0);
	br->inner = inner;
	br->buf = (uint8_t *)buf;
	br->cap = cap;
	br->pos = br->end = br->init = 0;
}

struct ptio_bufread ptio_bufreader_bufread(struct ptio_bufreader *br)
{
	struct ptio_bufread o = { br, &bufreader_bufread_vt };

	return o;
}

struct ptio_read ptio_bufreader_reader(struct ptio_bufreader *br)
{
	struct ptio_read o = { br, &bufreader_read_vt };

	return o;
}

struct ptio_ready ptio_bufreader_ready(struct ptio_bufreader *br)
{
	return ptio_read_as_ready(ptio_bufreader_reader(br));
}
