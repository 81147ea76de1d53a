/*
 * src/posix/fd.c - file descriptors as streams: Ready, Read and Write over
 * sockets, pipes and terminals (see ptio/posix.h for the contract).
 *
 * Divided into:
 *   1. compile-time checks that ptio's types and codes match the host's;
 *   2. opening and closing;
 *   3. the SIGPIPE guard for pipes;
 *   4. the non-blocking calls (reads, writes, readiness);
 *   5. the vtables and trait objects.
 *
 * Readiness: the source starts out WRITABLE only (ptio/posix.h says why):
 * READABLE is learned from the backend, which reports data already queued
 * at its first wait.  A call that meets EAGAIN (or EWOULDBLOCK) clears its
 * bit and returns PTIO_WOULD_BLOCK; the next poll_ready then waits until
 * the backend reports the bit again.  On a byte stream (PTIO_FD_BYTES) a
 * read that comes back short has drained what was queued, so it clears
 * READABLE too: one read per message instead of a second one that only
 * meets EAGAIN.  Bytes that arrive meanwhile are reported by the backend
 * as new readiness.  A datagram socket keeps reading until EAGAIN, as a
 * short read there is one message of several.
 *
 * Once a read has found the stream drained (PTIO_FD_DRAINED: EAGAIN or
 * a short read), a read answers PTIO_WOULD_BLOCK from the cache, with no
 * system call, while READABLE (or HUP, or ERROR) is not set: the backend
 * is the one that says when there is more.  That is what makes the short
 * read above worth anything to a machine that reads first and waits
 * second (ptio_read).  A fresh stream has not been found drained, so its
 * first read is always tried: data queued before it was opened is read
 * at once.
 *
 * A hang-up (HUP) means reads no longer block: what is queued, then end
 * of stream.  An edge-triggered backend reports it once, so when a
 * write's EAGAIN takes HUP out of the cache, the stream keeps READABLE
 * for good instead (PTIO_FD_HUNGUP; see fd_keep_hangup).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <ptio/err.h>
#include "posix/internal.h"

/* The most slices one readv/writev takes.  glibc hides IOV_MAX unless
 * X/Open names are asked for; Linux's own name for it is UIO_MAXIOV. */
#if defined(IOV_MAX)
#define FD_IOV_MAX IOV_MAX
#elif defined(UIO_MAXIOV)
#define FD_IOV_MAX UIO_MAXIOV
#else
#define FD_IOV_MAX 16 /* the POSIX minimum, _XOPEN_IOV_MAX */
#endif

/* Slices gathered by one vectored read.  Reads may be short, so a small
 * batch costs nothing but keeps the iovec array off a large stack frame. */
#define FD_READV_BATCH 64

/* ---- 1. Compile-time checks ------------------------------------------- */

/* An array of ptio_iovec goes to writev and sendmsg as it is. */
PTIO_STATIC_ASSERT(sizeof(struct ptio_iovec) == sizeof(struct iovec),
		   iovec_size);
PTIO_STATIC_ASSERT(offsetof(struct ptio_iovec, base) ==
			   offsetof(struct iovec, iov_base),
		   iovec_base);
PTIO_STATIC_ASSERT(offsetof(struct ptio_iovec, len) ==
			   offsetof(struct iovec, iov_len),
		   iovec_len);

/* Errors from system calls pass through unchanged: every PTIO_E<NAME> in
 * the list must be -E<NAME> on this host (a build with
 * PTIO_CONF_FIXED_ERRNO on a non-Linux host fails here, not at run
 * time). */
#define FD_ERRNO_CHECK(name, ename, value, text) \
	PTIO_STATIC_ASSERT(PTIO_##name == -(ename), errno_##name);
PTIO_ERRNO_MAP(FD_ERRNO_CHECK)
#undef FD_ERRNO_CHECK

PTIO_STATIC_ASSERT(PTIO_WOULD_BLOCK < -4095 && PTIO_PENDING < -4095,
		   reserved_values_below_errno);

ptio_ssize ptio__errno(void)
{
	return -(ptio_ssize)errno;
}

/* ---- 2. Opening and closing ------------------------------------------- */

void ptio__fd_set_closed(struct ptio_fd *f, struct ptio_loop *loop)
{
	ptio_source_init(&f->src, 0, PTIO_SOURCE_CLOSED);
	f->loop = loop;
}

/* Clear O_NONBLOCK again on FD; 0 or an error. */
static ptio_ssize fd_restore_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return ptio__errno();
	return 0;
}

