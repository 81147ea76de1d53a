/*
 * test/check-backend.c - choosing a backend (src/posix/backend.c): by
 * name, from PTIO_BACKEND, or the host's best, and the errors: a name
 * that is no backend, one this host lacks, one that cannot start.  A
 * named backend is never replaced; only the default falls back, and
 * says so in its name.
 *
 * Each test saves PTIO_BACKEND and puts it back, so the suite also runs
 * in one process (CK_FORK=no).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <check.h>
#include "test/helpers.h"

/* What the default is called here: uring where the build has liburing
 * and the kernel gives a ring, else epoll on Linux (saying why uring was
 * passed over, when the build has it), else poll. */
static const char *best_name(void)
{
#ifdef HAVE_LIBURING
	static char name[80];
	struct ptio_uring u;
	ptio_ssize r;

	if (ptio_test_under_valgrind())
		return "epoll (uring skipped under valgrind: "
		       "operation not supported)";
	r = ptio_uring_init(&u, NULL);
	ptio_uring_destroy(&u);
	if (r == 0)
		return "uring";
	snprintf(name, sizeof(name), "epoll (uring %s: %s)",
		 u.refused != 0 ? "refused" : "failed",
		 ptio_strerror(u.refused != 0 ? u.refused : r));
	return name;
#elif defined(HAVE_SYS_EPOLL_H)
	return "epoll";
#else
	return "poll";
#endif
}

#define BEST best_name()

static char *saved_env;
static int fds_before;

static void env_setup(void)
{
	const char *v = getenv("PTIO_BACKEND");

	saved_env = v != NULL ? strdup(v) : NULL;
	ck_assert_int_eq(unsetenv("PTIO_BACKEND"), 0);
	fds_before = ptio_test_count_fds();
}

static void env_teardown(void)
{
	if (saved_env != NULL)
		ck_assert_int_eq(setenv("PTIO_BACKEND", saved_env, 1), 0);
	else
		ck_assert_int_eq(unsetenv("PTIO_BACKEND"), 0);
	free(saved_env);
	saved_env = NULL;
	ck_assert_int_eq(ptio_test_count_fds(), fds_before);
}

/* Start NAME (NULL: the default); return the result, and in *GOT the
 * name it reports, copied, after stopping it again. */
static ptio_ssize try_backend(const char *name, char *got, size_t len)
{
	struct ptio_posix_backend b;
	struct ptio_backend *be = NULL;
	ptio_ssize r;

	r = ptio_posix_backend_init(&b, name, &be);
	if (r == 0) {
		ck_assert_ptr_nonnull(be);
		ck_assert_uint_ge(be->vt->version, 1);
	}
	snprintf(got, len, "%s", ptio_posix_backend_name(&b));
	ptio_posix_backend_destroy(&b);
	ptio_posix_backend_destroy(&b); /* idempotent */
	return r;
}

START_TEST(test_by_name)
{
	char got[80];

	ck_assert_int_eq(try_backend("poll", got, sizeof(got)), 0);
	ck_assert_str_eq(got, "poll");
	ck_assert_int_eq(try_backend("select", got, sizeof(got)), 0);
	ck_assert_str_eq(got, "select");
#ifdef HAVE_SYS_EPOLL_H
	ck_assert_int_eq(try_backend("epoll", got, sizeof(got)), 0);
	ck_assert_str_eq(got, "epoll");
#else
	ck_assert_int_eq(try_backend("epoll", got, sizeof(got)),
			 PTIO_ENOTSUP);
#endif
	/* uring where liburing was built in, unless the kernel refuses
	 * io_uring (test/check-uring.c tests that); then the default. */
#ifdef HAVE_LIBURING
	{
		ptio_ssize r = try_backend("uring", got, sizeof(got));

		ck_assert_msg(r == 0 || r == PTIO_ENOTSUP, "uring: %s",
			      ptio_strerror(r));
		ck_assert_str_eq(got, r == 0 ? "uring" : "none");
	}
#else
	ck_assert_int_eq(try_backend("uring", got, sizeof(got)),
			 PTIO_ENOTSUP);
#endif
	ck_assert_int_eq(try_backend(NULL, got, sizeof(got)), 0);
	ck_assert_str_eq(got, BEST);
}
END_TEST

/* Clear errors, and nothing left to stop after them. */
/* A named backend never falls back, so it reports no reason. */
START_TEST(test_named_has_no_fallback)
{
	struct ptio_posix_backend b;
	struct ptio_backend *be;
	const char *from = "x";

	PTIO_CK_OK(ptio_posix_backend_init(&b, "poll", &be));
	ck_assert_int_eq(ptio_posix_backend_fallback(&b, &from), 0);
	ck_assert_ptr_null(from);
	ptio_posix_backend_destroy(&b);
}
END_TEST

