/*
 * src/posix/epoll.c - the epoll(7) backend (Linux).
 *
 * Edge-triggered and registered once: attach adds a source's descriptor
 * (src->handle) to the epoll set for EPOLLIN | EPOLLOUT | EPOLLRDHUP |
 * EPOLLET and flags the source PTIO_SOURCE_EDGE, so the core never tells
 * this backend about waiters coming and going; detach removes it.  A wait
 * reports every event into its source's readiness cache with
 * ptio_source_ready, whoever waits; the stream clears a bit when a call
 * meets EAGAIN (or a short read drains a byte stream) and the kernel
 * reports the next edge.  So a busy stream costs its read and its write
 * per message and a share of one epoll_wait: no epoll_ctl, no update.
 *
 * Events carry the descriptor, not a pointer to the source, and a table
 * indexed by descriptor number (like poll.c's) leads to the source;
 * detach empties the entry.  So an event that outlives its source (one
 * later in the batch being reported, or one the kernel still holds for a
 * descriptor closed behind its stream's back and kept open by a dup)
 * finds no source and is dropped: it never reaches a source that has
 * left, nor memory that may have been freed.
 *
 * Divided into: the table, reporting a batch, the backend vtable, and
 * init/destroy.  Without <sys/epoll.h> only a ptio_epoll_init that fails
 * with PTIO_ENOTSUP is built.
 */
#include <ptio/err.h>
#include "posix/internal.h"

#ifdef HAVE_SYS_EPOLL_H

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

/* Events taken from the kernel per wait, on the stack.  More ready
 * streams than this are reported by the next wait (the kernel keeps them
 * on its ready list). */
#define EP_BATCH 128

static struct ptio_epoll *ep_of(struct ptio_backend *be)
{
	return PTIO_CONTAINER_OF(be, struct ptio_epoll, base);
}

/* ---- The table ------------------------------------------------------------- */

/* Make the table long enough to hold descriptor FD. */
static ptio_ssize ep_grow(struct ptio_epoll *eb, int fd)
{
	size_t want = (size_t)fd + 1, len = eb->nwho != 0 ? eb->nwho : 64;
	struct ptio_source **who;

	/* Grow by a quarter, not double: the table is part of what every
	 * connection costs, and 10,000 descriptors would otherwise leave
	 * up to 8 bytes each of them unused. */
	while (len < want)
		len += len / 4;
	if (len > SIZE_MAX / sizeof(*who))
		return PTIO_ENOMEM;
	who = realloc(eb->who, len * sizeof(*who));
	if (who == NULL)
		return PTIO_ENOMEM;
	memset(who + eb->nwho, 0, (len - eb->nwho) * sizeof(*who));
	eb->who = who;
	eb->nwho = len;
	return 0;
}

/* ---- Reporting a batch ------------------------------------------------------ */

/* What epoll's EVENTS mean as readiness.  A hang-up, of the peer's
 * sending side (EPOLLRDHUP) or of both (EPOLLHUP), is HUP and READABLE:
 * data sent before it may still be queued, and only a read that returns
 * 0 says the stream has ended.  HUP is what keeps saying so after a
 * short read has cleared READABLE, as this edge is the only report. */
static unsigned ep_readiness(uint32_t events)
{
	unsigned bits = 0;

	if (events & EPOLLIN)
		bits |= PTIO_READABLE;
	if (events & EPOLLOUT)
		bits |= PTIO_WRITABLE;
	if (events & (EPOLLRDHUP | EPOLLHUP))
		bits |= PTIO_HUP | PTIO_READABLE;
	if (events & EPOLLERR)
		bits |= PTIO_ERROR;
	return bits;
}

/* Report the N events of EV.  The table is read afresh for each: a
 * source detached since the kernel filled the batch has left its entry
 * empty, and its stale event is dropped.  (Reporting itself only caches
 * bits and queues tasks; no user code runs before the loop's next
 * round.) */
static void ep_report(struct ptio_epoll *eb, const struct epoll_event *ev,
		      int n)
{
	int i;

	for (i = 0; i < n; i++) {
		int fd = ev[i].data.fd;
		struct ptio_source *src;

		if (fd < 0 || (size_t)fd >= eb->nwho)
			continue;
		src = eb->who[fd];
		if (src != NULL)
			ptio_source_ready(src, ep_readiness(ev[i].events));
	}
}

/* ---- The backend ------------------------------------------------------- */

static ptio_tick ep_now(struct ptio_backend *be)
{
	(void)be;
	return ptio_posix_now_ms();
}