/* Make FD non-blocking; add PTIO_FD_WASBLOCK to *FLAGS if it was not. */
static ptio_ssize fd_set_nonblocking(int fd, unsigned *flags)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return ptio__errno();
	if (fl & O_NONBLOCK)
		return 0;
	if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return ptio__errno();
	*flags |= PTIO_FD_WASBLOCK;
	return 0;
}

/* PTIO_FD_BYTES for a stream socket, 0 for any other kind. */
static unsigned fd_socket_bytes(int fd)
{
	int type = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return 0;
	return type == SOCK_STREAM ? PTIO_FD_BYTES : 0;
}

ptio_ssize ptio_fd_open(struct ptio_fd *f, struct ptio_loop *loop, int fd,
			unsigned flags)
{
	struct ptio_backend *be = loop->backend;
	struct stat st;
	ptio_ssize r;

	ptio__fd_set_closed(f, loop);
	if (flags & ~PTIO_FD_NOCLOSE)
		return PTIO_EINVAL;
	if (fd < 0 || fstat(fd, &st) < 0)
		return PTIO_EBADF;
	/* Sockets send with MSG_NOSIGNAL; pipes need the SIGPIPE guard;
	 * terminals and files raise no SIGPIPE at all. */
	if (S_ISSOCK(st.st_mode))
		flags |= PTIO_FD_SOCKET | fd_socket_bytes(fd);
	else if (S_ISFIFO(st.st_mode))
		flags |= PTIO_FD_PIPE | PTIO_FD_BYTES;
	r = fd_set_nonblocking(fd, &flags);
	if (r < 0)
		return r;
	ptio_source_init(&f->src, PTIO_WRITABLE, PTIO_SOURCE_BACKEND);
	f->src.handle = fd;
	f->src.oflags = (uint8_t)flags;
	if (be->vt->attach != NULL) {
		r = be->vt->attach(be, &f->src);
		if (r < 0) {
			if (flags & PTIO_FD_WASBLOCK)
				(void)fd_restore_blocking(fd);
			ptio__fd_set_closed(f, loop);
			return r;
		}
	}
	return 0;
}

ptio_ssize ptio_fd_close(struct ptio_fd *f)
{
	struct ptio_backend *be;
	ptio_ssize r = 0;
	int fd = f->src.handle;

	if (fd < 0)
		return 0;
	/* Waking the waiters drops their registrations, which tells the
	 * backend; detach then removes whatever the backend still holds
	 * (an edge-triggered registration, an unreported event). */
	ptio_source_close(&f->src);
	be = f->loop->backend;
	if (be->vt->detach != NULL)
		be->vt->detach(be, &f->src);
	f->src.flags = (uint8_t)(f->src.flags & ~PTIO_SOURCE_BACKEND);
	f->src.handle = -1;
	/* Neither a cached READABLE nor PTIO_FD_SOCKET outlives the
	 * descriptor: the inline read and write of ptio/posix.h test only
	 * those before they call the system. */
	f->src.ready = 0;
	f->src.oflags = (uint8_t)(f->src.oflags & ~PTIO_FD_SOCKET);
	/* O_NONBLOCK belongs to the open file description, which a dup, a
	 * parent process or a terminal may share: put it back as it was. */
	if (f->src.oflags & PTIO_FD_WASBLOCK)
		r = fd_restore_blocking(fd);
	if (f->src.oflags & PTIO_FD_NOCLOSE)
		return r;
	/* Linux frees the descriptor even when close fails with EINTR, so
	 * it is never retried (a retry could close a reused number). */
	if (close(fd) < 0 && errno != EINTR)
		return ptio__errno();
	return 0;
}

ptio_ssize ptio_fd_shutdown_write(struct ptio_fd *f)
{
	if (f->src.handle < 0)
		return PTIO_ECLOSED;
	if (shutdown(f->src.handle, SHUT_WR) < 0)
		return ptio__errno();
	return 0;
}

