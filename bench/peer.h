/*
 * bench/peer.h - what the peer echo servers of bench/run share, so that
 * each peer-*.c holds only what its library does differently.
 *
 * Every peer behaves like samples/echo-server as far as bench/run can
 * see:
 *
 *   peer-NAME [--port N] [--host ADDR] [--report-at N]
 *
 * prints "port N" as its first line (port 0: the system picks one),
 * echoes every byte on every connection, prints
 *
 *     heap_per_conn B sizeof_conn S conns N idle N mode NAME heap H
 *
 * on SIGUSR1 and once when --report-at N connections are open (B is the
 * heap in use now minus the heap in use before the first accept, divided
 * by the N open connections; the peers do not track which connections
 * wait, so "idle" repeats N), and on SIGTERM stops and prints
 *
 *     stats accepted A refused 0 closed C failed F overflows O
 *
 * exiting 0 when no connection was still open, 3 when some were (they are
 * left to the system to close), 1 on a setup error, and PEER_UNAVAILABLE
 * when the kernel refuses what the peer needs (io_uring).
 *
 * Here too are the helpers of the peers that read into one shared
 * buffer (epoll and libev; libuv's alloc callback hands it out, and
 * io_uring reads into a ring of its own): the buffer, and the overflow
 * list that keeps what a client did not take of an echo, the rare case
 * that needs memory per connection.
 *
 * Divided into: options and setup, statistics and the heap report,
 * signals as flags, the shared buffer and overflows.
 */
#ifndef PTIO_BENCH_PEER_H
#define PTIO_BENCH_PEER_H

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

/* ---- Options and setup --------------------------------------------------- */

/* The exit status that tells bench/run "this peer cannot run here". */
#define PEER_UNAVAILABLE 77

struct peer_options {
	const char *name;   /* the peer's name, for messages and reports */
	const char *host;   /* numeric IPv4 address to bind */
	unsigned port;      /* 0: the system picks */
	size_t report_at;   /* 0: report on SIGUSR1 only */
};

extern struct peer_options peer_opt;

/* Parse the command line into peer_opt (NAME is the peer's name); exits
 * with a message on a bad option.  Also raises the descriptor limit to
 * the hard limit, as thousands of connections need. */
void peer_setup(const char *name, int argc, char **argv);

/* A non-blocking TCP socket bound to peer_opt.host:peer_opt.port and
 * listening, or -1 after a message. */
int peer_listen(void);

/* Print "port N" for the port socket FD is bound to, flushed; 0 or -1. */
int peer_print_port(int fd);

/* ---- Statistics and the heap report ------------------------------------ */

struct peer_stats {
	size_t conns;       /* open now */
	size_t accepted;
	size_t closed;
	size_t failed;      /* ended with an error other than reset or pipe */
	size_t overflows;   /* echoes the peer did not take at once */
};

extern struct peer_stats peer_stats;

/* Remember the heap in use now: call it once set up, before the first
 * accept, after "port N" (stdout's buffer is then allocated). */
void peer_heap_base(void);

/* Print the heap_per_conn line; SIZEOF_CONN is what the peer allocates
 * per connection itself (0 if nothing). */
void peer_heap_report(size_t sizeof_conn);

/* Count a new connection; prints the --report-at report when due. */
void peer_conn_opened(size_t sizeof_conn);

/* Count a connection that ended with ERR (0, or an errno value). */
void peer_conn_closed(int err);

/* Print the stats line; the exit status (0 or 3). */
int peer_finish(void);

/* ---- Signals as flags ---------------------------------------------------- */

/* Set by the handlers of peer_signals_install (peer-uring sets them
 * itself from the signals it reads). */
extern volatile sig_atomic_t peer_stop_requested;
extern volatile sig_atomic_t peer_report_requested;

/* Block SIGTERM, SIGINT and SIGUSR1, the signals the peers act on.
 * *SET receives the three; *WAIT_MASK, unless NULL, the mask to wait
 * with (the one before, without them). */
void peer_signals_block(sigset_t *set, sigset_t *wait_mask);

/* SIGTERM and SIGINT set peer_stop_requested, SIGUSR1
 * peer_report_requested.  The three are blocked on return: the peer
 * unblocks them only while it waits (epoll_pwait with *WAIT_MASK), so
 * none arrives between looking at the flags and waiting. */
void peer_signals_install(sigset_t *wait_mask);

/* ---- The shared buffer and overflows ------------------------------------- */

/* One buffer for every connection: a peer reads into it and writes the
 * bytes back before it reads anything else. */
#define PEER_BUF_SIZE (64 * 1024)
extern uint8_t peer_buf[PEER_BUF_SIZE];

/* The overflow list, NULL when no client holds one (the usual case):
 * internal to peer.c and the two inline functions below, which are
 * inline so that a message costs a peer no call into peer.c, as the code
 * of ptio's echo server, in one file, costs it none. */
struct peer_overflow;
extern struct peer_overflow *peer__overflows;
int peer__overflow_has(int fd);
int peer__overflow_keep(int fd, const uint8_t *buf, size_t len);

/* True when FD has bytes in an overflow, waiting for WRITE readiness. */
static inline int peer_overflow_pending(int fd)
{
	return peer__overflows != NULL && peer__overflow_has(fd);
}

/* Echo once on FD: read into peer_buf and write the bytes back; what the
 * peer does not take goes into an overflow for FD.  Returns the count
 * read (> 0), 0 at end of stream, -1 with errno set (EAGAIN: nothing to
 * read). */
static inline ssize_t peer_echo(int fd)
{
	ssize_t n = read(fd, peer_buf, sizeof peer_buf);
	ssize_t w;

	if (n <= 0)
		return n;
	/* MSG_NOSIGNAL: a client that went away is an EPIPE here, not a
	 * signal that kills the server. */
	w = send(fd, peer_buf, (size_t)n, MSG_NOSIGNAL);
	if (w < 0 && errno != EAGAIN)
		return -1;
	if (w < 0)
		w = 0;
	if (w < n && peer__overflow_keep(fd, peer_buf + w,
					 (size_t)(n - w)) < 0)
		return -1;
	return n;
}

/* Write what FD's overflow holds: 1 once it is empty (and freed), 0 if
 * some is left, -1 with errno set on an error. */
int peer_overflow_drain(int fd);

/* Forget FD's overflow, if any (its connection is closing). */
void peer_overflow_drop(int fd);

#endif /* PTIO_BENCH_PEER_H */
