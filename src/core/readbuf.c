/*
 * src/core/readbuf.c - the readbuf cursor (see ptio/readbuf.h).
 */
#include <ptio/readbuf.h>
#include <ptio/err.h>
#include "core/internal.h"

uint8_t *ptio_readbuf_initialize_unfilled(struct ptio_readbuf *rb)
{
	PTIO_ASSERT(ptio_readbuf_valid(rb));
	ptio__zero(rb->buf + rb->initialized, rb->capacity - rb->initialized);
	rb->initialized = rb->capacity;
	return ptio_readbuf_unfilled(rb);
}

ptio_ssize ptio_readbuf_advance(struct ptio_readbuf *rb, size_t n)
{
	PTIO_ASSERT(ptio_readbuf_valid(rb));
	if (n > ptio_readbuf_remaining(rb) || n > PTIO_SSIZE_MAX)
		return PTIO_EINVAL;
	rb->filled += n;
	if (rb->initialized < rb->filled)
		rb->initialized = rb->filled;
	return (ptio_ssize)n;
}

ptio_ssize ptio_readbuf_assume_init(struct ptio_readbuf *rb, size_t n)
{
	PTIO_ASSERT(ptio_readbuf_valid(rb));
	if (n > ptio_readbuf_remaining(rb) || n > PTIO_SSIZE_MAX)
		return PTIO_EINVAL;
	if (rb->initialized < rb->filled + n)
		rb->initialized = rb->filled + n;
	return (ptio_ssize)n;
}

size_t ptio_readbuf_append(struct ptio_readbuf *rb, const void *src, size_t n)
{
	size_t room = ptio_readbuf_remaining(rb);

	if (n > room)
		n = room;
	ptio__copy(ptio_readbuf_unfilled(rb), src, n);
	(void)ptio_readbuf_advance(rb, n);
	return n;
}
