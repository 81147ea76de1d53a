/*
 * src/posix/uring.c - the io_uring backend (Linux, liburing): readiness
 * through multishot poll.
 *
 * Edge-style and registered once, as epoll.c: attach queues one
 * multishot IORING_OP_POLL_ADD for POLLIN | POLLOUT | POLLRDHUP on the
 * source's descriptor and flags the source PTIO_SOURCE_EDGE.  The kernel
 * keeps that request armed and posts a completion on each wake-up of the
 * file's wait queue (new data, room to write, a hang-up), carrying the
 * events ready at that moment: the same edges EPOLLET reports.  A wait
 * submits what is queued and waits in one io_uring_enter, and reports
 * each completion into its source's readiness cache.  So every Read and
 * Write works unchanged, and a busy stream costs its read, its write and
 * a share of one io_uring_enter per message.
 *
 * The kernel may end a multishot request (a completion without
 * IORING_CQE_F_MORE: the completion queue overflowed, or someone
 * cancelled it): the backend then arms it again, and the new request
 * reports at once what is ready, so no edge is lost.  A file whose poll
 * cannot wait (a regular file, /dev/null) ends its first request with
 * its mask at once: such a stream is always readable and writable, as
 * poll(2) says of it, and holds no registration (as with epoll).
 *
 * Completions carry the descriptor and a generation number that each
 * attach takes afresh; a table indexed by descriptor leads to the source
 * and holds its generation.  A completion whose generation is not its
 * descriptor's current one (a stream closed while its completion waited
 * in the queue, whose number a new stream may already have taken) is
 * dropped: it never reaches a source that has left, nor re-arms a request
 * for it.  Detach cancels the request at once (IORING_OP_ASYNC_CANCEL,
 * submitted there): an armed poll holds a reference to the file, which
 * would otherwise keep a closed socket open.
 *
 * Divided into: the table, arming and cancelling, reporting completions,
 * the backend vtable, and init/destroy.  Without liburing only a
 * ptio_uring_init that fails with PTIO_ENOTSUP is built.
 */
#define _GNU_SOURCE 1 /* POLLRDHUP */
#include <ptio/err.h>
#include "posix/internal.h"

#ifdef HAVE_LIBURING

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <liburing.h>

/* Submission queue entries, and completion queue entries: many more, so
 * that a burst of wake-ups from many busy streams rarely overflows the
 * completion queue (which would end their multishot requests, costing
 * a re-arm each). */
#define UR_SQ_ENTRIES 256
#define UR_CQ_ENTRIES 4096

/* The user data of a cancel request: its own completion is ignored. */
#define UR_CANCEL UINT64_MAX

/* What a multishot poll asks for. */
#define UR_EVENTS (POLLIN | POLLOUT | POLLRDHUP)

/* Entry flags. */
#define UR_WATCHED 0x1u /* a request is armed or queued for it */
#define UR_MORE    0x2u /* its request has posted a completion with
			   IORING_CQE_F_MORE: the file's poll can wait */
#define UR_SURE    0x4u /* a socket or a pipe: its poll surely waits */

/* One descriptor number's entry in the table. */
struct ptio__uring_entry {
	struct ptio_source *src; /* NULL: no stream has this number */
	uint32_t gen;            /* the attach that put SRC here */
	int32_t next;            /* the next entry with bits to report */
	uint8_t flags;           /* UR_* */
	uint8_t bits;            /* readiness gathered from this batch */
};

static struct ptio_uring *ur_of(struct ptio_backend *be)
{
	return PTIO_CONTAINER_OF(be, struct ptio_uring, base);
}

static struct io_uring *ring_of(struct ptio_uring *u)
{
	return u->ring;
}

static uint64_t ur_data(int fd, uint32_t gen)
{
	return ((uint64_t)gen << 32) | (uint32_t)fd;
}

/* ---- The table ---------------------------------------------------------- */

/* Make the table long enough to hold descriptor FD. */
static ptio_ssize ur_grow(struct ptio_uring *u, int fd)
{
	size_t want = (size_t)fd + 1, len = u->nwho != 0 ? u->nwho : 64;
	struct ptio__uring_entry *who;

	while (len < want)
		len *= 2;
	if (len > SIZE_MAX / sizeof(*who))
		return PTIO_ENOMEM;
	who = realloc(u->who, len * sizeof(*who));
	if (who == NULL)
		return PTIO_ENOMEM;
	memset(who + u->nwho, 0, (len - u->nwho) * sizeof(*who));
	u->who = who;
	u->nwho = len;
	return 0;
}

/* ---- Arming and cancelling ---------------------------------------------- */

/* A free submission queue entry, submitting what is queued to make room
 * if need be; NULL only if the kernel takes none. */
