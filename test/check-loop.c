/*
 * test/check-loop.c - tasks, the run queue, fairness, timers and
 * deadlines, on the fake backend (whose clock the tests own).
 *
 * Divided into: the run queue (order, fairness, wake, cancel, freeing a
 * task from its own machine), sources, timers (order, cancel, cost, the
 * 32-bit wrap), and deadlines (sleep, ready, ready_until).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <check.h>
#include "test/helpers.h"
#include "test/fake/fake-backend.h"
#include "test/fake/op-task.h"

/* ---- Small helpers --------------------------------------------------------- */

static int trace[256];
static size_t ntrace;

static void note(int v)
{
	ck_assert_uint_lt(ntrace, sizeof(trace) / sizeof(trace[0]));
	trace[ntrace++] = v;
}

/* One iteration that never waits. */
static void run_nowait(void)
{
	ptio_ssize r = ptio_loop_run(&fake_loop, PTIO_RUN_NOWAIT);

	ck_assert_msg(r >= 0, "loop error %s", ptio_strerror(r));
}

static uint32_t rng_state;

static uint32_t rng(void)
{
	return ptio_test_xorshift(&rng_state);
}

/* A stream that is never ready (nothing is scheduled for it). */
static void never_ready(struct script_stream *s)
{
	script_stream_init(s, &fake_be);
	ptio_source_clear(&s->src, PTIO_READABLE | PTIO_WRITABLE);
}

/* Start T, fresh, on a fresh never-ready S: CALL awaited for READ. */
static void start_reader(struct op_task *t, struct script_stream *s,
			 op_task_call call)
{
	never_ready(s);
	memset(t, 0, sizeof(*t));
	t->s = s;
	t->interest = PTIO_READ;
	op_task_start(&fake_loop, t, call);
}

static ptio_ssize call_ready(struct op_task *t)
{
	return ptio_ready(&t->op, script_stream_ready(t->s), t->interest);
}

static ptio_ssize call_ready_until(struct op_task *t)
{
	return ptio_ready_until(&t->op, script_stream_ready(t->s), t->interest,
				t->when);
}

static ptio_ssize call_wait_ready(struct op_task *t)
{
	return ptio_wait_ready(&t->tt.task, script_stream_ready(t->s),
			       t->interest);
}

static ptio_ssize call_wait_source(struct op_task *t)
{
	return ptio_wait_source(&t->tt.task, &t->s->src, t->interest);
}

static ptio_ssize call_sleep(struct op_task *t)
{
	return ptio_sleep(&t->op, t->ticks);
}

static ptio_ssize call_sleep_until(struct op_task *t)
{
	return ptio_sleep_until(&t->op, t->when);
}

/* ---- The run queue ---------------------------------------------------------- */

/* A task with a few behaviours, chosen by its fields. */
struct simple {
	struct ptio_task task;
	int id;
	int runs;
	int go;                      /* gate_fn waits for it */
	int phase;
	int *stop;                   /* loops end when *stop */
	struct ptio_task *poke;      /* woken twice per run, if set */
	struct ptio_task *victim;    /* cancelled on the first run, if set */
};

#define SIMPLE(t) PTIO_CONTAINER_OF(t, struct simple, task)

static ptio_ssize once_fn(struct ptio_task *task)
{
	struct simple *s = SIMPLE(task);

	s->runs++;
	PTIO_BEGIN(&task->pt);
	note(s->id);
	if (s->victim != NULL)
		ptio_task_cancel(s->victim);
	PTIO_END(&task->pt);
}

static ptio_ssize gate_fn(struct ptio_task *task)
{
	struct simple *s = SIMPLE(task);

	s->runs++;
	PTIO_BEGIN(&task->pt);
	note(s->id);
	PTIO_WAIT_UNTIL(&task->pt, s->go);
	note(100 + s->id);
	PTIO_END(&task->pt);
}

START_TEST(test_run_queue_is_fifo)
{
	static const int order[10] = { 3, 1, 4, 0, 5, 9, 2, 6, 8, 7 };
	struct simple s[10];
	int i;

	ntrace = 0;
	memset(s, 0, sizeof(s));
	for (i = 0; i < 10; i++) {
		s[i].id = i;
		ptio_task_start(&fake_loop, &s[i].task, gate_fn);
	}
	ck_assert_uint_eq(ptio_loop_alive(&fake_loop), 10);
	run_nowait();
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(trace[i], i);
	/* Woken in a scrambled order, they run in that order. */
	for (i = 0; i < 10; i++) {
		s[order[i]].go = 1;
		ptio_task_wake(&s[order[i]].task);
	}
	run_nowait();
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(trace[10 + i], 100 + order[i]);
	ck_assert_uint_eq(ptio_loop_alive(&fake_loop), 0);
}
END_TEST

static ptio_ssize yield_until_stop_fn(struct ptio_task *task)
{
	struct simple *s = SIMPLE(task);

	s->runs++;
	PTIO_BEGIN(&task->pt);
	while (!*s->stop) {
		if (s->poke != NULL) {
			ptio_task_wake(s->poke);
			ptio_task_wake(s->poke);
		}
		PTIO_YIELD(&task->pt, task);
	}
	PTIO_END(&task->pt);
}

/* Wakes itself, then waits for that wake. */
static ptio_ssize self_wake_fn(struct ptio_task *task)
{
	struct simple *s = SIMPLE(task);

	s->runs++;
	PTIO_BEGIN(&task->pt);
	while (!*s->stop) {
		s->phase = 0;
		ptio_task_wake(task);
		ptio_task_wake(task);
		PTIO_WAIT_UNTIL(&task->pt, s->phase++ > 0);
	}
	PTIO_END(&task->pt);
}

/* Yields 50 times, then sets *stop. */
static ptio_ssize fifty_fn(struct ptio_task *task)
{
	struct simple *s = SIMPLE(task);

	s->runs++;
	PTIO_BEGIN(&task->pt);
	for (s->phase = 0; s->phase < 50; s->phase++)
		PTIO_YIELD(&task->pt, task);
	*s->stop = 1;
	PTIO_END(&task->pt);
}

static ptio_ssize wait_stop_fn(struct ptio_task *task)
{
	struct simple *s = SIMPLE(task);

	s->runs++;
	PTIO_BEGIN(&task->pt);
	PTIO_WAIT_UNTIL(&task->pt, *s->stop);
	PTIO_END(&task->pt);
}

