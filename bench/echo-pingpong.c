/*
 * bench/echo-pingpong.c - a ping-pong client for the echo server, so that
 * bench/echo-instr.sh and bench/run can measure what one message costs
 * the server.
 *
 *   echo-pingpong --port N [--host ADDR] [--conns C] [--msgs M[,M2...]]
 *                 [--size S] [--timeout MS] [--idle I] [--duration MS]
 *                 [--wait-go] [--stall MS]
 *
 * It opens C connections (default 100) to ADDR (numeric IPv4, default
 * 127.0.0.1) and, once every one is open, starts them all: each sends a
 * message of S bytes (default 64), waits until the whole echo is back and
 * matches, and only then sends the next, M times (default 100).  Then it
 * closes its write side and waits for the server's end of stream, so that
 * when the program exits 0 the server has seen every connection end; a
 * byte beyond the echo is an error.  The exit status is 0 when every echo
 * matched within --timeout (default 30000 ms) in all, 1 otherwise, 2 on a
 * usage error.
 *
 * For bench/run, more:
 *
 *  --msgs M1,M2   phases: every connection does M1 messages, then, once
 *                 all have, M2 more, and so on.
 *  --idle I       opens I more connections that stay silent while the C
 *                 active ones run (the server holds them waiting), and
 *                 close with them at the end.
 *  --duration MS  one phase in which the active connections go on until
 *                 MS ms have passed rather than for M messages (each ends
 *                 the message it has in flight).
 *  --wait-go      once every connection is open, print "connected N" and
 *                 wait for SIGUSR1 before the first phase; after phase K,
 *                 print "phase K done" and wait for SIGUSR1 before the
 *                 next phase or the closing.  Meanwhile the connections
 *                 stay open and silent, so that the caller can look at the
 *                 server (its heap report, a profile dump) or start and
 *                 stop counting around exactly the messages.
 *  --stall MS     fail as soon as MS ms pass with nothing happening on
 *                 any connection (a stuck server), rather than at the
 *                 timeout.
 *
 * On success it prints two lines: a summary for people, and
 *
 *     pingpong messages M us T
 *
 * the messages echoed by the active connections and the microseconds the
 * phases took (the pauses of --wait-go left out), for messages per
 * second.
 *
 * Why not samples/echo-client: its writer sends every message without
 * waiting for the echoes, a stream rather than a ping-pong, so how many
 * messages one server read takes in depends on timing.  Why poll(2) and
 * not ptio: the client must behave the same before and after a change to
 * ptio's core, and it runs natively, outside the count.  No more than
 * MAX_CONNECTING connects are in progress at once, so that the SYNs of
 * ten thousand connections do not all arrive together (a SYN that finds
 * the server's queues full is dropped, and retried only a second later).
 *
 * Divided into: options, time, one connection's steps, the poll loop
 * (connecting, the phases of a run, the loop itself), and main.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- Options ---------------------------------------------------------- */

#define MAX_PHASES 8

static struct {
	const char *host;
	unsigned port;
	size_t conns;
	size_t msgs[MAX_PHASES];  /* messages per connection in each phase */
	size_t nphases;
	size_t size;
	long timeout_ms;
	size_t idle;         /* silent connections beside the active ones */
	long duration_ms;    /* 0: run for msgs messages */
	int wait_go;         /* pause before each phase and the closing */
	long stall_ms;       /* 0: wait until the timeout */
} opt = { "127.0.0.1", 0, 100, { 100 }, 1, 64, 30000, 0, 0, 0, 0 };

