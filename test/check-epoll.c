/*
 * test/check-epoll.c - the epoll backend itself (src/posix/epoll.c), on
 * socketpairs, pipes and files.  check-fd.c and check-tcp.c run on it as
 * on every backend; this suite tests what only it does: one registration
 * per stream for the stream's whole life and no system call per wait or
 * message, stale events (of a stream closed after the kernel answered,
 * or left in the kernel by a descriptor closed behind its stream's back)
 * never delivered, descriptors epoll refuses, and more ready streams
 * than one wait takes.
 *
 * The program defines epoll_wait and epoll_ctl, which the library then
 * calls instead of the C library's (a definition in the program comes
 * first): they count the calls, and epoll_wait can run a hook between
 * the kernel's answer and the backend's report of it.
 *
 * Divided into: the system call seam, helpers, registrations, closing,
 * stale events, refused descriptors, many streams.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <check.h>
#include "test/helpers.h"

#ifdef HAVE_SYS_EPOLL_H

#include <sys/epoll.h>
#include <sys/syscall.h>

/* ---- The system call seam ------------------------------------------------- */

static struct {
	unsigned long waits;       /* epoll_wait calls */
	unsigned long ctls;        /* epoll_ctl calls */
	int last_n;                /* what the last epoll_wait returned */
	int last_fd[256];          /* and the descriptors its events named */
	void (*after_wait)(void);  /* run once, after a wait with events */
} sys;

int epoll_wait(int epfd, struct epoll_event *ev, int max, int ms)
{
	int n = epoll_pwait(epfd, ev, max, ms, NULL);
	void (*hook)(void) = sys.after_wait;
	int i;

	sys.waits++;
	sys.last_n = n;
	for (i = 0; i < n && i < 256; i++)
		sys.last_fd[i] = ev[i].data.fd;
	if (n > 0 && hook != NULL) {
		sys.after_wait = NULL;
		hook();
	}
	return n;
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	sys.ctls++;
	return (int)syscall(SYS_epoll_ctl, epfd, op, fd, ev);
}

/* ---- Helpers --------------------------------------------------------------- */

/* True when the last epoll_wait returned an event for descriptor FD. */
static bool batch_had(int fd)
{
	int i;

	for (i = 0; i < sys.last_n && i < 256; i++)
		if (sys.last_fd[i] == fd)
			return true;
	return false;
}

static void epoll_setup(void)
{
	memset(&sys, 0, sizeof(sys));
	ptio_test_loop_setup_backend("epoll");
}

static struct ptio_epoll *eb(void)
{
	return PTIO_CONTAINER_OF(ptio_test_loop.backend, struct ptio_epoll,
				 base);
}

static size_t regs(void)
{
	return eb()->nattached;
}

static void open_socketpair(struct ptio_fd *a, struct ptio_fd *b)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	PTIO_CK_OK(ptio_fd_open(a, &ptio_test_loop, sv[0], 0));
	PTIO_CK_OK(ptio_fd_open(b, &ptio_test_loop, sv[1], 0));
}

/* A task that awaits readiness INTEREST on F once and records it. */
struct waiter {
	struct ptio_timed_task tt;
	struct ptio_op op;
	struct ptio_fd *f;
	unsigned interest;
	uint32_t timeout;  /* a task deadline, if not 0 */
	ptio_ssize res;
	bool done;
};

static ptio_ssize waiter_fn(struct ptio_task *t)
{
	struct waiter *w = PTIO_CONTAINER_OF(t, struct waiter, tt.task);
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&w->op, t);
	if (w->timeout != 0)
		ptio_task_set_timeout(&w->tt, w->timeout);
	PTIO_AWAIT(&t->pt, r,
		   ptio_ready(&w->op, ptio_fd_ready(w->f), w->interest));
	w->res = r;
	w->done = true;
	PTIO_END(&t->pt);
}

static void waiter_start(struct waiter *w, struct ptio_fd *f,
			 unsigned interest)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->interest = interest;
	ptio_timed_task_start(&ptio_test_loop, &w->tt, waiter_fn);
}

/* ---- Registrations ----------------------------------------------------------- */

/* A ping-pong of 200 messages between two tasks on a socketpair: each
 * stream is registered once, when it opens, and unregistered when it
 * closes, and the hundreds of waits in between make no epoll_ctl (the
 * core skips update for PTIO_SOURCE_EDGE sources). */
