/*
 * test/check-sim.c - the testing kit (ptio/sim.h): virtual time, events,
 * duplex streams with and without faults, the seed runner, and the
 * simulated CPU under the port backend.
 */
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include <ptio.h>
#include <ptio/sim.h>
#include "test/helpers.h"

static struct ptio_sim sim;
static struct ptio_sim_event ev[16];
static struct ptio_loop loop;

static void sim_setup(void)
{
	ptio_loop_init(&loop, ptio_sim_init(&sim, 0xFFFFFF00u, 42, ev, 16));
}

static void sim_teardown(void)
{
	ck_assert_uint_eq(ptio_loop_alive(&loop), 0);
	ck_assert_uint_eq(ptio_loop_registrations(&loop), 0);
}

/* ---- Virtual time ----------------------------------------------------------- */

struct sleeper {
	struct ptio_timed_task tt;
	struct ptio_op op;
	ptio_ssize r;
	ptio_tick woke;
};

static ptio_ssize sleep_30s(struct ptio_task *task)
{
	struct sleeper *s = PTIO_CONTAINER_OF(task, struct sleeper, tt.task);

	PTIO_BEGIN(&task->pt);
	PTIO_AWAIT(&task->pt, s->r, ptio_sleep(&s->op, 30000));
	s->woke = ptio_loop_now(task->loop);
	PTIO_END(&task->pt);
}

START_TEST(test_time_jumps)
{
	struct sleeper s = { 0 };

	ptio_op_init(&s.op, &s.tt.task);
	ptio_timed_task_start(&loop, &s.tt, sleep_30s);
	ck_assert_int_eq(ptio_loop_run(&loop, PTIO_RUN_DEFAULT), 0);
	ck_assert_int_eq(s.r, 0);
	/* Exactly 30 s later, across the 32-bit wrap, in one wait. */
	ck_assert_uint_eq(s.woke, 0xFFFFFF00u + 30000u);
	ck_assert_uint_eq(sim.waits, 1);
}
END_TEST

struct waiter {
	struct ptio_task task;
	struct ptio_op op;
	struct ptio_source src;
	ptio_ssize r;
	ptio_tick at;
};

static ptio_ssize wait_src(struct ptio_task *task)
{
	struct waiter *w = PTIO_CONTAINER_OF(task, struct waiter, task);
	PTIO_BEGIN(&task->pt);
	PTIO_WAIT_UNTIL(&task->pt, (w->r = ptio_source_poll(&w->src, task,
							    PTIO_READ)) !=
					   PTIO_PENDING);
	w->at = ptio_loop_now(task->loop);
	ptio_source_close(&w->src);
	PTIO_END(&task->pt);
}

START_TEST(test_events_and_stall)
{
	struct waiter w = { 0 };

	ptio_source_init(&w.src, 0, 0);
	ptio_op_init(&w.op, &w.task);
	ptio_task_start(&loop, &w.task, wait_src);
	/* Nothing scheduled: the loop reports a stall instead of hanging. */
	ck_assert_int_eq(ptio_loop_run(&loop, PTIO_RUN_ONCE), PTIO_SIM_STALL);
	ck_assert_int_eq(ptio_loop_alive(&loop), 1);
	/* A forgotten event never comes; a kept one comes on its tick. */
	ck_assert_int_eq(ptio_sim_signal(&sim, &w.src, PTIO_READABLE, 5), 0);
	ptio_sim_forget(&sim, &w.src);
	ck_assert_int_eq(ptio_sim_signal(&sim, &w.src, PTIO_READABLE, 700), 0);
	ck_assert_int_eq(ptio_loop_run(&loop, PTIO_RUN_DEFAULT), 0);
	ck_assert_int_eq(w.r, PTIO_READABLE);
	ck_assert_uint_eq(w.at, 0xFFFFFF00u + 700u);
}
END_TEST

START_TEST(test_event_array_full)
{
	struct ptio_source src;
	struct ptio_sim_event one[1];
	struct ptio_sim s2;

	ptio_source_init(&src, 0, 0);
	ptio_sim_init(&s2, 0, 0, one, 1);
	ck_assert_int_eq(ptio_sim_signal(&s2, &src, PTIO_READABLE, 1), 0);
	ck_assert_int_eq(ptio_sim_signal(&s2, &src, PTIO_READABLE, 1),
			 PTIO_ENOSPC);
	ck_assert_uint_eq(s2.overflows, 1);
	ptio_sim_advance(&s2, 1);
	ptio_sim_deliver(&s2);
	ck_assert_uint_eq(src.ready, PTIO_READABLE);
	ck_assert_uint_eq(s2.nev, 0);
}
END_TEST

