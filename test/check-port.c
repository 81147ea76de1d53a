/*
 * test/check-port.c - the bare-metal shim (ptio/port.h) on a fake CPU.
 *
 * The port backend runs here over test/fake/fake-port.c, whose interrupt
 * mask, WFI and clock behave like a microcontroller's.  Divided into:
 *
 *   the shim         delivery from handlers, merging, close, registrations;
 *   the lost wakeup  an interrupt raised between "anything pending?" and
 *                    the sleep (through the backend's test seam) must not
 *                    be lost; the same check run on a deliberately naive
 *                    wait (check, then sleep, unmasked) must catch it;
 *   a million events raised from another thread, each delivered exactly
 *                    once and in order;
 *   the tick wrap    sleeps and deadlines that cross 2^32 ticks;
 *   the UART stream  src/port/uart.c (the rings every board's UART driver
 *                    uses) over a fake one-byte-register UART: flow
 *                    control on a full RX ring, a full TX ring, flush,
 *                    and received bytes sent into a channel.
 *
 * Tests use their own fixture (port_setup / port_teardown) rather than the
 * shared poll-backend one: it builds the loop over the port backend and
 * makes the same end-of-test checks (no task left, no registration left,
 * which for this backend includes every port source still open).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <check.h>
#include "test/helpers.h"
#include "test/fake/fake-port.h"
#include "ptio/uart.h"

static struct ptio_port_backend pb;
static struct ptio_loop loop;

#define T0 1000u

static void port_setup(void)
{
	fake_port_reset(T0, 0);
	ptio_loop_init(&loop, ptio_port_backend_init(&pb, &fake_port_ops));
}

static void port_teardown(void)
{
	ck_assert_uint_eq(ptio_loop_alive(&loop), 0);
	ck_assert_uint_eq(ptio_loop_registrations(&loop), 0);
	ck_assert_ptr_null(pb.pending);
	ck_assert(!fake_port_masked());
}

/* Run the loop one iteration at a time until no task is left; fail after
 * MAX iterations or when the fake CPU reports a hang. */
static void run_all(unsigned max)
{
	while (ptio_loop_alive(&loop) > 0) {
		ptio_ssize r = ptio_loop_run(&loop, PTIO_RUN_ONCE);

		ck_assert_msg(r >= 0, "loop error %s", ptio_strerror(r));
		ck_assert_msg(fake_port_stats().hangs == 0,
			      "the CPU slept with no interrupt to wake it");
		ck_assert_msg(max-- > 0, "tasks still alive");
	}
}

/* The handler most tests install: report READABLE on the source ARG. */
static void isr_readable(void *arg)
{
	ptio_port_source_ready(arg, PTIO_READABLE);
}

/* ---- A task awaiting one source ------------------------------------------ */

struct waiter {
	struct ptio_timed_task tt;
	struct ptio_op op;
	struct ptio_port_source *ps;
	uint32_t timeout;        /* a task deadline this far ahead; 0: none */
	bool finished;
	ptio_ssize result;
	ptio_tick at;            /* the fake clock when the await returned */
};

static ptio_ssize waiter_run(struct ptio_task *task)
{
	struct waiter *w = PTIO_CONTAINER_OF(task, struct waiter, tt.task);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	if (w->timeout != 0)
		ptio_task_set_timeout(&w->tt, w->timeout);
	PTIO_AWAIT(&task->pt, r,
		   ptio_ready(&w->op, ptio_port_source_as_ready(w->ps),
			      PTIO_READ));
	w->result = r;
	w->at = fake_port_now();
	w->finished = true;
	PTIO_END(&task->pt);
}

static void waiter_start(struct waiter *w, struct ptio_port_source *ps)
{
	w->ps = ps;
	ptio_op_init(&w->op, &w->tt.task);
	ptio_timed_task_start(&loop, &w->tt, waiter_run);
}

/* ---- The shim ------------------------------------------------------------ */

