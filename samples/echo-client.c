/*
 * samples/echo-client.c - drives an echo server and verifies every byte.
 *
 *   echo-client --port N [--host ADDR] [--conns C] [--msgs M] [--size S]
 *               [--seed X] [--timeout MS] [--hold-idle MS]
 *               [--read-delay MS]
 *
 * It opens C connections at once and sends M messages of S bytes on each.
 * Message contents are pseudo-random, derived from (seed, connection,
 * message), so the reader can regenerate what it expects without keeping a
 * copy.  Each connection runs two tasks on one stream, the seed's "read
 * and write at the same time": a reader that connects, then reads and
 * checks every echoed message, and a writer that sends.  Because the
 * writer never waits for echoes, messages of any size work: a server that
 * echoes while the client is still sending cannot deadlock it.
 *
 * After its last message each connection closes its write side and
 * expects end of stream: a byte the server sent beyond the echo is an
 * error too.  With --hold-idle MS, every connection that has verified its
 * messages first waits, connected and silent, until all of them have and
 * then MS more milliseconds, so that the server can measure what idle
 * connections cost.  With --read-delay MS each reader starts reading only
 * MS milliseconds after connecting, while its writer is already sending:
 * the echo backs up, and the server's writes fall short, which exercises
 * its back-pressure path.
 *
 * Every task has a deadline (--timeout, default 30000 ms), so nothing can
 * hang.  The exit status is 0 only when every connection connected, every
 * byte came back intact and nothing more did; otherwise 1.
 *
 * Divided into: options, message contents, a connection's two tasks, the
 * hold barrier, and main.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <ptio.h>

/* ---- Options and shared state ---------------------------------------------- */

static struct {
	const char *host;
	unsigned port;
	size_t conns;
	size_t msgs;
	size_t size;
	uint64_t seed;
	uint32_t timeout_ms;
	uint32_t hold_ms;     /* 0: close as soon as verified */
	uint32_t read_delay_ms;
} opt = { "127.0.0.1", 0, 10, 10, 512, 1, 30000, 0, 0 };

struct client_conn;

static struct {
	struct ptio_posix_backend backend;
	struct ptio_loop loop;
	struct client_conn **conns;  /* by index; NULL once freed */
	struct ptio_timed_task hold_task;
	struct ptio_op hold_op;
	bool released;               /* the hold is over */
	size_t nholding;             /* connections waiting for the release */
	size_t nfailed;
	size_t nverified;            /* connections whose echo was all good */
	uint64_t bytes_verified;
	uint64_t msgs_verified;
	double t_start;
	double t_last;               /* when the last message was verified */
} cl;

static double seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- Message contents ----------------------------------------------------- */

/* splitmix64: a small, well-mixed generator; one state per message. */
static uint64_t mix_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15u);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

static uint64_t msg_state(size_t conn, size_t msg)
{
	uint64_t s = opt.seed;

	s ^= mix_next(&s) + (uint64_t)conn;
	s ^= mix_next(&s) + (uint64_t)msg;
	return s;
}

/* Byte I of message MSG on connection CONN, produced eight at a time. */
static void msg_fill(uint8_t *buf, size_t len, size_t conn, size_t msg)
{
	uint64_t s = msg_state(conn, msg), v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (i % 8 == 0)
			v = mix_next(&s);
		buf[i] = (uint8_t)(v >> (8 * (i % 8)));
	}
}

/* The offset of the first byte of BUF that differs from message MSG, or
 * LEN when all match. */
static size_t msg_check(const uint8_t *buf, size_t len, size_t conn,
			size_t msg, uint8_t *want)
{
	uint64_t s = msg_state(conn, msg), v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (i % 8 == 0)
			v = mix_next(&s);
		*want = (uint8_t)(v >> (8 * (i % 8)));
		if (buf[i] != *want)
			break;
	}
	return i;
}

/* ---- A connection ------------------------------------------------------------ */

struct client_conn {
	struct ptio_fd fd;
	struct ptio_timed_task rtask;  /* connects, reads, verifies, closes */
	struct ptio_timed_task wtask;  /* writes the messages */
	struct ptio_op rop;
	struct ptio_op wop;
	size_t idx;
	size_t rmsg;             /* messages verified */
	size_t wmsg;             /* messages written */
	const char *what;        /* what the reader is doing, for errors */
	uint8_t ntasks;          /* of rtask and wtask, those running */
	bool open;               /* fd is an open stream */
	bool holding;            /* waiting for the hold's release */
	uint8_t *rbuf;           /* opt.size bytes each, after the struct */
	uint8_t *wbuf;
};