/* ---- Duplex streams ---------------------------------------------------------- */

#define PAYLOAD 3000

static struct xfer {
	struct ptio_timed_task wt, rt;
	struct ptio_op wop, rop;
	struct ptio_sim_duplex d;
	uint8_t bufs[2 * 64];
	uint8_t src[PAYLOAD], dst[PAYLOAD];
	ptio_ssize wres, rres;
} x;

static ptio_ssize x_writer(struct ptio_task *task)
{
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	PTIO_AWAIT(&task->pt, r, ptio_write_all(&x.wop,
						ptio_sim_end_writer(&x.d.a),
						x.src, PAYLOAD));
	x.wres = r;
	ptio_sim_end_close(&x.d.a);
	PTIO_END(&task->pt);
}

static ptio_ssize x_reader(struct ptio_task *task)
{
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	PTIO_AWAIT(&task->pt, r, ptio_read_exact(&x.rop,
						 ptio_sim_end_reader(&x.d.b),
						 x.dst, PAYLOAD));
	x.rres = r;
	ptio_sim_end_close(&x.d.b);
	PTIO_END(&task->pt);
}

/* Move PAYLOAD bytes a -> b on a fresh sim from SEED with faults F on
 * both ends (NULL: random ones).  Returns the loop's result. */
static ptio_ssize transfer(uint32_t seed, const struct ptio_sim_faults *f)
{
	struct ptio_sim_faults rf;
	size_t i;

	memset(&x, 0, sizeof(x));
	ptio_loop_init(&loop, ptio_sim_init(&sim, 0, seed, ev, 16));
	if (f == NULL) {
		ptio_sim_faults_random(&sim, &rf);
		rf.eof = rf.reset = 0;
		f = &rf;
	}
	for (i = 0; i < PAYLOAD; i++)
		x.src[i] = (uint8_t)ptio_sim_rand(&sim);
	ptio_sim_duplex_init(&x.d, &sim, x.bufs, 64);
	ptio_sim_end_set_faults(&x.d.a, f);
	ptio_sim_end_set_faults(&x.d.b, f);
	ptio_op_init(&x.wop, &x.wt.task);
	ptio_op_init(&x.rop, &x.rt.task);
	ptio_timed_task_start(&loop, &x.rt, x_reader);
	ptio_timed_task_start(&loop, &x.wt, x_writer);
	return ptio_loop_run(&loop, PTIO_RUN_DEFAULT);
}

START_TEST(test_duplex_perfect)
{
	ck_assert_int_eq(transfer(1, &ptio_sim_perfect), 0);
	ck_assert_int_eq(x.rres, PAYLOAD);
	ck_assert_mem_eq(x.dst, x.src, PAYLOAD);
	ck_assert_uint_eq(x.d.a.injected + x.d.b.injected, 0);
	ck_assert_uint_eq(ptio_sim_now(&sim), 0);
}
END_TEST

static int faulty_transfer(uint32_t seed, void *ctx)
{
	(void)ctx;
	if (transfer(seed, NULL) != 0 || x.wres != PAYLOAD ||
	    x.rres != PAYLOAD || memcmp(x.dst, x.src, PAYLOAD) != 0 ||
	    ptio_loop_registrations(&loop) != 0)
		return 1;
	return 0;
}

START_TEST(test_duplex_faults_over_seeds)
{
	struct ptio_sim_seeds s;
	unsigned long injected = 0;
	uint32_t seed;

	ptio_sim_seeds_init(&s, 300, getenv("PTIO_SIM_SEED"),
			    getenv("PTIO_SIM_SEEDS"));
	ck_assert_msg(ptio_sim_seeds_run(&s, faulty_transfer, NULL) == 0,
		      "%s", s.message);
	/* The faults really happen. */
	for (seed = 1; seed <= 20; seed++) {
		ck_assert_int_eq(faulty_transfer(seed, NULL), 0);
		injected += x.d.a.injected + x.d.b.injected;
	}
	ck_assert_uint_gt(injected, 100);
}
END_TEST

