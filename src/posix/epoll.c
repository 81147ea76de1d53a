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
 * Events carry a pointer to their source (ev.data.ptr), and a wait hands
 * each straight to ptio_source_ready: no table by descriptor, so that an
 * idle stream costs this backend one bit (see "Numbers").  A pointer is
 * safe to follow only while its source is attached, and two kinds of
 * event could outlive their source:
 *
 *  - one in the batch being reported when its source was detached (a
 *    report runs no user code, so only a detach from inside the wait
 *    does it: a test's seam);
 *  - one from a registration the kernel keeps after the stream's
 *    descriptor was closed behind its back (close(2), not ptio_fd_close)
 *    while a dup or a child process keeps the file open.  The kernel
 *    drops a registration when the file is released, not when one of its
 *    descriptors closes, and EPOLL_CTL_DEL, which names a descriptor
 *    number, cannot reach it any more.
 *
 * The gone list.  Detach notes the address of a registered source whose
 * registration it did not remove (EPOLL_CTL_DEL failed, or was not tried:
 * see "Numbers"), and, until the batch has been reported, of one detached
 * during a wait.  A report looks at the list only when it is not empty,
 * which takes such a misuse, and then drops every event whose pointer is
 * on it.  The addresses are compared, never followed.  An entry stays for
 * the backend's life (the kernel does not say when the last dup closes
 * and the registration goes), except a batch's, which goes after it.  A
 * source attached at an address on the list makes its entry live: stale
 * events from the old registration then reach the new source as
 * spurious readiness, which an edge-triggered stream that clears its
 * cache survives (its next call meets EAGAIN, clears the bit, and it
 * waits for the next edge).  Its detach makes the entry gone again, for
 * the old registration may still be there.  Should the list fail to grow
 * (no memory), the address is not noted: only a misuse and a failed
 * allocation of a few bytes together leave that risk.
 *
 * Numbers.  EPOLL_CTL_DEL removes whatever registration the descriptor
 * number now leads to.  After a stream's descriptor was closed behind
 * its back and its number reused by a new stream, the old stream's
 * detach would remove the new stream's registration, and only the
 * number's history can tell.  So one bit per descriptor number says
 * whether a registered source holds it, in pages of 4,096 numbers (512
 * bytes) allocated as the numbers come.  A number held by two registered
 * sources or more, which takes such a misuse, is shared: it has records
 * in a short list, one per holder (the one from before the number was
 * shared anonymous), each saying whether it attached last, the owner.
 * The number leads to the owner's file (an attach succeeds only on a
 * file with no registration at that number, so every earlier holder's
 * file has left the number), so only the owner's detach removes by
 * number; any other holder goes on the gone list.  A number down to one
 * holder is no longer shared, and that holder's detach removes by
 * number: no other attached source holds the number, so what the call
 * reaches, if anything, is its own registration or one left behind by a
 * source on the gone list.
 *
 * Sources whose files epoll refuses (regular files, /dev/null: EPERM)
 * are never registered and must never remove: they are kept on a list of
 * their own, which detach looks through only when it is not empty (a
 * server seldom has any).  A registered source that takes the number of
 * one closed behind its back is then the number's only holder, and a
 * refused one that takes a registered source's number leaves that one
 * its bit: its attempt to remove reaches the refused file and fails.
 *
 * Divided into: clearing, growing arrays, numbers, refused sources, the
 * gone list, reporting a batch, the backend vtable, and init/destroy.  Without <sys/epoll.h>
 * only a ptio_epoll_init that fails with PTIO_ENOTSUP is built.
 */
#include <ptio/err.h>
#include "posix/internal.h"

/* Every member but base.vt and epfd: nothing held. */
static void ep_clear(struct ptio_epoll *eb)
{
	eb->in_wait = false;
	eb->held = NULL;
	eb->nheld = 0;
	eb->refused = NULL;
	eb->nrefused = 0;
	eb->caprefused = 0;
	eb->gone = NULL;
	eb->ngone = 0;
	eb->capgone = 0;
	eb->nbatch = 0;
	eb->share = NULL;
	eb->nshare = 0;
	eb->capshare = 0;
	eb->nattached = 0;
}

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

/* Descriptor numbers per page of the bits that say which are held (see
 * "Numbers"): 512 bytes.  Pages, not one array grown by realloc, for
 * every outgrown array would stay in the allocator's caches, which
 * would cost more than the bits themselves. */