/* The first few failures are told in full; the rest only counted. */
static void conn_fail(struct client_conn *c, const char *what, ptio_ssize r)
{
	if (++cl.nfailed <= 10)
		fprintf(stderr, "echo-client: connection %zu: %s: %s "
			"(%zu of %zu messages verified)\n", c->idx, what,
			ptio_strerror(r), c->rmsg, opt.msgs);
	else if (cl.nfailed == 11)
		fprintf(stderr, "echo-client: more failures not shown\n");
}

static void conn_free(struct client_conn *c)
{
	if (c->open)
		ptio_fd_close(&c->fd);
	cl.conns[c->idx] = NULL;
	free(c);
}

/* Called when either task of C ends with result R.  A failure ends the
 * other task too; whichever task ends last frees the connection.  The
 * count of live tasks is kept here because once a task's machine has
 * returned its final value the loop no longer looks after it (the memory
 * may be gone), so its flags say nothing. */
static void conn_task_end(struct client_conn *c, struct ptio_task *other,
			  const char *what, ptio_ssize r)
{
	c->ntasks--;
	if (r < 0) {
		conn_fail(c, what, r);
		if (c->ntasks > 0) {
			ptio_task_cancel(other);
			c->ntasks--;
		}
	}
	if (c->ntasks == 0)
		conn_free(c);
}

/* The writer: send every message in full.  The message is generated
 * before the await, which does not run again when the machine resumes. */
static ptio_ssize writer_machine(struct client_conn *c)
{
	struct ptio_task *t = &c->wtask.task;
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	while (c->wmsg < opt.msgs) {
		msg_fill(c->wbuf, opt.size, c->idx, c->wmsg);
		PTIO_AWAIT(&t->pt, r, ptio_write_all(&c->wop,
			   ptio_fd_writer(&c->fd), c->wbuf, opt.size));
		PTIO_TRY(&t->pt, r);
		c->wmsg++;
	}
	PTIO_END(&t->pt);
}

/* Wrapped so that the struct is freed only after the machine is done with
 * its continuation. */
static ptio_ssize writer_task(struct ptio_task *t)
{
	struct client_conn *c = PTIO_CONTAINER_OF(t, struct client_conn,
						    wtask.task);
	ptio_ssize r = writer_machine(c);

	if (r != PTIO_PENDING)
		conn_task_end(c, &c->rtask.task, "write", r);
	return r;
}

/* Check the message in rbuf; 0 or PTIO_EIO after telling what differs. */
static ptio_ssize reader_verify(struct client_conn *c)
{
	uint8_t want = 0;
	size_t at = msg_check(c->rbuf, opt.size, c->idx, c->rmsg, &want);

	if (at == opt.size)
		return 0;
	fprintf(stderr, "echo-client: connection %zu message %zu byte %zu: "
		"got 0x%02x, sent 0x%02x\n", c->idx, c->rmsg, at,
		c->rbuf[at], want);
	c->what = "verify";
	return PTIO_EIO;
}

static void reader_count_message(struct client_conn *c)
{
	c->rmsg++;
	cl.msgs_verified++;
	cl.bytes_verified += opt.size;
	cl.t_last = seconds_now();
}

/* The reader: connect, start the writer, wait --read-delay if asked,
 * verify each echoed message, optionally hold idle, then close the write
 * side and expect end of stream.  Returns 0 or the error (c->what says
 * where). */
