/*
 * test/check-tcp.c - the TCP helpers (src/posix/tcp.c) over loopback, on
 * the backend the fixture chooses (make check runs it once per backend;
 * the suite's name says which).
 *
 * Divided into: listening, accepting and connecting (and TCP_NODELAY
 * on accepted streams); failures (refused, bad addresses, deadlines,
 * descriptor exhaustion, a closed peer); and the load test, 100
 * connections each echoing 1 MiB through a server task per connection,
 * every byte verified.
 *
 * Each test keeps its state in one static struct that it clears first, so
 * the suite also runs in one process (CK_FORK=no, e.g. under valgrind).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <check.h>
#include "test/helpers.h"

static size_t backend_regs(void)
{
	struct ptio_backend *be = ptio_test_loop.backend;

	return be->vt->registrations(be);
}

/* ---- Listen, accept, connect -------------------------------------------- */

/* A server task accepts one connection and answers "ping" with "pong";
 * a client task connects and checks the answer. */
static struct pp {
	struct ptio_fd lis, srv, cli;
	struct ptio_task st, ct;
	struct ptio_op sop, cop;
	const char *host;
	uint16_t port;
	ptio_ssize sres, cres, accepted;
	int nodelay;
	char sbuf[4], cbuf[4];
} pp;

static ptio_ssize pp_server(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&pp.sop, t);
	PTIO_AWAIT(&t->pt, r, ptio_tcp_accept(&pp.sop, &pp.lis));
	pp.accepted = r;
	PTIO_CK_OK(r);
	PTIO_CK_OK(ptio_fd_close(&pp.lis));
	PTIO_CK_OK(ptio_fd_open(&pp.srv, &ptio_test_loop, (int)r, 0));
	ck_assert_uint_ne(pp.srv.src.oflags & PTIO_FD_SOCKET, 0);
	ck_assert_uint_eq(pp.srv.src.oflags & PTIO_FD_WASBLOCK, 0);
	PTIO_AWAIT(&t->pt, r,
		   ptio_read_exact(&pp.sop, ptio_fd_reader(&pp.srv), pp.sbuf,
				   4));
	PTIO_CK_OK(r);
	ck_assert_int_eq(memcmp(pp.sbuf, "ping", 4), 0);
	PTIO_AWAIT(&t->pt, r,
		   ptio_write_all(&pp.sop, ptio_fd_writer(&pp.srv), "pong",
				  4));
	pp.sres = r;
	PTIO_CK_OK(ptio_fd_close(&pp.srv));
	PTIO_END(&t->pt);
}

static ptio_ssize pp_client(struct ptio_task *t)
{
	ptio_ssize r;
	socklen_t len = sizeof(pp.nodelay);

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&pp.cop, t);
	PTIO_AWAIT(&t->pt, r,
		   ptio_tcp_connect(&pp.cop, &pp.cli, &ptio_test_loop,
				    pp.host, pp.port));
	PTIO_CK_OK(r);
	ck_assert_int_eq(getsockopt(ptio_fd_fileno(&pp.cli), IPPROTO_TCP, TCP_NODELAY,
				    &pp.nodelay, &len),
			 0);
	PTIO_AWAIT(&t->pt, r,
		   ptio_write_all(&pp.cop, ptio_fd_writer(&pp.cli), "ping",
				  4));
	PTIO_CK_OK(r);
	PTIO_AWAIT(&t->pt, r,
		   ptio_read_exact(&pp.cop, ptio_fd_reader(&pp.cli), pp.cbuf,
				   4));
	pp.cres = r;
	PTIO_CK_OK(ptio_fd_close(&pp.cli));
	PTIO_END(&t->pt);
}

static void pp_run(const char *host)
{
	ptio_ssize port;

	memset(&pp, 0, sizeof(pp));
	pp.host = host;
	PTIO_CK_OK(ptio_tcp_listen(&pp.lis, &ptio_test_loop, host, 0, 0));
	port = ptio_tcp_port(&pp.lis);
	ck_assert_int_gt(port, 0);
	pp.port = (uint16_t)port;
	ptio_task_start(&ptio_test_loop, &pp.st, pp_server);
	ptio_task_start(&ptio_test_loop, &pp.ct, pp_client);
	ptio_test_run(5000);
	ck_assert_int_ge(pp.accepted, 0);
	ck_assert_int_eq(pp.sres, 4);
	ck_assert_int_eq(pp.cres, 4);
	ck_assert_int_eq(memcmp(pp.cbuf, "pong", 4), 0);
	ck_assert_int_eq(pp.nodelay, 1);
}

