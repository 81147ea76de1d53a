/*
 * bench/peer-libev.c - an echo server on libev, for bench/run.
 *
 *   peer-libev [--port N] [--host ADDR] [--report-at N]
 *
 * (the options, the reports and the exit status are peer.h's).  Written
 * the way libev's manual shows it: the default loop (epoll on Linux), an
 * ev_io watcher on the listener, one heap-allocated ev_io watcher per
 * connection whose callback does non-blocking reads and writes, and
 * ev_signal watchers for SIGTERM (ev_break) and SIGUSR1 (the heap
 * report).  A connection owns its watcher and nothing else: it reads into
 * the one shared buffer (peer_buf) and writes the bytes back at once, as
 * ptio's scratch mode does, so the heap per idle connection is libev's
 * own cost (the watcher, libev's per-descriptor table and its epoll
 * bookkeeping).  A client that does not read its echoes has the rest
 * kept in an overflow (peer.c) while its watcher waits for EV_WRITE.
 *
 * Divided into: connections, accepting, signals, and main.
 */
#define _GNU_SOURCE 1 /* accept4 */
#include "peer.h"

#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- Connections --------------------------------------------------------- */

struct conn {
	ev_io io;  /* its fd is the connection's; EV_READ, or EV_WRITE
		      while an overflow waits */
};

static void conn_close(struct ev_loop *loop, struct conn *c, int err)
{
	ev_io_stop(loop, &c->io);
	peer_overflow_drop(c->io.fd);
	close(c->io.fd);
	free(c);
	peer_conn_closed(err);
}

/* Watch C for EVENTS instead of what it waited for until now. */
static void conn_switch(struct ev_loop *loop, struct conn *c, int events)
{
	ev_io_stop(loop, &c->io);
	ev_io_set(&c->io, c->io.fd, events);
	ev_io_start(loop, &c->io);
}

static void conn_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = (struct conn *)w;
	ssize_t n;

	if (revents & EV_WRITE) {
		int r = peer_overflow_drain(w->fd);

		if (r < 0)
			conn_close(loop, c, errno);
		else if (r > 0)
			conn_switch(loop, c, EV_READ);
		return;
	}
	n = peer_echo(w->fd);
	if (n == 0)
		conn_close(loop, c, 0);
	else if (n < 0 && errno != EAGAIN && errno != EINTR)
		conn_close(loop, c, errno);
	else if (n > 0 && peer_overflow_pending(w->fd))
		conn_switch(loop, c, EV_WRITE);
}

/* ---- Accepting ------------------------------------------------------------ */

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	for (;;) {
		int fd = accept4(w->fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				fprintf(stderr, "peer-libev: accept: %s\n",
					strerror(errno));
			return;
		}
		c = malloc(sizeof *c);
		if (c == NULL) {
			close(fd);
			continue;
		}
		ev_io_init(&c->io, conn_cb, fd, EV_READ);
		ev_io_start(loop, &c->io);
		peer_conn_opened(sizeof(struct conn));
	}
}

/* ---- Signals ---------------------------------------------------------------- */

static void stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void report_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	peer_heap_report(sizeof(struct conn));
}

/* ---- Main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	struct ev_loop *loop;
	ev_io accept_watcher;
	ev_signal term_watcher, int_watcher, usr1_watcher;
	int listener;

	peer_setup("libev", argc, argv);
	loop = EV_DEFAULT;
	if (loop == NULL) {
		fprintf(stderr, "peer-libev: no default loop\n");
		return 1;
	}
	listener = peer_listen();
	if (listener < 0 || peer_print_port(listener) < 0)
		return 1;
	ev_io_init(&accept_watcher, accept_cb, listener, EV_READ);
	ev_io_start(loop, &accept_watcher);
	ev_signal_init(&term_watcher, stop_cb, SIGTERM);
	ev_signal_start(loop, &term_watcher);
	ev_signal_init(&int_watcher, stop_cb, SIGINT);
	ev_signal_start(loop, &int_watcher);
	ev_signal_init(&usr1_watcher, report_cb, SIGUSR1);
	ev_signal_start(loop, &usr1_watcher);
	peer_heap_base();
	ev_run(loop, 0);
	/* Connections still open are left to the system: the process
	 * ends here. */
	close(listener);
	return peer_finish();
}
