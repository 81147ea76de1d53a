/*
 * src/posix/poll.c - the poll(2) backend.
 *
 * Level-triggered, over sources: a source's descriptor is its handle, and
 * nothing here knows what kind of stream owns it.
 *
 * Entries keep their place.  A source gets a pollfd entry the first time a
 * task waits on it and keeps it, at the same index, until it is detached
 * (its stream is closed).  While tasks wait, the entry asks for exactly
 * their interests; while nobody waits, it is disabled by a negative fd,
 * which poll ignores.  Events = 0 would not do: poll reports POLLHUP and
 * POLLERR whether or not they were asked for, so a hang-up nobody reads
 * would make every wait return at once.  So a message costs two in-place
 * changes of one entry (disabled when its waiter wakes, enabled when it
 * waits again) instead of a removal and an addition, and a busy entry
 * does not drift to the end of the array, behind every idle one, where
 * the kernel would reach it last and the report walk after it.
 *
 * Divided into: the array (add, set, remove by moving the last entry into
 * the hole, so the array never holds more entries than there are sources
 * that have waited and are still open; a table indexed by descriptor
 * number gives each entry's index), reporting a batch of events, and the
 * backend vtable.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <ptio/err.h>
#include "posix/internal.h"

#define POLL_FIRST_CAP 8

/* For the rare paths (a source's first wait, a broken invariant): kept
 * out of line, they do not burden the per-message one with saved
 * registers. */
#if defined(__GNUC__)
#define POLL_RARE __attribute__((noinline, cold))
#define POLL_NORETURN __attribute__((noreturn))
#else
#define POLL_RARE
#define POLL_NORETURN
#endif

static struct ptio_poll *poll_of(struct ptio_backend *be)
{
	return PTIO_CONTAINER_OF(be, struct ptio_poll, base);
}

/* ---- The array ----------------------------------------------------------- */

/* Double the capacity of both arrays.  If the second realloc fails the
 * first has still grown, which is harmless: CAP only grows once both
 * have. */
static ptio_ssize poll_grow(struct ptio_poll *pb)
{
	size_t cap = pb->cap != 0 ? pb->cap * 2 : POLL_FIRST_CAP;
	struct pollfd *pfd;
	struct ptio_source **src;

	if (cap > (size_t)INT_MAX || cap > SIZE_MAX / sizeof(*pfd))
		return PTIO_ENOMEM;
	pfd = realloc(pb->pfd, cap * sizeof(*pfd));
	if (pfd == NULL)
		return PTIO_ENOMEM;
	pb->pfd = pfd;
	src = realloc(pb->src, cap * sizeof(*src));
	if (src == NULL)
		return PTIO_ENOMEM;
	pb->src = src;
	pb->cap = cap;
	return 0;
}

/* Make the slot table long enough to hold descriptor FD. */
static ptio_ssize poll_grow_slots(struct ptio_poll *pb, int fd)
{
	size_t want = (size_t)fd + 1, len = pb->nslot != 0 ? pb->nslot : 64;
	int32_t *slot;
	size_t i;

	while (len < want)
		len *= 2;
	if (len > SIZE_MAX / sizeof(*slot))
		return PTIO_ENOMEM;
	slot = realloc(pb->slot, len * sizeof(*slot));
	if (slot == NULL)
		return PTIO_ENOMEM;
	for (i = pb->nslot; i < len; i++)
		slot[i] = -1;
	pb->slot = slot;
	pb->nslot = len;
	return 0;
}

#ifndef PTIO_CONF_NO_ASSERT
/* SRC's descriptor leads to another source's entry: it was closed
 * behind its stream's back and reused by another stream.  The check is
 * an assertion (ptio_assert_fail does not return), written out by hand
 * so that the compiler knows this path ends here. */
static POLL_RARE POLL_NORETURN void poll_foreign_entry(void)
{
	ptio_assert_fail(__FILE__, __LINE__, "pb->src[i] == src");
	abort();
}
#endif