#define EP_PAGE_BITS 4096
#define EP_WORD_BITS (sizeof(unsigned long) * CHAR_BIT)

/* An address whose source has gone while a registration may still carry
 * it (see "The gone list"). */
struct ptio__epoll_gone {
	const struct ptio_source *src; /* compared, never followed */
	uint8_t live;                  /* a source is attached there again */
	uint8_t batch;                 /* only until this batch is reported */
};

/* One registered holder of a shared descriptor number. */
struct ptio__epoll_share {
	const struct ptio_source *src; /* NULL: the holder from before the
					  number was shared */
	int fd;
	bool owner;                    /* attached last: the number leads to
					  its file */
};

static struct ptio_epoll *ep_of(struct ptio_backend *be)
{
	return PTIO_CONTAINER_OF(be, struct ptio_epoll, base);
}

/* ---- Growing arrays ------------------------------------------------------ */

/* ARR (of *CAP elements of SIZE bytes) with room for WANT elements,
 * doubling from 4, or NULL (ARR untouched) when memory runs out.  What
 * grows so is short: the refused sources, the directory of pages, and
 * the lists that only a misuse fills. */
static void *ep_grow(void *arr, size_t *cap, size_t want, size_t size)
{
	size_t len = *cap != 0 ? *cap : 4;
	void *p;

	if (want <= *cap)
		return arr;
	while (len < want) {
		if (len > SIZE_MAX / 2 / size)
			return NULL;
		len *= 2;
	}
	p = realloc(arr, len * size);
	if (p != NULL)
		*cap = len;
	return p;
}

/* ---- Numbers ---------------------------------------------------------------- */

static bool held_get(const struct ptio_epoll *eb, int fd)
{
	size_t page = (size_t)fd / EP_PAGE_BITS, bit = (size_t)fd % EP_PAGE_BITS;

	if (page >= eb->nheld || eb->held[page] == NULL)
		return false;
	return (eb->held[page][bit / EP_WORD_BITS] >> (bit % EP_WORD_BITS)) & 1u;
}

/* Set or clear the bit of FD, which held_room has made room for. */
static void held_put(struct ptio_epoll *eb, int fd, bool on)
{
	size_t bit = (size_t)fd % EP_PAGE_BITS;
	unsigned long *w = &eb->held[(size_t)fd / EP_PAGE_BITS][bit / EP_WORD_BITS];
	unsigned long mask = 1ul << (bit % EP_WORD_BITS);

	*w = on ? *w | mask : *w & ~mask;
}

/* Make room for the bit of descriptor number FD. */
static ptio_ssize held_room(struct ptio_epoll *eb, int fd)
{
	size_t page = (size_t)fd / EP_PAGE_BITS, cap = eb->nheld;
	unsigned long **held;

	if (page >= eb->nheld) {
		held = ep_grow(eb->held, &cap, page + 1, sizeof(*held));
		if (held == NULL)
			return PTIO_ENOMEM;
		memset(held + eb->nheld, 0, (cap - eb->nheld) * sizeof(*held));
		eb->held = held;
		eb->nheld = cap;
	}
	if (eb->held[page] == NULL) {
		eb->held[page] = calloc(EP_PAGE_BITS / CHAR_BIT, 1);
		if (eb->held[page] == NULL)
			return PTIO_ENOMEM;
	}
	return 0;
}

/* Room for what ep_hold may add for FD: its bit and, when it is held
 * already, the records of a shared number (the earlier holder's and the
 * new one's).  Taken before the registration, so that ep_hold cannot
 * fail after it. */
static ptio_ssize num_room(struct ptio_epoll *eb, int fd)
{
	struct ptio__epoll_share *share;
	ptio_ssize r = held_room(eb, fd);

	if (r < 0 || !held_get(eb, fd))
		return r;
	share = ep_grow(eb->share, &eb->capshare, eb->nshare + 2,
			sizeof(*share));
	if (share == NULL)
		return PTIO_ENOMEM;
	eb->share = share;
	return 0;
}

static void share_add(struct ptio_epoll *eb, const struct ptio_source *src,
		      int fd, bool owner)
{
	struct ptio__epoll_share *s = &eb->share[eb->nshare++];

	s->src = src;
	s->fd = fd;
	s->owner = owner;
}

