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
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <liburing.h>

/* Submission queue entries, and completion queue entries: many more, so
 * that a burst of wake-ups from many busy streams rarely overflows the
 * completion queue (which would end their multishot requests, costing
 * a re-arm each). */
#define UR_SQ_ENTRIES 256
#define UR_CQ_ENTRIES 4096

/* The completion streams' pool, unless ptio_uring_set_buffers says
 * otherwise: 256 buffers of 2 KiB. */
#define UR_POOL_COUNT 256u
#define UR_POOL_SIZE  2048u

/* How many of them one stream may hold, received and not consumed, unless
 * ptio_uring_set_read_ahead says otherwise. */
#define UR_READ_AHEAD 4u
/* The send chunks that completion streams opened without a send buffer
 * borrow, unless ptio_uring_set_send_buffers says otherwise: 256 chunks
 * of 2 KiB. */
#define UR_SPOOL_COUNT 256u
#define UR_SPOOL_SIZE  2048u

/* The user data of a cancel request: its own completion is ignored. */
#define UR_CANCEL UINT64_MAX

/* How long a wait holds out for the completions of the sends it submits
 * plus one more, before it settles for any completion (see ur_enter): a
 * safety net, reached only when nothing at all happens meanwhile, or
 * when a send did not complete within its submission after all (one
 * that the kernel did not take, a kernel that ignores MSG_DONTWAIT). */
#define UR_SILENT_MS 500u

/* With two completion streams or more, how long the first enter of a
 * wait holds out for two events rather than one (see ur_enter). */
#define UR_BATCH_NS 10000L

/* What a multishot poll asks for. */
#define UR_EVENTS (POLLIN | POLLOUT | POLLRDHUP)

/* Entry flags. */
#define UR_WATCHED 0x1u /* a request is armed or queued for it */
#define UR_MORE    0x2u /* its request has posted a completion with
			   IORING_CQE_F_MORE: the file's poll can wait */
#define UR_SURE    0x4u /* a socket or a pipe: its poll surely waits */
#define UR_STREAM  0x8u /* a completion stream's (struct ptio_uring_stream) */

/* Generations are 24 bits wide, so that an entry takes 16 bytes (the
 * table has one per descriptor number, idle connections' included).  A
 * stale completion comes from a request cancelled before its stream left
 * and arrives within a wait or two; mistaking it for a current one would
 * take 2^24 attaches in between. */
#define UR_GEN_MASK 0xFFFFFFu

/* One descriptor number's entry in the table. */
struct ptio__uring_entry {
	struct ptio_source *src; /* NULL: no stream has this number */
	int32_t next;            /* the next entry with bits to report */
	unsigned gen : 24;       /* the attach that put SRC here */
	unsigned flags : 4;      /* UR_* */
	unsigned bits : 4;       /* readiness gathered from this batch */
};
PTIO_STATIC_ASSERT(sizeof(void *) != 8 ||
		   sizeof(struct ptio__uring_entry) == 16,
		   uring_entry_is_16_bytes);

/* The generation of the next attach: never 0. */
static uint32_t ur_next_gen(struct ptio_uring *u)
{
	u->gen = (u->gen + 1u) & UR_GEN_MASK;
	if (u->gen == 0)
		u->gen = 1;
	return u->gen;
}

static struct ptio_uring *ur_of(struct ptio_backend *be)
{
	return PTIO_CONTAINER_OF(be, struct ptio_uring, base);
}

static struct io_uring *ring_of(struct ptio_uring *u)
{
	return u->ring;
}

/* A request's user data: the attach's generation above, the kind of
 * request in bits 30-31 and the descriptor below (so descriptors are
 * below 2^30: ur_grow refuses more). */
#define UR_POLL 0u /* the multishot poll of a readiness stream */
#define UR_RECV 1u /* the receive of a completion stream */
#define UR_SEND 2u /* a completion stream's send */
#define UR_FD_MASK 0x3FFFFFFFu

static uint64_t ur_data_kind(int fd, uint32_t gen, unsigned kind)
{
	return ((uint64_t)gen << 32) | ((uint64_t)kind << 30) | (uint32_t)fd;
}

static uint64_t ur_data(int fd, uint32_t gen)
{
	return ur_data_kind(fd, gen, UR_POLL);
}

/* ---- The table ---------------------------------------------------------- */

/* Make the table long enough to hold descriptor FD.  It doubles up to
 * UR_GROW_STEP entries, then grows by an eighth: still a constant cost
 * per attach, but the unused tail every connection pays for is at most
 * an eighth of the table, not a half (10,100 connections: 10,900
 * entries of 16 bytes, not 16,384). */
