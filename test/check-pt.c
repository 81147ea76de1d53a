/*
 * test/check-pt.c - machines: the macros of ptio/pt.h.
 *
 * This file is built twice: as test/check-pt with the continuation
 * implementation configure chose, and as test/check-pt-addrlabels with
 * -DPTIO_CONF_LC_ADDRLABELS (linked against a copy of the core built the
 * same way, since the continuation's size is part of struct ptio_task).
 * The machine with a switch inside is only compiled in the latter.
 *
 * Divided into: machines driven by hand (await, return, reuse, locals),
 * then machines run as tasks by a loop over the fake backend (yield,
 * wait-until, spawn, switch).
 */
#include <string.h>
#include <check.h>
#include "test/helpers.h"
#include "test/fake/fake-backend.h"

/* ---- Machines driven by hand --------------------------------------------- */

/* A sub-machine that returns PTIO_PENDING N times, then VALUE. */
struct later {
	ptio_pt pt;
	int calls;
};

static ptio_ssize later(struct later *l, int n, ptio_ssize value)
{
	PTIO_BEGIN(&l->pt);
	l->calls = 0;
	PTIO_WAIT_UNTIL(&l->pt, ++l->calls > n);
	PTIO_END_WITH(&l->pt, value);
}

/* Awaits three sub-machines and keeps their results in its state. */
struct outer {
	ptio_pt pt;
	struct later a, b, c;
	ptio_ssize r1, r2, r3;
	int entries;  /* times the body was entered from the top */
};

static ptio_ssize outer(struct outer *o)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&o->pt);
	o->entries++;
	PTIO_AWAIT(&o->pt, r, later(&o->a, 3, 11));
	o->r1 = r;
	PTIO_AWAIT(&o->pt, r, later(&o->b, 2, 22));
	o->r2 = r;
	PTIO_AWAIT(&o->pt, r, later(&o->c, 0, PTIO_EIO));
	o->r3 = r;
	PTIO_END_WITH(&o->pt, o->r1 + o->r2);
}

/* Call OUTER until it finishes; returns its result, and the number of
 * calls in *CALLS. */
static ptio_ssize drive_outer(struct outer *o, int *calls)
{
	ptio_ssize r;

	*calls = 0;
	do {
		r = outer(o);
		++*calls;
	} while (r == PTIO_PENDING && *calls < 100);
	return r;
}

START_TEST(test_await_keeps_results)
{
	struct outer o;
	int calls;

	memset(&o, 0, sizeof(o));
	PTIO_PT_INIT(&o.pt);
	ck_assert_int_eq(drive_outer(&o, &calls), 33);
	/* 1 first call + 3 pending from a + 2 from b; c answers at once. */
	ck_assert_int_eq(calls, 6);
	ck_assert_int_eq(o.r1, 11);
	ck_assert_int_eq(o.r2, 22);
	ck_assert_int_eq(o.r3, PTIO_EIO);
	ck_assert_int_eq(o.entries, 1);
	ck_assert_int_eq(o.a.calls, 4);
	ck_assert_int_eq(o.b.calls, 3);
}
END_TEST

START_TEST(test_finished_machine_restarts_from_top)
{
	struct outer o;
	int calls;

	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(drive_outer(&o, &calls), 33);
	o.r1 = o.r2 = o.r3 = 0;
	/* Same state, no re-initialisation: the continuation was reset. */
	ck_assert_int_eq(drive_outer(&o, &calls), 33);
	ck_assert_int_eq(calls, 6);
	ck_assert_int_eq(o.entries, 2);
	ck_assert_int_eq(o.r3, PTIO_EIO);
}
END_TEST

START_TEST(test_abandoned_machine_reset_by_pt_init)
{
	struct outer o;
	int calls;

	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(outer(&o), PTIO_PENDING);
	ck_assert_int_eq(outer(&o), PTIO_PENDING);
	ck_assert_int_eq(o.entries, 1);
	/* Abandon it half-way through a; reset both levels and start over. */
	PTIO_PT_INIT(&o.pt);
	PTIO_PT_INIT(&o.a.pt);
	ck_assert_int_eq(drive_outer(&o, &calls), 33);
	ck_assert_int_eq(calls, 6);
	ck_assert_int_eq(o.entries, 2);
}
END_TEST

