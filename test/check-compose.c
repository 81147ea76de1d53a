/*
 * test/check-compose.c - abort, select, child tasks and join
 * (ptio_task_abort in ptio/loop.h, ptio/compose.h).
 *
 * Divided into: abort (while waiting on a read, on a write to a full
 * socket, on a sleep, while queued), select (a read against a timeout,
 * two reads ready in the same round, a part-way loser resumed, a child
 * against a sleep, abort of a task in a select), children and join, and
 * chaos seeds over select.  test/check-compose-addrlabels runs it again
 * with label-address continuations and without the fd case
 * (PTIO_TEST_NO_FD), having no POSIX layer.  The fake backend's clock makes every tick
 * exact; each test ends with the loop holding nothing (the fixtures).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <check.h>
#include "test/helpers.h"
#include "test/fake/fake-backend.h"
#include "test/fake/script-stream.h"

/* ---- Abort -------------------------------------------------------------- */

enum { WAIT_READ, WAIT_WRITE, WAIT_SLEEP };

/* A task that awaits one thing, records how that ended, runs its
 * cleanup and then awaits once more (a short sleep) to show the abort is
 * delivered once. */
struct abortee {
	struct ptio_timed_task tt;
	struct ptio_op op;
	int kind;
	struct ptio_read rd;
	struct ptio_write wr;
	uint8_t *buf;
	size_t len;
	int runs;
	ptio_ssize result;   /* of the first await */
	size_t done;         /* its ptio_op_done */
	size_t regs;         /* registrations when it returned */
	ptio_tick at;        /* when it returned */
	ptio_ssize after;    /* of the await in the cleanup */
	bool finished;
};

static ptio_ssize abortee_first(struct abortee *a)
{
	if (a->kind == WAIT_READ)
		return ptio_read_exact(&a->op, a->rd, a->buf, a->len);
	if (a->kind == WAIT_WRITE)
		return ptio_write_all(&a->op, a->wr, a->buf, a->len);
	return ptio_sleep(&a->op, 1000);
}

static ptio_ssize abortee_fn(struct ptio_task *t)
{
	struct abortee *a = PTIO_CONTAINER_OF(t, struct abortee, tt.task);
	ptio_ssize r = 0;

	a->runs++;
	PTIO_BEGIN(&t->pt);
	ptio_op_init(&a->op, t);
	PTIO_AWAIT(&t->pt, r, abortee_first(a));
	a->result = r;
	a->done = ptio_op_done(&a->op);
	a->regs = ptio_loop_registrations(t->loop);
	a->at = ptio_loop_now(t->loop);
	ptio_op_init(&a->op, t);
	PTIO_AWAIT(&t->pt, r, ptio_sleep(&a->op, 3));
	a->after = r;
	a->finished = true;
	PTIO_END(&t->pt);
}

/* A task that aborts TARGET once it has slept TICKS. */
struct aborter {
	struct ptio_timed_task tt;
	struct ptio_op op;
	struct ptio_task *target;
	uint32_t ticks;
};

static ptio_ssize aborter_fn(struct ptio_task *t)
{
	struct aborter *b = PTIO_CONTAINER_OF(t, struct aborter, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&b->op, t);
	PTIO_AWAIT(&t->pt, r, ptio_sleep(&b->op, b->ticks));
	ptio_task_abort(b->target);
	PTIO_END(&t->pt);
}

static void start_aborter(struct aborter *b, struct ptio_loop *loop,
			  struct ptio_task *target, uint32_t ticks)
{
	memset(b, 0, sizeof(*b));
	b->target = target;
	b->ticks = ticks;
	PTIO_CK_OK(ptio_timed_task_start(loop, &b->tt, aborter_fn));
}