START_TEST(test_fairness_per_round)
{
	int stop = 0;
	struct simple a, b, c, d;
	int k;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	memset(&d, 0, sizeof(d));
	a.stop = b.stop = c.stop = d.stop = &stop;
	a.poke = &d.task;
	ptio_task_start(&fake_loop, &a.task, yield_until_stop_fn);
	ptio_task_start(&fake_loop, &b.task, self_wake_fn);
	ptio_task_start(&fake_loop, &c.task, fifty_fn);
	ptio_task_start(&fake_loop, &d.task, wait_stop_fn);
	for (k = 1; ptio_loop_alive(&fake_loop) > 0; k++) {
		ptio_ssize r;

		ck_assert_int_lt(k, 60);
		r = ptio_loop_run(&fake_loop, PTIO_RUN_ONCE);
		ck_assert_msg(r >= 0, "loop error %s", ptio_strerror(r));
		if (k > 51)
			continue;
		/* Every task ran exactly once per round, however eagerly
		 * it woke itself; D, woken twice per round by A, at most
		 * once. */
		ck_assert_int_eq(a.runs, k);
		ck_assert_int_eq(b.runs, k);
		ck_assert_int_eq(c.runs, k);
		ck_assert_int_le(d.runs, k);
		ck_assert_int_ge(d.runs, k - 1);
	}
	ck_assert_int_eq(k - 1, 52);
	ck_assert_uint_eq(fake_be.sim.now, FAKE_START);
}
END_TEST

/* A task that is always ready does not keep a timer from firing. */
START_TEST(test_busy_task_does_not_starve_timer)
{
	int stop = 0;
	struct simple a;
	struct op_task t;
	int k;

	memset(&a, 0, sizeof(a));
	memset(&t, 0, sizeof(t));
	a.stop = &stop;
	t.ticks = 5;
	ptio_task_start(&fake_loop, &a.task, yield_until_stop_fn);
	op_task_start(&fake_loop, &t, call_sleep);
	for (k = 0; k < 30 && !t.finished; k++) {
		run_nowait();
		fake_be.sim.now++; /* time passes while A keeps the loop busy */
	}
	ck_assert(t.finished);
	ck_assert_int_eq(t.result, 0);
	ck_assert_uint_eq(t.at, FAKE_START + 5);
	stop = 1;
	fake_loop_run(5);
	ck_assert_int_ge(a.runs, 6);
}
END_TEST

START_TEST(test_wake_queued_running_finished)
{
	struct simple s;

	ntrace = 0;
	memset(&s, 0, sizeof(s));
	s.id = 7;
	/* Queued: waking it again does not queue it twice. */
	ptio_task_start(&fake_loop, &s.task, once_fn);
	ptio_task_wake(&s.task);
	ptio_task_wake(&s.task);
	run_nowait();
	ck_assert_int_eq(s.runs, 1);
	ck_assert_uint_eq(ntrace, 1);
	ck_assert(!ptio_task_alive(&s.task));
	ck_assert_uint_eq(ptio_loop_alive(&fake_loop), 0);
	/* Finished: waking, cancelling or aborting it does nothing, and
	 * writes nothing into its memory (which the program may have freed
	 * or reused by then). */
	{
		struct ptio_task before;

		memcpy(&before, &s.task, sizeof before);
		ptio_task_wake(&s.task);
		ptio_task_cancel(&s.task);
		ptio_task_abort(&s.task);
		ck_assert_mem_eq(&before, &s.task, sizeof before);
	}
	ck_assert(!ptio_task_alive(&s.task));
	ck_assert_uint_eq(ptio_loop_alive(&fake_loop), 0);
	run_nowait();
	ck_assert_int_eq(s.runs, 1);
}
END_TEST

/* A wake ends a readiness wait; the machine re-polls and waits again. */
START_TEST(test_wake_waiting_task_repolls)
{
	struct script_stream s;
	struct op_task t;
	unsigned long polls;

	start_reader(&t, &s, call_ready);
	run_nowait();
	ck_assert_ptr_eq(s.src.waiter[PTIO_SLOT_READ], &t.tt.task);
	ck_assert_uint_eq(ptio_loop_registrations(&fake_loop), 2);
	ck_assert(fake_backend_watches(&fake_be, &s.src));
	polls = s.polls;

	ptio_task_wake(&t.tt.task);
	ck_assert_ptr_null(s.src.waiter[PTIO_SLOT_READ]);
	run_nowait();
	ck_assert_uint_eq(s.polls, polls + 1);
	ck_assert(!t.finished);
	ck_assert_ptr_eq(s.src.waiter[PTIO_SLOT_READ], &t.tt.task);
	/* One slot and the backend's watch: not two of each. */
	ck_assert_uint_eq(ptio_loop_registrations(&fake_loop), 2);

	ptio_source_ready(&s.src, PTIO_READABLE);
	run_nowait();
	ck_assert(t.finished);
	ck_assert_int_eq(t.result, PTIO_READABLE);
	ck_assert_uint_eq(t.regs_after, 0);
}
END_TEST

START_TEST(test_cancel)
{
	struct script_stream s;
	struct simple q, killer, victim;
	struct op_task w, z;

	ntrace = 0;
	never_ready(&s);
	/* Queued and never run. */
	memset(&q, 0, sizeof(q));
	ptio_task_start(&fake_loop, &q.task, once_fn);
	ptio_task_cancel(&q.task);
	ck_assert(!ptio_task_alive(&q.task));
	ck_assert_uint_eq(ptio_loop_alive(&fake_loop), 0);
	run_nowait();
	ck_assert_int_eq(q.runs, 0);

	/* Waiting on a source, with a deadline timer armed. */
	memset(&w, 0, sizeof(w));
	w.s = &s;
	w.interest = PTIO_READ_WRITE;
	w.has_deadline = true;
	w.deadline_in = 1000;
	op_task_start(&fake_loop, &w, call_ready);
	/* Sleeping. */
	memset(&z, 0, sizeof(z));
	z.ticks = 500;
	op_task_start(&fake_loop, &z, call_sleep);
	run_nowait();
	ck_assert_uint_eq(fake_loop.ntimers, 2);
	ck_assert_uint_eq(fake_loop.nwaits, 2);
	ck_assert(fake_backend_watches(&fake_be, &s.src));
	ptio_task_cancel(&w.tt.task);
	ck_assert_ptr_null(s.src.waiter[0]);
	ck_assert_ptr_null(s.src.waiter[1]);
	ck_assert(!fake_backend_watches(&fake_be, &s.src));
	ck_assert_uint_eq(fake_loop.ntimers, 1);
	ptio_task_cancel(&z.tt.task);
	ck_assert_uint_eq(ptio_loop_registrations(&fake_loop), 0);
	ck_assert_uint_eq(ptio_loop_alive(&fake_loop), 0);
	ck_assert_int_eq(ptio_loop_run(&fake_loop, PTIO_RUN_DEFAULT), 0);
	ck_assert(!w.finished && !z.finished);

	/* Cancelled by another task earlier in the same round. */
	memset(&killer, 0, sizeof(killer));
	memset(&victim, 0, sizeof(victim));
	killer.id = 1;
	victim.id = 2;
	killer.victim = &victim.task;
	ptio_task_start(&fake_loop, &killer.task, once_fn);
	ptio_task_start(&fake_loop, &victim.task, once_fn);
	run_nowait();
	ck_assert_int_eq(victim.runs, 0);
	ck_assert_uint_eq(ntrace, 1);
	ck_assert_uint_eq(ptio_loop_alive(&fake_loop), 0);

	/* A finished task: a no-op.  Then the same memory starts again. */
	ptio_task_cancel(&killer.task);
	ck_assert_uint_eq(ptio_loop_alive(&fake_loop), 0);
	killer.victim = NULL;
	ptio_task_start(&fake_loop, &killer.task, once_fn);
	ck_assert_uint_eq(ptio_loop_alive(&fake_loop), 1);
	run_nowait();
	ck_assert_int_eq(killer.runs, 2);
}
END_TEST