START_TEST(test_listen_accept_connect)
{
	pp_run("127.0.0.1");
}
END_TEST

START_TEST(test_listen_default_host)
{
	pp_run(NULL);
}
END_TEST

/* IPv6 loopback, when the host has it. */
START_TEST(test_ipv6_loopback)
{
	struct ptio_fd f;
	ptio_ssize r = ptio_tcp_listen(&f, &ptio_test_loop, "::1", 0, 0);

	if (r == PTIO_EADDRNOTAVAIL || r == PTIO_EAFNOSUPPORT)
		return; /* no IPv6 here: nothing to test */
	PTIO_CK_OK(r);
	PTIO_CK_OK(ptio_fd_close(&f));
	pp_run("::1");
}
END_TEST

/* Accepted streams have Nagle's algorithm off, as connected ones do:
 * both ptio_tcp_nb_accept and the ptio_tcp_accept machine set
 * TCP_NODELAY on the descriptor they return. */
static struct acc_nd {
	struct ptio_fd lis;
	struct ptio_task t;
	struct ptio_op op;
	ptio_ssize res;
} an;

static ptio_ssize acc_nd_task(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&an.op, t);
	PTIO_AWAIT(&t->pt, r, ptio_tcp_accept(&an.op, &an.lis));
	an.res = r;
	PTIO_END(&t->pt);
}

/* A blocking client socket connected to PORT on the loopback interface
 * (the listener's backlog completes the handshake at once). */
static int raw_connect(uint16_t port)
{
	struct sockaddr_in a;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(s, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	return s;
}

static int nodelay_of(int fd)
{
	int v = -1;
	socklen_t len = sizeof(v);

	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len),
			 0);
	return v;
}

START_TEST(test_accept_sets_nodelay)
{
	struct pollfd pfd;
	ptio_ssize port, s;
	int c1, c2;

	memset(&an, 0, sizeof(an));
	PTIO_CK_OK(ptio_tcp_listen(&an.lis, &ptio_test_loop, NULL, 0, 0));
	port = ptio_tcp_port(&an.lis);
	ck_assert_int_gt(port, 0);
	c1 = raw_connect((uint16_t)port);
	ck_assert_int_eq(nodelay_of(c1), 0); /* what the system gives */
	/* The non-blocking accept, once the connection is queued. */
	pfd.fd = ptio_fd_fileno(&an.lis);
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
	s = ptio_tcp_nb_accept(&an.lis);
	PTIO_CK_OK(s);
	ck_assert_int_ne(nodelay_of((int)s), 0);
	close((int)s);
	/* The machine. */
	c2 = raw_connect((uint16_t)port);
	ptio_task_start(&ptio_test_loop, &an.t, acc_nd_task);
	ptio_test_run(5000);
	PTIO_CK_OK(an.res);
	ck_assert_int_ne(nodelay_of((int)an.res), 0);
	close((int)an.res);
	close(c1);
	close(c2);
	PTIO_CK_OK(ptio_fd_close(&an.lis));
}
END_TEST

/* ---- Failures ------------------------------------------------------------- */

START_TEST(test_listen_rejects_bad_input)
{
	struct ptio_fd a, b;
	ptio_ssize port;

	ck_assert_int_eq(ptio_tcp_listen(&a, &ptio_test_loop, "localhost", 0,
					 0),
			 PTIO_EINVAL);
	ck_assert_int_eq(ptio_fd_fileno(&a), -1);
	ck_assert_int_eq(ptio_fd_close(&a), 0);
	ck_assert_int_eq(ptio_tcp_listen(&a, &ptio_test_loop, "1.2.3", 0, 0),
			 PTIO_EINVAL);
	PTIO_CK_OK(ptio_tcp_listen(&a, &ptio_test_loop, "127.0.0.1", 0, 8));
	port = ptio_tcp_port(&a);
	ck_assert_int_gt(port, 0);
	ck_assert_int_eq(ptio_tcp_listen(&b, &ptio_test_loop, "127.0.0.1",
					 (uint16_t)port, 8),
			 PTIO_EADDRINUSE);
	ck_assert_int_eq(ptio_fd_fileno(&b), -1);
	PTIO_CK_OK(ptio_fd_close(&a));
	ck_assert_int_eq(ptio_tcp_port(&a), PTIO_ECLOSED);
	ck_assert_int_eq(ptio_tcp_nb_accept(&a), PTIO_ECLOSED);
}
END_TEST

