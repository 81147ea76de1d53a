/*
 * test/check-select.c - the select backend itself (src/posix/select.c).
 * check-fd.c and check-tcp.c run on it as on every backend; this suite
 * tests what only it does: descriptors at or above FD_SETSIZE refused
 * with PTIO_EINVAL and never written out of bounds, a hang-up nobody
 * waits for that does not wake the loop, the report walk that stops at
 * select's count and the highest descriptor that follows the waiters,
 * and a descriptor closed behind its stream's back beside a good one.
 *
 * This program and the copy of the library it links
 * (test/libptio-fortify.la) are built with -D_FORTIFY_SOURCE=2 -O2, so
 * that glibc checks every FD_SET, FD_CLR and FD_ISSET at run time: an
 * out-of-bounds one aborts the test instead of corrupting memory in
 * silence.  test_fortify_catches_fd_set proves that the check is on.
 *
 * Divided into: helpers, the FD_SETSIZE limit, waiters and the walk,
 * hang-ups and closed descriptors.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <check.h>
#include "test/helpers.h"

/* ---- Helpers --------------------------------------------------------------- */

static void select_setup(void)
{
	ptio_test_loop_setup_backend("select");
}

static struct ptio_select_backend *test_select(void)
{
	return PTIO_CONTAINER_OF(ptio_test_loop.backend, struct ptio_select_backend,
				 base);
}

static size_t backend_regs(void)
{
	struct ptio_backend *be = ptio_test_loop.backend;

	return be->vt->registrations(be);
}

static void open_socketpair(struct ptio_fd *a, struct ptio_fd *b)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	PTIO_CK_OK(ptio_fd_open(a, &ptio_test_loop, sv[0], 0));
	PTIO_CK_OK(ptio_fd_open(b, &ptio_test_loop, sv[1], 0));
}

static void open_pipe(struct ptio_fd *rd, struct ptio_fd *wr)
{
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	PTIO_CK_OK(ptio_fd_open(rd, &ptio_test_loop, p[0], 0));
	PTIO_CK_OK(ptio_fd_open(wr, &ptio_test_loop, p[1], 0));
}

/* Give F's source the waiter TASK (NULL: none) in SLOT and tell the
 * backend, as ptio_source_poll and a wake do. */
static void set_waiter(struct ptio_fd *f, int slot, struct ptio_task *task)
{
	struct ptio_backend *be = ptio_test_loop.backend;

	f->src.waiter[slot] = task;
	PTIO_CK_OK(be->vt->update(be, &f->src));
}

/* ---- The FD_SETSIZE limit -------------------------------------------------- */

#if defined(__USE_FORTIFY_LEVEL) && __USE_FORTIFY_LEVEL >= 2
/* glibc's FD_SET with _FORTIFY_SOURCE aborts on a descriptor at or above
 * FD_SETSIZE (volatile, so that the compiler cannot see it coming): the
 * build this suite relies on really checks. */
START_TEST(test_fortify_catches_fd_set)
{
	volatile int fd = FD_SETSIZE;
	fd_set set;

	FD_ZERO(&set);
	FD_SET(fd, &set);
}
END_TEST
#endif

/* A reader waits on a good stream while a descriptor at FD_SETSIZE (and
 * one further up) is offered to the backend, by ptio_fd_open and by an
 * update on a source that never joined.  Both are refused with
 * PTIO_EINVAL, the backend is byte for byte as it was, the descriptor is
 * neither closed nor left non-blocking, and the good stream still works. */
static struct big {
	struct ptio_fd a, b, hi;
	struct ptio_task rt;
	struct ptio_op op;
	ptio_ssize res;
	uint8_t buf[8];
} bg;

static ptio_ssize big_reader(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&bg.op, t);
	PTIO_AWAIT(&t->pt, r,
		   ptio_read(&bg.op, ptio_fd_reader(&bg.a), bg.buf,
			     sizeof(bg.buf)));
	bg.res = r;
	PTIO_END(&t->pt);
}

/* Raise the soft descriptor limit past FD_SETSIZE + 64; false if the
 * hard limit does not allow it. */
static bool room_above_fd_setsize(struct rlimit *old)
{
	struct rlimit lim;
	rlim_t want = FD_SETSIZE + 65;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, old), 0);
	lim = *old;
	if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < want) {
		if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < want)
			return false;
		lim.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
			return false;
	}
	return true;
}

