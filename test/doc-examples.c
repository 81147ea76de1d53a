/*
 * test/doc-examples.c - every code example of doc/tutorial.md, compiled
 * and run.
 *
 * The text between a "tutorial: NAME" marker and the next "tutorial: end"
 * marker is what the tutorial shows, character for character; the test
 * case "text" reads doc/tutorial.md and fails when one of its C blocks is
 * not found in this file, so the two cannot drift apart.  Everything
 * outside the markers is the harness: it runs each example on the poll
 * backend over socketpairs, or on the in-memory pipe of section 5, and
 * checks what came out.
 *
 * Divided into the tutorial's sections: 1. the first machine, 2. nested
 * machines, 3. the memory-sensitive path, 4. deadlines, timeouts and the
 * budget, 5. streams of your own, 6. BufRead and lines, 7. testing with
 * the kit; then the text check and the suite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <check.h>
/* tutorial: include */
#include <ptio.h>
/* tutorial: end */
#include "test/helpers.h"

/* A connected pair of stream sockets: sv[0] for the example, sv[1] for
 * the test playing the peer. */
static void socket_pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

/* Read from FD until end of stream (or CAP bytes) into BUF; the count. */
static size_t read_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while (len < cap && (n = read(fd, buf + len, cap - len)) > 0)
		len += (size_t)n;
	return len;
}

/* Write the C string S to FD, all of it. */
static void write_str(int fd, const char *s)
{
	size_t len = strlen(s);

	ck_assert_int_eq(write(fd, s, len), (ssize_t)len);
}

/* ---- 1. The first machine ------------------------------------------------ */

/* tutorial: greeter */
struct greeter {
	struct ptio_task task;   /* what the loop schedules */
	struct ptio_op op;       /* the state of the call being awaited */
	struct ptio_fd fd;       /* the socket, as Ready + Read + Write */
	char name[32];           /* what the peer sent */
	ptio_ssize len;          /* how many bytes of it */
};

/* Read a name, answer "hello, NAME!". */
static ptio_ssize greet(struct ptio_task *t)
{
	struct greeter *g = PTIO_CONTAINER_OF(t, struct greeter, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	PTIO_AWAIT(&t->pt, r, ptio_read(&g->op, ptio_fd_reader(&g->fd),
					g->name, sizeof(g->name)));
	PTIO_TRY(&t->pt, r);
	g->len = r;
	PTIO_AWAIT(&t->pt, r, ptio_write_fmt(&g->op, ptio_fd_writer(&g->fd),
					     "hello, %.*s!\n", (int)g->len,
					     g->name));
	PTIO_END_WITH(&t->pt, r);
}
/* tutorial: end */

/* tutorial: greet_once */
/* Greet the peer of the connected socket SOCK, then close SOCK.
 * Returns 0, or an error (SOCK is then still the caller's to close). */
static ptio_ssize greet_once(int sock)
{
	struct ptio_poll backend;   /* poll(2), on any POSIX host */
	struct ptio_loop loop;
	struct greeter g = { 0 };
	ptio_ssize r;

	ptio_loop_init(&loop, ptio_poll_init(&backend));
	r = ptio_fd_open(&g.fd, &loop, sock, 0);
	if (r < 0) {
		ptio_poll_destroy(&backend);
		return r;
	}
	ptio_op_init(&g.op, &g.task);
	ptio_task_start(&loop, &g.task, greet);
	r = ptio_loop_run(&loop, PTIO_RUN_DEFAULT);
	(void)ptio_fd_close(&g.fd);
	ptio_poll_destroy(&backend);
	return r;
}
/* tutorial: end */

START_TEST(test_greeter)
{
	char reply[64];
	int sv[2];

	socket_pair(sv);
	write_str(sv[1], "world");
	PTIO_CK_OK(greet_once(sv[0]));
	reply[read_all(sv[1], reply, sizeof(reply) - 1)] = '\0';
	ck_assert_str_eq(reply, "hello, world!\n");
	close(sv[1]);
}
END_TEST

/* tutorial: echo_conn */
/* An echo connection whose memory comes from the heap. */
struct echo_conn {
	struct ptio_task task;
	struct ptio_op op;
	struct ptio_fd fd;
	size_t len;               /* bytes in buf: must outlive the write */
	uint8_t buf[512];
};

/* The machine: echo until end of stream or an error. */
static ptio_ssize echo_machine(struct echo_conn *c)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&c->task.pt);
	for (;;) {
		PTIO_AWAIT(&c->task.pt, r, ptio_read(&c->op,
			   ptio_fd_reader(&c->fd), c->buf, sizeof(c->buf)));
		if (r <= 0)
			break;
		c->len = (size_t)r;
		PTIO_AWAIT(&c->task.pt, r, ptio_write_all(&c->op,
			   ptio_fd_writer(&c->fd), c->buf, c->len));
		if (r < 0)
			break;
	}
	PTIO_END_WITH(&c->task.pt, r < 0 ? r : 0);
}

/* The task function: run the machine and, once it has finished, close
 * the socket and free the connection.  Not inside the machine: PTIO_END
 * still writes to c->task.pt on its way out. */
static ptio_ssize echo_task(struct ptio_task *t)
{
	struct echo_conn *c = PTIO_CONTAINER_OF(t, struct echo_conn, task);
	ptio_ssize r = echo_machine(c);

	if (r != PTIO_PENDING) {
		(void)ptio_fd_close(&c->fd);
		free(c);
	}
	return r;
}

/* Start echoing on SOCK, which the connection then owns. */
static ptio_ssize echo_start(struct ptio_loop *loop, int sock)
{
	struct echo_conn *c = calloc(1, sizeof(*c));
	ptio_ssize r;

	if (c == NULL)
		return PTIO_ENOMEM;
	r = ptio_fd_open(&c->fd, loop, sock, 0);
	if (r < 0) {
		free(c);
		return r;
	}
	ptio_op_init(&c->op, &c->task);
	return ptio_task_start(loop, &c->task, echo_task);
}
/* tutorial: end */

