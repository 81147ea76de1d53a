/*
 * test/check-sync.c - notify, semaphore and bounded channel (ptio/sync.h)
 * on the fake backend, and their interrupt-side bindings (ptio/port.h,
 * section 4) on the fake CPU.
 *
 * Divided into: a task that awaits one primitive call and records how it
 * ended; the semaphore (FIFO hand-over, deadlines, cancel, spurious
 * wakes); notify; the channel (order, blocked producers, close,
 * deadlines); and the port bindings (a handler's send and signal, and a
 * handler on another thread sending while tasks send too).
 *
 * Every fake-backend test ends in fake_loop_teardown, which fails if a
 * task or a registration is left; a waiter left in a primitive's queue
 * always holds its task's wait slot, so it would show there too, and the
 * tests also check the queues themselves.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <check.h>
#include "test/helpers.h"
#include "test/fake/fake-backend.h"
#include "test/fake/fake-port.h"

/* ---- A task awaiting one primitive call ------------------------------------ */

enum call { SEM_ACQUIRE, NOTIFY_WAIT, CHAN_SEND, CHAN_RECV };

struct st {
	struct ptio_timed_task tt;
	struct ptio_waiter w;
	enum call call;
	void *obj;                /* the primitive */
	int item;                 /* what to send, or what was received */
	uint32_t delay;           /* ticks to sleep before the call */
	uint32_t timeout;         /* a task deadline this far ahead; 0: none */
	bool finished;
	ptio_ssize result;
	ptio_tick at;             /* when the call returned */
	size_t regs;              /* the loop's registrations then */
	int *order;               /* when set: append item here at the end */
	size_t *norder;
};

static ptio_ssize st_call(struct st *t)
{
	switch (t->call) {
	case SEM_ACQUIRE:
		return ptio_sem_acquire(&t->w, t->obj);
	case NOTIFY_WAIT:
		return ptio_notify_wait(&t->w, t->obj);
	case CHAN_SEND:
		return ptio_chan_send(&t->w, t->obj, &t->item);
	default:
		return ptio_chan_recv(&t->w, t->obj, &t->item);
	}
}