/* Returns early with PTIO_RETURN, or passes an error on with PTIO_TRY. */
struct early {
	ptio_pt pt;
	struct later l;
	int tops, bottoms;
};

static ptio_ssize early(struct early *e, int mode)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&e->pt);
	e->tops++;
	if (mode == 0)
		PTIO_RETURN(&e->pt, 7);
	PTIO_AWAIT(&e->pt, r, later(&e->l, 1, mode == 1 ? PTIO_EPIPE : 5));
	PTIO_TRY(&e->pt, r);
	e->bottoms++;
	PTIO_END(&e->pt);
}

START_TEST(test_return_and_try)
{
	struct early e;

	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(early(&e, 0), 7);
	ck_assert_int_eq(early(&e, 0), 7);
	ck_assert_int_eq(e.tops, 2); /* PTIO_RETURN reset the continuation */

	ck_assert_int_eq(early(&e, 1), PTIO_PENDING);
	ck_assert_int_eq(early(&e, 1), PTIO_EPIPE);
	ck_assert_int_eq(e.bottoms, 0);
	ck_assert_int_eq(e.tops, 3);

	/* PTIO_TRY reset it too: the next call starts from the top. */
	ck_assert_int_eq(early(&e, 2), PTIO_PENDING);
	ck_assert_int_eq(e.tops, 4);
	ck_assert_int_eq(early(&e, 2), 0); /* PTIO_END: result 0 */
	ck_assert_int_eq(e.bottoms, 1);
}
END_TEST

/* Overwrite the stack below the caller with PATTERN, so a machine called
 * next finds that pattern in its uninitialised locals. */
static void __attribute__((noinline)) dirty_stack(unsigned char pattern)
{
	volatile unsigned char junk[4096];
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = pattern;
}

START_TEST(test_locals_not_relied_upon)
{
	static const unsigned char patterns[] = { 0x00, 0xFF, 0xA5, 0x01 };
	struct outer o;
	ptio_ssize r;
	int calls = 0;

	memset(&o, 0, sizeof(o));
	do {
		dirty_stack(patterns[calls % 4]);
		r = outer(&o);
		calls++;
	} while (r == PTIO_PENDING && calls < 100);
	ck_assert_int_eq(r, 33);
	ck_assert_int_eq(calls, 6);
	ck_assert_int_eq(o.r1 + o.r2, 33);
	ck_assert_int_eq(o.r3, PTIO_EIO);
}
END_TEST

START_TEST(test_lc_implementation)
{
#ifdef PTIO_CONF_LC_ADDRLABELS
	ck_assert_str_eq(PTIO_LC_NAME, "addrlabels");
	ck_assert_uint_eq(sizeof(ptio_lc), sizeof(void *));
#else
	ck_assert_str_eq(PTIO_LC_NAME, "switch");
	ck_assert_uint_eq(sizeof(ptio_lc), 2);
#endif
}
END_TEST

/* ---- Machines as tasks ----------------------------------------------------- */

/* A task that appends its letter to a shared trace, then yields, ROUNDS
 * times. */
struct yielder {
	struct ptio_task task;
	char letter;
	int rounds, i, runs;
	char *trace;
	size_t *len;
};

static ptio_ssize yielder_fn(struct ptio_task *task)
{
	struct yielder *y = PTIO_CONTAINER_OF(task, struct yielder, task);

	y->runs++;
	PTIO_BEGIN(&task->pt);
	for (y->i = 0; y->i < y->rounds; y->i++) {
		y->trace[(*y->len)++] = y->letter;
		PTIO_YIELD(&task->pt, task);
	}
	PTIO_END(&task->pt);
}

