/*
 * test/check-uring.c - the io_uring backend itself (src/posix/uring.c).
 * check-fd.c and check-tcp.c run on it as on every backend; this suite
 * tests what only it does: a multishot request that the kernel ends is
 * armed again, a completion left in the queue by a stream closed since
 * is dropped (even when a new stream has taken its descriptor number),
 * files whose poll never waits, and a kernel that refuses io_uring.
 *
 * The program defines io_uring_queue_init_params, which the library
 * then calls instead of liburing's (a definition in the program comes
 * first): with refuse set it fails as a kernel without io_uring does,
 * else it calls liburing's.
 *
 * Under valgrind (3.19 does not know io_uring's shared rings) the suite
 * skips, saying so: test/on-uring's suites and this one are for the
 * plain and sanitizer builds.
 *
 * Divided into: the seam, helpers, re-arming, stale completions, files,
 * refusal.
 */
#define _GNU_SOURCE 1 /* RTLD_NEXT */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <check.h>
#include "test/helpers.h"

#ifdef HAVE_LIBURING

#include <liburing.h>

/* ---- The seam ---------------------------------------------------------------- */

static int refuse; /* the errno a refusing kernel gives, or 0 */

int io_uring_queue_init_params(unsigned entries, struct io_uring *ring,
			       struct io_uring_params *p)
{
	int (*real)(unsigned, struct io_uring *, struct io_uring_params *);

	if (refuse != 0)
		return -refuse;
	*(void **)&real = dlsym(RTLD_NEXT, "io_uring_queue_init_params");
	/* (No ck_assert here: this also runs while the suite is built.) */
	if (real == NULL) {
		fprintf(stderr, "dlsym: %s\n", dlerror());
		abort();
	}
	return real(entries, ring, p);
}

/* ---- Helpers ----------------------------------------------------------------- */

/* Whether this kernel gives an io_uring at all (else most tests skip). */
static bool have_uring(void)
{
	struct ptio_uring u;
	ptio_ssize r = ptio_uring_init(&u, NULL);

	ptio_uring_destroy(&u);
	return r == 0;
}

static void uring_setup(void)
{
	refuse = 0;
	ptio_test_loop_setup_backend("uring");
}

static struct ptio_uring *ur(void)
{
	return PTIO_CONTAINER_OF(ptio_test_loop.backend, struct ptio_uring,
				 base);
}

static struct io_uring *ring(void)
{
	return ur()->ring;
}

static size_t regs(void)
{
	return ur()->nattached;
}

static void open_socketpair(struct ptio_fd *a, struct ptio_fd *b)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	PTIO_CK_OK(ptio_fd_open(a, &ptio_test_loop, sv[0], 0));
	PTIO_CK_OK(ptio_fd_open(b, &ptio_test_loop, sv[1], 0));
}

/* One wait of the backend, returning at once. */
static void wait_now(void)
{
	struct ptio_backend *be = ptio_test_loop.backend;

	PTIO_CK_OK(be->vt->wait(be, 0));
}

/* Run the kernel's pending task work, which posts completions, without
 * taking them from the queue: they wait there for the backend. */
static void post_completions(void)
{
	ck_assert_int_ge(io_uring_get_events(ring()), 0);
}

/* The user data of the request armed on FD by the attach AGO attaches
 * before the last one (0: the last). */
static uint64_t request_of(int fd, uint32_t ago)
{
	return ((uint64_t)(ur()->gen - ago) << 32) | (uint32_t)fd;
}

/* ---- Re-arming ---------------------------------------------------------------- */

/* The kernel ends A's multishot request (here: a cancel from outside the
 * backend; a full completion queue does the same).  The backend arms a
 * new one, so A's next data is still reported, and A still counts as one
 * registration.  Without the re-arm, READABLE never comes. */
