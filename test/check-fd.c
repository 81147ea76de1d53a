/*
 * test/check-fd.c - fd streams (src/posix/fd.c) on socketpairs and pipes,
 * over the backend the fixture chooses: make check runs this program once
 * per backend (PTIO_BACKEND=poll, =select, =epoll, =uring), and its
 * suite's name says which.  The poll backend's own array is tested here
 * too, when it runs; the select, epoll and io_uring backends' own tests
 * are in check-select.c, check-epoll.c and check-uring.c.
 *
 * Divided into: helpers; opening and closing; non-blocking and vectored
 * calls; SIGPIPE; streams shared by two tasks or awaited for both
 * directions; one report waking a reader and a writer; bulk transfers
 * and hang-ups; close, errors and deadlines while waiting; the readiness
 * of a fresh stream; signals during waits; many fds in one batch; the
 * poll backend's array (entries that keep their place, hang-ups nobody
 * waits for, reuse); many idle fds beside one busy pair.
 *
 * Each test keeps its state in one static struct that it clears first, so
 * the suite also runs in one process (CK_FORK=no, e.g. under valgrind).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <check.h>
#include "test/helpers.h"

/* ---- Helpers ------------------------------------------------------------- */

/* The byte at offset I of test stream SEED: not periodic at any small
 * power of two, so a lost, repeated or reordered block shows. */
static uint8_t pat(size_t i, unsigned seed)
{
	return (uint8_t)((i ^ (i >> 8) ^ (i >> 17)) * 131u + seed);
}

static void pat_fill(uint8_t *buf, size_t len, size_t off, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pat(off + i, seed);
}

static bool pat_check(const uint8_t *buf, size_t len, size_t off,
		      unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != pat(off + i, seed))
			return false;
	return true;
}

/* A socketpair as streams A and B; EARLY (NULL: nothing) is sent from B's
 * end to A's before either is opened. */
static void open_socketpair_with(struct ptio_fd *a, struct ptio_fd *b,
				 const char *early)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	if (early != NULL)
		ck_assert_int_eq(write(sv[1], early, strlen(early)),
				 (ssize_t)strlen(early));
	PTIO_CK_OK(ptio_fd_open(a, &ptio_test_loop, sv[0], 0));
	PTIO_CK_OK(ptio_fd_open(b, &ptio_test_loop, sv[1], 0));
}

static void open_socketpair(struct ptio_fd *a, struct ptio_fd *b)
{
	open_socketpair_with(a, b, NULL);
}

static void open_pipe(struct ptio_fd *rd, struct ptio_fd *wr)
{
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	PTIO_CK_OK(ptio_fd_open(rd, &ptio_test_loop, p[0], 0));
	PTIO_CK_OK(ptio_fd_open(wr, &ptio_test_loop, p[1], 0));
}

/* Registrations held by the backend itself (poll entries, epoll
 * registrations: see ptio_test_backend_regs). */
static size_t backend_regs(void)
{
	struct ptio_backend *be = ptio_test_loop.backend;

	return be->vt->registrations(be);
}

/* PTIO_HUP, or 0 on the select backend, which has no hang-up bit and
 * reports a hang-up as READABLE only (see ptio/posix.h). */
static unsigned hup_bit(void)
{
	static int no_hup = -1;

	if (no_hup < 0)
		no_hup = ptio_test_backend_is("select");
	return no_hup ? 0 : PTIO_HUP;
}

/* Fill F's outgoing buffer until the system refuses more; returns the
 * bytes written. */
static size_t fill_until_blocked(struct ptio_fd *f)
{
	static uint8_t junk[65536];
	size_t total = 0;
	ptio_ssize r;

	while ((r = ptio_nb_write(ptio_fd_writer(f), junk, sizeof(junk))) > 0)
		total += (size_t)r;
	ck_assert_int_eq(r, PTIO_WOULD_BLOCK);
	ck_assert_uint_eq(f->src.ready & PTIO_WRITABLE, 0);
	return total;
}

static bool is_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	ck_assert_int_ge(fl, 0);
	return (fl & O_NONBLOCK) != 0;
}

/* ---- Opening and closing ------------------------------------------------ */

START_TEST(test_open_rejects_bad_input)
{
	struct ptio_fd f;
	int p[2];

	ck_assert_int_eq(ptio_fd_open(&f, &ptio_test_loop, -1, 0), PTIO_EBADF);
	ck_assert_int_eq(ptio_fd_fileno(&f), -1);
	ck_assert_int_eq(ptio_fd_close(&f), 0); /* closed: a no-op */
	ck_assert_int_eq(ptio_fd_open(&f, &ptio_test_loop, 1000, 0),
			 PTIO_EBADF);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(ptio_fd_open(&f, &ptio_test_loop, p[0], 0x80),
			 PTIO_EINVAL);
	/* A refused fd is left as it was: open and blocking. */
	ck_assert(!is_nonblocking(p[0]));
	close(p[0]);
	close(p[1]);
}
END_TEST

/* One descriptor, one stream: a second stream on a descriptor an open
 * stream has is refused with PTIO_EBUSY, whether or not the first has
 * waited yet, and the first goes on working. */
static struct {
	struct ptio_fd a, b, c, peer;
	struct ptio_task t;
	struct ptio_op op;
	ptio_ssize r;
	uint8_t buf[8];
} dup1;

static ptio_ssize dup1_reader(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&dup1.op, t);
	PTIO_AWAIT(&t->pt, r, ptio_read(&dup1.op, ptio_fd_reader(&dup1.a),
					dup1.buf, sizeof(dup1.buf)));
	dup1.r = r;
	PTIO_END(&t->pt);
}

START_TEST(test_open_twice_is_busy)
{
	int fd;

	memset(&dup1, 0, sizeof(dup1));
	open_socketpair(&dup1.a, &dup1.peer);
	fd = ptio_fd_fileno(&dup1.a);
	ck_assert_int_eq(ptio_fd_open(&dup1.b, &ptio_test_loop, fd, 0),
			 PTIO_EBUSY);
	ck_assert_int_eq(ptio_fd_fileno(&dup1.b), -1);
	PTIO_CK_OK(ptio_fd_close(&dup1.b));   /* closed state: a no-op */
	ck_assert_int_ne(fcntl(fd, F_GETFD), -1); /* FD still open */
	ck_assert_int_ne(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	/* Once the first stream waits, too. */
	ptio_task_start(&ptio_test_loop, &dup1.t, dup1_reader);
	ck_assert_int_ge(ptio_loop_run(&ptio_test_loop, PTIO_RUN_NOWAIT), 0);
	ck_assert(ptio_task_alive(&dup1.t));
	ck_assert_int_eq(ptio_fd_open(&dup1.c, &ptio_test_loop, fd,
				      PTIO_FD_NOCLOSE),
			 PTIO_EBUSY);
	/* The first stream still reads what comes. */
	ck_assert_int_eq(write(ptio_fd_fileno(&dup1.peer), "hi", 2), 2);
	ptio_test_run(5000);
	ck_assert_int_eq(dup1.r, 2);
	ck_assert_mem_eq(dup1.buf, "hi", 2);
	PTIO_CK_OK(ptio_fd_close(&dup1.a));
	PTIO_CK_OK(ptio_fd_close(&dup1.peer));
}
END_TEST

START_TEST(test_open_detects_kind_and_close_owns)
{
	struct ptio_fd s0, s1, rd, wr;
	int fd;

	open_socketpair(&s0, &s1);
	ck_assert_uint_eq(s0.src.oflags & (PTIO_FD_SOCKET | PTIO_FD_PIPE),
			  PTIO_FD_SOCKET);
	ck_assert(is_nonblocking(ptio_fd_fileno(&s0)));
	open_pipe(&rd, &wr);
	ck_assert_uint_eq(rd.src.oflags & (PTIO_FD_SOCKET | PTIO_FD_PIPE),
			  PTIO_FD_PIPE);
	fd = ptio_fd_fileno(&wr);
	PTIO_CK_OK(ptio_fd_close(&wr));
	ck_assert_int_eq(ptio_fd_fileno(&wr), -1);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1); /* the stream owned it */
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(ptio_fd_close(&wr), 0);  /* idempotent */
	PTIO_CK_OK(ptio_fd_close(&rd));
	PTIO_CK_OK(ptio_fd_close(&s0));
	PTIO_CK_OK(ptio_fd_close(&s1));
}
END_TEST

START_TEST(test_noclose_restores_blocking_mode)
{
	struct ptio_fd f;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert(!is_nonblocking(p[0]));
	PTIO_CK_OK(ptio_fd_open(&f, &ptio_test_loop, p[0], PTIO_FD_NOCLOSE));
	ck_assert(is_nonblocking(p[0]));
	ck_assert_uint_ne(f.src.oflags & PTIO_FD_WASBLOCK, 0);
	PTIO_CK_OK(ptio_fd_close(&f));
	ck_assert_int_ge(fcntl(p[0], F_GETFD), 0); /* still open */
	ck_assert(!is_nonblocking(p[0]));           /* and blocking again */
	/* A descriptor that was non-blocking already stays so. */
	ck_assert_int_eq(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
	PTIO_CK_OK(ptio_fd_open(&f, &ptio_test_loop, p[1], PTIO_FD_NOCLOSE));
	ck_assert_uint_eq(f.src.oflags & PTIO_FD_WASBLOCK, 0);
	PTIO_CK_OK(ptio_fd_close(&f));
	ck_assert(is_nonblocking(p[1]));
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_calls_on_closed_stream_fail)
{
	struct ptio_fd a, b;
	uint8_t byte = 0;
	struct ptio_readbuf rb;

	open_socketpair(&a, &b);
	PTIO_CK_OK(ptio_fd_close(&a));
	ptio_readbuf_init(&rb, &byte, 1);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&a), &byte, 1),
			 PTIO_ECLOSED);
	ck_assert_int_eq(ptio_nb_read_buf_vectored(ptio_fd_reader(&a), &rb, 1),
			 PTIO_ECLOSED);
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&a), &byte, 1),
			 PTIO_ECLOSED);
	ck_assert_int_eq(ptio_poll_ready(ptio_fd_ready(&a), NULL, PTIO_READ),
			 PTIO_ECLOSED);
	ck_assert_int_eq(ptio_fd_shutdown_write(&a), PTIO_ECLOSED);
	/* The peer sees end of stream. */
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&b), &byte, 1), 0);
	PTIO_CK_OK(ptio_fd_close(&b));
}
END_TEST

/* ---- Non-blocking and vectored calls ------------------------------------ */

START_TEST(test_would_block_clears_readiness)
{
	struct ptio_fd a, b;
	uint8_t buf[8];

	open_socketpair(&a, &b);
	ptio_source_ready(&a.src, PTIO_READABLE); /* as a backend reports it */
	ck_assert_int_eq(ptio_poll_ready(ptio_fd_ready(&a), NULL, PTIO_READ),
			 PTIO_READABLE);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&a), buf, sizeof(buf)),
			 PTIO_WOULD_BLOCK);
	ck_assert_uint_eq(a.src.ready, PTIO_WRITABLE);
	ck_assert_int_eq(ptio_poll_ready(ptio_fd_ready(&a), NULL, PTIO_READ),
			 PTIO_WOULD_BLOCK);
	/* Zero-length calls make no system call and change nothing. */
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&a), buf, 0), 0);
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&a), buf, 0), 0);
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&b), "hey", 3), 3);
	/* Found drained once, the stream answers reads from its cache until
	 * the backend reports it readable again. */
	ck_assert(a.src.oflags & PTIO_FD_DRAINED);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&a), buf, sizeof(buf)),
			 PTIO_WOULD_BLOCK);
	ptio_source_ready(&a.src, PTIO_READABLE);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&a), buf, sizeof(buf)),
			 3);
	ck_assert_int_eq(memcmp(buf, "hey", 3), 0);
	/* That read was short: the stream is drained, without a second
	 * read to meet EAGAIN. */
	ck_assert_uint_eq(a.src.ready & PTIO_READABLE, 0);
	ck_assert_uint_eq(fill_until_blocked(&a) > 0, 1);
	PTIO_CK_OK(ptio_fd_close(&a));
	PTIO_CK_OK(ptio_fd_close(&b));
}
END_TEST