START_TEST(test_echo_conns)
{
	char got[64];
	int a[2], b[2];

	socket_pair(a);
	socket_pair(b);
	write_str(a[1], "ping from a");
	write_str(b[1], "ping from b");
	ck_assert_int_eq(shutdown(a[1], SHUT_WR), 0);
	ck_assert_int_eq(shutdown(b[1], SHUT_WR), 0);
	PTIO_CK_OK(echo_start(&ptio_test_loop, a[0]));
	PTIO_CK_OK(echo_start(&ptio_test_loop, b[0]));
	ck_assert_uint_eq(ptio_loop_alive(&ptio_test_loop), 2);
	ptio_test_run(5000);
	got[read_all(a[1], got, sizeof(got) - 1)] = '\0';
	ck_assert_str_eq(got, "ping from a");
	got[read_all(b[1], got, sizeof(got) - 1)] = '\0';
	ck_assert_str_eq(got, "ping from b");
	close(a[1]);
	close(b[1]);
}
END_TEST

/* ---- 2. Nested machines ----------------------------------------------------- */

/* tutorial: record */
/* A record: one length byte, then that many bytes. */
struct record {
	struct ptio_op op;       /* read_record's own continuation */
	struct ptio_op child;    /* for what read_record awaits */
	uint8_t len;
	uint8_t body[255];
};

/* Machine: read one record from R into REC.  Returns 1, or 0 when the
 * stream ends between two records, or an error. */
static ptio_ssize read_record(struct record *rec, struct ptio_read r)
{
	ptio_ssize n = 0;

	PTIO_BEGIN(&rec->op.pt);
	PTIO_CALL(&rec->op.pt, n, &rec->child, rec->op.task,
		  ptio_read_exact(&rec->child, r, &rec->len, 1));
	if (n == PTIO_EUNEXPECTEDEOF)
		PTIO_RETURN(&rec->op.pt, 0);
	PTIO_TRY(&rec->op.pt, n);
	PTIO_CALL(&rec->op.pt, n, &rec->child, rec->op.task,
		  ptio_read_exact(&rec->child, r, rec->body, rec->len));
	PTIO_TRY(&rec->op.pt, n);
	PTIO_END_WITH(&rec->op.pt, 1);
}
/* tutorial: end */

/* tutorial: record_task */
struct record_reader {
	struct ptio_task task;
	struct ptio_fd *fd;
	struct record rec;       /* the nested machine's ops and data */
	unsigned count;          /* records read so far */
	ptio_ssize result;       /* how the stream ended */
};