static ptio_ssize reader_machine(struct client_conn *c)
{
	struct ptio_task *t = &c->rtask.task;
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	c->what = "connect";
	PTIO_AWAIT(&t->pt, r, ptio_tcp_connect(&c->rop, &c->fd, &cl.loop,
					       opt.host, (uint16_t)opt.port));
	PTIO_TRY(&t->pt, r);
	c->open = true;
	ptio_timed_task_start(&cl.loop, &c->wtask, writer_task);
	c->ntasks++;
	ptio_task_set_timeout(&c->wtask, opt.timeout_ms);
	if (opt.read_delay_ms > 0) {
		c->what = "read delay";
		PTIO_AWAIT(&t->pt, r, ptio_sleep(&c->rop, opt.read_delay_ms));
		PTIO_TRY(&t->pt, r);
	}
	c->what = "read echo";
	while (c->rmsg < opt.msgs) {
		PTIO_AWAIT(&t->pt, r, ptio_read_exact(&c->rop,
			   ptio_fd_reader(&c->fd), c->rbuf, opt.size));
		PTIO_TRY(&t->pt, r);
		r = reader_verify(c);
		PTIO_TRY(&t->pt, r);
		reader_count_message(c);
	}
	cl.nverified++;
	if (opt.hold_ms > 0) {
		/* Idle: no deadline, no registration; the hold task wakes
		 * us.  The deadline starts afresh for the close. */
		ptio_task_clear_deadline(&c->rtask);
		c->holding = true;
		cl.nholding++;
		PTIO_WAIT_UNTIL(&t->pt, cl.released);
		ptio_task_set_timeout(&c->rtask, opt.timeout_ms);
	}
	c->what = "end of stream";
	r = ptio_fd_shutdown_write(&c->fd);
	PTIO_TRY(&t->pt, r);
	PTIO_AWAIT(&t->pt, r, ptio_read(&c->rop, ptio_fd_reader(&c->fd),
					c->rbuf, 1));
	if (r > 0) {
		c->what = "bytes beyond the echo";
		r = PTIO_EIO;
	}
	PTIO_END_WITH(&t->pt, r);
}

static ptio_ssize reader_task(struct ptio_task *t)
{
	struct client_conn *c = PTIO_CONTAINER_OF(t, struct client_conn,
						    rtask.task);
	ptio_ssize r = reader_machine(c);

	if (r != PTIO_PENDING)
		conn_task_end(c, &c->wtask.task, c->what, r);
	return r;
}

/* One allocation holds the struct and both buffers (at least one byte
 * each: the end-of-stream check reads into rbuf). */
static struct client_conn *conn_new(size_t idx)
{
	size_t blen = opt.size > 0 ? opt.size : 1;
	struct client_conn *c = calloc(1, sizeof *c + 2 * blen);

	if (c == NULL)
		return NULL;
	c->idx = idx;
	c->rbuf = (uint8_t *)(c + 1);
	c->wbuf = c->rbuf + blen;
	ptio_op_init(&c->rop, &c->rtask.task);
	ptio_op_init(&c->wop, &c->wtask.task);
	ptio_timed_task_start(&cl.loop, &c->rtask, reader_task);
	c->ntasks = 1;
	ptio_task_set_timeout(&c->rtask, opt.timeout_ms);
	return c;
}

/* ---- The hold barrier ---------------------------------------------------------- */

/* Wait until every connection has either verified its messages or
 * failed, keep them all idle for --hold-idle ms, then wake the holders.
 * The holders wait with no registration, so only this task wakes them. */
static ptio_ssize hold_fn(struct ptio_task *t)
{
	ptio_ssize r = 0;
	size_t i;

	PTIO_BEGIN(&t->pt);
	while (cl.nholding + cl.nfailed < opt.conns) {
		PTIO_AWAIT(&t->pt, r, ptio_sleep(&cl.hold_op, 5));
	}
	PTIO_AWAIT(&t->pt, r, ptio_sleep(&cl.hold_op, opt.hold_ms));
	cl.released = true;
	for (i = 0; i < opt.conns; i++)
		if (cl.conns[i] != NULL && cl.conns[i]->holding)
			ptio_task_wake(&cl.conns[i]->rtask.task);
	PTIO_END_WITH(&t->pt, r);
}

/* ---- Main -------------------------------------------------------------------- */

static void usage(FILE *to)
{
	fprintf(to,
		"usage: echo-client --port N [--host ADDR] [--conns C] "
		"[--msgs M] [--size S]\n"
		"                   [--seed X] [--timeout MS] "
		"[--hold-idle MS] [--read-delay MS]\n");
}

