/*
 * bench/peer.c - the parts every peer echo server of bench/run shares
 * (see peer.h for the behaviour they promise).
 *
 * Divided into: options and setup, statistics and the heap report,
 * signals as flags, the shared buffer and overflows.
 */
#include "peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#ifdef HAVE_MALLINFO2
#include <malloc.h>
#endif
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- Options and setup --------------------------------------------------- */

struct peer_options peer_opt = { "peer", "127.0.0.1", 0, 0 };

static void usage(FILE *to)
{
	fprintf(to, "usage: peer-%s [--port N] [--host ADDR] [--report-at N]\n",
		peer_opt.name);
}

/* A decimal option value in [0, MAX], or exit 1 with a message. */
static unsigned long parse_num(const char *opt, const char *s,
			       unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v > max) {
		fprintf(stderr, "peer-%s: bad value for --%s: '%s'\n",
			peer_opt.name, opt, s);
		exit(1);
	}
	return v;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

void peer_setup(const char *name, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'H' },
		{ "report-at", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	peer_opt.name = name;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'p')
			peer_opt.port = (unsigned)parse_num("port", optarg,
							    65535);
		else if (ch == 'H')
			peer_opt.host = optarg;
		else if (ch == 'r')
			peer_opt.report_at = parse_num("report-at", optarg,
						       SIZE_MAX);
		else if (ch == 'h') {
			usage(stdout);
			exit(0);
		} else {
			usage(stderr);
			exit(1);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(1);
	}
	raise_fd_limit();
}

int peer_listen(void)
{
	struct sockaddr_in sa;
	int one = 1;
	int fd;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)peer_opt.port);
	if (inet_pton(AF_INET, peer_opt.host, &sa.sin_addr) != 1) {
		fprintf(stderr, "peer-%s: bad address '%s'\n", peer_opt.name,
			peer_opt.host);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		fprintf(stderr, "peer-%s: listen on %s:%u: %s\n", peer_opt.name,
			peer_opt.host, peer_opt.port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int peer_print_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;

	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		fprintf(stderr, "peer-%s: getsockname: %s\n", peer_opt.name,
			strerror(errno));
		return -1;
	}
	printf("port %u\n", (unsigned)ntohs(sa.sin_port));
	fflush(stdout);
	return 0;
}

/* ---- Statistics and the heap report ------------------------------------ */

struct peer_stats peer_stats;

static long heap_base = -1;
static int reported;  /* the --report-at report was printed */

/* Heap bytes in use, counted as samples/echo-server counts them: the
 * chunks in the heap (allocator headers and rounding included) plus the
 * blocks malloc took straight from mmap.  -1 without mallinfo2. */
static long heap_in_use(void)
{
#ifdef HAVE_MALLINFO2
	struct mallinfo2 mi = mallinfo2();

	return (long)(mi.uordblks + mi.hblkhd);
#else
	return -1;
#endif
}

void peer_heap_base(void)
{
	heap_base = heap_in_use();
}

void peer_heap_report(size_t sizeof_conn)
{
	long now = heap_in_use();
	long per = -1;
	long n = (long)peer_stats.conns;

	if (now >= 0 && heap_base >= 0 && n > 0)
		per = (now - heap_base + n / 2) / n;
	printf("heap_per_conn %ld sizeof_conn %zu conns %zu idle %zu "
	       "mode %s heap %s\n", per, sizeof_conn, peer_stats.conns,
	       peer_stats.conns, peer_opt.name,
	       now >= 0 ? "mallinfo2" : "none");
	fflush(stdout);
}

void peer_conn_opened(size_t sizeof_conn)
{
	peer_stats.conns++;
	peer_stats.accepted++;
	if (peer_opt.report_at > 0 && !reported &&
	    peer_stats.conns >= peer_opt.report_at) {
		reported = 1;
		peer_heap_report(sizeof_conn);
	}
}

void peer_conn_closed(int err)
{
	peer_stats.conns--;
	peer_stats.closed++;
	/* A client that resets or vanishes is not the server's failure. */
	if (err != 0 && err != ECONNRESET && err != EPIPE)
		peer_stats.failed++;
}

int peer_finish(void)
{
	printf("stats accepted %zu refused 0 closed %zu failed %zu "
	       "overflows %zu\n", peer_stats.accepted, peer_stats.closed,
	       peer_stats.failed, peer_stats.overflows);
	if (peer_stats.conns > 0) {
		printf("stopped with %zu connections open\n",
		       peer_stats.conns);
		return 3;
	}
	return 0;
}

/* ---- Signals as flags ---------------------------------------------------- */

volatile sig_atomic_t peer_stop_requested;
volatile sig_atomic_t peer_report_requested;

static void on_stop(int sig)
{
	(void)sig;
	peer_stop_requested = 1;
}

static void on_report(int sig)
{
	(void)sig;
	peer_report_requested = 1;
}

void peer_signals_block(sigset_t *set, sigset_t *wait_mask)
{
	sigset_t old;

	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGUSR1);
	sigprocmask(SIG_BLOCK, set, &old);
	if (wait_mask != NULL) {
		*wait_mask = old;
		sigdelset(wait_mask, SIGTERM);
		sigdelset(wait_mask, SIGINT);
		sigdelset(wait_mask, SIGUSR1);
	}
}

void peer_signals_install(sigset_t *wait_mask)
{
	struct sigaction sa;
	sigset_t set;

	peer_signals_block(&set, wait_mask);

	/* No SA_RESTART: a signal ends the wait with EINTR. */
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_report;
	sigaction(SIGUSR1, &sa, NULL);
}

/* ---- The shared buffer and overflows ------------------------------------- */

uint8_t peer_buf[PEER_BUF_SIZE];

/* What a client did not take of an echo.  Rare (a client that does not
 * read its echoes), so kept in one list searched by descriptor rather
 * than behind a pointer in every connection. */
struct peer_overflow {
	struct peer_overflow *next;
	int fd;
	size_t len;   /* bytes in data */
	size_t off;   /* bytes of data already written */
	uint8_t data[];
};

struct peer_overflow *peer__overflows;

static struct peer_overflow **overflow_of(int fd)
{
	struct peer_overflow **p;

	for (p = &peer__overflows; *p != NULL; p = &(*p)->next)
		if ((*p)->fd == fd)
			return p;
	return NULL;
}

int peer__overflow_has(int fd)
{
	return overflow_of(fd) != NULL;
}

void peer_overflow_drop(int fd)
{
	struct peer_overflow **p =
		peer__overflows != NULL ? overflow_of(fd) : NULL;

	if (p != NULL) {
		struct peer_overflow *o = *p;

		*p = o->next;
		free(o);
	}
}

/* Keep BUF[0..LEN) for FD; 0 or -1 (ENOMEM). */
int peer__overflow_keep(int fd, const uint8_t *buf, size_t len)
{
	struct peer_overflow *o = malloc(sizeof *o + len);

	if (o == NULL)
		return -1;
	memcpy(o->data, buf, len);
	o->fd = fd;
	o->len = len;
	o->off = 0;
	o->next = peer__overflows;
	peer__overflows = o;
	peer_stats.overflows++;
	return 0;
}

int peer_overflow_drain(int fd)
{
	struct peer_overflow *o = *overflow_of(fd);
	ssize_t w = send(fd, o->data + o->off, o->len - o->off,
			 MSG_NOSIGNAL);

	if (w < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	o->off += (size_t)w;
	if (o->off < o->len)
		return 0;
	peer_overflow_drop(fd);
	return 1;
}