static void usage(FILE *to)
{
	fprintf(to, "usage: echo-pingpong --port N [--host ADDR] [--conns C] "
		"[--msgs M[,M2...]] [--size S]\n"
		"                     [--timeout MS] [--idle I] "
		"[--duration MS] [--wait-go]\n"
		"                     [--stall MS]\n");
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

/* --msgs: a comma-separated list of phases' message counts. */
static void parse_msgs(char *list)
{
	char *tok, *save = NULL;

	opt.nphases = 0;
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (opt.nphases == MAX_PHASES) {
			fprintf(stderr, "echo-pingpong: more than %d phases\n",
				MAX_PHASES);
			exit(2);
		}
		opt.msgs[opt.nphases++] = parse_num("msgs", tok, 0,
						    100000000);
	}
	if (opt.nphases == 0)
		parse_num("msgs", "", 0, 0);  /* exits */
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
		{ "idle", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' },
		{ "wait-go", no_argument, NULL, 'g' },
		{ "stall", required_argument, NULL, 'S' },
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
			parse_msgs(optarg);
		else if (ch == 's')
			opt.size = parse_num("size", optarg, 1, 1u << 24);
		else if (ch == 't')
			opt.timeout_ms = (long)parse_num("timeout", optarg, 1,
							 86400000);
		else if (ch == 'i')
			opt.idle = parse_num("idle", optarg, 0, 100000);
		else if (ch == 'd')
			opt.duration_ms = (long)parse_num("duration", optarg,
							  1, 86400000);
		else if (ch == 'g')
			opt.wait_go = 1;
		else if (ch == 'S')
			opt.stall_ms = (long)parse_num("stall", optarg, 1,
						       86400000);
		else if (ch == 'h') {
			usage(stdout);
			exit(0);
		} else {
			usage(stderr);
			exit(2);
		}
	}
	if (opt.duration_ms > 0)
		opt.nphases = 1;
	if (optind != argc || opt.port == 0) {
		usage(stderr);
		exit(2);
	}
}

/* ---- Time ---------------------------------------------------------------- */

static long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long us_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- A connection -------------------------------------------------------- */

enum conn_state {
	NEW,         /* no socket yet */
	CONNECTING,  /* waiting for the connect to complete */
	READY,       /* connected and silent: waiting for the others to
			connect, for a phase to start, or (an idle one) for
			the end */
	WRITING,     /* sending message msg */
	READING,     /* reading its echo */
	CLOSING,     /* write side shut, waiting for end of stream */
	DONE
};