/* PTIO_TCP_REUSEPORT: two listeners on one port when both ask for it;
 * one that does not ask is refused; an unknown flag is PTIO_EINVAL. */
START_TEST(test_listen_reuseport)
{
	struct ptio_fd a, b, c;
	ptio_ssize port;

	ck_assert_int_eq(ptio_tcp_listen_opts(&a, &ptio_test_loop, NULL, 0, 8,
					      0x80u),
			 PTIO_EINVAL);
	ck_assert_int_eq(ptio_fd_fileno(&a), -1);
	PTIO_CK_OK(ptio_tcp_listen_opts(&a, &ptio_test_loop, "127.0.0.1", 0,
					8, PTIO_TCP_REUSEPORT));
	port = ptio_tcp_port(&a);
	ck_assert_int_gt(port, 0);
	PTIO_CK_OK(ptio_tcp_listen_opts(&b, &ptio_test_loop, "127.0.0.1",
					(uint16_t)port, 8,
					PTIO_TCP_REUSEPORT));
	ck_assert_int_eq(ptio_tcp_port(&b), port);
	ck_assert_int_eq(ptio_tcp_listen(&c, &ptio_test_loop, "127.0.0.1",
					 (uint16_t)port, 8),
			 PTIO_EADDRINUSE);
	PTIO_CK_OK(ptio_fd_close(&a));
	PTIO_CK_OK(ptio_fd_close(&b));
}
END_TEST

/* Connecting to a port nobody listens on, and to a non-numeric host. */
static struct refused {
	struct ptio_fd f, g;
	struct ptio_task t;
	struct ptio_op op;
	uint16_t port;
	ptio_ssize res, bad_host;
} rf;

static ptio_ssize refused_task(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&rf.op, t);
	PTIO_AWAIT(&t->pt, r,
		   ptio_tcp_connect(&rf.op, &rf.f, &ptio_test_loop, "127.0.0.1",
				    rf.port));
	rf.res = r;
	PTIO_AWAIT(&t->pt, r,
		   ptio_tcp_connect(&rf.op, &rf.g, &ptio_test_loop,
				    "localhost", rf.port));
	rf.bad_host = r;
	PTIO_END(&t->pt);
}

START_TEST(test_connect_refused)
{
	struct ptio_fd lis;
	ptio_ssize port;

	memset(&rf, 0, sizeof(rf));
	/* A port that was free a moment ago and is closed now. */
	PTIO_CK_OK(ptio_tcp_listen(&lis, &ptio_test_loop, NULL, 0, 0));
	port = ptio_tcp_port(&lis);
	ck_assert_int_gt(port, 0);
	PTIO_CK_OK(ptio_fd_close(&lis));
	rf.port = (uint16_t)port;
	ptio_task_start(&ptio_test_loop, &rf.t, refused_task);
	ptio_test_run(5000);
	ck_assert_int_eq(rf.res, PTIO_ECONNREFUSED);
	ck_assert_int_eq(ptio_fd_fileno(&rf.f), -1);
	ck_assert_int_eq(ptio_fd_close(&rf.f), 0);
	ck_assert_int_eq(rf.bad_host, PTIO_EINVAL);
	ck_assert_int_eq(ptio_fd_fileno(&rf.g), -1);
}
END_TEST

/* An accept with a deadline and nobody connecting. */
static struct acc_dl {
	struct ptio_fd lis;
	struct ptio_timed_task t;
	struct ptio_op op;
	ptio_ssize res;
	size_t regs, bregs;
} ad;

static ptio_ssize acc_dl_task(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&ad.op, t);
	ptio_task_set_timeout(ptio_task_timed(t), 30);
	PTIO_AWAIT(&t->pt, r, ptio_tcp_accept(&ad.op, &ad.lis));
	ad.res = r;
	ad.regs = ptio_loop_registrations(&ptio_test_loop);
	ad.bregs = backend_regs();
	PTIO_CK_OK(ptio_fd_close(&ad.lis));
	PTIO_END(&t->pt);
}