#define PINGS 200

static struct pingpong {
	struct ptio_fd a, b;
	struct ptio_task pt, qt;
	struct ptio_op pop, qop;
	int rounds;
	unsigned long ctls_open;
	uint8_t pbuf[64], qbuf[64];
} pp;

static ptio_ssize ping_fn(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&pp.pop, t);
	for (pp.rounds = 0; pp.rounds < PINGS; pp.rounds++) {
		memset(pp.pbuf, pp.rounds, sizeof(pp.pbuf));
		PTIO_AWAIT(&t->pt, r,
			   ptio_write_all(&pp.pop, ptio_fd_writer(&pp.a),
					  pp.pbuf, sizeof(pp.pbuf)));
		PTIO_CK_OK(r);
		PTIO_AWAIT(&t->pt, r,
			   ptio_read_exact(&pp.pop, ptio_fd_reader(&pp.a),
					   pp.pbuf, sizeof(pp.pbuf)));
		ck_assert_int_eq(r, (ptio_ssize)sizeof(pp.pbuf));
		ck_assert_uint_eq(pp.pbuf[0], (uint8_t)pp.rounds);
	}
	PTIO_CK_OK(ptio_fd_shutdown_write(&pp.a));
	PTIO_END(&t->pt);
}

static ptio_ssize pong_fn(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&pp.qop, t);
	for (;;) {
		PTIO_AWAIT(&t->pt, r,
			   ptio_read_exact(&pp.qop, ptio_fd_reader(&pp.b),
					   pp.qbuf, sizeof(pp.qbuf)));
		if (r != (ptio_ssize)sizeof(pp.qbuf))
			break;
		PTIO_AWAIT(&t->pt, r,
			   ptio_write_all(&pp.qop, ptio_fd_writer(&pp.b),
					  pp.qbuf, sizeof(pp.qbuf)));
		PTIO_CK_OK(r);
	}
	ck_assert_int_eq(r, PTIO_EUNEXPECTEDEOF); /* the shutdown */
	PTIO_END(&t->pt);
}

START_TEST(test_registered_once_per_stream)
{
	memset(&pp, 0, sizeof(pp));
	open_socketpair(&pp.a, &pp.b);
	ck_assert_uint_eq(sys.ctls, 2); /* two EPOLL_CTL_ADD */
	ck_assert_uint_eq(regs(), 2);
	ck_assert_uint_eq(ptio_loop_registrations(&ptio_test_loop), 2);
	ck_assert_uint_ne(pp.a.src.flags & PTIO_SOURCE_EDGE, 0);
	ck_assert_uint_ne(pp.b.src.flags & PTIO_SOURCE_EDGE, 0);
	ck_assert_ptr_eq(eb()->who[ptio_fd_fileno(&pp.a)], &pp.a.src);
	ptio_task_start(&ptio_test_loop, &pp.pt, ping_fn);
	ptio_task_start(&ptio_test_loop, &pp.qt, pong_fn);
	ptio_test_run(5000);
	ck_assert_int_eq(pp.rounds, PINGS);
	/* Every message was a wait for each side, and none made a call. */
	ck_assert_uint_ge(sys.waits, PINGS);
	ck_assert_uint_eq(sys.ctls, 2);
	PTIO_CK_OK(ptio_fd_close(&pp.a));
	ck_assert_uint_eq(regs(), 1);
	ck_assert_uint_eq(pp.a.src.flags & PTIO_SOURCE_EDGE, 0);
	PTIO_CK_OK(ptio_fd_close(&pp.b));
	ck_assert_uint_eq(sys.ctls, 4); /* and two EPOLL_CTL_DEL */
	ck_assert_uint_eq(regs(), 0);
}
END_TEST

/* The update slot is reached only by a source that never joined: epoll
 * cannot watch it, and says so. */
START_TEST(test_update_needs_attach)
{
	struct ptio_backend *be = ptio_test_loop.backend;
	struct ptio_source stray;
	struct ptio_fd a, b;

	ptio_source_init(&stray, 0, PTIO_SOURCE_BACKEND);
	ck_assert_int_eq(be->vt->update(be, &stray), PTIO_EINVAL);
	open_socketpair(&a, &b);
	ck_assert_int_eq(be->vt->update(be, &a.src), 0);
	ck_assert_uint_eq(sys.ctls, 2);
	PTIO_CK_OK(ptio_fd_close(&a));
	PTIO_CK_OK(ptio_fd_close(&b));
}
END_TEST