#define UR_GROW_STEP 512u
static ptio_ssize ur_grow(struct ptio_uring *u, int fd)
{
	size_t want = (size_t)fd + 1, len = u->nwho != 0 ? u->nwho : 64;
	struct ptio__uring_entry *who;

	if (want > UR_FD_MASK)
		return PTIO_EINVAL;
	while (len < want)
		len += len < UR_GROW_STEP ? len : len / 8;
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

/* The completion streams' side (at the end of the file). */
static bool urs_report(struct ptio_uring *u, struct ptio__uring_entry *e,
		       unsigned kind, const struct io_uring_cqe *cqe);
static void urs_feed_starved(struct ptio_uring *u);
static void urs_pool_free(struct ptio_uring *u);
static void urs_spool_free(struct ptio_uring *u);
static unsigned urs_silent_sends(struct ptio_uring *u);

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

	bits &= PTIO__READINESS;
	if (bits == 0)
		return;
	if (e->bits == 0) {
		e->next = u->touched;
		u->touched = fd;
	}
	e->bits |= bits;
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
		ptio__source_ready_edge_inline(e->src, bits);
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
 * dropped.  False when it can wake no task (see ur_wait). */
static bool ur_report(struct ptio_uring *u, const struct io_uring_cqe *cqe)
{
	uint64_t data = io_uring_cqe_get_data64(cqe);
	int fd = (int)((uint32_t)data & UR_FD_MASK);
	unsigned kind = (unsigned)((uint32_t)data >> 30);
	struct ptio__uring_entry *e = NULL;

	if (data == UR_CANCEL)
		return false;
	if ((size_t)fd < u->nwho && u->who[fd].src != NULL &&
	    u->who[fd].gen == (uint32_t)(data >> 32) &&
	    (u->who[fd].flags & UR_WATCHED))
		e = &u->who[fd];
	if (kind != UR_POLL)
		return urs_report(u, e, kind, cqe);
	if (e == NULL)
		return false;
	if (cqe->flags & IORING_CQE_F_MORE) {
		e->flags |= UR_MORE;
		ur_gather(u, fd, ur_readiness((unsigned)cqe->res));
		return true;
	}
	if (cqe->res > 0 && (e->flags & (UR_MORE | UR_SURE)))
		ur_gather(u, fd, ur_readiness((unsigned)cqe->res));
	ur_ended(u, fd, e, cqe->res);
	return true;
}

/* Report every completion in the queue; how many may wake a task. */
static unsigned ur_reap(struct ptio_uring *u)
{
	struct io_uring *ring = ring_of(u);
	struct io_uring_cqe *cqe;
	unsigned head, n = 0, woke = 0;

	io_uring_for_each_cqe(ring, head, cqe) {
		woke += ur_report(u, cqe) ? 1u : 0u;
		n++;
	}
	io_uring_cq_advance(ring, n);
	urs_feed_starved(u);
	ur_flush(u);
	return woke;
}

/* ---- The backend ------------------------------------------------------- */

static ptio_tick ur_now(struct ptio_backend *be)
{
	(void)be;
	return ptio_posix_now_ms();
}

/* Submit what is queued and wait until WANT completions are in the
 * queue, at most TIMEOUT ms (PTIO_WAIT_FOREVER: no limit): 0, -ETIME
 * when the time ran out, or a negative errno as liburing returns it. */
static int ur_enter_want(struct io_uring *ring, unsigned want, uint32_t timeout)
{
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe;
	int r;

	if (timeout == PTIO_WAIT_FOREVER) {
		r = io_uring_submit_and_wait(ring, want);
		return r < 0 ? r : 0;
	}
	ts.tv_sec = timeout / 1000;
	ts.tv_nsec = (long long)(timeout % 1000) * 1000000;
	r = io_uring_submit_and_wait_timeout(ring, &cqe, want, &ts, NULL);
	return r < 0 ? r : 0;
}

/* Submit what is queued and wait until WANT completions are in the
 * queue, or UR_BATCH_NS have passed: 0 either way (those that came are
 * in the queue), or a negative errno as liburing returns it. */
static int ur_enter_batch(struct io_uring *ring, unsigned want)
{
	struct __kernel_timespec ts = { 0, UR_BATCH_NS };
	struct io_uring_cqe *cqe;
	int r = io_uring_submit_and_wait_timeout(ring, &cqe, want, &ts, NULL);

	return r == -ETIME || r >= 0 ? 0 : r;
}

/* Submit what is queued and wait for a completion that may wake a task,
 * at most TIMEOUT ms: 0, -ETIME when the time ran out, or a negative
 * errno as liburing returns it.
 *
 * One io_uring_enter per loop round, which both submits the round's
 * sends and waits for what comes next.  A completion stream's send
 * completes inside the submission (urs_send), so waiting for just one
 * completion would return at once with the sends' own completions,
 * which wake no task when nobody waits to write, and cost a second
 * enter to wait for the data.  So the enter waits for those completions
 * and one more.  Should a send not complete at once after all, it must
 * not hold back the one event that does come for good: that wait is
 * bounded by UR_SILENT_MS, after which the caller's wait goes on as
 * usual (not -ETIME).
 *
 * With two completion streams or more, the first enter of a wait (BATCH)
 * holds out for two events, for UR_BATCH_NS at most.  A server faster
 * than its clients would otherwise wake for each message as it comes,
 * one round and one enter per message; ten microseconds let a second
 * one join the round, which halves the enters when streams are busy,
 * and cost a lone message that long.  With one stream nothing waits. */
static int ur_enter(struct ptio_uring *u, uint32_t timeout, bool batch)
{
	struct io_uring *ring = ring_of(u);
	unsigned silent;
	int r;

	if (timeout == 0 || io_uring_cq_ready(ring) > 0) {
		r = io_uring_submit(ring);
		return r < 0 ? r : 0;
	}
	silent = urs_silent_sends(u);
	/* (UR_BATCH_NS is within any timeout of 1 ms or more.) */
	if (batch && u->nstreams >= 2)
		return ur_enter_batch(ring, silent + 2);
	if (silent == 0)
		return ur_enter_want(ring, 1, timeout);
	if (timeout <= UR_SILENT_MS)
		return ur_enter_want(ring, silent + 1, timeout);
	r = ur_enter_want(ring, silent + 1, UR_SILENT_MS);
	return r == -ETIME ? 0 : r;
}

/* What is left of TIMEOUT ms that began at START, 0 when it is over. */
static uint32_t ur_left(uint32_t timeout, ptio_tick start)
{
	uint32_t spent = ptio_posix_now_ms() - start;

	if (timeout == PTIO_WAIT_FOREVER)
		return timeout;
	return spent < timeout ? timeout - spent : 0;
}

/* Wait until a completion may wake a task, or TIMEOUT runs out.  A send
 * that completes while nobody waits to write wakes no task, and such
 * completions come at once after the submission that carried the sends:
 * returning for them would cost the loop a round and another
 * io_uring_enter for nothing, so the wait goes on. */
static ptio_ssize ur_wait(struct ptio_backend *be, uint32_t timeout)
{
	struct ptio_uring *u = ur_of(be);
	ptio_tick start = ptio_posix_now_ms();
	bool batch = true;
	int r;

	for (;;) {
		r = ur_enter(u, timeout, batch);
		batch = false;
		/* A signal: return so the loop fires what is due and
		 * computes a fresh timeout, as poll.c does; completions
		 * stay in the queue.  EBUSY: the completion queue has
		 * overflowed and the kernel submits nothing more until it
		 * is reaped, which is next. */
		if (r < 0 && r != -EINTR && r != -EBUSY && r != -EAGAIN &&
		    r != -ETIME)
			return (ptio_ssize)r;
		if (ur_reap(u) > 0 || timeout == 0 || r < 0)
			return 0;
		timeout = ur_left(timeout, start);
		if (timeout == 0)
			return 0;
	}
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
	e->gen = ur_next_gen(u) & UR_GEN_MASK;
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
	u->nstreams = 0;
	u->gen = 0;
	u->touched = -1;
	u->pool = NULL;
	u->spool = NULL;
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
	u->pool_count = UR_POOL_COUNT;
	u->pool_size = UR_POOL_SIZE;
	u->read_ahead = UR_READ_AHEAD;
	u->spool_count = UR_SPOOL_COUNT;
	u->spool_size = UR_SPOOL_SIZE;
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
	urs_pool_free(u);
	urs_spool_free(u);
	free(u->who);
	ur_clear(u);
}

/* ---- Completion streams ---------------------------------------------------- */

/* A completion stream (ptio/posix.h) keeps a receive armed, whose buffer
 * the kernel picks from the pool's provided-buffer ring, and sends from
 * its own buffer with one IORING_OP_SEND at a time.
 * Its entry in the table is flagged UR_STREAM; its completions carry
 * UR_RECV or UR_SEND.  The buffers a stream has received and not yet
 * consumed are queued on it, linked through the pool's link array, so
 * the queue costs the stream two indices whatever its length.
 *
 * The pool counts the buffers queued on streams (HELD).  A receive that
 * finds the ring empty ends with ENOBUFS: its stream joins the starved
 * list, and every starved stream's receive is armed again when a buffer
 * comes back (a consume, a close) or when a batch of completions ends
 * with fewer buffers held than the pool has (one came back between the
 * kernel's attempt and the report).  The data waits in the socket
 * meanwhile.
 *
 * A stream holds at most its read-ahead (u->read_ahead buffers): each
 * receive takes one buffer, and the next is armed only below the
 * read-ahead; otherwise the stream pauses (PAUSED) until a consume
 * takes it back below, and the data waits in the socket, whose window
 * holds the peer back as it would for any reader that does not read.
 * Without that bound a peer that sends and never reads the answers
 * (the echo waits for room, so nothing is consumed) would drain the
 * pool into its stream and starve every other.  That is also why the
 * receive is not multishot: a multishot receive takes all the socket
 * holds, into as many buffers as it needs, before its first completion
 * can be seen, and cancelling it comes too late.  Arming the next
 * receive costs a submission entry, which goes in with the next wait's
 * io_uring_enter: no system call of its own. */

#define UR_POOL_MAX_COUNT 32768u
#define UR_POOL_MAX_SIZE (1024u * 1024u)
#define UR_BGID 0 /* the one buffer group of a ring */

/* Stream state bits. */
#define URS_RECV    0x1u /* a receive is armed or queued */
#define URS_SENDING 0x2u /* a send is in flight */
#define URS_STARVED 0x4u /* on the starved list */
#define URS_BORROWS 0x8u /* sends from the send pool's chunks */
#define URS_SWAIT   0x10u /* waiting for a chunk */
#define URS_GRANTED 0x20u /* a chunk is kept for its next write */
#define URS_PAUSED  0x40u /* holds its read-ahead: receive stopped */

struct ptio__uring_link {
	uint32_t len;  /* bytes the kernel put in the buffer */
	int32_t next;  /* the next buffer queued on the same stream, -1 */
};

struct ptio__uring_pool {
	struct io_uring_buf_ring *br; /* the ring the kernel takes from */
	uint8_t *bufs;                /* COUNT buffers of SIZE bytes */
	struct ptio__uring_link *link; /* by buffer id */
	size_t br_bytes, bufs_bytes;
	size_t size;
	unsigned count;
	unsigned held;                /* buffers queued on streams */
	struct ptio_uring_stream *starved;
};

static uint8_t *urs_buf(const struct ptio__uring_pool *p, unsigned bid)
{
	return p->bufs + (size_t)bid * p->size;
}

/* Hand buffer BID back to the ring: the kernel may pick it again. */
static void urs_give_back(struct ptio__uring_pool *p, unsigned bid)
{
	io_uring_buf_ring_add(p->br, urs_buf(p, bid), (unsigned)p->size,
			      (unsigned short)bid,
			      io_uring_buf_ring_mask(p->count), 0);
	io_uring_buf_ring_advance(p->br, 1);
}

static void urs_unmap(struct ptio__uring_pool *p)
{
	if (p->br != NULL && p->br != MAP_FAILED)
		munmap(p->br, p->br_bytes);
	if (p->bufs != NULL && p->bufs != MAP_FAILED)
		munmap(p->bufs, p->bufs_bytes);
	free(p->link);
	free(p);
}

static void *urs_map(size_t bytes)
{
	return mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* Register P's ring with the kernel and fill it: 0 or an error. */
static ptio_ssize urs_register(struct ptio_uring *u, struct ptio__uring_pool *p)
{
	struct io_uring_buf_reg reg;
	unsigned i;
	int r;

	io_uring_buf_ring_init(p->br);
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)p->br;
	reg.ring_entries = p->count;
	reg.bgid = UR_BGID;
	r = io_uring_register_buf_ring(ring_of(u), &reg, 0);
	if (r < 0)
		return r == -EINVAL ? PTIO_ENOTSUP : (ptio_ssize)r;
	for (i = 0; i < p->count; i++)
		io_uring_buf_ring_add(p->br, urs_buf(p, i), (unsigned)p->size,
				      (unsigned short)i,
				      io_uring_buf_ring_mask(p->count), (int)i);
	io_uring_buf_ring_advance(p->br, (int)p->count);
	return 0;
}

/* Make U's pool if it has none: 0 or an error.  mmap, not malloc: the
 * ring must be page-aligned. */
static ptio_ssize urs_pool_make(struct ptio_uring *u)
{
	struct ptio__uring_pool *p;
	ptio_ssize r;

	if (u->pool != NULL)
		return 0;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return PTIO_ENOMEM;
	p->count = u->pool_count;
	p->size = u->pool_size;
	p->br_bytes = (size_t)p->count * sizeof(struct io_uring_buf);
	p->bufs_bytes = (size_t)p->count * p->size;
	p->br = urs_map(p->br_bytes);
	p->bufs = urs_map(p->bufs_bytes);
	p->link = calloc(p->count, sizeof(*p->link));
	if (p->br == MAP_FAILED || p->bufs == MAP_FAILED || p->link == NULL) {
		urs_unmap(p);
		return PTIO_ENOMEM;
	}
	r = urs_register(u, p);
	if (r < 0) {
		urs_unmap(p);
		return r;
	}
	u->pool = p;
	return 0;
}

static void urs_pool_free(struct ptio_uring *u)
{
	if (u->pool == NULL)
		return;
	(void)io_uring_unregister_buf_ring(ring_of(u), UR_BGID);
	urs_unmap(u->pool);
	u->pool = NULL;
}

/* ---- Completion streams: the send pool -------------------------------------- */

/* A stream opened without a send buffer of its own (URS_BORROWS) borrows
 * a chunk from the loop's send pool when a write finds it holding none,
 * and gives it back when the send of its last accepted byte completes
 * (or fails), and on close: an idle stream holds no chunk.  The pool is
 * mapped when the first such stream opens: chunks that are never lent
 * cost no memory.  The free chunks are a stack of indices, so the chunk
 * lent next is the one given back last, still in the cache.
 *
 * A write that finds no chunk joins the waiting list (FIFO, linked
 * through the streams) and returns PTIO_WOULD_BLOCK.  A chunk that comes
 * back is not lent to whoever writes next but promised to the first
 * waiter (URS_GRANTED, counted in GRANTED), whose WRITABLE is set again
 * through its source; its next write takes it.  A writer that did not
 * wait may take a chunk only while nobody waits and more are free than
 * promised: so no writer is passed over, and a promise holds no memory
 * until its stream writes.  Invariant: a non-empty list means every free
 * chunk is promised. */

struct ptio__uring_spool {
	uint8_t *mem;                 /* COUNT chunks of SIZE bytes */
	size_t mem_bytes;
	uint32_t *free;               /* indices of the free chunks, a stack */
	unsigned count;
	unsigned nfree;               /* chunks on the stack */
	unsigned granted;             /* of them, promised to woken waiters */
	uint32_t size;
	struct ptio_uring_stream *whead, *wtail; /* waiting for a chunk */
};

/* Make U's send pool if it has none: 0 or PTIO_ENOMEM. */
static ptio_ssize urs_spool_make(struct ptio_uring *u)
{
	struct ptio__uring_spool *p;
	unsigned i;

	if (u->spool != NULL)
		return 0;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return PTIO_ENOMEM;
	p->count = u->spool_count;
	p->size = (uint32_t)u->spool_size;
	p->mem_bytes = (size_t)p->count * p->size;
	p->mem = urs_map(p->mem_bytes);
	p->free = calloc(p->count, sizeof(*p->free));
	if (p->mem == MAP_FAILED || p->free == NULL) {
		if (p->mem != MAP_FAILED)
			munmap(p->mem, p->mem_bytes);
		free(p->free);
		free(p);
		return PTIO_ENOMEM;
	}
	for (i = 0; i < p->count; i++)
		p->free[i] = p->count - 1 - i;
	p->nfree = p->count;
	u->spool = p;
	return 0;
}

static void urs_spool_free(struct ptio_uring *u)
{
	struct ptio__uring_spool *p = u->spool;

	if (p == NULL)
		return;
	munmap(p->mem, p->mem_bytes);
	free(p->free);
	free(p);
	u->spool = NULL;
}

/* Keep the free chunks for the first waiters, as far as they go, and
 * wake them (through their sources, so their tasks run as for any other
 * readiness).  True when it woke one. */
static bool urs_spool_grant(struct ptio__uring_spool *p)
{
	struct ptio_uring_stream *s;
	bool woke = false;

	while (p->whead != NULL && p->nfree > p->granted) {
		s = p->whead;
		p->whead = s->next_swait;
		if (p->whead == NULL)
			p->wtail = NULL;
		s->next_swait = NULL;
		s->state = (s->state & ~URS_SWAIT) | URS_GRANTED;
		p->granted++;
		ptio_source_ready(&s->src, PTIO_WRITABLE);
		woke = true;
	}
	return woke;
}

/* Lend S a chunk: 0, or PTIO_WOULD_BLOCK with S at the end of the
 * waiting list (if it was not there already) and WRITABLE cleared. */
static ptio_ssize urs_borrow(struct ptio__uring_spool *p,
			     struct ptio_uring_stream *s)
{
	if (s->state & URS_GRANTED) {
		s->state &= ~URS_GRANTED;
		p->granted--;
	} else if (p->whead != NULL || p->nfree <= p->granted) {
		if (!(s->state & URS_SWAIT)) {
			s->state |= URS_SWAIT;
			if (p->wtail != NULL)
				p->wtail->next_swait = s;
			else
				p->whead = s;
			p->wtail = s;
		}
		ptio_source_clear(&s->src, PTIO_WRITABLE);
		return PTIO_WOULD_BLOCK;
	}
	s->sbuf = p->mem + (size_t)p->free[--p->nfree] * p->size;
	s->scap = p->size;
	return 0;
}

/* S gives its chunk back (the kernel no longer reads it); the next
 * waiter gets it.  True when that woke one. */
static bool urs_lend_back(struct ptio__uring_spool *p,
			  struct ptio_uring_stream *s)
{
	p->free[p->nfree++] = (uint32_t)((size_t)(s->sbuf - p->mem) / p->size);
	s->sbuf = NULL;
	s->scap = 0;
	return urs_spool_grant(p);
}

/* S, closing, leaves the pool: off the waiting list, its promise passed
 * on, its chunk given back (its requests are cancelled by now). */
static void urs_spool_leave(struct ptio__uring_spool *p,
			    struct ptio_uring_stream *s)
{
	struct ptio_uring_stream **pp, *prev = NULL;

	if (s->state & URS_SWAIT) {
		for (pp = &p->whead; *pp != s; pp = &(*pp)->next_swait)
			prev = *pp;
		*pp = s->next_swait;
		if (p->wtail == s)
			p->wtail = prev;
		s->next_swait = NULL;
	}
	if (s->state & URS_GRANTED)
		p->granted--;
	s->state &= ~(URS_SWAIT | URS_GRANTED);
	if (s->sbuf != NULL)
		(void)urs_lend_back(p, s);
	else
		(void)urs_spool_grant(p);
}

static struct ptio_uring_stream *urs_of(struct ptio__uring_entry *e)
{
	return PTIO_CONTAINER_OF(e->src, struct ptio_uring_stream, src);
}

static struct ptio_uring *urs_backend(const struct ptio_uring_stream *s)
{
	return ur_of(s->loop->backend);
}

/* Queue S's next receive (submitted by the next wait). */
static ptio_ssize urs_arm_recv(struct ptio_uring *u, struct ptio_uring_stream *s)
{
	int fd = (int)s->src.handle;
	struct io_uring_sqe *sqe = ur_sqe(u);

	if (sqe == NULL)
		return PTIO_ENOMEM;
	io_uring_prep_recv(sqe, fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = UR_BGID;
	io_uring_sqe_set_data64(sqe, ur_data_kind(fd, u->who[fd].gen, UR_RECV));
	s->state |= URS_RECV;
	return 0;
}

/* Queue a send of S's accepted bytes not yet sent.  Unless WAIT, with
 * MSG_DONTWAIT: the kernel then completes it within the submission that
 * carries it, with the bytes sent or -EAGAIN, never leaving it to wait
 * for room; so the wait that submits it knows its completion is already
 * in the queue (see ur_enter).  After -EAGAIN the same bytes go in a
 * send that waits (urs_sent). */
static ptio_ssize urs_send(struct ptio_uring *u, struct ptio_uring_stream *s,
			   bool wait)
{
	int fd = (int)s->src.handle;
	struct io_uring_sqe *sqe = ur_sqe(u);

	if (sqe == NULL)
		return PTIO_ENOMEM;
	io_uring_prep_send(sqe, fd, s->sbuf + s->soff, s->slen - s->soff,
			   MSG_NOSIGNAL | (wait ? 0 : MSG_DONTWAIT));
	io_uring_sqe_set_data64(sqe, ur_data_kind(fd, u->who[fd].gen, UR_SEND));
	s->sinflight = s->slen;
	s->state |= URS_SENDING;
	return 0;
}

/* Whether the queued submission SQE is a send that completes within its
 * submission (MSG_DONTWAIT), of a stream that nobody waits to write on:
 * its completion, unless the send fails, wakes no task. */
static bool urs_silent(struct ptio_uring *u, const struct io_uring_sqe *sqe)
{
	uint64_t data = sqe->user_data;
	int fd = (int)((uint32_t)data & UR_FD_MASK);
	const struct ptio__uring_entry *e;

	if (data == UR_CANCEL || (unsigned)((uint32_t)data >> 30) != UR_SEND ||
	    (size_t)fd >= u->nwho)
		return false;
	e = &u->who[fd];
	if (e->src == NULL || e->gen != (uint32_t)(data >> 32) ||
	    !(e->flags & UR_STREAM))
		return false;
	return (sqe->msg_flags & MSG_DONTWAIT) &&
	       e->src->waiter[PTIO_SLOT_WRITE] == NULL;
}

/* How many of the submissions queued and not yet submitted are silent
 * sends (urs_silent).  The queue is liburing's: from sqe_head, the first
 * not yet handed to the kernel, to sqe_tail. */
static unsigned urs_silent_sends(struct ptio_uring *u)
{
	const struct io_uring_sq *sq = &ring_of(u)->sq;
	unsigned i, n = 0;

	for (i = sq->sqe_head; i != sq->sqe_tail; i++)
		if (urs_silent(u, &sq->sqes[i & *sq->kring_mask]))
			n++;
	return n;
}

/* A receive that failed, or that S cannot arm (no submission entry):
 * its reader gets the error after the data queued before it.  Reported
 * at once, not gathered: this also runs outside a batch (a consume),
 * where nothing would report what was gathered before S may close. */
static void urs_read_failed(struct ptio_uring_stream *s, ptio_ssize err)
{
	if (s->rend == 0)
		s->rend = err;
	ptio_source_ready(&s->src, PTIO_READABLE);
}

/* Arm S's receive again, after the previous one ended, unless S holds
 * its read-ahead: then it pauses until a consume (urs_resume). */
static void urs_rearm(struct ptio_uring *u, struct ptio_uring_stream *s)
{
	if (s->nheld >= u->read_ahead)
		s->state |= URS_PAUSED;
	else if (urs_arm_recv(u, s) < 0)
		urs_read_failed(s, PTIO_ENOMEM);
}

/* After a consume: a paused S below its read-ahead receives again. */
static void urs_resume(struct ptio_uring *u, struct ptio_uring_stream *s)
{
	if (!(s->state & URS_PAUSED) || s->nheld >= u->read_ahead)
		return;
	s->state &= ~URS_PAUSED;
	urs_rearm(u, s);
}

static void urs_starve(struct ptio__uring_pool *p, struct ptio_uring_stream *s)
{
	if (s->state & URS_STARVED)
		return;
	s->state |= URS_STARVED;
	s->next_starved = p->starved;
	p->starved = s;
}

static void urs_unstarve(struct ptio__uring_pool *p, struct ptio_uring_stream *s)
{
	struct ptio_uring_stream **pp;

	if (!(s->state & URS_STARVED))
		return;
	for (pp = &p->starved; *pp != NULL; pp = &(*pp)->next_starved)
		if (*pp == s) {
			*pp = s->next_starved;
			break;
		}
	s->state &= ~URS_STARVED;
	s->next_starved = NULL;
}

/* Arm the receive of every starved stream again, if the ring has a
 * buffer for them. */
static void urs_feed_starved(struct ptio_uring *u)
{
	struct ptio__uring_pool *p = u->pool;
	struct ptio_uring_stream *s;

	if (p == NULL || p->starved == NULL || p->held >= p->count)
		return;
	while ((s = p->starved) != NULL) {
		p->starved = s->next_starved;
		s->next_starved = NULL;
		s->state &= ~URS_STARVED;
		urs_rearm(u, s);
	}
}

/* Queue buffer BID, holding LEN bytes, on S. */
static void urs_enqueue(struct ptio__uring_pool *p, struct ptio_uring_stream *s,
			unsigned bid, uint32_t len)
{
	p->link[bid].len = len;
	p->link[bid].next = -1;
	if (s->tail >= 0)
		p->link[s->tail].next = (int32_t)bid;
	else
		s->head = (int32_t)bid;
	s->tail = (int32_t)bid;
	s->nheld++;
	p->held++;
}

/* Take the first queued buffer off S and hand it back to the ring. */
static void urs_dequeue(struct ptio__uring_pool *p, struct ptio_uring_stream *s)
{
	unsigned bid = (unsigned)s->head;

	s->head = p->link[bid].next;
	if (s->head < 0)
		s->tail = -1;
	s->off = 0;
	s->nheld--;
	p->held--;
	urs_give_back(p, bid);
}

/* A completion of S's receive. */
static void urs_received(struct ptio_uring *u, struct ptio_uring_stream *s,
			 const struct io_uring_cqe *cqe)
{
	unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	int fd = (int)s->src.handle;

	if (cqe->flags & IORING_CQE_F_BUFFER) {
		if (cqe->res > 0) {
			urs_enqueue(u->pool, s, bid, (uint32_t)cqe->res);
			ur_gather(u, fd, PTIO_READABLE);
		} else {
			urs_give_back(u->pool, bid);
		}
	}
	if (cqe->flags & IORING_CQE_F_MORE)
		return;
	s->state &= ~URS_RECV;
	if (cqe->res == 0) {
		s->rend = 1;
		ur_gather(u, fd, PTIO_READABLE);
	} else if (cqe->res == -ENOBUFS) {
		urs_starve(u->pool, s);
	} else if (cqe->res < 0 && cqe->res != -ECANCELED) {
		urs_read_failed(s, (ptio_ssize)cqe->res);
	} else {
		/* Data, or cancelled from outside: the next receive, unless
		 * S holds its read-ahead. */
		urs_rearm(u, s);
	}
}

/* A completion of S's send, which sent RES bytes or failed.  True when
 * it may wake a task: a writer waits, the send failed, or the chunk S
 * gives back (all sent) went to a waiting stream. */
static bool urs_sent(struct ptio_uring *u, struct ptio_uring_stream *s, int res)
{
	bool granted = false;

	s->state &= ~URS_SENDING;
	if (res == -EAGAIN && s->werr == 0) {
		/* The socket is full: the same bytes again, waiting for
		 * room this time.  Nothing has changed for a task. */
		if (urs_send(u, s, true) == 0)
			return false;
		s->werr = PTIO_ENOMEM;
	}
	if (res <= 0 && s->werr == 0)
		s->werr = res < 0 ? (ptio_ssize)res : PTIO_EIO;
	if (s->werr != 0) {
		s->soff = s->slen = 0;
	} else {
		s->soff += (uint32_t)res;
		if (s->soff == s->slen)
			s->soff = s->slen = 0;
		else if (urs_send(u, s, false) < 0)
			s->werr = PTIO_ENOMEM;
	}
	if (s->slen == 0 && (s->state & URS_BORROWS))
		granted = urs_lend_back(u->spool, s);
	ur_gather(u, (int)s->src.handle, PTIO_WRITABLE);
	return s->src.waiter[PTIO_SLOT_WRITE] != NULL || s->werr != 0 ||
	       granted;
}

/* A completion of a receive or a send; E is NULL when its stream has
 * closed since.  A buffer the kernel picked for a closed stream goes
 * back to the ring.  True when it may wake a task. */
static bool urs_report(struct ptio_uring *u, struct ptio__uring_entry *e,
		       unsigned kind, const struct io_uring_cqe *cqe)
{
	if (e == NULL || !(e->flags & UR_STREAM)) {
		if ((cqe->flags & IORING_CQE_F_BUFFER) && u->pool != NULL)
			urs_give_back(u->pool,
				      cqe->flags >> IORING_CQE_BUFFER_SHIFT);
		return false;
	}
	if (kind == UR_SEND)
		return urs_sent(u, urs_of(e), cqe->res);
	urs_received(u, urs_of(e), cqe);
	return true;
}

/* ---- Completion streams: the calls ----------------------------------------- */

static void urs_set_closed(struct ptio_uring_stream *s, struct ptio_loop *loop)
{
	ptio_source_init(&s->src, 0, PTIO_SOURCE_CLOSED);
	s->src.handle = -1;
	s->loop = loop;
	s->next_starved = NULL;
	s->next_swait = NULL;
	s->head = s->tail = -1;
	s->off = s->state = s->nheld = 0;
	s->rend = s->werr = 0;
	s->sbuf = NULL;
	s->scap = s->soff = s->sinflight = s->slen = 0;
}

ptio_ssize ptio_uring_set_buffers(struct ptio_loop *loop, unsigned count,
				  size_t size)
{
	struct ptio_uring *u;

	if (loop->backend->vt != &ur_vt)
		return PTIO_ENOTSUP;
	if (count == 0 || count > UR_POOL_MAX_COUNT ||
	    (count & (count - 1)) != 0 || size == 0 || size > UR_POOL_MAX_SIZE)
		return PTIO_EINVAL;
	u = ur_of(loop->backend);
	if (u->pool != NULL)
		return PTIO_EBUSY;
	u->pool_count = count;
	u->pool_size = size;
	return 0;
}

ptio_ssize ptio_uring_set_read_ahead(struct ptio_loop *loop, unsigned buffers)
{
	if (loop->backend->vt != &ur_vt)
		return PTIO_ENOTSUP;
	if (buffers == 0 || buffers > UR_POOL_MAX_COUNT)
		return PTIO_EINVAL;
	ur_of(loop->backend)->read_ahead = buffers;
	return 0;
}

ptio_ssize ptio_uring_set_send_buffers(struct ptio_loop *loop, unsigned count,
				       size_t size)
{
	struct ptio_uring *u;

	if (loop->backend->vt != &ur_vt)
		return PTIO_ENOTSUP;
	if (count == 0 || count > UR_POOL_MAX_COUNT || size == 0 ||
	    size > UR_POOL_MAX_SIZE)
		return PTIO_EINVAL;
	u = ur_of(loop->backend);
	if (u->spool != NULL)
		return PTIO_EBUSY;
	u->spool_count = count;
	u->spool_size = size;
	return 0;
}

size_t ptio_uring_send_buffers_used(struct ptio_loop *loop)
{
	const struct ptio__uring_spool *p;

	if (loop->backend->vt != &ur_vt)
		return 0;
	p = ur_of(loop->backend)->spool;
	return p != NULL ? p->count - p->nfree : 0;
}

/* FD is a stream socket, made non-blocking: 0 or an error. */
static ptio_ssize urs_check_fd(int fd)
{
	int type = 0, fl;
	socklen_t len = sizeof(type);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return PTIO_EBADF;
	if (!S_ISSOCK(st.st_mode) ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_STREAM)
		return PTIO_ENOTSOCK;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return ptio__errno();
	return 0;
}

/* Give FD's entry to S and arm its receive: 0 or an error. */
static ptio_ssize urs_join(struct ptio_uring *u, struct ptio_uring_stream *s,
			   int fd)
{
	struct ptio__uring_entry *e;
	ptio_ssize r;

	if ((size_t)fd >= u->nwho) {
		r = ur_grow(u, fd);
		if (r < 0)
			return r;
	}
	e = &u->who[fd];
	if (e->src != NULL)
		return PTIO_EBUSY;
	e->src = &s->src;
	e->gen = ur_next_gen(u) & UR_GEN_MASK;
	e->flags = UR_STREAM | UR_SURE;
	r = urs_arm_recv(u, s);
	if (r < 0) {
		e->src = NULL;
		e->flags = 0;
		return r;
	}
	e->flags |= UR_WATCHED;
	u->nattached++;
	u->nstreams++;
	return 0;
}

ptio_ssize ptio_uring_stream_open(struct ptio_uring_stream *s,
				  struct ptio_loop *loop, int fd,
				  unsigned flags, void *sendbuf,
				  size_t sendcap)
{
	struct ptio_uring *u;
	ptio_ssize r;

	urs_set_closed(s, loop);
	if (loop->backend->vt != &ur_vt)
		return PTIO_ENOTSUP;
	/* SENDBUF and SENDCAP: both given, or neither (borrow). */
	if ((flags & ~PTIO_FD_NOCLOSE) != 0 ||
	    (sendbuf == NULL) != (sendcap == 0) || sendcap > UINT32_MAX)
		return PTIO_EINVAL;
	r = urs_check_fd(fd);
	if (r < 0)
		return r;
	u = ur_of(loop->backend);
	r = urs_pool_make(u);
	if (r == 0 && sendbuf == NULL)
		r = urs_spool_make(u);
	if (r < 0)
		return r;
	ptio_source_init(&s->src, PTIO_WRITABLE, 0);
	s->src.handle = fd;
	s->src.oflags = (uint8_t)flags;
	s->sbuf = sendbuf;
	s->scap = (uint32_t)sendcap;
	if (sendbuf == NULL)
		s->state = URS_BORROWS;
	r = urs_join(u, s, fd);
	if (r < 0)
		urs_set_closed(s, loop);
	return r;
}

/* Cancel every request on FD now: the kernel lets go of the file and
 * of the send buffer (the stream's, or the chunk it borrowed) before the
 * stream's memory may be reused or the chunk lent again. */
static void urs_cancel_all(struct ptio_uring *u, int fd)
{
	struct io_uring_sqe *sqe = ur_sqe(u);

	if (sqe == NULL)
		return;
	io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data64(sqe, UR_CANCEL);
	(void)io_uring_submit_and_get_events(ring_of(u));
}

ptio_ssize ptio_uring_stream_close(struct ptio_uring_stream *s)
{
	int fd = (int)s->src.handle;
	struct ptio_uring *u;
	struct ptio__uring_entry *e;

	if (fd < 0)
		return 0;
	ptio_source_close(&s->src);
	u = urs_backend(s);
	e = &u->who[fd];
	urs_unstarve(u->pool, s);
	while (s->head >= 0)
		urs_dequeue(u->pool, s);
	urs_cancel_all(u, fd);
	if (s->state & URS_BORROWS)
		urs_spool_leave(u->spool, s);
	ur_unwatch(u, e);
	u->nstreams--;
	e->src = NULL;
	e->flags = 0;
	s->src.handle = -1;
	urs_feed_starved(u);
	if (s->src.oflags & PTIO_FD_NOCLOSE)
		return 0;
	if (close(fd) < 0 && errno != EINTR)
		return ptio__errno();
	return 0;
}

static ptio_ssize urs_fill_buf(void *self, const uint8_t **data)
{
	struct ptio_uring_stream *s = self;
	const struct ptio__uring_pool *p;

	if (s->src.handle < 0)
		return PTIO_ECLOSED;
	if (s->head >= 0) {
		p = urs_backend(s)->pool;
		*data = urs_buf(p, (unsigned)s->head) + s->off;
		return (ptio_ssize)(p->link[s->head].len - s->off);
	}
	if (s->rend != 0)
		return s->rend > 0 ? 0 : s->rend;
	ptio_source_clear(&s->src, PTIO_READABLE);
	return PTIO_WOULD_BLOCK;
}

static void urs_consume(void *self, size_t n)
{
	struct ptio_uring_stream *s = self;
	struct ptio_uring *u;
	uint32_t avail;

	if (s->src.handle < 0 || s->head < 0)
		return;
	u = urs_backend(s);
	avail = u->pool->link[s->head].len - s->off;
	if (n < avail) {
		s->off += (uint32_t)n;
		return;
	}
	urs_dequeue(u->pool, s);
	urs_resume(u, s);
	urs_feed_starved(u);
}

static ptio_ssize urs_write(void *self, const void *buf, size_t len)
{
	struct ptio_uring_stream *s = self;
	uint32_t room, n;
	ptio_ssize r;

	if (s->src.handle < 0)
		return PTIO_ECLOSED;
	if (s->werr != 0)
		return s->werr;
	if (len == 0)
		return 0;
	if (s->sbuf == NULL) {
		r = urs_borrow(urs_backend(s)->spool, s);
		if (r < 0)
			return r;
	}
	room = s->scap - s->slen;
	if (room == 0) {
		ptio_source_clear(&s->src, PTIO_WRITABLE);
		return PTIO_WOULD_BLOCK;
	}
	n = len < room ? (uint32_t)len : room;
	memcpy(s->sbuf + s->slen, buf, n);
	s->slen += n;
	if (!(s->state & URS_SENDING)) {
		r = urs_send(urs_backend(s), s, false);
		if (r < 0) {
			s->slen -= n;
			if (s->slen == 0 && (s->state & URS_BORROWS))
				(void)urs_lend_back(urs_backend(s)->spool, s);
			return r;
		}
	}
	return (ptio_ssize)n;
}

static ptio_ssize urs_flush(void *self)
{
	struct ptio_uring_stream *s = self;

	if (s->src.handle < 0)
		return PTIO_ECLOSED;
	if (s->werr != 0)
		return s->werr;
	if (s->slen == 0)
		return 0;
	ptio_source_clear(&s->src, PTIO_WRITABLE);
	return PTIO_WOULD_BLOCK;
}

const struct ptio_bufread_vt ptio_uring_stream_bufread_vt = {
	.ready = { .poll_ready = ptio_source_poll_ready },
	.nb_fill_buf = urs_fill_buf,
	.consume = urs_consume,
};

const struct ptio_write_vt ptio_uring_stream_write_vt = {
	.ready = { .poll_ready = ptio_source_poll_ready },
	.nb_write = urs_write,
	.nb_flush = urs_flush,
};


#else /* !HAVE_LIBURING */

ptio_ssize ptio_uring_init(struct ptio_uring *u, struct ptio_backend **out)
{
	(void)out;
	u->base.vt = NULL;
	u->ring = NULL;
	u->who = NULL;
	u->nwho = 0;
	u->nattached = 0;
	u->nstreams = 0;
	u->gen = 0;
	u->touched = -1;
	u->refused = 0;
	u->pool = NULL;
	u->spool = NULL;
	return PTIO_ENOTSUP;
}

void ptio_uring_destroy(struct ptio_uring *u)
{
	(void)u;
}

/* Without liburing no completion stream ever opens. */
ptio_ssize ptio_uring_set_buffers(struct ptio_loop *loop, unsigned count,
				  size_t size)
{
	(void)loop;
	(void)count;
	(void)size;
	return PTIO_ENOTSUP;
}

ptio_ssize ptio_uring_set_read_ahead(struct ptio_loop *loop, unsigned buffers)
{
	(void)loop;
	(void)buffers;
	return PTIO_ENOTSUP;
}

ptio_ssize ptio_uring_set_send_buffers(struct ptio_loop *loop, unsigned count,
				       size_t size)
{
	(void)loop;
	(void)count;
	(void)size;
	return PTIO_ENOTSUP;
}

size_t ptio_uring_send_buffers_used(struct ptio_loop *loop)
{
	(void)loop;
	return 0;
}

ptio_ssize ptio_uring_stream_open(struct ptio_uring_stream *s,
				  struct ptio_loop *loop, int fd,
				  unsigned flags, void *sendbuf,
				  size_t sendcap)
{
	(void)fd;
	(void)flags;
	(void)sendbuf;
	(void)sendcap;
	ptio_source_init(&s->src, 0, PTIO_SOURCE_CLOSED);
	s->src.handle = -1;
	s->loop = loop;
	return PTIO_ENOTSUP;
}

ptio_ssize ptio_uring_stream_close(struct ptio_uring_stream *s)
{
	(void)s;
	return 0;
}

static ptio_ssize urs_fill_buf(void *self, const uint8_t **data)
{
	(void)self;
	(void)data;
	return PTIO_ECLOSED;
}

static void urs_consume(void *self, size_t n)
{
	(void)self;
	(void)n;
}

static ptio_ssize urs_write(void *self, const void *buf, size_t len)
{
	(void)self;
	(void)buf;
	(void)len;
	return PTIO_ECLOSED;
}

const struct ptio_bufread_vt ptio_uring_stream_bufread_vt = {
	.ready = { .poll_ready = ptio_source_poll_ready },
	.nb_fill_buf = urs_fill_buf,
	.consume = urs_consume,
};

const struct ptio_write_vt ptio_uring_stream_write_vt = {
	.ready = { .poll_ready = ptio_source_poll_ready },
	.nb_write = urs_write,
};


#endif /* HAVE_LIBURING */