START_TEST(test_accept_deadline)
{
	memset(&ad, 0, sizeof(ad));
	PTIO_CK_OK(ptio_tcp_listen(&ad.lis, &ptio_test_loop, NULL, 0, 0));
	ptio_timed_task_start(&ptio_test_loop, &ad.t, acc_dl_task);
	ptio_test_run(5000);
	ck_assert_int_eq(ad.res, PTIO_ETIMEDOUT);
	/* The listener is open still: an edge-triggered backend holds it. */
	ck_assert_uint_eq(ad.regs, ptio_test_backend_regs(0, 1));
	ck_assert_uint_eq(ad.bregs, ptio_test_backend_regs(0, 1));
}
END_TEST

/* A connect the peer never answers ends at the task's deadline with
 * PTIO_ETIMEDOUT and the stream closed.  A listener that never accepts
 * and has a backlog of 1 holds two connections; Linux drops the SYNs of
 * the rest, which then wait for a retransmission a second later. */
#define SLOW_CONNS 4

static struct slow {
	struct ptio_fd lis, cli[SLOW_CONNS];
	struct ptio_timed_task t[SLOW_CONNS];
	struct ptio_op op[SLOW_CONNS];
	uint16_t port;
	ptio_ssize res[SLOW_CONNS];
	size_t bregs;
} sl;

static ptio_ssize slow_client(struct ptio_task *t)
{
	size_t i = (size_t)(PTIO_CONTAINER_OF(t, struct ptio_timed_task, task) -
			    sl.t);
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&sl.op[i], t);
	ptio_task_set_timeout(ptio_task_timed(t), 200);
	PTIO_AWAIT(&t->pt, r,
		   ptio_tcp_connect(&sl.op[i], &sl.cli[i], &ptio_test_loop,
				    NULL, sl.port));
	sl.res[i] = r;
	PTIO_END(&t->pt);
}

START_TEST(test_connect_deadline)
{
	ptio_ssize port;
	int i, timedout = 0, connected = 0;

	memset(&sl, 0, sizeof(sl));
	PTIO_CK_OK(ptio_tcp_listen(&sl.lis, &ptio_test_loop, NULL, 0, 1));
	port = ptio_tcp_port(&sl.lis);
	ck_assert_int_gt(port, 0);
	sl.port = (uint16_t)port;
	for (i = 0; i < SLOW_CONNS; i++)
		ptio_timed_task_start(&ptio_test_loop, &sl.t[i], slow_client);
	ptio_test_run(5000);
	for (i = 0; i < SLOW_CONNS; i++)
		connected += sl.res[i] == 0;
	/* Open: the listener and the clients that got through. */
	ck_assert_uint_eq(backend_regs(),
			  ptio_test_backend_regs(0, 1 + (size_t)connected));
	for (i = 0; i < SLOW_CONNS; i++) {
		ck_assert_msg(sl.res[i] == 0 || sl.res[i] == PTIO_ETIMEDOUT,
			      "client %d: %s", i, ptio_strerror(sl.res[i]));
		if (sl.res[i] == PTIO_ETIMEDOUT) {
			timedout++;
			ck_assert_int_eq(ptio_fd_fileno(&sl.cli[i]), -1);
		}
		PTIO_CK_OK(ptio_fd_close(&sl.cli[i]));
	}
	ck_assert_int_gt(timedout, 0);
	PTIO_CK_OK(ptio_fd_close(&sl.lis));
}
END_TEST

/* Out of descriptors: accept returns PTIO_EMFILE once (it does not spin
 * on the still-readable listener) and works again when one is free.  Two
 * clients connect, because valgrind emulates the limit by closing the
 * accepted descriptor, which drops the first connection.  The listener is
 * closed only once both clients have seen their connect through: a
 * connection still queued on it is reset when it closes, and a backend
 * may well report the listener before the clients (epoll reports in the
 * order things happened). */
static struct emfile {
	struct ptio_fd lis, cli[2];
	struct ptio_task at, ct[2];
	struct ptio_op aop, cop[2];
	struct rlimit old;
	uint16_t port;
	ptio_ssize first, second, conn[2];
	int runs, connected;
} em;