static unsigned long long parse_num(const char *name, const char *s,
				    unsigned long long min,
				    unsigned long long max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v < min ||
	    v > max) {
		fprintf(stderr, "echo-client: bad value for --%s: '%s' "
			"(%llu to %llu)\n", name, s, min, max);
		exit(1);
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
		{ "seed", required_argument, NULL, 'S' },
		{ "timeout", required_argument, NULL, 't' },
		{ "hold-idle", required_argument, NULL, 'i' },
		{ "read-delay", required_argument, NULL, 'd' },
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
			opt.conns = parse_num("conns", optarg, 1, 1000000);
		else if (ch == 'm')
			opt.msgs = parse_num("msgs", optarg, 0, 100000000);
		else if (ch == 's')
			opt.size = parse_num("size", optarg, 1, 1u << 30);
		else if (ch == 'S')
			opt.seed = parse_num("seed", optarg, 0, UINT64_MAX);
		else if (ch == 't')
			opt.timeout_ms = (uint32_t)parse_num("timeout", optarg,
					 1, PTIO_TICK_MAX_DELAY);
		else if (ch == 'i')
			opt.hold_ms = (uint32_t)parse_num("hold-idle", optarg,
					 0, PTIO_TICK_MAX_DELAY);
		else if (ch == 'd')
			opt.read_delay_ms = (uint32_t)parse_num("read-delay",
					 optarg, 0, PTIO_TICK_MAX_DELAY);
		else if (ch == 'h') {
			usage(stdout);
			exit(0);
		} else {
			usage(stderr);
			exit(1);
		}
	}
	if (optind != argc || opt.port == 0) {
		usage(stderr);
		exit(1);
	}
}

/* As in the server: one descriptor per connection needs a high limit. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Start every connection (and the hold task), run until all have ended. */
static ptio_ssize run(void)
{
	size_t i;

	cl.conns = calloc(opt.conns, sizeof *cl.conns);
	if (cl.conns == NULL)
		return PTIO_ENOMEM;
	for (i = 0; i < opt.conns; i++) {
		cl.conns[i] = conn_new(i);
		if (cl.conns[i] == NULL)
			return PTIO_ENOMEM;
	}
	if (opt.hold_ms > 0) {
		ptio_op_init(&cl.hold_op, &cl.hold_task.task);
		ptio_timed_task_start(&cl.loop, &cl.hold_task, hold_fn);
	}
	cl.t_start = seconds_now();
	cl.t_last = cl.t_start;
	return ptio_loop_run(&cl.loop, PTIO_RUN_DEFAULT);
}

static int report(void)
{
	double secs = cl.t_last - cl.t_start;
	uint64_t want = (uint64_t)opt.conns * opt.msgs * opt.size;

	printf("echo-client: backend %s\n",
	       ptio_posix_backend_name(&cl.backend));
	printf("echo-client: %zu connections x %zu messages x %zu bytes: "
	       "%llu messages, %llu bytes verified in %.3f s",
	       opt.conns, opt.msgs, opt.size,
	       (unsigned long long)cl.msgs_verified,
	       (unsigned long long)cl.bytes_verified, secs);
	if (secs > 0)
		printf(" (%.0f messages/s, %.1f MiB/s)",
		       (double)cl.msgs_verified / secs,
		       (double)cl.bytes_verified / secs / (1024.0 * 1024.0));
	printf("\n");
	if (cl.nfailed > 0 || cl.bytes_verified != want ||
	    cl.nverified != opt.conns) {
		printf("echo-client: FAILED: %zu of %zu connections failed, "
		       "%llu of %llu bytes verified\n", cl.nfailed, opt.conns,
		       (unsigned long long)cl.bytes_verified,
		       (unsigned long long)want);
		return 1;
	}
	printf("echo-client: ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct ptio_backend *be;
	ptio_ssize r;
	int status;

	parse_args(argc, argv);
	raise_fd_limit();
	/* The backend PTIO_BACKEND names, or the best the host has. */
	r = ptio_posix_backend_init(&cl.backend, NULL, &be);
	if (r < 0) {
		fprintf(stderr, "echo-client: backend: %s\n", ptio_strerror(r));
		return 1;
	}
	ptio_loop_init(&cl.loop, be);
	r = run();
	if (r < 0) {
		fprintf(stderr, "echo-client: %s\n", ptio_strerror(r));
		return 1;
	}
	status = report();
	ptio_posix_backend_destroy(&cl.backend);
	free(cl.conns);
	return status;
}
