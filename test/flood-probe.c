/*
 * test/flood-probe.c - how long an echo server keeps a new connection
 * waiting while another connection floods it.
 *
 *   flood-probe [-n PROBES] [-l LIMIT_MS] [-g GAP_MS] [-w WARMUP_MS]
 *               [-t TIMEOUT_MS] [-c CHUNK] [-s STALLERS] PORT
 *
 * One connection to 127.0.0.1:PORT, the flood, writes CHUNK bytes
 * (default 1 MiB) at a time as fast as the server takes them and reads
 * the echo back as fast as it comes, so that the server always has bytes
 * to read on it and room to write them back: a server whose reads on it
 * never block.  After WARMUP_MS (default 300) of that, PROBES (20) probes
 * follow one another GAP_MS (20) apart, the flood going on throughout.
 * Each probe connects anew, sends a short message and reads its echo; its
 * latency runs from connect() to the echo's last byte.  A probe with no
 * echo after TIMEOUT_MS (1000) is counted as late and given up.
 *
 * With -s, STALLERS more connections (default 0) open before the flood,
 * each with a small receive buffer, and send whatever the server takes
 * throughout, never reading a byte: peers that hold on to whatever a
 * server keeps for an echo it cannot send.  The server may drop them
 * (that is not an error here); the probes are timed all the same.
 *
 * It prints each probe's latency, how much the flood moved, and a summary
 * line.  The exit status is 0 when every probe took at most LIMIT_MS (50),
 * 1 when one took longer, 2 on a usage or setup error, a probe refused,
 * or a flood that echoed nothing or broke (the latencies would then say
 * nothing about a loaded server).
 *
 * Plain POSIX sockets and poll() in one thread, no ptio: the flood is
 * pumped while a probe waits for its echo, so every probe is timed under
 * the flood.  The file is divided into: options, time, the flood, one
 * probe, and main.
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
#include <time.h>
#include <unistd.h>

/* ---- Options ------------------------------------------------------------- */

static struct {
	unsigned probes;
	double limit_ms;
	double gap_ms;
	double warmup_ms;
	double timeout_ms;
	size_t chunk;
	unsigned stallers;
	unsigned port;
} opt = { 20, 50, 20, 300, 1000, 1024 * 1024, 0, 0 };

static void usage(void)
{
	fprintf(stderr, "usage: flood-probe [-n PROBES] [-l LIMIT_MS] "
		"[-g GAP_MS] [-w WARMUP_MS]\n"
		"                   [-t TIMEOUT_MS] [-c CHUNK] [-s STALLERS] "
		"PORT\n");
	exit(2);
}

/* A whole number in [MIN, MAX] from S, or exit through usage. */
static unsigned long parse_num(const char *s, unsigned long min,
			       unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		usage();
	return v;
}

static void parse_options(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "n:l:g:w:t:c:s:")) != -1) {
		switch (c) {
		case 'n': opt.probes = (unsigned)parse_num(optarg, 1, 10000);
			break;
		case 'l': opt.limit_ms = (double)parse_num(optarg, 1, 60000);
			break;
		case 'g': opt.gap_ms = (double)parse_num(optarg, 0, 60000);
			break;
		case 'w': opt.warmup_ms = (double)parse_num(optarg, 0, 60000);
			break;
		case 't': opt.timeout_ms = (double)parse_num(optarg, 1, 60000);
			break;
		case 'c': opt.chunk = parse_num(optarg, 1, 64 << 20);
			break;
		case 's': opt.stallers = (unsigned)parse_num(optarg, 0, 1000);
			break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	opt.port = (unsigned)parse_num(argv[optind], 1, 65535);
}

/* ---- Time ---------------------------------------------------------------- */

/* Milliseconds on the monotonic clock. */
static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Whole milliseconds from now to DEADLINE, rounded up, for poll(). */
static int ms_until(double deadline)
{
	double left = deadline - now_ms();

	return left <= 0 ? 0 : (int)left + 1;
}

/* ---- The flood ------------------------------------------------------------ */

static struct {
	int fd;              /* -1 once it broke */
	unsigned char *out;  /* the chunk written again and again */
	size_t off;          /* bytes of the current chunk written */
	unsigned char *in;   /* where the echo is read to and dropped */
	unsigned long long sent;
	unsigned long long echoed;
	const char *broke;   /* what broke it, or NULL */
} flood;

/* A non-blocking TCP socket connecting to 127.0.0.1:PORT, with a receive
 * buffer of RCVBUF bytes (0: the system's); the connection may still be
 * in progress.  -1 on error, with errno set. */
static int connect_start(int rcvbuf)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		goto fail;
	if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				     sizeof rcvbuf) < 0)
		goto fail;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)opt.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 ||
	    errno == EINPROGRESS)
		return fd;