START_TEST(test_unknown_and_unavailable)
{
	char got[80];

	ck_assert_int_eq(try_backend("nosuch", got, sizeof(got)), PTIO_EINVAL);
	ck_assert_str_eq(got, "none");
	ck_assert_int_eq(try_backend("", got, sizeof(got)), PTIO_EINVAL);
	ck_assert_int_eq(try_backend("POLL", got, sizeof(got)), PTIO_EINVAL);
	/* The io_uring backend is called "uring". */
	ck_assert_int_eq(try_backend("io_uring", got, sizeof(got)),
			 PTIO_EINVAL);
	ck_assert_str_eq(got, "none");
}
END_TEST

/* PTIO_BACKEND chooses when the program names none; a name the program
 * gives wins; a bad PTIO_BACKEND is an error, not a fallback; an empty
 * one is as if unset. */
START_TEST(test_environment)
{
	char got[80];

	ck_assert_int_eq(setenv("PTIO_BACKEND", "poll", 1), 0);
	ck_assert_int_eq(try_backend(NULL, got, sizeof(got)), 0);
	ck_assert_str_eq(got, "poll");
#ifdef HAVE_SYS_EPOLL_H
	ck_assert_int_eq(try_backend("epoll", got, sizeof(got)), 0);
	ck_assert_str_eq(got, "epoll");
	ck_assert_int_eq(setenv("PTIO_BACKEND", "epoll", 1), 0);
	ck_assert_int_eq(try_backend(NULL, got, sizeof(got)), 0);
	ck_assert_str_eq(got, "epoll");
	ck_assert_int_eq(try_backend("poll", got, sizeof(got)), 0);
	ck_assert_str_eq(got, "poll");
#endif
	ck_assert_int_eq(setenv("PTIO_BACKEND", "nosuch", 1), 0);
	ck_assert_int_eq(try_backend(NULL, got, sizeof(got)), PTIO_EINVAL);
	ck_assert_int_eq(setenv("PTIO_BACKEND", "select", 1), 0);
	ck_assert_int_eq(try_backend(NULL, got, sizeof(got)), 0);
	ck_assert_str_eq(got, "select");
	ck_assert_int_eq(setenv("PTIO_BACKEND", "", 1), 0);
	ck_assert_int_eq(try_backend(NULL, got, sizeof(got)), 0);
	ck_assert_str_eq(got, BEST);
}
END_TEST

#ifdef HAVE_SYS_EPOLL_H
/* With no descriptor free, neither uring nor epoll can start: asked for
 * by name (or by PTIO_BACKEND) that is the error; as the default it falls
 * back to poll, which needs none, and the name and
 * ptio_posix_backend_fallback say why. */
START_TEST(test_default_falls_back)
{
	struct rlimit old, low;
	struct ptio_posix_backend b;
	struct ptio_backend *be;
	const char *from = NULL;
	char got[80];
	ptio_ssize named, env, dflt, why;
	int probe;

	probe = dup(0);
	ck_assert_int_ge(probe, 0);
	ck_assert_int_eq(close(probe), 0);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)probe;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	named = try_backend("epoll", got, sizeof(got));
	ck_assert_int_eq(setenv("PTIO_BACKEND", "epoll", 1), 0);
	env = try_backend(NULL, got, sizeof(got));
	ck_assert_int_eq(unsetenv("PTIO_BACKEND"), 0);
	dflt = ptio_posix_backend_init(&b, NULL, &be);
	why = ptio_posix_backend_fallback(&b, &from);
	snprintf(got, sizeof(got), "%s", ptio_posix_backend_name(&b));
	ptio_posix_backend_destroy(&b);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	ck_assert_int_eq(named, PTIO_EMFILE);
	ck_assert_int_eq(env, PTIO_EMFILE);
	ck_assert_int_eq(dflt, 0);
	if (strcmp(BEST, "uring") == 0) {
		ck_assert_str_eq(got, "poll (uring failed: too many open files)");
		ck_assert_str_eq(from, "uring");
		ck_assert_int_eq(why, PTIO_EMFILE);
	} else if (strcmp(BEST, "epoll") == 0) {
		ck_assert_str_eq(got, "poll (epoll failed: too many open files)");
		ck_assert_str_eq(from, "epoll");
		ck_assert_int_eq(why, PTIO_EMFILE);
	} else {
		/* uring refused or skipped: that is the first reason. */
		ck_assert_int_eq(strncmp(got, "poll (uring ", 12), 0);
		ck_assert_str_eq(from, "uring");
		ck_assert_int_lt(why, 0);
	}
}
END_TEST
#endif

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("backend");
	TCase *tc = tcase_create("choose");

	tcase_add_checked_fixture(tc, env_setup, env_teardown);
	tcase_add_test(tc, test_by_name);
	tcase_add_test(tc, test_unknown_and_unavailable);
	tcase_add_test(tc, test_named_has_no_fallback);
	tcase_add_test(tc, test_environment);
#ifdef HAVE_SYS_EPOLL_H
	tcase_add_test(tc, test_default_falls_back);
#endif
	suite_add_tcase(s, tc);
	return s;
}
