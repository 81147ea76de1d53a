/*
 * bench/echo-pingpong.c - a ping-pong client for the echo server, so that
 * bench/echo-instr.sh can count what one message costs the server.
 *
 *   echo-pingpong --port N [--host ADDR] [--conns C] [--msgs M]
 *                 [--size S] [--timeout MS]
 *
 * It opens C connections (default 100) to ADDR (numeric IPv4, default
 * 127.0.0.1) and, once every one is open, starts them all: each sends a
 * message of S bytes (default 64), waits until the whole echo is back and
 * matches, and only then sends the next, M times (default 100).  Then it closes its write side and waits for the
 * server's end of stream, so that when the program exits 0 the server has
 * seen every connection end; a byte beyond the echo is an error.  The
 * exit status is 0 when every echo matched within --timeout (default
 * 30000 ms) in all, 1 otherwise, 2 on a usage error.
 *
 * Why not samples/echo-client: its writer sends every message without
 * waiting for the echoes, a stream rather than a ping-pong, so how many
 * messages one server read takes in depends on timing.  Why poll(2) and
 * not ptio: the client must behave the same before and after a change to
 * ptio's core, and it runs natively, outside the count.
 *
 * Divided into: options, one connection's steps, the poll loop, and main.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- Options ---------------------------------------------------------- */

static struct {
	const char *host;
	unsigned port;
	size_t conns;
	size_t msgs;
	size_t size;
	long timeout_ms;
} opt = { "127.0.0.1", 0, 100, 100, 64, 30000 };

static void usage(FILE *to)
{
	fprintf(to, "usage: echo-pingpong --port N [--host ADDR] [--conns C] "
		"[--msgs M] [--size S]\n"
		"                     [--timeout MS]\n");
}

/* A decimal option value in [MIN, MAX], or exit 2 with a message. */
static unsigned long parse_num(const char *name, const char *s,
			       unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v < min ||
	    v > max) {
		fprintf(stderr, "echo-pingpong: bad value for --%s: '%s'\n",
			name, s);
		exit(2);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'H' },
		{ "conns", required_argument, NULL, 'c' },
		{ "msgs", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'p')
			opt.port = (unsigned)parse_num("port", optarg, 1, 65535);
		else if (ch == 'H')
			opt.host = optarg;
		else if (ch == 'c')
			opt.conns = parse_num("conns", optarg, 1, 100000);
		else if (ch == 'm')
			opt.msgs = parse_num("msgs", optarg, 0, 100000000);
		else if (ch == 's')
			opt.size = parse_num("size", optarg, 1, 1u << 24);
		else if (ch == 't')
			opt.timeout_ms = (long)parse_num("timeout", optarg, 1,
							 86400000);
		else if (ch == 'h') {
			usage(stdout);
			exit(0);
		} else {
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc || opt.port == 0) {
		usage(stderr);
		exit(2);
	}
}

/* ---- A connection -------------------------------------------------------- */

enum conn_state {
	CONNECTING,  /* waiting for the connect to complete */
	READY,       /* connected, waiting for the others */
	WRITING,     /* sending message msg */
	READING,     /* reading its echo */
	CLOSING,     /* write side shut, waiting for end of stream */
	DONE
};

struct conn {
	int fd;
	enum conn_state state;
	size_t idx;
	size_t msg;    /* the message being sent or read back */
	size_t off;    /* bytes of it written, or read back */
	uint8_t *wbuf; /* opt.size bytes each */
	uint8_t *rbuf;
};

/* Message MSG on connection IDX: a pattern that differs between messages
 * and connections, so that a misrouted or repeated echo shows. */
static void msg_fill(uint8_t *buf, size_t idx, size_t msg)
{
	size_t i;

	for (i = 0; i < opt.size; i++)
		buf[i] = (uint8_t)(idx * 7 + msg * 13 + i);
}

static int conn_fail(const struct conn *c, const char *what)
{
	fprintf(stderr, "echo-pingpong: connection %zu message %zu: %s%s%s\n",
		c->idx, c->msg, what, errno != 0 ? ": " : "",
		errno != 0 ? strerror(errno) : "");
	return -1;
}

/* Start a non-blocking connect; 0 or -1. */
static int conn_open(struct conn *c, const struct sockaddr_in *sa)
{
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0 || fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0)
		return conn_fail(c, "socket");
	/* The client's own Nagle delay must not enter the measure. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->state = CONNECTING;
	if (connect(c->fd, (const struct sockaddr *)sa, sizeof *sa) == 0)
		c->state = READY;
	else if (errno != EINPROGRESS)
		return conn_fail(c, "connect");
	return 0;
}

/* The connect has completed, well or not; 0 or -1. */
static int conn_connected(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof err;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return conn_fail(c, "getsockopt");
	errno = err;
	if (err != 0)
		return conn_fail(c, "connect");
	c->state = READY;
	return 0;
}

/* Begin message c->msg, or close the write side after the last. */
static int conn_next(struct conn *c)
{
	c->off = 0;
	if (c->msg < opt.msgs) {
		msg_fill(c->wbuf, c->idx, c->msg);
		c->state = WRITING;
		return 0;
	}
	if (shutdown(c->fd, SHUT_WR) < 0)
		return conn_fail(c, "shutdown");
	c->state = CLOSING;
	return 0;
}