START_TEST(test_vectored_read_spreads_over_readbufs)
{
	struct ptio_fd a, b;
	struct ptio_iovec iov[4];
	struct ptio_readbuf rbs[4];
	uint8_t x[3], y[10], z[100];

	open_socketpair(&a, &b);
	iov[0] = ptio_iovec_make("", 0);
	iov[1] = ptio_iovec_make("abc", 3);
	iov[2] = ptio_iovec_make("", 0);
	iov[3] = ptio_iovec_make("defgh", 5);
	ck_assert_int_eq(ptio_nb_write_vectored(ptio_fd_writer(&a), iov, 4), 8);
	ptio_readbuf_init(&rbs[0], x, sizeof(x));
	ptio_readbuf_init(&rbs[1], NULL, 0);
	ptio_readbuf_init(&rbs[2], y, sizeof(y));
	ck_assert_uint_eq(ptio_readbuf_append(&rbs[2], "12345678", 8), 8);
	ptio_readbuf_init(&rbs[3], z, sizeof(z));
	ck_assert_int_eq(ptio_nb_read_buf_vectored(ptio_fd_reader(&b), rbs, 4),
			 8);
	ck_assert_uint_eq(rbs[0].filled, 3);
	ck_assert_uint_eq(rbs[1].filled, 0);
	ck_assert_uint_eq(rbs[2].filled, 10);
	ck_assert_uint_eq(rbs[3].filled, 3);
	ck_assert_uint_ge(rbs[3].initialized, 3);
	ck_assert_int_eq(memcmp(x, "abc", 3), 0);
	ck_assert_int_eq(memcmp(y, "12345678de", 10), 0);
	ck_assert_int_eq(memcmp(z, "fgh", 3), 0);
	ck_assert_int_eq(ptio_nb_read_buf_vectored(ptio_fd_reader(&b), rbs, 4),
			 PTIO_WOULD_BLOCK);
	ck_assert_uint_eq(b.src.ready & PTIO_READABLE, 0);
	PTIO_CK_OK(ptio_fd_close(&a));
	PTIO_CK_OK(ptio_fd_close(&b));
}
END_TEST

/* More readbufs than one readv takes: the read is short, and exactly the
 * readbufs it reached advance. */
START_TEST(test_vectored_read_many_readbufs)
{
	struct ptio_fd a, b;
	static struct ptio_readbuf rbs[200];
	static uint8_t bytes[200], src[200];
	ptio_ssize r;
	size_t i;

	open_socketpair(&a, &b);
	pat_fill(src, sizeof(src), 0, 7);
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&a), src, sizeof(src)),
			 (ptio_ssize)sizeof(src));
	for (i = 0; i < 200; i++)
		ptio_readbuf_init(&rbs[i], &bytes[i], 1);
	r = ptio_nb_read_buf_vectored(ptio_fd_reader(&b), rbs, 200);
	ck_assert_int_gt(r, 0);
	ck_assert_int_le(r, 200);
	for (i = 0; i < 200; i++)
		ck_assert_uint_eq(rbs[i].filled, i < (size_t)r ? 1 : 0);
	ck_assert(pat_check(bytes, (size_t)r, 0, 7));
	PTIO_CK_OK(ptio_fd_close(&a));
	PTIO_CK_OK(ptio_fd_close(&b));
}
END_TEST

/* More slices than writev takes (IOV_MAX, 1024 on Linux): a short write,
 * never EINVAL. */
START_TEST(test_vectored_write_caps_slices)
{
	struct ptio_fd a, b;
	static struct ptio_iovec iov[3000];
	static uint8_t src[3000], dst[3000];
	ptio_ssize r;
	size_t i;

	open_socketpair(&a, &b);
	pat_fill(src, sizeof(src), 0, 3);
	for (i = 0; i < 3000; i++)
		iov[i] = ptio_iovec_make(&src[i], 1);
	r = ptio_nb_write_vectored(ptio_fd_writer(&a), iov, 3000);
	ck_assert_int_gt(r, 0);
	ck_assert_int_lt(r, 3000);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&b), dst, sizeof(dst)), r);
	ck_assert(pat_check(dst, (size_t)r, 0, 3));
	/* Only empty slices before the data: they are skipped, not sent as
	 * a zero-byte write. */
	for (i = 0; i < 2000; i++)
		iov[i] = ptio_iovec_make(src, 0);
	iov[2000] = ptio_iovec_make(src, 5);
	ck_assert_int_eq(ptio_nb_write_vectored(ptio_fd_writer(&a), iov, 2001),
			 5);
	PTIO_CK_OK(ptio_fd_close(&a));
	PTIO_CK_OK(ptio_fd_close(&b));
}
END_TEST

/* ---- SIGPIPE --------------------------------------------------------------- */

/* Give SIGPIPE its default action, so the tests below would die if a
 * write raised it. */
static void sigpipe_set_default(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGPIPE, &sa, NULL), 0);
}

/* SIGPIPE still has its default action, is not pending and not
 * blocked: ptio changed nothing the application owns. */
static void sigpipe_assert_untouched(void)
{
	struct sigaction sa;
	sigset_t set;

	ck_assert_int_eq(sigaction(SIGPIPE, NULL, &sa), 0);
	ck_assert(sa.sa_handler == SIG_DFL);
	ck_assert_int_eq(sigpending(&set), 0);
	ck_assert(!sigismember(&set, SIGPIPE));
	ck_assert_int_eq(pthread_sigmask(SIG_BLOCK, NULL, &set), 0);
	ck_assert(!sigismember(&set, SIGPIPE));
}

START_TEST(test_write_to_pipe_without_reader)
{
	struct ptio_fd rd, wr;
	struct ptio_iovec iov = ptio_iovec_make("xy", 2);

	sigpipe_set_default();
	open_pipe(&rd, &wr);
	PTIO_CK_OK(ptio_fd_close(&rd));
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&wr), "x", 1),
			 PTIO_EPIPE);
	ck_assert_int_eq(ptio_nb_write_vectored(ptio_fd_writer(&wr), &iov, 1),
			 PTIO_EPIPE);
	sigpipe_assert_untouched();
	PTIO_CK_OK(ptio_fd_close(&wr));
}
END_TEST

START_TEST(test_write_to_closed_socket_peer)
{
	struct ptio_fd a, b;
	ptio_ssize r;

	sigpipe_set_default();
	open_socketpair(&a, &b);
	PTIO_CK_OK(ptio_fd_close(&b));
	r = ptio_nb_write(ptio_fd_writer(&a), "x", 1);
	ck_assert_msg(r == PTIO_EPIPE || r == PTIO_ECONNRESET, "got %s",
		      ptio_strerror(r));
	sigpipe_assert_untouched();
	PTIO_CK_OK(ptio_fd_close(&a));
}
END_TEST

/* A SIGPIPE the application had pending (and blocked) before the write
 * is its own: ptio must neither consume it nor unblock it. */
START_TEST(test_pending_sigpipe_is_left_alone)
{
	static const struct timespec zero = { 0, 0 };
	struct ptio_fd rd, wr;
	sigset_t set, old, now;

	sigpipe_set_default();
	open_pipe(&rd, &wr);
	PTIO_CK_OK(ptio_fd_close(&rd));
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	ck_assert_int_eq(pthread_sigmask(SIG_BLOCK, &set, &old), 0);
	ck_assert_int_eq(raise(SIGPIPE), 0);
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&wr), "x", 1),
			 PTIO_EPIPE);
	ck_assert_int_eq(sigpending(&now), 0);
	ck_assert(sigismember(&now, SIGPIPE));
	ck_assert_int_eq(pthread_sigmask(SIG_BLOCK, NULL, &now), 0);
	ck_assert(sigismember(&now, SIGPIPE));
	ck_assert_int_eq(sigtimedwait(&set, NULL, &zero), SIGPIPE);
	ck_assert_int_eq(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
	sigpipe_assert_untouched();
	PTIO_CK_OK(ptio_fd_close(&wr));
}
END_TEST

/* ---- One stream, two tasks; one task, two directions -------------------- */

#define SHARE_BYTES (4u << 20)
#define SHARE_CHUNK 65536u

/* A writer and a reader task on stream A at once; B echoes. */
static struct share {
	struct ptio_fd a, b;
	struct ptio_task wt, rt, et;
	struct ptio_op wop, rop, eop;
	size_t wpos, rpos, elen;
	ptio_ssize werr, rerr, eerr;
	bool wdone, bad;
	int both_waiting;  /* times A was seen with both slots taken */
	uint8_t wbuf[SHARE_CHUNK];
	uint8_t rbuf[5000];
	uint8_t ebuf[16384];
} sh;

static ptio_ssize share_writer(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&sh.wop, t);
	for (sh.wpos = 0; sh.wpos < SHARE_BYTES; sh.wpos += SHARE_CHUNK) {
		pat_fill(sh.wbuf, SHARE_CHUNK, sh.wpos, 1);
		PTIO_AWAIT(&t->pt, r,
			   ptio_write_all(&sh.wop, ptio_fd_writer(&sh.a),
					  sh.wbuf, SHARE_CHUNK));
		if (r != (ptio_ssize)SHARE_CHUNK) {
			sh.werr = r < 0 ? r : PTIO_EIO;
			break;
		}
	}
	sh.werr = sh.werr != 0 ? sh.werr : ptio_fd_shutdown_write(&sh.a);
	sh.wdone = true;
	PTIO_END(&t->pt);
}

static ptio_ssize share_reader(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&sh.rop, t);
	for (;;) {
		PTIO_AWAIT(&t->pt, r,
			   ptio_read(&sh.rop, ptio_fd_reader(&sh.a), sh.rbuf,
				     sizeof(sh.rbuf)));
		if (r <= 0) {
			sh.rerr = r;
			break;
		}
		if (!pat_check(sh.rbuf, (size_t)r, sh.rpos, 1))
			sh.bad = true;
		sh.rpos += (size_t)r;
	}
	/* End of stream comes after the echo saw the writer's shutdown. */
	ck_assert(sh.wdone);
	PTIO_CK_OK(ptio_fd_close(&sh.a));
	PTIO_END(&t->pt);
}

static void share_note_slots(void)
{
	if (sh.a.src.waiter[PTIO_SLOT_READ] == &sh.rt &&
	    sh.a.src.waiter[PTIO_SLOT_WRITE] == &sh.wt)
		sh.both_waiting++;
}

static ptio_ssize share_echo(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&sh.eop, t);
	for (;;) {
		share_note_slots();
		PTIO_AWAIT(&t->pt, r,
			   ptio_read(&sh.eop, ptio_fd_reader(&sh.b), sh.ebuf,
				     sizeof(sh.ebuf)));
		if (r <= 0) {
			sh.eerr = r;
			break;
		}
		sh.elen = (size_t)r;
		share_note_slots();
		PTIO_AWAIT(&t->pt, r,
			   ptio_write_all(&sh.eop, ptio_fd_writer(&sh.b),
					  sh.ebuf, sh.elen));
		if (r < 0) {
			sh.eerr = r;
			break;
		}
	}
	PTIO_CK_OK(ptio_fd_close(&sh.b));
	PTIO_END(&t->pt);
}

START_TEST(test_reader_and_writer_share_a_socket)
{
	memset(&sh, 0, sizeof(sh));
	open_socketpair(&sh.a, &sh.b);
	ptio_task_start(&ptio_test_loop, &sh.wt, share_writer);
	ptio_task_start(&ptio_test_loop, &sh.rt, share_reader);
	ptio_task_start(&ptio_test_loop, &sh.et, share_echo);
	ptio_test_run(15000);
	ck_assert_int_eq(sh.werr, 0);
	ck_assert_int_eq(sh.rerr, 0);
	ck_assert_int_eq(sh.eerr, 0);
	ck_assert_uint_eq(sh.rpos, SHARE_BYTES);
	ck_assert(!sh.bad);
	ck_assert_int_gt(sh.both_waiting, 0);
}
END_TEST

/* One task awaits READ_WRITE on a stream that is neither readable nor
 * writable; the peer makes it readable, then writable. */
static struct rw {
	struct ptio_fd a, b;
	struct ptio_task t;
	struct ptio_timed_task peer;
	struct ptio_op op, pop;
	ptio_ssize bits1, bits2;
	bool slots1, slots2;
	size_t filled, drained;
	uint8_t buf[65536];
} rw;