START_TEST(test_same_seed_same_run)
{
	unsigned long waits, calls;
	ptio_tick now;

	ck_assert_int_eq(faulty_transfer(77, NULL), 0);
	waits = sim.waits;
	calls = x.d.a.calls + x.d.b.calls;
	now = sim.now;
	ck_assert_int_eq(faulty_transfer(78, NULL), 0);
	ck_assert_int_eq(faulty_transfer(77, NULL), 0);
	ck_assert_uint_eq(sim.waits, waits);
	ck_assert_uint_eq(x.d.a.calls + x.d.b.calls, calls);
	ck_assert_uint_eq(sim.now, now);
}
END_TEST

START_TEST(test_reset_and_eof)
{
	struct ptio_sim_faults f = ptio_sim_perfect;
	uint8_t b[4];

	f.reset = 1000;
	ck_assert_int_eq(transfer(3, &f), 0);
	ck_assert_int_eq(x.wres, PTIO_ECONNRESET);
	ck_assert_int_eq(x.rres, PTIO_ECONNRESET);

	f = ptio_sim_perfect;
	f.eof = 1000;
	memset(&x, 0, sizeof(x));
	ptio_sim_init(&sim, 0, 3, ev, 16);
	ptio_sim_duplex_init(&x.d, &sim, x.bufs, 64);
	ptio_sim_end_set_faults(&x.d.b, &f);
	ck_assert_int_eq(ptio_nb_write(ptio_sim_end_writer(&x.d.a), "hi", 2), 2);
	ck_assert_int_eq(ptio_nb_read(ptio_sim_end_reader(&x.d.b), b, 4), 0);
	/* Closing one end: the other reads end of stream, writes EPIPE. */
	f.eof = 0;
	ptio_sim_end_set_faults(&x.d.b, &f);
	ptio_sim_end_close(&x.d.b);
	ck_assert_int_eq(ptio_nb_write(ptio_sim_end_writer(&x.d.a), "hi", 2),
			 PTIO_EPIPE);
	ck_assert_int_eq(ptio_nb_read(ptio_sim_end_reader(&x.d.b), b, 4),
			 PTIO_ECLOSED);
	ptio_sim_end_close(&x.d.a);
	ck_assert_int_eq(ptio_nb_read(ptio_sim_end_reader(&x.d.a), b, 4),
			 PTIO_ECLOSED);
}
END_TEST

START_TEST(test_short_transfers_one_byte)
{
	struct ptio_sim_faults f = ptio_sim_perfect;
	int i;

	f.shortx = 1000;
	f.one = 1000;
	ptio_sim_init(&sim, 0, 9, ev, 16);
	ptio_sim_duplex_init(&x.d, &sim, x.bufs, 64);
	ptio_sim_end_set_faults(&x.d.a, &f);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(ptio_nb_write(ptio_sim_end_writer(&x.d.a),
					       "hello", 5), 1);
	ptio_sim_end_close(&x.d.a);
	ptio_sim_end_close(&x.d.b);
}
END_TEST

/* ---- The seed runner ----------------------------------------------------------- */

static int fails_at_7(uint32_t seed, void *ctx)
{
	(void)ctx;
	return seed == 7 ? 3 : 0;
}

START_TEST(test_seed_runner)
{
	struct ptio_sim_seeds s;

	ptio_sim_seeds_init(&s, 100, NULL, NULL);
	ck_assert_int_eq(ptio_sim_seeds_run(&s, fails_at_7, NULL), -1);
	ck_assert_uint_eq(s.failed, 7);
	ck_assert_uint_eq(s.ran, 7);
	ck_assert_int_eq(s.result, 3);
	ck_assert_str_eq(s.message, "seed 7 failed (3); rerun it alone with "
				    "PTIO_SIM_SEED=7");
	ptio_sim_seeds_init(&s, 100, "12", NULL);
	ck_assert_int_eq(ptio_sim_seeds_run(&s, fails_at_7, NULL), 0);
	ck_assert_uint_eq(s.ran, 1);
	ptio_sim_seeds_init(&s, 100, "x7", "6");
	ck_assert_int_eq(ptio_sim_seeds_run(&s, fails_at_7, NULL), 0);
	ck_assert_uint_eq(s.ran, 6);
	ptio_sim_seeds_init(&s, 0, NULL, NULL);
	ck_assert_int_eq(ptio_sim_seeds_run(&s, fails_at_7, NULL), 0);
	ck_assert_uint_eq(s.ran, 0);
}
END_TEST