static ptio_ssize record_task(struct ptio_task *t)
{
	struct record_reader *rr =
		PTIO_CONTAINER_OF(t, struct record_reader, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	for (;;) {
		PTIO_CALL(&t->pt, r, &rr->rec.op, t,
			  read_record(&rr->rec, ptio_fd_reader(rr->fd)));
		if (r <= 0)
			break;
		rr->count++;
	}
	rr->result = r;
	PTIO_END(&t->pt);
}
/* tutorial: end */

START_TEST(test_records)
{
	static struct record_reader rr;
	static struct ptio_fd fd;
	int sv[2];

	socket_pair(sv);
	memset(&rr, 0, sizeof(rr));
	PTIO_CK_OK(ptio_fd_open(&fd, &ptio_test_loop, sv[0], 0));
	rr.fd = &fd;
	/* Three records: "abc", "", "hello". */
	ck_assert_int_eq(write(sv[1], "\3abc\0\5hello", 11), 11);
	ck_assert_int_eq(shutdown(sv[1], SHUT_WR), 0);
	ptio_task_start(&ptio_test_loop, &rr.task, record_task);
	ptio_test_run(5000);
	ck_assert_int_eq(rr.result, 0);
	ck_assert_uint_eq(rr.count, 3);
	ck_assert_uint_eq(rr.rec.len, 5);
	ck_assert_int_eq(memcmp(rr.rec.body, "hello", 5), 0);
	PTIO_CK_OK(ptio_fd_close(&fd));
	close(sv[1]);
}
END_TEST

/* tutorial: shared */
/* Wrong: read_exact is handed the op whose continuation is this
 * machine's own. */
static ptio_ssize read_length_shared(struct record *rec, struct ptio_read r)
{
	ptio_ssize n = 0;

	PTIO_BEGIN(&rec->op.pt);
	PTIO_AWAIT(&rec->op.pt, n, ptio_read_exact(&rec->op, r, &rec->len, 1));
	PTIO_END_WITH(&rec->op.pt, n);
}
/* tutorial: end */

struct shared_reader {
	struct ptio_task task;
	struct ptio_fd *fd;
	struct record rec;
	ptio_ssize result;
};

static ptio_ssize shared_task(struct ptio_task *t)
{
	struct shared_reader *sr =
		PTIO_CONTAINER_OF(t, struct shared_reader, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	PTIO_CALL(&t->pt, r, &sr->rec.op, t,
		  read_length_shared(&sr->rec, ptio_fd_reader(sr->fd)));
	sr->result = r;
	PTIO_END(&t->pt);
}

START_TEST(test_shared_op)
{
	static struct shared_reader sr;
	static struct ptio_fd fd;
	char rest[4];
	int sv[2];

	socket_pair(sv);
	memset(&sr, 0, sizeof(sr));
	PTIO_CK_OK(ptio_fd_open(&fd, &ptio_test_loop, sv[0], 0));
	sr.fd = &fd;
	ck_assert_int_eq(write(sv[1], "\3abc", 4), 4);
	ptio_task_start(&ptio_test_loop, &sr.task, shared_task);
	ptio_test_run(5000);
	ck_assert_int_eq(sr.result, PTIO_EOPSHARED);
	/* Refused before reading anything: the record is still there. */
	ck_assert_int_eq(read(sv[0], rest, sizeof(rest)), 4);
	PTIO_CK_OK(ptio_fd_close(&fd));
	close(sv[1]);
}
END_TEST

/* ---- 3. The memory-sensitive path ------------------------------------------- */

/* tutorial: scratch */
/* Once, when the loop is set up: one buffer for every task. */
static uint8_t scratch[4096];

static void lend_scratch(struct ptio_loop *loop)
{
	ptio_loop_set_scratch(loop, scratch, sizeof(scratch));
}
/* tutorial: end */

/* tutorial: tally */
/* A connection that sums what it receives.  No buffer, no op. */
struct tally {
	struct ptio_task task;
	struct ptio_fd fd;
	uint64_t bytes;          /* counted so far */
	uint32_t sum;            /* the sum of those bytes */
};

/* Read once into the loop's scratch buffer and count what came.  The
 * bytes are used up before this returns: once the task suspends, the
 * scratch buffer belongs to whichever task runs next. */
static ptio_ssize tally_some(struct tally *c)
{
	size_t cap;
	uint8_t *buf = ptio_loop_scratch(c->task.loop, &cap);
	ptio_ssize n = ptio_nb_read(ptio_fd_reader(&c->fd), buf, cap);
	ptio_ssize i;

	for (i = 0; i < n; i++)
		c->sum += buf[i];
	if (n > 0)
		c->bytes += (uint64_t)n;
	return n;
}

static ptio_ssize tally_task(struct ptio_task *t)
{
	struct tally *c = PTIO_CONTAINER_OF(t, struct tally, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	for (;;) {
		/* Wait holding nothing: no buffer exists yet. */
		PTIO_AWAIT(&t->pt, r, ptio_wait_ready(t,
			   ptio_fd_ready(&c->fd), PTIO_READ));
		if (r < 0)
			break;
		r = tally_some(c);
		if (r == PTIO_WOULD_BLOCK)
			continue;        /* the readiness was stale */
		if (r <= 0)
			break;           /* end of stream, or an error */
	}
	PTIO_END_WITH(&t->pt, r);
}
/* tutorial: end */

/* The bytes the tally tests send: more than one scratch buffer holds,
 * less than a socket buffer, so they can all be written up front. */
#define TALLY_LEN 20000

static uint32_t tally_send(int fd)
{
	static uint8_t data[TALLY_LEN];
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < sizeof(data); i++) {
		data[i] = (uint8_t)(i * 13u);
		sum += data[i];
	}
	ck_assert_int_eq(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	return sum;
}

static void run_tally(ptio_task_fn fn)
{
	static struct tally c;
	uint32_t sum;
	int sv[2];

	socket_pair(sv);
	memset(&c, 0, sizeof(c));
	PTIO_CK_OK(ptio_fd_open(&c.fd, &ptio_test_loop, sv[0], 0));
	sum = tally_send(sv[1]);
	close(sv[1]);
	ptio_task_start(&ptio_test_loop, &c.task, fn);
	ptio_test_run(10000);
	ck_assert_uint_eq(c.bytes, TALLY_LEN);
	ck_assert_uint_eq(c.sum, sum);
	PTIO_CK_OK(ptio_fd_close(&c.fd));
}

START_TEST(test_tally)
{
	lend_scratch(&ptio_test_loop);
	run_tally(tally_task);
}
END_TEST

/* ---- 4. Deadlines, timeouts and the budget --------------------------------- */

/* tutorial: asker */
/* Ask a question; the whole exchange gets 200 ms. */
struct asker {
	struct ptio_timed_task tt;   /* timed: it has a deadline */
	struct ptio_op op;
	struct ptio_fd *fd;
	uint8_t answer[8];
	ptio_ssize result;
};

static ptio_ssize ask(struct ptio_task *t)
{
	struct asker *a = PTIO_CONTAINER_OF(t, struct asker, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	ptio_task_set_timeout(&a->tt, 200);
	PTIO_AWAIT(&t->pt, r, ptio_write_all(&a->op, ptio_fd_writer(a->fd),
					     "time?\n", 6));
	PTIO_TRY(&t->pt, r);
	PTIO_AWAIT(&t->pt, r, ptio_read_exact(&a->op, ptio_fd_reader(a->fd),
					      a->answer, sizeof(a->answer)));
	a->result = r;
	ptio_task_clear_deadline(&a->tt);
	PTIO_END(&t->pt);
}
/* tutorial: end */

START_TEST(test_asker)
{
	static struct asker a;
	static struct ptio_fd fd;
	ptio_tick start;
	char question[16];
	int sv[2];

	socket_pair(sv);
	memset(&a, 0, sizeof(a));
	PTIO_CK_OK(ptio_fd_open(&fd, &ptio_test_loop, sv[0], 0));
	a.fd = &fd;
	/* Three bytes of the eight: the rest never comes. */
	write_str(sv[1], "12:");
	ptio_op_init(&a.op, &a.tt.task);
	start = ptio_posix_now_ms();
	ptio_timed_task_start(&ptio_test_loop, &a.tt, ask);
	ptio_test_run(5000);
	ck_assert_int_eq(a.result, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(ptio_op_done(&a.op), 3);
	ck_assert_int_eq(memcmp(a.answer, "12:", 3), 0);
	ck_assert_uint_ge((uint32_t)(ptio_posix_now_ms() - start), 200);
	ck_assert_int_eq(read(sv[1], question, sizeof(question)), 6);
	PTIO_CK_OK(ptio_fd_close(&fd));
	close(sv[1]);
}
END_TEST

/* tutorial: keeper */
/* Send "ping" after each 30 ms of silence, until the peer speaks. */
struct keeper {
	struct ptio_timed_task tt;
	struct ptio_op op;
	struct ptio_fd *fd;
	unsigned pings;
	ptio_ssize result;
};

static ptio_ssize keep_alive(struct ptio_task *t)
{
	struct keeper *k = PTIO_CONTAINER_OF(t, struct keeper, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	for (;;) {
		PTIO_AWAIT(&t->pt, r, ptio_ready_until(&k->op,
			   ptio_fd_ready(k->fd), PTIO_READ,
			   ptio_loop_now(t->loop) + 30));
		if (r != PTIO_ETIMEDOUT)
			break;           /* readable, or an error */
		k->pings++;
		PTIO_AWAIT(&t->pt, r, ptio_write_all(&k->op,
			   ptio_fd_writer(k->fd), "ping\n", 5));
		if (r < 0)
			break;
	}
	k->result = r;
	PTIO_END(&t->pt);
}
/* tutorial: end */

/* The other end of the keeper's socket: answer after three pings. */
struct pinged {
	struct ptio_task task;
	struct ptio_op op;
	struct ptio_fd fd;
	char got[15];
};

static ptio_ssize pinged_task(struct ptio_task *t)
{
	struct pinged *p = PTIO_CONTAINER_OF(t, struct pinged, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	PTIO_AWAIT(&t->pt, r, ptio_read_exact(&p->op, ptio_fd_reader(&p->fd),
					      p->got, sizeof(p->got)));
	PTIO_TRY(&t->pt, r);
	PTIO_AWAIT(&t->pt, r, ptio_write_all(&p->op, ptio_fd_writer(&p->fd),
					     "ok\n", 3));
	PTIO_END_WITH(&t->pt, r);
}

START_TEST(test_keeper)
{
	static struct keeper k;
	static struct pinged p;
	static struct ptio_fd fd;
	int sv[2];

	socket_pair(sv);
	memset(&k, 0, sizeof(k));
	memset(&p, 0, sizeof(p));
	PTIO_CK_OK(ptio_fd_open(&fd, &ptio_test_loop, sv[0], 0));
	PTIO_CK_OK(ptio_fd_open(&p.fd, &ptio_test_loop, sv[1], 0));
	k.fd = &fd;
	ptio_op_init(&k.op, &k.tt.task);
	ptio_op_init(&p.op, &p.task);
	ptio_timed_task_start(&ptio_test_loop, &k.tt, keep_alive);
	ptio_task_start(&ptio_test_loop, &p.task, pinged_task);
	ptio_test_run(5000);
	/* Three pings; a fourth if the host stalled for 30 ms just as the
	 * answer came. */
	ck_assert_uint_ge(k.pings, 3);
	ck_assert(k.result > 0 && ptio_readiness_readable((unsigned)k.result));
	ck_assert_int_eq(memcmp(p.got, "ping\nping\nping\n", 15), 0);
	PTIO_CK_OK(ptio_fd_close(&fd));
	PTIO_CK_OK(ptio_fd_close(&p.fd));
}
END_TEST

/* tutorial: idler */
/* Count what comes; hang up after 100 ms without a byte. */
struct idler {
	struct ptio_timed_task tt;
	struct ptio_op op;
	struct ptio_fd *fd;
	uint64_t bytes;
	ptio_ssize result;
};

static ptio_ssize idle_reader(struct ptio_task *t)
{
	struct idler *d = PTIO_CONTAINER_OF(t, struct idler, tt.task);
	ptio_ssize r = 0;
	uint8_t *buf;
	size_t cap;

	PTIO_BEGIN(&t->pt);
	for (;;) {
		ptio_task_set_timeout(&d->tt, 100);
		PTIO_AWAIT(&t->pt, r, ptio_ready(&d->op, ptio_fd_ready(d->fd),
						 PTIO_READ));
		if (r < 0)
			break;           /* PTIO_ETIMEDOUT: 100 ms of silence */
		buf = ptio_loop_scratch(t->loop, &cap);
		r = ptio_nb_read(ptio_fd_reader(d->fd), buf, cap);
		if (r == PTIO_WOULD_BLOCK)
			continue;
		if (r <= 0)
			break;
		d->bytes += (uint64_t)r;
	}
	d->result = r;
	/* The deadline has passed: clear it, or the goodbye fails too. */
	ptio_task_clear_deadline(&d->tt);
	if (r == PTIO_ETIMEDOUT) {
		PTIO_AWAIT(&t->pt, r, ptio_write_all(&d->op,
			   ptio_fd_writer(d->fd), "idle, bye\n", 10));
	}
	PTIO_END(&t->pt);
}
/* tutorial: end */

START_TEST(test_idler)
{
	static struct idler d;
	static struct ptio_fd fd;
	ptio_tick start;
	char got[32];
	int sv[2];

	socket_pair(sv);
	memset(&d, 0, sizeof(d));
	PTIO_CK_OK(ptio_fd_open(&fd, &ptio_test_loop, sv[0], 0));
	d.fd = &fd;
	write_str(sv[1], "abc");
	ptio_op_init(&d.op, &d.tt.task);
	start = ptio_posix_now_ms();
	ptio_timed_task_start(&ptio_test_loop, &d.tt, idle_reader);
	ptio_test_run(5000);
	ck_assert_int_eq(d.result, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(d.bytes, 3);
	ck_assert_uint_ge((uint32_t)(ptio_posix_now_ms() - start), 100);
	PTIO_CK_OK(ptio_fd_close(&fd));
	got[read_all(sv[1], got, sizeof(got) - 1)] = '\0';
	ck_assert_str_eq(got, "idle, bye\n");
	close(sv[1]);
}
END_TEST

/* A fresh stream with nothing to read: the very first wait is an idle
 * timeout, not a READABLE answer. */
START_TEST(test_idler_fresh_silent)
{
	static struct idler d;
	static struct ptio_fd fd;
	int sv[2];

	socket_pair(sv);
	memset(&d, 0, sizeof(d));
	PTIO_CK_OK(ptio_fd_open(&fd, &ptio_test_loop, sv[0], 0));
	d.fd = &fd;
	ptio_op_init(&d.op, &d.tt.task);
	ptio_timed_task_start(&ptio_test_loop, &d.tt, idle_reader);
	ptio_test_run(5000);
	ck_assert_int_eq(d.result, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(d.bytes, 0);
	PTIO_CK_OK(ptio_fd_close(&fd));
	close(sv[1]);
}
END_TEST

/* tutorial: glutton */
/* Reads a stream that always has data, until told to stop. */
struct glutton {
	struct ptio_timed_task tt;
	struct ptio_op op;
	struct ptio_repeat source;   /* io::repeat: never blocks */
	uint8_t buf[64];
	bool stop;
	unsigned long reads;
	ptio_ssize result;
};

static ptio_ssize glutton_task(struct ptio_task *t)
{
	struct glutton *g = PTIO_CONTAINER_OF(t, struct glutton, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	while (!g->stop) {
		PTIO_AWAIT(&t->pt, r, ptio_read(&g->op,
			   ptio_repeat_reader(&g->source), g->buf,
			   sizeof(g->buf)));
		if (r < 0)
			break;
		g->reads++;
	}
	g->result = r;
	PTIO_END(&t->pt);
}

/* Ticks five times, 2 ms apart, then stops the glutton. */
struct ticker {
	struct ptio_timed_task tt;
	struct ptio_op op;
	struct glutton *glutton;
	unsigned ticks;
};

static ptio_ssize ticker_task(struct ptio_task *t)
{
	struct ticker *k = PTIO_CONTAINER_OF(t, struct ticker, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	for (k->ticks = 0; k->ticks < 5; k->ticks++) {
		PTIO_AWAIT(&t->pt, r, ptio_sleep(&k->op, 2));
		PTIO_TRY(&t->pt, r);
	}
	k->glutton->stop = true;
	PTIO_END(&t->pt);
}
/* tutorial: end */

static void glutton_start(struct glutton *g)
{
	memset(g, 0, sizeof(*g));
	ptio_repeat_init(&g->source, 'z');
	ptio_op_init(&g->op, &g->tt.task);
	ptio_timed_task_start(&ptio_test_loop, &g->tt, glutton_task);
}

/* Without the budget the glutton would never let the ticker run, and
 * this test would never end. */
START_TEST(test_glutton_and_ticker)
{
	static struct glutton g;
	static struct ticker k;

	glutton_start(&g);
	memset(&k, 0, sizeof(k));
	k.glutton = &g;
	ptio_op_init(&k.op, &k.tt.task);
	ptio_timed_task_start(&ptio_test_loop, &k.tt, ticker_task);
	ptio_test_run(5000);
	ck_assert_uint_eq(k.ticks, 5);
	ck_assert_int_ge(g.result, 0);
	ck_assert_uint_gt(g.reads, PTIO_CONF_BUDGET);
}
END_TEST

/* A deadline fires while the data flows. */
START_TEST(test_glutton_deadline)
{
	static struct glutton g;
	ptio_tick start;

	glutton_start(&g);
	/* The timeout counts from the loop's time, read when the loop last
	 * began an iteration (here, when the fixture set it up). */
	start = ptio_loop_now(&ptio_test_loop);
	ptio_task_set_timeout(&g.tt, 20);
	ptio_test_run(5000);
	ck_assert_int_eq(g.result, PTIO_ETIMEDOUT);
	ck_assert_uint_ge((uint32_t)(ptio_posix_now_ms() - start), 20);
}
END_TEST

/* tutorial: tally_nb */
static ptio_ssize tally_task_nb(struct ptio_task *t)
{
	struct tally *c = PTIO_CONTAINER_OF(t, struct tally, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	for (;;) {
		PTIO_NB_AWAIT(&t->pt, t, r, tally_some(c),
			      ptio_fd_ready(&c->fd), PTIO_READ);
		if (r <= 0)
			break;
	}
	PTIO_END_WITH(&t->pt, r);
}
/* tutorial: end */

START_TEST(test_tally_nb)
{
	lend_scratch(&ptio_test_loop);
	run_tally(tally_task_nb);
}
END_TEST

/* tutorial: cruncher */
/* Sums a large array in memory, spending from the budget as it goes. */
struct cruncher {
	struct ptio_task task;
	const uint8_t *data;
	size_t len, i;
	uint32_t sum;
};

static ptio_ssize crunch(struct ptio_task *t)
{
	struct cruncher *c = PTIO_CONTAINER_OF(t, struct cruncher, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	for (c->i = 0; c->i < c->len; c->i++) {
		if (c->i % 256 == 0) {
			PTIO_AWAIT(&t->pt, r, ptio_task_spend(t));
			PTIO_TRY(&t->pt, r);
		}
		c->sum += c->data[c->i];
	}
	PTIO_END(&t->pt);
}
/* tutorial: end */

static unsigned long crunch_activations;

static ptio_ssize crunch_counted(struct ptio_task *t)
{
	crunch_activations++;
	return crunch(t);
}

START_TEST(test_cruncher)
{
	static struct cruncher c;
	static uint8_t data[1 << 20];
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < sizeof(data); i++) {
		data[i] = (uint8_t)(i * 7u);
		sum += data[i];
	}
	memset(&c, 0, sizeof(c));
	c.data = data;
	c.len = sizeof(data);
	crunch_activations = 0;
	ptio_task_start(&ptio_test_loop, &c.task, crunch_counted);
	ptio_test_run(10000);
	ck_assert_uint_eq(c.sum, sum);
	/* 4096 spends, PTIO_CONF_BUDGET per activation. */
	ck_assert_uint_eq(crunch_activations,
			  sizeof(data) / 256 / PTIO_CONF_BUDGET);
}
END_TEST

/* ---- 5. Streams of your own ----------------------------------------------------- */

/* tutorial: metered */
/* An fd stream that counts the bytes it moves.  The struct ptio_fd
 * comes first, so the fd's own functions take a pointer to it. */
struct metered {
	struct ptio_fd fd;
	uint64_t in, out;
};

static ptio_ssize metered_poll_ready(void *self, struct ptio_task *task,
				     unsigned interest)
{
	struct metered *m = self;

	return ptio_source_poll(&m->fd.src, task, interest);
}

static ptio_ssize metered_read_buf(void *self, struct ptio_readbuf *rb)
{
	struct metered *m = self;
	ptio_ssize n = ptio_fd_read_vt.nb_read_buf(self, rb);

	if (n > 0)
		m->in += (uint64_t)n;
	return n;
}

static ptio_ssize metered_write(void *self, const void *buf, size_t len)
{
	struct metered *m = self;
	ptio_ssize n = ptio_fd_write_vt.nb_write(self, buf, len);

	if (n > 0)
		m->out += (uint64_t)n;
	return n;
}

static const struct ptio_read_vt metered_read_vt = {
	.ready = { .poll_ready = metered_poll_ready },
	.nb_read_buf = metered_read_buf,
};

static const struct ptio_write_vt metered_write_vt = {
	.ready = { .poll_ready = metered_poll_ready },
	.nb_write = metered_write,
};

static struct ptio_read metered_reader(struct metered *m)
{
	struct ptio_read r = { m, &metered_read_vt };

	return r;
}

static struct ptio_write metered_writer(struct metered *m)
{
	struct ptio_write w = { m, &metered_write_vt };

	return w;
}
/* tutorial: end */

struct metered_user {
	struct ptio_task task;
	struct ptio_op op;
	struct metered m;
	char got[5];
};

static ptio_ssize metered_user_task(struct ptio_task *t)
{
	struct metered_user *u = PTIO_CONTAINER_OF(t, struct metered_user,
						   task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	PTIO_AWAIT(&t->pt, r, ptio_write_all(&u->op, metered_writer(&u->m),
					     "hello", 5));
	PTIO_TRY(&t->pt, r);
	PTIO_AWAIT(&t->pt, r, ptio_read_exact(&u->op, metered_reader(&u->m),
					      u->got, sizeof(u->got)));
	PTIO_END_WITH(&t->pt, r);
}

START_TEST(test_metered)
{
	static struct metered_user u;
	char got[8];
	int sv[2];

	socket_pair(sv);
	memset(&u, 0, sizeof(u));
	PTIO_CK_OK(ptio_fd_open(&u.m.fd, &ptio_test_loop, sv[0], 0));
	ptio_op_init(&u.op, &u.task);
	ptio_task_start(&ptio_test_loop, &u.task, metered_user_task);
	/* The answer comes only once the task waits for it. */
	ck_assert_int_ge(ptio_loop_run(&ptio_test_loop, PTIO_RUN_NOWAIT), 0);
	write_str(sv[1], "world");
	ptio_test_run(5000);
	ck_assert_uint_eq(u.m.in, 5);
	ck_assert_uint_eq(u.m.out, 5);
	ck_assert_int_eq(memcmp(u.got, "world", 5), 0);
	PTIO_CK_OK(ptio_fd_close(&u.m.fd));
	got[read_all(sv[1], got, sizeof(got) - 1)] = '\0';
	ck_assert_str_eq(got, "hello");
	close(sv[1]);
}
END_TEST

/* tutorial: mem_pipe */
/* An in-memory pipe: what one task writes, another reads.  Its one
 * source holds both waiters, the reader's and the writer's. */
#define MEM_PIPE_CAP 16

struct mem_pipe {
	struct ptio_source src;     /* readiness cache and waiter slots */
	uint8_t data[MEM_PIPE_CAP]; /* buffered bytes, oldest first */
	size_t len;
	bool eof;                   /* the writer is done */
};

static void mem_pipe_init(struct mem_pipe *p)
{
	/* Empty: writable, not readable.  Flags 0: no backend watches the
	 * source; the pipe's own calls below report its readiness. */
	ptio_source_init(&p->src, PTIO_WRITABLE, 0);
	p->len = 0;
	p->eof = false;
}

static ptio_ssize mem_pipe_poll_ready(void *self, struct ptio_task *task,
				      unsigned interest)
{
	struct mem_pipe *p = self;

	return ptio_source_poll(&p->src, task, interest);
}

static ptio_ssize mem_pipe_read_buf(void *self, struct ptio_readbuf *rb)
{
	struct mem_pipe *p = self;
	size_t n;

	if (p->len == 0) {
		if (p->eof)
			return 0;        /* end of stream */
		ptio_source_clear(&p->src, PTIO_READABLE);
		return PTIO_WOULD_BLOCK;
	}
	n = ptio_readbuf_append(rb, p->data, p->len);
	memmove(p->data, p->data + n, p->len - n);
	p->len -= n;
	ptio_source_ready(&p->src, PTIO_WRITABLE);  /* room: wake a writer */
	return (ptio_ssize)n;
}

static ptio_ssize mem_pipe_write(void *self, const void *buf, size_t len)
{
	struct mem_pipe *p = self;
	size_t n = MEM_PIPE_CAP - p->len;

	if (p->eof)
		return PTIO_EPIPE;
	if (len == 0)
		return 0;
	if (n == 0) {
		ptio_source_clear(&p->src, PTIO_WRITABLE);
		return PTIO_WOULD_BLOCK;
	}
	if (n > len)
		n = len;
	memcpy(p->data + p->len, buf, n);
	p->len += n;
	ptio_source_ready(&p->src, PTIO_READABLE);  /* data: wake a reader */
	return (ptio_ssize)n;
}

/* The writer is done: the reader gets end of stream after the rest. */
static void mem_pipe_close_write(struct mem_pipe *p)
{
	p->eof = true;
	ptio_source_ready(&p->src, PTIO_READABLE);
}

static const struct ptio_read_vt mem_pipe_read_vt = {
	.ready = { .poll_ready = mem_pipe_poll_ready },
	.nb_read_buf = mem_pipe_read_buf,
};

static const struct ptio_write_vt mem_pipe_write_vt = {
	.ready = { .poll_ready = mem_pipe_poll_ready },
	.nb_write = mem_pipe_write,
};

static struct ptio_read mem_pipe_reader(struct mem_pipe *p)
{
	struct ptio_read r = { p, &mem_pipe_read_vt };

	return r;
}

static struct ptio_write mem_pipe_writer(struct mem_pipe *p)
{
	struct ptio_write w = { p, &mem_pipe_write_vt };

	return w;
}
/* tutorial: end */

/* tutorial: mem_pipe_use */
struct producer {
	struct ptio_task task;
	struct ptio_op op;
	struct mem_pipe *pipe;
	const char *text;
};

static ptio_ssize produce(struct ptio_task *t)
{
	struct producer *p = PTIO_CONTAINER_OF(t, struct producer, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	PTIO_AWAIT(&t->pt, r, ptio_write_all(&p->op, mem_pipe_writer(p->pipe),
					     p->text, strlen(p->text)));
	mem_pipe_close_write(p->pipe);
	PTIO_END_WITH(&t->pt, r);
}

struct consumer {
	struct ptio_task task;
	struct ptio_op op;
	struct mem_pipe *pipe;
	char text[128];
	size_t len;
};

static ptio_ssize consume(struct ptio_task *t)
{
	struct consumer *c = PTIO_CONTAINER_OF(t, struct consumer, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	for (;;) {
		PTIO_AWAIT(&t->pt, r, ptio_read(&c->op,
			   mem_pipe_reader(c->pipe), c->text + c->len,
			   sizeof(c->text) - 1 - c->len));
		if (r <= 0)
			break;
		c->len += (size_t)r;
	}
	c->text[c->len] = '\0';
	PTIO_END_WITH(&t->pt, r);
}
/* tutorial: end */

START_TEST(test_mem_pipe)
{
	static struct mem_pipe mp;
	static struct producer p;
	static struct consumer c;
	static const char text[] =
		"through sixteen bytes of pipe, a piece at a time\n";

	memset(&p, 0, sizeof(p));
	memset(&c, 0, sizeof(c));
	mem_pipe_init(&mp);
	p.pipe = c.pipe = &mp;
	p.text = text;
	ptio_op_init(&p.op, &p.task);
	ptio_op_init(&c.op, &c.task);
	ptio_task_start(&ptio_test_loop, &c.task, consume);
	ptio_task_start(&ptio_test_loop, &p.task, produce);
	ptio_test_run(5000);
	ck_assert_str_eq(c.text, text);
	ck_assert(!ptio_source_has_waiters(&mp.src));
}
END_TEST

/* ---- 6. BufRead and lines -------------------------------------------------------- */

/* tutorial: liner */
/* Answer each line with its length; lines are at most 32 bytes. */
struct liner {
	struct ptio_task task;
	struct ptio_op op;
	struct ptio_fd *fd;
	struct ptio_bufreader br;    /* a BufRead over the socket */
	struct ptio_lines lines;     /* the lines loop over the BufRead */
	ptio_ssize skipped;          /* why the last line was skipped */
	uint8_t brbuf[64];           /* the BufReader's buffer */
	uint8_t line[32];            /* the current line, "\n" included */
};

static void liner_init(struct liner *c, struct ptio_fd *fd)
{
	c->fd = fd;
	ptio_bufreader_init(&c->br, ptio_fd_reader(fd), c->brbuf,
			    sizeof(c->brbuf));
	ptio_lines_init(&c->lines, ptio_bufreader_bufread(&c->br), c->line,
			sizeof(c->line));
	ptio_op_init(&c->op, &c->task);
}

static ptio_ssize liner_task(struct ptio_task *t)
{
	struct liner *c = PTIO_CONTAINER_OF(t, struct liner, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	for (;;) {
		PTIO_AWAIT(&t->pt, r, ptio_lines_next(&c->op, &c->lines));
		if (r == PTIO_ETOOLONG || r == PTIO_EILSEQ) {
			c->skipped = r;
			PTIO_AWAIT(&t->pt, r, ptio_write_fmt(&c->op,
				   ptio_fd_writer(c->fd), "error: %s\n",
				   ptio_strerror(c->skipped)));
		} else if (r > 0) {
			PTIO_AWAIT(&t->pt, r, ptio_write_fmt(&c->op,
				   ptio_fd_writer(c->fd), "%zu: %.*s\n",
				   ptio_lines_len(&c->lines),
				   (int)ptio_lines_len(&c->lines),
				   (const char *)ptio_lines_data(&c->lines)));
		}
		if (r <= 0)
			break;           /* end of stream, or an error */
	}
	PTIO_END_WITH(&t->pt, r);
}
/* tutorial: end */

START_TEST(test_liner)
{
	static struct liner c;
	static struct ptio_fd fd;
	char got[256];
	int sv[2];

	socket_pair(sv);
	memset(&c, 0, sizeof(c));
	PTIO_CK_OK(ptio_fd_open(&fd, &ptio_test_loop, sv[0], 0));
	liner_init(&c, &fd);
	write_str(sv[1], "hello\r\n"
		  "this line is longer than thirty-two bytes\n"
		  "\xff\xfe\n"
		  "bye");
	ck_assert_int_eq(shutdown(sv[1], SHUT_WR), 0);
	ptio_task_start(&ptio_test_loop, &c.task, liner_task);
	ptio_test_run(5000);
	PTIO_CK_OK(ptio_fd_close(&fd));
	got[read_all(sv[1], got, sizeof(got) - 1)] = '\0';
	ck_assert_str_eq(got,
		"5: hello\n"
		"error: line or record longer than the allowed maximum\n"
		"error: invalid or incomplete byte sequence\n"
		"3: bye\n");
	close(sv[1]);
}
END_TEST

/* ---- 7. Testing with the kit ---------------------------------------------------- */

/* tutorial: sim_include */
#include <ptio/sim.h>
/* tutorial: end */

/* tutorial: sim_greeter */
#define GREET_IDLE 30000 /* ticks: 30 s at one tick per millisecond */

struct idle_greeter {
	struct ptio_timed_task tt;  /* timed: it has an idle deadline */
	struct ptio_op op;
	struct ptio_bufread in;
	struct ptio_write out;
	struct ptio_readbuf line;
	char msg[48];
	size_t len;                 /* of msg: must outlive suspensions */
	uint8_t buf[24];
};

/* Read a name within GREET_IDLE ticks and greet it, or say goodbye. */
static ptio_ssize idle_greet(struct ptio_task *t)
{
	struct idle_greeter *g =
		PTIO_CONTAINER_OF(t, struct idle_greeter, tt.task);
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_task_set_timeout(&g->tt, GREET_IDLE);
	PTIO_AWAIT(&t->pt, r, ptio_read_line(&g->op, g->in, &g->line,
					     sizeof(g->buf)));
	if (r > 0)
		r = ptio_format(g->msg, sizeof(g->msg), "hi %.*s",
				(int)r, (const char *)g->buf);
	else
		r = ptio_format(g->msg, sizeof(g->msg), "bye (%s)\n",
				ptio_strerror(r));
	g->len = (size_t)r;
	ptio_task_clear_deadline(&g->tt);
	PTIO_AWAIT(&t->pt, r, ptio_write_all(&g->op, g->out, g->msg,
					     g->len));
	PTIO_END(&t->pt);
}
/* tutorial: end */

/* tutorial: sim_scenario */
/* One seed: the peer sends a name, or (one seed in three) nothing. */
static int greeter_scenario(uint32_t seed, void *ctx)
{
	static struct idle_greeter g;
	struct ptio_sim sim;
	struct ptio_sim_event ev[8];
	struct ptio_sim_duplex d;
	struct ptio_sim_faults f;
	struct ptio_loop loop;
	uint8_t pipes[2 * 64];
	char got[64] = "";
	bool silent;
	ptio_ssize n;

	(void)ctx;
	ptio_loop_init(&loop, ptio_sim_init(&sim, 0, seed, ev, 8));
	ptio_sim_duplex_init(&d, &sim, pipes, 64);
	ptio_sim_faults_random(&sim, &f);
	f.eof = f.reset = 0;            /* faults that change the answer */
	ptio_sim_end_set_faults(&d.b, &f);
	memset(&g, 0, sizeof(g));
	g.in = ptio_sim_end_bufread(&d.b);
	g.out = ptio_sim_end_writer(&d.b);
	ptio_readbuf_init(&g.line, g.buf, sizeof(g.buf));
	ptio_op_init(&g.op, &g.tt.task);
	ptio_timed_task_start(&loop, &g.tt, idle_greet);
	silent = ptio_sim_below(&sim, 3) == 0;
	if (!silent)
		ptio_nb_write(ptio_sim_end_writer(&d.a), "ann\n", 4);
	if (ptio_loop_run(&loop, PTIO_RUN_DEFAULT) != 0)
		return 1;               /* a stall: something waits for ever */
	n = ptio_nb_read(ptio_sim_end_reader(&d.a), got, sizeof(got) - 1);
	ptio_sim_end_close(&d.a);
	ptio_sim_end_close(&d.b);
	if (n < 0)
		return 2;
	got[n] = '\0';
	if (silent)                     /* 30 s of virtual time passed */
		return strcmp(got, "bye (timed out)\n") != 0 ||
		       ptio_sim_now(&sim) < GREET_IDLE;
	return strcmp(got, "hi ann\n") != 0 ||
	       ptio_sim_now(&sim) >= GREET_IDLE;
}
/* tutorial: end */

START_TEST(test_sim_greeter)
{
/* tutorial: sim_seeds */
	struct ptio_sim_seeds seeds;

	ptio_sim_seeds_init(&seeds, 1000, getenv("PTIO_SIM_SEED"),
			    getenv("PTIO_SIM_SEEDS"));
	if (ptio_sim_seeds_run(&seeds, greeter_scenario, NULL) != 0)
		ck_abort_msg("%s", seeds.message);
/* tutorial: end */
	ck_assert_uint_eq(seeds.ran, seeds.last - seeds.first + 1);
}
END_TEST

/* ---- The text check ---------------------------------------------------------------- */

/* The whole file at PATH, NUL-terminated; NULL if it cannot be read. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	long len;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (s = malloc((size_t)len + 1)) != NULL) {
		if (fread(s, 1, (size_t)len, f) != (size_t)len) {
			free(s);
			s = NULL;
		} else {
			s[len] = '\0';
		}
	}
	fclose(f);
	return s;
}

/* Every ```c block of doc/tutorial.md appears, as it is, in this file. */
START_TEST(test_tutorial_text)
{
	char *doc = slurp(PTIO_DOC_SRCDIR "/doc/tutorial.md");
	char *src = slurp(PTIO_DOC_SRCDIR "/test/doc-examples.c");
	const char *p, *end;
	unsigned blocks = 0;

	ck_assert_msg(doc != NULL, "cannot read doc/tutorial.md");
	ck_assert_msg(src != NULL, "cannot read test/doc-examples.c");
	for (p = doc; (p = strstr(p, "\n```c\n")) != NULL; p = end + 4) {
		char *block;

		p += 6;
		end = strstr(p, "\n```\n");
		ck_assert_msg(end != NULL, "unterminated C block");
		block = strndup(p, (size_t)(end - p) + 1); /* with its "\n" */
		ck_assert(block != NULL);
		ck_assert_msg(strstr(src, block) != NULL,
			      "doc/tutorial.md block %u is not in "
			      "test/doc-examples.c:\n%s", blocks + 1, block);
		free(block);
		blocks++;
	}
	ck_assert_uint_ge(blocks, 15);
	free(doc);
	free(src);
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("doc-examples");
	TCase *tc = tcase_create("tutorial");
	TCase *tt = tcase_create("text");

	tcase_add_checked_fixture(tc, ptio_test_loop_setup,
				  ptio_test_loop_teardown);
	tcase_add_test(tc, test_greeter);
	tcase_add_test(tc, test_echo_conns);
	tcase_add_test(tc, test_records);
	tcase_add_test(tc, test_shared_op);
	tcase_add_test(tc, test_tally);
	tcase_add_test(tc, test_asker);
	tcase_add_test(tc, test_keeper);
	tcase_add_test(tc, test_idler);
	tcase_add_test(tc, test_idler_fresh_silent);
	tcase_add_test(tc, test_glutton_and_ticker);
	tcase_add_test(tc, test_glutton_deadline);
	tcase_add_test(tc, test_tally_nb);
	tcase_add_test(tc, test_cruncher);
	tcase_add_test(tc, test_metered);
	tcase_add_test(tc, test_mem_pipe);
	tcase_add_test(tc, test_liner);
	tcase_add_test(tc, test_sim_greeter);
	suite_add_tcase(s, tc);

	tcase_add_test(tt, test_tutorial_text);
	suite_add_tcase(s, tt);
	return s;
}