static bool rw_waits_for_both(void)
{
	return rw.a.src.waiter[PTIO_SLOT_READ] == &rw.t &&
	       rw.a.src.waiter[PTIO_SLOT_WRITE] == &rw.t;
}

static ptio_ssize rw_task(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&rw.op, t);
	rw.filled = fill_until_blocked(&rw.a);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&rw.a), rw.buf, 1),
			 PTIO_WOULD_BLOCK);
	PTIO_AWAIT(&t->pt, r,
		   ptio_ready(&rw.op, ptio_fd_ready(&rw.a), PTIO_READ_WRITE));
	rw.bits1 = r;
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&rw.a), rw.buf, 2), 1);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&rw.a), rw.buf, 2),
			 PTIO_WOULD_BLOCK);
	PTIO_AWAIT(&t->pt, r,
		   ptio_ready(&rw.op, ptio_fd_ready(&rw.a), PTIO_READ_WRITE));
	rw.bits2 = r;
	PTIO_CK_OK(ptio_fd_close(&rw.a));
	PTIO_END(&t->pt);
}

static ptio_ssize rw_peer(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&rw.pop, t);
	PTIO_AWAIT(&t->pt, r, ptio_sleep(&rw.pop, 20));
	rw.slots1 = rw_waits_for_both();
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&rw.b), "x", 1), 1);
	PTIO_AWAIT(&t->pt, r, ptio_sleep(&rw.pop, 20));
	rw.slots2 = rw_waits_for_both();
	for (;;) {
		PTIO_AWAIT(&t->pt, r,
			   ptio_read(&rw.pop, ptio_fd_reader(&rw.b), rw.buf,
				     sizeof(rw.buf)));
		if (r <= 0)
			break;
		rw.drained += (size_t)r;
	}
	ck_assert_int_eq(r, 0);
	PTIO_CK_OK(ptio_fd_close(&rw.b));
	PTIO_END(&t->pt);
}

START_TEST(test_one_task_awaits_read_write)
{
	memset(&rw, 0, sizeof(rw));
	open_socketpair(&rw.a, &rw.b);
	ptio_task_start(&ptio_test_loop, &rw.t, rw_task);
	ptio_timed_task_start(&ptio_test_loop, &rw.peer, rw_peer);
	ptio_test_run(5000);
	ck_assert(rw.slots1);
	ck_assert(rw.slots2);
	ck_assert_uint_ne(rw.bits1 & PTIO_READABLE, 0);
	ck_assert_uint_eq(rw.bits1 & PTIO_WRITABLE, 0);
	ck_assert_uint_ne(rw.bits2 & PTIO_WRITABLE, 0);
	ck_assert_uint_eq(rw.bits2 & PTIO_READABLE, 0);
	ck_assert_uint_eq(rw.drained, rw.filled);
}
END_TEST

/* ---- One report, two waiters --------------------------------------------- */

/* A reading task and a different writing task wait on one stream, and one
 * readiness report answers both: READABLE | WRITABLE (the peer drains the
 * stream's full outgoing buffer and sends, in one go), then HUP |
 * READABLE (the peer sends and shuts down).  That one report must wake both
 * tasks: an edge-triggered backend makes it once and never again, and a
 * level-triggered one must not need a second wait either.  The test
 * calls the backend's wait once, by hand, and then finds both waiter
 * slots free.  It fails if the core woke only the read waiter. */
struct waiter {
	struct ptio_task t;
	struct ptio_op op;
	struct ptio_fd *f;
	unsigned interest;
	ptio_ssize bits;      /* what ptio_ready returned */
	unsigned delivered;   /* the readiness its wake delivered */
	bool done;
};

static ptio_ssize waiter_fn(struct ptio_task *t)
{
	struct waiter *w = PTIO_CONTAINER_OF(t, struct waiter, t);
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&w->op, t);
	PTIO_AWAIT(&t->pt, r,
		   ptio_ready(&w->op, ptio_fd_ready(w->f), w->interest));
	w->bits = r;
	w->delivered = t->readiness;
	w->done = true;
	PTIO_END(&t->pt);
}

static struct two {
	struct ptio_fd a, b;
	struct waiter rd, wr;
	uint8_t buf[65536];
} two;

/* Fill A's outgoing buffer, then start a reader and a writer on A and
 * run them once: both wait. */
static void two_wait(void)
{
	memset(&two.rd, 0, sizeof(two.rd));
	memset(&two.wr, 0, sizeof(two.wr));
	two.rd.f = two.wr.f = &two.a;
	two.rd.interest = PTIO_READ;
	two.wr.interest = PTIO_WRITE;
	(void)fill_until_blocked(&two.a);
	ptio_task_start(&ptio_test_loop, &two.rd.t, waiter_fn);
	ptio_task_start(&ptio_test_loop, &two.wr.t, waiter_fn);
	ck_assert_int_eq(ptio_loop_run(&ptio_test_loop, PTIO_RUN_NOWAIT), 2);
	ck_assert_ptr_eq(two.a.src.waiter[PTIO_SLOT_READ], &two.rd.t);
	ck_assert_ptr_eq(two.a.src.waiter[PTIO_SLOT_WRITE], &two.wr.t);
}

/* One wait of the backend (the readiness is there already), then one
 * round: the one report must have woken both tasks. */
static void two_one_report(void)
{
	struct ptio_backend *be = ptio_test_loop.backend;

	PTIO_CK_OK(be->vt->wait(be, 1000));
	ck_assert_msg(two.a.src.waiter[PTIO_SLOT_READ] == NULL,
		      "the reader still waits after the report");
	ck_assert_msg(two.a.src.waiter[PTIO_SLOT_WRITE] == NULL,
		      "the writer still waits after the report");
	ck_assert_int_eq(ptio_loop_run(&ptio_test_loop, PTIO_RUN_NOWAIT), 0);
	ck_assert(two.rd.done && two.wr.done);
}

START_TEST(test_one_report_wakes_reader_and_writer)
{
	int bfd;
	ssize_t n;

	memset(&two, 0, sizeof(two));
	open_socketpair(&two.a, &two.b);
	bfd = ptio_fd_fileno(&two.b);

	/* READABLE | WRITABLE in one report. */
	two_wait();
	while ((n = read(bfd, two.buf, sizeof(two.buf))) > 0)
		;
	ck_assert_int_eq(write(bfd, "x", 1), 1);
	two_one_report();
	ck_assert_int_eq(two.rd.bits, PTIO_READABLE);
	ck_assert_int_eq(two.wr.bits, PTIO_WRITABLE);
	ck_assert_uint_eq(two.rd.delivered & PTIO_READ_WRITE, PTIO_READ_WRITE);
	ck_assert_uint_eq(two.wr.delivered & PTIO_READ_WRITE, PTIO_READ_WRITE);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&two.a), two.buf,
				      sizeof(two.buf)),
			 1);

	/* HUP | READABLE in one report: the peer sends and shuts both
	 * directions down, reading nothing, so A stays full: only the
	 * hang-up can wake the writer. */
	two_wait();
	ck_assert_int_eq(write(bfd, "bye", 3), 3);
	ck_assert_int_eq(shutdown(bfd, SHUT_RDWR), 0);
	two_one_report();
	if (hup_bit() != 0) {
		ck_assert_int_eq(two.rd.bits, PTIO_READABLE | PTIO_HUP);
		ck_assert_int_eq(two.wr.bits, PTIO_HUP);
		ck_assert_uint_eq(two.rd.delivered, PTIO_READABLE | PTIO_HUP);
		ck_assert_uint_eq(two.wr.delivered, PTIO_READABLE | PTIO_HUP);
	} else {
		/* select: readable, and so the blocked writer is told to
		 * try again; its write learns of the hang-up. */
		ck_assert_int_eq(two.rd.bits, PTIO_READABLE);
		ck_assert_int_eq(two.wr.bits, PTIO_WRITABLE);
		ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&two.a), "z", 1),
				 PTIO_EPIPE);
	}
	/* The data before the hang-up, then end of stream. */
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&two.a), two.buf,
				      sizeof(two.buf)),
			 3);
	ck_assert_int_eq(memcmp(two.buf, "bye", 3), 0);
	if (hup_bit() != 0)
		ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&two.a), two.buf,
					      sizeof(two.buf)),
				 0);
	else /* the short read drained the cache; select's next wait
	      * would report the end of stream, which is there: */
		ck_assert_int_eq(read(ptio_fd_fileno(&two.a), two.buf,
				      sizeof(two.buf)),
				 0);
	PTIO_CK_OK(ptio_fd_close(&two.a));
	PTIO_CK_OK(ptio_fd_close(&two.b));
}
END_TEST

/* The peer sends a little and shuts its sending side down, reading
 * nothing, so our writer stays blocked.  The reader pauses between its
 * reads and the writer meets EAGAIN in between, after the hang-up was
 * reported, which takes HUP out of the cache.  The reader must still get
 * the data, then end of stream: an edge-triggered backend reports the
 * hang-up once, so the stream must remember it (PTIO_FD_HUNGUP). */
static struct halfclose {
	struct ptio_fd a, b;
	struct ptio_timed_task rt;
	struct ptio_task wt;
	struct ptio_op rop, wop;
	size_t got;
	ptio_ssize rres, wres;
	uint8_t buf[64];
	uint8_t wbuf[65536];
} hc;

static ptio_ssize hc_reader(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&hc.rop, t);
	for (;;) {
		PTIO_AWAIT(&t->pt, r,
			   ptio_read(&hc.rop, ptio_fd_reader(&hc.a), hc.buf,
				     sizeof(hc.buf)));
		if (r <= 0) {
			hc.rres = r;
			break;
		}
		hc.got += (size_t)r;
		/* Let the writer run before the next read. */
		PTIO_AWAIT(&t->pt, r, ptio_sleep(&hc.rop, 5));
	}
	PTIO_CK_OK(ptio_fd_close(&hc.a));
	PTIO_END(&t->pt);
}

static ptio_ssize hc_writer(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&hc.wop, t);
	(void)fill_until_blocked(&hc.a);
	PTIO_AWAIT(&t->pt, r,
		   ptio_write_all(&hc.wop, ptio_fd_writer(&hc.a), hc.wbuf,
				  sizeof(hc.wbuf)));
	hc.wres = r;
	PTIO_END(&t->pt);
}

START_TEST(test_half_close_while_writer_waits)
{
	memset(&hc, 0, sizeof(hc));
	open_socketpair(&hc.a, &hc.b);
	ptio_timed_task_start(&ptio_test_loop, &hc.rt, hc_reader);
	ptio_task_start(&ptio_test_loop, &hc.wt, hc_writer);
	ck_assert_int_eq(ptio_loop_run(&ptio_test_loop, PTIO_RUN_NOWAIT), 2);
	ck_assert_int_eq(write(ptio_fd_fileno(&hc.b), "hello", 5), 5);
	PTIO_CK_OK(ptio_fd_shutdown_write(&hc.b));
	ptio_test_run(3000);
	ck_assert_uint_eq(hc.got, 5);
	ck_assert_int_eq(hc.rres, 0);
	ck_assert_int_eq(hc.wres, PTIO_ECLOSED);
	PTIO_CK_OK(ptio_fd_close(&hc.b));
}
END_TEST

/* ---- Bulk transfers and hang-ups ------------------------------------------ */

#define BULK_BYTES (1u << 20)

/* The writer sends BULK_BYTES and closes at once; the reader reads it all
 * in odd-sized pieces, then end of stream. */
static struct bulk {
	struct ptio_fd rd, wr;
	struct ptio_task rt, wt;
	struct ptio_op rop, wop;
	size_t got;
	ptio_ssize rerr, werr, eof;
	bool bad;
	uint8_t rbuf[4001];
	uint8_t wbuf[BULK_BYTES];
} bulk;

static ptio_ssize bulk_writer(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&bulk.wop, t);
	PTIO_AWAIT(&t->pt, r,
		   ptio_write_all(&bulk.wop, ptio_fd_writer(&bulk.wr),
				  bulk.wbuf, BULK_BYTES));
	bulk.werr = r == (ptio_ssize)BULK_BYTES ? 0 : r;
	PTIO_CK_OK(ptio_fd_close(&bulk.wr));
	PTIO_END(&t->pt);
}