START_TEST(test_isr_wakes_waiter)
{
	static struct ptio_port_source ps;
	static struct waiter w;

	ptio_port_source_init(&ps, &pb, 0);
	fake_port_set_isr(isr_readable, &ps);
	waiter_start(&w, &ps);
	ck_assert_int_ge(ptio_loop_run(&loop, PTIO_RUN_NOWAIT), 0);
	ck_assert(!w.finished);
	fake_port_raise(); /* unmasked: the handler runs now */
	ck_assert_ptr_eq(pb.pending, &ps);
	run_all(4);
	ck_assert_int_eq(w.result, PTIO_READABLE);
	ck_assert_uint_eq(w.at, T0);
	ck_assert_uint_eq(fake_port_stats().unmasked_idles, 0);
	ptio_port_source_close(&ps);
}
END_TEST

/* A wait with something pending or a zero timeout never sleeps. */
START_TEST(test_wait_skips_idle)
{
	static struct ptio_port_source ps;

	ptio_port_source_init(&ps, &pb, 0);
	ptio_port_source_ready(&ps, PTIO_READABLE);
	ck_assert_int_eq(pb.base.vt->wait(&pb.base, PTIO_WAIT_FOREVER), 0);
	ck_assert_uint_eq(fake_port_stats().idles, 0);
	ck_assert_uint_eq(ps.src.ready, PTIO_READABLE);
	ck_assert_int_eq(pb.base.vt->wait(&pb.base, 0), 0);
	ck_assert_uint_eq(fake_port_stats().idles, 0);
	ck_assert_int_eq(pb.base.vt->wait(&pb.base, 5), 0);
	ck_assert_uint_eq(fake_port_stats().idles, 1);
	ck_assert_uint_eq(fake_port_now(), T0 + 5);
	ptio_port_source_close(&ps);
}
END_TEST

/* Reports before a delivery merge into one; reports of 0 bits and on a
 * closed source are ignored. */
START_TEST(test_reports_merge)
{
	static struct ptio_port_source a, b;

	ptio_port_source_init(&a, &pb, 0);
	ptio_port_source_init(&b, &pb, 0);
	ptio_port_source_ready(&a, PTIO_READABLE);
	ptio_port_source_ready(&b, PTIO_HUP);
	ptio_port_source_ready(&a, PTIO_WRITABLE);
	ptio_port_source_ready(&a, 0);
	ck_assert_uint_eq(a.pending, PTIO_READABLE | PTIO_WRITABLE);
	ck_assert_uint_eq(ptio_port_backend_deliver(&pb), 2);
	ck_assert_uint_eq(a.src.ready, PTIO_READABLE | PTIO_WRITABLE);
	ck_assert_uint_eq(b.src.ready, PTIO_HUP);
	ck_assert_uint_eq(a.pending, 0);
	ck_assert_uint_eq(ptio_port_backend_deliver(&pb), 0);
	ptio_port_source_close(&b);
	ptio_port_source_ready(&b, PTIO_READABLE);
	ck_assert_ptr_null(pb.pending);
	ptio_port_source_ready(&b, 0);
	ptio_port_source_close(&a);
}
END_TEST

/* Closing a source with undelivered bits unlinks it (from the middle of
 * the pending list too) and wakes its waiter with PTIO_ECLOSED. */
START_TEST(test_close_unlinks)
{
	static struct ptio_port_source a, b, c;
	static struct waiter w;

	ptio_port_source_init(&a, &pb, 0);
	ptio_port_source_init(&b, &pb, 0);
	ptio_port_source_init(&c, &pb, 0);
	waiter_start(&w, &b);
	ck_assert_int_ge(ptio_loop_run(&loop, PTIO_RUN_NOWAIT), 0);
	ck_assert_uint_eq(ptio_loop_registrations(&loop), 3 + 1);
	ptio_port_source_ready(&a, PTIO_READABLE);
	ptio_port_source_ready(&b, PTIO_WRITABLE);
	ptio_port_source_ready(&c, PTIO_READABLE);
	ptio_port_source_close(&b);
	ck_assert_ptr_eq(pb.pending, &c);
	ck_assert_ptr_eq(c.next, &a);
	ck_assert_ptr_null(a.next);
	ptio_port_source_close(&b); /* idempotent */
	run_all(4);
	ck_assert_int_eq(w.result, PTIO_ECLOSED);
	ck_assert_uint_eq(ptio_port_backend_deliver(&pb), 2);
	ck_assert_uint_eq(a.src.ready, PTIO_READABLE);
	ck_assert_uint_eq(b.src.ready, 0);
	ptio_port_source_close(&a);
	ptio_port_source_close(&c);
}
END_TEST