START_TEST(test_rearm_after_multishot_ends)
{
	struct ptio_fd a, b;
	struct io_uring_sqe *sqe;
	uint64_t req;
	int i;

	open_socketpair(&a, &b);
	req = request_of(ptio_fd_fileno(&a), 1); /* B came after A */
	wait_now();
	ck_assert_uint_eq(a.src.ready & PTIO_READABLE, 0);
	sqe = io_uring_get_sqe(ring());
	ck_assert_ptr_nonnull(sqe);
	io_uring_prep_cancel64(sqe, req, 0);
	io_uring_sqe_set_data64(sqe, UINT64_MAX);
	ck_assert_int_ge(io_uring_submit_and_get_events(ring()), 1);
	wait_now(); /* takes the ended request's completion; arms anew */
	ck_assert_uint_eq(regs(), 2);
	ck_assert_uint_eq(a.src.ready & PTIO_READABLE, 0);
	ck_assert_int_eq(write(ptio_fd_fileno(&b), "x", 1), 1);
	for (i = 0; i < 100 && !(a.src.ready & PTIO_READABLE); i++) {
		struct ptio_backend *be = ptio_test_loop.backend;

		PTIO_CK_OK(be->vt->wait(be, 10));
	}
	ck_assert_uint_eq(a.src.ready & PTIO_READABLE, PTIO_READABLE);
	PTIO_CK_OK(ptio_fd_close(&a));
	PTIO_CK_OK(ptio_fd_close(&b));
	ck_assert_uint_eq(regs(), 0);
}
END_TEST

/* ---- Stale completions ----------------------------------------------------------- */

/* A's completion (READABLE) is in the queue when A closes; C, opened
 * next, takes A's descriptor number and has nothing to read.  The wait
 * must drop the stale completion: C must not become READABLE (nor have
 * a second request armed for it). */
START_TEST(test_stale_completion_dropped)
{
	struct ptio_fd a, b, c, d;
	int afd;

	open_socketpair(&a, &b);
	afd = ptio_fd_fileno(&a);
	wait_now();
	ck_assert_int_eq(write(ptio_fd_fileno(&b), "x", 1), 1);
	post_completions();
	ck_assert_uint_gt(io_uring_cq_ready(ring()), 0);
	PTIO_CK_OK(ptio_fd_close(&a));
	PTIO_CK_OK(ptio_fd_close(&b));
	open_socketpair(&c, &d);
	ck_assert_int_eq(ptio_fd_fileno(&c), afd);
	wait_now();
	ck_assert_uint_eq(c.src.ready & PTIO_READABLE, 0);
	ck_assert_uint_eq(regs(), 2);
	/* C works: its own data is reported. */
	ck_assert_int_eq(write(ptio_fd_fileno(&d), "y", 1), 1);
	wait_now();
	ck_assert_uint_eq(c.src.ready & PTIO_READABLE, PTIO_READABLE);
	PTIO_CK_OK(ptio_fd_close(&c));
	PTIO_CK_OK(ptio_fd_close(&d));
	ck_assert_uint_eq(regs(), 0);
}
END_TEST

/* Closing a stream lets the kernel go of its file at once: the peer
 * sees end of stream before the loop waits again (an armed request
 * holds the file). */
START_TEST(test_close_releases_file)
{
	struct ptio_fd a, b;
	char byte;

	open_socketpair(&a, &b);
	wait_now();
	PTIO_CK_OK(ptio_fd_close(&a));
	ck_assert_int_eq(read(ptio_fd_fileno(&b), &byte, 1), 0);
	PTIO_CK_OK(ptio_fd_close(&b));
}
END_TEST

/* ---- Files ---------------------------------------------------------------------- */

/* A regular file and /dev/null: poll never waits on them; always
 * readable and writable, as poll(2) says, and no registration. */
START_TEST(test_regular_file_and_dev_null)
{
	struct ptio_fd file, null;
	char path[] = "/tmp/ptio-uring-XXXXXX";
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
	wait_now();
	wait_now();
	ck_assert_uint_eq(regs(), 0);
	ck_assert_int_eq(ptio_poll_ready(ptio_fd_ready(&file), NULL,
					 PTIO_READ_WRITE),
			 PTIO_READABLE | PTIO_WRITABLE);
	ck_assert_int_eq(ptio_poll_ready(ptio_fd_ready(&null), NULL,
					 PTIO_READ_WRITE),
			 PTIO_READABLE | PTIO_WRITABLE);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&file), buf, sizeof(buf)),
			 4);
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&null), buf, sizeof(buf)),
			 0);
	PTIO_CK_OK(ptio_fd_close(&file));
	PTIO_CK_OK(ptio_fd_close(&null));
}
END_TEST