START_TEST(test_yield_lets_others_run_once)
{
	char trace[64] = { 0 };
	size_t len = 0;
	struct yielder y[3];
	int i;

	for (i = 0; i < 3; i++) {
		memset(&y[i], 0, sizeof(y[i]));
		y[i].letter = (char)('A' + i);
		y[i].rounds = 3 + i;
		y[i].trace = trace;
		y[i].len = &len;
		ptio_task_start(&fake_loop, &y[i].task, yielder_fn);
	}
	fake_loop_run(100);
	ck_assert_str_eq(trace, "ABCABCABCBCC");
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(y[i].runs, y[i].rounds + 1);
	/* Yielding is not sleeping: the clock never moved. */
	ck_assert_uint_eq(fake_be.sim.now, FAKE_START);
}
END_TEST

/* Waits until *flag, counting the runs in which it had to wait. */
struct waiter {
	struct ptio_task task;
	const int *flag;
	int runs, passed;
};

static ptio_ssize waiter_fn(struct ptio_task *task)
{
	struct waiter *w = PTIO_CONTAINER_OF(task, struct waiter, task);

	w->runs++;
	PTIO_BEGIN(&task->pt);
	PTIO_WAIT_UNTIL(&task->pt, *w->flag);
	w->passed++;
	PTIO_WAIT_WHILE(&task->pt, *w->flag == 1);
	w->passed++;
	PTIO_END(&task->pt);
}

/* Wakes the waiter spuriously a few times, then for real. */
struct poker {
	struct ptio_task task;
	struct waiter *w;
	int *flag;
	int i;
	int passed_before_flag;
};

static ptio_ssize poker_fn(struct ptio_task *task)
{
	struct poker *p = PTIO_CONTAINER_OF(task, struct poker, task);

	PTIO_BEGIN(&task->pt);
	for (p->i = 0; p->i < 3; p->i++) {
		ptio_task_wake(&p->w->task);
		PTIO_YIELD(&task->pt, task);
	}
	p->passed_before_flag = p->w->passed;
	*p->flag = 1;
	ptio_task_wake(&p->w->task);
	PTIO_YIELD(&task->pt, task);
	PTIO_YIELD(&task->pt, task);
	*p->flag = 2;
	ptio_task_wake(&p->w->task);
	PTIO_END(&task->pt);
}

START_TEST(test_wait_until)
{
	int flag = 0;
	struct waiter w;
	struct poker p;

	memset(&w, 0, sizeof(w));
	memset(&p, 0, sizeof(p));
	w.flag = &flag;
	p.w = &w;
	p.flag = &flag;
	ptio_task_start(&fake_loop, &w.task, waiter_fn);
	ptio_task_start(&fake_loop, &p.task, poker_fn);
	fake_loop_run(100);
	ck_assert_int_eq(p.passed_before_flag, 0);
	ck_assert_int_eq(w.passed, 2);
	/* First run, three spurious wakes, then one wake per flag change:
	 * each re-checked the condition once. */
	ck_assert_int_eq(w.runs, 6);
}
END_TEST

/* A user sub-machine with its own op, which spawns a provided one. */
struct sub {
	struct ptio_op op;     /* this machine's state */
	struct ptio_op sleep;  /* its child's */
	ptio_tick started;
	uint32_t slept;
};

static ptio_ssize sub_machine(struct sub *s, uint32_t ticks, ptio_ssize value)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&s->op.pt);
	s->started = ptio_loop_now(s->op.task->loop);
	PTIO_CALL(&s->op.pt, r, &s->sleep, s->op.task,
		   ptio_sleep(&s->sleep, ticks));
	PTIO_TRY(&s->op.pt, r);
	s->slept = (uint32_t)(ptio_loop_now(s->op.task->loop) - s->started);
	PTIO_END_WITH(&s->op.pt, value);
}

struct spawner {
	struct ptio_timed_task tt;  /* timed: its sub-machine sleeps */
	struct sub sub;
	ptio_ssize r1, r2;
	uint32_t slept1;
};

