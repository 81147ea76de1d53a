/*
 * src/posix/tcp.c - TCP helpers: listen, accept and connect.
 *
 * Listening never waits, so ptio_tcp_listen is a plain function; accept
 * and connect may, so they are machines awaited with PTIO_AWAIT.  Their
 * state lives in the caller's op and fd stream (locals do not survive a
 * suspension).
 *
 * Divided into: addresses and sockets, listen, accept (and its reserve
 * descriptor), connect.
 */
#define _GNU_SOURCE 1 /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <ptio/err.h>
#include <ptio/ops.h>
#include "posix/internal.h"

/* ptio_tcp_connect's internal "still connecting" result. */
#define TCP_IN_PROGRESS 1

/* ---- Addresses and sockets ---------------------------------------------- */

struct tcp_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Fill A from the numeric HOST (NULL: 127.0.0.1) and PORT.  Names are not
 * resolved: resolution blocks, and belongs to the caller. */
static ptio_ssize tcp_addr_make(struct tcp_addr *a, const char *host,
				uint16_t port)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)(void *)&a->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)&a->ss;

	memset(a, 0, sizeof(*a));
	if (host == NULL)
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		a->len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		a->len = sizeof(*in6);
		return 0;
	}
	return PTIO_EINVAL;
}

/* A non-blocking, close-on-exec stream socket of FAMILY; the descriptor
 * or an error. */
static ptio_ssize tcp_socket(int family)
{
	int s;

#ifdef SOCK_NONBLOCK
	s = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return ptio__errno();
#else
	s = socket(family, SOCK_STREAM, 0);
	if (s < 0)
		return ptio__errno();
	if (fcntl(s, F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK) < 0) {
		ptio_ssize r = ptio__errno();

		close(s);
		return r;
	}
#endif
	return s;
}

/* Turn Nagle's algorithm off (ON true) or on for socket S; 0 or an
 * error. */
static ptio_ssize tcp_nodelay(int s, bool on)
{
	int v = on ? 1 : 0;

	if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) < 0)
		return ptio__errno();
	return 0;
}

ptio_ssize ptio_tcp_set_nodelay(struct ptio_fd *f, bool on)
{
	if (f->src.handle < 0)
		return PTIO_ECLOSED;
	return tcp_nodelay(f->src.handle, on);
}

ptio_ssize ptio_tcp_port(struct ptio_fd *f)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (f->src.handle < 0)
		return PTIO_ECLOSED;
	if (getsockname(f->src.handle, (struct sockaddr *)&ss, &len) < 0)
		return ptio__errno();
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)(void *)&ss)->sin6_port);
	return PTIO_EAFNOSUPPORT;
}

/* Start F out closed on LOOP (so every error path leaves it closed) and
 * make a socket for the numeric HOST:PORT, whose address goes in *A.
 * Returns the socket or an error. */
static ptio_ssize tcp_new_socket(struct ptio_fd *f, struct ptio_loop *loop,
				 const char *host, uint16_t port,
				 struct tcp_addr *a)
{
	ptio_ssize r;

	ptio__fd_set_closed(f, loop);
	r = tcp_addr_make(a, host, port);
	if (r < 0)
		return r;
	return tcp_socket(a->ss.ss_family);
}

/* ---- Listen ------------------------------------------------------------- */

/* Set SO_REUSEPORT on S when FLAGS asks; 0 or an error (PTIO_ENOTSUP
 * where the host has no SO_REUSEPORT). */
static ptio_ssize tcp_reuseport(int s, unsigned flags)
{
	if (!(flags & PTIO_TCP_REUSEPORT))
		return 0;
#ifdef SO_REUSEPORT
	{
		int one = 1;

		if (setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one,
			       sizeof(one)) < 0)
			return ptio__errno();
		return 0;
	}
#else
	(void)s;
	return PTIO_ENOTSUP;
#endif
}

/* Bind S to A and listen, with the options in FLAGS; 0 or an error. */
static ptio_ssize tcp_bind_listen(int s, const struct tcp_addr *a, int backlog,
				  unsigned flags)
{
	int one = 1;
	ptio_ssize r = tcp_reuseport(s, flags);

	if (r < 0)
		return r;
	/* Without SO_REUSEADDR a restarted server cannot bind its port
	 * while old connections sit in TIME_WAIT. */
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, (const struct sockaddr *)&a->ss, a->len) < 0 ||
	    listen(s, backlog > 0 ? backlog : SOMAXCONN) < 0)
		return ptio__errno();
	return 0;
}