/* ---- The lost wakeup ----------------------------------------------------- */

/* The classic bug, kept here to prove the test below can fail: look for
 * pending work with interrupts enabled, then sleep.  An interrupt that
 * comes in between runs its handler before the sleep, and the sleep then
 * waits for the next interrupt.  (Delivery reuses the real wait, with a
 * zero timeout.) */
static ptio_ssize naive_wait(struct ptio_backend *be, uint32_t timeout)
{
	struct ptio_port_backend *p =
		PTIO_CONTAINER_OF(be, struct ptio_port_backend, base);
	ptio_port_irq_state s;
	bool sleep;

	s = p->ops->irq_save();
	sleep = p->pending == NULL && timeout != 0;
	p->ops->irq_restore(s);
	if (sleep) {
		if (p->before_idle != NULL)
			p->before_idle(p);
		p->ops->idle(p->ops->now(), timeout);
	}
	return ptio_port_backend_vt.wait(be, 0);
}

static bool raised;

/* The test seam: raise the interrupt between the check and the sleep,
 * the first time the backend gets there. */
static void raise_before_idle(struct ptio_port_backend *p)
{
	(void)p;
	if (!raised) {
		raised = true;
		fake_port_raise();
	}
}

/*
 * Wait on a source whose interrupt arrives exactly between the pending
 * check and the sleep; TIMEOUT is the task's deadline (0: none, so a lost
 * wakeup sleeps for ever).  Returns true when the wakeup was lost: the
 * CPU slept with nothing to wake it, or the task woke only at its
 * deadline rather than at once.
 */
static bool wakeup_lost(const struct ptio_backend_vt *vt, uint32_t timeout)
{
	static struct ptio_port_source ps;
	static struct waiter w;
	struct fake_port_stats st;
	unsigned n;

	pb.base.vt = vt;
	pb.before_idle = raise_before_idle;
	raised = false;
	ptio_port_source_init(&ps, &pb, 0);
	fake_port_set_isr(isr_readable, &ps);
	w = (struct waiter){ .timeout = timeout };
	waiter_start(&w, &ps);
	for (n = 0; n < 8 && ptio_loop_alive(&loop) > 0; n++)
		ck_assert_int_ge(ptio_loop_run(&loop, PTIO_RUN_ONCE), 0);
	ck_assert(w.finished);
	ck_assert(raised);
	ptio_port_source_close(&ps);
	pb.base.vt = &ptio_port_backend_vt;
	st = fake_port_stats();
	return st.hangs > 0 || w.at != T0 || w.result != PTIO_READABLE;
}

static struct ptio_backend_vt naive_vt;

static const struct ptio_backend_vt *naive(void)
{
	naive_vt = ptio_port_backend_vt;
	naive_vt.wait = naive_wait;
	return &naive_vt;
}

START_TEST(test_race_no_deadline)
{
	ck_assert(!wakeup_lost(&ptio_port_backend_vt, 0));
	ck_assert_uint_eq(fake_port_stats().timeouts, 0);
	ck_assert_uint_eq(fake_port_stats().unmasked_idles, 0);
}
END_TEST

START_TEST(test_race_with_deadline)
{
	ck_assert(!wakeup_lost(&ptio_port_backend_vt, 500));
	ck_assert_uint_eq(fake_port_stats().timeouts, 0);
}
END_TEST

/* The same checks catch the naive wait: with no deadline the CPU sleeps
 * with nothing to wake it (a hang on hardware); with one, the event is
 * seen only when the deadline ends the sleep. */
START_TEST(test_race_naive_no_deadline)
{
	ck_assert(wakeup_lost(naive(), 0));
	ck_assert_uint_eq(fake_port_stats().hangs, 1);
}
END_TEST

START_TEST(test_race_naive_with_deadline)
{
	ck_assert(wakeup_lost(naive(), 500));
	ck_assert_uint_eq(fake_port_stats().hangs, 0);
	ck_assert_uint_eq(fake_port_stats().timeouts, 1);
	ck_assert_uint_eq(fake_port_now(), T0 + 500);
}
END_TEST