/* ---- The simulated CPU ------------------------------------------------------------- */

static struct ptio_port_backend pb;
static struct ptio_port_source ps;
static struct ptio_sim_irq line;
static int isr_runs;

static void isr(void *arg)
{
	(void)arg;
	isr_runs++;
	ptio_port_source_ready(&ps, PTIO_READABLE);
}

static ptio_ssize irq_waiter(struct ptio_task *task)
{
	struct waiter *w = PTIO_CONTAINER_OF(task, struct waiter, task);

	PTIO_BEGIN(&task->pt);
	PTIO_AWAIT(&task->pt, w->r, ptio_ready(&w->op,
					      ptio_port_source_as_ready(&ps),
					      PTIO_READ));
	w->at = ptio_loop_now(task->loop);
	ptio_port_source_close(&ps);
	PTIO_END(&task->pt);
}

START_TEST(test_cpu_interrupts)
{
	struct waiter w = { 0 };
	const struct ptio_port_ops *ops;
	ptio_port_irq_state st;

	ptio_sim_init(&sim, 1000, 5, ev, 16);
	ops = ptio_sim_port_ops(&sim);
	ptio_loop_init(&loop, ptio_port_backend_init(&pb, ops));
	ptio_port_source_init(&ps, &pb, 0);
	ptio_sim_irq_init(&line, &sim, isr, NULL);
	/* Masked: the raise waits for the unmask. */
	st = ops->irq_save();
	ck_assert_int_eq(ptio_sim_irq_raise(&line, 0), 0);
	ck_assert_int_eq(isr_runs, 0);
	ops->irq_restore(st);
	ck_assert_int_eq(isr_runs, 1);
	ptio_port_backend_deliver(&pb);
	ptio_source_clear(&ps.src, PTIO_READABLE);
	/* A raise 250 ticks ahead wakes the task at that tick. */
	ptio_op_init(&w.op, &w.task);
	ptio_task_start(&loop, &w.task, irq_waiter);
	ck_assert_int_eq(ptio_sim_irq_raise(&line, 250), 0);
	ck_assert_int_eq(ptio_loop_run(&loop, PTIO_RUN_DEFAULT), 0);
	ck_assert_int_eq(w.r, PTIO_READABLE);
	ck_assert_uint_eq(w.at, 1250);
	ck_assert_int_eq(isr_runs, 2);
	ck_assert_uint_eq(line.taken, 2);
	ck_assert(!sim.masked);
	/* Idle with nothing to come is a hang on a board: reported. */
	ck_assert(!ptio_sim_stalled(&sim));
	ops->idle(ops->now(), PTIO_WAIT_FOREVER);
	ck_assert(ptio_sim_stalled(&sim));
	ptio_sim_irq_close(&line);
	ck_assert_ptr_null(sim.irqs);
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("sim");
	TCase *tc = tcase_create("time");

	tcase_add_checked_fixture(tc, sim_setup, sim_teardown);
	tcase_add_test(tc, test_time_jumps);
	tcase_add_test(tc, test_events_and_stall);
	tcase_add_test(tc, test_event_array_full);
	suite_add_tcase(s, tc);
	tc = tcase_create("streams");
	tcase_add_checked_fixture(tc, sim_setup, sim_teardown);
	tcase_add_test(tc, test_duplex_perfect);
	tcase_add_test(tc, test_duplex_faults_over_seeds);
	tcase_add_test(tc, test_same_seed_same_run);
	tcase_add_test(tc, test_reset_and_eof);
	tcase_add_test(tc, test_short_transfers_one_byte);
	tcase_add_test(tc, test_seed_runner);
	suite_add_tcase(s, tc);
	tc = tcase_create("cpu");
	tcase_add_checked_fixture(tc, sim_setup, sim_teardown);
	tcase_add_test(tc, test_cpu_interrupts);
	suite_add_tcase(s, tc);
	return s;
}