START_TEST(test_abort_read)
{
	static const struct script_step rd[] = { SCRIPT_MAX(3), SCRIPT_NEVER };
	static const char in[] = "abcdefgh";
	struct script_stream s;
	struct abortee a = { 0 };
	struct aborter b;
	uint8_t buf[8];

	script_stream_init(&s, &fake_be);
	script_stream_input(&s, in, 8);
	SCRIPT_SET(&s.rd, rd, false);
	a.kind = WAIT_READ;
	a.rd = script_stream_reader(&s);
	a.buf = buf;
	a.len = sizeof(buf);
	PTIO_CK_OK(ptio_timed_task_start(&fake_loop, &a.tt, abortee_fn));
	start_aborter(&b, &fake_loop, &a.tt.task, 50);
	fake_loop_run(100);
	ck_assert(a.finished);
	ck_assert_int_eq(a.result, PTIO_ECANCELED);
	ck_assert_uint_eq(a.done, 3); /* what arrived stays readable */
	ck_assert_mem_eq(buf, "abc", 3);
	ck_assert_uint_eq(a.regs, 0);
	ck_assert_uint_eq((uint32_t)(a.at - FAKE_START), 50);
	ck_assert_int_eq(a.after, 0); /* delivered once */
}
END_TEST

START_TEST(test_abort_sleep)
{
	struct abortee a = { 0 };
	struct aborter b;

	a.kind = WAIT_SLEEP;
	PTIO_CK_OK(ptio_timed_task_start(&fake_loop, &a.tt, abortee_fn));
	start_aborter(&b, &fake_loop, &a.tt.task, 20);
	fake_loop_run(100);
	ck_assert_int_eq(a.result, PTIO_ECANCELED);
	ck_assert_uint_eq(a.regs, 0); /* the sleep's timer is gone */
	ck_assert_uint_eq((uint32_t)(a.at - FAKE_START), 20);
	ck_assert_int_eq(a.after, 0);
	ck_assert(a.finished);
}
END_TEST

/* Aborted before it ever ran, and again after it finished. */
START_TEST(test_abort_queued)
{
	struct abortee a = { 0 };

	a.kind = WAIT_SLEEP;
	PTIO_CK_OK(ptio_timed_task_start(&fake_loop, &a.tt, abortee_fn));
	ptio_task_abort(&a.tt.task);
	ck_assert(ptio_task_aborting(&a.tt.task));
	ptio_task_abort(&a.tt.task); /* twice is once */
	fake_loop_run(100);
	ck_assert_int_eq(a.result, PTIO_ECANCELED);
	ck_assert_uint_eq((uint32_t)(a.at - FAKE_START), 0);
	ck_assert_int_eq(a.after, 0);
	ck_assert(a.finished);
	ck_assert_int_eq(a.runs, 2);
	ptio_task_abort(&a.tt.task); /* finished: nothing happens */
	ck_assert(!ptio_task_aborting(&a.tt.task));
	ck_assert_uint_eq(ptio_loop_registrations(&fake_loop), 0);
}
END_TEST

#ifndef PTIO_TEST_NO_FD
/* A write_all to a socket whose peer never reads blocks for good: the
 * abort ends it with the count of what went. */
START_TEST(test_abort_write_full_socket)
{
	enum { LEN = 4 << 20 };
	struct ptio_fd w, peer;
	struct abortee a = { 0 };
	struct aborter b;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	PTIO_CK_OK(ptio_fd_open(&w, &ptio_test_loop, sv[0], 0));
	PTIO_CK_OK(ptio_fd_open(&peer, &ptio_test_loop, sv[1], 0));
	a.kind = WAIT_WRITE;
	a.wr = ptio_fd_writer(&w);
	a.buf = calloc(1, LEN);
	a.len = LEN;
	ck_assert_ptr_nonnull(a.buf);
	PTIO_CK_OK(ptio_timed_task_start(&ptio_test_loop, &a.tt, abortee_fn));
	start_aborter(&b, &ptio_test_loop, &a.tt.task, 30);
	ptio_test_run(5000);
	ck_assert(a.finished);
	ck_assert_int_eq(a.result, PTIO_ECANCELED);
	ck_assert_uint_gt(a.done, 0);
	ck_assert_uint_lt(a.done, LEN);
	/* Only the backend's own: epoll holds every open stream. */
	ck_assert_uint_eq(a.regs, ptio_test_backend_regs(0, 2));
	PTIO_CK_OK(ptio_fd_close(&w));
	PTIO_CK_OK(ptio_fd_close(&peer));
	free(a.buf);
}
END_TEST
#endif /* PTIO_TEST_NO_FD */

/* ---- Select ------------------------------------------------------------- */