static ptio_ssize bulk_reader(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&bulk.rop, t);
	for (;;) {
		PTIO_AWAIT(&t->pt, r,
			   ptio_read(&bulk.rop, ptio_fd_reader(&bulk.rd),
				     bulk.rbuf, sizeof(bulk.rbuf)));
		if (r <= 0) {
			bulk.rerr = r;
			break;
		}
		if (!pat_check(bulk.rbuf, (size_t)r, bulk.got, 5))
			bulk.bad = true;
		bulk.got += (size_t)r;
	}
	/* End of stream stays end of stream. */
	bulk.eof = ptio_nb_read(ptio_fd_reader(&bulk.rd), bulk.rbuf, 1);
	PTIO_CK_OK(ptio_fd_close(&bulk.rd));
	PTIO_END(&t->pt);
}

static void bulk_run(bool use_pipe)
{
	memset(&bulk, 0, sizeof(bulk));
	pat_fill(bulk.wbuf, BULK_BYTES, 0, 5);
	if (use_pipe)
		open_pipe(&bulk.rd, &bulk.wr);
	else
		open_socketpair(&bulk.rd, &bulk.wr);
	ptio_task_start(&ptio_test_loop, &bulk.wt, bulk_writer);
	ptio_task_start(&ptio_test_loop, &bulk.rt, bulk_reader);
	ptio_test_run(10000);
	ck_assert_int_eq(bulk.werr, 0);
	ck_assert_int_eq(bulk.rerr, 0);
	ck_assert_int_eq(bulk.eof, 0);
	ck_assert_uint_eq(bulk.got, BULK_BYTES);
	ck_assert(!bulk.bad);
}

START_TEST(test_bulk_then_close_socketpair)
{
	bulk_run(false);
}
END_TEST

START_TEST(test_bulk_then_close_pipe)
{
	bulk_run(true);
}
END_TEST

#define HUP_BYTES 50000u

/* The reader is already waiting when data and the hang-up arrive in the
 * same poll: it must get every byte, then end of stream. */
static struct hup {
	struct ptio_fd rd, wr;
	struct ptio_task rt;
	struct ptio_timed_task wt;
	struct ptio_op rop, wop;
	ptio_ssize bits, rerr;
	size_t got;
	bool bad;
	uint8_t buf[HUP_BYTES];
} hup;

static ptio_ssize hup_writer(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&hup.wop, t);
	PTIO_AWAIT(&t->pt, r, ptio_sleep(&hup.wop, 10));
	pat_fill(hup.buf, HUP_BYTES, 0, 9);
	/* Both fit in an empty pipe or socket buffer, so no wait comes
	 * between the data and the hang-up. */
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&hup.wr), hup.buf,
				       HUP_BYTES),
			 (ptio_ssize)HUP_BYTES);
	PTIO_CK_OK(ptio_fd_close(&hup.wr));
	PTIO_END(&t->pt);
}

static ptio_ssize hup_reader(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&hup.rop, t);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&hup.rd), hup.buf, 1),
			 PTIO_WOULD_BLOCK);
	PTIO_AWAIT(&t->pt, r,
		   ptio_ready(&hup.rop, ptio_fd_ready(&hup.rd), PTIO_READ));
	hup.bits = r;
	for (;;) {
		PTIO_AWAIT(&t->pt, r,
			   ptio_read(&hup.rop, ptio_fd_reader(&hup.rd),
				     hup.buf, 777));
		if (r <= 0) {
			hup.rerr = r;
			break;
		}
		if (!pat_check(hup.buf, (size_t)r, hup.got, 9))
			hup.bad = true;
		hup.got += (size_t)r;
	}
	PTIO_CK_OK(ptio_fd_close(&hup.rd));
	PTIO_END(&t->pt);
}

static void hup_run(bool use_pipe)
{
	memset(&hup, 0, sizeof(hup));
	if (use_pipe)
		open_pipe(&hup.rd, &hup.wr);
	else
		open_socketpair(&hup.rd, &hup.wr);
	ptio_task_start(&ptio_test_loop, &hup.rt, hup_reader);
	ptio_timed_task_start(&ptio_test_loop, &hup.wt, hup_writer);
	ptio_test_run(5000);
	ck_assert_msg((hup.bits & (PTIO_HUP | PTIO_READABLE)) ==
			      (hup_bit() | PTIO_READABLE),
		      "readiness %#lx", (long)hup.bits);
	ck_assert_int_eq(hup.rerr, 0);
	ck_assert_uint_eq(hup.got, HUP_BYTES);
	ck_assert(!hup.bad);
}

START_TEST(test_data_before_hangup_pipe)
{
	hup_run(true);
}
END_TEST

START_TEST(test_data_before_hangup_socketpair)
{
	hup_run(false);
}
END_TEST

/* ---- Close, errors and deadlines while waiting ---------------------------- */

/* A reader and a writer wait on A; a third task closes A.  Both wake with
 * PTIO_ECLOSED and nothing stays registered. */
static struct cl {
	struct ptio_fd a, b;
	struct ptio_task rt, wt;
	struct ptio_timed_task ct;
	struct ptio_op rop, wop, cop;
	ptio_ssize rres, wres;
	bool both_waited;
	size_t regs_after;
	uint8_t buf[64];
} cl;

static ptio_ssize cl_reader(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&cl.rop, t);
	PTIO_AWAIT(&t->pt, r,
		   ptio_read(&cl.rop, ptio_fd_reader(&cl.a), cl.buf,
			     sizeof(cl.buf)));
	cl.rres = r;
	PTIO_END(&t->pt);
}

static ptio_ssize cl_writer(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&cl.wop, t);
	(void)fill_until_blocked(&cl.a);
	PTIO_AWAIT(&t->pt, r,
		   ptio_write_all(&cl.wop, ptio_fd_writer(&cl.a), cl.buf,
				  sizeof(cl.buf)));
	cl.wres = r;
	PTIO_END(&t->pt);
}

static ptio_ssize cl_closer(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&cl.cop, t);
	PTIO_AWAIT(&t->pt, r, ptio_sleep(&cl.cop, 20));
	cl.both_waited = cl.a.src.waiter[PTIO_SLOT_READ] == &cl.rt &&
			 cl.a.src.waiter[PTIO_SLOT_WRITE] == &cl.wt &&
			 backend_regs() == ptio_test_backend_regs(1, 2);
	PTIO_CK_OK(ptio_fd_close(&cl.a));
	/* Running now: no timer, and both waiters are queued, not waiting
	 * (an edge-triggered backend still holds B, which is open). */
	cl.regs_after = ptio_loop_registrations(&ptio_test_loop);
	PTIO_CK_OK(ptio_fd_close(&cl.b));
	PTIO_END(&t->pt);
}

START_TEST(test_close_wakes_waiters)
{
	memset(&cl, 0, sizeof(cl));
	open_socketpair(&cl.a, &cl.b);
	ptio_task_start(&ptio_test_loop, &cl.rt, cl_reader);
	ptio_task_start(&ptio_test_loop, &cl.wt, cl_writer);
	ptio_timed_task_start(&ptio_test_loop, &cl.ct, cl_closer);
	ptio_test_run(5000);
	ck_assert(cl.both_waited);
	ck_assert_uint_eq(cl.regs_after, ptio_test_backend_regs(0, 1));
	ck_assert_int_eq(cl.rres, PTIO_ECLOSED);
	ck_assert_int_eq(cl.wres, PTIO_ECLOSED);
}
END_TEST

/* The descriptor is closed behind the stream's back while a task waits:
 * poll says POLLNVAL, select fails with EBADF, and either must wake the
 * task with an error instead of spinning.  (Not on epoll, which is not
 * told; check-epoll.c has its version.) */
static struct nval {
	struct ptio_fd rd, wr;
	struct ptio_task rt;
	struct ptio_timed_task kt;
	struct ptio_op rop, kop;
	ptio_ssize rres;
	int rd_fd;
	uint8_t buf[8];
} nv;

static ptio_ssize nval_reader(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&nv.rop, t);
	PTIO_AWAIT(&t->pt, r,
		   ptio_read(&nv.rop, ptio_fd_reader(&nv.rd), nv.buf,
			     sizeof(nv.buf)));
	nv.rres = r;
	PTIO_END(&t->pt);
}

static ptio_ssize nval_killer(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&nv.kop, t);
	PTIO_AWAIT(&t->pt, r, ptio_sleep(&nv.kop, 10));
	ck_assert_int_eq(close(nv.rd_fd), 0);
	PTIO_END(&t->pt);
}

START_TEST(test_fd_closed_behind_stream)
{
	memset(&nv, 0, sizeof(nv));
	open_pipe(&nv.rd, &nv.wr);
	nv.rd_fd = ptio_fd_fileno(&nv.rd);
	ptio_task_start(&ptio_test_loop, &nv.rt, nval_reader);
	ptio_timed_task_start(&ptio_test_loop, &nv.kt, nval_killer);
	ptio_test_run(2000);
	ck_assert_int_eq(nv.rres, PTIO_EBADF);
	ck_assert_int_eq(ptio_fd_close(&nv.rd), PTIO_EBADF);
	ck_assert_int_eq(ptio_fd_fileno(&nv.rd), -1);
	PTIO_CK_OK(ptio_fd_close(&nv.wr));
}
END_TEST

/* A task with a 50 ms timeout awaits a read (or, with use_ready, readiness
 * to read: the idle-timeout pattern) on a fresh socket.  A deadline ends
 * the wait with PTIO_ETIMEDOUT and leaves nothing registered (but the
 * open streams on an edge-triggered backend, which registers them for
 * their whole life). */
static struct dl {
	struct ptio_fd a, b;
	struct ptio_timed_task t;
	struct ptio_op op;
	bool use_ready;
	ptio_tick start;
	uint32_t elapsed;
	ptio_ssize res, got;
	size_t regs, bregs;
	bool slots_free;
	uint8_t buf[16];
} dl;

static ptio_ssize dl_task(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&dl.op, t);
	dl.start = ptio_posix_now_ms();
	ptio_task_set_timeout(ptio_task_timed(t), 50);
	if (dl.use_ready)
		PTIO_AWAIT(&t->pt, r,
			   ptio_ready(&dl.op, ptio_fd_ready(&dl.a), PTIO_READ));
	else
		PTIO_AWAIT(&t->pt, r,
			   ptio_read(&dl.op, ptio_fd_reader(&dl.a), dl.buf,
				     sizeof(dl.buf)));
	dl.res = r;
	dl.elapsed = ptio_posix_now_ms() - dl.start;
	dl.regs = ptio_loop_registrations(&ptio_test_loop);
	dl.bregs = backend_regs();
	dl.slots_free = !ptio_source_has_waiters(&dl.a.src);
	if (dl.use_ready && r > 0)
		dl.got = ptio_nb_read(ptio_fd_reader(&dl.a), dl.buf,
				      sizeof(dl.buf));
	ptio_task_clear_deadline(ptio_task_timed(t));
	PTIO_CK_OK(ptio_fd_close(&dl.a));
	PTIO_CK_OK(ptio_fd_close(&dl.b));
	PTIO_END(&t->pt);
}

/* Run dl_task on a fresh socketpair to which EARLY (or nothing) was sent
 * before it was opened; the await leaves nothing registered (as above). */
static void dl_run(bool use_ready, const char *early)
{
	memset(&dl, 0, sizeof(dl));
	dl.use_ready = use_ready;
	open_socketpair_with(&dl.a, &dl.b, early);
	ptio_timed_task_start(&ptio_test_loop, &dl.t, dl_task);
	ptio_test_run(5000);
	ck_assert_uint_eq(dl.regs, ptio_test_backend_regs(0, 2));
	ck_assert_uint_eq(dl.bregs, ptio_test_backend_regs(0, 2));
	ck_assert(dl.slots_free);
}

START_TEST(test_deadline_on_silent_socket)
{
	dl_run(false, NULL);
	ck_assert_int_eq(dl.res, PTIO_ETIMEDOUT);
	ck_assert_uint_ge(dl.elapsed, 45);
	ck_assert_uint_lt(dl.elapsed, 1000);
}
END_TEST

/* ptio_wait_ready answers a ready fd stream inline, from its source's
 * cache (ptio/ops.h), and ptio_task_spend spends inline (ptio/loop.h).
 * Those answers must keep the rules: a pending
 * abort and a passed deadline beat it, a spent budget suspends, a task
 * that is not running spends nothing, and a closed stream says so. */
