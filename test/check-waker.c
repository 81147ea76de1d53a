/*
 * test/check-waker.c - wakers and signal sources (ptio/posix.h, "Wakers"
 * and "Signal sources"), on the backend PTIO_BACKEND names (make check
 * runs this suite once per backend, and once more built with
 * ThreadSanitizer as test/check-waker-tsan when the compiler has it).
 *
 * Divided into: a task that awaits one waker wait or signal read and
 * records how it ended; the waker on one thread (wake before and during
 * the wait, coalescing, close, a wake from a signal handler); the waker
 * under threads (N producers pushing into a mutex-protected queue, the
 * loop task counting what it drains); and signal sources (order, two
 * signals before the loop runs, another thread's kill, busy and invalid
 * numbers, the old actions restored on close).
 *
 * Every test ends in ptio_test_loop_teardown, which fails if a task, a
 * registration or a descriptor is left.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>
#include "test/helpers.h"

/* Built with ThreadSanitizer (test/check-waker-tsan): a race stops the
 * test's process at once, so that Check reports the test as failed
 * rather than the report going by in the log of a passing run. */
#if defined(__SANITIZE_THREAD__)
#define WAKER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WAKER_TSAN 1
#endif
#endif
#ifdef WAKER_TSAN
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "halt_on_error=1:abort_on_error=1";
}
#endif

/* ---- A task awaiting waits or signals ------------------------------------- */

/* What the task does: wait on the waker (or read signals) WANT times,
 * each with a deadline of TIMEOUT ms (0: none), recording each result. */
static struct {
	struct ptio_timed_task tt;
	struct ptio_op op;
	struct ptio_waker w;
	struct ptio_signals s;
	bool signals;             /* read s rather than wait on w */
	int want;                 /* awaits to make */
	int done;                 /* awaits made */
	uint32_t timeout;
	ptio_ssize res[8];
	bool close_at_end;        /* close w or s when done */
} wt;

static ptio_ssize wt_call(void)
{
	if (wt.signals)
		return ptio_signals_next(&wt.op, &wt.s);
	return ptio_waker_wait(&wt.op, &wt.w);
}

static ptio_ssize wt_fn(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&wt.op, t);
	while (wt.done < wt.want) {
		if (wt.timeout > 0)
			ptio_task_set_timeout(ptio_task_timed(t), wt.timeout);
		PTIO_AWAIT(&t->pt, r, wt_call());
		ptio_task_clear_deadline(ptio_task_timed(t));
		wt.res[wt.done++] = r;
	}
	if (wt.close_at_end && wt.signals)
		PTIO_CK_OK(ptio_signals_close(&wt.s));
	else if (wt.close_at_end)
		PTIO_CK_OK(ptio_waker_close(&wt.w));
	PTIO_END(&t->pt);
}

static void wt_start(bool signals, int want, uint32_t timeout)
{
	wt.signals = signals;
	wt.want = want;
	wt.timeout = timeout;
	wt.close_at_end = true;
	ptio_timed_task_start(&ptio_test_loop, &wt.tt, wt_fn);
}

/* ---- The waker on one thread --------------------------------------------- */

START_TEST(test_wake_before_wait)
{
	memset(&wt, 0, sizeof wt);
	PTIO_CK_OK(ptio_waker_open(&wt.w, &ptio_test_loop));
	PTIO_CK_OK(ptio_waker_wake(&wt.w));
	wt_start(false, 1, 2000);
	ptio_test_run(5000);
	ck_assert_int_eq(wt.res[0], 0);
}
END_TEST

/* Many wakes before the loop runs make one wait return; the next one
 * waits for a new wake, and times out without one. */
