/*
 * src/posix/waker.c - waking a loop from another thread or a signal
 * handler (see "Wakers" in ptio/posix.h).
 *
 * The loop watches the read end of a descriptor pair as an ordinary fd
 * stream: an eventfd on Linux (HAVE_SYS_EVENTFD_H; one descriptor is
 * both ends), a non-blocking pipe elsewhere.  A wake writes to it, so
 * every backend sees a readable descriptor and needs no code of its
 * own.  An atomic flag makes wakes coalesce: only the wake that finds it
 * clear writes, and the loop side clears it after draining, so a burst
 * of wakes between two turns of the loop costs one write and one read.
 *
 * Divided into: opening and closing, the wake (any thread), the wait
 * (the loop's thread).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#ifdef HAVE_SYS_EVENTFD_H
#include <sys/eventfd.h>
#endif
#include <ptio/err.h>
#include <ptio/ops.h>
#include "posix/internal.h"

/* ---- Opening and closing ------------------------------------------------- */

ptio_ssize ptio__pipe_nb(int fds[2])
{
	int i;

	if (pipe(fds) < 0)
		return ptio__errno();
	for (i = 0; i < 2; i++) {
		int fl = fcntl(fds[i], F_GETFL);

		if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) < 0 ||
		    fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0) {
			ptio_ssize r = ptio__errno();

			close(fds[0]);
			close(fds[1]);
			return r;
		}
	}
	return 0;
}

/* Make the descriptor pair: FDS[0] is read, FDS[1] written.  Both are
 * non-blocking and close-on-exec.  0 or an error. */
static ptio_ssize waker_fds(int fds[2])
{
#ifdef HAVE_SYS_EVENTFD_H
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	if (fd < 0)
		return ptio__errno();
	fds[0] = fds[1] = fd;
	return 0;
#else
	return ptio__pipe_nb(fds);
#endif
}

ptio_ssize ptio_waker_open(struct ptio_waker *w, struct ptio_loop *loop)
{
	int fds[2] = { -1, -1 };
	ptio_ssize r;

	ptio__fd_set_closed(&w->rd, loop);
	w->wfd = -1;
	w->pending = 0;
	r = waker_fds(fds);
	if (r < 0)
		return r;
	r = ptio_fd_open(&w->rd, loop, fds[0], 0);
	if (r < 0) {
		close(fds[0]);
		if (fds[1] != fds[0])
			close(fds[1]);
		return r;
	}
	w->wfd = fds[1];
	return 0;
}

ptio_ssize ptio_waker_close(struct ptio_waker *w)
{
	ptio_ssize r = 0, c;

	/* An eventfd is its own write end: ptio_fd_close closes it. */
	if (w->wfd >= 0 && w->wfd != ptio_fd_fileno(&w->rd) &&
	    close(w->wfd) < 0)
		r = ptio__errno();
	w->wfd = -1;
	c = ptio_fd_close(&w->rd);
	return r < 0 ? r : c;
}

/* ---- The wake ------------------------------------------------------------ */

ptio_ssize ptio_waker_wake(struct ptio_waker *w)
{
	/* Eight bytes: an eventfd takes nothing shorter, a pipe is happy
	 * with them. */
	static const uint64_t one = 1;
	int saved = errno;
	ptio_ssize r = 0;

	if (__atomic_exchange_n(&w->pending, 1, __ATOMIC_ACQ_REL) != 0)
		return 0; /* an earlier wake is not drained yet */
	/* A full pipe or an eventfd at its limit is already readable:
	 * EAGAIN loses nothing. */
	while (write(w->wfd, &one, sizeof one) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			r = ptio__errno();
		break;
	}
	errno = saved;
	return r;
}

/* ---- The wait ------------------------------------------------------------ */

ptio_ssize ptio_waker_nb_wait(struct ptio_waker *w)
{
	uint8_t buf[64];
	bool woken = false;
	ptio_ssize n;

	while ((n = ptio_nb_read(ptio_fd_reader(&w->rd), buf, sizeof buf)) > 0)
		woken = true;
	if (n != PTIO_WOULD_BLOCK)
		return n == 0 ? PTIO_EIO : n; /* neither ever ends */
	if (!woken)
		return PTIO_WOULD_BLOCK;
	/* Cleared after the drain and before the caller looks at what it
	 * was woken for: a wake that still found the flag set is seen by
	 * that look, and every later one writes again.  An exchange rather
	 * than a store, so that the waker's release is acquired here. */
	(void)__atomic_exchange_n(&w->pending, 0, __ATOMIC_ACQ_REL);
	return 0;
}

ptio_ssize ptio_waker_wait(struct ptio_op *op, struct ptio_waker *w)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&op->pt);
	PTIO_NB_AWAIT(&op->pt, op->task, r, ptio_waker_nb_wait(w),
		      ptio_fd_ready(&w->rd), PTIO_READ);
	PTIO_END_WITH(&op->pt, r);
}