static struct cached_wait {
	struct ptio_fd a, b;
	struct ptio_timed_task t, other;
	ptio_ssize first, aborted, expired, again, spent, by_hand, closed;
	ptio_ssize spend_aborted, spend_expired;
	uint16_t budget_before, budget_after;
	int activations;
	bool by_source; /* ptio_fd_wait_ready instead of ptio_wait_ready */
} cw;

/* The wait under test: the trait object's or the stream's own. */
static ptio_ssize cw_wait(struct ptio_task *t, struct ptio_ready rd)
{
	if (cw.by_source)
		return ptio_fd_wait_ready(t, (struct ptio_fd *)rd.self,
					  PTIO_READ);
	return ptio_wait_ready(t, rd, PTIO_READ);
}

static ptio_ssize cw_other(struct ptio_task *t)
{
	(void)t;
	return 0;
}

static ptio_ssize cw_task(struct ptio_task *t)
{
	struct ptio_loop *loop = t->loop;
	struct ptio_ready rd = ptio_fd_ready(&cw.a);
	ptio_ssize r;

	cw.activations++;
	PTIO_BEGIN(&t->pt);
	PTIO_AWAIT(&t->pt, r, cw_wait(t, rd));
	cw.first = r; /* READABLE is in the cache from here on */
	ptio_task_abort(t);
	cw.aborted = cw_wait(t, rd);
	ptio_task_abort(t);
	cw.spend_aborted = ptio_task_spend(t);
	ptio_task_set_deadline(ptio_task_timed(t), ptio_loop_now(loop) - 1);
	cw.expired = cw_wait(t, rd);
	cw.spend_expired = ptio_task_spend(t); /* inline too */
	ptio_task_clear_deadline(ptio_task_timed(t));
	cw.again = cw_wait(t, rd);
	/* Spend the rest of the budget: the wait that finds none left
	 * suspends (queued), and answers in the next activation. */
	while (loop->budget > 0)
		(void)cw_wait(t, rd);
	cw.activations = 0;
	PTIO_AWAIT(&t->pt, r, cw_wait(t, rd));
	cw.spent = r;
	cw.budget_before = loop->budget;
	cw.by_hand = cw_wait(&cw.other.task, rd);
	cw.budget_after = loop->budget;
	PTIO_CK_OK(ptio_fd_close(&cw.a));
	cw.closed = cw_wait(t, rd);
	PTIO_CK_OK(ptio_fd_close(&cw.b));
	PTIO_END(&t->pt);
}

static void cw_run(bool by_source)
{
	memset(&cw, 0, sizeof(cw));
	cw.by_source = by_source;
	open_socketpair_with(&cw.a, &cw.b, "x");
	ptio_timed_task_start(&ptio_test_loop, &cw.t, cw_task);
	/* Started and cancelled: alive never, running never. */
	ptio_timed_task_start(&ptio_test_loop, &cw.other, cw_other);
	ptio_task_cancel(&cw.other.task);
	ptio_test_run(2000);
	ck_assert_int_eq(cw.first, PTIO_READABLE);
	ck_assert_int_eq(cw.aborted, PTIO_ECANCELED);
	ck_assert_int_eq(cw.expired, PTIO_ETIMEDOUT);
	ck_assert_int_eq(cw.spend_aborted, PTIO_ECANCELED);
	ck_assert_int_eq(cw.spend_expired, PTIO_ETIMEDOUT);
	ck_assert_int_eq(cw.again, PTIO_READABLE);
	ck_assert_int_eq(cw.spent, PTIO_READABLE);
	ck_assert_int_eq(cw.activations, 1); /* suspended once, not spun */
	ck_assert_int_eq(cw.by_hand, PTIO_READABLE);
	ck_assert_uint_eq(cw.budget_after, cw.budget_before);
	ck_assert_int_eq(cw.closed, PTIO_ECLOSED);
}

START_TEST(test_wait_ready_cached_answer_rules)
{
	cw_run(false);
}
END_TEST

/* The same rules through ptio_fd_wait_ready (ptio_wait_source). */
START_TEST(test_fd_wait_ready_cached_answer_rules)
{
	cw_run(true);
}
END_TEST

/* ---- The stream's own calls (ptio_fd_wait_ready, ptio_fd_nb_read,
 *      ptio_fd_nb_write) ------------------------------------------------- */

/* A task that waits with ptio_fd_wait_ready, whose registration the inline
 * code makes on an edge-triggered backend and must leave to the backend's
 * update on a level-triggered one (or the wake never comes), then reads
 * and echoes with the stream's own calls, twice. */
static struct own_calls {
	struct ptio_fd a, b;
	struct ptio_task t;
	ptio_ssize waits[2], reads[2], again[2], writes[2];
	bool readable_after[2];
	int round;
	char buf[64];
} oc;

static ptio_ssize oc_task(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	for (oc.round = 0; oc.round < 2; oc.round++) {
		PTIO_AWAIT(&t->pt, r, ptio_fd_wait_ready(t, &oc.a, PTIO_READ));
		oc.waits[oc.round] = r;
		oc.reads[oc.round] = ptio_fd_nb_read(&oc.a, oc.buf,
						     sizeof(oc.buf));
		oc.readable_after[oc.round] =
			(oc.a.src.ready & PTIO_READABLE) != 0;
		/* Drained by the short read: answered from the cache. */
		oc.again[oc.round] = ptio_fd_nb_read(&oc.a, oc.buf,
						     sizeof(oc.buf));
		if (oc.reads[oc.round] > 0)
			oc.writes[oc.round] = ptio_fd_nb_write(
				&oc.a, oc.buf, (size_t)oc.reads[oc.round]);
	}
	PTIO_END(&t->pt);
}

/* The peer: sends "ping" then, once the echo is back, "pong!". */
static struct ptio_task oc_peer;

static ptio_ssize oc_peer_fn(struct ptio_task *t)
{
	static const char *const msgs[2] = { "ping", "pong!" };
	static int i;
	static char got[8];
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(ptio_fd_nb_write(&oc.b, msgs[i],
						  strlen(msgs[i])),
				 (ptio_ssize)strlen(msgs[i]));
		PTIO_AWAIT(&t->pt, r, ptio_fd_wait_ready(t, &oc.b, PTIO_READ));
		ck_assert_int_eq(r, PTIO_READABLE);
		ck_assert_int_eq(ptio_fd_nb_read(&oc.b, got, sizeof(got)),
				 (ptio_ssize)strlen(msgs[i]));
		ck_assert_int_eq(memcmp(got, msgs[i], strlen(msgs[i])), 0);
	}
	PTIO_END(&t->pt);
}

START_TEST(test_fd_own_calls_wait_read_write)
{
	int i;

	memset(&oc, 0, sizeof(oc));
	open_socketpair(&oc.a, &oc.b);
	ptio_task_start(&ptio_test_loop, &oc.t, oc_task);
	ptio_task_start(&ptio_test_loop, &oc_peer, oc_peer_fn);
	ptio_test_run(5000);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(oc.waits[i], PTIO_READABLE);
		ck_assert_int_eq(oc.reads[i], i == 0 ? 4 : 5);
		ck_assert(!oc.readable_after[i]);
		ck_assert_int_eq(oc.again[i], PTIO_WOULD_BLOCK);
		ck_assert_int_eq(oc.writes[i], oc.reads[i]);
	}
	ck_assert_int_eq(ptio_loop_registrations(&ptio_test_loop),
			 ptio_test_backend_regs(0, 2));
	PTIO_CK_OK(ptio_fd_close(&oc.a));
	PTIO_CK_OK(ptio_fd_close(&oc.b));
}
END_TEST

/* Outside the inline common case the stream's own calls give what the
 * generic ones give: a fresh stream's first read is tried, an empty
 * length is 0, a pipe's write goes through the SIGPIPE guard (EPIPE, no
 * signal), a full socket answers WOULD_BLOCK and clears WRITABLE, end of
 * stream is 0, and a closed stream is PTIO_ECLOSED. */
START_TEST(test_fd_own_calls_edges)
{
	struct ptio_fd a, b, c, d, rd, wr;
	char buf[4096];
	ptio_ssize w;
	size_t total = 0;

	open_socketpair(&a, &b);
	open_socketpair(&c, &d);
	open_pipe(&rd, &wr);
	memset(buf, 'x', sizeof(buf));
	/* Fresh: not READABLE, not yet found drained, so the read is made. */
	ck_assert_int_eq(ptio_fd_nb_read(&a, buf, sizeof(buf)),
			 PTIO_WOULD_BLOCK);
	ck_assert_int_eq(ptio_fd_nb_read(&a, buf, 0), 0);
	ck_assert_int_eq(ptio_fd_nb_write(&a, buf, 0), 0);
	ck_assert_int_eq(ptio_fd_nb_write(&wr, "abc", 3), 3);
	rd.src.ready |= PTIO_READABLE; /* as the backend would report */
	ck_assert_int_eq(ptio_fd_nb_read(&rd, buf, sizeof(buf)), 3);
	do {
		w = ptio_fd_nb_write(&a, buf, sizeof(buf));
		if (w > 0)
			total += (size_t)w;
	} while (w > 0 && total < ((size_t)64 << 20));
	ck_assert_int_eq(w, PTIO_WOULD_BLOCK);
	ck_assert_uint_eq(a.src.ready & PTIO_WRITABLE, 0);
	PTIO_CK_OK(ptio_fd_close(&d));
	c.src.ready |= PTIO_READABLE;
	ck_assert_int_eq(ptio_fd_nb_read(&c, buf, sizeof(buf)), 0);
	PTIO_CK_OK(ptio_fd_close(&c));
	PTIO_CK_OK(ptio_fd_close(&b));
	PTIO_CK_OK(ptio_fd_close(&rd));
	ck_assert_int_eq(ptio_fd_nb_write(&wr, "abc", 3), PTIO_EPIPE);
	a.src.ready |= PTIO_READABLE;
	PTIO_CK_OK(ptio_fd_close(&a));
	/* Close forgets the cache and the socket flag, which the inline
	 * calls test instead of the descriptor... */
	ck_assert_uint_eq(a.src.ready, 0);
	ck_assert_uint_eq(a.src.oflags & PTIO_FD_SOCKET, 0);
	ck_assert_int_eq(ptio_fd_nb_read(&a, buf, sizeof(buf)), PTIO_ECLOSED);
	ck_assert_int_eq(ptio_fd_nb_write(&a, buf, 1), PTIO_ECLOSED);
	/* ...and a READABLE reported by hand on the closed stream still
	 * gets the closed stream's answer. */
	a.src.ready |= PTIO_READABLE;
	ck_assert_int_eq(ptio_fd_nb_read(&a, buf, sizeof(buf)), PTIO_ECLOSED);
	PTIO_CK_OK(ptio_fd_close(&wr));
}
END_TEST

/* What the inline code hands over when read(2) or send(2) failed: EINTR
 * is made again, EAGAIN is cached. */
START_TEST(test_fd_own_calls_failed_rest)
{
	struct ptio_fd a, b;
	char buf[16];

	open_socketpair_with(&a, &b, "hi");
	a.src.ready |= PTIO_READABLE;
	errno = EINTR;
	ck_assert_int_eq(ptio_fd_nb_read_failed(&a, buf, sizeof(buf)), 2);
	ck_assert_int_eq(memcmp(buf, "hi", 2), 0);
	a.src.ready |= PTIO_READABLE;
	errno = EAGAIN;
	ck_assert_int_eq(ptio_fd_nb_read_failed(&a, buf, sizeof(buf)),
			 PTIO_WOULD_BLOCK);
	ck_assert_uint_eq(a.src.ready & PTIO_READABLE, 0);
	errno = EINTR;
	ck_assert_int_eq(ptio_fd_nb_write_failed(&a, "yo", 2), 2);
	errno = EAGAIN;
	ck_assert_int_eq(ptio_fd_nb_write_failed(&a, "yo", 2),
			 PTIO_WOULD_BLOCK);
	ck_assert_uint_eq(a.src.ready & PTIO_WRITABLE, 0);
	errno = ECONNRESET;
	ck_assert_int_eq(ptio_fd_nb_write_failed(&a, "yo", 2),
			 PTIO_ECONNRESET);
	ck_assert_int_eq(read(ptio_fd_fileno(&b), buf, sizeof(buf)), 2);
	ck_assert_int_eq(memcmp(buf, "yo", 2), 0);
	PTIO_CK_OK(ptio_fd_close(&a));
	PTIO_CK_OK(ptio_fd_close(&b));
}
END_TEST