static ptio_ssize emfile_acceptor(struct ptio_task *t)
{
	ptio_ssize r;
	struct rlimit low;
	int probe;

	em.runs++;
	PTIO_BEGIN(&t->pt);
	ptio_op_init(&em.aop, t);
	/* Wait until the connection is queued (a new stream does not
	 * start out readable, so the wait lasts until the backend reports
	 * it), then lower the limit to the lowest free descriptor so the
	 * accept has nowhere to put it. */
	ck_assert_int_eq(ptio_tcp_nb_accept(&em.lis), PTIO_WOULD_BLOCK);
	PTIO_AWAIT(&t->pt, r,
		   ptio_ready(&em.aop, ptio_fd_ready(&em.lis), PTIO_READ));
	probe = dup(ptio_fd_fileno(&em.lis));
	ck_assert_int_ge(probe, 0);
	close(probe);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &em.old), 0);
	low = em.old;
	low.rlim_cur = (rlim_t)probe;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	PTIO_AWAIT(&t->pt, r, ptio_tcp_accept(&em.aop, &em.lis));
	em.first = r;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &em.old), 0);
	PTIO_AWAIT(&t->pt, r, ptio_tcp_accept(&em.aop, &em.lis));
	em.second = r;
	if (r >= 0)
		close((int)r);
	/* The listener stays open until the test ends: closing it here
	 * would reset the connection still queued on it, and the client
	 * that made it may not have checked its connect yet (that depends
	 * on the order in which one wait wakes the tasks). */
	PTIO_END(&t->pt);
}

static ptio_ssize emfile_client(struct ptio_task *t)
{
	size_t i = t == &em.ct[0] ? 0 : 1;
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&em.cop[i], t);
	PTIO_AWAIT(&t->pt, r,
		   ptio_tcp_connect(&em.cop[i], &em.cli[i], &ptio_test_loop,
				    NULL, em.port));
	em.conn[i] = r;
	em.connected++;
	ptio_task_wake(&em.at);
	PTIO_END(&t->pt);
}

START_TEST(test_accept_emfile)
{
	ptio_ssize port;

	memset(&em, 0, sizeof(em));
	PTIO_CK_OK(ptio_tcp_listen(&em.lis, &ptio_test_loop, NULL, 0, 0));
	port = ptio_tcp_port(&em.lis);
	ck_assert_int_gt(port, 0);
	em.port = (uint16_t)port;
	ptio_task_start(&ptio_test_loop, &em.at, emfile_acceptor);
	ptio_task_start(&ptio_test_loop, &em.ct[0], emfile_client);
	ptio_task_start(&ptio_test_loop, &em.ct[1], emfile_client);
	ptio_test_run(5000);
	ck_assert_int_eq(em.conn[0], 0);
	ck_assert_int_eq(em.conn[1], 0);
	ck_assert_int_eq(em.first, PTIO_EMFILE);
	ck_assert_int_ge(em.second, 0);
	ck_assert_int_le(em.runs, 4); /* no spinning */
	PTIO_CK_OK(ptio_fd_close(&em.lis));
	PTIO_CK_OK(ptio_fd_close(&em.cli[0]));
	PTIO_CK_OK(ptio_fd_close(&em.cli[1]));
}
END_TEST

/* The reserve descriptor: with it on, an accept that finds no descriptor
 * still returns PTIO_EMFILE, but closes the waiting connections, so their
 * clients read the end of the stream instead of waiting with no answer;
 * the reserve is taken again, for the next time.  Without it, the client
 * hears nothing. */
static int reserve_client(uint16_t port)
{
	struct sockaddr_in a;
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(c, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	return c;
}

/* What the client C hears within MS: 0 for the end of the stream (or a
 * reset), 1 for nothing. */
static int reserve_heard(int c, int ms)
{
	struct pollfd p = { .fd = c, .events = POLLIN };
	char byte;

	if (poll(&p, 1, ms) <= 0)
		return 1;
	return recv(c, &byte, 1, 0) > 0 ? 2 : 0;
}

/* Lower the descriptor limit to the lowest free descriptor, so nothing
 * more can be opened (FD is any open descriptor); returns the old limit
 * in OLD. */
static void reserve_exhaust(int fd, struct rlimit *old)
{
	struct rlimit low;
	int probe = dup(fd);

	ck_assert_int_ge(probe, 0);
	close(probe);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, old), 0);
	low = *old;
	low.rlim_cur = (rlim_t)probe;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
}

