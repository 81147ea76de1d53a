/*
 * src/posix/tcp.c - TCP helpers: listen, accept and connect.
 *
 * Listening never waits, so ptio_tcp_listen is a plain function; accept
 * and connect may, so they are machines awaited with PTIO_AWAIT.  Their
 * state lives in the caller's op and fd stream (locals do not survive a
 * suspension).
 *
 * Divided into: addresses and sockets, listen, accept, connect.
 */
#define _GNU_SOURCE 1 /* accept4 */
#include <errno.h>
#include <fcntl.h>
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

ptio_ssize ptio_tcp_set_nodelay(struct ptio_fd *f, bool on)
{
	int v = on ? 1 : 0;

	if (f->src.handle < 0)
		return PTIO_ECLOSED;
	if (setsockopt(f->src.handle, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) < 0)
		return ptio__errno();
	return 0;
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

/* Bind S to A and listen; 0 or an error. */
static ptio_ssize tcp_bind_listen(int s, const struct tcp_addr *a, int backlog)
{
	int one = 1;

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
	struct tcp_addr a;
	ptio_ssize r;
	ptio_ssize s;

	s = tcp_new_socket(f, loop, host, port, &a);
	if (s < 0)
		return s;
	r = tcp_bind_listen((int)s, &a, backlog);
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

ptio_ssize ptio_tcp_nb_accept(struct ptio_fd *listener)
{
	int s;

	if (listener->src.handle < 0)
		return PTIO_ECLOSED;
	for (;;) {
		s = tcp_sys_accept(listener->src.handle);
		if (s >= 0)
			return s;
		/* A connection reset while it waited in the backlog
		 * (ECONNABORTED; EPROTO on some hosts) is gone: take the
		 * next one. */
		if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			ptio_source_clear(&listener->src, PTIO_READABLE |
						       PTIO_HUP | PTIO_ERROR);
			return PTIO_WOULD_BLOCK;
		}
		return ptio__errno();
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