/* ---- A million events from another thread -------------------------------- */

#define RING 64u

/* A device: a FIFO a thread fills with sequence numbers 1, 2, ...,
 * raising the interrupt after each.  A small FIFO makes the device wait
 * for the consumer often, so handlers run at every point of the loop's
 * cycle (hundreds of thousands of times per run), not only while it
 * sleeps. */
struct device {
	uint32_t fifo[RING];
	atomic_uint head;  /* written by the device thread */
	atomic_uint tail;  /* written by the consuming task */
	unsigned total;
};

struct consumer {
	struct ptio_task task;
	struct ptio_port_source ps;
	struct ptio_port_source aux;  /* reported from thread context */
	struct device *dev;
	unsigned next;         /* the sequence number expected next */
	unsigned wrong;        /* numbers out of sequence (lost or twice) */
	unsigned wakes;
	ptio_ssize error;
};

static void *device_main(void *arg)
{
	struct device *d = arg;
	unsigned head = 0;
	unsigned i;

	for (i = 1; i <= d->total; i++) {
		while (head - atomic_load_explicit(&d->tail, memory_order_acquire)
		       == RING)
			sched_yield();
		d->fifo[head % RING] = i;
		atomic_store_explicit(&d->head, ++head, memory_order_release);
		fake_port_raise();
	}
	return NULL;
}

/* Take everything in the FIFO, checking the sequence. */
static void consumer_drain(struct consumer *c)
{
	struct device *d = c->dev;
	unsigned tail = atomic_load_explicit(&d->tail, memory_order_relaxed);
	unsigned head = atomic_load_explicit(&d->head, memory_order_acquire);

	for (; tail != head; tail++) {
		if (d->fifo[tail % RING] != c->next)
			c->wrong++;
		c->next++;
	}
	atomic_store_explicit(&d->tail, tail, memory_order_release);
}

static ptio_ssize consumer_run(struct ptio_task *task)
{
	struct consumer *c = PTIO_CONTAINER_OF(task, struct consumer, task);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	while (c->next <= c->dev->total) {
		PTIO_AWAIT(&task->pt, r,
			   ptio_wait_ready(task,
					   ptio_port_source_as_ready(&c->ps),
					   PTIO_READ));
		if (r < 0) {
			c->error = r;
			break;
		}
		c->wakes++;
		/* Clear, then drain: an event after the drain has a report
		 * pending, which the next wait delivers again. */
		ptio_source_clear(&c->ps.src, PTIO_READABLE);
		consumer_drain(c);
		/* Thread context may report too, while the device (its FIFO
		 * just drained) raises more: the report masks interrupts
		 * against the handler's, on the same pending list. */
		ptio_port_source_ready(&c->aux, PTIO_WRITABLE);
	}
	PTIO_END(&task->pt);
}

/* PTIO_PORT_EVENTS overrides the count (e.g. fewer under valgrind). */
static unsigned event_count(void)
{
	const char *s = getenv("PTIO_PORT_EVENTS");

	return s != NULL && atoi(s) > 0 ? (unsigned)atoi(s) : 1000000u;
}

START_TEST(test_million_events)
{
	static struct device dev;
	static struct consumer c;
	struct fake_port_stats st;
	pthread_t th;

	fake_port_reset(T0, 10000); /* a lost wakeup shows as a hang */
	dev.total = event_count();
	c.dev = &dev;
	c.next = 1;
	ptio_port_source_init(&c.ps, &pb, 0);
	ptio_port_source_init(&c.aux, &pb, 0);
	fake_port_set_isr(isr_readable, &c.ps);
	ptio_task_start(&loop, &c.task, consumer_run);
	ck_assert_int_eq(pthread_create(&th, NULL, device_main, &dev), 0);
	run_all(dev.total + 2);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	st = fake_port_stats();
	ck_assert_int_eq(c.error, 0);
	ck_assert_uint_eq(c.wrong, 0);
	ck_assert_uint_eq(c.next, dev.total + 1);
	ck_assert_uint_eq(st.raises, dev.total);
	ck_assert_uint_le(st.isr_runs, st.raises);
	ck_assert_uint_le(c.wakes, dev.total);
	ck_assert_uint_eq(st.unmasked_idles, 0);
	ptio_port_backend_deliver(&pb);
	ck_assert_uint_eq(c.aux.src.ready, PTIO_WRITABLE);
	ptio_port_source_close(&c.ps);
	ptio_port_source_close(&c.aux);
}
END_TEST