/* Cancels itself while running, then suspends with a wake pending. */
static ptio_ssize cancel_self_fn(struct ptio_task *task)
{
	struct simple *s = SIMPLE(task);

	s->runs++;
	PTIO_BEGIN(&task->pt);
	ptio_task_cancel(task);
	PTIO_YIELD(&task->pt, task);
	note(-1); /* never reached */
	PTIO_END(&task->pt);
}

START_TEST(test_cancel_running_task)
{
	struct simple s;

	ntrace = 0;
	memset(&s, 0, sizeof(s));
	ptio_task_start(&fake_loop, &s.task, cancel_self_fn);
	run_nowait();
	ck_assert_int_eq(s.runs, 1);
	ck_assert(!ptio_task_alive(&s.task));
	ck_assert_uint_eq(ptio_loop_alive(&fake_loop), 0);
	run_nowait();
	ck_assert_int_eq(s.runs, 1);
	ck_assert_uint_eq(ntrace, 0);
}
END_TEST

/* A task in heap memory that frees itself when its machine finishes. */
struct heap_task {
	struct ptio_timed_task tt;
	struct ptio_op op;
	int mode;
	int i;
	struct script_stream *s;
	int *freed;
};

static ptio_ssize heap_body(struct heap_task *h)
{
	struct ptio_task *task = &h->tt.task;
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	ptio_op_init(&h->op, task);
	if (h->mode == 1) {
		for (h->i = 0; h->i < 2; h->i++)
			PTIO_YIELD(&task->pt, task);
	} else if (h->mode == 2) {
		ptio_task_set_timeout(&h->tt, 100);
		PTIO_AWAIT(&task->pt, r, ptio_sleep(&h->op, 5));
		PTIO_TRY(&task->pt, r);
	} else if (h->mode == 3) {
		ptio_task_wake(task);
	} else if (h->mode == 4) {
		ptio_task_set_timeout(&h->tt, 100);
		PTIO_AWAIT(&task->pt, r,
			   ptio_ready(&h->op, script_stream_ready(h->s),
				      PTIO_READ));
		PTIO_TRY(&task->pt, r);
	}
	PTIO_END(&task->pt);
}

static ptio_ssize heap_fn(struct ptio_task *task)
{
	struct heap_task *h = PTIO_CONTAINER_OF(task, struct heap_task, tt.task);
	ptio_ssize r = heap_body(h);

	if (r != PTIO_PENDING) {
		++*h->freed;
		free(h);
	}
	return r;
}

START_TEST(test_task_freed_by_its_machine)
{
	struct script_stream s;
	int freed = 0, i;

	never_ready(&s);
	for (i = 0; i < 50; i++) {
		struct heap_task *h = malloc(sizeof(*h));

		ck_assert_ptr_nonnull(h);
		/* Garbage, not uninitialised: task_start's check for a live
		 * task reads the old flags, which valgrind would report.  The
		 * garbage has the ALIVE bit set, which must not fool it. */
		memset(h, 0xA5, sizeof(*h));
		h->mode = i % 5;
		h->freed = &freed;
		h->s = &s;
		ptio_timed_task_start(&fake_loop, &h->tt, heap_fn);
	}
	/* The readers (mode 4) share one source: one waits, the others'
	 * polls fail with PTIO_EBUSY and they finish at once.  Readiness in
	 * 3 ticks wakes the one that waits. */
	fake_backend_signal(&fake_be, &s.src, PTIO_READABLE, 3);
	fake_loop_run(100);
	ck_assert_int_eq(freed, 50);
}
END_TEST

/* ---- Sources ----------------------------------------------------------------- */

START_TEST(test_source_poll)
{
	struct script_stream s;
	struct op_task a, b, c;

	never_ready(&s);
	ck_assert_int_eq(ptio_source_poll(&s.src, NULL, PTIO_READ),
			 PTIO_WOULD_BLOCK);
	ck_assert_int_eq(ptio_source_poll(&s.src, NULL, 0), PTIO_EINVAL);
	ck_assert_int_eq(ptio_source_poll(&s.src, NULL, 0x4), PTIO_EINVAL);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	a.s = b.s = c.s = &s;
	a.interest = PTIO_READ;
	b.interest = PTIO_READ;  /* the read slot is taken: EBUSY */
	c.interest = PTIO_WRITE; /* the write slot is free */
	op_task_start(&fake_loop, &a, call_wait_ready);
	op_task_start(&fake_loop, &b, call_wait_ready);
	op_task_start(&fake_loop, &c, call_wait_ready);
	run_nowait();
	ck_assert(b.finished);
	ck_assert_int_eq(b.result, PTIO_EBUSY);
	ck_assert_uint_eq(ptio_source_interest(&s.src), PTIO_READ_WRITE);
	ck_assert_uint_eq(fake_loop.nwaits, 2);
	/* WRITABLE wakes only the writer. */
	ptio_source_ready(&s.src, PTIO_WRITABLE);
	ck_assert_ptr_null(s.src.waiter[PTIO_SLOT_WRITE]);
	ck_assert_ptr_eq(s.src.waiter[PTIO_SLOT_READ], &a.tt.task);
	run_nowait();
	ck_assert(c.finished && !a.finished);
	ck_assert_int_eq(c.result, PTIO_WRITABLE);
	/* HUP answers a reader. */
	ptio_source_ready(&s.src, PTIO_HUP);
	run_nowait();
	ck_assert(a.finished);
	ck_assert_int_eq(a.result, PTIO_HUP); /* only what answers READ */
	ck_assert_uint_eq(a.regs_after, 0);
}
END_TEST

START_TEST(test_source_close_wakes_waiters)
{
	struct script_stream s;
	struct op_task a;

	never_ready(&s);
	memset(&a, 0, sizeof(a));
	a.s = &s;
	a.interest = PTIO_READ_WRITE; /* one task in both slots */
	op_task_start(&fake_loop, &a, call_ready);
	run_nowait();
	ck_assert_ptr_eq(s.src.waiter[0], &a.tt.task);
	ck_assert_ptr_eq(s.src.waiter[1], &a.tt.task);
	ptio_source_close(&s.src);
	fake_loop_run(5);
	ck_assert_int_eq(a.result, PTIO_ECLOSED);
	ck_assert_uint_eq(a.regs_after, 0);
	ck_assert(!ptio_source_has_waiters(&s.src));
}
END_TEST

