/*
 * test/check-coop.c - the machine model under load, on the fake backend:
 * the cooperative budget, deadlines that fire while data flows, latched
 * arguments, and starting a task that is alive.
 *
 * The hostile streams here never block, so the fake clock, which only
 * moves when the loop waits, would stand still: each stream moves it by
 * one tick every CLOCK_EVERY calls instead, as real time passes while a
 * real peer floods.  A ticker task sleeping one tick at a time shows
 * whether timers and other tasks still run.
 *
 * Divided into: the hostile streams, the ticker, the budget, deadlines
 * under flood, latched arguments, starting a live task.
 */
#include <string.h>
#include <check.h>
#include "test/helpers.h"
#include "test/fake/fake-backend.h"

/* ---- Hostile streams ------------------------------------------------------- */

#define CLOCK_EVERY 16

/* The loop reads its clock between activations, so a deadline that
 * passes during one is seen at the latest in the next: it may overshoot
 * by the ticks one budget of calls takes, plus the tick it passed in. */
#define OVERSHOOT (PTIO_CONF_BUDGET / CLOCK_EVERY + 1)

/*
 * A Read that always has data ('x', never a newline) and, when LIES, a
 * liar instead: always claims READABLE and always says WOULD_BLOCK.  It
 * counts its calls in total and since the activation that CURRENT_FOR
 * marks (the test resets `since` when that task is entered).
 */
struct hostile {
	bool lies;
	unsigned long calls;
	unsigned long since;      /* calls in the current activation */
	unsigned long max_since;  /* the most calls in one activation */
};

static void hostile_count(struct hostile *h)
{
	h->calls++;
	if (++h->since > h->max_since)
		h->max_since = h->since;
	if (h->calls % CLOCK_EVERY == 0)
		fake_be.sim.now++;
}

static ptio_ssize hostile_poll(void *self, struct ptio_task *task,
			       unsigned interest)
{
	(void)self;
	(void)task;
	(void)interest;
	return PTIO_READABLE;
}

static ptio_ssize hostile_read(void *self, struct ptio_readbuf *rb)
{
	struct hostile *h = self;
	size_t n = ptio_readbuf_remaining(rb);

	hostile_count(h);
	if (h->lies)
		return PTIO_WOULD_BLOCK;
	memset(rb->buf + rb->filled, 'x', n);
	if (rb->initialized < rb->filled + n)
		rb->initialized = rb->filled + n;
	rb->filled += n;
	return (ptio_ssize)n;
}

static const struct ptio_read_vt hostile_vt = {
	.ready = { .poll_ready = hostile_poll },
	.nb_read_buf = hostile_read,
};

static struct ptio_read hostile_reader(struct hostile *h)
{
	struct ptio_read r = { h, &hostile_vt };

	return r;
}

/* ---- The ticker -------------------------------------------------------------- */

struct ticker {
	struct ptio_timed_task tt;
	struct ptio_op op;
	unsigned ticks, want;
	bool *stop;  /* set when the ticker is done */
};