/* ---- Readiness of a fresh stream (see ptio/posix.h) ----------------------- */

/* Nothing was sent: ready(READ) is an idle timeout that runs its course,
 * not an answer at once from a readiness the stream was born with. */
START_TEST(test_fresh_idle_timeout)
{
	dl_run(true, NULL);
	ck_assert_msg(dl.res == PTIO_ETIMEDOUT,
		      "ready gave %ld (%s) after %u ms", (long)dl.res,
		      ptio_strerror(dl.res), (unsigned)dl.elapsed);
	ck_assert_uint_ge(dl.elapsed, 45);
	ck_assert_uint_lt(dl.elapsed, 1000);
}
END_TEST

/* Data sent before the open is reported by the backend's first wait,
 * long before the timeout. */
START_TEST(test_fresh_data_sent_before_open)
{
	dl_run(true, "early");
	ck_assert_int_eq(dl.res, PTIO_READABLE);
	ck_assert_uint_lt(dl.elapsed, 40);
	ck_assert_int_eq(dl.got, 5);
	ck_assert_int_eq(memcmp(dl.buf, "early", 5), 0);
}
END_TEST

/* A fresh stream, socket or pipe, is writable at once and not readable
 * until the backend says so. */
START_TEST(test_fresh_stream_is_writable)
{
	struct ptio_fd a, b, rd, wr;

	open_socketpair(&a, &b);
	open_pipe(&rd, &wr);
	ck_assert_uint_eq(a.src.ready, PTIO_WRITABLE);
	ck_assert_uint_eq(wr.src.ready, PTIO_WRITABLE);
	ck_assert_int_eq(ptio_poll_ready(ptio_fd_ready(&a), NULL, PTIO_WRITE),
			 PTIO_WRITABLE);
	ck_assert_int_eq(ptio_poll_ready(ptio_fd_ready(&wr), NULL, PTIO_WRITE),
			 PTIO_WRITABLE);
	ck_assert_int_eq(ptio_poll_ready(ptio_fd_ready(&a), NULL, PTIO_READ),
			 PTIO_WOULD_BLOCK);
	ck_assert_int_eq(ptio_poll_ready(ptio_fd_ready(&rd), NULL, PTIO_READ),
			 PTIO_WOULD_BLOCK);
	PTIO_CK_OK(ptio_fd_close(&a));
	PTIO_CK_OK(ptio_fd_close(&b));
	PTIO_CK_OK(ptio_fd_close(&rd));
	PTIO_CK_OK(ptio_fd_close(&wr));
}
END_TEST

/* ---- Signals during waits ------------------------------------------------- */

/* SIGALRM every 2 ms, without SA_RESTART, interrupts poll again and
 * again.  The sleep must still end on time (an EINTR retried with the old
 * timeout would stretch it) and the reader must still get its data. */
static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static struct intr {
	struct ptio_fd rd, wr;
	struct ptio_timed_task st, wt;
	struct ptio_task rt;
	struct ptio_op sop, rop, wop;
	uint32_t slept;
	ptio_tick start;
	ptio_ssize sres, rres;
	uint8_t buf[8];
} ir;

static ptio_ssize intr_sleeper(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&ir.sop, t);
	ir.start = ptio_posix_now_ms();
	PTIO_AWAIT(&t->pt, r, ptio_sleep(&ir.sop, 100));
	ir.sres = r;
	ir.slept = ptio_posix_now_ms() - ir.start;
	PTIO_END(&t->pt);
}

static ptio_ssize intr_reader(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&ir.rop, t);
	PTIO_AWAIT(&t->pt, r,
		   ptio_read_exact(&ir.rop, ptio_fd_reader(&ir.rd), ir.buf, 4));
	ir.rres = r;
	PTIO_CK_OK(ptio_fd_close(&ir.rd));
	PTIO_END(&t->pt);
}

static ptio_ssize intr_writer(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&ir.wop, t);
	PTIO_AWAIT(&t->pt, r, ptio_sleep(&ir.wop, 60));
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&ir.wr), "abcd", 4), 4);
	PTIO_CK_OK(ptio_fd_close(&ir.wr));
	PTIO_END(&t->pt);
}

START_TEST(test_signals_interrupt_waits)
{
	struct sigaction sa, old;
	struct itimerval every2ms = { { 0, 2000 }, { 0, 2000 } };
	struct itimerval off = { { 0, 0 }, { 0, 0 } };

	memset(&ir, 0, sizeof(ir));
	alarms = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: poll fails with EINTR */
	ck_assert_int_eq(sigaction(SIGALRM, &sa, &old), 0);
	open_pipe(&ir.rd, &ir.wr);
	ptio_timed_task_start(&ptio_test_loop, &ir.st, intr_sleeper);
	ptio_task_start(&ptio_test_loop, &ir.rt, intr_reader);
	ptio_timed_task_start(&ptio_test_loop, &ir.wt, intr_writer);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &every2ms, NULL), 0);
	ptio_test_run(5000);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &off, NULL), 0);
	ck_assert_int_eq(sigaction(SIGALRM, &old, NULL), 0);
	ck_assert_int_ge(alarms, 5);
	ck_assert_int_eq(ir.sres, 0);
	ck_assert_uint_ge(ir.slept, 99);
	ck_assert_uint_lt(ir.slept, 400);
	ck_assert_int_eq(ir.rres, 4);
	ck_assert_int_eq(memcmp(ir.buf, "abcd", 4), 0);
}
END_TEST

/* ---- Many fds in one batch ------------------------------------------------ */

#define NPIPES 40

/* NPIPES readers wait on their pipes, and on a socketpair a reader and a
 * blocked writer wait too.  The test makes every pipe and the socketpair
 * readable at once and drives the loop by hand: one wait must report them
 * all (on poll, while the woken tasks' registrations are being removed
 * from the array under the walk), so that the very next round runs every
 * reader.  An entry skipped in the walk would only be reported by a later
 * wait.  The blocked writer must stay waiting (on poll, for POLLOUT
 * only). */
struct piper {
	struct ptio_fd rd, wr;
	struct ptio_task t;
	struct ptio_op op;
	ptio_ssize res;
	uint8_t byte;
	int runs;
};

static struct batch {
	struct piper p[NPIPES];
	struct ptio_fd a, b;
	struct ptio_task srt, swt;
	struct ptio_op srop, swop;
	ptio_ssize srres, swres;
	int srruns;
	uint8_t buf[8];
} bt;

static ptio_ssize piper_task(struct ptio_task *t)
{
	struct piper *p = PTIO_CONTAINER_OF(t, struct piper, t);
	ptio_ssize r;

	p->runs++;
	PTIO_BEGIN(&t->pt);
	ptio_op_init(&p->op, t);
	PTIO_AWAIT(&t->pt, r,
		   ptio_read(&p->op, ptio_fd_reader(&p->rd), &p->byte, 1));
	p->res = r;
	PTIO_CK_OK(ptio_fd_close(&p->rd));
	PTIO_END(&t->pt);
}

static ptio_ssize batch_sock_reader(struct ptio_task *t)
{
	ptio_ssize r;

	bt.srruns++;
	PTIO_BEGIN(&t->pt);
	ptio_op_init(&bt.srop, t);
	PTIO_AWAIT(&t->pt, r,
		   ptio_read(&bt.srop, ptio_fd_reader(&bt.a), bt.buf, 1));
	bt.srres = r;
	PTIO_END(&t->pt);
}

static ptio_ssize batch_sock_writer(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&bt.swop, t);
	(void)fill_until_blocked(&bt.a);
	PTIO_AWAIT(&t->pt, r,
		   ptio_write_all(&bt.swop, ptio_fd_writer(&bt.a), bt.buf, 8));
	bt.swres = r;
	PTIO_END(&t->pt);
}

START_TEST(test_many_fds_in_one_batch)
{
	int i;

	memset(&bt, 0, sizeof(bt));
	for (i = 0; i < NPIPES; i++) {
		open_pipe(&bt.p[i].rd, &bt.p[i].wr);
		ptio_task_start(&ptio_test_loop, &bt.p[i].t, piper_task);
	}
	open_socketpair(&bt.a, &bt.b);
	ptio_task_start(&ptio_test_loop, &bt.srt, batch_sock_reader);
	ptio_task_start(&ptio_test_loop, &bt.swt, batch_sock_writer);
	/* Every task runs once and registers; nothing is ready yet. */
	ck_assert_int_eq(ptio_loop_run(&ptio_test_loop, PTIO_RUN_NOWAIT),
			 NPIPES + 2);
	ck_assert_uint_eq(backend_regs(),
			  ptio_test_backend_regs(NPIPES + 1, 2 * NPIPES + 2));
	for (i = 0; i < NPIPES; i++) {
		uint8_t byte = (uint8_t)i;

		ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&bt.p[i].wr),
					       &byte, 1),
				 1);
	}
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&bt.b), "s", 1), 1);
	/* One wait reports the batch; the next round runs all readers. */
	ck_assert_int_eq(ptio_loop_run(&ptio_test_loop, PTIO_RUN_NOWAIT),
			 NPIPES + 2);
	ck_assert_int_eq(ptio_loop_run(&ptio_test_loop, PTIO_RUN_NOWAIT), 1);
	for (i = 0; i < NPIPES; i++) {
		ck_assert_int_eq(bt.p[i].res, 1);
		ck_assert_uint_eq(bt.p[i].byte, (unsigned)i);
		/* Once to register, once when woken. */
		ck_assert_int_eq(bt.p[i].runs, 2);
	}
	ck_assert_int_eq(bt.srres, 1);
	ck_assert_int_eq(bt.srruns, 2);
	/* The readers closed their ends. */
	ck_assert_uint_eq(backend_regs(), ptio_test_backend_regs(1, NPIPES + 2));
	ck_assert_ptr_null(bt.a.src.waiter[PTIO_SLOT_READ]);
	ck_assert_ptr_eq(bt.a.src.waiter[PTIO_SLOT_WRITE], &bt.swt);
	for (i = 0; i < NPIPES; i++)
		PTIO_CK_OK(ptio_fd_close(&bt.p[i].wr));
	PTIO_CK_OK(ptio_fd_close(&bt.a));
	PTIO_CK_OK(ptio_fd_close(&bt.b));
	ptio_test_run(1000);
	ck_assert_int_eq(bt.swres, PTIO_ECLOSED);
}
END_TEST

/* ---- The poll backend's array, driven directly ------------------------------ */

#define NDIRECT 20

/* The fixture's poll backend. */
static struct ptio_poll *test_poll(void)
{
	return PTIO_CONTAINER_OF(ptio_test_loop.backend, struct ptio_poll,
				 base);
}

/* The index of F's entry in the poll backend, or -1. */
static int32_t poll_entry(const struct ptio_fd *f)
{
	struct ptio_poll *pb = test_poll();
	int fd = ptio_fd_fileno(f);

	if (fd < 0 || (size_t)fd >= pb->nslot)
		return -1;
	return pb->slot[fd];
}

/* The pollfd array as attach, update() and detach() leave it: ENTRIES of
 * the streams F[0..N) have an entry, and ARMED entries in all ask for
 * something; every stream with a waiter has an entry asking for its
 * waiters' interests, and an entry whose stream has no waiter is
 * disabled. */
static void assert_poll_array(struct ptio_fd *f, size_t n, size_t entries,
			      size_t armed)
{
	struct ptio_poll *pb = test_poll();
	size_t i, seen = 0;

	ck_assert_uint_ge(pb->n, entries);
	ck_assert_uint_eq(pb->armed, armed);
	ck_assert_uint_eq(backend_regs(), armed);
	for (i = 0; i < n; i++) {
		unsigned in = ptio_source_interest(&f[i].src);
		short ev = (short)(((in & PTIO_READ) ? POLLIN : 0) |
				   ((in & PTIO_WRITE) ? POLLOUT : 0));
		int32_t k = poll_entry(&f[i]);

		if (k < 0) {
			ck_assert_int_eq(ev, 0);
			continue;
		}
		seen++;
		ck_assert_uint_lt((size_t)k, pb->n);
		ck_assert_ptr_eq(pb->src[k], &f[i].src);
		ck_assert_int_eq(pb->pfd[k].events, ev);
		if (ev != 0)
			ck_assert_int_eq(pb->pfd[k].fd, ptio_fd_fileno(&f[i]));
		else
			ck_assert_int_lt(pb->pfd[k].fd, 0);
	}
	ck_assert_uint_eq(seen, entries);
}