/* ---- The tick wrap ------------------------------------------------------- */

struct sleeper {
	struct ptio_timed_task tt;
	struct ptio_op op;
	uint32_t ticks;     /* sleep this long, or */
	ptio_tick until;    /* until this tick when ticks is 0 */
	ptio_tick woke;
	int order;
};

static int wake_order;

static ptio_ssize sleeper_run(struct ptio_task *task)
{
	struct sleeper *s = PTIO_CONTAINER_OF(task, struct sleeper, tt.task);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	if (s->ticks != 0)
		PTIO_AWAIT(&task->pt, r, ptio_sleep(&s->op, s->ticks));
	else
		PTIO_AWAIT(&task->pt, r, ptio_sleep_until(&s->op, s->until));
	ck_assert_int_eq(r, 0);
	s->woke = fake_port_now();
	s->order = wake_order++;
	PTIO_END(&task->pt);
}

/* Started in one order, they must wake in tick order across the wrap, each
 * at its exact tick, the clock moved only by the idle hook's deadlines. */
START_TEST(test_sleep_across_wrap)
{
	static struct sleeper s[5];
	const ptio_tick start = 0xFFFFFF00u;
	const uint32_t ticks[5] = { 0x180, 0x80, 0, 0x100, 0xFF };
	const int order[5] = { 4, 0, 3, 2, 1 };
	int i;

	fake_port_reset(start, 0);
	ptio_loop_update_time(&loop);
	s[2].until = 0x40; /* start + 0x140, after the wrap */
	for (i = 0; i < 5; i++) {
		s[i].ticks = ticks[i];
		ptio_op_init(&s[i].op, &s[i].tt.task);
		ptio_timed_task_start(&loop, &s[i].tt, sleeper_run);
	}
	run_all(16);
	for (i = 0; i < 5; i++) {
		ptio_tick due = ticks[i] != 0 ? start + ticks[i] : s[i].until;

		ck_assert_uint_eq(s[i].woke, due);
		ck_assert_int_eq(s[i].order, order[i]);
	}
	ck_assert_uint_eq(fake_port_now(), 0x80);
	ck_assert_uint_eq(fake_port_stats().timeouts, 5);
}
END_TEST

/* A task deadline that falls after the wrap ends a wait on a silent
 * source at exactly its tick, and a wake from an interrupt after the wrap
 * is delivered as usual. */