/* The entry index of SRC, or -1 when it has none. */
static int32_t poll_index(const struct ptio_poll *pb,
			  const struct ptio_source *src)
{
	int fd = (int)src->handle;
	int32_t i;

	if (fd < 0 || (size_t)fd >= pb->nslot)
		return -1;
	i = pb->slot[fd];
#ifndef PTIO_CONF_NO_ASSERT
	if (i >= 0 && pb->src[i] != src)
		poll_foreign_entry();
#endif
	return i;
}

/* What poll should ask for on behalf of SRC's waiters. */
static short poll_events(const struct ptio_source *src)
{
	return (short)((src->waiter[PTIO_SLOT_READ] != NULL ? POLLIN : 0) |
		       (src->waiter[PTIO_SLOT_WRITE] != NULL ? POLLOUT : 0));
}

/* Make entry I ask for EVENTS on SRC's descriptor, or, with EVENTS 0,
 * disable it (poll skips a negative fd and reports nothing for it). */
static void poll_set(struct ptio_poll *pb, size_t i,
		     const struct ptio_source *src, short events)
{
	struct pollfd *p = &pb->pfd[i];

	if (events != 0) {
		if (p->fd < 0)
			pb->armed++;
		p->fd = (int)src->handle;
	} else {
		if (p->fd >= 0)
			pb->armed--;
		p->fd = -1;
	}
	p->events = events;
}

/* A new entry for SRC, asking for EVENTS (0: disabled). */
static POLL_RARE ptio_ssize poll_add(struct ptio_poll *pb,
				     struct ptio_source *src, short events)
{
	int fd = (int)src->handle;
	ptio_ssize r;

	if (fd < 0)
		return PTIO_EBADF;
	if ((size_t)fd >= pb->nslot) {
		r = poll_grow_slots(pb, fd);
		if (r < 0)
			return r;
	}
	if (pb->n == pb->cap) {
		r = poll_grow(pb);
		if (r < 0)
			return r;
	}
	pb->pfd[pb->n].fd = -1;
	pb->pfd[pb->n].revents = 0;
	pb->src[pb->n] = src;
	poll_set(pb, pb->n, src, events);
	pb->slot[fd] = (int32_t)pb->n;
	pb->n++;
	return 0;
}

/* Remove entry I, which belongs to SRC, by moving the last entry into its
 * place.  Only a detach does this, never a report walk. */
static void poll_remove(struct ptio_poll *pb, size_t i,
			const struct ptio_source *src)
{
	size_t last = pb->n - 1;

	poll_set(pb, i, src, 0);
	pb->slot[src->handle] = -1;
	if (i != last) {
		pb->pfd[i] = pb->pfd[last];
		pb->src[i] = pb->src[last];
		pb->slot[pb->src[i]->handle] = (int32_t)i;
	}
	pb->n = last;
}

static ptio_ssize poll_update(struct ptio_backend *be, struct ptio_source *src)
{
	struct ptio_poll *pb = poll_of(be);
	short events = poll_events(src);
	int32_t i = poll_index(pb, src);

	if (i < 0)
		return events != 0 ? poll_add(pb, src, events) : 0;
	poll_set(pb, (size_t)i, src, events);
	return 0;
}

/* ---- Reporting a batch ------------------------------------------------- */

/* What poll's REVENTS mean as readiness.  POLLHUP also means READABLE:
 * data sent before the hang-up may still be queued, and only a read that
 * returns 0 says the stream has ended.  POLLNVAL (the fd was closed
 * behind the stream's back) is an error, which wakes both waiters; their
 * next call fails with PTIO_EBADF instead of the loop spinning. */
static unsigned poll_readiness(short revents)
{
	unsigned bits = 0;

	if (revents & POLLIN)
		bits |= PTIO_READABLE;
	if (revents & POLLOUT)
		bits |= PTIO_WRITABLE;
	if (revents & POLLHUP)
		bits |= PTIO_HUP | PTIO_READABLE;
	if (revents & (POLLERR | POLLNVAL))
		bits |= PTIO_ERROR;
	return bits;
}