/* ---- Refusal ---------------------------------------------------------------------- */

/* A kernel that refuses io_uring (ENOSYS: too old or compiled out;
 * EPERM: the io_uring_disabled sysctl, seccomp): init says PTIO_ENOTSUP
 * and keeps why; the chooser gives no uring when named, and its default
 * is unchanged. */
START_TEST(test_refused_ring)
{
	static const int why[] = { ENOSYS, EPERM };
	struct ptio_posix_backend pb;
	struct ptio_backend *be = NULL;
	struct ptio_uring u;
	size_t i;

	for (i = 0; i < sizeof(why) / sizeof(why[0]); i++) {
		refuse = why[i];
		be = NULL;
		ck_assert_int_eq(ptio_uring_init(&u, &be), PTIO_ENOTSUP);
		ck_assert_ptr_null(be);
		ck_assert_int_eq(u.refused, -why[i]);
		ptio_uring_destroy(&u);
		ck_assert_int_eq(ptio_posix_backend_init(&pb, "uring", &be),
				 PTIO_ENOTSUP);
		ck_assert_str_eq(ptio_posix_backend_name(&pb), "none");
		ptio_posix_backend_destroy(&pb);
		PTIO_CK_OK(ptio_posix_backend_init(&pb, NULL, &be));
		ck_assert_ptr_nonnull(be);
		ck_assert(strcmp(ptio_posix_backend_name(&pb), "uring") != 0);
		ptio_posix_backend_destroy(&pb);
	}
	/* Another failure is not a refusal: it is returned as it is. */
	refuse = EMFILE;
	be = NULL;
	ck_assert_int_eq(ptio_uring_init(&u, &be), PTIO_EMFILE);
	ck_assert_int_eq(u.refused, 0);
	ptio_uring_destroy(&u);
	refuse = 0;
}
END_TEST

START_TEST(test_skipped_under_valgrind)
{
	fprintf(stderr, "SKIP: the uring suite under valgrind (3.19 does "
			"not follow io_uring's shared rings)\n");
}
END_TEST

/* ---- The suite ------------------------------------------------------------------ */

Suite *ptio_test_suite(void)
{
	Suite *s;
	TCase *tc;

	if (ptio_test_under_valgrind()) {
		s = suite_create("uring (skipped under valgrind)");
		tc = tcase_create("skipped");
		tcase_add_test(tc, test_skipped_under_valgrind);
		suite_add_tcase(s, tc);
		return s;
	}
	s = suite_create(have_uring() ? "uring"
				      : "uring (the kernel refuses io_uring)");
	tc = tcase_create("refused");
	tcase_add_test(tc, test_refused_ring);
	suite_add_tcase(s, tc);
	if (!have_uring())
		return s;

	tc = tcase_create("rearm");
	tcase_add_checked_fixture(tc, uring_setup, ptio_test_loop_teardown);
	tcase_add_test(tc, test_rearm_after_multishot_ends);
	suite_add_tcase(s, tc);

	tc = tcase_create("stale");
	tcase_add_checked_fixture(tc, uring_setup, ptio_test_loop_teardown);
	tcase_add_test(tc, test_stale_completion_dropped);
	tcase_add_test(tc, test_close_releases_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, uring_setup, ptio_test_loop_teardown);
	tcase_add_test(tc, test_regular_file_and_dev_null);
	suite_add_tcase(s, tc);
	return s;
}

#else /* !HAVE_LIBURING */

/* Without liburing the backend only says so. */
START_TEST(test_uring_not_built)
{
	struct ptio_uring u;
	struct ptio_backend *be = NULL;

	ck_assert_int_eq(ptio_uring_init(&u, &be), PTIO_ENOTSUP);
	ck_assert_ptr_null(be);
	ptio_uring_destroy(&u);
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("uring (not built: no liburing)");
	TCase *tc = tcase_create("absent");

	tcase_add_test(tc, test_uring_not_built);
	suite_add_tcase(s, tc);
	return s;
}

#endif /* HAVE_LIBURING */
