/*
 * ptio/bytes.h - a growable byte buffer whose memory comes from a hook.
 *
 * The core never calls malloc.  Where Rust's read_to_end grows a Vec, ptio
 * grows a struct ptio_bytes through a caller-supplied allocator hook
 * (struct ptio_alloc: one realloc-like function and its context).  With no
 * hook the buffer has a fixed capacity, and an operation that would need
 * more room fails with PTIO_ENOBUFS, keeping every byte it already stored.
 *
 * A ptio_bytes may start on caller memory (a stack or static array) and
 * still have a hook: the first growth then moves the bytes into memory
 * from the hook and leaves the caller's array alone; only memory that came
 * from the hook is ever handed back to it.
 *
 * Divided into: the allocator hook, the buffer and its functions.
 */
#ifndef PTIO_BYTES_H
#define PTIO_BYTES_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The allocator hook -------------------------------------------------- */

/*
 * resize(ctx, ptr, old_size, new_size):
 *   ptr NULL:       allocate NEW_SIZE bytes;
 *   new_size 0:     free PTR (OLD_SIZE bytes) and return NULL;
 *   otherwise:      return a block of NEW_SIZE bytes whose first
 *                   min(OLD_SIZE, NEW_SIZE) bytes are those of PTR (which
 *                   is then no longer valid), like realloc.
 * On failure return NULL and leave PTR untouched.  CTX is the hook's own
 * (an arena, a pool, a counter for tests).
 */
struct ptio_alloc {
	void *(*resize)(void *ctx, void *ptr, size_t old_size, size_t new_size);
	void *ctx;
};

/* A hook over the C library's realloc and free.  Hosted builds only (it
 * lives in src/posix); firmware supplies its own hook or none. */
extern const struct ptio_alloc ptio_alloc_heap;

/* ---- The buffer ---------------------------------------------------------- */

struct ptio_bytes {
	uint8_t *data;                  /* LEN bytes of content, CAP of room */
	size_t len;
	size_t cap;
	const struct ptio_alloc *alloc; /* NULL: the capacity is fixed */
	bool owned;                     /* DATA came from ALLOC */
};

/* Start B empty over CAP bytes of caller memory at BUF (NULL with CAP 0
 * for none), growing through ALLOC (NULL: never grow).  B does not own
 * BUF: it is never freed or resized, only copied from. */
void ptio_bytes_init(struct ptio_bytes *b, void *buf, size_t cap,
		     const struct ptio_alloc *alloc);

/* Give back memory B got from its hook and make B empty with no room.
 * Caller memory is left alone. */
void ptio_bytes_free(struct ptio_bytes *b);

/*
 * Make room for at least ADDITIONAL more bytes after LEN.  The capacity at
 * least doubles when it grows, so appending byte by byte costs amortised
 * O(1).  Returns 0, PTIO_ENOBUFS (no hook and not enough room),
 * PTIO_ENOMEM (the hook failed) or PTIO_EOVERFLOW; on error B is unchanged.
 */
ptio_ssize ptio_bytes_reserve(struct ptio_bytes *b, size_t additional);

/* Append N bytes from SRC, growing as needed.  Returns N or, changing
 * nothing, an error from ptio_bytes_reserve. */
ptio_ssize ptio_bytes_append(struct ptio_bytes *b, const void *src, size_t n);

/* The content as a C string: put a NUL after the LEN bytes (growing if
 * needed; LEN is unchanged) and return DATA, or NULL if there is no room
 * for the NUL.  Content with NUL bytes inside is of course cut short. */
const char *ptio_bytes_cstr(struct ptio_bytes *b);

/* Forget the content; the room stays. */
static inline void ptio_bytes_clear(struct ptio_bytes *b)
{
	b->len = 0;
}

/* Free room after the content. */
static inline size_t ptio_bytes_spare(const struct ptio_bytes *b)
{
	return b->cap - b->len;
}

/*
 * ptio_utf8_check(s, n, tail) - is S[0, N) UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF)?  Returns 0 when it is, or
 * PTIO_EILSEQ.  With TAIL NULL the whole range must be complete.  With
 * TAIL non-NULL, a sequence cut short by the end of the range is accepted
 * as long as it is a valid beginning, and *TAIL is set to its length
 * (0 to 3): the bytes that must be checked again once more arrive.
 */
ptio_ssize ptio_utf8_check(const void *s, size_t n, size_t *tail);

#ifdef __cplusplus
}
#endif

#endif /* PTIO_BYTES_H */