/* A reader and a different writer wait on one source, and one report
 * answers both: READABLE | WRITABLE in a single ptio_source_ready, then
 * HUP | READABLE.  That one report must wake both; an edge-triggered
 * backend makes it once, so a waiter it left asleep would sleep for ever.
 * Run on a source the backend hears about through update (level) and on
 * one attached for its whole life (edge: PTIO_SOURCE_EDGE, and not one
 * call of update). */
static void one_report_two_waiters(bool edge)
{
	struct ptio_backend *be = &fake_be.sim.base;
	struct script_stream s;
	struct op_task rd, wr;
	unsigned long updates;
	int phase;

	never_ready(&s);
	if (edge)
		PTIO_CK_OK(be->vt->attach(be, &s.src));
	ck_assert_uint_eq((s.src.flags & PTIO_SOURCE_EDGE) != 0, edge);
	updates = fake_be.updates;
	for (phase = 0; phase < 2; phase++) {
		unsigned long waits;

		memset(&rd, 0, sizeof(rd));
		memset(&wr, 0, sizeof(wr));
		rd.s = wr.s = &s;
		rd.interest = PTIO_READ;
		wr.interest = PTIO_WRITE;
		op_task_start(&fake_loop, &rd, call_wait_ready);
		op_task_start(&fake_loop, &wr, call_wait_ready);
		run_nowait();
		ck_assert_uint_eq(ptio_source_interest(&s.src), PTIO_READ_WRITE);
		waits = fake_be.waits;
		fake_backend_signal(&fake_be, &s.src,
				    phase == 0 ? PTIO_READABLE | PTIO_WRITABLE
					       : PTIO_HUP | PTIO_READABLE,
				    5);
		/* One iteration: nothing is queued, so it only waits. */
		ck_assert_int_eq(ptio_loop_run(&fake_loop, PTIO_RUN_ONCE), 2);
		ck_assert_uint_eq(fake_be.waits, waits + 1);
		ck_assert_msg(s.src.waiter[PTIO_SLOT_READ] == NULL,
			      "phase %d: the reader still waits", phase);
		ck_assert_msg(s.src.waiter[PTIO_SLOT_WRITE] == NULL,
			      "phase %d: the writer still waits", phase);
		run_nowait();
		ck_assert(rd.finished && wr.finished);
		if (phase == 0) {
			ck_assert_int_eq(rd.result, PTIO_READABLE);
			ck_assert_int_eq(wr.result, PTIO_WRITABLE);
		} else {
			ck_assert_int_eq(rd.result, PTIO_READABLE | PTIO_HUP);
			ck_assert_int_eq(wr.result, PTIO_HUP);
		}
		ptio_source_clear(&s.src, PTIO_READABLE | PTIO_WRITABLE |
						  PTIO_HUP);
	}
	if (edge) {
		ck_assert_uint_eq(fake_be.updates, updates);
		be->vt->detach(be, &s.src);
	} else {
		ck_assert_uint_gt(fake_be.updates, updates);
	}
}

START_TEST(test_one_report_wakes_both_level)
{
	one_report_two_waiters(false);
}
END_TEST

START_TEST(test_one_report_wakes_both_edge)
{
	one_report_two_waiters(true);
}
END_TEST

/* A backend that refuses a waiter (the fake one's table is full) makes
 * the wait fail with its error and leaves no waiter behind: through the
 * source's own call (its level-backend case) and through the trait
 * object (the general case). */
static void wait_refused(op_task_call call)
{
	struct script_stream s;
	struct op_task t;
	size_t watched = fake_be.nwatched;

	fake_be.nwatched = FAKE_MAX_WATCHED;
	start_reader(&t, &s, call);
	run_nowait();
	fake_be.nwatched = watched;
	ck_assert(t.finished);
	ck_assert_int_eq(t.result, PTIO_ENOSPC);
	ck_assert_uint_eq(ptio_loop_registrations(&fake_loop), 0);
	ck_assert(!ptio_source_has_waiters(&s.src));
}

START_TEST(test_wait_refused_by_backend)
{
	wait_refused(call_wait_source);
	wait_refused(call_wait_ready);
}
END_TEST

/* In a loop set to one unit of budget per activation: spend it in the
 * task's first activation, then wait on the source's cache, or through
 * the stream's own poll_ready. */
static ptio_ssize spend_first(struct op_task *t)
{
	return t->runs == 1 ? ptio_task_spend(&t->tt.task) : 0;
}

static ptio_ssize call_spent_wait_source(struct op_task *t)
{
	ptio_ssize r = spend_first(t);

	return r != 0 ? r : ptio_wait_source(&t->tt.task, &t->s->src,
					     t->interest);
}

static ptio_ssize call_spent_wait_ready(struct op_task *t)
{
	ptio_ssize r = spend_first(t);

	return r != 0 ? r : ptio_wait_ready(&t->tt.task,
					    script_stream_ready(t->s),
					    t->interest);
}

/* The budget on a wait that suspends (ptio/ops.h): on a source's cache,
 * the wait takes its slot with the budget spent, and the task sleeps
 * until the source is ready; through a stream's own poll_ready (the
 * general case) it yields instead, unpolled, and waits in the next
 * activation.  Either way the task suspends. */
START_TEST(test_suspending_wait_budget)
{
	struct script_stream s;
	struct op_task t;

	ptio_loop_set_budget(&fake_loop, 1);
	start_reader(&t, &s, call_spent_wait_source);
	run_nowait();
	ck_assert_ptr_eq(s.src.waiter[PTIO_SLOT_READ], &t.tt.task);
	ck_assert(fake_backend_watches(&fake_be, &s.src));
	run_nowait();
	ck_assert_int_eq(t.runs, 1); /* asleep, not queued */
	ptio_source_ready(&s.src, PTIO_READABLE);
	run_nowait();
	ck_assert(t.finished);
	ck_assert_int_eq(t.result, PTIO_READABLE);
	ck_assert_int_eq(t.runs, 2);

	start_reader(&t, &s, call_spent_wait_ready);
	run_nowait();
	ck_assert_ptr_null(s.src.waiter[PTIO_SLOT_READ]);
	ck_assert_uint_eq(s.polls, 0);
	run_nowait();
	ck_assert_int_eq(t.runs, 2); /* queued, run again */
	ck_assert_uint_eq(s.polls, 1);
	ck_assert_ptr_eq(s.src.waiter[PTIO_SLOT_READ], &t.tt.task);
	ptio_source_ready(&s.src, PTIO_READABLE);
	run_nowait();
	ck_assert(t.finished);
	ck_assert_int_eq(t.result, PTIO_READABLE);
}
END_TEST

/* ---- Timers -------------------------------------------------------------------- */

/* A timed task that sleeps, then records when, and in which order, it
 * woke. */
struct sleeper {
	struct ptio_timed_task tt;
	struct ptio_op op;
	uint32_t delay;
	ptio_tick fired;
	long order;        /* -1 until it fires */
	ptio_ssize result;
};

