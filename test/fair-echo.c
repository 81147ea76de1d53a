/*
 * test/fair-echo.c - the control of test/echo-flood-test.sh: an echo
 * server that is fair by construction, to time test/flood-probe against.
 *
 *   fair-echo
 *
 * It listens on a loopback port of the system's choosing, says "port N"
 * on stdout, and serves until killed.  One thread and one poll() loop,
 * like samples/echo-server, but each round gives every ready connection
 * one read (64 KiB at most) and its write, and accepts one new
 * connection: a connection whose reads never block gets one turn per
 * round like the others.  Bytes the peer does not take at once are kept,
 * and the connection is not read again until they are written.  Plain
 * POSIX, no ptio: it must not share the faults it is the control for.
 *
 * The file is divided into: connections, one round, and main.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- Connections ----------------------------------------------------------- */

#define MAX_CONNS 64

struct conn {
	int fd;              /* -1: the slot is free */
	size_t len;          /* bytes in buf still to write back */
	size_t off;          /* of those, already written */
	unsigned char buf[64 * 1024];
};

static struct conn conns[MAX_CONNS];

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int set_nonblock(int fd)
{
	return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
}

/* Take one new connection, when there is one and a free slot for it. */
static void conn_accept(int lfd)
{
	int fd = accept(lfd, NULL, NULL), i;

	if (fd < 0)
		return;
	for (i = 0; i < MAX_CONNS; i++) {
		if (conns[i].fd < 0) {
			if (set_nonblock(fd) < 0)
				break;
			conns[i].fd = fd;
			conns[i].len = conns[i].off = 0;
			return;
		}
	}
	close(fd);
}

/* Write what C holds; close it on an error. */
static void conn_write(struct conn *c)
{
	ssize_t n = write(c->fd, c->buf + c->off, c->len - c->off);

	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conn_close(c);
		return;
	}
	c->off += (size_t)n;
	if (c->off == c->len)
		c->len = c->off = 0;
}

/* Read once and write it back; close C at end of stream or an error. */
static void conn_echo(struct conn *c)
{
	ssize_t n = read(c->fd, c->buf, sizeof c->buf);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		       errno != EINTR)) {
		conn_close(c);
		return;
	}
	if (n > 0) {
		c->len = (size_t)n;
		c->off = 0;
		conn_write(c);
	}
}

/* ---- One round ---------------------------------------------------------------- */

/* Wait for readiness, then give each ready connection one turn. */
static void round_run(int lfd)
{
	struct pollfd p[MAX_CONNS + 1];
	int i;

	p[0].fd = lfd;
	p[0].events = POLLIN;
	for (i = 0; i < MAX_CONNS; i++) {
		p[i + 1].fd = conns[i].fd;
		p[i + 1].events = conns[i].len > 0 ? POLLOUT : POLLIN;
	}
	if (poll(p, MAX_CONNS + 1, -1) < 0) {
		if (errno == EINTR)
			return;
		die("fair-echo: poll");
	}
	for (i = 0; i < MAX_CONNS; i++) {
		if (conns[i].fd < 0 || p[i + 1].revents == 0)
			continue;
		if (conns[i].len > 0)
			conn_write(&conns[i]);
		else
			conn_echo(&conns[i]);
	}
	if (p[0].revents & POLLIN)
		conn_accept(lfd);
}

/* ---- Main ------------------------------------------------------------------------ */

int main(void)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof sa;
	int lfd, i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		die("fair-echo: socket");
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(lfd, 64) < 0 || set_nonblock(lfd) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0)
		die("fair-echo: listen");
	printf("port %u\n", (unsigned)ntohs(sa.sin_port));
	fflush(stdout);
	for (;;)
		round_run(lfd);
}