START_TEST(test_deadline_across_wrap)
{
	static struct ptio_port_source quiet, loud;
	static struct waiter a, b;
	const ptio_tick start = 0xFFFFFF80u;

	fake_port_reset(start, 0);
	ptio_loop_update_time(&loop);
	ptio_port_source_init(&quiet, &pb, 0);
	ptio_port_source_init(&loud, &pb, 0);
	a.timeout = 0x200;
	waiter_start(&a, &quiet);
	b.timeout = 0x200;
	waiter_start(&b, &loud);
	ck_assert_int_ge(ptio_loop_run(&loop, PTIO_RUN_NOWAIT), 0);
	fake_port_advance(0x100); /* now 0x80: past the wrap */
	fake_port_set_isr(isr_readable, &loud);
	fake_port_raise();
	run_all(8);
	ck_assert_int_eq(b.result, PTIO_READABLE);
	ck_assert_uint_eq(b.at, 0x80);
	ck_assert_int_eq(a.result, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(a.at, 0x180);
	ptio_port_source_close(&quiet);
	ptio_port_source_close(&loud);
}
END_TEST

/* ---- The UART stream ----------------------------------------------------- */

/* A UART with one-byte receive and transmit registers, as the CMSDK one.
 * Its interrupt comes whenever the CPU is about to sleep (the backend's
 * before_idle seam), as a device's would while the CPU waits: each time
 * the transmitter finishes the byte in flight and the line delivers the
 * next input byte into the receive register. */
struct fake_uart {
	struct ptio_uart u;
	const uint8_t *in;
	size_t in_len, in_pos;
	bool rx_full;             /* the receive register holds rx_reg */
	uint8_t rx_reg;
	bool rx_irq;              /* receive interrupt enabled */
	bool tx_busy;             /* the transmitter holds tx_reg */
	uint8_t tx_reg;
	uint8_t out[1024];
	size_t out_len;
	unsigned stalls, resumes, starts;
};

static struct fake_uart fu;

static void fu_out(uint8_t c)
{
	ck_assert_uint_lt(fu.out_len, sizeof(fu.out));
	fu.out[fu.out_len++] = c;
}

static void fu_receive(void)
{
	if (!fu.rx_full || !fu.rx_irq)
		return;
	if (!ptio_uart_rx_room(&fu.u)) {
		fu.rx_irq = false;
		ptio_uart_rx_stall(&fu.u);
		fu.stalls++;
		return;
	}
	ptio_uart_rx_put(&fu.u, fu.rx_reg);
	fu.rx_full = false;
}

static void fu_send_next(void)
{
	int c = ptio_uart_tx_take(&fu.u);

	if (c >= 0) {
		fu.tx_reg = (uint8_t)c;
		fu.tx_busy = true;
	}
}

static void fu_isr(void *arg)
{
	(void)arg;
	if (fu.tx_busy) {
		fu_out(fu.tx_reg);
		fu.tx_busy = false;
		fu_send_next();
	}
	if (!fu.rx_full && fu.in_pos < fu.in_len) {
		fu.rx_reg = fu.in[fu.in_pos++];
		fu.rx_full = true;
	}
	fu_receive();
}

static void fu_tx_start(struct ptio_uart *u)
{
	ck_assert_ptr_eq(u, &fu.u);
	ck_assert(fake_port_masked());
	ck_assert(!fu.tx_busy);
	fu.starts++;
	fu_send_next();
	ck_assert(fu.tx_busy);
}

static void fu_rx_resume(struct ptio_uart *u)
{
	(void)u;
	ck_assert(fake_port_masked());
	fu.resumes++;
	fu.rx_irq = true;
	fu_receive();
}

static void fu_putc_polled(struct ptio_uart *u, uint8_t c)
{
	(void)u;
	if (fu.tx_busy) {
		fu_out(fu.tx_reg);
		fu.tx_busy = false;
	}
	fu_out(c);
}

static const struct ptio_uart_hw fu_hw = {
	.tx_start = fu_tx_start,
	.rx_resume = fu_rx_resume,
	.putc_polled = fu_putc_polled,
};

static void fu_interrupt(struct ptio_port_backend *p)
{
	(void)p;
	fake_port_raise();
}

static void fu_setup(const uint8_t *in, size_t len)
{
	/* Start from nothing: with CK_FORK=no (valgrind) the tests share
	 * one process, and counts must not carry over. */
	memset(&fu, 0, sizeof(fu));
	ptio_uart_init(&fu.u, &pb, &fu_hw);
	pb.before_idle = fu_interrupt;
	fu.in = in;
	fu.in_len = len;
	fu.rx_irq = true;
	fake_port_set_isr(fu_isr, NULL);
}

/* Echo LEN bytes: wait 100 ticks first (so the RX ring fills and the
 * driver stalls), read them all, write them all at once (more than the
 * TX ring holds), then flush. */
struct echo_task {
	struct ptio_timed_task tt;
	struct ptio_op op;
	uint8_t *buf;
	size_t len;
};

static ptio_ssize echo_run(struct ptio_task *task)
{
	struct echo_task *e =
		PTIO_CONTAINER_OF(task, struct echo_task, tt.task);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	PTIO_AWAIT(&task->pt, r, ptio_sleep(&e->op, 100));
	PTIO_AWAIT(&task->pt, r, ptio_read_exact(&e->op,
						 ptio_uart_reader(&fu.u),
						 e->buf, e->len));
	ck_assert_int_eq(r, (ptio_ssize)e->len);
	PTIO_AWAIT(&task->pt, r, ptio_write_all(&e->op,
					       ptio_uart_writer(&fu.u),
					       e->buf, e->len));
	ck_assert_int_eq(r, (ptio_ssize)e->len);
	PTIO_AWAIT(&task->pt, r, ptio_flush(&e->op, ptio_uart_writer(&fu.u)));
	ck_assert_int_eq(r, 0);
	ck_assert(!fu.tx_busy);
	PTIO_END(&task->pt);
}

/* Every byte goes through both rings, in order, with the RX ring stalled
 * and resumed and the TX ring full on the way; the flush ends only when
 * the transmitter is idle. */
START_TEST(test_uart_echo)
{
	static uint8_t in[600], got[600];
	static struct echo_task e;
	size_t i;
	unsigned n = 0;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + i / 256);
	fu_setup(in, sizeof(in));
	e.buf = got;
	e.len = sizeof(got);
	ptio_op_init(&e.op, &e.tt.task);
	ptio_timed_task_start(&loop, &e.tt, echo_run);
	while (ptio_loop_alive(&loop) > 0) {
		fake_port_advance(1);
		ck_assert_int_ge(ptio_loop_run(&loop, PTIO_RUN_ONCE), 0);
		ck_assert_uint_lt(n++, 10000);
	}
	ck_assert_uint_eq(fu.out_len, sizeof(in));
	ck_assert_mem_eq(fu.out, in, sizeof(in));
	ck_assert_uint_ge(fu.stalls, 1);
	ck_assert_uint_eq(fu.resumes, fu.stalls);
	ck_assert_uint_ge(fu.starts, 1);
	ck_assert_uint_eq(fake_port_stats().hangs, 0);
	ptio_port_source_close(&fu.u.ps);
}
END_TEST

