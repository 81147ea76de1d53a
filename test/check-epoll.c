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
 * stale events, reused numbers, refused descriptors, many streams.
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
	const void *last_src[256]; /* and the sources its events named */
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
		sys.last_src[i] = ev[i].data.ptr;
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

/* True when the last epoll_wait returned an event for source SRC (its
 * address only: it may have been freed). */
static bool batch_had(const void *src)
{
	int i;

	for (i = 0; i < sys.last_n && i < 256; i++)
		if (sys.last_src[i] == src)
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
	/* Events point at their streams: both are writable at once. */
	PTIO_CK_OK(ptio_test_loop.backend->vt->wait(ptio_test_loop.backend, 0));
	ck_assert(batch_had(&pp.a.src) && batch_had(&pp.b.src));
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
	const void *vsrc;  /* V's source's address, kept after the free */
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
	st.vsrc = &st.v->src;
	waiter_start(&st.kw, &st.k, PTIO_READ);
	ck_assert_int_eq(ptio_loop_run(&ptio_test_loop, PTIO_RUN_NOWAIT), 1);
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&st.vpeer), "v", 1), 1);
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&st.kpeer), "k", 1), 1);
	sys.after_wait = stale_close_v;
	PTIO_CK_OK(be->vt->wait(be, 1000));
	/* Both events were in the batch; V was closed after the answer. */
	ck_assert(batch_had(st.vsrc));
	ck_assert(batch_had(&st.k.src));
	ck_assert_uint_eq(eb()->ngone, 0); /* noted for that batch only */
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
 * ptio_fd_close can no longer remove it.  Its events still come, carrying
 * the address of a stream that has been freed, and must be dropped (a
 * delivery would set a bit in freed memory, which valgrind and ASan
 * report; the bit is checked while the memory is still there). */
START_TEST(test_stale_event_after_close_behind_back)
{
	struct ptio_backend *be = ptio_test_loop.backend;
	struct ptio_fd *rd, wr;
	const void *rsrc;
	int p[2], keep;

	rd = calloc(1, sizeof(*rd));
	ck_assert_ptr_nonnull(rd);
	rsrc = &rd->src;
	ck_assert_int_eq(pipe(p), 0);
	PTIO_CK_OK(ptio_fd_open(rd, &ptio_test_loop, p[0], 0));
	PTIO_CK_OK(ptio_fd_open(&wr, &ptio_test_loop, p[1], 0));
	keep = dup(p[0]);
	ck_assert_int_ge(keep, 0);
	ck_assert_int_eq(close(p[0]), 0);
	ck_assert_int_eq(ptio_fd_close(rd), PTIO_EBADF);
	ck_assert_uint_eq(regs(), 1);
	ck_assert_uint_eq(eb()->ngone, 1);
	/* The lingering registration reports the write; nothing gets it. */
	rd->src.ready = 0;
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&wr), "z", 1), 1);
	PTIO_CK_OK(be->vt->wait(be, 1000));
	ck_assert(batch_had(rsrc));
	ck_assert_uint_eq(rd->src.ready, 0);
	free(rd);
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&wr), "y", 1), 1);
	PTIO_CK_OK(be->vt->wait(be, 1000));
	ck_assert(batch_had(rsrc));
	ck_assert_int_eq(close(keep), 0); /* the kernel drops it now */
	PTIO_CK_OK(ptio_fd_close(&wr));
	ck_assert_uint_eq(regs(), 0);
}
END_TEST

/* A stream opened at the address of one whose registration lingers gets
 * that registration's events: a spurious readiness report, which it
 * survives (the read meets EAGAIN and clears the bit; real data comes
 * on the next edge).  Once it is closed, the address is gone again, and
 * the old registration's events are dropped as before. */