static int conn_write(struct conn *c)
{
	/* MSG_NOSIGNAL: a server that goes away fails the run instead of
	 * killing it. */
	ssize_t n = send(c->fd, c->wbuf + c->off, opt.size - c->off,
			 MSG_NOSIGNAL);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0
							 : conn_fail(c, "write");
	c->off += (size_t)n;
	if (c->off == opt.size) {
		c->off = 0;
		c->state = READING;
	}
	return 0;
}

static int conn_read(struct conn *c)
{
	ssize_t n = read(c->fd, c->rbuf + c->off, opt.size - c->off);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0
							 : conn_fail(c, "read");
	errno = 0;
	if (n == 0)
		return conn_fail(c, "end of stream before the echo");
	c->off += (size_t)n;
	if (c->off < opt.size)
		return 0;
	if (memcmp(c->rbuf, c->wbuf, opt.size) != 0)
		return conn_fail(c, "the echo differs");
	c->msg++;
	return conn_next(c);
}

static int conn_read_end(struct conn *c)
{
	ssize_t n = read(c->fd, c->rbuf, 1);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0
							 : conn_fail(c, "read");
	errno = 0;
	if (n > 0)
		return conn_fail(c, "bytes beyond the echo");
	close(c->fd);
	c->state = DONE;
	return 0;
}

/* Do what the readiness in REVENTS allows, going on while the state
 * moves: the next message is written as soon as the previous echo is in,
 * but a read waits for poll to report data.  0, or -1 when the connection
 * failed. */
static int conn_step(struct conn *c, short revents)
{
	const short in = POLLIN | POLLHUP | POLLERR;
	enum conn_state before;
	int r = 0;

	if (c->state == CONNECTING)
		return conn_connected(c);
	do {
		before = c->state;
		if (c->state == WRITING)
			r = conn_write(c);
		else if (c->state == READING && (revents & in))
			r = conn_read(c);
		else if (c->state == CLOSING && (revents & in))
			r = conn_read_end(c);
		revents = 0;
	} while (r == 0 && c->state != before && c->state != DONE);
	return r;
}

/* ---- The poll loop -------------------------------------------------------- */

static struct conn *conns;
static struct pollfd *pfds;
static size_t *pidx;  /* the connection behind each pfds entry */

static long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Fill pfds with every connection still running; the count. */
static size_t poll_fill(void)
{
	size_t i, n = 0;

	for (i = 0; i < opt.conns; i++) {
		const struct conn *c = &conns[i];

		if (c->state == READY || c->state == DONE)
			continue;
		pfds[n].fd = c->fd;
		pfds[n].events = c->state == CONNECTING ||
				 c->state == WRITING ? POLLOUT : POLLIN;
		pfds[n].revents = 0;
		pidx[n++] = i;
	}
	return n;
}

/* Once every connection is READY, start them all. */
static int start_if_all_ready(void)
{
	size_t i;

	for (i = 0; i < opt.conns; i++)
		if (conns[i].state != READY)
			return 0;
	for (i = 0; i < opt.conns; i++)
		if (conn_next(&conns[i]) < 0 || conn_step(&conns[i], 0) < 0)
			return -1;
	return 0;
}

/* Run every connection to its end; 0, or -1 at the first failure. */
static int run(long deadline)
{
	size_t i, n;
	long left;
	int k;

	for (;;) {
		if (start_if_all_ready() < 0)
			return -1;
		n = poll_fill();
		if (n == 0)
			return 0;  /* all done */
		left = deadline - ms_now();
		if (left <= 0) {
			fprintf(stderr, "echo-pingpong: timed out\n");
			return -1;
		}
		k = poll(pfds, n, (int)left);
		if (k < 0 && errno != EINTR) {
			perror("echo-pingpong: poll");
			return -1;
		}
		for (i = 0; i < n && k > 0; i++)
			if (pfds[i].revents != 0 &&
			    conn_step(&conns[pidx[i]], pfds[i].revents) < 0)
				return -1;
	}
}

/* ---- Main ---------------------------------------------------------------- */

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Allocate the connections with their buffers, and start connecting. */
static int open_all(void)
{
	struct sockaddr_in sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)opt.port);
	if (inet_pton(AF_INET, opt.host, &sa.sin_addr) != 1) {
		fprintf(stderr, "echo-pingpong: bad address '%s'\n", opt.host);
		return -1;
	}
	conns = calloc(opt.conns, sizeof *conns + 2 * opt.size);
	pfds = calloc(opt.conns, sizeof *pfds);
	pidx = calloc(opt.conns, sizeof *pidx);
	if (conns == NULL || pfds == NULL || pidx == NULL) {
		perror("echo-pingpong");
		return -1;
	}
	for (i = 0; i < opt.conns; i++) {
		conns[i].idx = i;
		conns[i].wbuf = (uint8_t *)(conns + opt.conns) +
				2 * opt.size * i;
		conns[i].rbuf = conns[i].wbuf + opt.size;
		if (conn_open(&conns[i], &sa) < 0)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long t0;

	parse_args(argc, argv);
	raise_fd_limit();
	t0 = ms_now();
	if (open_all() < 0 || run(t0 + opt.timeout_ms) < 0)
		return 1;
	printf("echo-pingpong: %zu connections x %zu messages x %zu bytes: "
	       "ok in %ld ms\n", opt.conns, opt.msgs, opt.size, ms_now() - t0);
	return 0;
}