static struct io_uring_sqe *ur_sqe(struct ptio_uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring_of(u));

	if (sqe == NULL && io_uring_submit(ring_of(u)) >= 0)
		sqe = io_uring_get_sqe(ring_of(u));
	return sqe;
}

/* Queue a multishot poll for entry FD (submitted by the next wait). */
static ptio_ssize ur_arm(struct ptio_uring *u, int fd)
{
	struct ptio__uring_entry *e = &u->who[fd];
	struct io_uring_sqe *sqe = ur_sqe(u);

	if (sqe == NULL)
		return PTIO_ENOMEM;
	io_uring_prep_poll_multishot(sqe, fd, UR_EVENTS);
	io_uring_sqe_set_data64(sqe, ur_data(fd, e->gen));
	e->flags |= UR_WATCHED;
	return 0;
}

/* Cancel the request of descriptor FD's generation GEN, now: the kernel
 * lets go of the file before the caller closes it. */
static void ur_cancel(struct ptio_uring *u, int fd, uint32_t gen)
{
	struct io_uring_sqe *sqe = ur_sqe(u);

	if (sqe == NULL)
		return; /* the kernel takes nothing: nothing was armed */
	/* IORING_OP_ASYNC_CANCEL rather than POLL_REMOVE: the latter
	 * gives up (EALREADY) on a request whose wake-up is being
	 * delivered (one armed in the same submission on a ready file),
	 * which would then stay armed for good. */
	io_uring_prep_cancel64(sqe, ur_data(fd, gen), 0);
	io_uring_sqe_set_data64(sqe, UR_CANCEL);
	/* And run the kernel's task work now, where the cancelled request
	 * lets go of the file (COOP_TASKRUN would leave it for the next
	 * wait); its completion waits in the queue. */
	(void)io_uring_submit_and_get_events(ring_of(u));
}

/* Entry E stops being watched (a file that cannot wait, an error). */
static void ur_unwatch(struct ptio_uring *u, struct ptio__uring_entry *e)
{
	if (e->flags & UR_WATCHED) {
		e->flags &= ~UR_WATCHED;
		u->nattached--;
	}
}

/* ---- Reporting completions ------------------------------------------------ */

/* Completions are gathered per stream and each stream is reported once
 * per batch, with all its bits together.  A completion carries the
 * events of one wake-up (POLLOUT when the peer reads, POLLIN when it
 * sends), so a batch may hold several for one stream; reported one by
 * one, the first would wake both of its waiters with only its own bit,
 * where epoll's one event per stream carries everything. */

/* Add BITS to entry FD's report. */
static void ur_gather(struct ptio_uring *u, int fd, unsigned bits)
{
	struct ptio__uring_entry *e = &u->who[fd];

	if (bits == 0)
		return;
	if (e->bits == 0) {
		e->next = u->touched;
		u->touched = fd;
	}
	e->bits = (uint8_t)(e->bits | bits);
}

/* Report what the batch gathered.  The sources are all still attached:
 * reporting runs no user code, so nothing detached them meanwhile. */
static void ur_flush(struct ptio_uring *u)
{
	while (u->touched >= 0) {
		struct ptio__uring_entry *e = &u->who[u->touched];
		unsigned bits = e->bits;

		u->touched = e->next;
		e->bits = 0;
		ptio_source_ready(e->src, bits);
	}
}

/* What poll's EVENTS mean as readiness (as ep_readiness in epoll.c: a
 * hang-up is HUP and READABLE, as queued data is still to be read). */
static unsigned ur_readiness(unsigned events)
{
	unsigned bits = 0;

	if (events & POLLIN)
		bits |= PTIO_READABLE;
	if (events & POLLOUT)
		bits |= PTIO_WRITABLE;
	if (events & (POLLRDHUP | POLLHUP))
		bits |= PTIO_HUP | PTIO_READABLE;
	if (events & POLLERR)
		bits |= PTIO_ERROR;
	return bits;
}

/* The request of entry E (descriptor FD) has ended with result RES. */
static void ur_ended(struct ptio_uring *u, int fd, struct ptio__uring_entry *e,
		     int res)
{
	if (res > 0 && !(e->flags & (UR_MORE | UR_SURE))) {
		/* Its very first completion ended it, with a mask: the
		 * file's poll cannot wait.  Always ready, as poll(2) says. */
		ur_gather(u, fd, PTIO_READABLE | PTIO_WRITABLE);
		ur_unwatch(u, e);
		return;
	}
	if (res < 0 && res != -ECANCELED) {
		/* Polling fails: a read or write will say why. */
		ur_gather(u, fd, PTIO_ERROR);
		ur_unwatch(u, e);
		return;
	}
	e->flags &= ~UR_MORE;
	if (ur_arm(u, fd) < 0) {
		ur_gather(u, fd, PTIO_ERROR);
		ur_unwatch(u, e);
	}
}

