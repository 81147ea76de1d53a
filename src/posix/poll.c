/*
 * src/posix/poll.c - the poll(2) backend.
 *
 * Level-triggered and minimal: the pollfd array holds exactly the fd
 * streams that have a waiter, each asking only for the interests that
 * have one (ptio_source_interest).  A stream nobody waits on costs nothing
 * per wait, and a stream whose waiter was woken leaves the array at once,
 * so a hang-up or an error that nobody reads cannot make poll return
 * again and again.
 *
 * Divided into: the array (add, change, remove by swapping with the last
 * entry; a table indexed by descriptor number gives each entry's index),
 * reporting a batch of events, and the backend vtable.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <ptio/err.h>
#include "posix/internal.h"

#define POLL_FIRST_CAP 8

static struct ptio_poll *poll_of(struct ptio_backend *be)
{
	return PTIO_CONTAINER_OF(be, struct ptio_poll, base);
}

/* Every source the poll backend sees is the first member of a ptio_fd. */
static struct ptio_fd *fd_of(struct ptio_source *src)
{
	return PTIO_CONTAINER_OF(src, struct ptio_fd, src);
}

/* ---- The array ----------------------------------------------------------- */

/* Double the capacity of both arrays.  If the second realloc fails the
 * first has still grown, which is harmless: CAP only grows once both
 * have. */
static ptio_ssize poll_grow(struct ptio_poll *pb)
{
	size_t cap = pb->cap != 0 ? pb->cap * 2 : POLL_FIRST_CAP;
	struct pollfd *pfd;
	struct ptio_fd **who;

	if (cap > (size_t)INT_MAX || cap > SIZE_MAX / sizeof(*pfd))
		return PTIO_ENOMEM;
	pfd = realloc(pb->pfd, cap * sizeof(*pfd));
	if (pfd == NULL)
		return PTIO_ENOMEM;
	pb->pfd = pfd;
	who = realloc(pb->who, cap * sizeof(*who));
	if (who == NULL)
		return PTIO_ENOMEM;
	pb->who = who;
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

/* The pfd index of F, or -1. */
static int32_t poll_index(const struct ptio_poll *pb, const struct ptio_fd *f)
{
	int fd = ptio_fd_fileno(f);

	if (fd < 0 || (size_t)fd >= pb->nslot)
		return -1;
	return pb->slot[fd];
}

static ptio_ssize poll_add(struct ptio_poll *pb, struct ptio_fd *f,
			   short events)
{
	int fd = ptio_fd_fileno(f);
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
	pb->pfd[pb->n].fd = fd;
	pb->pfd[pb->n].events = events;
	pb->pfd[pb->n].revents = 0;
	pb->who[pb->n] = f;
	pb->slot[fd] = (int32_t)pb->n;
	pb->n++;
	return 0;
}

/* Remove entry I by moving the last entry into its place. */
static void poll_remove(struct ptio_poll *pb, size_t i)
{
	size_t last = pb->n - 1;

	pb->slot[pb->pfd[i].fd] = -1;
	if (i != last) {
		pb->pfd[i] = pb->pfd[last];
		pb->who[i] = pb->who[last];
		pb->slot[pb->pfd[i].fd] = (int32_t)i;
	}
	pb->n = last;
}

static ptio_ssize poll_update(struct ptio_backend *be, struct ptio_source *src)
{
	struct ptio_poll *pb = poll_of(be);
	struct ptio_fd *f = fd_of(src);
	unsigned interest = ptio_source_interest(src);
	short events = (short)(((interest & PTIO_READ) ? POLLIN : 0) |
			       ((interest & PTIO_WRITE) ? POLLOUT : 0));

	int32_t i = poll_index(pb, f);

	if (i < 0)
		return events != 0 ? poll_add(pb, f, events) : 0;
	PTIO_ASSERT((size_t)i < pb->n && pb->who[i] == f);
	if (events == 0)
		poll_remove(pb, (size_t)i);
	else
		pb->pfd[i].events = events;
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
 * Report the events of the last poll.  Reporting wakes tasks, and a woken
 * task's registration is dropped at once, so update() changes or removes
 * the entry being reported while we walk the array.  Walking from the top
 * down and zeroing each entry's revents as it is reported makes that safe:
 * a task waits on one source only, so waking it touches only the entry
 * being reported, and a removal moves the last entry (at or above this
 * one, already reported, revents zero) into its place.  Nothing is missed
 * and nothing is reported twice.  No user code runs during the walk (woken
 * tasks only run in the loop's next round), so no stream can be closed
 * under it.
 */
static void poll_report(struct ptio_poll *pb)
{
	size_t i = pb->n;

	while (i-- > 0) {
		unsigned bits;

		if (i >= pb->n)
			continue; /* the top shrank below us */
		bits = poll_readiness(pb->pfd[i].revents);
		pb->pfd[i].revents = 0;
		if (bits != 0)
			ptio_source_ready(&pb->who[i]->src, bits);
	}
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
	r = poll(pb->pfd, (nfds_t)pb->n, ms);
	if (r < 0) {
		/* A signal: return so the loop fires what is due and
		 * computes a fresh timeout.  Retrying here with the old
		 * timeout would overshoot every deadline. */
		if (errno == EINTR)
			return 0;
		return ptio__errno();
	}
	if (r > 0)
		poll_report(pb);
	return 0;
}

static size_t poll_registrations(struct ptio_backend *be)
{
	return poll_of(be)->n;
}

static void poll_detach(struct ptio_backend *be, struct ptio_source *src)
{
	struct ptio_poll *pb = poll_of(be);
	int32_t i = poll_index(pb, fd_of(src));

	if (i >= 0) {
		PTIO_ASSERT((size_t)i < pb->n && pb->who[i] == fd_of(src));
		poll_remove(pb, (size_t)i);
	}
}

static const struct ptio_backend_vt poll_vt = {
	.version = PTIO_BACKEND_VERSION,
	.now = poll_now,
	.wait = poll_wait,
	.update = poll_update,
	.registrations = poll_registrations,
	.attach = NULL, /* nothing to do until a task waits */
	.detach = poll_detach,
};

struct ptio_backend *ptio_poll_init(struct ptio_poll *pb)
{
	pb->base.vt = &poll_vt;
	pb->pfd = NULL;
	pb->who = NULL;
	pb->n = 0;
	pb->cap = 0;
	pb->slot = NULL;
	pb->nslot = 0;
	return &pb->base;
}

void ptio_poll_destroy(struct ptio_poll *pb)
{
	free(pb->pfd);
	free(pb->who);
	free(pb->slot);
	ptio_poll_init(pb);
}