/* A stream whose data arrives at a moment of the fake clock: reads
 * before it block (however often the task re-polls), reads from it on
 * give the input.  The first EARLY bytes are there from the start. */
struct later {
	struct script_stream s;  /* first: storage and source */
	ptio_tick at;
	bool never;
	bool scheduled;
	size_t early;
};

static ptio_ssize later_poll_ready(void *self, struct ptio_task *task,
				   unsigned interest)
{
	struct later *l = self;

	return ptio_source_poll(&l->s.src, task, interest);
}

static ptio_ssize later_read_buf(void *self, struct ptio_readbuf *rb)
{
	struct later *l = self;
	struct ptio_read r = script_stream_reader(&l->s);

	if (l->s.in_pos >= l->early &&
	    (l->never || ptio_tick_before(fake_be.sim.now, l->at))) {
		ptio_source_clear(&l->s.src, PTIO_READABLE);
		if (!l->never && !l->scheduled)
			fake_backend_signal(&fake_be, &l->s.src, PTIO_READABLE,
					    (uint32_t)(l->at - fake_be.sim.now));
		l->scheduled = true;
		return PTIO_WOULD_BLOCK;
	}
	if (l->s.in_pos < l->early &&
	    ptio_readbuf_remaining(rb) > l->early - l->s.in_pos) {
		struct ptio_readbuf part;
		ptio_ssize n;

		ptio_readbuf_init(&part, ptio_readbuf_unfilled(rb),
				  l->early - l->s.in_pos);
		n = r.vt->nb_read_buf(r.self, &part);
		if (n > 0)
			ptio_readbuf_advance(rb, (size_t)n);
		return n;
	}
	return r.vt->nb_read_buf(r.self, rb);
}

static const struct ptio_read_vt later_vt = {
	.ready = { .poll_ready = later_poll_ready },
	.nb_read_buf = later_read_buf,
};

static struct ptio_read later_reader(struct later *l)
{
	struct ptio_read r = { l, &later_vt };

	return r;
}

/* L's data IN arrives DELAY ticks from now (SCRIPT_NO_READINESS: never). */
static void stream_later(struct later *l, uint32_t delay, const char *in)
{
	memset(l, 0, sizeof(*l));
	script_stream_init(&l->s, &fake_be);
	script_stream_input(&l->s, in, strlen(in));
	l->never = delay == SCRIPT_NO_READINESS;
	l->at = fake_be.sim.now + delay;
}

/* A task that selects over up to four branches, chosen by KIND[i]. */
enum { BR_READ, BR_READ_EXACT, BR_SLEEP, BR_CHILD, BR_NONE };

struct kid {
	struct ptio_child c;
	struct ptio_op op;
	uint32_t ticks;
	ptio_ssize value;
};

static ptio_ssize kid_fn(struct ptio_task *t)
{
	struct kid *k = PTIO_CONTAINER_OF(ptio_child_of(t), struct kid, c);
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->pt);
	ptio_op_init(&k->op, t);
	PTIO_AWAIT(&t->pt, r, ptio_sleep(&k->op, k->ticks));
	PTIO_TRY(&t->pt, r);
	PTIO_END_WITH(&t->pt, k->value);
}

struct selector {
	struct ptio_timed_task tt;
	struct ptio_select sel;
	struct ptio_select_branch br[4];
	size_t n;
	int kind[4];
	struct later *s[4];
	uint8_t buf[4][16];
	size_t len[4];
	uint32_t ticks[4];
	struct kid *kid[4];
	/* what happened */
	ptio_ssize winner;
	ptio_ssize result;
	size_t done[4];      /* each branch's ptio_op_done after the select */
	size_t regs;         /* registrations right after it */
	ptio_tick at;
	/* a follow-up read of stream FOLLOW after the select (-1: none), and
	 * the resumption of a part-way loser (RESUME: its index, or -1) */
	int follow;
	ptio_ssize followed;
	int resume;
	ptio_ssize resumed;
	struct ptio_op op;
	bool finished;
};