/* ---- Closing ------------------------------------------------------------------- */

/* A reader and a writer wait on A; a third task closes A.  Both wake with
 * PTIO_ECLOSED, and A's registration is gone at once. */
static struct closing {
	struct ptio_fd a, b;
	struct waiter rd, wr;
	struct ptio_timed_task ct;
	struct ptio_op cop;
	size_t regs_after;
	bool both_waited;
} cw;

static ptio_ssize closer_fn(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&cw.cop, t);
	PTIO_AWAIT(&t->pt, r, ptio_sleep(&cw.cop, 20));
	cw.both_waited = cw.a.src.waiter[PTIO_SLOT_READ] == &cw.rd.tt.task &&
			 cw.a.src.waiter[PTIO_SLOT_WRITE] == &cw.wr.tt.task;
	PTIO_CK_OK(ptio_fd_close(&cw.a));
	cw.regs_after = regs();
	PTIO_END(&t->pt);
}

START_TEST(test_close_while_waiting)
{
	static uint8_t junk[65536];

	memset(&cw, 0, sizeof(cw));
	open_socketpair(&cw.a, &cw.b);
	while (ptio_nb_write(ptio_fd_writer(&cw.a), junk, sizeof(junk)) > 0)
		;
	waiter_start(&cw.rd, &cw.a, PTIO_READ);
	waiter_start(&cw.wr, &cw.a, PTIO_WRITE);
	ptio_timed_task_start(&ptio_test_loop, &cw.ct, closer_fn);
	ptio_test_run(5000);
	ck_assert(cw.both_waited);
	ck_assert_uint_eq(cw.regs_after, 1);
	ck_assert_int_eq(cw.rd.res, PTIO_ECLOSED);
	ck_assert_int_eq(cw.wr.res, PTIO_ECLOSED);
	PTIO_CK_OK(ptio_fd_close(&cw.b));
	ck_assert_uint_eq(regs(), 0);
}
END_TEST

/* ---- Stale events ------------------------------------------------------------ */

/* Streams V and K both become readable and one wait returns both events;
 * between the kernel's answer and the report, V is closed and its memory
 * freed (nothing waits on it, so nothing else will look at it again).
 * K's event is reported and wakes its reader; V's must be dropped (a
 * delivery would write into freed memory, which valgrind and ASan
 * report). */
static struct stale {
	struct ptio_fd *v, vpeer, k, kpeer;
	struct waiter kw;
	int vfd;
} st;

static void stale_close_v(void)
{
	PTIO_CK_OK(ptio_fd_close(st.v));
	free(st.v);
	st.v = NULL;
}

START_TEST(test_stale_event_in_batch)
{
	struct ptio_backend *be = ptio_test_loop.backend;

	memset(&st, 0, sizeof(st));
	st.v = calloc(1, sizeof(*st.v));
	ck_assert_ptr_nonnull(st.v);
	open_socketpair(st.v, &st.vpeer);
	open_socketpair(&st.k, &st.kpeer);
	st.vfd = ptio_fd_fileno(st.v);
	waiter_start(&st.kw, &st.k, PTIO_READ);
	ck_assert_int_eq(ptio_loop_run(&ptio_test_loop, PTIO_RUN_NOWAIT), 1);
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&st.vpeer), "v", 1), 1);
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&st.kpeer), "k", 1), 1);
	sys.after_wait = stale_close_v;
	PTIO_CK_OK(be->vt->wait(be, 1000));
	/* Both events were in the batch; V was closed after the answer. */
	ck_assert(batch_had(st.vfd));
	ck_assert(batch_had(ptio_fd_fileno(&st.k)));
	ck_assert_ptr_null(st.v);
	ck_assert_ptr_null(st.k.src.waiter[PTIO_SLOT_READ]);
	ck_assert_uint_ne(st.k.src.ready & PTIO_READABLE, 0);
	ptio_test_run(1000);
	ck_assert_int_eq(st.kw.res, PTIO_READABLE);
	PTIO_CK_OK(ptio_fd_close(&st.vpeer));
	PTIO_CK_OK(ptio_fd_close(&st.k));
	PTIO_CK_OK(ptio_fd_close(&st.kpeer));
}
END_TEST