START_TEST(test_fd_setsize_refused)
{
	struct ptio_backend *be = ptio_test_loop.backend;
	struct ptio_select_backend *sb = test_select();
	struct ptio_select_backend before;
	struct ptio_source **who_before;
	struct ptio_source far;
	struct ptio_task idle;
	struct rlimit old;
	int sv[2], fd, far_fd = FD_SETSIZE + 64;

	memset(&bg, 0, sizeof(bg));
	memset(&idle, 0, sizeof(idle));
	if (!room_above_fd_setsize(&old)) {
		fprintf(stderr, "SKIP: the descriptor limit stays below %d\n",
			FD_SETSIZE + 65);
		return;
	}
	open_socketpair(&bg.a, &bg.b);
	ptio_task_start(&ptio_test_loop, &bg.rt, big_reader);
	ck_assert_int_eq(ptio_loop_run(&ptio_test_loop, PTIO_RUN_NOWAIT), 1);
	ck_assert_uint_eq(backend_regs(), 1);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fd = dup2(sv[0], FD_SETSIZE);
	ck_assert_int_eq(fd, FD_SETSIZE);
	ck_assert_int_eq(dup2(sv[0], far_fd), far_fd);
	before = *sb;
	who_before = malloc(sb->nwho * sizeof(*who_before));
	ck_assert_ptr_nonnull(who_before);
	memcpy(who_before, sb->who, sb->nwho * sizeof(*who_before));

	/* Opening refuses it: the stream is closed, the fd open and as
	 * blocking as it was. */
	ck_assert_int_eq(ptio_fd_open(&bg.hi, &ptio_test_loop, fd, 0),
			 PTIO_EINVAL);
	ck_assert_int_eq(ptio_fd_fileno(&bg.hi), -1);
	ck_assert_int_ge(fcntl(fd, F_GETFD), 0);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	/* An update for a source that claims the backend without having
	 * joined it, with waiters, is refused the same way; a detach of it
	 * does nothing. */
	ptio_source_init(&far, PTIO_WRITABLE, PTIO_SOURCE_BACKEND);
	far.handle = far_fd;
	far.waiter[PTIO_SLOT_READ] = &idle;
	far.waiter[PTIO_SLOT_WRITE] = &idle;
	ck_assert_int_eq(be->vt->update(be, &far), PTIO_EINVAL);
	far.handle = fd;
	ck_assert_int_eq(be->vt->update(be, &far), PTIO_EINVAL);
	be->vt->detach(be, &far);
	far.handle = -1;
	ck_assert_int_eq(be->vt->update(be, &far), PTIO_EBADF);

	/* Nothing changed: the sets, the counts, the table. */
	ck_assert_int_eq(memcmp(&before, sb, sizeof(before)), 0);
	ck_assert_int_eq(memcmp(who_before, sb->who,
				sb->nwho * sizeof(*who_before)),
			 0);
	free(who_before);
	ck_assert_uint_eq(backend_regs(), 1);

	/* The refused descriptor still works, and so does the good
	 * stream. */
	ck_assert_int_eq(write(fd, "hi", 2), 2);
	ck_assert_int_eq(read(sv[1], bg.buf, sizeof(bg.buf)), 2);
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&bg.b), "ok", 2), 2);
	ptio_test_run(2000);
	ck_assert_int_eq(bg.res, 2);
	ck_assert_int_eq(memcmp(bg.buf, "ok", 2), 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(close(far_fd), 0);
	ck_assert_int_eq(close(sv[0]), 0);
	ck_assert_int_eq(close(sv[1]), 0);
	PTIO_CK_OK(ptio_fd_close(&bg.a));
	PTIO_CK_OK(ptio_fd_close(&bg.b));
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
}
END_TEST