/* Give F's source the waiter TASK (NULL: none) in SLOT and tell the
 * backend, as ptio_source_poll and a wake do. */
static void set_waiter(struct ptio_fd *f, int slot, struct ptio_task *task)
{
	struct ptio_backend *be = ptio_test_loop.backend;

	f->src.waiter[slot] = task;
	PTIO_CK_OK(be->vt->update(be, &f->src));
}

/* A pipe whose read end is the stream RD and whose write end is the
 * plain descriptor *WFD. */
static void open_pipe_reader(struct ptio_fd *rd, int *wfd)
{
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	PTIO_CK_OK(ptio_fd_open(rd, &ptio_test_loop, p[0], 0));
	*wfd = p[1];
}

START_TEST(test_poll_array_update_and_detach)
{
	static struct ptio_fd rd[NDIRECT];
	int wr[NDIRECT];
	struct ptio_backend *be = ptio_test_loop.backend;
	struct ptio_poll *pb = test_poll();
	struct ptio_task idle; /* never started: waking it does nothing */
	struct pollfd *array;
	int32_t at[NDIRECT];
	size_t i, dropped = 0;

	memset(&idle, 0, sizeof(idle));
	/* Opening gives each stream its entry, disabled, in the order of
	 * opening: the array grows past its first allocation. */
	for (i = 0; i < NDIRECT; i++) {
		open_pipe_reader(&rd[i], &wr[i]);
		at[i] = poll_entry(&rd[i]);
		ck_assert_int_eq(at[i], (int32_t)i);
	}
	ck_assert_uint_eq(pb->n, NDIRECT);
	assert_poll_array(rd, NDIRECT, NDIRECT, 0);
	/* Waiters appear: their entries are armed where they are. */
	for (i = 0; i < NDIRECT; i++) {
		set_waiter(&rd[i], PTIO_SLOT_READ, &idle);
		ck_assert_int_eq(poll_entry(&rd[i]), at[i]);
	}
	assert_poll_array(rd, NDIRECT, NDIRECT, NDIRECT);
	set_waiter(&rd[3], PTIO_SLOT_WRITE, &idle);
	assert_poll_array(rd, NDIRECT, NDIRECT, NDIRECT);
	/* Waiters go, at the front, the middle and the end: their entries
	 * stay where they are, disabled. */
	array = pb->pfd;
	for (i = 0; i < NDIRECT; i += 3, dropped++) {
		set_waiter(&rd[i], PTIO_SLOT_READ, NULL);
		set_waiter(&rd[i], PTIO_SLOT_WRITE, NULL);
	}
	assert_poll_array(rd, NDIRECT, NDIRECT, NDIRECT - dropped);
	/* And come back to the same places, with nothing reallocated. */
	for (i = 0; i < NDIRECT; i += 3)
		set_waiter(&rd[i], PTIO_SLOT_READ, &idle);
	assert_poll_array(rd, NDIRECT, NDIRECT, NDIRECT);
	for (i = 0; i < NDIRECT; i++)
		ck_assert_int_eq(poll_entry(&rd[i]), at[i]);
	ck_assert_ptr_eq(pb->pfd, array);
	/* A wait reports what is ready, looks no further than the last
	 * ready entry, and leaves unanswered entries alone (the idle task
	 * cannot be woken, so its slots stay). */
	ck_assert_int_eq(write(wr[4], "z", 1), 1);
	PTIO_CK_OK(be->vt->wait(be, 0));
	ck_assert_uint_ne(rd[4].src.ready & PTIO_READABLE, 0);
	ck_assert_uint_eq(pb->walked, (size_t)at[4] + 1);
	assert_poll_array(rd, NDIRECT, NDIRECT, NDIRECT);
	/* Detach drops an entry whatever its waiters say, and the last
	 * entry moves into its place. */
	be->vt->detach(be, &rd[4].src);
	rd[4].src.waiter[PTIO_SLOT_READ] = NULL;
	ck_assert_int_eq(poll_entry(&rd[4]), -1);
	ck_assert_int_eq(poll_entry(&rd[NDIRECT - 1]), at[4]);
	assert_poll_array(rd, NDIRECT, NDIRECT - 1, NDIRECT - 1);
	for (i = 0; i < NDIRECT; i++) {
		rd[i].src.waiter[PTIO_SLOT_WRITE] = NULL;
		set_waiter(&rd[i], PTIO_SLOT_READ, NULL);
	}
	assert_poll_array(rd, NDIRECT, NDIRECT - 1, 0);
	ck_assert_uint_eq(backend_regs(), 0);
	/* Closing detaches. */
	for (i = 0; i < NDIRECT; i++) {
		PTIO_CK_OK(ptio_fd_close(&rd[i]));
		close(wr[i]);
	}
	ck_assert_uint_eq(pb->n, 0);
}
END_TEST

/* A hang-up that nobody waits for must not make poll return at once
 * again and again: poll reports POLLHUP even for an entry that asks for
 * no events, so the backend disables it (a negative fd).  A task that
 * then waits learns of the hang-up at the next wait.  Another stream, C,
 * has a waiter all along, so that poll is really asked about A's entry
 * (with nothing armed the backend only sleeps). */
static struct nohup {
	struct ptio_fd a, b, c, d;
	struct ptio_timed_task st;
	struct ptio_op op;
	ptio_ssize res;
} nh;

static ptio_ssize nohup_sleeper(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&nh.op, t);
	PTIO_AWAIT(&t->pt, r, ptio_sleep(&nh.op, 30));
	nh.res = r;
	PTIO_END(&t->pt);
}

START_TEST(test_poll_hangup_nobody_waits)
{
	struct ptio_backend *be = ptio_test_loop.backend;
	struct ptio_poll *pb = test_poll();
	struct ptio_task idle;
	uint8_t buf[4];
	int32_t at;
	int rounds = 0;

	memset(&nh, 0, sizeof(nh));
	memset(&idle, 0, sizeof(idle));
	open_socketpair(&nh.a, &nh.b);
	open_socketpair(&nh.c, &nh.d);
	set_waiter(&nh.c, PTIO_SLOT_READ, &idle);
	/* A wait, answered; then nobody waits, and the peer hangs up. */
	set_waiter(&nh.a, PTIO_SLOT_READ, &idle);
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&nh.b), "x", 1), 1);
	PTIO_CK_OK(be->vt->wait(be, 0));
	ck_assert_uint_ne(nh.a.src.ready & PTIO_READABLE, 0);
	set_waiter(&nh.a, PTIO_SLOT_READ, NULL);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&nh.a), buf, sizeof(buf)),
			 1);
	PTIO_CK_OK(ptio_fd_close(&nh.b));
	at = poll_entry(&nh.a);
	ck_assert_int_ge(at, 0);
	ck_assert_uint_eq(backend_regs(), 1);
	/* A wait sees nothing, and the loop sleeps its whole 30 ms in a
	 * round or two instead of spinning on the hang-up. */
	PTIO_CK_OK(be->vt->wait(be, 0));
	ck_assert_uint_eq(pb->walked, 0);
	ck_assert_uint_eq(nh.a.src.ready & PTIO_HUP, 0);
	ptio_timed_task_start(&ptio_test_loop, &nh.st, nohup_sleeper);
	while (ptio_task_alive(&nh.st.task) && rounds < 1000) {
		ck_assert_int_ge(ptio_loop_run(&ptio_test_loop, PTIO_RUN_ONCE),
				 0);
		rounds++;
	}
	ck_assert_int_eq(nh.res, 0);
	ck_assert_int_le(rounds, 5);
	ck_assert_uint_eq(nh.a.src.ready & PTIO_HUP, 0);
	/* Someone waits again: the hang-up is reported at once, and the
	 * read after it finds end of stream. */
	set_waiter(&nh.a, PTIO_SLOT_READ, &idle);
	ck_assert_int_eq(pb->pfd[at].fd, ptio_fd_fileno(&nh.a));
	PTIO_CK_OK(be->vt->wait(be, 0));
	ck_assert_uint_ne(nh.a.src.ready & PTIO_HUP, 0);
	set_waiter(&nh.a, PTIO_SLOT_READ, NULL);
	set_waiter(&nh.c, PTIO_SLOT_READ, NULL);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&nh.a), buf, sizeof(buf)),
			 0);
	PTIO_CK_OK(ptio_fd_close(&nh.a));
	PTIO_CK_OK(ptio_fd_close(&nh.c));
	PTIO_CK_OK(ptio_fd_close(&nh.d));
	ck_assert_uint_eq(pb->n, 0);
}
END_TEST

/* Streams come and go beside a few that stay: a closed stream's place
 * is reused, so the array holds no more entries than there are open
 * streams, however many came before. */
#define REUSE_STAY 4
#define REUSE_BURST 8
#define REUSE_ROUNDS 200

START_TEST(test_poll_entries_reused)
{
	static struct ptio_fd stay[REUSE_STAY], stay_wr[REUSE_STAY];
	static struct ptio_fd rd[REUSE_BURST], wr[REUSE_BURST];
	struct ptio_poll *pb = test_poll();
	struct ptio_task idle;
	uint32_t rng = 12345;
	size_t order[REUSE_BURST];
	size_t i, round, cap = 0;

	memset(&idle, 0, sizeof(idle));
	for (i = 0; i < REUSE_STAY; i++) {
		open_pipe(&stay[i], &stay_wr[i]);
		set_waiter(&stay[i], PTIO_SLOT_READ, &idle);
	}
	for (round = 0; round < REUSE_ROUNDS; round++) {
		for (i = 0; i < REUSE_BURST; i++) {
			open_pipe(&rd[i], &wr[i]);
			set_waiter(&rd[i], PTIO_SLOT_READ, &idle);
		}
		ck_assert_uint_eq(pb->n, 2 * (REUSE_STAY + REUSE_BURST));
		/* Close them in a random order, some while their waiter
		 * is still there (closing wakes it: a no-op here). */
		for (i = 0; i < REUSE_BURST; i++)
			order[i] = i;
		for (i = REUSE_BURST; i > 1; i--) {
			size_t k = ptio_test_xorshift(&rng) % i, t = order[k];

			order[k] = order[i - 1];
			order[i - 1] = t;
		}
		for (i = 0; i < REUSE_BURST; i++) {
			size_t k = order[i];

			if (ptio_test_xorshift(&rng) & 1)
				set_waiter(&rd[k], PTIO_SLOT_READ, NULL);
			PTIO_CK_OK(ptio_fd_close(&rd[k]));
			PTIO_CK_OK(ptio_fd_close(&wr[k]));
			ck_assert_uint_eq(pb->n, 2 * (REUSE_STAY + REUSE_BURST -
							  1 - i));
		}
		assert_poll_array(stay, REUSE_STAY, REUSE_STAY, REUSE_STAY);
		if (round == 0)
			cap = pb->cap;
		ck_assert_uint_eq(pb->cap, cap);
	}
	for (i = 0; i < REUSE_STAY; i++) {
		set_waiter(&stay[i], PTIO_SLOT_READ, NULL);
		PTIO_CK_OK(ptio_fd_close(&stay[i]));
		PTIO_CK_OK(ptio_fd_close(&stay_wr[i]));
	}
	ck_assert_uint_eq(pb->n, 0);
}
END_TEST

/* ---- Many idle fds ------------------------------------------------------- */

/* NIDLE socketpairs sit idle in the backend, a task waiting to read on
 * one end of each (the memory-sensitive path: ready(READ), no buffer),
 * while one active pair, which waited first, plays IDLE_MSGS rounds of
 * 64-byte ping-pong.  Every exchange must work, the array must not change
 * under the exchanges (no entry added, removed or moved, no
 * reallocation, the idle entries untouched), and no wait may look at
 * more entries than the active pair's: the backend's work per wait
 * (in user space) does not grow with the idle fds. */
#define NIDLE 2000
#define IDLE_MSGS 200

struct idler {
	struct ptio_fd f;
	int peer;
	struct ptio_task t;
	struct ptio_op op;
	ptio_ssize res;
};