START_TEST(test_wakes_coalesce)
{
	int i;

	memset(&wt, 0, sizeof wt);
	PTIO_CK_OK(ptio_waker_open(&wt.w, &ptio_test_loop));
	for (i = 0; i < 100; i++)
		PTIO_CK_OK(ptio_waker_wake(&wt.w));
	ck_assert_int_eq(ptio_waker_nb_wait(&wt.w), 0);
	ck_assert_int_eq(ptio_waker_nb_wait(&wt.w), PTIO_WOULD_BLOCK);
	PTIO_CK_OK(ptio_waker_wake(&wt.w));
	PTIO_CK_OK(ptio_waker_wake(&wt.w));
	wt_start(false, 2, 50);
	ptio_test_run(5000);
	ck_assert_int_eq(wt.res[0], 0);
	ck_assert_int_eq(wt.res[1], PTIO_ETIMEDOUT);
}
END_TEST

/* A task that wakes the waiter from the same loop, a little later. */
static struct {
	struct ptio_timed_task tt;
	struct ptio_op op;
	bool close;               /* close the waker instead of waking */
} wk;

static ptio_ssize wk_fn(struct ptio_task *t)
{
	ptio_ssize r;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&wk.op, t);
	PTIO_AWAIT(&t->pt, r, ptio_sleep(&wk.op, 20));
	(void)r;
	if (wk.close)
		PTIO_CK_OK(ptio_waker_close(&wt.w));
	else
		PTIO_CK_OK(ptio_waker_wake(&wt.w));
	PTIO_END(&t->pt);
}

START_TEST(test_wake_while_waiting)
{
	memset(&wt, 0, sizeof wt);
	memset(&wk, 0, sizeof wk);
	PTIO_CK_OK(ptio_waker_open(&wt.w, &ptio_test_loop));
	wt_start(false, 1, 0);
	ptio_timed_task_start(&ptio_test_loop, &wk.tt, wk_fn);
	ptio_test_run(5000);
	ck_assert_int_eq(wt.res[0], 0);
}
END_TEST

START_TEST(test_close_while_waiting)
{
	memset(&wt, 0, sizeof wt);
	memset(&wk, 0, sizeof wk);
	wk.close = true;
	PTIO_CK_OK(ptio_waker_open(&wt.w, &ptio_test_loop));
	wt_start(false, 1, 0);
	wt.close_at_end = false;
	ptio_timed_task_start(&ptio_test_loop, &wk.tt, wk_fn);
	ptio_test_run(5000);
	ck_assert_int_eq(wt.res[0], PTIO_ECLOSED);
	PTIO_CK_OK(ptio_waker_close(&wt.w)); /* idempotent */
}
END_TEST

/* A wake from a signal handler (async-signal-safe). */
static void wake_handler(int sig)
{
	(void)sig;
	(void)ptio_waker_wake(&wt.w);
}

START_TEST(test_wake_from_handler)
{
	struct sigaction sa, old;

	memset(&wt, 0, sizeof wt);
	PTIO_CK_OK(ptio_waker_open(&wt.w, &ptio_test_loop));
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = wake_handler;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR2, &sa, &old), 0);
	raise(SIGUSR2);
	wt_start(false, 1, 2000);
	ptio_test_run(5000);
	ck_assert_int_eq(sigaction(SIGUSR2, &old, NULL), 0);
	ck_assert_int_eq(wt.res[0], 0);
}
END_TEST

/* ---- The waker under threads ---------------------------------------------- */

#define MT_THREADS 4

/* Producers push items (a count per producer, as a queue of numbered
 * items would) under the mutex and wake the loop; the loop task drains
 * them all until it has seen every one. */
static struct {
	struct ptio_task task;
	struct ptio_op op;
	struct ptio_waker w;
	pthread_mutex_t lock;
	unsigned queued;          /* items pushed and not drained: lock */
	unsigned per_thread;      /* items each producer pushes */
	unsigned drained;         /* loop thread only */
	unsigned wakeups;         /* waits that returned */
	unsigned empty;           /* of those, with nothing to drain */
	ptio_ssize res;
} mt;

static void *mt_producer(void *arg)
{
	unsigned i;

	(void)arg;
	for (i = 0; i < mt.per_thread; i++) {
		pthread_mutex_lock(&mt.lock);
		mt.queued++;
		pthread_mutex_unlock(&mt.lock);
		if (ptio_waker_wake(&mt.w) < 0)
			abort();
		if (i % 64 == 0)
			sched_yield();
	}
	return NULL;
}