/* The last descriptor below the limit is fine. */
START_TEST(test_fd_setsize_minus_one_works)
{
	struct rlimit old;
	struct ptio_fd a, b, top;
	struct ptio_task idle;
	int fd;

	memset(&idle, 0, sizeof(idle));
	if (!room_above_fd_setsize(&old)) {
		fprintf(stderr, "SKIP: the descriptor limit stays below %d\n",
			FD_SETSIZE + 65);
		return;
	}
	open_socketpair(&a, &b);
	fd = dup2(ptio_fd_fileno(&a), FD_SETSIZE - 1);
	ck_assert_int_eq(fd, FD_SETSIZE - 1);
	PTIO_CK_OK(ptio_fd_open(&top, &ptio_test_loop, fd, 0));
	set_waiter(&top, PTIO_SLOT_READ, &idle);
	ck_assert_int_eq(test_select()->maxfd, FD_SETSIZE - 1);
	ck_assert_int_eq(write(ptio_fd_fileno(&b), "x", 1), 1);
	PTIO_CK_OK(ptio_test_loop.backend->vt->wait(ptio_test_loop.backend,
						     1000));
	ck_assert_uint_ne(top.src.ready & PTIO_READABLE, 0);
	set_waiter(&top, PTIO_SLOT_READ, NULL);
	PTIO_CK_OK(ptio_fd_close(&top));
	PTIO_CK_OK(ptio_fd_close(&a));
	PTIO_CK_OK(ptio_fd_close(&b));
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
}
END_TEST

/* ---- Waiters and the walk ---------------------------------------------------- */

#define NWALK 40

/* The sets follow the waiters, the count of registrations is the number
 * of descriptors with one, the walk stops at the last ready descriptor,
 * and the highest descriptor asked about comes down when the top ones
 * stop waiting. */
START_TEST(test_sets_follow_waiters_and_walk_stops)
{
	static struct ptio_fd rd[NWALK], wr[NWALK];
	struct ptio_backend *be = ptio_test_loop.backend;
	struct ptio_select_backend *sb = test_select();
	struct ptio_task idle;
	int i, top;

	memset(&idle, 0, sizeof(idle));
	for (i = 0; i < NWALK; i++)
		open_pipe(&rd[i], &wr[i]);
	ck_assert_uint_eq(backend_regs(), 0);
	ck_assert_int_eq(sb->maxfd, -1);
	ck_assert_uint_eq(sb->nattached, 2 * NWALK);
	for (i = 0; i < NWALK; i++)
		set_waiter(&rd[i], PTIO_SLOT_READ, &idle);
	set_waiter(&rd[3], PTIO_SLOT_WRITE, &idle);
	ck_assert_uint_eq(backend_regs(), NWALK);
	top = ptio_fd_fileno(&rd[NWALK - 1]);
	ck_assert_int_eq(sb->maxfd, top);
	for (i = 0; i < NWALK; i++) {
		int fd = ptio_fd_fileno(&rd[i]);

		ck_assert(FD_ISSET(fd, &sb->rd));
		ck_assert(FD_ISSET(fd, &sb->wr) == (i == 3));
		ck_assert(!FD_ISSET(ptio_fd_fileno(&wr[i]), &sb->rd));
	}
	/* One ready pipe, low down: the walk ends there. */
	ck_assert_int_eq(write(ptio_fd_fileno(&wr[4]), "z", 1), 1);
	PTIO_CK_OK(be->vt->wait(be, 0));
	ck_assert_uint_ne(rd[4].src.ready & PTIO_READABLE, 0);
	ck_assert_uint_eq(sb->walked, (size_t)ptio_fd_fileno(&rd[4]) + 1);
	ck_assert_uint_eq(rd[5].src.ready & PTIO_READABLE, 0);
	/* Nothing ready: no walk at all. */
	ck_assert_int_eq(read(ptio_fd_fileno(&rd[4]), &i, 1), 1);
	PTIO_CK_OK(be->vt->wait(be, 0));
	ck_assert_uint_eq(sb->walked, 0);
	/* The top half stops waiting: the next wait asks about no more
	 * descriptors than the bottom half's highest. */
	for (i = NWALK / 2; i < NWALK; i++)
		set_waiter(&rd[i], PTIO_SLOT_READ, NULL);
	ck_assert_uint_eq(backend_regs(), NWALK / 2);
	PTIO_CK_OK(be->vt->wait(be, 0));
	ck_assert_int_eq(sb->maxfd, ptio_fd_fileno(&rd[NWALK / 2 - 1]));
	/* Write interest alone keeps a descriptor armed. */
	set_waiter(&rd[3], PTIO_SLOT_READ, NULL);
	ck_assert(FD_ISSET(ptio_fd_fileno(&rd[3]), &sb->wr));
	ck_assert_uint_eq(backend_regs(), NWALK / 2);
	set_waiter(&rd[3], PTIO_SLOT_WRITE, NULL);
	ck_assert_uint_eq(backend_regs(), NWALK / 2 - 1);
	/* Closing detaches, waiter or not. */
	for (i = 0; i < NWALK; i++) {
		rd[i].src.waiter[PTIO_SLOT_READ] = NULL;
		PTIO_CK_OK(ptio_fd_close(&rd[i]));
		PTIO_CK_OK(ptio_fd_close(&wr[i]));
	}
	ck_assert_uint_eq(backend_regs(), 0);
	ck_assert_uint_eq(sb->nattached, 0);
	PTIO_CK_OK(be->vt->wait(be, 0));
	ck_assert_int_eq(sb->maxfd, -1);
}
END_TEST