/* Non-blocking edges: reads of nothing and writes into a full ring return
 * PTIO_WOULD_BLOCK and clear the readiness they lack; drain sends what is
 * queued by polling. */
/* Received bytes bound to a channel of 4 (ptio_uart_rx_to_chan): the
 * bytes the ring took before the binding come first, the driver stalls
 * while the channel is full and resumes when the task makes room, and
 * every byte arrives once, in order. */
struct chan_reader {
	struct ptio_timed_task tt;
	struct ptio_waiter w;
	struct ptio_op op;
	struct ptio_chan *ch;
	uint8_t c;
	uint8_t *got;
	size_t n, len;
};

static ptio_ssize chan_reader_run(struct ptio_task *task)
{
	struct chan_reader *cr =
		PTIO_CONTAINER_OF(task, struct chan_reader, tt.task);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	PTIO_AWAIT(&task->pt, r, ptio_sleep(&cr->op, 100));
	while (cr->n < cr->len) {
		PTIO_AWAIT(&task->pt, r, ptio_chan_recv(&cr->w, cr->ch, &cr->c));
		ck_assert_int_eq(r, 0);
		ptio_uart_rx_resume(&fu.u);
		cr->got[cr->n++] = cr->c;
	}
	PTIO_END(&task->pt);
}

START_TEST(test_uart_rx_chan)
{
	static uint8_t in[300], got[300], ring[4];
	static struct chan_reader cr;
	static struct ptio_chan ch;
	static struct ptio_port_chan pc;
	size_t i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + 3);
	fu_setup(in, sizeof(in));
	for (i = 0; i < 6; i++)
		fake_port_raise(); /* into the ring: nothing is bound yet */
	ptio_chan_init(&ch, ring, 1, sizeof(ring));
	ptio_port_chan_init(&pc, &pb, &ch);
	ptio_uart_rx_to_chan(&fu.u, &pc);
	ck_assert_uint_eq(ptio_chan_len(&ch), 4);
	memset(&cr, 0, sizeof(cr));
	cr.ch = &ch;
	cr.got = got;
	cr.len = sizeof(in);
	ptio_waiter_init(&cr.w, &cr.tt.task);
	ptio_op_init(&cr.op, &cr.tt.task);
	ptio_timed_task_start(&loop, &cr.tt, chan_reader_run);
	for (i = 0; ptio_loop_alive(&loop) > 0; i++) {
		fake_port_advance(1); /* each wait raises an interrupt */
		ck_assert_int_ge(ptio_loop_run(&loop, PTIO_RUN_ONCE), 0);
		ck_assert_uint_lt(i, 10000);
	}
	ck_assert_mem_eq(got, in, sizeof(in));
	ck_assert_uint_gt(fu.stalls, 0);
	ck_assert_uint_gt(fu.resumes, 0);
	pb.before_idle = NULL;
	ptio_port_chan_close(&pc);
	ptio_port_source_close(&fu.u.ps);
}
END_TEST

