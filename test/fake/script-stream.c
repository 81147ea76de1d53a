/*
 * test/fake/script-stream.c - the scripted in-memory stream (see
 * script-stream.h).
 *
 * Divided into: scripts, the non-blocking calls, the vtables.
 */
#include <string.h>
#include "test/fake/script-stream.h"

/* ---- Scripts ------------------------------------------------------------- */

void script_set(struct script *sc, const struct script_step *steps, size_t n,
		bool cyclic)
{
	sc->steps = steps;
	sc->n = n;
	sc->at = 0;
	sc->cyclic = cyclic;
	sc->calls = 0;
	sc->blocks = 0;
}

static struct script_step script_next(struct script *sc)
{
	static const struct script_step unlimited = SCRIPT_ALL;

	sc->calls++;
	if (sc->at == sc->n && sc->cyclic && sc->n > 0)
		sc->at = 0;
	if (sc->at == sc->n)
		return unlimited;
	return sc->steps[sc->at++];
}

/* A SCRIPT_BLOCK step: forget BIT and have it reported again later. */
static ptio_ssize script_block(struct script_stream *s, struct script *sc,
			       const struct script_step *st, unsigned bit)
{
	sc->blocks++;
	ptio_source_clear(&s->src, bit);
	if (st->delay != SCRIPT_NO_READINESS)
		fake_backend_signal(s->be, &s->src, bit, st->delay);
	return PTIO_WOULD_BLOCK;
}

/* ---- The non-blocking calls ------------------------------------------------- */

static ptio_ssize script_poll_ready(void *self, struct ptio_task *task,
				    unsigned interest)
{
	struct script_stream *s = self;

	s->polls++;
	return ptio_source_poll(&s->src, task, interest);
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

static ptio_ssize script_read_buf(void *self, struct ptio_readbuf *rb)
{
	struct script_stream *s = self;
	struct script_step st = script_next(&s->rd);
	size_t room = ptio_readbuf_remaining(rb);
	size_t k;

	if (room > s->max_read_ask)
		s->max_read_ask = room;
	switch (st.kind) {
	case SCRIPT_KIND_BLOCK:
		return script_block(s, &s->rd, &st, PTIO_READABLE);
	case SCRIPT_KIND_ERROR:
		return st.err;
	case SCRIPT_KIND_EOF:
		return 0;
	case SCRIPT_KIND_LIE:
		return (ptio_ssize)room + 1;
	case SCRIPT_KIND_MAX:
		break;
	}
	k = min_size(min_size(st.max, room), s->in_len - s->in_pos);
	if (k > 0)
		memcpy(ptio_readbuf_unfilled(rb), s->in + s->in_pos, k);
	s->in_pos += k;
	return ptio_readbuf_advance(rb, k);
}

/* Copy LEN bytes of BUF to the output; PTIO_ENOSPC when the test gave too
 * little output space (a mistake in the test, not in the stream's user). */
static ptio_ssize script_put(struct script_stream *s, const void *buf,
			     size_t len)
{
	if (len > s->out_cap - s->out_len)
		return PTIO_ENOSPC;
	if (len > 0)
		memcpy(s->out + s->out_len, buf, len);
	s->out_len += len;
	return (ptio_ssize)len;
}

/* The write-side steps that transfer nothing; 1 when ST transfers. */
static ptio_ssize script_write_step(struct script_stream *s,
				    const struct script_step *st, size_t len)
{
	switch (st->kind) {
	case SCRIPT_KIND_BLOCK:
		return script_block(s, &s->wr, st, PTIO_WRITABLE);
	case SCRIPT_KIND_ERROR:
		return st->err;
	case SCRIPT_KIND_EOF:
		return 0;
	case SCRIPT_KIND_LIE:
		return (ptio_ssize)len + 1;
	case SCRIPT_KIND_MAX:
		break;
	}
	return 1;
}

static ptio_ssize script_write(void *self, const void *buf, size_t len)
{
	struct script_stream *s = self;
	struct script_step st = script_next(&s->wr);
	ptio_ssize r = script_write_step(s, &st, len);

	if (st.kind != SCRIPT_KIND_MAX)
		return r;
	return script_put(s, buf, min_size(st.max, len));
}

static ptio_ssize script_write_vectored(void *self,
					const struct ptio_iovec *iov, size_t n)
{
	struct script_stream *s = self;
	struct script_step st = script_next(&s->wr);
	size_t total = 0, budget, i;
	ptio_ssize r;

	s->vectored++;
	for (i = 0; i < n; i++)
		total += iov[i].len;
	r = script_write_step(s, &st, total);
	if (st.kind != SCRIPT_KIND_MAX)
		return r;
	budget = min_size(st.max, total);
	total = 0;
	for (i = 0; i < n && total < budget; i++) {
		size_t k = min_size(iov[i].len, budget - total);

		r = script_put(s, iov[i].base, k);
		if (r < 0)
			return r;
		total += k;
	}
	return (ptio_ssize)total;
}

static ptio_ssize script_flush(void *self)
{
	struct script_stream *s = self;
	struct script_step st = script_next(&s->fl);

	switch (st.kind) {
	case SCRIPT_KIND_BLOCK:
		return script_block(s, &s->fl, &st, PTIO_WRITABLE);
	case SCRIPT_KIND_ERROR:
		return st.err;
	default:
		return 0;
	}
}

/* ---- The vtables ---------------------------------------------------------- */

static const struct ptio_read_vt script_read_vt = {
	.ready = { .poll_ready = script_poll_ready },
	.nb_read_buf = script_read_buf,
};

static const struct ptio_write_vt script_write_vt = {
	.ready = { .poll_ready = script_poll_ready },
	.nb_write = script_write,
	.nb_flush = script_flush,
};

static const struct ptio_write_vt script_write_vectored_vt = {
	.ready = { .poll_ready = script_poll_ready },
	.nb_write = script_write,
	.nb_write_vectored = script_write_vectored,
	.nb_flush = script_flush,
};

void script_stream_init(struct script_stream *s, struct fake_backend *be)
{
	memset(s, 0, sizeof(*s));
	ptio_source_init(&s->src, PTIO_READABLE | PTIO_WRITABLE,
			 PTIO_SOURCE_BACKEND);
	s->be = be;
}

void script_stream_input(struct script_stream *s, const void *in, size_t len)
{
	s->in = in;
	s->in_len = len;
	s->in_pos = 0;
}

void script_stream_output(struct script_stream *s, void *out, size_t cap)
{
	s->out = out;
	s->out_cap = cap;
	s->out_len = 0;
}

void script_stream_forget(struct script_stream *s)
{
	fake_backend_forget(s->be, &s->src);
}

struct ptio_ready script_stream_ready(struct script_stream *s)
{
	return ptio_read_as_ready(script_stream_reader(s));
}

struct ptio_read script_stream_reader(struct script_stream *s)
{
	struct ptio_read r = { s, &script_read_vt };

	return r;
}

struct ptio_write script_stream_writer(struct script_stream *s)
{
	struct ptio_write w = { s, &script_write_vt };

	return w;
}

struct ptio_write script_stream_writer_vectored(struct script_stream *s)
{
	struct ptio_write w = { s, &script_write_vectored_vt };

	return w;
}