static ptio_ssize ep_wait(struct ptio_backend *be, uint32_t timeout)
{
	struct ptio_epoll *eb = ep_of(be);
	struct epoll_event ev[EP_BATCH];
	int ms;
	int n;

	if (timeout == PTIO_WAIT_FOREVER)
		ms = -1;
	else
		ms = timeout > (uint32_t)INT_MAX ? INT_MAX : (int)timeout;
	n = epoll_wait(eb->epfd, ev, EP_BATCH, ms);
	if (n < 0) {
		/* A signal: return so the loop fires what is due and
		 * computes a fresh timeout, as poll.c does.  Nothing is
		 * lost: the events stay on the kernel's ready list. */
		if (errno == EINTR)
			return 0;
		return ptio__errno();
	}
	ep_report(eb, ev, n);
	return 0;
}

/* The core never calls this for an attached source (attach flags it
 * PTIO_SOURCE_EDGE), so it is reached only by a source that claims the
 * backend without having joined it: epoll cannot watch that. */
static ptio_ssize ep_update(struct ptio_backend *be, struct ptio_source *src)
{
	(void)be;
	return (src->flags & PTIO_SOURCE_EDGE) ? 0 : PTIO_EINVAL;
}

static size_t ep_registrations(struct ptio_backend *be)
{
	return ep_of(be)->nattached;
}

static void ep_set_edge(struct ptio_source *src)
{
	src->flags = (uint8_t)(src->flags | PTIO_SOURCE_EDGE);
}

static ptio_ssize ep_attach(struct ptio_backend *be, struct ptio_source *src)
{
	struct ptio_epoll *eb = ep_of(be);
	struct epoll_event ev;
	int fd = (int)src->handle;
	ptio_ssize r;

	if (fd < 0)
		return PTIO_EBADF;
	if ((size_t)fd >= eb->nwho) {
		r = ep_grow(eb, fd);
		if (r < 0)
			return r;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.fd = fd;
	if (epoll_ctl(eb->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		/* Another stream holds this descriptor (the kernel still
		 * watches it for that one): the same error as poll's. */
		if (errno == EEXIST)
			return PTIO_EBUSY;
		if (errno != EPERM)
			return ptio__errno();
		/* A regular file, or a device that cannot wait (/dev/null):
		 * reads and writes never block, which poll(2) reports as
		 * always readable and writable.  So it is, from now on,
		 * with nothing registered. */
		ptio_source_ready(src, PTIO_READABLE | PTIO_WRITABLE);
		ep_set_edge(src);
		return 0;
	}
	/* An entry that is not empty belongs to a stream whose descriptor
	 * was closed behind its back (the kernel dropped it): this stream
	 * takes the number over, and that one's detach leaves it alone. */
	if (eb->who[fd] == NULL)
		eb->nattached++;
	eb->who[fd] = src;
	ep_set_edge(src);
	return 0;
}

static void ep_detach(struct ptio_backend *be, struct ptio_source *src)
{
	struct ptio_epoll *eb = ep_of(be);
	int fd = (int)src->handle;

	src->flags = (uint8_t)(src->flags & ~PTIO_SOURCE_EDGE);
	if (fd < 0 || (size_t)fd >= eb->nwho || eb->who[fd] != src)
		return; /* never registered, or its number was taken over */
	/* This fails only when the descriptor was closed behind the
	 * stream's back, and then the kernel has nothing left to remove
	 * (or keeps a registration whose events the table now drops). */
	(void)epoll_ctl(eb->epfd, EPOLL_CTL_DEL, fd, NULL);
	eb->who[fd] = NULL;
	eb->nattached--;
}

static const struct ptio_backend_vt ep_vt = {
	.version = PTIO_BACKEND_VERSION,
	.now = ep_now,
	.wait = ep_wait,
	.update = ep_update,
	.registrations = ep_registrations,
	.attach = ep_attach,
	.detach = ep_detach,
};

/* ---- Init and destroy ----------------------------------------------------- */

ptio_ssize ptio_epoll_init(struct ptio_epoll *eb, struct ptio_backend **out)
{
	eb->base.vt = &ep_vt;
	eb->who = NULL;
	eb->nwho = 0;
	eb->nattached = 0;
	eb->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (eb->epfd < 0)
		return ptio__errno();
	if (out != NULL)
		*out = &eb->base;
	return 0;
}

void ptio_epoll_destroy(struct ptio_epoll *eb)
{
	if (eb->epfd >= 0)
		(void)close(eb->epfd);
	free(eb->who);
	eb->epfd = -1;
	eb->who = NULL;
	eb->nwho = 0;
	eb->nattached = 0;
}

#else /* !HAVE_SYS_EPOLL_H */

ptio_ssize ptio_epoll_init(struct ptio_epoll *eb, struct ptio_backend **out)
{
	(void)out;
	eb->base.vt = NULL;
	eb->epfd = -1;
	eb->who = NULL;
	eb->nwho = 0;
	eb->nattached = 0;
	return PTIO_ENOTSUP;
}

void ptio_epoll_destroy(struct ptio_epoll *eb)
{
	(void)eb;
}

#endif /* HAVE_SYS_EPOLL_H */