static ptio_ssize mt_fn(struct ptio_task *t)
{
	ptio_ssize r = 0;
	unsigned n;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&mt.op, t);
	while (mt.drained < mt.per_thread * MT_THREADS) {
		PTIO_AWAIT(&t->pt, r, ptio_waker_wait(&mt.op, &mt.w));
		if (r < 0)
			break;
		mt.wakeups++;
		pthread_mutex_lock(&mt.lock);
		n = mt.queued;
		mt.queued = 0;
		pthread_mutex_unlock(&mt.lock);
		mt.empty += n == 0;
		mt.drained += n;
	}
	mt.res = r;
	PTIO_END(&t->pt);
}

START_TEST(test_threads_lose_nothing)
{
	pthread_t th[MT_THREADS];
	int i;

	memset(&mt, 0, sizeof mt);
	pthread_mutex_init(&mt.lock, NULL);
	mt.per_thread = ptio_test_under_valgrind() ? 500 : 20000;
	PTIO_CK_OK(ptio_waker_open(&mt.w, &ptio_test_loop));
	ptio_task_start(&ptio_test_loop, &mt.task, mt_fn);
	for (i = 0; i < MT_THREADS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, mt_producer,
						NULL), 0);
	ptio_test_run(60000);
	for (i = 0; i < MT_THREADS; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	PTIO_CK_OK(mt.res);
	ck_assert_uint_eq(mt.drained, mt.per_thread * MT_THREADS);
	ck_assert_uint_eq(mt.queued, 0);
	/* Coalescing: far fewer wakeups than wakes (not asserted tighter:
	 * a scheduler may interleave producer and loop one to one). */
	ck_assert_uint_le(mt.wakeups, mt.per_thread * MT_THREADS);
	PTIO_CK_OK(ptio_waker_close(&mt.w));
	pthread_mutex_destroy(&mt.lock);
}
END_TEST

/* ---- Signal sources --------------------------------------------------------- */

/* Two different signals raised before the loop runs are both read, in
 * the order they were delivered. */
START_TEST(test_signals_two_before_run)
{
	static const int sigs[] = { SIGUSR1, SIGUSR2 };

	memset(&wt, 0, sizeof wt);
	PTIO_CK_OK(ptio_signals_open(&wt.s, &ptio_test_loop, sigs, 2));
	raise(SIGUSR1);
	raise(SIGUSR2);
	raise(SIGUSR1);
	wt_start(true, 3, 2000);
	ptio_test_run(5000);
	ck_assert_int_eq(wt.res[0], SIGUSR1);
	ck_assert_int_eq(wt.res[1], SIGUSR2);
	ck_assert_int_eq(wt.res[2], SIGUSR1);
}
END_TEST

static void *kill_later(void *arg)
{
	(void)arg;
	usleep(20000);
	kill(getpid(), SIGUSR1);
	return NULL;
}

/* A signal another thread sends while the task waits wakes the loop. */
START_TEST(test_signals_from_thread)
{
	static const int sigs[] = { SIGUSR1 };
	pthread_t th;

	memset(&wt, 0, sizeof wt);
	PTIO_CK_OK(ptio_signals_open(&wt.s, &ptio_test_loop, sigs, 1));
	wt_start(true, 1, 5000);
	ck_assert_int_eq(pthread_create(&th, NULL, kill_later, NULL), 0);
	ptio_test_run(10000);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(wt.res[0], SIGUSR1);
}
END_TEST

static volatile sig_atomic_t old_hits;

static void old_handler(int sig)
{
	(void)sig;
	old_hits++;
}

/* Close gives each signal its old action back; the mask is untouched.
 * SIGHUP's old action is whatever the test inherited (SIG_IGN under
 * nohup, SIG_DFL otherwise). */