/* Gather one completion.  A completion for a stream closed since it was
 * posted finds its entry empty, or holding another generation, and is
 * dropped. */
static void ur_report(struct ptio_uring *u, const struct io_uring_cqe *cqe)
{
	uint64_t data = io_uring_cqe_get_data64(cqe);
	int fd = (int)(uint32_t)data;
	struct ptio__uring_entry *e;

	if (data == UR_CANCEL || fd < 0 || (size_t)fd >= u->nwho)
		return;
	e = &u->who[fd];
	if (e->src == NULL || e->gen != (uint32_t)(data >> 32) ||
	    !(e->flags & UR_WATCHED))
		return;
	if (cqe->flags & IORING_CQE_F_MORE) {
		e->flags |= UR_MORE;
		ur_gather(u, fd, ur_readiness((unsigned)cqe->res));
		return;
	}
	if (cqe->res > 0 && (e->flags & (UR_MORE | UR_SURE)))
		ur_gather(u, fd, ur_readiness((unsigned)cqe->res));
	ur_ended(u, fd, e, cqe->res);
}

/* Report every completion in the queue. */
static void ur_reap(struct ptio_uring *u)
{
	struct io_uring *ring = ring_of(u);
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(ring, head, cqe) {
		ur_report(u, cqe);
		n++;
	}
	io_uring_cq_advance(ring, n);
	ur_flush(u);
}

/* ---- The backend ------------------------------------------------------- */

static ptio_tick ur_now(struct ptio_backend *be)
{
	(void)be;
	return ptio_posix_now_ms();
}

/* Submit what is queued and wait for a completion, at most TIMEOUT ms:
 * 0 or a negative errno as liburing returns it. */
static int ur_enter(struct io_uring *ring, uint32_t timeout)
{
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe;
	int r;

	if (timeout == 0 || io_uring_cq_ready(ring) > 0) {
		r = io_uring_submit(ring);
		return r < 0 ? r : 0;
	}
	if (timeout == PTIO_WAIT_FOREVER) {
		r = io_uring_submit_and_wait(ring, 1);
		return r < 0 ? r : 0;
	}
	ts.tv_sec = timeout / 1000;
	ts.tv_nsec = (long long)(timeout % 1000) * 1000000;
	r = io_uring_submit_and_wait_timeout(ring, &cqe, 1, &ts, NULL);
	return r == -ETIME ? 0 : (r < 0 ? r : 0);
}

static ptio_ssize ur_wait(struct ptio_backend *be, uint32_t timeout)
{
	struct ptio_uring *u = ur_of(be);
	int r = ur_enter(ring_of(u), timeout);

	/* A signal: return so the loop fires what is due and computes a
	 * fresh timeout, as poll.c does; completions stay in the queue.
	 * EBUSY: the completion queue has overflowed and the kernel
	 * submits nothing more until it is reaped, which is next. */
	if (r < 0 && r != -EINTR && r != -EBUSY && r != -EAGAIN)
		return (ptio_ssize)r;
	ur_reap(u);
	return 0;
}

/* The core never calls this for an attached source (attach flags it
 * PTIO_SOURCE_EDGE), so it is reached only by a source that claims the
 * backend without having joined it. */
static ptio_ssize ur_update(struct ptio_backend *be, struct ptio_source *src)
{
	(void)be;
	return (src->flags & PTIO_SOURCE_EDGE) ? 0 : PTIO_EINVAL;
}

static size_t ur_registrations(struct ptio_backend *be)
{
	return ur_of(be)->nattached;
}

static void ur_set_edge(struct ptio_source *src)
{
	src->flags = (uint8_t)(src->flags | PTIO_SOURCE_EDGE);
}

/* A regular file, a directory or a block device: its poll never waits. */
static bool ur_never_waits(const struct stat *st)
{
	return S_ISREG(st->st_mode) || S_ISDIR(st->st_mode) ||
	       S_ISBLK(st->st_mode);
}

