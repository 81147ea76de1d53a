/*
 * ptio/io.h - the Ready, Read and Write traits, and readiness sources.
 *
 * This header is divided into:
 *   1. Interest and Readiness bit sets.
 *   2. ptio_iovec (IoSlice).
 *   3. Sources: the readiness cache and the two waiter slots every
 *      readiness-based stream is built on.
 *   4. The trait vtables and trait objects (fat pointers) for Ready, Read
 *      and Write, and the non-blocking calls that dispatch through them
 *      (supplying the provided defaults for optional slots).
 *
 * The non-blocking convention (the seed's Result<NonBlocking<T>>): a
 * non-blocking call returns a value >= 0 when it made progress,
 * PTIO_WOULD_BLOCK when it could not without waiting, or an error code.
 * For reads, 0 with room in the buffer means end of stream.
 *
 * Implementing a trait: write the non-blocking functions and fill a
 * `static const` vtable with designated initialisers.  Optional slots may
 * be left NULL and the core supplies the seed's provided default.  New
 * slots are only ever appended and are always optional, so a vtable
 * written today keeps working.  Async methods are never in the vtable:
 * they are the generic machines of ptio/ops.h, written once over any
 * trait object, and never allocate.
 */
#ifndef PTIO_IO_H
#define PTIO_IO_H

#include "base.h"
#include "err.h"
#include "readbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ptio_task;

/* ---- 1. Interest and Readiness ---------------------------------------- */

/* Interest: what a caller wants to wait for. */
#define PTIO_READ       0x1u
#define PTIO_WRITE      0x2u
#define PTIO_READ_WRITE (PTIO_READ | PTIO_WRITE)

/* Readiness: what a resource is ready for.  HUP and ERROR are reported
 * whether or not they were asked for.  HUP means the peer hung up, but
 * there may still be data to read: keep reading until end of stream. */
#define PTIO_READABLE 0x1u
#define PTIO_WRITABLE 0x2u
#define PTIO_HUP      0x4u
#define PTIO_ERROR    0x8u

/* Predicates: true when readiness R has the bit named. */
static inline bool ptio_readiness_readable(unsigned r)
{
	return (r & PTIO_READABLE) != 0;
}
static inline bool ptio_readiness_writable(unsigned r)
{
	return (r & PTIO_WRITABLE) != 0;
}
static inline bool ptio_readiness_hup(unsigned r)
{
	return (r & PTIO_HUP) != 0;
}
static inline bool ptio_readiness_error(unsigned r)
{
	return (r & PTIO_ERROR) != 0;
}

/* Names for logs and test messages (the seed derives Debug for both):
 * "READABLE|HUP", "0" for no bit, NULL when READINESS has a bit outside
 * the four above; "READ", "WRITE", "READ_WRITE", or NULL for any other
 * INTEREST.  The strings are static. */
const char *ptio_readiness_name(unsigned readiness);
const char *ptio_interest_name(unsigned interest);

/* PTIO_CONTINUE_ON_BLOCK(var, expr) - the seed's continue_on_block!: store
 * EXPR in VAR and `continue` the enclosing loop if it is PTIO_WOULD_BLOCK.
 *
 *     for (;;) {
 *             PTIO_AWAIT(pt, r, ptio_ready(op, obj, PTIO_READ));
 *             PTIO_TRY(pt, r);
 *             PTIO_CONTINUE_ON_BLOCK(n, ptio_nb_read(rd, buf, len));
 *             ...
 *     }
 */
#define PTIO_CONTINUE_ON_BLOCK(var, expr)                                \
	if (((var) = (expr)) == PTIO_WOULD_BLOCK)                        \
		continue;                                                \
	else                                                             \
		(void)0

/* ---- 2. IoSlice ------------------------------------------------------- */

/* One slice of a vectored write (and of readv under the hood).  On POSIX
 * hosts it has the layout of struct iovec, which src/posix asserts, so an
 * array of them goes to writev unchanged.  BASE is not const because
 * struct iovec's is not; writes never modify the bytes. */
struct ptio_iovec {
	void *base;
	size_t len;
};

static inline struct ptio_iovec ptio_iovec_make(const void *base, size_t len)
{
	struct ptio_iovec v;

	v.base = (void *)(uintptr_t)base;
	v.len = len;
	return v;
}

/* ---- 3. Sources ------------------------------------------------------- */

/* Which waiter slot an interest uses. */
#define PTIO_SLOT_READ  0
#define PTIO_SLOT_WRITE 1

/* Source flags. */
#define PTIO_SOURCE_BACKEND 0x1u /* the loop's backend watches it */
#define PTIO_SOURCE_CLOSED  0x2u /* closed: polls fail with PTIO_ECLOSED */
#define PTIO_SOURCE_EDGE    0x4u /* the backend watches it for its whole
				    life (edge-triggered: set by the
				    backend's attach, cleared by its
				    detach), so a change of waiters is
				    never reported to it (no update) */