START_TEST(test_reattach_at_gone_address)
{
	struct ptio_backend *be = ptio_test_loop.backend;
	struct ptio_fd *s, wr, peer;
	uint8_t c;
	int p[2], keep, sv[2];

	s = calloc(1, sizeof(*s));
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(pipe(p), 0);
	PTIO_CK_OK(ptio_fd_open(s, &ptio_test_loop, p[0], 0));
	PTIO_CK_OK(ptio_fd_open(&wr, &ptio_test_loop, p[1], 0));
	keep = dup(p[0]);
	ck_assert_int_ge(keep, 0);
	ck_assert_int_eq(close(p[0]), 0);
	ck_assert_int_eq(ptio_fd_close(s), PTIO_EBADF);
	ck_assert_uint_eq(eb()->ngone, 1);
	/* A new stream at the same address. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	PTIO_CK_OK(ptio_fd_open(s, &ptio_test_loop, sv[0], 0));
	PTIO_CK_OK(ptio_fd_open(&peer, &ptio_test_loop, sv[1], 0));
	do
		PTIO_CK_OK(be->vt->wait(be, 0));
	while (sys.last_n > 0);
	ptio_source_clear(&s->src, PTIO_READABLE);
	/* The old pipe's event reaches it: spurious, and harmless. */
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&wr), "z", 1), 1);
	PTIO_CK_OK(be->vt->wait(be, 1000));
	ck_assert(batch_had(&s->src));
	ck_assert_uint_ne(s->src.ready & PTIO_READABLE, 0);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(s), &c, 1),
			 PTIO_WOULD_BLOCK);
	ck_assert_uint_eq(s->src.ready & PTIO_READABLE, 0);
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&peer), "x", 1), 1);
	PTIO_CK_OK(be->vt->wait(be, 1000));
	ck_assert_uint_ne(s->src.ready & PTIO_READABLE, 0);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(s), &c, 1), 1);
	ck_assert_uint_eq(c, 'x');
	/* Closed properly, it leaves the address gone again. */
	PTIO_CK_OK(ptio_fd_close(s));
	ck_assert_uint_eq(eb()->ngone, 1);
	s->src.ready = 0;
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&wr), "y", 1), 1);
	PTIO_CK_OK(be->vt->wait(be, 1000));
	ck_assert(batch_had(&s->src));
	ck_assert_uint_eq(s->src.ready, 0);
	free(s);
	ck_assert_int_eq(close(keep), 0);
	PTIO_CK_OK(ptio_fd_close(&wr));
	PTIO_CK_OK(ptio_fd_close(&peer));
	ck_assert_uint_eq(regs(), 0);
}
END_TEST

/* More lingering registrations than the gone list first holds (4): each
 * one's events are dropped. */
#define NGONE 6

START_TEST(test_many_gone)
{
	struct ptio_backend *be = ptio_test_loop.backend;
	struct ptio_fd rd[NGONE];
	int wr[NGONE], keep[NGONE], p[2], i;

	for (i = 0; i < NGONE; i++) {
		ck_assert_int_eq(pipe(p), 0);
		PTIO_CK_OK(ptio_fd_open(&rd[i], &ptio_test_loop, p[0], 0));
		wr[i] = p[1];
	}
	/* Only now, and the dups far above, so that no number is reused
	 * among them. */
	for (i = 0; i < NGONE; i++) {
		keep[i] = fcntl(ptio_fd_fileno(&rd[i]), F_DUPFD_CLOEXEC, 256);
		ck_assert_int_ge(keep[i], 0);
		ck_assert_int_eq(close(ptio_fd_fileno(&rd[i])), 0);
	}
	for (i = 0; i < NGONE; i++) {
		ck_assert_int_eq(ptio_fd_close(&rd[i]), PTIO_EBADF);
		rd[i].src.ready = 0;
	}
	ck_assert_uint_eq(eb()->ngone, NGONE);
	ck_assert_uint_eq(regs(), 0);
	for (i = 0; i < NGONE; i++)
		ck_assert_int_eq(write(wr[i], "g", 1), 1);
	PTIO_CK_OK(be->vt->wait(be, 1000));
	ck_assert_int_eq(sys.last_n, NGONE);
	for (i = 0; i < NGONE; i++) {
		ck_assert(batch_had(&rd[i].src));
		ck_assert_uint_eq(rd[i].src.ready, 0);
		ck_assert_int_eq(close(keep[i]), 0);
		ck_assert_int_eq(close(wr[i]), 0);
	}
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

/* ---- Reused numbers --------------------------------------------------------- */

/* EPOLL_CTL_DEL names a descriptor number.  A stream whose descriptor was
 * closed behind its back, and whose number a new stream took, must not
 * remove the new stream's registration when it is closed.  The old
 * streams here are PTIO_FD_NOCLOSE (so that their close does not close
 * the new stream's descriptor, as a stream that owns its number would)
 * and non-blocking from the start (so that their close does not touch
 * the new file's flags). */

/* A non-blocking socketpair, raw. */
static void nb_socketpair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
					    SOCK_CLOEXEC, 0, sv),
			 0);
}