static ptio_ssize branch_call(struct selector *x, size_t i)
{
	struct ptio_op *op = &x->sel.branch[i].op;

	if (x->kind[i] == BR_READ)
		return ptio_read(op, later_reader(x->s[i]), x->buf[i],
				 x->len[i]);
	if (x->kind[i] == BR_READ_EXACT)
		return ptio_read_exact(op, later_reader(x->s[i]), x->buf[i],
				       x->len[i]);
	if (x->kind[i] == BR_SLEEP)
		return ptio_sleep(op, x->ticks[i]);
	return ptio_child_wait(op->task, &x->kid[i]->c);
}

static ptio_ssize selector_fn(struct ptio_task *t)
{
	struct selector *x = PTIO_CONTAINER_OF(t, struct selector, tt.task);
	ptio_ssize r = 0, w = 0;
	size_t i;

	PTIO_BEGIN(&t->pt);
	for (i = 0; i < x->n; i++)
		if (x->kind[i] == BR_CHILD)
			PTIO_CK_OK(ptio_child_start(t, &x->kid[i]->c, kid_fn));
	PTIO_SELECT_BEGIN(&t->pt, &x->sel, t, x->br, x->n);
	PTIO_SELECT_BRANCH(&x->sel, 0, branch_call(x, 0));
	if (x->n > 1)
		PTIO_SELECT_BRANCH(&x->sel, 1, branch_call(x, 1));
	if (x->n > 2)
		PTIO_SELECT_BRANCH(&x->sel, 2, branch_call(x, 2));
	if (x->n > 3)
		PTIO_SELECT_BRANCH(&x->sel, 3, branch_call(x, 3));
	PTIO_SELECT_END(&t->pt, &x->sel, w);
	x->winner = w;
	x->result = ptio_select_result(&x->sel);
	x->regs = ptio_loop_registrations(t->loop);
	x->at = ptio_loop_now(t->loop);
	for (i = 0; i < x->n; i++)
		x->done[i] = ptio_op_done(&x->br[i].op);
	/* Children still running are aborted and waited for. */
	for (x->op.p.done = 0; x->op.p.done < x->n; x->op.p.done++) {
		if (x->kind[x->op.p.done] != BR_CHILD)
			continue;
		ptio_task_abort(&x->kid[x->op.p.done]->c.tt.task);
		PTIO_AWAIT(&t->pt, r,
			   ptio_child_wait(t, &x->kid[x->op.p.done]->c));
	}
	if (x->resume >= 0)
		PTIO_AWAIT(&t->pt, x->resumed, branch_call(x, (size_t)x->resume));
	if (x->follow >= 0) {
		ptio_op_init(&x->op, t);
		PTIO_AWAIT(&t->pt, x->followed,
			   ptio_read(&x->op, later_reader(x->s[x->follow]),
				     x->buf[x->follow], x->len[x->follow]));
	}
	x->finished = true;
	(void)r;
	PTIO_END(&t->pt);
}

static void selector_init(struct selector *x, size_t n)
{
	memset(x, 0, sizeof(*x));
	x->n = n;
	x->follow = x->resume = -1;
	x->winner = x->result = PTIO_PENDING;
}

static void selector_read(struct selector *x, size_t i, int kind,
			  struct later *s, size_t len)
{
	x->kind[i] = kind;
	x->s[i] = s;
	x->len[i] = len;
}

static void selector_sleep(struct selector *x, size_t i, uint32_t ticks)
{
	x->kind[i] = BR_SLEEP;
	x->ticks[i] = ticks;
}

static void selector_run(struct selector *x)
{
	PTIO_CK_OK(ptio_timed_task_start(&fake_loop, &x->tt, selector_fn));
	fake_loop_run(1000);
	ck_assert(x->finished);
}