/* A descriptor closed behind its stream's back while a dup keeps the
 * file open: the kernel keeps the registration (it is the file's), and
 * ptio_fd_close can no longer remove it.  Its events still come, and
 * must find no stream. */
START_TEST(test_stale_event_after_close_behind_back)
{
	struct ptio_backend *be = ptio_test_loop.backend;
	struct ptio_fd rd, wr;
	int p[2], fd, keep;

	ck_assert_int_eq(pipe(p), 0);
	PTIO_CK_OK(ptio_fd_open(&rd, &ptio_test_loop, p[0], 0));
	PTIO_CK_OK(ptio_fd_open(&wr, &ptio_test_loop, p[1], 0));
	fd = ptio_fd_fileno(&rd);
	keep = dup(fd);
	ck_assert_int_ge(keep, 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(ptio_fd_close(&rd), PTIO_EBADF);
	ck_assert_ptr_null(eb()->who[fd]);
	ck_assert_uint_eq(regs(), 1);
	/* The lingering registration reports the write; nothing gets it. */
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&wr), "z", 1), 1);
	PTIO_CK_OK(be->vt->wait(be, 1000));
	ck_assert(batch_had(fd));
	ck_assert_uint_eq(rd.src.ready & PTIO_READABLE, 0);
	ck_assert_int_eq(close(keep), 0); /* the kernel drops it now */
	PTIO_CK_OK(ptio_fd_close(&wr));
	ck_assert_uint_eq(regs(), 0);
}
END_TEST

/* Closed behind its stream's back with no dup, the descriptor leaves the
 * epoll set without a word (unlike poll's POLLNVAL): the waiting task
 * ends by its deadline, and ptio_fd_close says EBADF. */
START_TEST(test_closed_behind_back_ends_by_deadline)
{
	struct ptio_fd rd, wr;
	struct waiter w;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	PTIO_CK_OK(ptio_fd_open(&rd, &ptio_test_loop, p[0], 0));
	PTIO_CK_OK(ptio_fd_open(&wr, &ptio_test_loop, p[1], 0));
	waiter_start(&w, &rd, PTIO_READ);
	w.timeout = 50;
	ck_assert_int_eq(ptio_loop_run(&ptio_test_loop, PTIO_RUN_NOWAIT), 1);
	ck_assert_int_eq(close(p[0]), 0);
	ptio_test_run(2000);
	ck_assert_int_eq(w.res, PTIO_ETIMEDOUT);
	ck_assert_int_eq(ptio_fd_close(&rd), PTIO_EBADF);
	PTIO_CK_OK(ptio_fd_close(&wr));
	ck_assert_uint_eq(regs(), 0);
}
END_TEST

/* ---- Descriptors epoll refuses ------------------------------------------------ */

/* A regular file and /dev/null cannot be registered (EPERM); as poll(2)
 * says of them, they are always readable and writable, and hold no
 * registration. */
START_TEST(test_regular_file_and_dev_null)
{
	struct ptio_fd file, null;
	char path[] = "/tmp/ptio-epoll-XXXXXX";
	uint8_t buf[16];
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(write(fd, "data", 4), 4);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	PTIO_CK_OK(ptio_fd_open(&file, &ptio_test_loop, fd, 0));
	PTIO_CK_OK(ptio_fd_open(&null, &ptio_test_loop,
				open("/dev/null", O_RDWR | O_CLOEXEC), 0));
	ck_assert_uint_eq(regs(), 0);
	ck_assert_uint_eq(sys.ctls, 2); /* refused */
	ck_assert_int_eq(ptio_poll_ready(ptio_fd_ready(&file), NULL,
					 PTIO_READ_WRITE),
			 PTIO_READABLE | PTIO_WRITABLE);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&file), buf, sizeof(buf)),
			 4);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&file), buf, sizeof(buf)),
			 0);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&null), buf, sizeof(buf)),
			 0);
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&null), "x", 1), 1);
	PTIO_CK_OK(ptio_fd_close(&file));
	PTIO_CK_OK(ptio_fd_close(&null));
	ck_assert_uint_eq(sys.ctls, 2); /* nothing to remove */
}
END_TEST

/* ---- Many streams -------------------------------------------------------------- */