/* Put descriptor FROM at number TO, which is free, and close FROM. */
static void move_fd(int from, int to)
{
	ck_assert_int_eq(dup2(from, to), to);
	ck_assert_int_eq(close(from), 0);
}

/* True when a wait reports F readable after PEER (raw) sends a byte. */
static bool hears(struct ptio_fd *f, int peer)
{
	struct ptio_backend *be = ptio_test_loop.backend;
	uint8_t c;

	ptio_source_clear(&f->src, PTIO_READABLE);
	if (write(peer, "h", 1) != 1)
		return false;
	PTIO_CK_OK(be->vt->wait(be, 200));
	if (!(f->src.ready & PTIO_READABLE))
		return false;
	return ptio_nb_read(ptio_fd_reader(f), &c, 1) == 1;
}

/* The old stream's file is released when its descriptor closes (no dup):
 * its registration has gone, the new stream's is the number's.  Closing
 * the old stream first makes no system call at all; closing the new one
 * first removes its own, and the old one's attempt then fails alone. */
static void reused_number(bool old_first)
{
	struct ptio_fd old, nw;
	int a[2], b[2], n;
	unsigned long ctls;

	nb_socketpair(a);
	nb_socketpair(b);
	n = a[0];
	PTIO_CK_OK(ptio_fd_open(&old, &ptio_test_loop, n, PTIO_FD_NOCLOSE));
	ck_assert_int_eq(close(n), 0); /* behind its back */
	move_fd(b[0], n);
	PTIO_CK_OK(ptio_fd_open(&nw, &ptio_test_loop, n, 0));
	ck_assert_uint_eq(regs(), 2);
	ck_assert(hears(&nw, b[1]));
	ctls = sys.ctls;
	if (old_first) {
		PTIO_CK_OK(ptio_fd_close(&old));
		ck_assert_uint_eq(sys.ctls, ctls); /* no EPOLL_CTL_DEL */
		ck_assert_uint_eq(regs(), 1);
		ck_assert(hears(&nw, b[1]));
		PTIO_CK_OK(ptio_fd_close(&nw));
		ck_assert_uint_eq(sys.ctls, ctls + 1);
	} else {
		PTIO_CK_OK(ptio_fd_close(&nw));
		ck_assert_uint_eq(regs(), 1);
		PTIO_CK_OK(ptio_fd_close(&old));
	}
	ck_assert_uint_eq(regs(), 0);
	ck_assert_int_eq(close(a[1]), 0);
	ck_assert_int_eq(close(b[1]), 0);
}

START_TEST(test_reused_number_old_closed_first)
{
	reused_number(true);
}
END_TEST

START_TEST(test_reused_number_new_closed_first)
{
	reused_number(false);
}
END_TEST

/* The same with a dup keeping the old stream's file open: both
 * registrations are in the kernel, one reached by the number, the other
 * lingering.  The old stream's close leaves the new one's alone, and the
 * lingering one's events are dropped. */
START_TEST(test_reused_number_with_dup)
{
	struct ptio_backend *be = ptio_test_loop.backend;
	struct ptio_fd old, nw;
	int p[2], b[2], n, keep;
	unsigned long ctls;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	nb_socketpair(b);
	n = p[0];
	PTIO_CK_OK(ptio_fd_open(&old, &ptio_test_loop, n, PTIO_FD_NOCLOSE));
	keep = dup(n);
	ck_assert_int_ge(keep, 0);
	ck_assert_int_eq(close(n), 0);
	move_fd(b[0], n);
	PTIO_CK_OK(ptio_fd_open(&nw, &ptio_test_loop, n, 0));
	ctls = sys.ctls;
	PTIO_CK_OK(ptio_fd_close(&old));
	ck_assert_uint_eq(sys.ctls, ctls);
	ck_assert_uint_eq(eb()->ngone, 1);
	ck_assert(hears(&nw, b[1]));
	/* The pipe's registration still reports, to nobody. */
	old.src.ready = 0;
	ck_assert_int_eq(write(p[1], "p", 1), 1);
	PTIO_CK_OK(be->vt->wait(be, 1000));
	ck_assert(batch_had(&old.src));
	ck_assert_uint_eq(old.src.ready, 0);
	PTIO_CK_OK(ptio_fd_close(&nw));
	ck_assert_uint_eq(regs(), 0);
	ck_assert_int_eq(close(keep), 0);
	ck_assert_int_eq(close(p[1]), 0);
	ck_assert_int_eq(close(b[1]), 0);
}
END_TEST