START_TEST(test_select_read_or_timeout)
{
	struct later s;
	struct selector x;

	/* No data within the timeout: the sleep wins, the read leaves. */
	stream_later(&s, 500, "late");
	selector_init(&x, 2);
	selector_read(&x, 0, BR_READ, &s, 16);
	selector_sleep(&x, 1, 100);
	selector_run(&x);
	ck_assert_int_eq(x.winner, 1);
	ck_assert_int_eq(x.result, 0);
	ck_assert_uint_eq((uint32_t)(x.at - FAKE_START), 100);
	ck_assert_uint_eq(x.regs, 0);
	ck_assert(!fake_backend_watches(&fake_be, &s.s.src));
	ck_assert_uint_eq(s.s.in_pos, 0);
	script_stream_forget(&s.s);

	/* Data first: the read wins and the sleep's timer is gone. */
	fake_loop_start_at(FAKE_START);
	stream_later(&s, 30, "soon");
	selector_init(&x, 2);
	selector_read(&x, 0, BR_READ, &s, 16);
	selector_sleep(&x, 1, 100);
	selector_run(&x);
	ck_assert_int_eq(x.winner, 0);
	ck_assert_int_eq(x.result, 4);
	ck_assert_mem_eq(x.buf[0], "soon", 4);
	ck_assert_uint_eq((uint32_t)(x.at - FAKE_START), 30);
	ck_assert_uint_eq(x.regs, 0);
}
END_TEST

/* Both reads are ready in the same round: the first wins, and the
 * loser's bytes are still in its stream for the next read. */
START_TEST(test_select_two_reads_same_round)
{
	struct later a, b;
	struct selector x;

	stream_later(&a, 10, "first");
	stream_later(&b, 10, "second");
	selector_init(&x, 2);
	selector_read(&x, 0, BR_READ, &a, 16);
	selector_read(&x, 1, BR_READ, &b, 16);
	x.follow = 1;
	selector_run(&x);
	ck_assert_int_eq(x.winner, 0);
	ck_assert_int_eq(x.result, 5);
	ck_assert_uint_eq(x.regs, 0);
	ck_assert_uint_eq((uint32_t)(x.at - FAKE_START), 10);
	ck_assert_int_eq(x.followed, 6);
	ck_assert_mem_eq(x.buf[1], "second", 6);
}
END_TEST

/* A read_exact that loses part-way keeps its bytes and its count, and
 * awaiting it again on the same op finishes it. */
START_TEST(test_select_partial_loser_resumes)
{
	struct later a, b;
	struct selector x;

	stream_later(&b, 40, "wxyz");
	b.early = 2;
	stream_later(&a, 10, "go");
	selector_init(&x, 2);
	selector_read(&x, 0, BR_READ_EXACT, &b, 4);
	selector_read(&x, 1, BR_READ, &a, 16);
	x.resume = 0;
	selector_run(&x);
	ck_assert_int_eq(x.winner, 1);
	ck_assert_int_eq(x.result, 2);
	ck_assert_uint_eq(x.done[0], 2);
	ck_assert_uint_eq(x.regs, 0);
	ck_assert_int_eq(x.resumed, 4);
	ck_assert_mem_eq(x.buf[0], "wxyz", 4);
}
END_TEST

START_TEST(test_select_child_or_sleep)
{
	struct kid k = { 0 };
	struct selector x;

	/* The child finishes first. */
	k.ticks = 10;
	k.value = 42;
	selector_init(&x, 2);
	x.kind[0] = BR_CHILD;
	x.kid[0] = &k;
	selector_sleep(&x, 1, 100);
	selector_run(&x);
	ck_assert_int_eq(x.winner, 0);
	ck_assert_int_eq(x.result, 42);
	ck_assert_uint_eq((uint32_t)(x.at - FAKE_START), 10);
	ck_assert_uint_eq(x.regs, 0);

	/* The sleep first: the child is aborted and waited for. */
	memset(&k, 0, sizeof(k));
	k.ticks = 300;
	k.value = 42;
	selector_init(&x, 2);
	x.kind[1] = BR_CHILD;
	x.kid[1] = &k;
	selector_sleep(&x, 0, 100);
	selector_run(&x);
	ck_assert_int_eq(x.winner, 0);
	ck_assert_int_eq(x.result, 0);
	ck_assert_int_eq(k.c.result, PTIO_ECANCELED);
	ck_assert(!ptio_task_alive(&k.c.tt.task));
}
END_TEST

/* A task waiting in a select over two sources and a timer is aborted:
 * the select returns PTIO_ECANCELED and every registration is gone. */