static long fire_count;

static ptio_ssize sleeper_fn(struct ptio_task *task)
{
	struct sleeper *s = PTIO_CONTAINER_OF(task, struct sleeper, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	PTIO_CALL(&task->pt, r, &s->op, task, ptio_sleep(&s->op, s->delay));
	s->result = r;
	s->fired = ptio_loop_now(task->loop);
	s->order = fire_count++;
	PTIO_END(&task->pt);
}

static struct sleeper *sleepers_start(size_t n, const uint32_t *delays)
{
	struct sleeper *s = calloc(n, sizeof(*s));
	size_t i;

	ck_assert_ptr_nonnull(s);
	fire_count = 0;
	for (i = 0; i < n; i++) {
		s[i].delay = delays[i];
		s[i].order = -1;
		ptio_timed_task_start(&fake_loop, &s[i].tt, sleeper_fn);
	}
	return s;
}

/* Check that every sleeper fired exactly at START + its delay, and that
 * they fired in the order of their ticks. */
static void sleepers_check(const struct sleeper *s, size_t n, ptio_tick start)
{
	ptio_tick *by_order = calloc(n, sizeof(*by_order));
	size_t i;

	ck_assert_ptr_nonnull(by_order);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(s[i].result, 0);
		ck_assert_msg(s[i].fired == start + s[i].delay,
			      "sleeper %zu with delay %u fired after %u ticks",
			      i, s[i].delay, (unsigned)(s[i].fired - start));
		ck_assert(s[i].order >= 0 && (size_t)s[i].order < n);
		by_order[s[i].order] = s[i].fired;
	}
	for (i = 1; i < n; i++)
		ck_assert(!ptio_tick_before(by_order[i], by_order[i - 1]));
	free(by_order);
}

START_TEST(test_timers_fire_in_order)
{
	enum { N = 1000 };
	uint32_t delays[N];
	struct sleeper *s;
	size_t i;

	rng_state = 12345;
	for (i = 0; i < N; i++)
		delays[i] = i % 10 == 0 ? 0 : rng() % 3000; /* ties too */
	s = sleepers_start(N, delays);
	fake_loop_run(10 * N);
	sleepers_check(s, N, FAKE_START);
	/* The loop slept straight to each next timer: at most one wait per
	 * distinct expiry (3000 possible), plus a few. */
	ck_assert_uint_le(fake_be.waits, N + 2);
	free(s);
}
END_TEST

/* Cancels every sleeper whose index is odd, once it runs. */
struct canceller {
	struct ptio_timed_task tt;
	struct ptio_op op;
	struct sleeper *s;
	size_t n;
};

static ptio_ssize canceller_fn(struct ptio_task *task)
{
	struct canceller *c = PTIO_CONTAINER_OF(task, struct canceller, tt.task);
	ptio_ssize r;
	size_t i;

	PTIO_BEGIN(&task->pt);
	PTIO_CALL(&task->pt, r, &c->op, task, ptio_sleep(&c->op, 300));
	PTIO_TRY(&task->pt, r);
	for (i = 1; i < c->n; i += 2)
		ptio_task_cancel(&c->s[i].tt.task);
	PTIO_END(&task->pt);
}

START_TEST(test_timers_cancel_in_the_middle)
{
	enum { N = 200 };
	uint32_t delays[N];
	struct sleeper *s;
	struct canceller c;
	size_t i;

	for (i = 0; i < N; i++)
		delays[i] = 3 * (uint32_t)((i * 37) % N) + 1;
	s = sleepers_start(N, delays);
	memset(&c, 0, sizeof(c));
	c.s = s;
	c.n = N;
	ptio_timed_task_start(&fake_loop, &c.tt, canceller_fn);
	run_nowait();
	ck_assert_uint_eq(fake_loop.ntimers, N + 1);
	/* From outside, before anything fired: every index divisible by 7. */
	for (i = 0; i < N; i += 7)
		ptio_task_cancel(&s[i].tt.task);
	fake_loop_run(10 * N);
	for (i = 0; i < N; i++) {
		bool cancelled = i % 7 == 0 || (i % 2 == 1 && delays[i] > 300);

		if (cancelled) {
			ck_assert_msg(s[i].order == -1, "sleeper %zu fired", i);
		} else {
			ck_assert_msg(s[i].order >= 0, "sleeper %zu lost", i);
			ck_assert_uint_eq(s[i].fired, FAKE_START + delays[i]);
		}
	}
	free(s);
}
END_TEST

static double cpu_seconds(void)
{
	return (double)clock() / CLOCKS_PER_SEC;
}

/* Generous bounds for what takes milliseconds with O(log n) timers and
 * minutes with a linear list; sanitizers and valgrind are slower. */
static double time_limit(void)
{
	const char *pre = getenv("LD_PRELOAD");
	double limit = 2.0;

#if defined(__SANITIZE_ADDRESS__)
	limit *= 4;
#endif
	if (pre != NULL && strstr(pre, "vgpreload") != NULL)
		limit *= 30; /* running under valgrind */
	return limit;
}

START_TEST(test_timers_many_insert_cancel)
{
	enum { N = 100000 };
	uint32_t *delays = malloc(N * sizeof(*delays));
	size_t *perm = malloc(N * sizeof(*perm));
	struct sleeper *s;
	double t0 = cpu_seconds(), spent;
	size_t i;

	ck_assert(delays != NULL && perm != NULL);
	rng_state = 777;
	for (i = 0; i < N; i++) {
		delays[i] = 1 + rng() % 1000000;
		perm[i] = i;
	}
	s = sleepers_start(N, delays);
	run_nowait(); /* every sleeper arms its timer */
	ck_assert_uint_eq(fake_loop.ntimers, N);
	for (i = N - 1; i > 0; i--) {
		size_t j = rng() % (i + 1), x = perm[i];

		perm[i] = perm[j];
		perm[j] = x;
	}
	for (i = 0; i < N / 2; i++)
		ptio_task_cancel(&s[perm[i]].tt.task);
	ck_assert_uint_eq(fake_loop.ntimers, N - N / 2);
	fake_loop_run(2 * N);
	spent = cpu_seconds() - t0;
	ck_assert_msg(spent < time_limit(), "%d timers took %.2f s", N, spent);
	for (i = 0; i < N / 2; i++)
		ck_assert(s[perm[i]].order == -1);
	for (i = N / 2; i < N; i++)
		ck_assert_uint_eq(s[perm[i]].fired, FAKE_START + delays[perm[i]]);
	free(s);
	free(perm);
	free(delays);
}
END_TEST

/* Timers armed in increasing order, then all equal: the shapes that make
 * a careless tree degenerate into a list. */