ptio_ssize ptio_tcp_listen(struct ptio_fd *f, struct ptio_loop *loop,
			   const char *host, uint16_t port, int backlog)
{
	return ptio_tcp_listen_opts(f, loop, host, port, backlog, 0);
}

ptio_ssize ptio_tcp_listen_opts(struct ptio_fd *f, struct ptio_loop *loop,
				const char *host, uint16_t port, int backlog,
				unsigned flags)
{
	struct tcp_addr a;
	ptio_ssize r;
	ptio_ssize s;

	ptio__fd_set_closed(f, loop);
	if (flags & ~(unsigned)PTIO_TCP_REUSEPORT)
		return PTIO_EINVAL;
	s = tcp_new_socket(f, loop, host, port, &a);
	if (s < 0)
		return s;
	r = tcp_bind_listen((int)s, &a, backlog, flags);
	if (r == 0)
		r = ptio_fd_open(f, loop, (int)s, 0);
	if (r < 0)
		close((int)s);
	return r;
}

/* ---- Accept ------------------------------------------------------------- */

/* accept4 where the host has it (every host with SOCK_NONBLOCK does), so
 * the new descriptor is never visible in blocking mode or across exec. */
static int tcp_sys_accept(int fd)
{
#ifdef SOCK_NONBLOCK
	return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
	int s = accept(fd, NULL, NULL);

	if (s >= 0) {
		(void)fcntl(s, F_SETFD, FD_CLOEXEC);
		(void)fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
	}
	return s;
#endif
}

/* The reserve descriptor.  When the process runs out of descriptors, accept fails with EMFILE and
 * the connection stays in the backlog: its client waits with no answer
 * until it gives up.  With the reserve on, one spare descriptor is kept
 * open; at EMFILE it is given back, the waiting connections are accepted
 * and closed at once (their clients see the end of the stream), and the
 * spare is taken again.  It is shared by every loop and thread, so it is
 * handed over with atomic exchanges: a thread that finds it taken sheds
 * nothing this time. */

#define TCP_SHED_MAX 64 /* connections closed per EMFILE, at most */

static atomic_int tcp_reserve = -1;
static atomic_bool tcp_reserve_on;

/* Open a spare descriptor and make it the reserve, unless there is one. */
static ptio_ssize tcp_reserve_take(void)
{
	int expected = -1;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ptio__errno();
	if (!atomic_compare_exchange_strong(&tcp_reserve, &expected, fd))
		close(fd);
	return 0;
}

ptio_ssize ptio_tcp_reserve_fd(bool on)
{
	int fd;

	atomic_store(&tcp_reserve_on, on);
	if (on)
		return atomic_load(&tcp_reserve) >= 0 ? 0 : tcp_reserve_take();
	fd = atomic_exchange(&tcp_reserve, -1);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* Descriptors ran out with connections waiting on listener LFD: free the
 * reserve, accept and close what waits (a bounded number, so that a flood
 * cannot hold the loop), and take the reserve again. */
static void tcp_shed(int lfd)
{
	int fd = atomic_exchange(&tcp_reserve, -1);
	int n, s;

	if (fd < 0)
		return;
	close(fd);
	for (n = 0; n < TCP_SHED_MAX; n++) {
		s = tcp_sys_accept(lfd);
		if (s < 0)
			break;
		close(s);
	}
	(void)tcp_reserve_take();
}

/* True for the errors accept(2) says to treat like EAGAIN and retry: a
 * network error the pending connection met on its way (ECONNABORTED: it
 * was reset while it waited), which ends that connection only. */
static bool tcp_accept_skip(int e)
{
	switch (e) {
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
#ifdef ENONET
	case ENONET:
#endif
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
		return true;
	default:
		return false;
	}
}

ptio_ssize ptio_tcp_nb_accept(struct ptio_fd *listener)
{
	ptio_ssize r;
	int s;

	if (listener->src.handle < 0)
		return PTIO_ECLOSED;
	for (;;) {
		s = tcp_sys_accept(listener->src.handle);
		if (s >= 0) {
			/* As on connected streams, and for the same reason:
			 * small writes go out at once.  A failure leaves a
			 * working connection, so it is not an error. */
			(void)tcp_nodelay(s, true);
			return s;
		}
		if (tcp_accept_skip(errno))
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			ptio_source_clear(&listener->src, PTIO_READABLE |
						       PTIO_HUP | PTIO_ERROR);
			return PTIO_WOULD_BLOCK;
		}
		r = ptio__errno();
		if ((r == PTIO_EMFILE || r == PTIO_ENFILE) &&
		    atomic_load(&tcp_reserve_on))
			tcp_shed(listener->src.handle);
		return r;
	}
}

