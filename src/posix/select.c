/*
 * src/posix/select.c - the select(2) backend.
 *
 * Level-triggered, over sources, like poll.c: a source's descriptor is its
 * handle, and the two sets ask for exactly the interests that have a
 * waiter.  A descriptor nobody waits on is in neither set, so neither its
 * readiness nor a hang-up or error that nobody asked for wakes the loop.
 *
 * The limit.  An fd_set holds descriptors 0 to FD_SETSIZE - 1 only, and
 * FD_SET on a larger one writes past its end (undefined behaviour, which
 * glibc's _FORTIFY_SOURCE turns into an abort).  So every descriptor is
 * checked before any set is touched: attach (ptio_fd_open) and update
 * refuse one at or above FD_SETSIZE with PTIO_EINVAL, as select(2) itself
 * refuses an nfds above its limit, and change nothing.
 *
 * The cost of a wait.  The sets are copied (select overwrites them) and
 * select is asked about descriptors 0 to the highest one with an interest,
 * which is kept: it grows in update and shrinks, lazily, at the next wait
 * (a busy descriptor that drops its interest when woken usually asks again
 * before the loop waits).  The report walk stops once select's count of
 * set bits is used up, so idle descriptors above the last ready one are
 * never looked at.
 *
 * Divided into: the table (descriptor number to source), the sets,
 * reporting a batch, the backend vtable, and init/destroy.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <ptio/err.h>
#include "posix/internal.h"

static struct ptio_select_backend *sel_of(struct ptio_backend *be)
{
	return PTIO_CONTAINER_OF(be, struct ptio_select_backend, base);
}

/* 0 when FD may go in an fd_set, else why not.  Every path that touches
 * a set by a source's descriptor goes through this first. */
static ptio_ssize sel_check(int fd)
{
	if (fd < 0)
		return PTIO_EBADF;
	if (fd >= FD_SETSIZE)
		return PTIO_EINVAL;
	return 0;
}

/* ---- The table ----------------------------------------------------------- */

/* Make the table long enough to hold descriptor FD (< FD_SETSIZE). */
static ptio_ssize sel_grow(struct ptio_select_backend *sb, int fd)
{
	size_t want = (size_t)fd + 1, len = sb->nwho != 0 ? sb->nwho : 64;
	struct ptio_source **who;

	while (len < want)
		len *= 2;
	if (len > FD_SETSIZE)
		len = FD_SETSIZE;
	who = realloc(sb->who, len * sizeof(*who));
	if (who == NULL)
		return PTIO_ENOMEM;
	memset(who + sb->nwho, 0, (len - sb->nwho) * sizeof(*who));
	sb->who = who;
	sb->nwho = len;
	return 0;
}

/* SRC's descriptor (checked) leads to SRC from now on.  An entry held by
 * another source is another open stream on the same descriptor: refused
 * with PTIO_EBUSY, as poll.c does (one descriptor, one stream). */
static ptio_ssize sel_join(struct ptio_select_backend *sb,
			   struct ptio_source *src)
{
	int fd = (int)src->handle;
	ptio_ssize r;

	if ((size_t)fd >= sb->nwho) {
		r = sel_grow(sb, fd);
		if (r < 0)
			return r;
	}
	if (sb->who[fd] != NULL)
		return sb->who[fd] == src ? 0 : PTIO_EBUSY;
	sb->nattached++;
	sb->who[fd] = src;
	return 0;
}

/* ---- The sets ------------------------------------------------------------ */

static bool sel_armed(const struct ptio_select_backend *sb, int fd)
{
	return FD_ISSET(fd, &sb->rd) || FD_ISSET(fd, &sb->wr);
}

/* Ask for reading and writing on FD (checked) as READ and WRITE say,
 * keeping the count of armed descriptors and the highest one. */