/* A regular file's stream is never registered, so never removes: a
 * socket's stream that takes its number after the file was closed behind
 * its back keeps its registration when the file's stream is closed.  The
 * other way round, a file's stream that takes a socket stream's number
 * has nothing to remove, and the socket stream's attempt reaches the file
 * and removes nothing either. */
static int temp_file(void)
{
	char path[] = "/tmp/ptio-epoll-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

START_TEST(test_reused_number_file_then_socket)
{
	struct ptio_fd file, sock;
	int b[2], n = temp_file();
	unsigned long ctls;

	nb_socketpair(b);
	PTIO_CK_OK(ptio_fd_open(&file, &ptio_test_loop, n, PTIO_FD_NOCLOSE));
	ck_assert_uint_eq(regs(), 0);
	ck_assert_uint_eq(eb()->nrefused, 1);
	ck_assert_int_eq(close(n), 0);
	move_fd(b[0], n);
	PTIO_CK_OK(ptio_fd_open(&sock, &ptio_test_loop, n, 0));
	ck_assert_uint_eq(regs(), 1);
	ctls = sys.ctls;
	PTIO_CK_OK(ptio_fd_close(&file));
	ck_assert_uint_eq(sys.ctls, ctls);
	ck_assert_uint_eq(regs(), 1);
	ck_assert(hears(&sock, b[1]));
	PTIO_CK_OK(ptio_fd_close(&sock));
	ck_assert_uint_eq(sys.ctls, ctls + 1);
	ck_assert_uint_eq(regs(), 0);
	ck_assert_uint_eq(eb()->ngone, 0);
	ck_assert_int_eq(close(b[1]), 0);
}
END_TEST

START_TEST(test_reused_number_socket_then_file)
{
	struct ptio_fd sock, file;
	int b[2], n, f = temp_file();
	unsigned long ctls;

	nb_socketpair(b);
	n = b[0];
	PTIO_CK_OK(ptio_fd_open(&sock, &ptio_test_loop, n, PTIO_FD_NOCLOSE));
	ck_assert_int_eq(close(n), 0);
	move_fd(f, n);
	PTIO_CK_OK(ptio_fd_open(&file, &ptio_test_loop, n, 0));
	ck_assert_uint_eq(regs(), 1);
	ctls = sys.ctls;
	PTIO_CK_OK(ptio_fd_close(&sock));
	/* Its EPOLL_CTL_DEL reaches the file, which has no registration. */
	ck_assert_uint_eq(sys.ctls, ctls + 1);
	ck_assert_uint_eq(eb()->ngone, 1); /* the socket's, had it a dup */
	PTIO_CK_OK(ptio_fd_close(&file));
	ck_assert_uint_eq(sys.ctls, ctls + 1);
	ck_assert_uint_eq(regs(), 0);
	ck_assert_uint_eq(eb()->nrefused, 0);
	ck_assert_int_eq(close(b[1]), 0);
}
END_TEST

/* Three streams on one number, each closed behind its back but the last.
 * s[1] is PTIO_FD_NOCLOSE; s[0] and s[2] close the number, whoever's it
 * is by then (as fd.c does: the number was closed behind s[0]'s back).
 * Only the owner, s[2], and the last one left (no longer sharing the
 * number) try to remove by number; the others go on the gone list, and
 * so does s[2] when s[0]'s close has closed its descriptor.  ORDER is
 * the order in which they are closed. */
static void three_on_one_number(const int order[3])
{
	struct ptio_fd s[3];
	int sv[3][2], n, i, k;
	unsigned long ctls;
	size_t left, gone = 0;
	bool n_closed = false;

	for (i = 0; i < 3; i++)
		nb_socketpair(sv[i]);
	n = sv[0][0];
	PTIO_CK_OK(ptio_fd_open(&s[0], &ptio_test_loop, n, 0));
	for (i = 1; i < 3; i++) {
		ck_assert_int_eq(close(n), 0);
		move_fd(sv[i][0], n);
		PTIO_CK_OK(ptio_fd_open(&s[i], &ptio_test_loop, n,
					i == 1 ? PTIO_FD_NOCLOSE : 0));
	}
	ck_assert_uint_eq(regs(), 3);
	ck_assert_uint_eq(eb()->nshare, 3);
	ck_assert(hears(&s[2], sv[2][1]));
	for (k = 0; k < 3; k++) {
		i = order[k];
		left = 2 - (size_t)k;
		ctls = sys.ctls;
		ck_assert_int_eq(ptio_fd_close(&s[i]),
				 i != 1 && n_closed ? PTIO_EBADF : 0);
		/* Only the owner and the last one try. */
		ck_assert_uint_eq(sys.ctls, ctls + (i == 2 || left == 0));
		gone += i != 2 || n_closed;
		n_closed = n_closed || i != 1;
		ck_assert_uint_eq(eb()->ngone, gone);
		ck_assert_uint_eq(eb()->nshare, left >= 2 ? left : 0);
		ck_assert_uint_eq(regs(), left);
		if (i == 1 && !n_closed)
			ck_assert(hears(&s[2], sv[2][1]));
	}
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(close(sv[i][1]), 0);
}

START_TEST(test_three_on_one_number)
{
	static const int orders[][3] = {
		{ 2, 0, 1 }, { 2, 1, 0 }, { 1, 2, 0 }, { 0, 1, 2 }
	};

	three_on_one_number(orders[_i]);
}
END_TEST

/* One descriptor opened twice: the kernel refuses the second
 * registration, and the first stream goes on.  A detach of a stream that
 * never attached, or a second detach, does nothing. */
START_TEST(test_same_descriptor_twice)
{
	struct ptio_backend *be = ptio_test_loop.backend;
	struct ptio_fd a, a2;
	struct ptio_source stray;
	int b[2];
	unsigned long ctls;

	nb_socketpair(b);
	PTIO_CK_OK(ptio_fd_open(&a, &ptio_test_loop, b[0], 0));
	ck_assert_int_eq(ptio_fd_open(&a2, &ptio_test_loop, b[0], 0),
			 PTIO_EBUSY);
	ck_assert_uint_eq(regs(), 1);
	ptio_source_init(&stray, 0, PTIO_SOURCE_BACKEND);
	stray.handle = b[0];
	ctls = sys.ctls;
	be->vt->detach(be, &stray);
	ck_assert_uint_eq(sys.ctls, ctls);
	ck_assert(hears(&a, b[1]));
	PTIO_CK_OK(ptio_fd_close(&a));
	be->vt->detach(be, &a.src);
	ck_assert_uint_eq(sys.ctls, ctls + 1);
	ck_assert_uint_eq(regs(), 0);
	ck_assert_int_eq(close(b[1]), 0);
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
 * left out of the first batch must come in the second). */
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
	ck_assert_uint_ge(eb()->nheld, 1);
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
	tcase_add_test(tc, test_reattach_at_gone_address);
	tcase_add_test(tc, test_many_gone);
	suite_add_tcase(s, tc);

	tc = tcase_create("numbers");
	tcase_add_checked_fixture(tc, epoll_setup, ptio_test_loop_teardown);
	tcase_add_test(tc, test_reused_number_old_closed_first);
	tcase_add_test(tc, test_reused_number_new_closed_first);
	tcase_add_test(tc, test_reused_number_with_dup);
	tcase_add_test(tc, test_reused_number_file_then_socket);
	tcase_add_test(tc, test_reused_number_socket_then_file);
	tcase_add_loop_test(tc, test_three_on_one_number, 0, 4);
	tcase_add_test(tc, test_same_descriptor_twice);
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