/* How many records shared number FD has (0: it is not shared). */
static size_t share_count(const struct ptio_epoll *eb, int fd)
{
	size_t i, n = 0;

	for (i = 0; i < eb->nshare; i++)
		n += eb->share[i].fd == fd;
	return n;
}

/* SRC, newly registered, now holds descriptor number FD, and owns it. */
static void ep_hold(struct ptio_epoll *eb, const struct ptio_source *src,
		    int fd)
{
	size_t i;

	if (!held_get(eb, fd)) {
		held_put(eb, fd, true);
		return;
	}
	if (share_count(eb, fd) == 0)
		share_add(eb, NULL, fd, false);
	for (i = 0; i < eb->nshare; i++)
		if (eb->share[i].fd == fd)
			eb->share[i].owner = false;
	share_add(eb, src, fd, true);
}

/* The record of SRC for shared number FD, else that of its anonymous
 * holder (which SRC then is), else NULL. */
static struct ptio__epoll_share *share_find(struct ptio_epoll *eb,
					    const struct ptio_source *src,
					    int fd)
{
	struct ptio__epoll_share *anon = NULL;
	size_t i;

	for (i = 0; i < eb->nshare; i++) {
		if (eb->share[i].fd != fd)
			continue;
		if (eb->share[i].src == src)
			return &eb->share[i];
		if (eb->share[i].src == NULL)
			anon = &eb->share[i];
	}
	return anon;
}

/* Drop record S of FD; a number down to one holder is no longer shared
 * (its bit says the rest). */
static void share_drop(struct ptio_epoll *eb, struct ptio__epoll_share *s,
		       int fd)
{
	size_t i;

	*s = eb->share[--eb->nshare];
	if (share_count(eb, fd) != 1)
		return;
	for (i = 0; eb->share[i].fd != fd; i++)
		;
	eb->share[i] = eb->share[--eb->nshare];
}

/* SRC, registered, leaves descriptor number FD.  Returns false when it
 * held nothing here; else true, with *OWNER set when the number still
 * leads to its registration (as far as this backend knows: it may have
 * been closed behind its back). */
static bool ep_release(struct ptio_epoll *eb, const struct ptio_source *src,
		       int fd, bool *owner)
{
	struct ptio__epoll_share *s;

	if (!held_get(eb, fd))
		return false;
	if (eb->nshare == 0 || share_count(eb, fd) == 0) {
		held_put(eb, fd, false);
		*owner = true;
		return true;
	}
	s = share_find(eb, src, fd);
	if (s == NULL)
		return false; /* a stranger */
	*owner = s->owner;
	share_drop(eb, s, fd);
	return true;
}

/* ---- Refused sources --------------------------------------------------------- */

/* SRC, whose file epoll refused, joins the list of those: never
 * registered, never removed.  The list is as long as the streams open on
 * regular files and the like, which a server rarely has. */
static ptio_ssize refused_add(struct ptio_epoll *eb,
			      const struct ptio_source *src)
{
	const struct ptio_source **refused =
		ep_grow(eb->refused, &eb->caprefused, eb->nrefused + 1,
			sizeof(*refused));

	if (refused == NULL)
		return PTIO_ENOMEM;
	eb->refused = refused;
	eb->refused[eb->nrefused++] = src;
	return 0;
}

/* Take SRC off the list of refused sources; false if it is not there. */
static bool refused_take(struct ptio_epoll *eb, const struct ptio_source *src)
{
	size_t i;

	for (i = 0; i < eb->nrefused; i++)
		if (eb->refused[i] == src) {
			eb->refused[i] = eb->refused[--eb->nrefused];
			return true;
		}
	return false;
}

/* ---- The gone list ------------------------------------------------------------ */

static struct ptio__epoll_gone *gone_find(struct ptio_epoll *eb,
					  const void *src)
{
	size_t i;

	for (i = 0; i < eb->ngone; i++)
		if (eb->gone[i].src == src)
			return &eb->gone[i];
	return NULL;
}

/* SRC has been attached: events that carry its address are its own. */
static void gone_attached(struct ptio_epoll *eb, const struct ptio_source *src)
{
	struct ptio__epoll_gone *g = gone_find(eb, src);

	if (g != NULL)
		g->live = true;
}