/* More ready streams than one wait takes (128): 200 readers wait, all
 * their streams become readable at once, and two waits report them all,
 * each stream once (an edge-triggered report is made once: a stream
 * left out of the first batch must come in the second).  The descriptor table grows past its first 64
 * entries on the way. */
#define NPAIRS 200

static struct many {
	struct ptio_fd a[NPAIRS], b[NPAIRS];
	struct waiter w[NPAIRS];
} mn;

static size_t many_woken(void)
{
	size_t i, n = 0;

	for (i = 0; i < NPAIRS; i++)
		n += mn.a[i].src.waiter[PTIO_SLOT_READ] == NULL;
	return n;
}

START_TEST(test_many_streams)
{
	struct ptio_backend *be = ptio_test_loop.backend;
	size_t i;

	memset(&mn, 0, sizeof(mn));
	for (i = 0; i < NPAIRS; i++) {
		open_socketpair(&mn.a[i], &mn.b[i]);
		waiter_start(&mn.w[i], &mn.a[i], PTIO_READ);
	}
	ck_assert_uint_eq(regs(), 2 * NPAIRS);
	ck_assert_uint_gt(eb()->nwho, 2 * NPAIRS);
	ck_assert_int_eq(ptio_loop_run(&ptio_test_loop, PTIO_RUN_NOWAIT),
			 NPAIRS);
	/* Each new stream was writable when registered: take those first
	 * reports out of the way. */
	do
		PTIO_CK_OK(be->vt->wait(be, 0));
	while (sys.last_n > 0);
	ck_assert_uint_eq(many_woken(), 0);
	for (i = 0; i < NPAIRS; i++)
		ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&mn.b[i]), "m", 1),
				 1);
	PTIO_CK_OK(be->vt->wait(be, 1000));
	ck_assert_int_eq(sys.last_n, 128);
	ck_assert_uint_eq(many_woken(), 128);
	PTIO_CK_OK(be->vt->wait(be, 1000));
	ck_assert_int_eq(sys.last_n, NPAIRS - 128);
	ck_assert_uint_eq(many_woken(), NPAIRS);
	ck_assert_int_eq(ptio_loop_run(&ptio_test_loop, PTIO_RUN_NOWAIT), 0);
	for (i = 0; i < NPAIRS; i++) {
		ck_assert(mn.w[i].done);
		ck_assert_int_eq(mn.w[i].res, PTIO_READABLE);
		PTIO_CK_OK(ptio_fd_close(&mn.a[i]));
		PTIO_CK_OK(ptio_fd_close(&mn.b[i]));
	}
	ck_assert_uint_eq(regs(), 0);
}
END_TEST

/* ---- The suite ------------------------------------------------------------------ */

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("epoll");
	TCase *tc;

	tc = tcase_create("registrations");
	tcase_add_checked_fixture(tc, epoll_setup, ptio_test_loop_teardown);
	tcase_add_test(tc, test_registered_once_per_stream);
	tcase_add_test(tc, test_update_needs_attach);
	tcase_add_test(tc, test_close_while_waiting);
	suite_add_tcase(s, tc);

	tc = tcase_create("stale");
	tcase_add_checked_fixture(tc, epoll_setup, ptio_test_loop_teardown);
	tcase_add_test(tc, test_stale_event_in_batch);
	tcase_add_test(tc, test_stale_event_after_close_behind_back);
	tcase_add_test(tc, test_closed_behind_back_ends_by_deadline);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, epoll_setup, ptio_test_loop_teardown);
	tcase_add_test(tc, test_regular_file_and_dev_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("many");
	tcase_add_checked_fixture(tc, epoll_setup, ptio_test_loop_teardown);
	tcase_add_test(tc, test_many_streams);
	suite_add_tcase(s, tc);
	return s;
}

#else /* !HAVE_SYS_EPOLL_H */

/* Without epoll the backend only says so. */
START_TEST(test_epoll_not_supported)
{
	struct ptio_epoll e;
	struct ptio_backend *be = NULL;

	ck_assert_int_eq(ptio_epoll_init(&e, &be), PTIO_ENOTSUP);
	ck_assert_ptr_null(be);
	ptio_epoll_destroy(&e);
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("epoll (not on this host)");
	TCase *tc = tcase_create("absent");

	tcase_add_test(tc, test_epoll_not_supported);
	suite_add_tcase(s, tc);
	return s;
}

#endif /* HAVE_SYS_EPOLL_H */