START_TEST(test_uart_edges)
{
	struct ptio_read rd;
	struct ptio_write wr;
	uint8_t buf[PTIO_UART_TX_SIZE + 10];
	size_t i;

	fu_setup(NULL, 0);
	rd = ptio_uart_reader(&fu.u);
	wr = ptio_uart_writer(&fu.u);
	ck_assert_uint_eq(fu.u.ps.src.ready, PTIO_WRITABLE);
	ck_assert_int_eq(ptio_nb_read(rd, buf, sizeof(buf)), PTIO_WOULD_BLOCK);
	ck_assert_int_eq(ptio_nb_read(rd, buf, 0), 0);
	ck_assert_int_eq(ptio_nb_flush(wr), 0);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	/* One byte goes straight to the transmitter, the ring takes the
	 * next PTIO_UART_TX_SIZE. */
	ck_assert_int_eq(ptio_nb_write(wr, buf, sizeof(buf)),
			 PTIO_UART_TX_SIZE);
	ck_assert_int_eq(ptio_nb_write(wr, buf, 1), 1);
	ck_assert_int_eq(ptio_nb_write(wr, buf, 1), PTIO_WOULD_BLOCK);
	ck_assert_uint_eq(fu.u.ps.src.ready & PTIO_WRITABLE, 0);
	ck_assert_int_eq(ptio_nb_flush(wr), PTIO_WOULD_BLOCK);
	ck_assert_int_eq(ptio_nb_write(wr, buf, 0), 0);
	ptio_uart_drain(&fu.u);
	ck_assert_uint_eq(fu.out_len, PTIO_UART_TX_SIZE + 1);
	ck_assert_mem_eq(fu.out, buf, PTIO_UART_TX_SIZE);
	ck_assert_int_eq(ptio_nb_flush(wr), 0);
	ck_assert(!fake_port_masked());
	ptio_port_backend_deliver(&pb);
	ck_assert_uint_eq(fu.u.ps.src.ready & PTIO_WRITABLE, PTIO_WRITABLE);
	ptio_port_source_close(&fu.u.ps);
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("port");
	TCase *tc;

	tc = tcase_create("shim");
	tcase_add_checked_fixture(tc, port_setup, port_teardown);
	tcase_add_test(tc, test_isr_wakes_waiter);
	tcase_add_test(tc, test_wait_skips_idle);
	tcase_add_test(tc, test_reports_merge);
	tcase_add_test(tc, test_close_unlinks);
	suite_add_tcase(s, tc);

	tc = tcase_create("lost wakeup");
	tcase_add_checked_fixture(tc, port_setup, port_teardown);
	tcase_add_test(tc, test_race_no_deadline);
	tcase_add_test(tc, test_race_with_deadline);
	tcase_add_test(tc, test_race_naive_no_deadline);
	tcase_add_test(tc, test_race_naive_with_deadline);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_checked_fixture(tc, port_setup, port_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_million_events);
	suite_add_tcase(s, tc);

	tc = tcase_create("wrap");
	tcase_add_checked_fixture(tc, port_setup, port_teardown);
	tcase_add_test(tc, test_sleep_across_wrap);
	tcase_add_test(tc, test_deadline_across_wrap);
	suite_add_tcase(s, tc);

	tc = tcase_create("uart");
	tcase_add_checked_fixture(tc, port_setup, port_teardown);
	tcase_add_test(tc, test_uart_echo);
	tcase_add_test(tc, test_uart_edges);
	tcase_add_test(tc, test_uart_rx_chan);
	suite_add_tcase(s, tc);
	return s;
}