struct conn {
	int fd;
	enum conn_state state;
	int idle;      /* sends nothing; closes with the others at the end */
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
	/* The client's own Nagle delay must not enter the measure (an idle
	 * connection sends nothing). */
	if (!c->idle)
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

static long t_end;  /* us_now() when the last echo of a phase came */

/* The phase running: every active connection does messages up to
 * phase_target (in all phases so far), or, with --duration, until
 * stop_at (ms_now() time). */
static size_t phase_target;
static long stop_at;

/* True while connection C has another message to send in this phase. */
static int conn_has_next(const struct conn *c)
{
	if (c->idle)
		return 0;
	if (opt.duration_ms > 0)
		return ms_now() < stop_at;
	return c->msg < phase_target;
}

/* Begin message c->msg, or rest once the phase's messages are done. */
static int conn_next(struct conn *c)
{
	c->off = 0;
	if (conn_has_next(c)) {
		msg_fill(c->wbuf, c->idx, c->msg);
		c->state = WRITING;
	} else {
		if (!c->idle)
			t_end = us_now();  /* the last one sets it last */
		c->state = READY;
	}
	return 0;
}

/* Close the write side and wait for the server's end of stream. */
static int conn_close(struct conn *c)
{
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

/* At most this many connects in progress at once (see the top). */
#define MAX_CONNECTING 512

static struct conn *conns;
static struct pollfd *pfds;
static size_t *pidx;  /* the connection behind each pfds entry */
static size_t nconns; /* opt.conns active ones first, then opt.idle idle */

/* What the run is doing.  The loop looks at the connections
 * [scan_lo, scan_hi) only: all of them while connecting and closing, the
 * active ones in between, so that ten thousand idle connections cost the
 * ping-pong nothing. */
static enum { PH_CONNECT, PH_ACTIVE, PH_CLOSE } phase;
static size_t scan_lo, scan_hi;
static size_t opened, connecting;
static struct sockaddr_in server_sa;

/* Start connects until MAX_CONNECTING are in progress; 0 or -1. */
static int open_more(void)
{
	while (opened < nconns && connecting < MAX_CONNECTING) {
		struct conn *c = &conns[opened++];

		if (conn_open(c, &server_sa) < 0)
			return -1;
		if (c->state == CONNECTING)
			connecting++;
	}
	return 0;
}

/* Fill pfds with every connection in the scan range still running; the
 * count. */
static size_t poll_fill(void)
{
	size_t i, n = 0;

	for (i = scan_lo; i < scan_hi; i++) {
		const struct conn *c = &conns[i];

		if (c->state == NEW || c->state == READY || c->state == DONE)
			continue;
		pfds[n].fd = c->fd;
		pfds[n].events = c->state == CONNECTING ||
				 c->state == WRITING ? POLLOUT : POLLIN;
		pfds[n].revents = 0;
		pidx[n++] = i;
	}
	return n;
}

/* With --wait-go, print WHAT (with its number N) and wait until
 * DEADLINE for SIGUSR1, blocked since main began.  0 or -1. */
static int pause_for_go(const char *what, size_t n, long deadline)
{
	sigset_t set;
	struct timespec ts;
	long left;

	if (!opt.wait_go)
		return 0;
	printf("%s %zu%s\n", what, n, what[0] == 'p' ? " done" : "");
	fflush(stdout);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		left = deadline - ms_now();
		if (left <= 0)
			break;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = left % 1000 * 1000000;
		if (sigtimedwait(&set, NULL, &ts) == SIGUSR1)
			return 0;
		if (errno != EINTR)
			break;
	}
	fprintf(stderr, "echo-pingpong: no SIGUSR1 after \"%s %zu\"\n", what,
		n);
	return -1;
}

static size_t cur_phase;
static long t_phase;      /* us_now() when the phase started */
static long busy_us;      /* the phases' time so far */
static size_t messages;   /* echoed on the active connections */

/* Start phase K on the active connections. */
static int phase_start(size_t k)
{
	size_t i;

	phase = PH_ACTIVE;
	cur_phase = k;
	phase_target += opt.msgs[k];
	stop_at = ms_now() + opt.duration_ms;
	scan_lo = 0;
	scan_hi = opt.conns;
	t_phase = t_end = us_now();
	for (i = 0; i < opt.conns; i++)
		if (conn_next(&conns[i]) < 0 || conn_step(&conns[i], 0) < 0)
			return -1;
	return 0;
}

/* Close every connection, the idle ones included. */
static int close_all(void)
{
	size_t i;

	phase = PH_CLOSE;
	scan_lo = 0;
	scan_hi = nconns;
	for (i = 0; i < nconns; i++)
		if (conn_close(&conns[i]) < 0)
			return -1;
	return 0;
}

/* True when every connection in [LO, HI) is in state S. */
static int all_in(size_t lo, size_t hi, enum conn_state s)
{
	size_t i;

	for (i = lo; i < hi; i++)
		if (conns[i].state != s)
			return 0;
	return 1;
}

/* Move the run along when a phase is over: once every connection is
 * open, start the first phase; once every active connection has done
 * its messages, start the next one or close them all.  0 or -1. */
static int next_phase(long deadline)
{
	if (phase == PH_CONNECT && opened == nconns &&
	    all_in(0, nconns, READY)) {
		if (pause_for_go("connected", nconns, deadline) < 0)
			return -1;
		return phase_start(0);
	}
	if (phase == PH_ACTIVE && all_in(0, opt.conns, READY)) {
		busy_us += t_end - t_phase;
		if (pause_for_go("phase", cur_phase + 1, deadline) < 0)
			return -1;
		if (cur_phase + 1 < opt.nphases)
			return phase_start(cur_phase + 1);
		return close_all();
	}
	return 0;
}

/* Say where the connections were when the time ran out (WHY); -1. */
static int timed_out(const char *why)
{
	static const char *const names[] = {
		"new", "connecting", "ready", "writing", "reading", "closing",
		"done"
	};
	size_t count[DONE + 1] = { 0 };
	size_t i;

	for (i = 0; i < nconns; i++)
		count[conns[i].state]++;
	fprintf(stderr, "echo-pingpong: %s:", why);
	for (i = 0; i <= DONE; i++)
		if (count[i] > 0)
			fprintf(stderr, " %zu %s", count[i], names[i]);
	fprintf(stderr, "\n");
	return -1;
}

/* Run every connection to its end; 0, or -1 at the first failure. */
static int run(long deadline)
{
	size_t i, n;
	long left;
	int k;

	phase = PH_CONNECT;
	scan_lo = 0;
	scan_hi = nconns;
	for (;;) {
		if (open_more() < 0 || next_phase(deadline) < 0)
			return -1;
		n = poll_fill();
		if (n == 0 && phase == PH_CLOSE)
			return 0;  /* all done */
		if (n == 0)
			continue;  /* a phase ended: start the next */
		left = deadline - ms_now();
		if (left <= 0)
			return timed_out("timed out");
		if (opt.stall_ms > 0 && left > opt.stall_ms)
			left = opt.stall_ms;
		k = poll(pfds, n, (int)left);
		if (k < 0 && errno != EINTR) {
			perror("echo-pingpong: poll");
			return -1;
		}
		if (k == 0 && left == opt.stall_ms)
			return timed_out("stalled");
		for (i = 0; i < n && k > 0; i++) {
			struct conn *c = &conns[pidx[i]];
			int was_connecting = c->state == CONNECTING;

			if (pfds[i].revents == 0)
				continue;
			if (conn_step(c, pfds[i].revents) < 0)
				return -1;
			if (was_connecting)
				connecting--;
		}
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

/* Allocate the connections with their buffers; run() connects them. */
static int open_all(void)
{
	struct sockaddr_in *sa = &server_sa;
	size_t i;

	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)opt.port);
	if (inet_pton(AF_INET, opt.host, &sa->sin_addr) != 1) {
		fprintf(stderr, "echo-pingpong: bad address '%s'\n", opt.host);
		return -1;
	}
	nconns = opt.conns + opt.idle;
	conns = calloc(nconns, sizeof *conns + 2 * opt.size);
	pfds = calloc(nconns, sizeof *pfds);
	pidx = calloc(nconns, sizeof *pidx);
	if (conns == NULL || pfds == NULL || pidx == NULL) {
		perror("echo-pingpong");
		return -1;
	}
	for (i = 0; i < nconns; i++) {
		conns[i].fd = -1;
		conns[i].idx = i;
		conns[i].idle = i >= opt.conns;
		conns[i].wbuf = (uint8_t *)(conns + nconns) +
				2 * opt.size * i;
		conns[i].rbuf = conns[i].wbuf + opt.size;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long t0;
	sigset_t usr1;
	size_t i;

	parse_args(argc, argv);
	/* Blocked from the start: a SIGUSR1 that comes early waits for
	 * sigtimedwait instead of killing the process. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	raise_fd_limit();
	t0 = ms_now();
	if (open_all() < 0 || run(t0 + opt.timeout_ms) < 0)
		return 1;
	for (i = 0; i < opt.conns; i++)
		messages += conns[i].msg;
	printf("echo-pingpong: %zu connections", opt.conns);
	if (opt.idle > 0)
		printf(" (+%zu idle)", opt.idle);
	if (opt.duration_ms > 0)
		printf(" x %ld ms", opt.duration_ms);
	else
		printf(" x %zu messages", phase_target);
	printf(" x %zu bytes: ok in %ld ms\n", opt.size, ms_now() - t0);
	printf("pingpong messages %zu us %ld\n", messages, busy_us);
	return 0;
}