START_TEST(test_accept_emfile_reserve)
{
	struct ptio_fd lis;
	struct rlimit old;
	ptio_ssize port, r;
	int c1, c2, c3, n;

	PTIO_CK_OK(ptio_tcp_listen(&lis, &ptio_test_loop, NULL, 0, 0));
	port = ptio_tcp_port(&lis);
	ck_assert_int_gt(port, 0);
	/* Without the reserve: PTIO_EMFILE, and the client hears nothing.
	 * (valgrind plays the descriptor limit itself: the kernel accepts,
	 * and valgrind closes what is over the limit, so there the client
	 * hears the end of the stream either way.) */
	c1 = reserve_client((uint16_t)port);
	reserve_exhaust(ptio_fd_fileno(&lis), &old);
	ck_assert_int_eq(ptio_tcp_nb_accept(&lis), PTIO_EMFILE);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	if (!ptio_test_under_valgrind())
		ck_assert_int_eq(reserve_heard(c1, 100), 1);
	/* With it: still PTIO_EMFILE, but both waiting clients are told. */
	PTIO_CK_OK(ptio_tcp_reserve_fd(true));
	c2 = reserve_client((uint16_t)port);
	c3 = reserve_client((uint16_t)port);
	reserve_exhaust(ptio_fd_fileno(&lis), &old);
	ck_assert_int_eq(ptio_tcp_nb_accept(&lis), PTIO_EMFILE);
	/* The reserve was taken again: still nothing free. */
	ck_assert_int_eq(dup(ptio_fd_fileno(&lis)), -1);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	ck_assert_int_eq(reserve_heard(c1, 2000), 0);
	ck_assert_int_eq(reserve_heard(c2, 2000), 0);
	ck_assert_int_eq(reserve_heard(c3, 2000), 0);
	/* Nothing is left waiting, and accepting works again. */
	ck_assert_int_eq(ptio_tcp_nb_accept(&lis), PTIO_WOULD_BLOCK);
	close(c1);
	c1 = reserve_client((uint16_t)port);
	r = ptio_tcp_nb_accept(&lis);
	for (n = 0; r == PTIO_WOULD_BLOCK && n < 100; n++) {
		usleep(10000);
		r = ptio_tcp_nb_accept(&lis);
	}
	ck_assert_int_ge(r, 0);
	close((int)r);
	PTIO_CK_OK(ptio_tcp_reserve_fd(false));
	close(c1);
	close(c2);
	close(c3);
	PTIO_CK_OK(ptio_fd_close(&lis));
}
END_TEST

/* Writing to a TCP peer that has gone: an error, never SIGPIPE. */
static struct gone {
	struct ptio_fd lis, cli;
	struct ptio_task at;
	struct ptio_timed_task ct;
	struct ptio_op aop, cop;
	uint16_t port;
	ptio_ssize res;
	int tries;
	uint8_t buf[4096];
} gn;

static ptio_ssize gone_acceptor(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&gn.aop, t);
	PTIO_AWAIT(&t->pt, r, ptio_tcp_accept(&gn.aop, &gn.lis));
	PTIO_CK_OK(r);
	close((int)r); /* the peer goes away at once */
	PTIO_CK_OK(ptio_fd_close(&gn.lis));
	PTIO_END(&t->pt);
}

static ptio_ssize gone_client(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&gn.cop, t);
	PTIO_AWAIT(&t->pt, r,
		   ptio_tcp_connect(&gn.cop, &gn.cli, &ptio_test_loop, NULL,
				    gn.port));
	PTIO_CK_OK(r);
	/* The first writes may land before the reset comes back. */
	for (gn.tries = 0; gn.tries < 100; gn.tries++) {
		PTIO_AWAIT(&t->pt, r,
			   ptio_write_all(&gn.cop, ptio_fd_writer(&gn.cli),
					  gn.buf, sizeof(gn.buf)));
		if (r < 0)
			break;
		PTIO_AWAIT(&t->pt, r, ptio_sleep(&gn.cop, 5));
	}
	gn.res = r;
	PTIO_CK_OK(ptio_fd_close(&gn.cli));
	PTIO_END(&t->pt);
}