/* ---- 3. The SIGPIPE guard ----------------------------------------------
 *
 * A write to a pipe whose reader is gone raises SIGPIPE, whose default
 * action kills the process.  Sockets avoid it with MSG_NOSIGNAL; pipes
 * have no such flag, and changing the process's disposition would take a
 * decision away from the application.  So the writing thread blocks
 * SIGPIPE around the write, and when the write fails with EPIPE it takes
 * the signal it raised off the pending set with a zero-timeout
 * sigtimedwait.  A SIGPIPE that was already pending before the write
 * belongs to someone else and is left alone.
 */

struct fd_sigpipe_guard {
	sigset_t set;  /* { SIGPIPE } */
	sigset_t old;  /* the thread's mask before */
	bool pending;  /* SIGPIPE was pending before the write */
};

static void fd_sigpipe_block(struct fd_sigpipe_guard *g)
{
	sigset_t pend;

	sigemptyset(&g->set);
	sigaddset(&g->set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &g->set, &g->old);
	g->pending = sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE);
}

/* Restore the mask, first consuming the SIGPIPE the write raised when
 * RAISED (it failed with EPIPE).  Preserves errno. */
static void fd_sigpipe_restore(struct fd_sigpipe_guard *g, bool raised)
{
	static const struct timespec zero = { 0, 0 };
	int saved = errno;

	if (raised && !g->pending) {
		while (sigtimedwait(&g->set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
	errno = saved;
}

/* ---- 4. Non-blocking calls ----------------------------------------------- */

/* A write met EAGAIN while the cache held HUP: the peer has stopped
 * sending (EPOLLRDHUP) but may still read.  HUP must leave the cache, or
 * the writer's every poll would answer at once; but what it says about
 * reads stays true, and an edge-triggered backend will not say it again:
 * reads no longer block.  So READABLE is set for good (PTIO_FD_HUNGUP
 * keeps a short read from clearing it) and the reader goes on to end of
 * stream. */
static void fd_keep_hangup(struct ptio_fd *f)
{
	f->src.ready = (uint8_t)(f->src.ready | PTIO_READABLE);
	f->src.oflags = (uint8_t)(f->src.oflags | PTIO_FD_HUNGUP);
}

/* Turn the errno of a failed read or write into a result.  EAGAIN and
 * EWOULDBLOCK (distinct on some hosts) mean "not now": forget readiness
 * BIT so the next poll waits.  The call has also just shown that no
 * hang-up or error is pending in its direction, so those cached bits go
 * too; a level-triggered backend reports them again if they still hold,
 * and keeping them would make every later poll answer at once (for
 * reads, a hang-up is kept by fd_keep_hangup). */
static ptio_ssize fd_failed(struct ptio_fd *f, unsigned bit)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		if (bit == PTIO_WRITABLE && (f->src.ready & PTIO_HUP))
			fd_keep_hangup(f);
		ptio_source_clear(&f->src, bit | PTIO_HUP | PTIO_ERROR);
		if (bit == PTIO_READABLE)
			f->src.oflags = (uint8_t)(f->src.oflags |
						  PTIO_FD_DRAINED);
		return PTIO_WOULD_BLOCK;
	}
	return ptio__errno();
}

/* The bytes the K slices of IOV hold. */
static size_t fd_iov_total(const struct iovec *iov, int k)
{
	size_t total = 0;
	int i;

	for (i = 0; i < k; i++)
		total += iov[i].iov_len;
	return total;
}

/* False when the cache knows a read would find nothing. */
static bool fd_may_read(const struct ptio_fd *f)
{
	return (f->src.ready & (PTIO_READABLE | PTIO_HUP | PTIO_ERROR)) != 0 ||
	       !(f->src.oflags & PTIO_FD_DRAINED);
}

/* Read up to LEN > 0 bytes into BUF (ptio_nb_read's plain slot, and the
 * body of fd_read_buf). */
static ptio_ssize fd_read(void *self, void *buf, size_t len)
{
	struct ptio_fd *f = self;
	ssize_t n;

	if (f->src.handle < 0)
		return PTIO_ECLOSED;
	if (len == 0)
		return 0;
	if (!fd_may_read(f))
		return PTIO_WOULD_BLOCK;
	do
		n = read(f->src.handle, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fd_failed(f, PTIO_READABLE);
	ptio__fd_read_done(f, (size_t)n, len);
	return n;
}

ptio_ssize (ptio_fd_nb_read)(struct ptio_fd *f, void *buf, size_t len)
{
	return (ptio_nb_read)(ptio_fd_reader(f), buf, len);
}

ptio_ssize ptio_fd_nb_read_failed(struct ptio_fd *f, void *buf, size_t len)
{
	/* Only a READABLE someone reported on a closed stream by hand
	 * brings the inline read here with no descriptor (close clears
	 * the cache): the answer is still the closed stream's. */
	if (f->src.handle < 0)
		return PTIO_ECLOSED;
	if (errno == EINTR)
		return fd_read(f, buf, len);
	return fd_failed(f, PTIO_READABLE);
}

static ptio_ssize fd_read_buf(void *self, struct ptio_readbuf *rb)
{
	size_t len = ptio_readbuf_remaining(rb);
	ptio_ssize n;

	if (len > PTIO_SSIZE_MAX)
		len = PTIO_SSIZE_MAX;
	n = fd_read(self, ptio_readbuf_unfilled(rb), len);
	if (n <= 0)
		return n;
	/* ptio_readbuf_advance without its check: read(2) wrote N <= LEN
	 * bytes, all of them initialised now. */
	rb->filled += (size_t)n;
	if (rb->initialized < rb->filled)
		rb->initialized = rb->filled;
	return n;
}

/* Gather the unfilled regions of RBS into IOV (at most FD_READV_BATCH
 * slices, skipping full readbufs, the total kept within ssize_t); returns
 * the slice count. */
static int fd_readv_gather(struct iovec *iov, struct ptio_readbuf *rbs,
			   size_t n)
{
	size_t total = 0;
	size_t i;
	int k = 0;

	for (i = 0; i < n && k < FD_READV_BATCH; i++) {
		size_t room = ptio_readbuf_remaining(&rbs[i]);

		if (room > PTIO_SSIZE_MAX - total)
			room = PTIO_SSIZE_MAX - total;
		if (room == 0)
			continue;
		iov[k].iov_base = ptio_readbuf_unfilled(&rbs[i]);
		iov[k].iov_len = room;
		total += room;
		k++;
	}
	return k;
}

/* Spread COUNT bytes, just read in order, over the readbufs. */
static void fd_readv_advance(struct ptio_readbuf *rbs, size_t n, size_t count)
{
	size_t i;

	for (i = 0; i < n && count > 0; i++) {
		size_t take = ptio_readbuf_remaining(&rbs[i]);

		if (take > count)
			take = count;
		(void)ptio_readbuf_advance(&rbs[i], take);
		count -= take;
	}
}

static ptio_ssize fd_read_buf_vectored(void *self, struct ptio_readbuf *rbs,
				       size_t n)
{
	struct ptio_fd *f = self;
	struct iovec iov[FD_READV_BATCH];
	ssize_t got;
	int k;

	if (f->src.handle < 0)
		return PTIO_ECLOSED;
	k = fd_readv_gather(iov, rbs, n);
	if (k == 0)
		return 0;
	if (!fd_may_read(f))
		return PTIO_WOULD_BLOCK;
	do
		got = readv(f->src.handle, iov, k);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return fd_failed(f, PTIO_READABLE);
	ptio__fd_read_done(f, (size_t)got, fd_iov_total(iov, k));
	fd_readv_advance(rbs, n, (size_t)got);
	return got;
}

/* One write(2)-like call, no retry: send with MSG_NOSIGNAL on sockets. */
static ssize_t fd_sys_write(const struct ptio_fd *f, const void *buf,
			    size_t len)
{
	if (f->src.oflags & PTIO_FD_SOCKET)
		return send(f->src.handle, buf, len, MSG_NOSIGNAL);
	return write(f->src.handle, buf, len);
}

static ssize_t fd_sys_writev(const struct ptio_fd *f,
			     const struct ptio_iovec *iov, int n)
{
	if (f->src.oflags & PTIO_FD_SOCKET) {
		struct msghdr m = { 0 };

		/* sendmsg's slices are not const but are only read. */
		m.msg_iov = (struct iovec *)(uintptr_t)iov;
		m.msg_iovlen = (size_t)n;
		return sendmsg(f->src.handle, &m, MSG_NOSIGNAL);
	}
	return writev(f->src.handle, (const struct iovec *)(const void *)iov, n);
}

/* Write with EINTR retried and, on pipes, SIGPIPE guarded.  IOV NULL
 * means a plain write of BUF/LEN; otherwise a gather of N slices. */
static ptio_ssize fd_do_write(struct ptio_fd *f, const void *buf, size_t len,
			      const struct ptio_iovec *iov, int n)
{
	struct fd_sigpipe_guard g;
	bool guard = (f->src.oflags & PTIO_FD_PIPE) != 0;
	ssize_t w;

	if (guard)
		fd_sigpipe_block(&g);
	do
		w = iov != NULL ? fd_sys_writev(f, iov, n)
				: fd_sys_write(f, buf, len);
	while (w < 0 && errno == EINTR);
	if (guard)
		fd_sigpipe_restore(&g, w < 0 && errno == EPIPE);
	if (w < 0)
		return fd_failed(f, PTIO_WRITABLE);
	return w;
}

static ptio_ssize fd_write(void *self, const void *buf, size_t len)
{
	struct ptio_fd *f = self;

	if (f->src.handle < 0)
		return PTIO_ECLOSED;
	if (len == 0)
		return 0;
	if (len > PTIO_SSIZE_MAX)
		len = PTIO_SSIZE_MAX;
	/* A socket needs no SIGPIPE guard (MSG_NOSIGNAL): the hot path of
	 * every message goes straight to send(2). */
	if (f->src.oflags & PTIO_FD_SOCKET) {
		ssize_t w;

		do
			w = send(f->src.handle, buf, len, MSG_NOSIGNAL);
		while (w < 0 && errno == EINTR);
		return w < 0 ? fd_failed(f, PTIO_WRITABLE) : w;
	}
	return fd_do_write(f, buf, len, NULL, 0);
}

ptio_ssize (ptio_fd_nb_write)(struct ptio_fd *f, const void *buf, size_t len)
{
	return (ptio_nb_write)(ptio_fd_writer(f), buf, len);
}

ptio_ssize ptio_fd_nb_write_failed(struct ptio_fd *f, const void *buf,
				 size_t len)
{
	if (f->src.handle < 0)
		return PTIO_ECLOSED;
	if (errno == EINTR)
		return fd_write(f, buf, len);
	return fd_failed(f, PTIO_WRITABLE);
}

static ptio_ssize fd_write_vectored(void *self, const struct ptio_iovec *iov,
				    size_t n)
{
	struct ptio_fd *f = self;
	size_t total = 0;
	size_t k;

	if (f->src.handle < 0)
		return PTIO_ECLOSED;
	/* Leading empty slices would make a batch of nothing but them write
	 * 0 bytes, which callers read as "the writer accepts nothing". */
	while (n > 0 && iov->len == 0) {
		iov++;
		n--;
	}
	if (n == 0)
		return 0;
	/* writev fails with EINVAL beyond IOV_MAX slices or when the
	 * lengths' sum overflows ssize_t; a shorter batch is a short write,
	 * which every caller handles. */
	for (k = 0; k < n && k < FD_IOV_MAX; k++) {
		if (iov[k].len > PTIO_SSIZE_MAX - total)
			break;
		total += iov[k].len;
	}
	if (k == 0)
		return fd_write(self, iov[0].base, iov[0].len);
	return fd_do_write(f, NULL, 0, iov, (int)k);
}

/* ---- 5. Vtables and trait objects ---------------------------------------- */

const struct ptio_read_vt ptio_fd_read_vt = {
	.ready = { .poll_ready = ptio_source_poll_ready },
	.nb_read_buf = fd_read_buf,
	.nb_read_buf_vectored = fd_read_buf_vectored,
	.nb_read = fd_read,
};

const struct ptio_write_vt ptio_fd_write_vt = {
	.ready = { .poll_ready = ptio_source_poll_ready },
	.nb_write = fd_write,
	.nb_write_vectored = fd_write_vectored,
	.nb_flush = NULL, /* the kernel owns whatever was written */
};