static ptio_ssize ticker_fn(struct ptio_task *task)
{
	struct ticker *tk = PTIO_CONTAINER_OF(task, struct ticker, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (tk->ticks = 0; tk->ticks < tk->want; tk->ticks++) {
		PTIO_CALL(&task->pt, r, &tk->op, task, ptio_sleep(&tk->op, 1));
		PTIO_TRY(&task->pt, r);
	}
	if (tk->stop != NULL)
		*tk->stop = true;
	PTIO_END(&task->pt);
}

static void ticker_start(struct ticker *tk, unsigned want, bool *stop)
{
	memset(tk, 0, sizeof(*tk));
	tk->want = want;
	tk->stop = stop;
	ck_assert_int_eq(ptio_timed_task_start(&fake_loop, &tk->tt, ticker_fn),
			 0);
}

/* ---- The budget --------------------------------------------------------------- */

/* Reads from a hostile stream until STOP, or until a read fails. */
struct reader {
	struct ptio_timed_task tt;
	struct ptio_op op;
	struct hostile *h;
	uint8_t buf[64];
	const bool *stop;
	unsigned long reads, activations;
	uint32_t deadline_in;  /* 0: none */
	ptio_ssize result;
	ptio_tick ended;
};

static ptio_ssize reader_fn(struct ptio_task *task)
{
	struct reader *rd = PTIO_CONTAINER_OF(task, struct reader, tt.task);
	ptio_ssize r = 0;

	rd->activations++;
	rd->h->since = 0;
	PTIO_BEGIN(&task->pt);
	ptio_op_init(&rd->op, task);
	if (rd->deadline_in != 0)
		ptio_task_set_timeout(&rd->tt, rd->deadline_in);
	while (!*rd->stop) {
		PTIO_AWAIT(&task->pt, r, ptio_read(&rd->op,
						   hostile_reader(rd->h),
						   rd->buf, sizeof(rd->buf)));
		if (r < 0)
			break;
		rd->reads++;
	}
	rd->result = r;
	rd->ended = ptio_loop_now(task->loop);
	PTIO_END(&task->pt);
}

static void reader_start(struct reader *rd, struct hostile *h,
			 const bool *stop, uint32_t deadline_in)
{
	memset(rd, 0, sizeof(*rd));
	rd->h = h;
	rd->stop = stop;
	rd->deadline_in = deadline_in;
	ck_assert_int_eq(ptio_timed_task_start(&fake_loop, &rd->tt, reader_fn),
			 0);
}

/* A peer that always has data: the reader never blocks, yet the ticker
 * keeps ticking, and no activation makes more calls than the budget. */
START_TEST(test_budget_always_ready)
{
	struct hostile h = { 0 };
	struct reader rd;
	struct ticker tk;
	bool stop = false;

	reader_start(&rd, &h, &stop, 0);
	ticker_start(&tk, 20, &stop);
	fake_loop_run(100000);
	ck_assert_uint_eq(tk.ticks, 20);
	ck_assert_int_ge(rd.result, 0);
	/* 20 ticks of the clock took 20 * CLOCK_EVERY reads, give or take
	 * the last activation's. */
	ck_assert_uint_ge(rd.reads, 19 * CLOCK_EVERY);
	ck_assert_uint_le(h.max_since, PTIO_CONF_BUDGET);
	ck_assert_uint_ge(rd.activations, rd.reads / PTIO_CONF_BUDGET);
}
END_TEST

/* A stream that lies about readiness: READABLE, then WOULD_BLOCK, for
 * ever.  It is spun at most one budget per activation, and the task's
 * deadline ends the read on time. */
START_TEST(test_budget_lying_stream)
{
	struct hostile h = { .lies = true };
	struct reader rd;
	struct ticker tk;
	bool stop = false;

	reader_start(&rd, &h, &stop, 50);
	ticker_start(&tk, 60, NULL);
	fake_loop_run(100000);
	ck_assert_int_eq(rd.result, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(rd.reads, 0);
	ck_assert_uint_le((uint32_t)(rd.ended - FAKE_START), 50 + OVERSHOOT);
	ck_assert_uint_ge((uint32_t)(rd.ended - FAKE_START), 50);
	ck_assert_uint_le(h.max_since, PTIO_CONF_BUDGET);
	ck_assert_uint_eq(tk.ticks, 60);
}
END_TEST

/* The budget is a loop setting: 4 calls per activation, then the default
 * again. */
START_TEST(test_budget_setting)
{
	struct hostile h = { 0 };
	struct reader rd;
	struct ticker tk;
	bool stop = false;

	ptio_loop_set_budget(&fake_loop, 4);
	reader_start(&rd, &h, &stop, 0);
	ticker_start(&tk, 3, &stop);
	fake_loop_run(100000);
	ck_assert_uint_eq(h.max_since, 4);

	ptio_loop_set_budget(&fake_loop, 0);
	ck_assert_uint_eq(fake_loop.budget_max, PTIO_CONF_BUDGET);
	ptio_loop_set_budget(&fake_loop, 1u << 20);
	ck_assert_uint_eq(fake_loop.budget_max, 0xFFFFu);
}
END_TEST

/* A machine of one's own that loops without awaiting anything stays fair
 * by awaiting ptio_task_spend on each pass (ptio/pt.h). */
struct spinner {
	struct ptio_task task;
	unsigned long i, n, activations;
};

static ptio_ssize spinner_fn(struct ptio_task *task)
{
	struct spinner *sp = PTIO_CONTAINER_OF(task, struct spinner, task);
	ptio_ssize r = 0;

	sp->activations++;
	PTIO_BEGIN(&task->pt);
	for (sp->i = 0; sp->i < sp->n; sp->i++) {
		PTIO_AWAIT(&task->pt, r, ptio_task_spend(task));
		PTIO_TRY(&task->pt, r);
	}
	PTIO_END(&task->pt);
}

START_TEST(test_spend_in_own_loop)
{
	struct spinner sp;

	memset(&sp, 0, sizeof(sp));
	sp.n = 10 * PTIO_CONF_BUDGET;
	ck_assert_int_eq(ptio_task_start(&fake_loop, &sp.task, spinner_fn), 0);
	fake_loop_run(100);
	ck_assert_uint_eq(sp.i, sp.n);
	ck_assert_uint_eq(sp.activations, 10);
}
END_TEST

/* ---- Deadlines under flood ------------------------------------------------------ */

/* The endless line: read_until through a 512-byte BufReader over a peer
 * that sends bytes and never a newline, with a 200-tick deadline.  It
 * ends with PTIO_ETIMEDOUT within OVERSHOOT ticks of the deadline, and
 * the ticker ticks all along. */
struct liner {
	struct ptio_timed_task tt;
	struct ptio_op op;
	struct ptio_bufreader br;
	uint8_t brbuf[512];
	struct ptio_readbuf line;
	uint8_t linebuf[64];
	ptio_ssize result;
	ptio_tick ended;
};

static ptio_ssize liner_fn(struct ptio_task *task)
{
	struct liner *ln = PTIO_CONTAINER_OF(task, struct liner, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	ptio_op_init(&ln->op, task);
	ptio_task_set_timeout(&ln->tt, 200);
	ptio_readbuf_init(&ln->line, ln->linebuf, sizeof(ln->linebuf));
	PTIO_AWAIT(&task->pt, r, ptio_read_until(&ln->op,
						 ptio_bufreader_bufread(&ln->br),
						 '\n', &ln->line, 1u << 20));
	ln->result = r;
	ln->ended = ptio_loop_now(task->loop);
	PTIO_END(&task->pt);
}

START_TEST(test_endless_line_deadline)
{
	struct hostile h = { 0 };
	struct liner ln;
	struct ticker tk;

	memset(&ln, 0, sizeof(ln));
	ptio_bufreader_init(&ln.br, hostile_reader(&h), ln.brbuf,
			    sizeof(ln.brbuf));
	ck_assert_int_eq(ptio_timed_task_start(&fake_loop, &ln.tt, liner_fn),
			 0);
	ticker_start(&tk, 250, NULL);
	fake_loop_run(1000000);
	ck_assert_int_eq(ln.result, PTIO_ETIMEDOUT);
	ck_assert_uint_ge((uint32_t)(ln.ended - FAKE_START), 200);
	ck_assert_uint_le((uint32_t)(ln.ended - FAKE_START), 200 + OVERSHOOT);
	ck_assert_uint_eq(ln.line.filled, sizeof(ln.linebuf));
	ck_assert_uint_eq(tk.ticks, 250);
	ck_assert_uint_ge(h.calls, 200 * CLOCK_EVERY);
}
END_TEST

/* ---- Latched arguments ----------------------------------------------------------- */

/* ready_until with a moment computed in the call itself: the moment is
 * latched when the call starts, so the await ends 50 ticks after it
 * began even though a pest wakes the task every 7 ticks (and each resume
 * computes a later moment). */
struct until_waiter {
	struct ptio_timed_task tt;
	struct ptio_op op;
	struct ptio_source src;   /* never ready */
	ptio_ssize result;
	ptio_tick ended;
	bool done;
};

static ptio_ssize src_poll(void *self, struct ptio_task *task,
			   unsigned interest)
{
	return ptio_source_poll(self, task, interest);
}

static const struct ptio_ready_vt src_ready_vt = { .poll_ready = src_poll };

static ptio_ssize until_waiter_fn(struct ptio_task *task)
{
	struct until_waiter *w =
		PTIO_CONTAINER_OF(task, struct until_waiter, tt.task);
	struct ptio_ready o = { &w->src, &src_ready_vt };
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	ptio_op_init(&w->op, task);
	PTIO_AWAIT(&task->pt, r, ptio_ready_until(&w->op, o, PTIO_READ,
						  ptio_loop_now(task->loop) +
							  50));
	w->result = r;
	w->ended = ptio_loop_now(task->loop);
	w->done = true;
	PTIO_END(&task->pt);
}

struct pest {
	struct ptio_timed_task tt;
	struct ptio_op op;
	struct until_waiter *victim;
};

static ptio_ssize pest_fn(struct ptio_task *task)
{
	struct pest *p = PTIO_CONTAINER_OF(task, struct pest, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	while (!p->victim->done) {
		PTIO_CALL(&task->pt, r, &p->op, task, ptio_sleep(&p->op, 7));
		ptio_task_wake(&p->victim->tt.task);
	}
	PTIO_END(&task->pt);
}

START_TEST(test_ready_until_latches_moment)
{
	struct until_waiter w;
	struct pest p;

	memset(&w, 0, sizeof(w));
	memset(&p, 0, sizeof(p));
	ptio_source_init(&w.src, 0, 0);
	p.victim = &w;
	ck_assert_int_eq(ptio_timed_task_start(&fake_loop, &w.tt,
					       until_waiter_fn), 0);
	ck_assert_int_eq(ptio_timed_task_start(&fake_loop, &p.tt, pest_fn), 0);
	fake_loop_run(1000);
	ck_assert_int_eq(w.result, PTIO_ETIMEDOUT);
	ck_assert_uint_eq((uint32_t)(w.ended - FAKE_START), 50);
}
END_TEST

/* ---- Starting a task that is alive ------------------------------------------------- */

struct restarter {
	struct ptio_timed_task tt;
	struct ptio_op op;
	ptio_ssize from_inside;
	bool alive_inside;
};

static ptio_ssize restarter_fn(struct ptio_task *task)
{
	struct restarter *rs =
		PTIO_CONTAINER_OF(task, struct restarter, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	rs->from_inside = ptio_task_start(task->loop, task, restarter_fn);
	rs->alive_inside = ptio_task_alive(task);
	PTIO_CALL(&task->pt, r, &rs->op, task, ptio_sleep(&rs->op, 5));
	PTIO_END(&task->pt);
}

START_TEST(test_start_live_task_refused)
{
	struct restarter rs;

	memset(&rs, 0, sizeof(rs));
	ck_assert_int_eq(ptio_timed_task_start(&fake_loop, &rs.tt,
					       restarter_fn), 0);
	/* Queued: refused, and counted once. */
	ck_assert_int_eq(ptio_timed_task_start(&fake_loop, &rs.tt,
					       restarter_fn), PTIO_EALREADY);
	ck_assert_uint_eq(ptio_loop_alive(&fake_loop), 1);
	/* Running: refused from inside its own machine. */
	ck_assert_int_eq(ptio_loop_run(&fake_loop, PTIO_RUN_NOWAIT), 1);
	ck_assert_int_eq(rs.from_inside, PTIO_EALREADY);
	ck_assert(rs.alive_inside);
	/* Sleeping: refused. */
	ck_assert_int_eq(ptio_task_start(&fake_loop, &rs.tt.task,
					 restarter_fn), PTIO_EALREADY);
	ck_assert_uint_eq(ptio_loop_alive(&fake_loop), 1);
	fake_loop_run(100);
	ck_assert(!ptio_task_alive(&rs.tt.task));
	/* Finished: it may start again. */
	ck_assert_int_eq(ptio_timed_task_start(&fake_loop, &rs.tt,
					       restarter_fn), 0);
	fake_loop_run(100);
	ck_assert_uint_eq(ptio_loop_alive(&fake_loop), 0);
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("coop");
	TCase *tb = tcase_create("budget");
	TCase *td = tcase_create("deadlines");
	TCase *ta = tcase_create("arguments");

	tcase_add_checked_fixture(tb, fake_loop_setup, fake_loop_teardown);
	tcase_add_test(tb, test_budget_always_ready);
	tcase_add_test(tb, test_budget_lying_stream);
	tcase_add_test(tb, test_budget_setting);
	tcase_add_test(tb, test_spend_in_own_loop);
	suite_add_tcase(s, tb);

	tcase_add_checked_fixture(td, fake_loop_setup, fake_loop_teardown);
	tcase_add_test(td, test_endless_line_deadline);
	suite_add_tcase(s, td);

	tcase_add_checked_fixture(ta, fake_loop_setup, fake_loop_teardown);
	tcase_add_test(ta, test_ready_until_latches_moment);
	tcase_add_test(ta, test_start_live_task_refused);
	suite_add_tcase(s, ta);
	return s;
}