START_TEST(test_write_to_closed_tcp_peer)
{
	struct sigaction sa;
	sigset_t set;
	ptio_ssize port;

	memset(&gn, 0, sizeof(gn));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGPIPE, &sa, NULL), 0);
	PTIO_CK_OK(ptio_tcp_listen(&gn.lis, &ptio_test_loop, NULL, 0, 0));
	port = ptio_tcp_port(&gn.lis);
	ck_assert_int_gt(port, 0);
	gn.port = (uint16_t)port;
	ptio_task_start(&ptio_test_loop, &gn.at, gone_acceptor);
	ptio_timed_task_start(&ptio_test_loop, &gn.ct, gone_client);
	ptio_test_run(5000);
	ck_assert_msg(gn.res == PTIO_EPIPE || gn.res == PTIO_ECONNRESET,
		      "got %s", ptio_strerror(gn.res));
	ck_assert_int_eq(sigaction(SIGPIPE, NULL, &sa), 0);
	ck_assert(sa.sa_handler == SIG_DFL);
	ck_assert_int_eq(sigpending(&set), 0);
	ck_assert(!sigismember(&set, SIGPIPE));
}
END_TEST

/* ---- 100 connections, 1 MiB each, echoed -------------------------------- */

#define ECHO_CONNS 100
#define ECHO_BYTES (1u << 20)

/* Every client sends ECHO_BYTES of the pattern starting at its own
 * offset, so two connections never carry the same bytes. */
static uint8_t echo_pattern[ECHO_BYTES + ECHO_CONNS];

struct echo_server {
	struct ptio_task t;
	struct ptio_op op;
	struct ptio_fd fd;
	size_t len, total;
	ptio_ssize err;
	uint8_t buf[16384];
};

/* A client is two tasks on one stream: the writer sends everything then
 * shuts its side down; the reader checks everything that comes back. */
struct echo_client {
	struct ptio_task wt, rt;
	struct ptio_op wop, rop;
	struct ptio_fd fd;
	size_t got;
	ptio_ssize werr, rerr;
	bool connected, wdone, bad;
	uint8_t buf[16384];
};

static struct echo {
	struct ptio_fd lis;
	struct ptio_task at;
	struct ptio_op aop;
	uint16_t port;
	int accepted;
	ptio_ssize aerr;
	struct echo_server srv[ECHO_CONNS];
	struct echo_client cli[ECHO_CONNS];
} ec;

static ptio_ssize echo_server_task(struct ptio_task *t)
{
	struct echo_server *s = PTIO_CONTAINER_OF(t, struct echo_server, t);
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&s->op, t);
	for (;;) {
		PTIO_AWAIT(&t->pt, r,
			   ptio_read(&s->op, ptio_fd_reader(&s->fd), s->buf,
				     sizeof(s->buf)));
		if (r <= 0) {
			s->err = r;
			break;
		}
		s->len = (size_t)r;
		PTIO_AWAIT(&t->pt, r,
			   ptio_write_all(&s->op, ptio_fd_writer(&s->fd),
					  s->buf, s->len));
		if (r < 0) {
			s->err = r;
			break;
		}
		s->total += s->len;
	}
	PTIO_CK_OK(ptio_fd_close(&s->fd));
	PTIO_END(&t->pt);
}

static ptio_ssize echo_acceptor(struct ptio_task *t)
{
	ptio_ssize r;
	struct echo_server *s;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&ec.aop, t);
	while (ec.accepted < ECHO_CONNS) {
		PTIO_AWAIT(&t->pt, r, ptio_tcp_accept(&ec.aop, &ec.lis));
		if (r < 0) {
			ec.aerr = r;
			break;
		}
		s = &ec.srv[ec.accepted++];
		PTIO_CK_OK(ptio_fd_open(&s->fd, &ptio_test_loop, (int)r, 0));
		ptio_task_start(&ptio_test_loop, &s->t, echo_server_task);
	}
	PTIO_CK_OK(ptio_fd_close(&ec.lis));
	PTIO_END(&t->pt);
}

static ptio_ssize echo_client_reader(struct ptio_task *t)
{
	struct echo_client *c = PTIO_CONTAINER_OF(t, struct echo_client, rt);
	size_t id = (size_t)(c - ec.cli);
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&c->rop, t);
	for (;;) {
		PTIO_AWAIT(&t->pt, r,
			   ptio_read(&c->rop, ptio_fd_reader(&c->fd), c->buf,
				     sizeof(c->buf)));
		if (r <= 0) {
			c->rerr = r;
			break;
		}
		if (c->got + (size_t)r > ECHO_BYTES ||
		    memcmp(c->buf, echo_pattern + id + c->got, (size_t)r) != 0)
			c->bad = true;
		c->got += (size_t)r;
	}
	/* The server closes only after our shutdown, which the writer
	 * makes as its last act. */
	ck_assert(c->wdone);
	PTIO_CK_OK(ptio_fd_close(&c->fd));
	PTIO_END(&t->pt);
}

