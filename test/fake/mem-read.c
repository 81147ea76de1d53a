/*
 * test/fake/mem-read.c - an always-ready reader over a byte array (see
 * mem-read.h).
 */
#include <string.h>
#include "test/fake/mem-read.h"

ptio_ssize mem_ready_now(void *self, struct ptio_task *task,
			 unsigned interest)
{
	(void)self;
	(void)task;
	return (ptio_ssize)(interest & PTIO_READ_WRITE);
}

static ptio_ssize mem_read_buf(void *self, struct ptio_readbuf *rb)
{
	struct mem_read *m = self;
	size_t k = ptio_readbuf_remaining(rb);

	if (k > m->max_room)
		m->max_room = k;
	m->last_init = rb->initialized - rb->filled;
	if (k > m->n - m->pos)
		k = m->n - m->pos;
	if (k > m->nb_max)
		k = m->nb_max;
	(void)ptio_readbuf_append(rb, m->data + m->pos, k);
	m->pos += k;
	return (ptio_ssize)k;
}

static const struct ptio_read_vt mem_read_vt = {
	.ready = { .poll_ready = mem_ready_now },
	.nb_read_buf = mem_read_buf,
};

struct ptio_read mem_reader(struct mem_read *m, const void *data, size_t n,
			    size_t nb_max)
{
	struct ptio_read r = { m, &mem_read_vt };

	memset(m, 0, sizeof(*m));
	m->data = data;
	m->n = n;
	m->nb_max = nb_max;
	return r;
}