/* SRC has been detached.  LINGERS: a registration that carries its
 * address may remain; IN_BATCH: the batch being reported may hold an
 * event for it (a detach during a wait), so it is noted until the batch
 * is done. */
static void gone_detached(struct ptio_epoll *eb,
			  const struct ptio_source *src, bool lingers,
			  bool in_batch)
{
	struct ptio__epoll_gone *g = eb->ngone != 0 ? gone_find(eb, src) : NULL;

	if (g == NULL) {
		if (!lingers && !in_batch)
			return;
		g = ep_grow(eb->gone, &eb->capgone, eb->ngone + 1, sizeof(*g));
		if (g == NULL)
			return; /* see "The gone list" */
		eb->gone = g;
		g = &eb->gone[eb->ngone++];
		g->src = src;
		g->batch = !lingers;
		eb->nbatch += !lingers;
	} else if (lingers && g->batch) {
		g->batch = false;
		eb->nbatch--;
	}
	g->live = false;
}

/* The batch has been reported: forget the entries kept only for it. */
static void gone_batch_done(struct ptio_epoll *eb)
{
	size_t i, n = 0;

	for (i = 0; i < eb->ngone; i++)
		if (!eb->gone[i].batch)
			eb->gone[n++] = eb->gone[i];
	eb->ngone = n;
	eb->nbatch = 0;
}

/* True when an event that carries SRC must be dropped. */
static bool gone_has(struct ptio_epoll *eb, const void *src)
{
	const struct ptio__epoll_gone *g = gone_find(eb, src);

	return g != NULL && !g->live;
}

/* ---- Reporting a batch ------------------------------------------------------ */

/* What epoll's EVENTS mean as readiness.  A hang-up, of the peer's
 * sending side (EPOLLRDHUP) or of both (EPOLLHUP), is HUP and READABLE:
 * data sent before it may still be queued, and only a read that returns
 * 0 says the stream has ended.  HUP is what keeps saying so after a
 * short read has cleared READABLE, as this edge is the only report.
 *
 * Every event of every message passes here, so the five low bits (IN,
 * PRI, OUT, ERR, HUP: Linux's ABI, asserted below) index a table of
 * their meaning, and only EPOLLRDHUP, above them, is tested apart. */
#define EP_BITS(e)                                                       \
	((((e) & 0x01) ? PTIO_READABLE : 0u) |                           \
	 (((e) & 0x04) ? PTIO_WRITABLE : 0u) |                           \
	 (((e) & 0x08) ? PTIO_ERROR : 0u) |                              \
	 (((e) & 0x10) ? PTIO_HUP | PTIO_READABLE : 0u))
#define EP_BITS4(e) EP_BITS(e), EP_BITS((e) + 1), EP_BITS((e) + 2),      \
		    EP_BITS((e) + 3)
#define EP_BITS16(e) EP_BITS4(e), EP_BITS4((e) + 4), EP_BITS4((e) + 8),  \
		     EP_BITS4((e) + 12)
static const uint8_t ep_bits[32] = { EP_BITS16(0), EP_BITS16(16) };
PTIO_STATIC_ASSERT(EPOLLIN == 0x01 && EPOLLPRI == 0x02 && EPOLLOUT == 0x04 &&
		   EPOLLERR == 0x08 && EPOLLHUP == 0x10 &&
		   (EPOLLRDHUP & 0x1f) == 0, epoll_low_bits);

static unsigned ep_readiness(uint32_t events)
{
	unsigned bits = ep_bits[events & 0x1f];

	if (events & EPOLLRDHUP)
		bits |= PTIO_HUP | PTIO_READABLE;
	return bits;
}

/* Report the N events of EV, each to the source it points to, but for
 * those whose source has gone (see "The gone list"), whose list is
 * looked at only when it is not empty.  (Reporting itself only caches
 * bits and queues tasks; no user code runs before the loop's next
 * round.) */