static void sel_set(struct ptio_select_backend *sb, int fd, bool read,
		    bool write)
{
	bool was = sel_armed(sb, fd);

	if (read)
		FD_SET(fd, &sb->rd);
	else
		FD_CLR(fd, &sb->rd);
	if (write)
		FD_SET(fd, &sb->wr);
	else
		FD_CLR(fd, &sb->wr);
	if (read || write) {
		if (!was)
			sb->armed++;
		if (fd > sb->maxfd)
			sb->maxfd = fd;
	} else if (was) {
		sb->armed--;
	}
}

/* Lower the highest descriptor past those that asked for nothing since;
 * -1 when none asks. */
static void sel_shrink(struct ptio_select_backend *sb)
{
	while (sb->maxfd >= 0 && !sel_armed(sb, sb->maxfd))
		sb->maxfd--;
}

/* ---- Reporting a batch ----------------------------------------------------- */

/*
 * Report the COUNT bits select set in RD and WR, walking up from 0 and
 * stopping at the last of them.  The table is read afresh for each
 * descriptor, and reporting only caches bits and queues tasks (no user
 * code runs before the loop's next round); woken waiters change the
 * backend's sets, not the copies walked here.
 *
 * select has no hang-up of its own: a hang-up is only "readable" (the
 * read finds the data sent before it, then end of stream).  A writer
 * blocked on a full buffer when the peer hangs up both directions is
 * never told "writable", though its write would now fail with EPIPE at
 * once.  So a descriptor found readable, not writable, while a task other
 * than its reader waits to write on it is reported WRITABLE too: the
 * writer tries again, and either meets EAGAIN and waits again (the cost, one call, only on a
 * stream with a blocked writer) or learns of the hang-up.
 */
/* A task waits to write on SRC that is not the one waiting to read (one
 * task waiting for both learns of a hang-up from its read). */
static bool sel_writer_apart(const struct ptio_source *src)
{
	return src->waiter[PTIO_SLOT_WRITE] != NULL &&
	       src->waiter[PTIO_SLOT_WRITE] != src->waiter[PTIO_SLOT_READ];
}

static void sel_report(struct ptio_select_backend *sb, const fd_set *rd,
		       const fd_set *wr, int nfds, int count)
{
	int fd;

	for (fd = 0; count > 0 && fd < nfds; fd++) {
		unsigned bits = 0;

		if (FD_ISSET(fd, wr)) {
			bits |= PTIO_WRITABLE;
			count--;
		}
		if (FD_ISSET(fd, rd)) {
			bits |= PTIO_READABLE;
			count--;
		}
		if (bits == 0 || (size_t)fd >= sb->nwho || sb->who[fd] == NULL)
			continue;
		if (bits == PTIO_READABLE && sel_writer_apart(sb->who[fd]))
			bits |= PTIO_WRITABLE;
		ptio__source_ready_inline(sb->who[fd], bits);
	}
	sb->walked = (size_t)fd;
}

/*
 * select failed with EBADF: an armed descriptor was closed behind its
 * stream's back (poll would say POLLNVAL for it alone).  Find each one
 * and report it as an error, which wakes its waiters; their next call
 * fails with PTIO_EBADF, and their interests leave the sets.  Returns 0,
 * or PTIO_EBADF when no armed descriptor is bad after all, so that the
 * loop stops instead of spinning.
 */
static ptio_ssize sel_report_closed(struct ptio_select_backend *sb)
{
	bool found = false;
	int fd;

	for (fd = 0; fd <= sb->maxfd; fd++) {
		if (!sel_armed(sb, fd) || fcntl(fd, F_GETFD) >= 0 ||
		    errno != EBADF)
			continue;
		found = true;
		if ((size_t)fd < sb->nwho && sb->who[fd] != NULL)
			ptio_source_ready(sb->who[fd], PTIO_ERROR);
		else
			sel_set(sb, fd, false, false);
	}
	return found ? 0 : PTIO_EBADF;
}

/* ---- The backend --------------------------------------------------------- */

