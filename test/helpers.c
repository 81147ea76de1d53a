/*
 * test/helpers.c - the shared loop fixture and leak checks (see helpers.h).
 */
#include <dirent.h>
#include <stdlib.h>
#include <check.h>
#include "test/helpers.h"

struct ptio_loop ptio_test_loop;
static struct ptio_poll test_poll;
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

void ptio_test_loop_setup(void)
{
	fds_at_setup = ptio_test_count_fds();
	ptio_loop_init(&ptio_test_loop, ptio_poll_init(&test_poll));
	ptio_loop_set_scratch(&ptio_test_loop, test_scratch,
			      sizeof(test_scratch));
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
	ptio_poll_destroy(&test_poll);
	ck_assert_int_eq(ptio_test_count_fds(), fds_at_setup);
}