/* ---- Hang-ups and closed descriptors ----------------------------------------- */

/* A hang-up that nobody waits for must not make select return at once
 * again and again: a descriptor without a waiter is in neither set.
 * Another stream, C, has a waiter all along, so that select really runs.
 * A task that then waits learns of the hang-up at the next wait, as
 * READABLE, and its read finds end of stream. */
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

START_TEST(test_hangup_nobody_waits)
{
	struct ptio_backend *be = ptio_test_loop.backend;
	struct ptio_select_backend *sb = test_select();
	struct ptio_task idle;
	uint8_t buf[4];
	int rounds = 0;

	memset(&nh, 0, sizeof(nh));
	memset(&idle, 0, sizeof(idle));
	open_socketpair(&nh.a, &nh.b);
	open_socketpair(&nh.c, &nh.d);
	set_waiter(&nh.c, PTIO_SLOT_READ, &idle);
	set_waiter(&nh.a, PTIO_SLOT_READ, &idle);
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&nh.b), "x", 1), 1);
	PTIO_CK_OK(be->vt->wait(be, 0));
	ck_assert_uint_ne(nh.a.src.ready & PTIO_READABLE, 0);
	set_waiter(&nh.a, PTIO_SLOT_READ, NULL);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&nh.a), buf, sizeof(buf)),
			 1);
	ck_assert_uint_eq(nh.a.src.ready & PTIO_READABLE, 0);
	PTIO_CK_OK(ptio_fd_close(&nh.b));
	ck_assert_uint_eq(backend_regs(), 1);
	/* A wait sees nothing, and the loop sleeps its whole 30 ms in a
	 * round or two instead of spinning on the hang-up. */
	PTIO_CK_OK(be->vt->wait(be, 0));
	ck_assert_uint_eq(sb->walked, 0);
	ck_assert_uint_eq(nh.a.src.ready & PTIO_READABLE, 0);
	ptio_timed_task_start(&ptio_test_loop, &nh.st, nohup_sleeper);
	while (ptio_task_alive(&nh.st.task) && rounds < 1000) {
		ck_assert_int_ge(ptio_loop_run(&ptio_test_loop, PTIO_RUN_ONCE),
				 0);
		rounds++;
	}
	ck_assert_int_eq(nh.res, 0);
	ck_assert_int_le(rounds, 5);
	ck_assert_uint_eq(nh.a.src.ready & PTIO_READABLE, 0);
	/* Someone waits again: the hang-up is reported at once (as
	 * READABLE: select has no hang-up bit), then end of stream. */
	set_waiter(&nh.a, PTIO_SLOT_READ, &idle);
	PTIO_CK_OK(be->vt->wait(be, 0));
	ck_assert_uint_ne(nh.a.src.ready & PTIO_READABLE, 0);
	ck_assert_uint_eq(nh.a.src.ready & PTIO_HUP, 0);
	set_waiter(&nh.a, PTIO_SLOT_READ, NULL);
	set_waiter(&nh.c, PTIO_SLOT_READ, NULL);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&nh.a), buf, sizeof(buf)),
			 0);
	PTIO_CK_OK(ptio_fd_close(&nh.a));
	PTIO_CK_OK(ptio_fd_close(&nh.c));
	PTIO_CK_OK(ptio_fd_close(&nh.d));
}
END_TEST