static struct many_idle {
	struct idler idle[NIDLE];
	size_t nidle;
	struct ptio_fd x, y;         /* the active pair */
	struct ptio_task pt, qt;     /* pinger on x, ponger on y */
	struct ptio_op pop, qop;
	int exchanges, bad;
	ptio_ssize pres, qres;
	size_t qlen;
	bool on_poll;                /* the array checks are poll's */
	size_t max_walked;
	struct pollfd *array;        /* the array after the first exchange */
	size_t n;
	int32_t xat, yat;
	struct pollfd *snapshot;     /* its idle entries then */
	uint8_t pbuf[64], qbuf[64];
} mi;

static ptio_ssize idler_task(struct ptio_task *t)
{
	struct idler *d = PTIO_CONTAINER_OF(t, struct idler, t);
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&d->op, t);
	PTIO_AWAIT(&t->pt, r,
		   ptio_ready(&d->op, ptio_fd_ready(&d->f), PTIO_READ));
	d->res = r;
	PTIO_END(&t->pt);
}

/* After each exchange but the first: the array is as the first left it,
 * and the last wait looked at no entry past the active pair's. */
static void many_idle_check(void)
{
	struct ptio_poll *pb;
	size_t idle_from = 2, k;

	if (!mi.on_poll)
		return;
	pb = test_poll();
	if (mi.exchanges == 1) {
		mi.array = pb->pfd;
		mi.n = pb->n;
		mi.xat = poll_entry(&mi.x);
		mi.yat = poll_entry(&mi.y);
		ck_assert_uint_eq(mi.n, mi.nidle + 2);
		ck_assert_int_lt(mi.xat, 2);
		ck_assert_int_lt(mi.yat, 2);
		mi.snapshot = malloc((mi.n - idle_from) * sizeof(*mi.snapshot));
		ck_assert_ptr_nonnull(mi.snapshot);
		memcpy(mi.snapshot, pb->pfd + idle_from,
		       (mi.n - idle_from) * sizeof(*mi.snapshot));
		for (k = idle_from; k < mi.n; k++)
			ck_assert_int_eq(pb->pfd[k].events, POLLIN);
		return;
	}
	if (pb->pfd != mi.array || pb->n != mi.n ||
	    poll_entry(&mi.x) != mi.xat || poll_entry(&mi.y) != mi.yat ||
	    memcmp(mi.snapshot, pb->pfd + idle_from,
		   (mi.n - idle_from) * sizeof(*mi.snapshot)) != 0)
		mi.bad++;
	if (pb->walked > mi.max_walked)
		mi.max_walked = pb->walked;
}

static ptio_ssize many_pinger(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&mi.pop, t);
	for (mi.exchanges = 0; mi.exchanges < IDLE_MSGS;) {
		pat_fill(mi.pbuf, sizeof(mi.pbuf), (size_t)mi.exchanges, 11);
		PTIO_AWAIT(&t->pt, r,
			   ptio_write_all(&mi.pop, ptio_fd_writer(&mi.x),
					  mi.pbuf, sizeof(mi.pbuf)));
		if (r < 0)
			break;
		memset(mi.pbuf, 0, sizeof(mi.pbuf));
		PTIO_AWAIT(&t->pt, r,
			   ptio_read_exact(&mi.pop, ptio_fd_reader(&mi.x),
					   mi.pbuf, sizeof(mi.pbuf)));
		if (r < 0)
			break;
		if (!pat_check(mi.pbuf, sizeof(mi.pbuf), (size_t)mi.exchanges,
			       11))
			mi.bad++;
		mi.exchanges++;
		many_idle_check();
	}
	mi.pres = r;
	PTIO_CK_OK(ptio_fd_close(&mi.x));
	PTIO_END(&t->pt);
}

static ptio_ssize many_ponger(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&mi.qop, t);
	for (;;) {
		PTIO_AWAIT(&t->pt, r,
			   ptio_read(&mi.qop, ptio_fd_reader(&mi.y), mi.qbuf,
				     sizeof(mi.qbuf)));
		if (r <= 0)
			break;
		mi.qlen = (size_t)r;
		PTIO_AWAIT(&t->pt, r,
			   ptio_write_all(&mi.qop, ptio_fd_writer(&mi.y),
					  mi.qbuf, mi.qlen));
		if (r < 0)
			break;
	}
	mi.qres = r;
	PTIO_CK_OK(ptio_fd_close(&mi.y));
	PTIO_END(&t->pt);
}

/* Make room for NEED more descriptors if the soft limit allows raising;
 * returns how many the process may still open. */
static size_t fds_available(size_t need, struct rlimit *old)
{
	struct rlimit lim;
	int open_now = ptio_test_count_fds();

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, old), 0);
	ck_assert_int_ge(open_now, 0);
	lim = *old;
	if (lim.rlim_cur != RLIM_INFINITY &&
	    lim.rlim_cur < (rlim_t)(need + (size_t)open_now)) {
		lim.rlim_cur = (rlim_t)(need + (size_t)open_now);
		if (lim.rlim_max != RLIM_INFINITY &&
		    lim.rlim_cur > lim.rlim_max)
			lim.rlim_cur = lim.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &lim);
		ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &lim), 0);
	}
	if (lim.rlim_cur == RLIM_INFINITY)
		return need;
	return (size_t)lim.rlim_cur > (size_t)open_now
		       ? (size_t)lim.rlim_cur - (size_t)open_now
		       : 0;
}

START_TEST(test_many_idle_fds)
{
	struct rlimit old;
	size_t i, room;
	int sv[2];

	memset(&mi, 0, sizeof(mi));
	mi.on_poll = ptio_test_backend_is("poll");
	/* Two descriptors per pair, and a margin for valgrind and the
	 * harness; on a host that cannot give that many, fewer idlers. */
	room = fds_available(2 * NIDLE + 64, &old);
	mi.nidle = room >= 2 * NIDLE + 64 ? NIDLE : (room - 64) / 2;
	/* select holds descriptors below FD_SETSIZE only. */
	if (ptio_test_backend_is("select") &&
	    mi.nidle > (FD_SETSIZE - 128 - (size_t)ptio_test_count_fds()) / 2)
		mi.nidle = (FD_SETSIZE - 128 - (size_t)ptio_test_count_fds()) / 2;
	ck_assert_uint_ge(mi.nidle, 200);
	open_socketpair(&mi.x, &mi.y);
	ptio_task_start(&ptio_test_loop, &mi.pt, many_pinger);
	ptio_task_start(&ptio_test_loop, &mi.qt, many_ponger);
	for (i = 0; i < mi.nidle; i++) {
		struct idler *d = &mi.idle[i];

		ck_assert_int_eq(socketpair(AF_UNIX,
					    SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
				 0);
		PTIO_CK_OK(ptio_fd_open(&d->f, &ptio_test_loop, sv[0], 0));
		d->peer = sv[1];
		ptio_task_start(&ptio_test_loop, &d->t, idler_task);
	}
	/* The ping-pong runs to its end while the idlers wait. */
	while (ptio_task_alive(&mi.pt))
		ck_assert_int_ge(ptio_loop_run(&ptio_test_loop, PTIO_RUN_ONCE),
				 0);
	ck_assert_int_eq(mi.pres, sizeof(mi.pbuf));
	ck_assert_int_eq(mi.exchanges, IDLE_MSGS);
	ck_assert_int_eq(mi.bad, 0);
	if (mi.on_poll)
		ck_assert_uint_le(mi.max_walked, 2);
	ck_assert_uint_ge(backend_regs(), mi.nidle);
	/* Closing each idle stream wakes its task with PTIO_ECLOSED. */
	for (i = 0; i < mi.nidle; i++) {
		PTIO_CK_OK(ptio_fd_close(&mi.idle[i].f));
		close(mi.idle[i].peer);
	}
	ptio_test_run(10000);
	for (i = 0; i < mi.nidle; i++)
		ck_assert_int_eq(mi.idle[i].res, PTIO_ECLOSED);
	ck_assert_int_eq(mi.qres, 0);
	if (mi.on_poll)
		ck_assert_uint_eq(test_poll()->n, 0);
	free(mi.snapshot);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
}
END_TEST

/* ---- The suite ------------------------------------------------------------- */

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create(ptio_test_suite_name("fd"));
	bool on_poll = ptio_test_backend_is("poll");
	bool on_select = ptio_test_backend_is("select");
	TCase *tc;

	tc = tcase_create("open-close");
	tcase_add_checked_fixture(tc, ptio_test_loop_setup,
				  ptio_test_loop_teardown);
	tcase_add_test(tc, test_open_rejects_bad_input);
	tcase_add_test(tc, test_open_detects_kind_and_close_owns);
	tcase_add_test(tc, test_open_twice_is_busy);
	tcase_add_test(tc, test_noclose_restores_blocking_mode);
	tcase_add_test(tc, test_calls_on_closed_stream_fail);
	suite_add_tcase(s, tc);

	tc = tcase_create("nonblocking");
	tcase_add_checked_fixture(tc, ptio_test_loop_setup,
				  ptio_test_loop_teardown);
	tcase_add_test(tc, test_would_block_clears_readiness);
	tcase_add_test(tc, test_vectored_read_spreads_over_readbufs);
	tcase_add_test(tc, test_vectored_read_many_readbufs);
	tcase_add_test(tc, test_vectored_write_caps_slices);
	suite_add_tcase(s, tc);

	tc = tcase_create("sigpipe");
	tcase_add_checked_fixture(tc, ptio_test_loop_setup,
				  ptio_test_loop_teardown);
	tcase_add_test(tc, test_write_to_pipe_without_reader);
	tcase_add_test(tc, test_write_to_closed_socket_peer);
	tcase_add_test(tc, test_pending_sigpipe_is_left_alone);
	suite_add_tcase(s, tc);

	tc = tcase_create("tasks");
	tcase_add_checked_fixture(tc, ptio_test_loop_setup,
				  ptio_test_loop_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_reader_and_writer_share_a_socket);
	tcase_add_test(tc, test_one_task_awaits_read_write);
	tcase_add_test(tc, test_one_report_wakes_reader_and_writer);
	tcase_add_test(tc, test_half_close_while_writer_waits);
	tcase_add_test(tc, test_bulk_then_close_socketpair);
	tcase_add_test(tc, test_bulk_then_close_pipe);
	tcase_add_test(tc, test_data_before_hangup_pipe);
	tcase_add_test(tc, test_data_before_hangup_socketpair);
	suite_add_tcase(s, tc);

	tc = tcase_create("wakeups");
	tcase_add_checked_fixture(tc, ptio_test_loop_setup,
				  ptio_test_loop_teardown);
	tcase_add_test(tc, test_close_wakes_waiters);
	if (on_poll || on_select) /* epoll is not told (ptio/posix.h) */
		tcase_add_test(tc, test_fd_closed_behind_stream);
	tcase_add_test(tc, test_deadline_on_silent_socket);
	tcase_add_test(tc, test_wait_ready_cached_answer_rules);
	tcase_add_test(tc, test_fd_wait_ready_cached_answer_rules);
	tcase_add_test(tc, test_fd_own_calls_wait_read_write);
	tcase_add_test(tc, test_fd_own_calls_edges);
	tcase_add_test(tc, test_fd_own_calls_failed_rest);
	tcase_add_test(tc, test_signals_interrupt_waits);
	tcase_add_test(tc, test_many_fds_in_one_batch);
	if (on_poll) {
		tcase_add_test(tc, test_poll_array_update_and_detach);
		tcase_add_test(tc, test_poll_hangup_nobody_waits);
		tcase_add_test(tc, test_poll_entries_reused);
	}
	suite_add_tcase(s, tc);

	tc = tcase_create("fresh");
	tcase_add_checked_fixture(tc, ptio_test_loop_setup,
				  ptio_test_loop_teardown);
	tcase_add_test(tc, test_fresh_idle_timeout);
	tcase_add_test(tc, test_fresh_data_sent_before_open);
	tcase_add_test(tc, test_fresh_stream_is_writable);
	suite_add_tcase(s, tc);

	tc = tcase_create("idle");
	tcase_add_checked_fixture(tc, ptio_test_loop_setup,
				  ptio_test_loop_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_many_idle_fds);
	suite_add_tcase(s, tc);
	return s;
}