static ptio_tick sel_now(struct ptio_backend *be)
{
	(void)be;
	return ptio_posix_now_ms();
}

static ptio_ssize sel_wait(struct ptio_backend *be, uint32_t timeout)
{
	struct ptio_select_backend *sb = sel_of(be);
	struct timeval tv, *tvp = NULL;
	fd_set rd, wr;
	int nfds, n;

	if (timeout != PTIO_WAIT_FOREVER) {
		tv.tv_sec = (time_t)(timeout / 1000);
		tv.tv_usec = (suseconds_t)(timeout % 1000) * 1000;
		tvp = &tv;
	}
	sel_shrink(sb);
	nfds = sb->maxfd + 1;
	rd = sb->rd;
	wr = sb->wr;
	/* With nothing armed, select is only a sleep. */
	n = select(nfds, nfds != 0 ? &rd : NULL, nfds != 0 ? &wr : NULL,
		   NULL, tvp);
	sb->walked = 0;
	if (n < 0) {
		/* A signal: return so the loop fires what is due and
		 * computes a fresh timeout, as poll.c does. */
		if (errno == EINTR)
			return 0;
		if (errno == EBADF)
			return sel_report_closed(sb);
		return ptio__errno();
	}
	if (n > 0)
		sel_report(sb, &rd, &wr, nfds, n);
	return 0;
}

static ptio_ssize sel_update(struct ptio_backend *be, struct ptio_source *src)
{
	struct ptio_select_backend *sb = sel_of(be);
	int fd = (int)src->handle;
	ptio_ssize r = sel_check(fd);

	if (r < 0)
		return r;
	if ((size_t)fd >= sb->nwho || sb->who[fd] != src) {
		r = sel_join(sb, src);
		if (r < 0)
			return r;
	}
	sel_set(sb, fd, src->waiter[PTIO_SLOT_READ] != NULL,
		src->waiter[PTIO_SLOT_WRITE] != NULL);
	return 0;
}

/* Only descriptors that ask for something count, as in poll.c. */
static size_t sel_registrations(struct ptio_backend *be)
{
	return sel_of(be)->armed;
}

/* The check that matters: a descriptor select cannot hold is refused when
 * its stream is opened, not at its first wait. */
static ptio_ssize sel_attach(struct ptio_backend *be, struct ptio_source *src)
{
	ptio_ssize r = sel_check((int)src->handle);

	if (r < 0)
		return r;
	return sel_join(sel_of(be), src);
}

static void sel_detach(struct ptio_backend *be, struct ptio_source *src)
{
	struct ptio_select_backend *sb = sel_of(be);
	int fd = (int)src->handle;

	if (sel_check(fd) < 0 || (size_t)fd >= sb->nwho || sb->who[fd] != src)
		return; /* never joined */
	sel_set(sb, fd, false, false);
	sb->who[fd] = NULL;
	sb->nattached--;
}

static const struct ptio_backend_vt sel_vt = {
	.version = PTIO_BACKEND_VERSION,
	.now = sel_now,
	.wait = sel_wait,
	.update = sel_update,
	.registrations = sel_registrations,
	.attach = sel_attach,
	.detach = sel_detach,
};

/* ---- Init and destroy ---------------------------------------------------- */

ptio_ssize ptio_select_backend_init(struct ptio_select_backend *sb,
				    struct ptio_backend **out)
{
	sb->base.vt = &sel_vt;
	FD_ZERO(&sb->rd);
	FD_ZERO(&sb->wr);
	sb->maxfd = -1;
	sb->armed = 0;
	sb->walked = 0;
	sb->who = NULL;
	sb->nwho = 0;
	sb->nattached = 0;
	if (out != NULL)
		*out = &sb->base;
	return 0;
}

void ptio_select_backend_destroy(struct ptio_select_backend *sb)
{
	free(sb->who);
	(void)ptio_select_backend_init(sb, NULL);
}