static void ep_report(struct ptio_epoll *eb, const struct epoll_event *ev,
		      int n)
{
	int i;

	if (eb->ngone == 0) {
		for (i = 0; i < n; i++)
			ptio__source_ready_edge_inline(
				ev[i].data.ptr, ep_readiness(ev[i].events));
		return;
	}
	for (i = 0; i < n; i++)
		if (!gone_has(eb, ev[i].data.ptr))
			ptio_source_ready(ev[i].data.ptr,
					  ep_readiness(ev[i].events));
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
	eb->in_wait = true;
	n = epoll_wait(eb->epfd, ev, EP_BATCH, ms);
	if (n > 0)
		ep_report(eb, ev, n);
	eb->in_wait = false;
	if (eb->nbatch != 0)
		gone_batch_done(eb);
	if (n < 0) {
		/* A signal: return so the loop fires what is due and
		 * computes a fresh timeout, as poll.c does.  Nothing is
		 * lost: the events stay on the kernel's ready list. */
		if (errno == EINTR)
			return 0;
		return ptio__errno();
	}
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

/* Register SRC's descriptor FD.  Returns 1 when registered, 0 when epoll
 * refuses the file (then SRC is always ready), or an error. */
static ptio_ssize ep_register(struct ptio_epoll *eb, struct ptio_source *src,
			      int fd)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = src;
	if (epoll_ctl(eb->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
		return 1;
	/* Another stream holds this descriptor (the kernel still watches
	 * it for that one): the same error as poll's. */
	if (errno == EEXIST)
		return PTIO_EBUSY;
	if (errno != EPERM)
		return ptio__errno();
	/* A regular file, or a device that cannot wait (/dev/null): reads
	 * and writes never block, which poll(2) reports as always readable
	 * and writable.  So it is, from now on, with nothing registered. */
	ptio_source_ready(src, PTIO_READABLE | PTIO_WRITABLE);
	return 0;
}

static ptio_ssize ep_attach(struct ptio_backend *be, struct ptio_source *src)
{
	struct ptio_epoll *eb = ep_of(be);
	int fd = (int)src->handle;
	ptio_ssize r;

	if (fd < 0)
		return PTIO_EBADF;
	r = num_room(eb, fd);
	if (r < 0)
		return r;
	r = ep_register(eb, src, fd);
	if (r == 1) {
		ep_hold(eb, src, fd);
		eb->nattached++;
	} else if (r == 0) {
		r = refused_add(eb, src);
	}
	if (r < 0)
		return r;
	if (eb->ngone != 0)
		gone_attached(eb, src);
	src->flags = (uint8_t)(src->flags | PTIO_SOURCE_EDGE);
	return 0;
}

/* Only a source that attach flagged PTIO_SOURCE_EDGE has anything to
 * leave: a second detach, or one after a failed attach, does nothing. */
static void ep_detach(struct ptio_backend *be, struct ptio_source *src)
{
	struct ptio_epoll *eb = ep_of(be);
	int fd = (int)src->handle;
	bool owner = false, removed = false;

	if (!(src->flags & PTIO_SOURCE_EDGE) || fd < 0)
		return;
	src->flags = (uint8_t)(src->flags & ~PTIO_SOURCE_EDGE);
	if (eb->nrefused != 0 && refused_take(eb, src)) {
		if (eb->ngone != 0)
			gone_detached(eb, src, false, false);
		return;
	}
	if (!ep_release(eb, src, fd, &owner))
		return;
	/* This fails when the descriptor was closed behind the stream's
	 * back: the registration went with the file, or lingers with a
	 * dup, out of reach. */
	if (owner)
		removed = epoll_ctl(eb->epfd, EPOLL_CTL_DEL, fd, NULL) == 0;
	eb->nattached--;
	gone_detached(eb, src, !removed, eb->in_wait);
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
	ep_clear(eb);
	eb->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (eb->epfd < 0)
		return ptio__errno();
	if (out != NULL)
		*out = &eb->base;
	return 0;
}

void ptio_epoll_destroy(struct ptio_epoll *eb)
{
	size_t i;

	if (eb->epfd >= 0)
		(void)close(eb->epfd);
	eb->epfd = -1;
	for (i = 0; i < eb->nheld; i++)
		free(eb->held[i]);
	free(eb->held);
	free(eb->refused);
	free(eb->gone);
	free(eb->share);
	ep_clear(eb);
}

#else /* !HAVE_SYS_EPOLL_H */

ptio_ssize ptio_epoll_init(struct ptio_epoll *eb, struct ptio_backend **out)
{
	(void)out;
	eb->base.vt = NULL;
	eb->epfd = -1;
	ep_clear(eb);
	return PTIO_ENOTSUP;
}

void ptio_epoll_destroy(struct ptio_epoll *eb)
{
	(void)eb;
}

#endif /* HAVE_SYS_EPOLL_H */