START_TEST(test_select_aborted)
{
	struct later a, b;
	struct selector x;
	struct aborter ab;

	stream_later(&a, 500, "a");
	stream_later(&b, 500, "b");
	selector_init(&x, 3);
	selector_read(&x, 0, BR_READ, &a, 16);
	selector_read(&x, 1, BR_READ, &b, 16);
	selector_sleep(&x, 2, 400);
	PTIO_CK_OK(ptio_timed_task_start(&fake_loop, &x.tt, selector_fn));
	start_aborter(&ab, &fake_loop, &x.tt.task, 25);
	fake_loop_run(1000);
	ck_assert(x.finished);
	ck_assert_int_eq(x.winner, PTIO_ECANCELED);
	ck_assert_uint_eq(x.regs, 0);
	ck_assert_uint_eq((uint32_t)(x.at - FAKE_START), 25);
}
END_TEST

/* ---- Children and join -------------------------------------------------- */

struct parent {
	struct ptio_timed_task tt;
	struct kid kids[3];
	struct ptio_child *ptrs[3];
	ptio_ssize joined;
	ptio_tick at;
	bool deadline;
};

static ptio_ssize parent_fn(struct ptio_task *t)
{
	struct parent *p = PTIO_CONTAINER_OF(t, struct parent, tt.task);
	ptio_ssize r = 0;
	size_t i;

	PTIO_BEGIN(&t->pt);
	for (i = 0; i < 3; i++) {
		p->ptrs[i] = &p->kids[i].c;
		PTIO_CK_OK(ptio_child_start(t, &p->kids[i].c, kid_fn));
	}
	ck_assert_int_eq(ptio_child_start(t, &p->kids[0].c, kid_fn),
			 PTIO_EALREADY);
	if (p->deadline)
		ptio_task_set_timeout(&p->tt, 25);
	PTIO_AWAIT(&t->pt, r, ptio_child_join(t, p->ptrs, 3));
	p->joined = r;
	p->at = ptio_loop_now(t->loop);
	if (r < 0) {
		ptio_task_clear_deadline(&p->tt);
		for (i = 0; i < 3; i++)
			ptio_task_abort(&p->kids[i].c.tt.task);
		PTIO_AWAIT(&t->pt, r, ptio_child_join(t, p->ptrs, 3));
	}
	PTIO_END(&t->pt);
}

START_TEST(test_join_three)
{
	static const uint32_t ticks[3] = { 30, 10, 20 };
	struct parent p;
	size_t i;

	memset(&p, 0, sizeof(p));
	for (i = 0; i < 3; i++) {
		p.kids[i].ticks = ticks[i];
		p.kids[i].value = (ptio_ssize)(100 + i);
	}
	PTIO_CK_OK(ptio_timed_task_start(&fake_loop, &p.tt, parent_fn));
	fake_loop_run(1000);
	ck_assert_int_eq(p.joined, 0);
	ck_assert_uint_eq((uint32_t)(p.at - FAKE_START), 30);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(p.kids[i].c.result, (ptio_ssize)(100 + i));
}
END_TEST

/* The parent's deadline ends the join; the children are aborted. */
START_TEST(test_join_deadline)
{
	static const uint32_t ticks[3] = { 30, 10, 200 };
	struct parent p;
	size_t i;

	memset(&p, 0, sizeof(p));
	p.deadline = true;
	for (i = 0; i < 3; i++) {
		p.kids[i].ticks = ticks[i];
		p.kids[i].value = 7;
	}
	PTIO_CK_OK(ptio_timed_task_start(&fake_loop, &p.tt, parent_fn));
	fake_loop_run(1000);
	ck_assert_int_eq(p.joined, PTIO_ETIMEDOUT);
	ck_assert_uint_eq((uint32_t)(p.at - FAKE_START), 25);
	ck_assert_int_eq(p.kids[0].c.result, PTIO_ECANCELED);
	ck_assert_int_eq(p.kids[1].c.result, 7);
	ck_assert_int_eq(p.kids[2].c.result, PTIO_ECANCELED);
}
END_TEST

/* ---- Chaos: random selects ------------------------------------------------
 *
 * Three reads whose data comes after random even delays (or never) and a
 * sleep of random even length, sometimes an abort at a random odd tick
 * (so no tie with the others).  The winner must be the first branch in
 * order among those ready earliest, at that tick, with nothing left
 * registered; the losers must not have consumed a byte. */

