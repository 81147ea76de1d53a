/*
 * test/helpers.h - what the Check suites share.
 *
 * Every test program defines ptio_test_suite().  Tests that use a loop
 * start from ptio_test_loop_setup() and end with
 * ptio_test_loop_teardown(), which fails the test if the loop still holds
 * a registration or a task, or if a file descriptor opened during the test
 * was not closed.
 */
#ifndef PTIO_TEST_HELPERS_H
#define PTIO_TEST_HELPERS_H

#include <check.h>
#include <ptio.h>

Suite *ptio_test_suite(void);

/* The loop tests share, with a 64 KiB scratch buffer, over the backend
 * ptio_posix_backend_init chooses: the one PTIO_BACKEND names, else the
 * host's best (make check runs the fd, TCP and fairness suites once per
 * backend, setting PTIO_BACKEND). */
extern struct ptio_loop ptio_test_loop;

/* Fixture: set up the loop and remember the open fds.  Fails the test if
 * the backend cannot start. */
void ptio_test_loop_setup(void);

/* The same on the backend named BACKEND, whatever PTIO_BACKEND says. */
void ptio_test_loop_setup_backend(const char *backend);

/* Fixture: run the loop until no task is alive (bounded: fails after
 * 20 s), then assert zero registrations and no leaked fd, and stop the
 * backend. */
void ptio_test_loop_teardown(void);

/* The name of the backend ptio_test_loop_setup chooses (as
 * ptio_posix_backend_name says it), found once by starting and stopping
 * it; and whether it is KIND ("poll", "epoll"). */
const char *ptio_test_backend_name(void);
bool ptio_test_backend_is(const char *kind);

/* SUITE's name with that backend's, for suite_create: Check prints it
 * first, so a test log says which backend ran.  A static buffer. */
const char *ptio_test_suite_name(const char *suite);

/* What the fixture's backend should count as its own registrations when
 * OPEN streams are open and WAITING of them have a waiter: a
 * level-triggered backend (poll) holds the waiting ones, an
 * edge-triggered one (epoll, uring) every open one. */
size_t ptio_test_backend_regs(size_t waiting, size_t open);

/* Run the loop until no task is alive or TIMEOUT_MS passes; fails the
 * test on a loop error or timeout. */
void ptio_test_run(unsigned timeout_ms);

/* The number of open file descriptors of this process. */
int ptio_test_count_fds(void);

/* True when the program runs under valgrind: told by its client
 * request when configure found <valgrind/valgrind.h>, else by the
 * preloaded library valgrind puts in LD_PRELOAD (the header may come
 * only with valgrind itself, installed after the build). */
bool ptio_test_under_valgrind(void);

/* One step of the xorshift32 generator the suites draw test data from:
 * advance *STATE (which must not be 0) and return its new value. */
static inline uint32_t ptio_test_xorshift(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/* Assert that a ptio result is not an error, printing its name if it is. */
#define PTIO_CK_OK(expr)                                                   \
	do {                                                               \
		ptio_ssize ck_r_ = (expr);                                 \
		ck_assert_msg(ck_r_ >= 0, "%s failed: %s (%ld)", #expr,    \
			      ptio_strerror(ck_r_), (long)ck_r_);          \
	} while (0)

#endif /* PTIO_TEST_HELPERS_H */