static ptio_ssize spawner_fn(struct ptio_task *task)
{
	struct spawner *sp = PTIO_CONTAINER_OF(task, struct spawner, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	PTIO_CALL(&task->pt, r, &sp->sub.op, task,
		   sub_machine(&sp->sub, 7, 42));
	sp->r1 = r;
	sp->slept1 = sp->sub.slept;
	/* The same op again, without re-initialising it by hand. */
	PTIO_AWAIT(&task->pt, r, sub_machine(&sp->sub, 300, 43));
	sp->r2 = r;
	PTIO_END(&task->pt);
}

START_TEST(test_spawn_user_machine)
{
	struct spawner sp;

	memset(&sp, 0xEE, sizeof(sp)); /* the ops start as garbage */
	sp.r1 = sp.r2 = -1;
	ptio_timed_task_start(&fake_loop, &sp.tt, spawner_fn);
	fake_loop_run(100);
	ck_assert_int_eq(sp.r1, 42);
	ck_assert_int_eq(sp.r2, 43);
	ck_assert_uint_eq(sp.slept1, 7);
	ck_assert_uint_eq(sp.sub.slept, 300);
	ck_assert_uint_eq(fake_be.sim.now, FAKE_START + 307);
	ck_assert_ptr_eq(sp.sub.op.task, &sp.tt.task);
}
END_TEST


/* ---- ptio/pt.h on its own ---------------------------------------------- */

/* From test/pt-alone.c, which includes nothing but ptio/pt.h. */
ptio_ssize pt_alone(ptio_pt *pt, ptio_pt *child, int *n);

START_TEST(test_pt_header_alone)
{
	ptio_pt pt, child;
	int n = 0, calls = 0;
	ptio_ssize r;

	PTIO_PT_INIT(&pt);
	do {
		r = pt_alone(&pt, &child, &n);
		calls++;
	} while (r == PTIO_PENDING && calls < 10);
	/* Three calls to reach 3, then 4 is even at once. */
	ck_assert_int_eq(r, 4);
	ck_assert_int_eq(calls, 3);
}
END_TEST

/* ---- Nesting: one op per level, and shared continuations caught ---------- */

/*
 * Three levels, each a user machine with its own op, the innermost
 * awaiting provided machines: level1 reads a 2-byte length through
 * level2, which reads it with ptio_read_exact after a sleep; then level1
 * reads that many bytes the same way.  The ops form a stack, ops[d] for
 * depth d, handed down with PTIO_CALL.
 */
struct nest {
	struct ptio_timed_task tt;
	struct ptio_op ops[4];     /* ops[0]: level1, ops[1]: level2, ... */
	struct ptio_repeat src;    /* always ready: 'x' forever */
	uint8_t hdr[2];
	uint8_t body[300];
	ptio_ssize result;
	ptio_tick done_at;
};

/* Depth 2: sleep a tick, then read exactly LEN bytes, on ops[2]. */
static ptio_ssize level2(struct ptio_op *op, struct ptio_read r, void *buf,
			 size_t len)
{
	ptio_ssize n = 0;

	PTIO_BEGIN(&op->pt);
	PTIO_CALL(&op->pt, n, op + 1, op->task, ptio_sleep(op + 1, 1));
	PTIO_TRY(&op->pt, n);
	PTIO_CALL(&op->pt, n, op + 1, op->task,
		  ptio_read_exact(op + 1, r, buf, len));
	PTIO_END_WITH(&op->pt, n);
}

/* Depth 1: a header, then a body whose length the header gives (here
 * the byte 'x' twice, so 0x7878 clipped to the body's size). */
static ptio_ssize level1(struct ptio_op *op, struct nest *ns)
{
	struct ptio_read r = ptio_repeat_reader(&ns->src);
	ptio_ssize n = 0;

	PTIO_BEGIN(&op->pt);
	PTIO_CALL(&op->pt, n, op + 1, op->task, level2(op + 1, r, ns->hdr, 2));
	PTIO_TRY(&op->pt, n);
	PTIO_CALL(&op->pt, n, op + 1, op->task,
		  level2(op + 1, r, ns->body, sizeof(ns->body)));
	PTIO_TRY(&op->pt, n);
	PTIO_END_WITH(&op->pt, (ptio_ssize)(ns->hdr[0] + n));
}

static ptio_ssize nest_fn(struct ptio_task *task)
{
	struct nest *ns = PTIO_CONTAINER_OF(task, struct nest, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	PTIO_CALL(&task->pt, r, &ns->ops[0], task, level1(&ns->ops[0], ns));
	ns->result = r;
	ns->done_at = ptio_loop_now(task->loop);
	PTIO_END(&task->pt);
}

START_TEST(test_nested_three_levels)
{
	struct nest ns;

	memset(&ns, 0, sizeof(ns));
	ptio_repeat_init(&ns.src, 'x');
	ptio_timed_task_start(&fake_loop, &ns.tt, nest_fn);
	fake_loop_run(100);
	ck_assert_int_eq(ns.result, 'x' + 300);
	ck_assert_uint_eq(ns.done_at, FAKE_START + 2); /* two sleeps */
	ck_assert_int_eq(ns.hdr[1], 'x');
	ck_assert_int_eq(ns.body[299], 'x');
}
END_TEST

/* The trap this catches: a user machine that awaits a provided machine
 * on its own op.  Both would keep their place in op->pt; the inner one
 * finds the outer one running and refuses, reading nothing. */
struct sharer {
	struct ptio_timed_task tt;
	struct ptio_op op;
	struct ptio_repeat src;
	uint8_t buf[4];
	ptio_ssize inner, outer;
	bool after;
};

static ptio_ssize shares_its_op(struct ptio_op *op, struct sharer *sh)
{
	ptio_ssize n = 0;

	PTIO_BEGIN(&op->pt);
	PTIO_AWAIT(&op->pt, n, ptio_read_exact(op, ptio_repeat_reader(&sh->src),
					       sh->buf, sizeof(sh->buf)));
	sh->inner = n;
	PTIO_TRY(&op->pt, n);
	sh->after = true;
	PTIO_END_WITH(&op->pt, n);
}

static ptio_ssize sharer_fn(struct ptio_task *task)
{
	struct sharer *sh = PTIO_CONTAINER_OF(task, struct sharer, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	PTIO_CALL(&task->pt, r, &sh->op, task, shares_its_op(&sh->op, sh));
	sh->outer = r;
	PTIO_END(&task->pt);
}

START_TEST(test_shared_op_is_refused)
{
	struct sharer sh;

	memset(&sh, 0, sizeof(sh));
	ptio_repeat_init(&sh.src, 'x');
	ptio_timed_task_start(&fake_loop, &sh.tt, sharer_fn);
	fake_loop_run(10);
	ck_assert_int_eq(sh.inner, PTIO_EOPSHARED);
	ck_assert_int_eq(sh.outer, PTIO_EOPSHARED);
	ck_assert(!sh.after);
	ck_assert_int_eq(sh.buf[0], 0); /* nothing was read */
	ck_assert_str_eq(ptio_err_name(PTIO_EOPSHARED), "PTIO_EOPSHARED");
}
END_TEST

/* Two machines taking turns on one continuation, by hand: later() is
 * suspended on it when outer-like code calls other() on it.  other()
 * refuses (the continuation is not one of its own) and leaves it alone,
 * so later() still resumes where it was.  With lc-switch this holds as
 * long as the two machines' await lines differ, as they do here. */
static ptio_ssize other(ptio_pt *pt, int *ran)
{
	PTIO_BEGIN(pt);
	++*ran;
	PTIO_WAIT_UNTIL(pt, *ran > 1);
	PTIO_END_WITH(pt, 7);
}

START_TEST(test_foreign_continuation_refused)
{
	struct later l;
	int ran = 0;

	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(later(&l, 2, 5), PTIO_PENDING);
	ck_assert_int_eq(other(&l.pt, &ran), PTIO_EOPSHARED);
	ck_assert_int_eq(ran, 0);
	ck_assert_int_eq(later(&l, 2, 5), PTIO_PENDING);
	ck_assert_int_eq(later(&l, 2, 5), 5);
	ck_assert_int_eq(l.calls, 3);
	/* Finished: the continuation is free for any machine now. */
	ck_assert_int_eq(other(&l.pt, &ran), PTIO_PENDING);
	ck_assert_int_eq(ran, 1);
}
END_TEST

/* A bare `return` (pitfall 4) leaves the continuation marked running:
 * the next call is refused instead of silently starting over. */
static ptio_ssize bare_return(ptio_pt *pt, int *entries)
{
	PTIO_BEGIN(pt);
	if (++*entries == 1)
		return 1; /* the mistake */
	PTIO_END_WITH(pt, 2);
}

START_TEST(test_bare_return_detected)
{
	ptio_pt pt;
	int entries = 0;

	PTIO_PT_INIT(&pt);
	ck_assert_int_eq(bare_return(&pt, &entries), 1);
	ck_assert_int_eq(bare_return(&pt, &entries), PTIO_EOPSHARED);
	ck_assert_int_eq(entries, 1);
	PTIO_PT_INIT(&pt); /* the documented way out */
	ck_assert_int_eq(bare_return(&pt, &entries), 2);
}
END_TEST

#ifdef PTIO_CONF_LC_ADDRLABELS
/* Only label addresses allow a switch around awaits. */
struct switchy {
	struct ptio_timed_task tt;
	struct ptio_op op;
	int i;
	char trace[16];
	size_t n;
};

static ptio_ssize switchy_fn(struct ptio_task *task)
{
	struct switchy *s = PTIO_CONTAINER_OF(task, struct switchy, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (s->i = 0; s->i < 5; s->i++) {
		switch (s->i % 3) {
		case 0:
			PTIO_YIELD(&task->pt, task);
			s->trace[s->n++] = 'y';
			break;
		case 1:
			PTIO_CALL(&task->pt, r, &s->op, task,
				   ptio_sleep(&s->op, 10));
			s->trace[s->n++] = r == 0 ? 's' : '!';
			break;
		default:
			PTIO_WAIT_UNTIL(&task->pt,
					ptio_loop_now(task->loop) ==
						FAKE_START + 10);
			s->trace[s->n++] = 'w';
			break;
		}
	}
	PTIO_END(&task->pt);
}

START_TEST(test_switch_inside_machine)
{
	struct switchy s;

	memset(&s, 0, sizeof(s));
	ptio_timed_task_start(&fake_loop, &s.tt, switchy_fn);
	fake_loop_run(100);
	ck_assert_str_eq(s.trace, "yswys");
	ck_assert_uint_eq(fake_be.sim.now, FAKE_START + 20);
}
END_TEST
#endif

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("pt-" PTIO_LC_NAME);
	TCase *tc = tcase_create("by-hand");
	TCase *tl = tcase_create("tasks");

	tcase_add_test(tc, test_await_keeps_results);
	tcase_add_test(tc, test_finished_machine_restarts_from_top);
	tcase_add_test(tc, test_abandoned_machine_reset_by_pt_init);
	tcase_add_test(tc, test_return_and_try);
	tcase_add_test(tc, test_locals_not_relied_upon);
	tcase_add_test(tc, test_lc_implementation);
	tcase_add_test(tc, test_foreign_continuation_refused);
	tcase_add_test(tc, test_bare_return_detected);
	tcase_add_test(tc, test_pt_header_alone);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tl, fake_loop_setup, fake_loop_teardown);
	tcase_add_test(tl, test_yield_lets_others_run_once);
	tcase_add_test(tl, test_wait_until);
	tcase_add_test(tl, test_spawn_user_machine);
	tcase_add_test(tl, test_nested_three_levels);
	tcase_add_test(tl, test_shared_op_is_refused);
#ifdef PTIO_CONF_LC_ADDRLABELS
	tcase_add_test(tl, test_switch_inside_machine);
#endif
	suite_add_tcase(s, tl);
	return s;
}