ptio_ssize ptio_tcp_accept(struct ptio_op *op, struct ptio_fd *listener)
{
	ptio_ssize r = 0;

	/* On the provided machines' one step: a peer that keeps the
	 * backlog full cannot hold the loop, as each accept spends budget. */
	PTIO_BEGIN(&op->pt);
	PTIO_NB_AWAIT(&op->pt, op->task, r, ptio_tcp_nb_accept(listener),
		      ptio_fd_ready(listener), PTIO_READ);
	PTIO_END_WITH(&op->pt, r);
}

/* ---- Connect ------------------------------------------------------------ */

/* The connection is up: turn Nagle off.  A failure there leaves a working
 * connection that merely batches small writes, so it is not an error. */
static ptio_ssize tcp_connected(struct ptio_fd *f)
{
	(void)ptio_tcp_set_nodelay(f, true);
	return 0;
}

/* Open F on a new socket and start connecting it to HOST:PORT.  Returns
 * 0 (connected already), TCP_IN_PROGRESS, or an error with F closed. */
static ptio_ssize tcp_connect_start(struct ptio_fd *f, struct ptio_loop *loop,
				    const char *host, uint16_t port)
{
	struct tcp_addr a;
	ptio_ssize r;
	ptio_ssize s;

	s = tcp_new_socket(f, loop, host, port, &a);
	if (s < 0)
		return s;
	r = ptio_fd_open(f, loop, (int)s, 0);
	if (r < 0) {
		close((int)s);
		return r;
	}
	if (connect(f->src.handle, (const struct sockaddr *)&a.ss, a.len) == 0)
		return tcp_connected(f);
	/* EINTR: the connection goes on in the background, exactly as
	 * with EINPROGRESS; calling connect again would say EALREADY. */
	if (errno == EINPROGRESS || errno == EINTR) {
		/* The stream starts out writable; forget that, so the wait
		 * below lasts until the system says the connect ended. */
		ptio_source_clear(&f->src, PTIO_WRITABLE);
		return TCP_IN_PROGRESS;
	}
	r = ptio__errno();
	(void)ptio_fd_close(f);
	return r;
}

/* The socket was reported writable (or hung up, or in error): find out
 * how the connect ended.  0, TCP_IN_PROGRESS or an error. */
static ptio_ssize tcp_connect_check(struct ptio_fd *f)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int err = 0;
	socklen_t elen = sizeof(err);

	if (f->src.handle < 0)
		return PTIO_ECLOSED;
	if (getsockopt(f->src.handle, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		return ptio__errno();
	if (err != 0)
		return -(ptio_ssize)err;
	/* No error yet: make sure the connection is really up rather than
	 * trusting a wake that may have had another cause. */
	if (getpeername(f->src.handle, (struct sockaddr *)&ss, &len) == 0)
		return tcp_connected(f);
	if (errno != ENOTCONN)
		return ptio__errno();
	ptio_source_clear(&f->src, PTIO_WRITABLE | PTIO_HUP | PTIO_ERROR);
	return TCP_IN_PROGRESS;
}

ptio_ssize ptio_tcp_connect(struct ptio_op *op, struct ptio_fd *f,
			    struct ptio_loop *loop, const char *host,
			    uint16_t port)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&op->pt);
	r = tcp_connect_start(f, loop, host, port);
	while (r == TCP_IN_PROGRESS) {
		PTIO_AWAIT(&op->pt, r,
			   ptio_wait_ready(op->task, ptio_fd_ready(f),
					   PTIO_WRITE));
		if (r >= 0)
			r = tcp_connect_check(f);
	}
	/* Closing an already closed stream does nothing, so every error
	 * path may come here. */
	if (r < 0)
		(void)ptio_fd_close(f);
	PTIO_END_WITH(&op->pt, r);
}