START_TEST(test_timers_sorted_and_equal)
{
	enum { N = 100000 };
	uint32_t *delays = malloc(N * sizeof(*delays));
	struct sleeper *s;
	double t0 = cpu_seconds(), spent;
	size_t i;

	ck_assert_ptr_nonnull(delays);
	for (i = 0; i < N; i++)
		delays[i] = i < N / 2 ? (uint32_t)i : 50000;
	s = sleepers_start(N, delays);
	run_nowait();
	for (i = N / 2; i < N; i += 3) /* cancel among equal keys */
		ptio_task_cancel(&s[i].tt.task);
	fake_loop_run(2 * N);
	spent = cpu_seconds() - t0;
	ck_assert_msg(spent < time_limit(), "%d timers took %.2f s", N, spent);
	for (i = 0; i < N; i++) {
		if (i >= N / 2 && (i - N / 2) % 3 == 0)
			ck_assert(s[i].order == -1);
		else
			ck_assert_uint_eq(s[i].fired, FAKE_START + delays[i]);
	}
	free(s);
	free(delays);
}
END_TEST

/* The timer heap against a model: churners sleep again and again for
 * random times (ties and zero included) while a meddler, every tick,
 * wakes some early (each wake removes the timer and the re-poll puts it
 * back) and cancels and restarts others (removal from anywhere in the
 * heap).  The model is each sleep's expiry: every sleep that completes
 * must end exactly then, and every churner must finish. */
enum { CHURNERS = 300, CHURN_SLEEPS = 40 };

struct churner {
	struct ptio_timed_task tt;
	struct ptio_op op;
	int k;                 /* sleeps completed */
	ptio_tick expect;      /* when the current sleep must end */
	uint32_t delay;
};

static struct churner churners[CHURNERS];
static int churners_done, churn_late, churn_restarts;