fail:
	close(fd);
	return -1;
}

/* True for the errors that only mean "not now". */
static int not_now(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

static void flood_break(const char *what)
{
	if (flood.fd >= 0) {
		close(flood.fd);
		flood.fd = -1;
		flood.broke = what;
	}
}

/* Move what the flood can without waiting: read every byte of echo there
 * is, then write as much of the chunk as the socket takes. */
static void flood_move(short revents)
{
	ssize_t n;

	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		while ((n = read(flood.fd, flood.in, opt.chunk)) > 0)
			flood.echoed += (unsigned long long)n;
		if (n == 0) {
			flood_break("the server closed the flood");
			return;
		}
		if (!not_now(errno)) {
			flood_break(strerror(errno));
			return;
		}
	}
	if (revents & POLLOUT) {
		n = write(flood.fd, flood.out + flood.off, opt.chunk - flood.off);
		if (n > 0) {
			flood.sent += (unsigned long long)n;
			flood.off = (flood.off + (size_t)n) % opt.chunk;
		} else if (n < 0 && !not_now(errno)) {
			flood_break(strerror(errno));
		}
	}
}

/* ---- The stallers ---------------------------------------------------------- */

static struct {
	int *fd;                  /* opt.stallers of them, -1 once closed */
	unsigned open;            /* how many are still open */
	unsigned long long sent;
} stall;

static void stallers_start(void)
{
	unsigned i;

	stall.fd = calloc(opt.stallers + 1, sizeof *stall.fd);
	if (stall.fd == NULL) {
		fprintf(stderr, "flood-probe: out of memory\n");
		exit(2);
	}
	for (i = 0; i < opt.stallers; i++) {
		stall.fd[i] = connect_start(4096);
		if (stall.fd[i] < 0) {
			perror("flood-probe: staller connect");
			exit(2);
		}
	}
	stall.open = opt.stallers;
}

/* Staller I may write (or has hung up): send what the socket takes,
 * from the flood's chunk; close it once the server has let it go. */
static void staller_move(unsigned i, short revents)
{
	ssize_t n = -1;

	if (revents & POLLOUT) {
		n = write(stall.fd[i], flood.out,
			  opt.chunk < 65536 ? opt.chunk : 65536);
		if (n > 0)
			stall.sent += (unsigned long long)n;
	}
	if ((n < 0 && !not_now(errno)) || (revents & (POLLHUP | POLLERR))) {
		close(stall.fd[i]);
		stall.fd[i] = -1;
		stall.open--;
	}
}

/* Keep the flood going (and the stallers sending) until FD (ignored when
 * negative) has one of EVENTS or DEADLINE passes.  Returns FD's revents,
 * 0 at the deadline. */
static short pump(int fd, short events, double deadline)
{
	static struct pollfd *p;
	unsigned i;

	if (p == NULL && (p = calloc(opt.stallers + 2, sizeof *p)) == NULL) {
		fprintf(stderr, "flood-probe: out of memory\n");
		exit(2);
	}
	for (;;) {
		p[0].fd = flood.fd;
		p[0].events = POLLIN | POLLOUT;
		p[0].revents = 0;
		p[1].fd = fd;
		p[1].events = events;
		p[1].revents = 0;
		for (i = 0; i < opt.stallers; i++) {
			p[2 + i].fd = stall.fd[i]; /* -1: ignored */
			p[2 + i].events = POLLOUT;
			p[2 + i].revents = 0;
		}
		if (poll(p, opt.stallers + 2, ms_until(deadline)) < 0 &&
		    errno != EINTR) {
			perror("flood-probe: poll");
			exit(2);
		}
		if (p[0].revents != 0)
			flood_move(p[0].revents);
		for (i = 0; i < opt.stallers; i++)
			if (p[2 + i].revents != 0)
				staller_move(i, p[2 + i].revents);
		if (p[1].revents != 0)
			return p[1].revents;
		if (now_ms() >= deadline)
			return 0;
	}
}