/*
 * A source is what readiness is reported for: an fd on a host, a device on
 * a board, an in-memory pipe in a test.  It caches readiness bits (set by
 * the backend, an ISR or a test; cleared by the stream when a non-blocking
 * call returns PTIO_WOULD_BLOCK) and holds one read waiter and one write
 * waiter, so a reading task and a writing task can share one stream, and
 * one task may wait for both (the same task in both slots).
 *
 * Waits are one-shot: when readiness arrives the waiter's slot is cleared
 * and the task is queued; the task re-polls and, if it must still wait,
 * registers again.
 */
struct ptio_source {
	struct ptio_task *waiter[2]; /* [PTIO_SLOT_READ], [PTIO_SLOT_WRITE] */
	uint8_t ready;               /* cached PTIO_READABLE | ... bits */
	uint8_t flags;               /* PTIO_SOURCE_* */
	uint8_t oflags;              /* the owner's own flags (ptio_fd:
					PTIO_FD_*); the core ignores them */
	uint8_t spare;               /* keep zero */
	int32_t handle;              /* the owner's handle for the system (a
					file descriptor, a device number);
					the core ignores it.  It lives here,
					in what would be padding on 64-bit
					hosts, to keep streams small. */
};

/* Initialise SRC with cached readiness READY and FLAGS. */
void ptio_source_init(struct ptio_source *src, unsigned ready, unsigned flags);

/*
 * ptio_source_poll(src, task, interest) - the body of a typical poll_ready.
 * Returns the cached readiness bits that answer INTEREST (HUP and ERROR
 * always answer) when there are any.  Otherwise, with TASK non-NULL,
 * registers TASK as the waiter for INTEREST and returns PTIO_PENDING; with
 * TASK NULL returns PTIO_WOULD_BLOCK.  Errors: PTIO_ECLOSED when the source
 * is closed, PTIO_EINVAL for an empty or unknown interest, PTIO_EBUSY when
 * another task holds the slot or TASK already waits on another source, or
 * the backend's error; after an error TASK holds no slot of SRC (a wait it
 * registered earlier in the same run is undone too).
 */
ptio_ssize ptio_source_poll(struct ptio_source *src, struct ptio_task *task,
			    unsigned interest);

/*
 * ptio_source_poll_ready(self, task, interest) - a ready-made poll_ready
 * slot for a stream whose struct begins with its struct ptio_source (SELF
 * points at both): ptio_source_poll on it.  A vtable that uses it lets
 * the provided machines answer from the source's cache without a call
 * (ptio_wait_ready recognises it), which is the hot path of every fd
 * stream.
 */
ptio_ssize ptio_source_poll_ready(void *self, struct ptio_task *task,
				  unsigned interest);

/* Forget readiness BITS (a non-blocking call just returned WOULD_BLOCK). */
static inline void ptio_source_clear(struct ptio_source *src, unsigned bits)
{
	src->ready = (uint8_t)(src->ready & ~bits);
}

/* Report readiness BITS: cache them and wake the waiters they answer.
 * Called by backends and by in-memory streams; not from an ISR (ports
 * have ptio_port_source_ready for that). */
void ptio_source_ready(struct ptio_source *src, unsigned bits);

/* A struct ptio_waiter's private source carries this flag, so that
 * clearing the task's slot on it (whatever ends the wait) also takes the
 * waiter out of its primitive's queue: the two registrations of a
 * primitive wait come and go together (see ptio/sync.h).  Internal
 * (ptio__): the inline report of ptio/loop.h reads it. */
#define PTIO__SOURCE_WAITER 0x80u

/* Mark SRC closed and wake every waiter; their next poll fails with
 * PTIO_ECLOSED.  No registration is left behind. */
void ptio_source_close(struct ptio_source *src);

/* True when any task waits on SRC. */
static inline bool ptio_source_has_waiters(const struct ptio_source *src)
{
	return src->waiter[0] != NULL || src->waiter[1] != NULL;
}

/* The interests that currently have a waiter (PTIO_READ | PTIO_WRITE). */
static inline unsigned ptio_source_interest(const struct ptio_source *src)
{
	return (src->waiter[0] ? PTIO_READ : 0u) |
	       (src->waiter[1] ? PTIO_WRITE : 0u);
}

/* ---- 4. Traits -------------------------------------------------------- */

/* trait Ready.  poll_ready returns readiness bits (> 0) answering INTEREST,
 * or, when there are none, registers TASK to be woken when that may have
 * changed and returns PTIO_PENDING (TASK NULL: PTIO_WOULD_BLOCK instead),
 * or an error.  Streams built on a ptio_source implement it with
 * ptio_source_poll. */
struct ptio_ready_vt {
	ptio_ssize (*poll_ready)(void *self, struct ptio_task *task,
				 unsigned interest);
};

