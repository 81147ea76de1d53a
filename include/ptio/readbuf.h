/*
 * ptio/readbuf.h - a read buffer that may start uninitialised.
 *
 * The C form of Rust's BorrowedBuf/ReadBuf (RFC 2930).  A readbuf borrows
 * CAPACITY bytes owned by the caller and tracks two marks:
 *
 *     [0, filled)            bytes a read has produced (readable data)
 *     [filled, initialized)  bytes known to be initialised but not filled
 *     [initialized, capacity) memory that may never have been written
 *
 * Invariants, kept by every function here and asserted by the core:
 * filled <= initialized <= capacity, and initialized never shrinks.  A
 * reader writes into the unfilled region and then calls ptio_readbuf_advance
 * with the count it wrote; it must never read bytes past `initialized`.
 * Reading into a readbuf over fresh memory costs nothing: nobody has to
 * zero it first.
 *
 * A readbuf does not own its memory and never allocates.  It is plain
 * data: copy it, embed it, keep it on the stack outside machines.
 */
#ifndef PTIO_READBUF_H
#define PTIO_READBUF_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ptio_readbuf {
	uint8_t *buf;        /* the borrowed memory */
	size_t capacity;     /* its size in bytes */
	size_t filled;       /* bytes of data at the front */
	size_t initialized;  /* bytes known to be initialised at the front */
};

/* Borrow CAP bytes at BUF whose content is unknown (nothing initialised). */
static inline void ptio_readbuf_init(struct ptio_readbuf *rb, void *buf,
				     size_t cap)
{
	rb->buf = (uint8_t *)buf;
	rb->capacity = cap;
	rb->filled = 0;
	rb->initialized = 0;
}

/* Borrow CAP bytes at BUF that are already initialised (e.g. a zeroed or
 * reused array): nothing filled, all initialised. */
static inline void ptio_readbuf_init_initialized(struct ptio_readbuf *rb,
						 void *buf, size_t cap)
{
	ptio_readbuf_init(rb, buf, cap);
	rb->initialized = cap;
}

/* The filled bytes, [0, filled), and their count. */
static inline const uint8_t *ptio_readbuf_filled(const struct ptio_readbuf *rb)
{
	return rb->buf;
}
static inline size_t ptio_readbuf_len(const struct ptio_readbuf *rb)
{
	return rb->filled;
}
static inline size_t ptio_readbuf_remaining(const struct ptio_readbuf *rb)
{
	return rb->capacity - rb->filled;
}
static inline bool ptio_readbuf_is_full(const struct ptio_readbuf *rb)
{
	return rb->filled == rb->capacity;
}

/* Where the next read writes: the unfilled region, ptio_readbuf_remaining()
 * bytes long.  Only write there; bytes past `initialized` may be garbage. */
static inline uint8_t *ptio_readbuf_unfilled(struct ptio_readbuf *rb)
{
	return rb->buf + rb->filled;
}

/* Zero the uninitialised tail so the whole unfilled region may be read,
 * as an API that wants a plain initialised buffer needs; returns the
 * unfilled region. */
uint8_t *ptio_readbuf_initialize_unfilled(struct ptio_readbuf *rb);

/* Record that N more bytes were written at the unfilled region: filled
 * grows by N and initialized grows to at least filled.  Returns N, or
 * PTIO_EINVAL (changing nothing) when N exceeds the remaining space. */
ptio_ssize ptio_readbuf_advance(struct ptio_readbuf *rb, size_t n);

/* Record that the first N bytes of the unfilled region are initialised
 * (without filling them).  Returns PTIO_EINVAL, changing nothing, when
 * N exceeds the remaining space. */
ptio_ssize ptio_readbuf_assume_init(struct ptio_readbuf *rb, size_t n);

/* Copy up to N bytes from SRC into the unfilled region and advance;
 * returns the count copied (less than N only when the buffer fills). */
size_t ptio_readbuf_append(struct ptio_readbuf *rb, const void *src, size_t n);

/* Forget the filled data (filled = 0); initialisation is kept. */
static inline void ptio_readbuf_clear(struct ptio_readbuf *rb)
{
	rb->filled = 0;
}

/* True when the invariants hold (for tests and assertions). */
static inline bool ptio_readbuf_valid(const struct ptio_readbuf *rb)
{
	return rb->filled <= rb->initialized && rb->initialized <= rb->capacity;
}

#ifdef __cplusplus
}
#endif

#endif /* PTIO_READBUF_H */