static ptio_ssize echo_client_writer(struct ptio_task *t)
{
	struct echo_client *c = PTIO_CONTAINER_OF(t, struct echo_client, wt);
	size_t id = (size_t)(c - ec.cli);
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&c->wop, t);
	PTIO_AWAIT(&t->pt, r,
		   ptio_tcp_connect(&c->wop, &c->fd, &ptio_test_loop, NULL,
				    ec.port));
	if (r < 0) {
		c->werr = r;
		c->wdone = true;
		PTIO_RETURN(&t->pt, r);
	}
	c->connected = true;
	ptio_task_start(&ptio_test_loop, &c->rt, echo_client_reader);
	PTIO_AWAIT(&t->pt, r,
		   ptio_write_all(&c->wop, ptio_fd_writer(&c->fd),
				  echo_pattern + id, ECHO_BYTES));
	c->werr = r == (ptio_ssize)ECHO_BYTES ? ptio_fd_shutdown_write(&c->fd)
					      : (r < 0 ? r : PTIO_EIO);
	c->wdone = true;
	PTIO_END(&t->pt);
}

START_TEST(test_echo_100_connections)
{
	ptio_ssize port;
	size_t i;
	int k;

	memset(&ec, 0, sizeof(ec));
	for (i = 0; i < sizeof(echo_pattern); i++)
		echo_pattern[i] = (uint8_t)((i ^ (i >> 9) ^ (i >> 18)) * 97u);
	PTIO_CK_OK(ptio_tcp_listen(&ec.lis, &ptio_test_loop, NULL, 0, 0));
	port = ptio_tcp_port(&ec.lis);
	ck_assert_int_gt(port, 0);
	ec.port = (uint16_t)port;
	ptio_task_start(&ptio_test_loop, &ec.at, echo_acceptor);
	for (k = 0; k < ECHO_CONNS; k++)
		ptio_task_start(&ptio_test_loop, &ec.cli[k].wt,
				echo_client_writer);
	ptio_test_run(60000);
	ck_assert_int_eq(ec.aerr, 0);
	ck_assert_int_eq(ec.accepted, ECHO_CONNS);
	for (k = 0; k < ECHO_CONNS; k++) {
		struct echo_client *c = &ec.cli[k];

		ck_assert_msg(c->connected, "client %d: %s", k,
			      ptio_strerror(c->werr));
		ck_assert_int_eq(c->werr, 0);
		ck_assert_int_eq(c->rerr, 0);
		ck_assert_uint_eq(c->got, ECHO_BYTES);
		ck_assert(!c->bad);
		ck_assert_int_eq(ec.srv[k].err, 0);
		ck_assert_uint_eq(ec.srv[k].total, ECHO_BYTES);
	}
}
END_TEST

/* ---- The suite ------------------------------------------------------------- */

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create(ptio_test_suite_name("tcp"));
	TCase *tc;

	tc = tcase_create("basics");
	tcase_add_checked_fixture(tc, ptio_test_loop_setup,
				  ptio_test_loop_teardown);
	tcase_add_test(tc, test_listen_accept_connect);
	tcase_add_test(tc, test_listen_default_host);
	tcase_add_test(tc, test_ipv6_loopback);
	tcase_add_test(tc, test_accept_sets_nodelay);
	suite_add_tcase(s, tc);

	tc = tcase_create("failures");
	tcase_add_checked_fixture(tc, ptio_test_loop_setup,
				  ptio_test_loop_teardown);
	tcase_add_test(tc, test_listen_rejects_bad_input);
	tcase_add_test(tc, test_listen_reuseport);
	tcase_add_test(tc, test_connect_refused);
	tcase_add_test(tc, test_accept_deadline);
	tcase_add_test(tc, test_connect_deadline);
	tcase_add_test(tc, test_accept_emfile);
	tcase_add_test(tc, test_accept_emfile_reserve);
	tcase_add_test(tc, test_write_to_closed_tcp_peer);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_checked_fixture(tc, ptio_test_loop_setup,
				  ptio_test_loop_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_echo_100_connections);
	suite_add_tcase(s, tc);
	return s;
}