static ptio_ssize ur_attach(struct ptio_backend *be, struct ptio_source *src)
{
	struct ptio_uring *u = ur_of(be);
	struct ptio__uring_entry *e;
	int fd = (int)src->handle;
	struct stat st;
	ptio_ssize r;

	if (fd < 0 || fstat(fd, &st) < 0)
		return PTIO_EBADF;
	ur_set_edge(src);
	if (ur_never_waits(&st)) {
		ptio_source_ready(src, PTIO_READABLE | PTIO_WRITABLE);
		return 0;
	}
	if ((size_t)fd >= u->nwho) {
		r = ur_grow(u, fd);
		if (r < 0)
			goto fail;
	}
	e = &u->who[fd];
	/* An entry in use is another open stream on this descriptor, or
	 * one whose descriptor was closed behind its back (its request
	 * still holds the old file): either way the number is not free
	 * until that stream is closed.  One descriptor, one stream, as on
	 * poll, select and epoll. */
	if (e->src != NULL) {
		r = e->src == src ? 0 : PTIO_EBUSY;
		if (r < 0)
			goto fail;
		return 0;
	}
	e->src = src;
	e->gen = ++u->gen;
	e->flags = (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode)) ? UR_SURE
								   : 0;
	r = ur_arm(u, fd);
	if (r < 0) {
		e->src = NULL;
		goto fail;
	}
	u->nattached++;
	return 0;
fail:
	src->flags = (uint8_t)(src->flags & ~PTIO_SOURCE_EDGE);
	return r;
}

static void ur_detach(struct ptio_backend *be, struct ptio_source *src)
{
	struct ptio_uring *u = ur_of(be);
	int fd = (int)src->handle;
	struct ptio__uring_entry *e;

	src->flags = (uint8_t)(src->flags & ~PTIO_SOURCE_EDGE);
	if (fd < 0 || (size_t)fd >= u->nwho || u->who[fd].src != src)
		return; /* never registered, or its number was taken over */
	e = &u->who[fd];
	if (e->flags & UR_WATCHED)
		ur_cancel(u, fd, e->gen);
	ur_unwatch(u, e);
	e->src = NULL;
	e->flags = 0;
}

static const struct ptio_backend_vt ur_vt = {
	.version = PTIO_BACKEND_VERSION,
	.now = ur_now,
	.wait = ur_wait,
	.update = ur_update,
	.registrations = ur_registrations,
	.attach = ur_attach,
	.detach = ur_detach,
};

/* ---- Init and destroy ----------------------------------------------------- */

static void ur_clear(struct ptio_uring *u)
{
	u->ring = NULL;
	u->who = NULL;
	u->nwho = 0;
	u->nattached = 0;
	u->gen = 0;
	u->touched = -1;
}

/* Set up RING: 0 or a negative errno.  IORING_SETUP_COOP_TASKRUN (5.19)
 * where the kernel has it: the wake-ups of a stream are then turned into
 * a completion at the next io_uring_enter, not at once, so several
 * wake-ups between two waits make one completion carrying what is ready
 * by then (as one epoll event does), and the process is not interrupted
 * for each. */
static int ur_setup(struct io_uring *ring)
{
	struct io_uring_params p;
	int r;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN;
	p.cq_entries = UR_CQ_ENTRIES;
	r = io_uring_queue_init_params(UR_SQ_ENTRIES, ring, &p);
	if (r != -EINVAL)
		return r;
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE;
	p.cq_entries = UR_CQ_ENTRIES;
	return io_uring_queue_init_params(UR_SQ_ENTRIES, ring, &p);
}

ptio_ssize ptio_uring_init(struct ptio_uring *u, struct ptio_backend **out)
{
	struct io_uring *ring;
	int r;

	u->base.vt = &ur_vt;
	ur_clear(u);
	u->refused = 0;
	ring = malloc(sizeof(*ring));
	if (ring == NULL)
		return PTIO_ENOMEM;
	r = ur_setup(ring);
	if (r < 0) {
		free(ring);
		/* No io_uring here (too old, disabled by sysctl, filtered by
		 * seccomp): not a failure of this host's backends, just one
		 * it does not have.  The reason is kept for logs. */
		if (r == -ENOSYS || r == -EPERM || r == -EACCES) {
			u->refused = (ptio_ssize)r;
			return PTIO_ENOTSUP;
		}
		return (ptio_ssize)r;
	}
	u->ring = ring;
	if (out != NULL)
		*out = &u->base;
	return 0;
}

void ptio_uring_destroy(struct ptio_uring *u)
{
	if (u->ring != NULL) {
		io_uring_queue_exit(ring_of(u));
		free(u->ring);
	}
	free(u->who);
	ur_clear(u);
}

#else /* !HAVE_LIBURING */

ptio_ssize ptio_uring_init(struct ptio_uring *u, struct ptio_backend **out)
{
	(void)out;
	u->base.vt = NULL;
	u->ring = NULL;
	u->who = NULL;
	u->nwho = 0;
	u->nattached = 0;
	u->gen = 0;
	u->touched = -1;
	u->refused = 0;
	return PTIO_ENOTSUP;
}

void ptio_uring_destroy(struct ptio_uring *u)
{
	(void)u;
}

#endif /* HAVE_LIBURING */