/* Two readers wait; one's descriptor is closed behind its stream's back.
 * select fails with EBADF for the whole call; the backend finds the bad
 * descriptor, its reader ends with PTIO_EBADF, and the other reader is
 * neither woken by it nor kept from its data. */
static struct behind {
	struct ptio_fd bad, bad_wr, good, good_wr;
	struct ptio_task bt, gt;
	struct ptio_op bop, gop;
	ptio_ssize bres, gres;
	int gruns;
	uint8_t buf[8], gbuf[8];
} bh;

static ptio_ssize behind_bad(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&bh.bop, t);
	PTIO_AWAIT(&t->pt, r,
		   ptio_read(&bh.bop, ptio_fd_reader(&bh.bad), bh.buf,
			     sizeof(bh.buf)));
	bh.bres = r;
	PTIO_END(&t->pt);
}

static ptio_ssize behind_good(struct ptio_task *t)
{
	ptio_ssize r;

	bh.gruns++;
	PTIO_BEGIN(&t->pt);
	ptio_op_init(&bh.gop, t);
	PTIO_AWAIT(&t->pt, r,
		   ptio_read(&bh.gop, ptio_fd_reader(&bh.good), bh.gbuf,
			     sizeof(bh.gbuf)));
	bh.gres = r;
	PTIO_END(&t->pt);
}

START_TEST(test_closed_behind_back_beside_good_one)
{
	int i;

	memset(&bh, 0, sizeof(bh));
	open_pipe(&bh.good, &bh.good_wr);
	open_pipe(&bh.bad, &bh.bad_wr);
	ptio_task_start(&ptio_test_loop, &bh.gt, behind_good);
	ptio_task_start(&ptio_test_loop, &bh.bt, behind_bad);
	ck_assert_int_eq(ptio_loop_run(&ptio_test_loop, PTIO_RUN_NOWAIT), 2);
	ck_assert_int_eq(close(ptio_fd_fileno(&bh.bad)), 0);
	for (i = 0; i < 10 && ptio_task_alive(&bh.bt); i++)
		ck_assert_int_ge(ptio_loop_run(&ptio_test_loop,
					       PTIO_RUN_NOWAIT),
				 0);
	ck_assert(!ptio_task_alive(&bh.bt));
	ck_assert_int_eq(bh.bres, PTIO_EBADF);
	ck_assert_int_eq(bh.gruns, 1);
	ck_assert_uint_eq(backend_regs(), 1);
	ck_assert_int_eq(ptio_fd_close(&bh.bad), PTIO_EBADF);
	ck_assert_int_eq(ptio_nb_write(ptio_fd_writer(&bh.good_wr), "go", 2),
			 2);
	ptio_test_run(2000);
	ck_assert_int_eq(bh.gres, 2);
	PTIO_CK_OK(ptio_fd_close(&bh.good));
	PTIO_CK_OK(ptio_fd_close(&bh.good_wr));
	PTIO_CK_OK(ptio_fd_close(&bh.bad_wr));
}
END_TEST

/* ---- The suite ------------------------------------------------------------- */

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("select");
	const char *fork = getenv("CK_FORK");
	TCase *tc;

	tc = tcase_create("limit");
	tcase_add_checked_fixture(tc, select_setup, ptio_test_loop_teardown);
#if defined(__USE_FORTIFY_LEVEL) && __USE_FORTIFY_LEVEL >= 2
	/* It aborts: only where each test runs in a process of its own. */
	if (fork == NULL || strcmp(fork, "no") != 0)
		tcase_add_test_raise_signal(tc, test_fortify_catches_fd_set,
					    SIGABRT);
#else
	(void)fork;
#endif
	tcase_add_test(tc, test_fd_setsize_refused);
	tcase_add_test(tc, test_fd_setsize_minus_one_works);
	suite_add_tcase(s, tc);

	tc = tcase_create("waiters");
	tcase_add_checked_fixture(tc, select_setup, ptio_test_loop_teardown);
	tcase_add_test(tc, test_sets_follow_waiters_and_walk_stops);
	suite_add_tcase(s, tc);

	tc = tcase_create("hangups");
	tcase_add_checked_fixture(tc, select_setup, ptio_test_loop_teardown);
	tcase_add_test(tc, test_hangup_nobody_waits);
	tcase_add_test(tc, test_closed_behind_back_beside_good_one);
	suite_add_tcase(s, tc);
	return s;
}