static ptio_ssize churner_fn(struct ptio_task *task)
{
	struct churner *c = PTIO_CONTAINER_OF(task, struct churner, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	while (c->k < CHURN_SLEEPS) {
		c->delay = rng() % 8 == 0 ? 0 : rng() % 200;
		c->expect = ptio_loop_now(task->loop) + c->delay;
		PTIO_CALL(&task->pt, r, &c->op, task,
			   ptio_sleep(&c->op, c->delay));
		if (r != 0 || ptio_loop_now(task->loop) != c->expect)
			churn_late++;
		c->k++;
	}
	churners_done++;
	PTIO_END(&task->pt);
}

struct meddler {
	struct ptio_timed_task tt;
	struct ptio_op op;
};

static ptio_ssize meddler_fn(struct ptio_task *task)
{
	struct meddler *m = PTIO_CONTAINER_OF(task, struct meddler, tt.task);
	ptio_ssize r = 0;
	struct churner *c;
	int i;

	PTIO_BEGIN(&task->pt);
	while (churners_done < CHURNERS) {
		for (i = 0; i < 8; i++) {
			c = &churners[rng() % CHURNERS];
			if (!ptio_task_alive(&c->tt.task))
				continue;
			if (i % 2 == 0) {
				ptio_task_wake(&c->tt.task);
			} else {
				/* The cancelled sleep never completes; the
				 * restarted churner begins it again. */
				ptio_task_cancel(&c->tt.task);
				ptio_timed_task_start(task->loop, &c->tt,
						      churner_fn);
				churn_restarts++;
			}
		}
		PTIO_CALL(&task->pt, r, &m->op, task, ptio_sleep(&m->op, 1));
	}
	PTIO_END(&task->pt);
}

START_TEST(test_timers_random_churn)
{
	struct meddler m;
	int i;

	rng_state = 2026;
	churners_done = churn_late = churn_restarts = 0;
	memset(churners, 0, sizeof(churners));
	memset(&m, 0, sizeof(m));
	for (i = 0; i < CHURNERS; i++)
		ptio_timed_task_start(&fake_loop, &churners[i].tt, churner_fn);
	ptio_timed_task_start(&fake_loop, &m.tt, meddler_fn);
	/* About 10,000 iterations (one per tick); a lost timer strands
	 * churners and fails the run at the bound. */
	fake_loop_run(30000);
	ck_assert_int_eq(churners_done, CHURNERS);
	ck_assert_int_eq(churn_late, 0);
	ck_assert_int_gt(churn_restarts, 1000); /* the meddler did meddle */
	for (i = 0; i < CHURNERS; i++)
		ck_assert_int_eq(churners[i].k, CHURN_SLEEPS);
}
END_TEST

/* Sleep 100 from 0xFFFFFFF0 ends at 0x54, just after the wrap. */
START_TEST(test_sleep_across_wrap)
{
	static const uint32_t delays[] = { 100, 5, 16, 15, 17, 0x7FFFFFFFu,
					   0xFFFFFFFFu /* clamped */ };
	enum { N = sizeof(delays) / sizeof(delays[0]) };
	struct sleeper *s;

	fake_loop_start_at(0xFFFFFFF0u);
	s = sleepers_start(N, delays);
	run_nowait();
	ck_assert_uint_eq(fake_loop.ntimers, N);
	/* The first wait is for the earliest timer, 5 ticks away. */
	ck_assert_int_eq(ptio_loop_run(&fake_loop, PTIO_RUN_ONCE), N);
	ck_assert_uint_eq(fake_be.last_timeout, 5);
	ck_assert_uint_eq(fake_be.sim.now, 0xFFFFFFF5u);
	ck_assert_int_eq(s[1].order, -1);
	while (s[0].order == -1) {
		ck_assert_msg(fake_be.sim.now <= 0x54u || fake_be.sim.now >= 0xFFFFFFF0u,
			      "clock ran to %#x before the sleep ended",
			      (unsigned)fake_be.sim.now);
		ck_assert_int_ge(ptio_loop_run(&fake_loop, PTIO_RUN_ONCE), 0);
	}
	ck_assert_uint_eq(s[0].fired, 0x54u);
	ck_assert_uint_eq(s[1].fired, 0xFFFFFFF5u);
	ck_assert_uint_eq(s[2].fired, 0);
	ck_assert_uint_eq(s[3].fired, 0xFFFFFFFFu);
	ck_assert_uint_eq(s[4].fired, 1);
	ck_assert_int_eq(s[1].order, 0);
	ck_assert_int_eq(s[3].order, 1);
	ck_assert_int_eq(s[2].order, 2);
	ck_assert_int_eq(s[4].order, 3);
	ck_assert_int_eq(s[0].order, 4);
	fake_loop_run(10);
	/* The longest delay, and a longer one clamped to it. */
	ck_assert_uint_eq(s[5].fired, 0xFFFFFFF0u + PTIO_TICK_MAX_DELAY);
	ck_assert_uint_eq(s[6].fired, 0xFFFFFFF0u + PTIO_TICK_MAX_DELAY);
	ck_assert_int_eq(s[5].result, 0);
	ck_assert_int_eq(s[6].result, 0);
	free(s);
}
END_TEST

/* A sleep woken early goes back to sleep until its time. */
struct early_waker {
	struct ptio_timed_task tt;
	struct ptio_op op;
	struct ptio_task *target;
};

static ptio_ssize early_waker_fn(struct ptio_task *task)
{
	struct early_waker *w =
		PTIO_CONTAINER_OF(task, struct early_waker, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	PTIO_CALL(&task->pt, r, &w->op, task, ptio_sleep(&w->op, 10));
	ptio_task_wake(w->target);
	PTIO_END_WITH(&task->pt, r);
}

START_TEST(test_sleep_woken_early)
{
	struct op_task t;
	struct early_waker w;

	memset(&t, 0, sizeof(t));
	memset(&w, 0, sizeof(w));
	t.ticks = 100;
	op_task_start(&fake_loop, &t, call_sleep);
	w.target = &t.tt.task;
	ptio_timed_task_start(&fake_loop, &w.tt, early_waker_fn);
	fake_loop_run(20);
	ck_assert_int_eq(t.result, 0);
	ck_assert_uint_eq(op_task_elapsed(&t), 100);
	ck_assert_int_ge(t.runs, 3); /* the early wake did run it */
}
END_TEST

START_TEST(test_sleep_until_and_zero)
{
	struct op_task a, b, c;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	a.when = FAKE_START + 300; /* after the wrap */
	b.when = FAKE_START - 5;   /* already past */
	c.ticks = 0;
	op_task_start(&fake_loop, &a, call_sleep_until);
	op_task_start(&fake_loop, &b, call_sleep_until);
	op_task_start(&fake_loop, &c, call_sleep);
	fake_loop_run(10);
	ck_assert_int_eq(a.result, 0);
	ck_assert_uint_eq(a.at, FAKE_START + 300);
	ck_assert_int_eq(b.result, 0);
	ck_assert_uint_eq(b.at, FAKE_START);
	ck_assert_int_eq(c.result, 0);
	ck_assert_uint_eq(c.at, FAKE_START);
}
END_TEST

START_TEST(test_sleep_needs_timed_task)
{
	struct op_task t;

	memset(&t, 0, sizeof(t));
	t.plain = true;
	t.ticks = 10;
	op_task_start(&fake_loop, &t, call_sleep);
	fake_loop_run(3);
	ck_assert_int_eq(t.result, PTIO_ENOTSUP);
}
END_TEST

/* ---- Deadlines ---------------------------------------------------------------- */

START_TEST(test_deadline_ends_ready_across_wrap)
{
	struct script_stream s;
	struct op_task t;

	fake_loop_start_at(0xFFFFFFF0u);
	never_ready(&s);
	memset(&t, 0, sizeof(t));
	t.s = &s;
	t.interest = PTIO_READ;
	t.has_deadline = true;
	t.deadline_in = 50;
	op_task_start(&fake_loop, &t, call_ready);
	run_nowait();
	ck_assert(!ptio_task_expired(&t.tt.task));
	ck_assert(fake_backend_watches(&fake_be, &s.src));
	fake_loop_run(10);
	ck_assert_int_eq(t.result, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(t.at, 0x22u);
	ck_assert_uint_eq(fake_be.sim.now, 0x22u);
	ck_assert_uint_eq(t.regs_after, 0);
	ck_assert_ptr_null(s.src.waiter[PTIO_SLOT_READ]);
	ck_assert(ptio_task_expired(&t.tt.task));
}
END_TEST

/* A deadline set from outside on a task that already waits applies. */
START_TEST(test_deadline_set_while_waiting)
{
	struct script_stream s;
	struct op_task t;

	never_ready(&s);
	memset(&t, 0, sizeof(t));
	t.s = &s;
	t.interest = PTIO_WRITE;
	op_task_start(&fake_loop, &t, call_ready);
	run_nowait();
	ck_assert_uint_eq(fake_loop.ntimers, 0);
	fake_be.sim.now += 5;
	ptio_loop_update_time(&fake_loop);
	ptio_task_set_timeout(&t.tt, 30);
	fake_loop_run(10);
	ck_assert_int_eq(t.result, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(t.at, FAKE_START + 35);
	ck_assert_uint_eq(t.regs_after, 0);
}
END_TEST

START_TEST(test_deadline_ends_sleep)
{
	struct op_task t;

	memset(&t, 0, sizeof(t));
	t.ticks = 100;
	t.has_deadline = true;
	t.deadline_in = 10;
	op_task_start(&fake_loop, &t, call_sleep);
	fake_loop_run(10);
	ck_assert_int_eq(t.result, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(op_task_elapsed(&t), 10);
	ck_assert_uint_eq(t.regs_after, 0);
}
END_TEST

/* Sleeps past a deadline it then clears, then sleeps again. */
struct clearer {
	struct ptio_timed_task tt;
	struct ptio_op op;
	ptio_ssize r1, r2;
	ptio_tick t1, t2;
};

static ptio_ssize clearer_fn(struct ptio_task *task)
{
	struct clearer *c = PTIO_CONTAINER_OF(task, struct clearer, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	ptio_task_set_deadline(&c->tt, ptio_loop_now(task->loop) + 20);
	PTIO_CALL(&task->pt, r, &c->op, task, ptio_sleep(&c->op, 50));
	c->r1 = r;
	c->t1 = ptio_loop_now(task->loop);
	ptio_task_clear_deadline(&c->tt);
	PTIO_AWAIT(&task->pt, r, ptio_sleep(&c->op, 50));
	c->r2 = r;
	c->t2 = ptio_loop_now(task->loop);
	PTIO_END(&task->pt);
}

START_TEST(test_deadline_cleared)
{
	struct clearer c;

	memset(&c, 0, sizeof(c));
	ptio_timed_task_start(&fake_loop, &c.tt, clearer_fn);
	fake_loop_run(10);
	ck_assert_int_eq(c.r1, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(c.t1, FAKE_START + 20);
	ck_assert_int_eq(c.r2, 0);
	ck_assert_uint_eq(c.t2, FAKE_START + 70);
}
END_TEST

START_TEST(test_ready_until)
{
	struct script_stream never, later;
	struct op_task a, b, c, d;

	never_ready(&never);
	never_ready(&later);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	memset(&d, 0, sizeof(d));
	/* Its own limit passes first. */
	a.s = &never;
	a.interest = PTIO_READ;
	a.when = FAKE_START + 30;
	/* The task's deadline comes before its limit. */
	b.s = &never;
	b.interest = PTIO_WRITE;
	b.when = FAKE_START + 30;
	b.has_deadline = true;
	b.deadline_in = 20;
	/* Readiness arrives in time. */
	c.s = &later;
	c.interest = PTIO_READ;
	c.when = FAKE_START + 30;
	/* Already past: times out at once. */
	d.s = &later;
	d.interest = PTIO_WRITE;
	d.when = FAKE_START - 1;
	op_task_start(&fake_loop, &a, call_ready_until);
	op_task_start(&fake_loop, &b, call_ready_until);
	op_task_start(&fake_loop, &c, call_ready_until);
	op_task_start(&fake_loop, &d, call_ready_until);
	fake_backend_signal(&fake_be, &later.src, PTIO_READABLE, 10);
	fake_loop_run(20);
	ck_assert_int_eq(a.result, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(a.at, FAKE_START + 30);
	ck_assert_int_eq(b.result, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(b.at, FAKE_START + 20);
	ck_assert_int_eq(c.result, PTIO_READABLE);
	ck_assert_uint_eq(c.at, FAKE_START + 10);
	ck_assert_int_eq(d.result, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(d.at, FAKE_START);
	/* Each left nothing of its own behind when it returned. */
	/* a's and b's slots and timers, and the backend's watch of NEVER. */
	ck_assert_uint_eq(c.regs_after, 5);
	ck_assert_uint_eq(a.regs_after, 0);
	ck_assert(!ptio_source_has_waiters(&never.src));
	ck_assert(!ptio_source_has_waiters(&later.src));
}
END_TEST

START_TEST(test_ready_until_needs_timed_task)
{
	struct script_stream s;
	struct op_task t;

	never_ready(&s);
	memset(&t, 0, sizeof(t));
	t.plain = true;
	t.s = &s;
	t.interest = PTIO_READ;
	t.when = FAKE_START + 5;
	op_task_start(&fake_loop, &t, call_ready_until);
	fake_loop_run(3);
	ck_assert_int_eq(t.result, PTIO_ENOTSUP);
}
END_TEST

START_TEST(test_loop_stop_and_modes)
{
	int stop = 0;
	struct simple a;
	struct op_task t;

	memset(&a, 0, sizeof(a));
	memset(&t, 0, sizeof(t));
	a.stop = &stop;
	ptio_task_start(&fake_loop, &a.task, yield_until_stop_fn);
	/* NOWAIT never moves the clock, even with only a timer left. */
	t.ticks = 40;
	op_task_start(&fake_loop, &t, call_sleep);
	ck_assert_int_eq(ptio_loop_run(&fake_loop, PTIO_RUN_NOWAIT), 2);
	stop = 1;
	ck_assert_int_eq(ptio_loop_run(&fake_loop, PTIO_RUN_NOWAIT), 1);
	ck_assert_int_eq(ptio_loop_run(&fake_loop, PTIO_RUN_NOWAIT), 1);
	ck_assert_uint_eq(fake_be.sim.now, FAKE_START);
	ck_assert_uint_eq(ptio_loop_now(&fake_loop), FAKE_START);
	/* DEFAULT runs until nothing is alive. */
	ck_assert_int_eq(ptio_loop_run(&fake_loop, PTIO_RUN_DEFAULT), 0);
	ck_assert_uint_eq(t.at, FAKE_START + 40);
	fake_be.sim.now += 7;
	ck_assert_uint_eq(ptio_loop_update_time(&fake_loop), FAKE_START + 47);
}
END_TEST

static ptio_ssize stopper_fn(struct ptio_task *task)
{
	struct simple *s = SIMPLE(task);

	s->runs++;
	PTIO_BEGIN(&task->pt);
	PTIO_YIELD(&task->pt, task);
	ptio_loop_stop(task->loop);
	PTIO_YIELD(&task->pt, task);
	PTIO_END(&task->pt);
}

START_TEST(test_loop_stop)
{
	struct simple a;

	memset(&a, 0, sizeof(a));
	ptio_task_start(&fake_loop, &a.task, stopper_fn);
	ck_assert_int_eq(ptio_loop_run(&fake_loop, PTIO_RUN_DEFAULT), 1);
	ck_assert_int_eq(a.runs, 2);
	ck_assert_int_eq(ptio_loop_run(&fake_loop, PTIO_RUN_DEFAULT), 0);
	ck_assert_int_eq(a.runs, 3);
}
END_TEST

START_TEST(test_scratch)
{
	static uint8_t buf[100];
	size_t len = 1;

	ck_assert_ptr_null(ptio_loop_scratch(&fake_loop, &len));
	ck_assert_uint_eq(len, 0);
	ptio_loop_set_scratch(&fake_loop, buf, sizeof(buf));
	ck_assert_ptr_eq(ptio_loop_scratch(&fake_loop, &len), buf);
	ck_assert_uint_eq(len, 100);
	ck_assert_ptr_eq(ptio_loop_scratch(&fake_loop, NULL), buf);
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tq = tcase_create("run-queue");
	TCase *ts = tcase_create("sources");
	TCase *tt = tcase_create("timers");
	TCase *td = tcase_create("deadlines");

	tcase_add_checked_fixture(tq, fake_loop_setup, fake_loop_teardown);
	tcase_add_test(tq, test_run_queue_is_fifo);
	tcase_add_test(tq, test_fairness_per_round);
	tcase_add_test(tq, test_busy_task_does_not_starve_timer);
	tcase_add_test(tq, test_wake_queued_running_finished);
	tcase_add_test(tq, test_wake_waiting_task_repolls);
	tcase_add_test(tq, test_cancel);
	tcase_add_test(tq, test_cancel_running_task);
	tcase_add_test(tq, test_task_freed_by_its_machine);
	tcase_add_test(tq, test_loop_stop_and_modes);
	tcase_add_test(tq, test_loop_stop);
	tcase_add_test(tq, test_scratch);
	suite_add_tcase(s, tq);

	tcase_add_checked_fixture(ts, fake_loop_setup, fake_loop_teardown);
	tcase_add_test(ts, test_source_poll);
	tcase_add_test(ts, test_source_close_wakes_waiters);
	tcase_add_test(ts, test_one_report_wakes_both_level);
	tcase_add_test(ts, test_wait_refused_by_backend);
	tcase_add_test(ts, test_suspending_wait_budget);
	tcase_add_test(ts, test_one_report_wakes_both_edge);
	suite_add_tcase(s, ts);

	tcase_add_checked_fixture(tt, fake_loop_setup, fake_loop_teardown);
	tcase_set_timeout(tt, 120);
	tcase_add_test(tt, test_timers_fire_in_order);
	tcase_add_test(tt, test_timers_cancel_in_the_middle);
	tcase_add_test(tt, test_timers_many_insert_cancel);
	tcase_add_test(tt, test_timers_sorted_and_equal);
	tcase_add_test(tt, test_timers_random_churn);
	tcase_add_test(tt, test_sleep_across_wrap);
	tcase_add_test(tt, test_sleep_woken_early);
	tcase_add_test(tt, test_sleep_until_and_zero);
	tcase_add_test(tt, test_sleep_needs_timed_task);
	suite_add_tcase(s, tt);

	tcase_add_checked_fixture(td, fake_loop_setup, fake_loop_teardown);
	tcase_add_test(td, test_deadline_ends_ready_across_wrap);
	tcase_add_test(td, test_deadline_set_while_waiting);
	tcase_add_test(td, test_deadline_ends_sleep);
	tcase_add_test(td, test_deadline_cleared);
	tcase_add_test(td, test_ready_until);
	tcase_add_test(td, test_ready_until_needs_timed_task);
	suite_add_tcase(s, td);
	return s;
}