static unsigned chaos_seeds(void)
{
	const char *e = getenv("PTIO_CHAOS_SEEDS");

	return e != NULL ? (unsigned)strtoul(e, NULL, 10) : 2000;
}

START_TEST(test_select_chaos)
{
	unsigned seed, nseeds = chaos_seeds();

	for (seed = 1; seed <= nseeds; seed++) {
		uint32_t st = seed * 2654435761u + 1, d[4], best = 0xFFFFFFFFu;
		uint32_t abort_at = 0;
		struct later s[3];
		struct selector x;
		struct aborter ab;
		ptio_ssize want = -1;
		size_t i;

		fake_loop_start_at(FAKE_START + (ptio_tick)seed);
		selector_init(&x, 4);
		for (i = 0; i < 4; i++) {
			d[i] = 2 * (1 + ptio_test_xorshift(&st) % 40);
			if (i < 3 && ptio_test_xorshift(&st) % 4 == 0)
				d[i] = SCRIPT_NO_READINESS;
			if (i < 3) {
				stream_later(&s[i], d[i], "data");
				selector_read(&x, i, BR_READ, &s[i], 16);
			} else {
				selector_sleep(&x, i, d[i]);
			}
			if (d[i] < best) {
				best = d[i];
				want = (ptio_ssize)i;
			}
		}
		PTIO_CK_OK(ptio_timed_task_start(&fake_loop, &x.tt,
						 selector_fn));
		if (ptio_test_xorshift(&st) % 3 == 0) {
			abort_at = 1 + 2 * (ptio_test_xorshift(&st) % 45);
			start_aborter(&ab, &fake_loop, &x.tt.task, abort_at);
			if (abort_at < best) {
				best = abort_at;
				want = PTIO_ECANCELED;
			}
		}
		fake_loop_run(1000);
		ck_assert_msg(x.finished, "seed %u", seed);
		ck_assert_msg(x.winner == want, "seed %u: winner %ld, want %ld",
			      seed, (long)x.winner, (long)want);
		ck_assert_msg(x.at == FAKE_START + (ptio_tick)seed + best,
			      "seed %u: at %u, want %u", seed,
			      (unsigned)(x.at - FAKE_START - seed),
			      (unsigned)best);
		/* An aborter still asleep holds its timer. */
		ck_assert_msg(x.regs == (abort_at > best ? 1u : 0u),
			      "seed %u: %zu registrations", seed, x.regs);
		for (i = 0; i < 3; i++)
			ck_assert_msg(s[i].s.in_pos == ((ptio_ssize)i == want ? 4 : 0),
				      "seed %u: stream %zu", seed, i);
		fake_loop_teardown();
	}
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("compose");
	TCase *ta = tcase_create("abort");
	TCase *ts = tcase_create("select");
	TCase *tj = tcase_create("join");
	TCase *tc = tcase_create("chaos");

	tcase_add_checked_fixture(ta, fake_loop_setup, fake_loop_teardown);
	tcase_add_test(ta, test_abort_read);
	tcase_add_test(ta, test_abort_sleep);
	tcase_add_test(ta, test_abort_queued);
	suite_add_tcase(s, ta);

#ifndef PTIO_TEST_NO_FD
	TCase *tf = tcase_create("abort-fd");

	tcase_add_checked_fixture(tf, ptio_test_loop_setup,
				  ptio_test_loop_teardown);
	tcase_add_test(tf, test_abort_write_full_socket);
	suite_add_tcase(s, tf);
#endif

	tcase_add_checked_fixture(ts, fake_loop_setup, fake_loop_teardown);
	tcase_add_test(ts, test_select_read_or_timeout);
	tcase_add_test(ts, test_select_two_reads_same_round);
	tcase_add_test(ts, test_select_partial_loser_resumes);
	tcase_add_test(ts, test_select_child_or_sleep);
	tcase_add_test(ts, test_select_aborted);
	suite_add_tcase(s, ts);

	tcase_add_checked_fixture(tj, fake_loop_setup, fake_loop_teardown);
	tcase_add_test(tj, test_join_three);
	tcase_add_test(tj, test_join_deadline);
	suite_add_tcase(s, tj);

	tcase_add_checked_fixture(tc, fake_loop_setup, fake_loop_teardown);
	tcase_add_test(tc, test_select_chaos);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
