/*
 * test/helpers.c - the shared loop fixture and leak checks (see helpers.h).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>
#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#endif
#include "test/helpers.h"

struct ptio_loop ptio_test_loop;
static struct ptio_posix_backend test_backend;
static bool test_edge;
static unsigned char test_scratch[65536];
static int fds_at_setup;

int ptio_test_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory stream's own fd */
}

/* True when NAME, a name from ptio_posix_backend_name, is KIND, or KIND
 * with a note ("poll (epoll failed: ...)"). */
static bool name_is(const char *name, const char *kind)
{
	size_t n = strlen(kind);

	return strncmp(name, kind, n) == 0 &&
	       (name[n] == '\0' || name[n] == ' ');
}

const char *ptio_test_backend_name(void)
{
	static char name[80];
	struct ptio_posix_backend b;
	struct ptio_backend *be;
	ptio_ssize r;

	if (name[0] != '\0')
		return name;
	r = ptio_posix_backend_init(&b, NULL, &be);
	if (r < 0)
		snprintf(name, sizeof(name), "none (%s)", ptio_strerror(r));
	else
		snprintf(name, sizeof(name), "%s", ptio_posix_backend_name(&b));
	ptio_posix_backend_destroy(&b);
	return name;
}

bool ptio_test_backend_is(const char *kind)
{
	return name_is(ptio_test_backend_name(), kind);
}

const char *ptio_test_suite_name(const char *suite)
{
	static char name[128];

	snprintf(name, sizeof(name), "%s, on the %s backend", suite,
		 ptio_test_backend_name());
	return name;
}

void ptio_test_loop_setup_backend(const char *backend)
{
	struct ptio_backend *be;
	ptio_ssize r;

	fds_at_setup = ptio_test_count_fds();
	r = ptio_posix_backend_init(&test_backend, backend, &be);
	ck_assert_msg(r == 0, "backend %s: %s",
		      backend != NULL ? backend : "(default)",
		      ptio_strerror(r));
	test_edge = name_is(ptio_posix_backend_name(&test_backend), "epoll") ||
		    name_is(ptio_posix_backend_name(&test_backend), "uring");
	ptio_loop_init(&ptio_test_loop, be);
	ptio_loop_set_scratch(&ptio_test_loop, test_scratch,
			      sizeof(test_scratch));
}

void ptio_test_loop_setup(void)
{
	ptio_test_loop_setup_backend(NULL);
}

size_t ptio_test_backend_regs(size_t waiting, size_t open)
{
	return test_edge ? open : waiting;
}

void ptio_test_run(unsigned timeout_ms)
{
	ptio_tick start = ptio_posix_now_ms();

	while (ptio_loop_alive(&ptio_test_loop) > 0) {
		ptio_ssize r = ptio_loop_run(&ptio_test_loop, PTIO_RUN_ONCE);

		ck_assert_msg(r >= 0, "loop error %s", ptio_strerror(r));
		ck_assert_msg((uint32_t)(ptio_posix_now_ms() - start) <
				      timeout_ms,
			      "loop still has %zu tasks after %u ms",
			      ptio_loop_alive(&ptio_test_loop), timeout_ms);
	}
}

void ptio_test_loop_teardown(void)
{
	ptio_test_run(20000);
	ck_assert_uint_eq(ptio_loop_alive(&ptio_test_loop), 0);
	ck_assert_uint_eq(ptio_loop_registrations(&ptio_test_loop), 0);
	ptio_posix_backend_destroy(&test_backend);
	ck_assert_int_eq(ptio_test_count_fds(), fds_at_setup);
}

bool ptio_test_under_valgrind(void)
{
	const char *pre = getenv("LD_PRELOAD");

#ifdef RUNNING_ON_VALGRIND
	if (RUNNING_ON_VALGRIND)
		return true;
#endif
	return pre != NULL && strstr(pre, "vgpreload") != NULL;
}