/* trait Read: Ready. */
struct ptio_read_vt {
	struct ptio_ready_vt ready; /* first: a Read vtable is a Ready one */
	/* Required.  Read into RB's unfilled region and advance it; return the
	 * count read (0 with room left = end of stream), PTIO_WOULD_BLOCK, or
	 * an error.  Never read past RB's capacity.  On WOULD_BLOCK clear the
	 * source's READABLE bit so the next poll_ready waits. */
	ptio_ssize (*nb_read_buf)(void *self, struct ptio_readbuf *rb);
	/* Optional.  Fill the N readbufs in order (readv); return the total
	 * count read.  NULL: fill the first readbuf that has room. */
	ptio_ssize (*nb_read_buf_vectored)(void *self, struct ptio_readbuf *rbs,
					   size_t n);
	/* Optional.  NULL: true when nb_read_buf_vectored is set. */
	bool (*is_read_vectored)(void *self);
	/* Optional, for speed: read up to LEN bytes into BUF, which is all
	 * initialised memory, as nb_read_buf would into a readbuf over it;
	 * return the count read (0 with LEN > 0 = end of stream),
	 * PTIO_WOULD_BLOCK, or an error.  ptio_nb_read calls it instead of
	 * making a readbuf.  NULL: ptio_nb_read goes through nb_read_buf. */
	ptio_ssize (*nb_read)(void *self, void *buf, size_t len);
};

/* trait Write: Ready. */
struct ptio_write_vt {
	struct ptio_ready_vt ready; /* first: a Write vtable is a Ready one */
	/* Required.  Write up to LEN bytes; return the count written (> 0 when
	 * LEN > 0), PTIO_WOULD_BLOCK, or an error. */
	ptio_ssize (*nb_write)(void *self, const void *buf, size_t len);
	/* Optional.  Gather-write the N slices (writev); return the count.
	 * NULL: write the first non-empty slice. */
	ptio_ssize (*nb_write_vectored)(void *self, const struct ptio_iovec *iov,
					size_t n);
	/* Optional.  Push buffered bytes toward their destination; return 0,
	 * PTIO_WOULD_BLOCK, or an error.  NULL: nothing to flush. */
	ptio_ssize (*nb_flush)(void *self);
	/* Optional.  NULL: true when nb_write_vectored is set. */
	bool (*is_write_vectored)(void *self);
};

/* Trait objects: fat pointers, passed by value.  `dyn Read` is
 * struct ptio_read; nothing here allocates. */
struct ptio_ready {
	void *self;
	const struct ptio_ready_vt *vt;
};
struct ptio_read {
	void *self;
	const struct ptio_read_vt *vt;
};
struct ptio_write {
	void *self;
	const struct ptio_write_vt *vt;
};

/* Upcasts: every Read and Write is a Ready. */
static inline struct ptio_ready ptio_read_as_ready(struct ptio_read r)
{
	struct ptio_ready o;

	o.self = r.self;
	o.vt = &r.vt->ready;
	return o;
}
static inline struct ptio_ready ptio_write_as_ready(struct ptio_write w)
{
	struct ptio_ready o;

	o.self = w.self;
	o.vt = &w.vt->ready;
	return o;
}

/* Non-blocking calls through a trait object.  These are the single place
 * where optional slots get their defaults and where readbuf invariants
 * and returned counts are checked: a count larger than what was asked
 * for becomes PTIO_EIO instead of corrupting the caller. */
ptio_ssize ptio_poll_ready(struct ptio_ready o, struct ptio_task *task,
			   unsigned interest);
ptio_ssize ptio_nb_read_buf(struct ptio_read r, struct ptio_readbuf *rb);
ptio_ssize ptio_nb_read(struct ptio_read r, void *buf, size_t len);
ptio_ssize ptio_nb_read_buf_vectored(struct ptio_read r,
				     struct ptio_readbuf *rbs, size_t n);
bool ptio_is_read_vectored(struct ptio_read r);
ptio_ssize ptio_nb_write(struct ptio_write w, const void *buf, size_t len);
ptio_ssize ptio_nb_write_vectored(struct ptio_write w,
				  const struct ptio_iovec *iov, size_t n);
ptio_ssize ptio_nb_flush(struct ptio_write w);
bool ptio_is_write_vectored(struct ptio_write w);

/* ptio_nb_read and ptio_nb_write inline in the caller when the stream has
 * the plain slot (every fd stream has both): the count is checked the
 * same way, without the call in between.  `(ptio_nb_read)` names the
 * function. */
static inline ptio_ssize ptio__nb_read_inline(struct ptio_read r, void *buf,
					      size_t len)
{
	if (r.vt->nb_read != NULL && len <= (size_t)PTIO_SSIZE_MAX) {
		ptio_ssize n = r.vt->nb_read(r.self, buf, len);

		return n > (ptio_ssize)len ? PTIO_EIO : n;
	}
	return (ptio_nb_read)(r, buf, len);
}
#define ptio_nb_read(r, buf, len) ptio__nb_read_inline(r, buf, len)

static inline ptio_ssize ptio__nb_write_inline(struct ptio_write w,
					       const void *buf, size_t len)
{
	if (len <= (size_t)PTIO_SSIZE_MAX) {
		ptio_ssize n = w.vt->nb_write(w.self, buf, len);

		return n > (ptio_ssize)len ? PTIO_EIO : n;
	}
	return (ptio_nb_write)(w, buf, len);
}
#define ptio_nb_write(w, buf, len) ptio__nb_write_inline(w, buf, len)

#ifdef __cplusplus
}
#endif

#endif /* PTIO_IO_H */