START_TEST(test_signals_close_restores)
{
	static const int sigs[] = { SIGUSR1, SIGHUP };
	struct sigaction sa, old, oldhup, now;
	sigset_t before, after;

	memset(&wt, 0, sizeof wt);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = old_handler;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, &old), 0);
	ck_assert_int_eq(sigaction(SIGHUP, NULL, &oldhup), 0);
	ck_assert_int_eq(pthread_sigmask(SIG_SETMASK, NULL, &before), 0);
	old_hits = 0;
	PTIO_CK_OK(ptio_signals_open(&wt.s, &ptio_test_loop, sigs, 2));
	raise(SIGUSR1);
	ck_assert_int_eq(old_hits, 0);
	ck_assert_int_eq(ptio_signals_nb_next(&wt.s), SIGUSR1);
	ck_assert_int_eq(ptio_signals_nb_next(&wt.s), PTIO_WOULD_BLOCK);
	PTIO_CK_OK(ptio_signals_close(&wt.s));
	PTIO_CK_OK(ptio_signals_close(&wt.s)); /* idempotent */
	ck_assert_int_eq(sigaction(SIGUSR1, NULL, &now), 0);
	ck_assert_ptr_eq((void *)now.sa_handler, (void *)old_handler);
	ck_assert_int_eq(sigaction(SIGHUP, NULL, &now), 0);
	ck_assert_ptr_eq((void *)now.sa_handler, (void *)oldhup.sa_handler);
	raise(SIGUSR1);
	ck_assert_int_eq(old_hits, 1);
	ck_assert_int_eq(pthread_sigmask(SIG_SETMASK, NULL, &after), 0);
	ck_assert(sigismember(&after, SIGUSR1) ==
		  sigismember(&before, SIGUSR1));
	ck_assert_int_eq(sigaction(SIGUSR1, &old, NULL), 0);
}
END_TEST

/* One source per signal number; bad numbers are refused and leave every
 * action as it was. */
START_TEST(test_signals_busy_and_invalid)
{
	static const int one[] = { SIGUSR1 };
	static const int both[] = { SIGUSR2, SIGUSR1 };
	static const int bad[] = { SIGUSR2, SIGKILL };
	struct ptio_signals other;
	struct sigaction was, now;

	memset(&wt, 0, sizeof wt);
	ck_assert_int_eq(sigaction(SIGUSR2, NULL, &was), 0);
	PTIO_CK_OK(ptio_signals_open(&wt.s, &ptio_test_loop, one, 1));
	ck_assert_int_eq(ptio_signals_open(&other, &ptio_test_loop, both, 2),
			 PTIO_EBUSY);
	ck_assert_int_eq(sigaction(SIGUSR2, NULL, &now), 0);
	ck_assert_ptr_eq((void *)now.sa_handler, (void *)was.sa_handler);
	ck_assert_int_eq(ptio_signals_open(&other, &ptio_test_loop, bad, 2),
			 PTIO_EINVAL);
	ck_assert_int_eq(sigaction(SIGUSR2, NULL, &now), 0);
	ck_assert_ptr_eq((void *)now.sa_handler, (void *)was.sa_handler);
	/* The first source still has SIGUSR1. */
	raise(SIGUSR1);
	ck_assert_int_eq(ptio_signals_nb_next(&wt.s), SIGUSR1);
	PTIO_CK_OK(ptio_signals_close(&wt.s));
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create(ptio_test_suite_name("waker"));
	TCase *tc;

	tc = tcase_create("waker");
	tcase_add_checked_fixture(tc, ptio_test_loop_setup,
				  ptio_test_loop_teardown);
	tcase_add_test(tc, test_wake_before_wait);
	tcase_add_test(tc, test_wakes_coalesce);
	tcase_add_test(tc, test_wake_while_waiting);
	tcase_add_test(tc, test_close_while_waiting);
	tcase_add_test(tc, test_wake_from_handler);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_checked_fixture(tc, ptio_test_loop_setup,
				  ptio_test_loop_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_threads_lose_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("signals");
	tcase_add_checked_fixture(tc, ptio_test_loop_setup,
				  ptio_test_loop_teardown);
	tcase_add_test(tc, test_signals_two_before_run);
	tcase_add_test(tc, test_signals_from_thread);
	tcase_add_test(tc, test_signals_close_restores);
	tcase_add_test(tc, test_signals_busy_and_invalid);
	suite_add_tcase(s, tc);
	return s;
}