/*
 * Report the COUNT entries the last poll found ready, walking from the
 * front and stopping at the last of them: the idle entries behind it are
 * never looked at.  Reporting wakes tasks, and a woken task's wait is
 * dropped at once, so update() disables the entry being reported; that
 * is a change in place, and a task waits on one source only, so no other
 * entry moves or changes under the walk.  No user code runs during it
 * (woken tasks only run in the loop's next round), so nothing is added
 * to the array and no source is detached.
 */
static void poll_report(struct ptio_poll *pb, int count)
{
	size_t i;

	for (i = 0; count > 0 && i < pb->n; i++) {
		short revents = pb->pfd[i].revents;

		if (revents == 0)
			continue;
		count--;
		ptio__source_ready_inline(pb->src[i], poll_readiness(revents));
	}
	pb->walked = i;
}

/* ---- The backend ------------------------------------------------------- */

static ptio_tick poll_now(struct ptio_backend *be)
{
	(void)be;
	return ptio_posix_now_ms();
}

static ptio_ssize poll_wait(struct ptio_backend *be, uint32_t timeout)
{
	struct ptio_poll *pb = poll_of(be);
	int ms;
	int r;

	if (timeout == PTIO_WAIT_FOREVER)
		ms = -1;
	else
		ms = timeout > (uint32_t)INT_MAX ? INT_MAX : (int)timeout;
	/* With every entry disabled, poll is only a sleep: do not make the
	 * kernel copy the array in and out. */
	r = poll(pb->pfd, (nfds_t)(pb->armed != 0 ? pb->n : 0), ms);
	pb->walked = 0;
	if (r < 0) {
		/* A signal: return so the loop fires what is due and
		 * computes a fresh timeout.  Retrying here with the old
		 * timeout would overshoot every deadline. */
		if (errno == EINTR)
			return 0;
		return ptio__errno();
	}
	if (r > 0)
		poll_report(pb, r);
	return 0;
}

/* Only entries that ask for something count: a disabled entry is kept
 * for its source's next wait but can wake nobody. */
static size_t poll_registrations(struct ptio_backend *be)
{
	return poll_of(be)->armed;
}

/* Give SRC its entry now, disabled until a task waits: the descriptor is
 * then known to be SRC's, and a second stream on it is refused here with
 * PTIO_EBUSY instead of tripping over SRC's entry at its first wait. */
static ptio_ssize poll_attach(struct ptio_backend *be, struct ptio_source *src)
{
	struct ptio_poll *pb = poll_of(be);
	int fd = (int)src->handle;

	if (fd >= 0 && (size_t)fd < pb->nslot && pb->slot[fd] >= 0)
		return pb->src[pb->slot[fd]] == src ? 0 : PTIO_EBUSY;
	return poll_add(pb, src, 0);
}

static void poll_detach(struct ptio_backend *be, struct ptio_source *src)
{
	struct ptio_poll *pb = poll_of(be);
	int32_t i = poll_index(pb, src);

	if (i >= 0)
		poll_remove(pb, (size_t)i, src);
}

static const struct ptio_backend_vt poll_vt = {
	.version = PTIO_BACKEND_VERSION,
	.now = poll_now,
	.wait = poll_wait,
	.update = poll_update,
	.registrations = poll_registrations,
	.attach = poll_attach,
	.detach = poll_detach,
};

struct ptio_backend *ptio_poll_init(struct ptio_poll *pb)
{
	pb->base.vt = &poll_vt;
	pb->pfd = NULL;
	pb->src = NULL;
	pb->n = 0;
	pb->cap = 0;
	pb->armed = 0;
	pb->walked = 0;
	pb->slot = NULL;
	pb->nslot = 0;
	return &pb->base;
}

void ptio_poll_destroy(struct ptio_poll *pb)
{
	free(pb->pfd);
	free(pb->src);
	free(pb->slot);
	ptio_poll_init(pb);
}