static ptio_ssize st_fn(struct ptio_task *task)
{
	struct st *t = PTIO_CONTAINER_OF(task, struct st, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	if (t->delay != 0) {
		PTIO_CALL(&task->pt, r, &t->w.op, task,
			  ptio_sleep(&t->w.op, t->delay));
	}
	if (t->timeout != 0)
		ptio_task_set_timeout(&t->tt, t->timeout);
	PTIO_AWAIT(&task->pt, r, st_call(t));
	t->result = r;
	t->at = ptio_loop_now(task->loop);
	t->regs = ptio_loop_registrations(task->loop);
	if (t->order != NULL && r == 0)
		t->order[(*t->norder)++] = t->item;
	t->finished = true;
	PTIO_END(&task->pt);
}

static void st_start(struct st *t, enum call call, void *obj, int item)
{
	memset(t, 0, sizeof(*t));
	t->call = call;
	t->obj = obj;
	t->item = item;
	ptio_waiter_init(&t->w, &t->tt.task);
	ck_assert_int_eq(ptio_timed_task_start(&fake_loop, &t->tt, st_fn), 0);
}

/* Run the loop for TICKS ticks of the fake clock (at least one
 * iteration). */
static void run_for(uint32_t ticks)
{
	ptio_tick end = fake_be.sim.now + ticks;

	do {
		ck_assert_int_ge(ptio_loop_run(&fake_loop, PTIO_RUN_NOWAIT), 0);
		if (ptio_tick_before(fake_be.sim.now, end))
			fake_be.sim.now++;
	} while (ptio_tick_before(fake_be.sim.now, end));
	ck_assert_int_ge(ptio_loop_run(&fake_loop, PTIO_RUN_NOWAIT), 0);
}

static bool queue_empty(const struct ptio_wait_link *q)
{
	return q->next == q && q->prev == q;
}

/* ---- Semaphore ------------------------------------------------------------- */

START_TEST(test_sem_try)
{
	struct ptio_sem sem;

	ptio_sem_init(&sem, 2);
	ck_assert_int_eq(ptio_sem_try_acquire(&sem), 0);
	ck_assert_int_eq(ptio_sem_try_acquire(&sem), 0);
	ck_assert_int_eq(ptio_sem_try_acquire(&sem), PTIO_WOULD_BLOCK);
	ptio_sem_release(&sem);
	ck_assert_uint_eq(ptio_sem_count(&sem), 1);
}
END_TEST

/* Three tasks block in start order; three releases, one per tick, wake
 * them in that order, each holding its unit: the count stays 0. */
START_TEST(test_sem_fifo)
{
	struct ptio_sem sem;
	struct st t[3];
	int order[3];
	size_t n = 0;
	int i;

	ptio_sem_init(&sem, 0);
	for (i = 0; i < 3; i++) {
		st_start(&t[i], SEM_ACQUIRE, &sem, i);
		t[i].order = order;
		t[i].norder = &n;
		t[i].delay = (uint32_t)(3 - i); /* the last starts first */
	}
	run_for(5);
	ck_assert(!queue_empty(&sem.waiters));
	ck_assert_uint_eq(fake_loop.nwaits, 3);
	for (i = 0; i < 3; i++) {
		ptio_sem_release(&sem);
		/* A later task that tries now cannot take the unit. */
		ck_assert_int_eq(ptio_sem_try_acquire(&sem), PTIO_WOULD_BLOCK);
		run_for(1);
	}
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(order[0], 2);
	ck_assert_int_eq(order[1], 1);
	ck_assert_int_eq(order[2], 0);
	ck_assert_uint_eq(ptio_sem_count(&sem), 0);
	ck_assert(queue_empty(&sem.waiters));
}
END_TEST

/* A deadline ends the wait with ETIMEDOUT at its tick, with nothing left
 * registered or queued; the unit released later goes to the count. */
START_TEST(test_sem_deadline)
{
	struct ptio_sem sem;
	struct st t;
	ptio_tick t0 = fake_be.sim.now;

	ptio_sem_init(&sem, 0);
	st_start(&t, SEM_ACQUIRE, &sem, 0);
	t.timeout = 10;
	ck_assert_int_eq(fake_loop_run(100) > 0, 1);
	ck_assert_int_eq(t.result, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(t.at - t0, 10);
	ck_assert_uint_eq(t.regs, 0);
	ck_assert(!ptio_waiter_queued(&t.w));
	ck_assert(queue_empty(&sem.waiters));
	ptio_sem_release(&sem);
	ck_assert_uint_eq(ptio_sem_count(&sem), 1);
}
END_TEST

/* Cancelling a waiting task takes its waiter out of the queue: the next
 * release goes to the count, not to a forgotten task. */
START_TEST(test_sem_cancel)
{
	struct ptio_sem sem;
	struct st a, b;

	ptio_sem_init(&sem, 0);
	st_start(&a, SEM_ACQUIRE, &sem, 0);
	st_start(&b, SEM_ACQUIRE, &sem, 1);
	run_for(1);
	ck_assert_uint_eq(ptio_loop_registrations(&fake_loop), 2);
	ptio_task_cancel(&a.tt.task);
	ck_assert(!ptio_waiter_queued(&a.w));
	ck_assert_uint_eq(ptio_loop_registrations(&fake_loop), 1);
	ptio_sem_release(&sem);
	run_for(1);
	ck_assert(b.finished);
	ck_assert_int_eq(b.result, 0);
	ck_assert(!a.finished);
	ptio_sem_release(&sem);
	ck_assert_uint_eq(ptio_sem_count(&sem), 1);
}
END_TEST

/* A wake from outside (ptio_task_wake) makes the waiter try again and
 * wait again; the release still reaches it, and only once. */
START_TEST(test_sem_spurious_wake)
{
	struct ptio_sem sem;
	struct st a;

	ptio_sem_init(&sem, 0);
	st_start(&a, SEM_ACQUIRE, &sem, 0);
	run_for(1);
	ptio_task_wake(&a.tt.task);
	ck_assert(!ptio_waiter_queued(&a.w));
	run_for(1);
	ck_assert(ptio_waiter_queued(&a.w));
	ck_assert(!a.finished);
	ptio_sem_release(&sem);
	run_for(1);
	ck_assert(a.finished);
	ck_assert_int_eq(a.result, 0);
	ck_assert_uint_eq(ptio_sem_count(&sem), 0);
}
END_TEST

/* A free unit is taken without waiting, but each acquire spends budget:
 * with a budget of 3, a task that acquires and releases ten times cannot
 * do it in one activation. */
struct spinner {
	struct ptio_task task;
	struct ptio_waiter w;
	struct ptio_sem *sem;
	int i;
};

static ptio_ssize spinner_fn(struct ptio_task *task)
{
	struct spinner *sp = PTIO_CONTAINER_OF(task, struct spinner, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (sp->i = 0; sp->i < 10; sp->i++) {
		PTIO_AWAIT(&task->pt, r, ptio_sem_acquire(&sp->w, sp->sem));
		PTIO_TRY(&task->pt, r);
		ptio_sem_release(sp->sem);
	}
	PTIO_END(&task->pt);
}

START_TEST(test_sem_spends)
{
	struct ptio_sem sem;
	struct spinner sp;
	unsigned long rounds = 0;

	ptio_sem_init(&sem, 1);
	ptio_loop_set_budget(&fake_loop, 3);
	memset(&sp, 0, sizeof(sp));
	sp.sem = &sem;
	ptio_waiter_init(&sp.w, &sp.task);
	ptio_task_start(&fake_loop, &sp.task, spinner_fn);
	while (ptio_loop_alive(&fake_loop) > 0) {
		ck_assert_int_ge(ptio_loop_run(&fake_loop, PTIO_RUN_NOWAIT), 0);
		rounds++;
	}
	ck_assert_uint_eq(rounds, 4); /* 3 + 3 + 3 + 1 */
	ck_assert_uint_eq(ptio_sem_count(&sem), 1);
}
END_TEST

/* ---- Notify ----------------------------------------------------------------- */

START_TEST(test_notify_permit)
{
	struct ptio_notify n;
	struct st a;

	ptio_notify_init(&n);
	ck_assert_int_eq(ptio_notify_try_wait(&n), PTIO_WOULD_BLOCK);
	ptio_notify_signal(&n);
	ptio_notify_signal(&n); /* merges */
	st_start(&a, NOTIFY_WAIT, &n, 0);
	run_for(1);
	ck_assert(a.finished);
	ck_assert_int_eq(a.result, 0);
	ck_assert_int_eq(ptio_notify_try_wait(&n), PTIO_WOULD_BLOCK);
}
END_TEST

START_TEST(test_notify_wakes_one_then_all)
{
	struct ptio_notify n;
	struct st t[3];
	int i;

	ptio_notify_init(&n);
	for (i = 0; i < 3; i++)
		st_start(&t[i], NOTIFY_WAIT, &n, i);
	run_for(1);
	ptio_notify_signal(&n);
	run_for(1);
	ck_assert(t[0].finished && !t[1].finished && !t[2].finished);
	ck_assert_uint_eq(ptio_notify_broadcast(&n), 2);
	run_for(1);
	ck_assert(t[1].finished && t[2].finished);
	/* A broadcast stores no permit. */
	ck_assert_uint_eq(ptio_notify_broadcast(&n), 0);
	ck_assert_int_eq(ptio_notify_try_wait(&n), PTIO_WOULD_BLOCK);
}
END_TEST

START_TEST(test_notify_deadline)
{
	struct ptio_notify n;
	struct st a;

	ptio_notify_init(&n);
	st_start(&a, NOTIFY_WAIT, &n, 0);
	a.timeout = 3;
	fake_loop_run(100);
	ck_assert_int_eq(a.result, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(a.regs, 0);
	/* The signal after the timeout is kept for the next wait. */
	ptio_notify_signal(&n);
	ck_assert_int_eq(ptio_notify_try_wait(&n), 0);
}
END_TEST

/* ---- Channel ------------------------------------------------------------------ */

START_TEST(test_chan_try)
{
	struct ptio_chan ch;
	int buf[3], v, i;

	ck_assert_int_eq(ptio_chan_init(&ch, buf, sizeof(int), 0), PTIO_EINVAL);
	ck_assert_int_eq(ptio_chan_init(&ch, buf, 0, 3), PTIO_EINVAL);
	ck_assert_int_eq(ptio_chan_init(&ch, NULL, 4, 3), PTIO_EINVAL);
	ck_assert_int_eq(ptio_chan_init(&ch, buf, sizeof(int), 3), 0);
	ck_assert_int_eq(ptio_chan_try_recv(&ch, &v), PTIO_WOULD_BLOCK);
	/* Two or three items in the ring, wrapping it several times. */
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(ptio_chan_try_send(&ch, &i), 0);
		if (i >= 2) {
			ck_assert_int_eq(ptio_chan_try_recv(&ch, &v), 0);
			ck_assert_int_eq(v, i - 2);
		}
	}
	i = 10;
	ck_assert_int_eq(ptio_chan_try_send(&ch, &i), 0);
	ck_assert_uint_eq(ptio_chan_len(&ch), 3);
	v = 99;
	ck_assert_int_eq(ptio_chan_try_send(&ch, &v), PTIO_WOULD_BLOCK);
	for (i = 8; i <= 10; i++) {
		ck_assert_int_eq(ptio_chan_try_recv(&ch, &v), 0);
		ck_assert_int_eq(v, i);
	}
	ck_assert_int_eq(ptio_chan_try_recv(&ch, &v), PTIO_WOULD_BLOCK);
	ptio_chan_close(&ch);
	ck_assert_int_eq(ptio_chan_try_recv(&ch, &v), PTIO_ECLOSED);
	ck_assert_int_eq(ptio_chan_try_send(&ch, &v), PTIO_ECLOSED);
}
END_TEST

/* Producers blocked on a full channel of one item all get to send, in
 * the order they blocked; each one's items keep their order. */
struct producer {
	struct ptio_timed_task tt;
	struct ptio_waiter w;
	struct ptio_chan *ch;
	int id, seq, n;
	int item;
};

static ptio_ssize producer_fn(struct ptio_task *task)
{
	struct producer *p = PTIO_CONTAINER_OF(task, struct producer, tt.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (p->seq = 0; p->seq < p->n; p->seq++) {
		p->item = p->id * 100 + p->seq;
		PTIO_AWAIT(&task->pt, r, ptio_chan_send(&p->w, p->ch, &p->item));
		PTIO_TRY(&task->pt, r);
	}
	PTIO_END(&task->pt);
}

START_TEST(test_chan_blocked_producers)
{
	struct ptio_chan ch;
	struct producer p[3];
	int buf[1], v, i, got[9], last[3] = { -1, -1, -1 };

	ptio_chan_init(&ch, buf, sizeof(int), 1);
	for (i = 0; i < 3; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].ch = &ch;
		p[i].id = i;
		p[i].n = 3;
		ptio_waiter_init(&p[i].w, &p[i].tt.task);
		ptio_timed_task_start(&fake_loop, &p[i].tt, producer_fn);
	}
	for (i = 0; i < 9; i++) {
		run_for(1);
		ck_assert_int_eq(ptio_chan_try_recv(&ch, &v), 0);
		got[i] = v;
		ck_assert_int_gt(v % 100, last[v / 100]);
		last[v / 100] = v % 100;
	}
	/* p0 filled the ring and queued its second item; p1 and p2 queued
	 * behind it, and each sender queues again at the end after its item
	 * went: round-robin. */
	ck_assert_int_eq(got[0], 0);
	ck_assert_int_eq(got[1], 1);
	ck_assert_int_eq(got[2], 100);
	ck_assert_int_eq(got[3], 200);
	ck_assert_int_eq(got[4], 2);
	ck_assert_int_eq(got[5], 101);
	run_for(1);
	ck_assert_int_eq(ptio_chan_try_recv(&ch, &v), PTIO_WOULD_BLOCK);
	ck_assert(queue_empty(&ch.senders));
	ck_assert_uint_eq(ptio_loop_alive(&fake_loop), 0);
}
END_TEST

/* A receiver blocked on an empty channel gets the item handed straight
 * into its buffer. */
START_TEST(test_chan_recv_handover)
{
	struct ptio_chan ch;
	struct st r1, r2;
	int buf[2], v = 41;

	ptio_chan_init(&ch, buf, sizeof(int), 2);
	st_start(&r1, CHAN_RECV, &ch, -1);
	st_start(&r2, CHAN_RECV, &ch, -1);
	run_for(1);
	ck_assert_int_eq(ptio_chan_try_send(&ch, &v), 0);
	ck_assert_int_eq(r1.item, 41); /* before r1 even ran */
	ck_assert_uint_eq(ptio_chan_len(&ch), 0);
	v = 42;
	ck_assert_int_eq(ptio_chan_try_send(&ch, &v), 0);
	run_for(1);
	ck_assert(r1.finished && r2.finished);
	ck_assert_int_eq(r2.item, 42);
}
END_TEST

/* Close: a blocked sender fails (its item unsent), a receiver drains the
 * ring and then fails, and nothing stays queued. */
START_TEST(test_chan_close)
{
	struct ptio_chan ch;
	struct st s, r;
	int buf[1], v = 7;

	ptio_chan_init(&ch, buf, sizeof(int), 1);
	ck_assert_int_eq(ptio_chan_try_send(&ch, &v), 0);
	st_start(&s, CHAN_SEND, &ch, 8);
	run_for(1);
	ck_assert(ptio_waiter_queued(&s.w));
	ptio_chan_close(&ch);
	run_for(1);
	ck_assert_int_eq(s.result, PTIO_ECLOSED);
	ck_assert_uint_eq(s.regs, 0);
	st_start(&r, CHAN_RECV, &ch, -1);
	run_for(1);
	ck_assert_int_eq(r.result, 0);
	ck_assert_int_eq(r.item, 7);
	st_start(&r, CHAN_RECV, &ch, -1);
	run_for(1);
	ck_assert_int_eq(r.result, PTIO_ECLOSED);
}
END_TEST

START_TEST(test_chan_close_wakes_receivers)
{
	struct ptio_chan ch;
	struct st r;
	int buf[1];

	ptio_chan_init(&ch, buf, sizeof(int), 1);
	st_start(&r, CHAN_RECV, &ch, -1);
	run_for(1);
	ptio_chan_close(&ch);
	run_for(1);
	ck_assert_int_eq(r.result, PTIO_ECLOSED);
	ck_assert(queue_empty(&ch.receivers));
}
END_TEST

START_TEST(test_chan_deadlines)
{
	struct ptio_chan ch;
	struct st s, r;
	int buf[1], v = 1;

	ptio_chan_init(&ch, buf, sizeof(int), 1);
	st_start(&r, CHAN_RECV, &ch, -1);
	r.timeout = 5;
	fake_loop_run(100);
	ck_assert_int_eq(r.result, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(r.regs, 0);
	ck_assert_int_eq(ptio_chan_try_send(&ch, &v), 0);
	st_start(&s, CHAN_SEND, &ch, 2);
	s.timeout = 5;
	fake_loop_run(100);
	ck_assert_int_eq(s.result, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(s.regs, 0);
	ck_assert(queue_empty(&ch.senders));
	ck_assert_int_eq(ptio_chan_try_recv(&ch, &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(ptio_chan_try_recv(&ch, &v), PTIO_WOULD_BLOCK);
}
END_TEST

/* ---- The port bindings, on the fake CPU ---------------------------------- */

static struct ptio_port_backend pb;
static struct ptio_loop port_loop;

static void port_setup(void)
{
	fake_port_reset(1000, 0);
	ptio_loop_init(&port_loop, ptio_port_backend_init(&pb, &fake_port_ops));
}

static void port_teardown(void)
{
	ck_assert_uint_eq(ptio_loop_alive(&port_loop), 0);
	ck_assert_uint_eq(ptio_loop_registrations(&port_loop), 0);
	ck_assert_ptr_null(pb.pending);
	ck_assert(!fake_port_masked());
	ck_assert_uint_eq(fake_port_stats().hangs, 0);
}

static void port_run_all(unsigned max)
{
	while (ptio_loop_alive(&port_loop) > 0) {
		ck_assert_int_ge(ptio_loop_run(&port_loop, PTIO_RUN_ONCE), 0);
		ck_assert_msg(fake_port_stats().hangs == 0, "CPU hang");
		ck_assert_msg(max-- > 0, "tasks still alive");
	}
}

/* A task on the port loop receiving N items into GOT. */
struct consumer {
	struct ptio_task task;
	struct ptio_waiter w;
	struct ptio_chan *ch;
	int item;
	int *got;
	size_t n, want;
	ptio_ssize result;
};

static ptio_ssize consumer_fn(struct ptio_task *task)
{
	struct consumer *c = PTIO_CONTAINER_OF(task, struct consumer, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	while (c->n < c->want) {
		PTIO_AWAIT(&task->pt, r, ptio_chan_recv(&c->w, c->ch, &c->item));
		if (r < 0)
			break;
		c->got[c->n++] = c->item;
	}
	c->result = r;
	PTIO_END(&task->pt);
}

static void consumer_start(struct consumer *c, struct ptio_chan *ch,
			   int *got, size_t want)
{
	memset(c, 0, sizeof(*c));
	c->ch = ch;
	c->got = got;
	c->want = want;
	ptio_waiter_init(&c->w, &c->task);
	ptio_task_start(&port_loop, &c->task, consumer_fn);
}

static struct ptio_port_chan pc;
static int isr_next;

static void isr_send(void *arg)
{
	(void)arg;
	if (ptio_port_chan_try_send(&pc, &isr_next) == 0)
		isr_next++;
}

/* A handler's send wakes the receiver sleeping in WFI. */
START_TEST(test_port_chan_isr_send)
{
	struct ptio_chan ch;
	struct consumer c;
	int buf[4], got[3];

	ptio_chan_init(&ch, buf, sizeof(int), 4);
	ptio_port_chan_init(&pc, &pb, &ch);
	ck_assert_ptr_nonnull(ch.irq_save);
	consumer_start(&c, &ch, got, 3);
	isr_next = 10;
	fake_port_set_isr(isr_send, NULL);
	ck_assert_int_eq(ptio_loop_run(&port_loop, PTIO_RUN_NOWAIT), 1);
	ck_assert(!queue_empty(&ch.receivers));
	fake_port_raise();           /* runs now: interrupts are unmasked */
	fake_port_raise();
	ck_assert_uint_eq(ptio_chan_len(&ch), 2); /* not handed over yet */
	ck_assert_int_eq(ptio_loop_run(&port_loop, PTIO_RUN_ONCE), 1);
	ck_assert_int_eq(ptio_loop_run(&port_loop, PTIO_RUN_NOWAIT), 1);
	ck_assert_uint_eq(c.n, 2);
	fake_port_raise();
	port_run_all(10);
	ck_assert_int_eq(got[0], 10);
	ck_assert_int_eq(got[1], 11);
	ck_assert_int_eq(got[2], 12);
	/* Closed: a handler's send fails and changes nothing. */
	ptio_port_chan_close(&pc);
	ck_assert_int_eq(ptio_port_chan_try_send(&pc, &isr_next),
			 PTIO_ECLOSED);
	ck_assert_uint_eq(ptio_chan_len(&ch), 0);
}
END_TEST

static struct ptio_port_notify pn;

static void isr_signal(void *arg)
{
	(void)arg;
	ptio_port_notify_signal(&pn);
}

struct nwaiter {
	struct ptio_task task;
	struct ptio_waiter w;
	struct ptio_notify *n;
	unsigned got, want;
};

static ptio_ssize nwaiter_fn(struct ptio_task *task)
{
	struct nwaiter *nw = PTIO_CONTAINER_OF(task, struct nwaiter, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (nw->got = 0; nw->got < nw->want; nw->got++) {
		PTIO_AWAIT(&task->pt, r, ptio_notify_wait(&nw->w, nw->n));
		PTIO_TRY(&task->pt, r);
	}
	PTIO_END(&task->pt);
}

/* A handler's signals wake the waiter; signals before a delivery merge. */
START_TEST(test_port_notify)
{
	struct ptio_notify n;
	struct nwaiter nw;

	ptio_notify_init(&n);
	ptio_port_notify_init(&pn, &pb, &n);
	fake_port_set_isr(isr_signal, NULL);
	memset(&nw, 0, sizeof(nw));
	nw.n = &n;
	nw.want = 2;
	ptio_waiter_init(&nw.w, &nw.task);
	ptio_task_start(&port_loop, &nw.task, nwaiter_fn);
	ptio_loop_run(&port_loop, PTIO_RUN_NOWAIT);
	fake_port_raise();
	fake_port_raise();
	ptio_loop_run(&port_loop, PTIO_RUN_ONCE);
	ptio_loop_run(&port_loop, PTIO_RUN_NOWAIT);
	ck_assert_uint_eq(nw.got, 1);
	ck_assert_int_eq(ptio_notify_try_wait(&n), PTIO_WOULD_BLOCK);
	fake_port_raise();
	port_run_all(10);
	ck_assert_uint_eq(nw.got, 2);
	ptio_port_notify_close(&pn);
	fake_port_raise(); /* ignored once closed */
	ck_assert_int_eq(ptio_notify_try_wait(&n), PTIO_WOULD_BLOCK);
}
END_TEST

/*
 * A handler on another thread sends 0, 1, 2, ... as fast as it is raised
 * while two tasks send their own sequences into the same channel of 4
 * and one task receives.  The handler's items that find the ring full
 * are dropped (counted); every other item arrives exactly once, and each
 * sender's in order.
 */
#define STRESS_ISR 20000
#define STRESS_TASK 1000

static atomic_int stress_sent, stress_dropped;
static atomic_bool stress_stop;

static void isr_stress(void *arg)
{
	int v = atomic_load(&stress_sent) | 0x40000000;

	(void)arg;
	if (ptio_port_chan_try_send(&pc, &v) != 0)
		atomic_fetch_add(&stress_dropped, 1);
	atomic_fetch_add(&stress_sent, 1);
}

static void *stress_device(void *arg)
{
	(void)arg;
	while (atomic_load(&stress_sent) < STRESS_ISR &&
	       !atomic_load(&stress_stop)) {
		fake_port_raise();
		sched_yield();
	}
	return NULL;
}

struct psender {
	struct ptio_task task;
	struct ptio_waiter w;
	struct ptio_chan *ch;
	int id, seq, item;
};

static ptio_ssize psender_fn(struct ptio_task *task)
{
	struct psender *p = PTIO_CONTAINER_OF(task, struct psender, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (p->seq = 0; p->seq < STRESS_TASK; p->seq++) {
		p->item = (p->id << 24) | p->seq;
		PTIO_AWAIT(&task->pt, r, ptio_chan_send(&p->w, p->ch, &p->item));
		PTIO_TRY(&task->pt, r);
	}
	PTIO_END(&task->pt);
}

/* The consumer of the stress test: checks as it goes. */
struct sconsumer {
	struct ptio_task task;
	struct ptio_waiter w;
	struct ptio_chan *ch;
	int item;
	int next[3];   /* the next sequence number from the handler, p1, p2 */
	long isr_got, bad;
};

static void sconsumer_check(struct sconsumer *c, int v)
{
	int from = (v & 0x40000000) ? 0 : (v >> 24);
	int seq = v & 0xFFFFFF;

	if (from == 0) {
		/* Dropped items leave gaps, but never go back. */
		if (seq < c->next[0])
			c->bad++;
		c->next[0] = seq + 1;
		c->isr_got++;
	} else if (seq != c->next[from]++) {
		c->bad++;
	}
}

static ptio_ssize sconsumer_fn(struct ptio_task *task)
{
	struct sconsumer *c = PTIO_CONTAINER_OF(task, struct sconsumer, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		PTIO_AWAIT(&task->pt, r, ptio_chan_recv(&c->w, c->ch, &c->item));
		if (r < 0)
			break;
		sconsumer_check(c, c->item);
	}
	PTIO_END(&task->pt);
}

START_TEST(test_port_chan_stress)
{
	struct ptio_chan ch;
	struct psender p[2];
	struct sconsumer c;
	int buf[4], i;
	pthread_t th;
	ptio_ssize r;

	fake_port_reset(1000, 2000);
	ptio_chan_init(&ch, buf, sizeof(int), 4);
	ptio_port_chan_init(&pc, &pb, &ch);
	fake_port_set_isr(isr_stress, NULL);
	memset(&c, 0, sizeof(c));
	c.ch = &ch;
	ptio_waiter_init(&c.w, &c.task);
	ptio_task_start(&port_loop, &c.task, sconsumer_fn);
	for (i = 0; i < 2; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].ch = &ch;
		p[i].id = i + 1;
		ptio_waiter_init(&p[i].w, &p[i].task);
		ptio_task_start(&port_loop, &p[i].task, psender_fn);
	}
	ck_assert_int_eq(pthread_create(&th, NULL, stress_device, NULL), 0);
	/* Until the senders are done and the handler has stopped. */
	while (ptio_loop_alive(&port_loop) > 1 ||
	       atomic_load(&stress_sent) < STRESS_ISR) {
		r = ptio_loop_run(&port_loop, PTIO_RUN_ONCE);
		ck_assert_int_ge(r, 0);
	}
	atomic_store(&stress_stop, true);
	pthread_join(th, NULL);
	ptio_loop_run(&port_loop, PTIO_RUN_NOWAIT);
	/* Drain, then close: the consumer ends. */
	ptio_port_chan_close(&pc);
	ptio_chan_close(&ch);
	port_run_all(10);
	ck_assert_int_eq(c.bad, 0);
	ck_assert_int_eq(c.next[1], STRESS_TASK);
	ck_assert_int_eq(c.next[2], STRESS_TASK);
	ck_assert_int_eq(c.isr_got + atomic_load(&stress_dropped),
			 atomic_load(&stress_sent));
	ck_assert_int_gt(c.isr_got, 0);
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("sync");
	TCase *tc;

	tc = tcase_create("semaphore");
	tcase_add_checked_fixture(tc, fake_loop_setup, fake_loop_teardown);
	tcase_add_test(tc, test_sem_try);
	tcase_add_test(tc, test_sem_fifo);
	tcase_add_test(tc, test_sem_deadline);
	tcase_add_test(tc, test_sem_cancel);
	tcase_add_test(tc, test_sem_spurious_wake);
	tcase_add_test(tc, test_sem_spends);
	suite_add_tcase(s, tc);

	tc = tcase_create("notify");
	tcase_add_checked_fixture(tc, fake_loop_setup, fake_loop_teardown);
	tcase_add_test(tc, test_notify_permit);
	tcase_add_test(tc, test_notify_wakes_one_then_all);
	tcase_add_test(tc, test_notify_deadline);
	suite_add_tcase(s, tc);

	tc = tcase_create("channel");
	tcase_add_checked_fixture(tc, fake_loop_setup, fake_loop_teardown);
	tcase_add_test(tc, test_chan_try);
	tcase_add_test(tc, test_chan_blocked_producers);
	tcase_add_test(tc, test_chan_recv_handover);
	tcase_add_test(tc, test_chan_close);
	tcase_add_test(tc, test_chan_close_wakes_receivers);
	tcase_add_test(tc, test_chan_deadlines);
	suite_add_tcase(s, tc);

	tc = tcase_create("port");
	tcase_add_checked_fixture(tc, port_setup, port_teardown);
	tcase_add_test(tc, test_port_chan_isr_send);
	tcase_add_test(tc, test_port_notify);
	tcase_add_test(tc, test_port_chan_stress);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
