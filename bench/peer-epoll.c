/*
 * bench/peer-epoll.c - the floor of bench/run: an echo server on plain
 * epoll, with nothing between a ready descriptor and read(2).
 *
 *   peer-epoll [--port N] [--host ADDR] [--report-at N]
 *
 * (the options, the reports and the exit status are peer.h's).  One
 * level-triggered epoll instance holds the listener and every connection,
 * each with its descriptor as the event's data, so a connection costs the
 * kernel's socket and epoll item and not one byte of heap.  Every
 * connection reads into the one shared buffer (peer_buf) and writes the
 * bytes back at once: a message costs one read and one write, and one
 * epoll_wait serves every connection ready at the same time.  Only a
 * client that does not read its echoes makes a connection hold memory:
 * the rest of the echo waits in an overflow (peer.c) while the
 * connection waits for EPOLLOUT instead of EPOLLIN.
 *
 * Divided into: connections, accepting, and the loop with main.
 */
#define _GNU_SOURCE 1 /* accept4 */
#include "peer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static int ep = -1;      /* the epoll instance */
static int listener = -1;

/* ---- Connections --------------------------------------------------------- */

/* Close FD, which ended with ERR (0 or an errno value).  Closing the
 * descriptor also takes it out of the epoll set. */
static void conn_close(int fd, int err)
{
	peer_overflow_drop(fd);
	close(fd);
	peer_conn_closed(err);
}

/* Ask epoll for EVENTS (EPOLLIN or EPOLLOUT) on FD; 0 or -1. */
static int conn_watch(int fd, int op, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	ev.events = events;
	ev.data.fd = fd;
	return epoll_ctl(ep, op, fd, &ev);
}

/* FD is ready: finish a held-up echo, or echo once more.  Level-
 * triggered, so what the event says does not matter: the read or the
 * write tells (an error or a hang-up included), and anything left makes
 * the next wait report FD again. */
static void conn_ready(int fd)
{
	ssize_t n;

	if (peer_overflow_pending(fd)) {
		int r = peer_overflow_drain(fd);

		if (r < 0)
			conn_close(fd, errno);
		else if (r > 0 && conn_watch(fd, EPOLL_CTL_MOD, EPOLLIN) < 0)
			conn_close(fd, errno);
		return;
	}
	n = peer_echo(fd);
	if (n == 0)
		conn_close(fd, 0);
	else if (n < 0 && errno != EAGAIN && errno != EINTR)
		conn_close(fd, errno);
	else if (n > 0 && peer_overflow_pending(fd) &&
		 conn_watch(fd, EPOLL_CTL_MOD, EPOLLOUT) < 0)
		conn_close(fd, errno);
}

/* ---- Accepting ------------------------------------------------------------ */

/* Accept every connection waiting in the backlog. */
static void accept_all(void)
{
	for (;;) {
		int fd = accept4(listener, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* EAGAIN: done.  Anything else (EMFILE: the
			 * benchmark stays far below the limit) is left for
			 * the next wait. */
			if (errno != EAGAIN)
				fprintf(stderr, "peer-epoll: accept: %s\n",
					strerror(errno));
			return;
		}
		if (conn_watch(fd, EPOLL_CTL_ADD, EPOLLIN) < 0) {
			close(fd);
			continue;
		}
		peer_conn_opened(0);
	}
}

/* ---- The loop and main ----------------------------------------------------- */

#define MAX_EVENTS 256

int main(int argc, char **argv)
{
	static struct epoll_event events[MAX_EVENTS];
	sigset_t wait_mask;
	int i, n;

	peer_setup("epoll", argc, argv);
	peer_signals_install(&wait_mask);
	ep = epoll_create1(EPOLL_CLOEXEC);
	listener = peer_listen();
	if (ep < 0 || listener < 0 ||
	    conn_watch(listener, EPOLL_CTL_ADD, EPOLLIN) < 0 ||
	    peer_print_port(listener) < 0)
		return 1;
	peer_heap_base();
	while (!peer_stop_requested) {
		if (peer_report_requested) {
			peer_report_requested = 0;
			peer_heap_report(0);
		}
		/* The signals are unblocked only inside the wait. */
		n = epoll_pwait(ep, events, MAX_EVENTS, -1, &wait_mask);
		for (i = 0; i < n; i++) {
			if (events[i].data.fd == listener)
				accept_all();
			else
				conn_ready(events[i].data.fd);
		}
	}
	close(listener);
	close(ep);
	return peer_finish();
}