static void flood_start(void)
{
	flood.out = malloc(opt.chunk);
	flood.in = malloc(opt.chunk);
	if (flood.out == NULL || flood.in == NULL) {
		fprintf(stderr, "flood-probe: out of memory\n");
		exit(2);
	}
	memset(flood.out, 'f', opt.chunk);
	flood.fd = connect_start(0);
	if (flood.fd < 0) {
		perror("flood-probe: flood connect");
		exit(2);
	}
}

/* ---- One probe ------------------------------------------------------------ */

/* Connect, send a short message, read its echo, under the flood.  Returns
 * the latency in ms, or a negative number when there was no echo within
 * the timeout.  A probe refused or answered wrongly ends the program. */
static double probe(unsigned i)
{
	char msg[32], echo[32];
	size_t len, got = 0;
	double t0 = now_ms(), deadline = t0 + opt.timeout_ms, ms;
	int fd, err = 0;
	socklen_t elen = sizeof err;
	ssize_t n;

	len = (size_t)snprintf(msg, sizeof msg, "probe %u\n", i);
	fd = connect_start(0);
	if (fd < 0) {
		perror("flood-probe: probe socket");
		exit(2);
	}
	if (pump(fd, POLLOUT, deadline) == 0)
		goto late;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err) {
		fprintf(stderr, "flood-probe: probe %u: connect: %s\n", i,
			strerror(err ? err : errno));
		exit(2);
	}
	/* A few bytes on a new socket: the send buffer takes them all. */
	if (write(fd, msg, len) != (ssize_t)len) {
		perror("flood-probe: probe write");
		exit(2);
	}
	while (got < len) {
		if (pump(fd, POLLIN, deadline) == 0)
			goto late;
		n = read(fd, echo + got, len - got);
		if (n > 0) {
			got += (size_t)n;
		} else if (n == 0 || !not_now(errno)) {
			fprintf(stderr, "flood-probe: probe %u: %s\n", i,
				n == 0 ? "closed before the echo"
				       : strerror(errno));
			exit(2);
		}
	}
	ms = now_ms() - t0;
	close(fd);
	if (memcmp(msg, echo, len) != 0) {
		fprintf(stderr, "flood-probe: probe %u: wrong echo\n", i);
		exit(2);
	}
	return ms;
late:
	close(fd);
	return -1;
}

/* ---- Main ------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	double *lat, t0, secs;
	unsigned i, late = 0;

	parse_options(argc, argv);
	/* The flood's writes must fail, not kill, if the server goes. */
	signal(SIGPIPE, SIG_IGN);
	lat = calloc(opt.probes, sizeof *lat);
	if (lat == NULL)
		return 2;
	stallers_start();
	flood_start();
	t0 = now_ms();
	pump(-1, 0, t0 + opt.warmup_ms);
	for (i = 0; i < opt.probes; i++) {
		lat[i] = probe(i + 1);
		if (lat[i] < 0) {
			printf("probe %u: no echo after %.0f ms\n", i + 1,
			       opt.timeout_ms);
			lat[i] = opt.timeout_ms;
			late++;
		} else {
			printf("probe %u: %.3f ms\n", i + 1, lat[i]);
			late += lat[i] > opt.limit_ms;
		}
		fflush(stdout);
		pump(-1, 0, now_ms() + opt.gap_ms);
	}
	secs = (now_ms() - t0) / 1e3;
	printf("flood: sent %.1f MiB, echoed %.1f MiB in %.2f s\n",
	       (double)flood.sent / 1048576, (double)flood.echoed / 1048576,
	       secs);
	if (opt.stallers > 0)
		printf("stallers: %u, sent %.1f MiB, %u still open\n",
		       opt.stallers, (double)stall.sent / 1048576, stall.open);
	qsort(lat, opt.probes, sizeof *lat, cmp_double);
	printf("probes %u median %.3f ms max %.3f ms over %.0f ms: %u\n",
	       opt.probes, lat[opt.probes / 2], lat[opt.probes - 1],
	       opt.limit_ms, late);
	if (flood.broke != NULL || flood.echoed == 0) {
		fprintf(stderr, "flood-probe: the flood %s\n",
			flood.broke != NULL ? flood.broke : "echoed nothing");
		return 2;
	}
	return late > 0;
}
