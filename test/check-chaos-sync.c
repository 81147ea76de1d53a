/*
 * test/check-chaos-sync.c - the channel, the semaphore and the notify
 * (ptio/sync.h), and the in-memory pipe (ptio/pipe.h), under random
 * scheduling, for 10,000 seeds each
 * (PTIO_CHAOS_SEEDS=n to change, PTIO_CHAOS_SEED=n to rerun one; failures
 * print the seed).
 *
 * Each seed builds a chaos world (test/fake/chaos-stream.h: a loop whose
 * clock jumps to the next timer) with random tasks that sleep at random,
 * put random deadlines on their waits (a wait that times out is retried),
 * and a "waker" task that wakes random tasks from outside at random
 * moments (ptio_task_wake: a wait must then try again and requeue).
 *
 *   channel    1-4 producers send their own numbered items through a
 *              channel of 1-4 places to 1-3 consumers; the last producer
 *              closes it.  Every item arrives exactly once, each consumer
 *              sees each producer's items in order, and at the end no
 *              waiter is queued and the loop holds no registration.
 *   semaphore  1-5 tasks take and give back 1-3 units; never more tasks
 *              hold a unit than there are units, and at the end the
 *              count is back where it started with no waiter left.
 *   notify     1-4 producers post numbered jobs to a shared count and
 *              signal (now and then broadcast) a notify; 1-3 consumers
 *              take jobs while there are any and wait on the notify when
 *              there are none.  No wake is lost, not even a broadcast
 *              that found a waiter out of the queue because the waker
 *              had just woken it (a lost one leaves a consumer asleep,
 *              with the waker waking it for ever: the case's time limit
 *              fails it), none is invented (waits that end with 0 never
 *              outnumber signals plus broadcasts times consumers), every
 *              job is taken once, and no waiter is left queued.
 *   pipe       a writer sends 0-400 numbered bytes in writes of 1-16
 *              through a pipe of 1-16 bytes to a reader that takes them
 *              with reads of 1-16 or through BufRead (fill_buf, then
 *              consume part of it), both with random sleeps, deadlines and
 *              outside wakes; the writer closes its end when done.  The
 *              reader sees every byte once, in order, then end of stream.
 *              One seed in eight, the reader closes its end early and
 *              the writer's next write fails with PTIO_EPIPE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include <ptio/pipe.h>
#include "test/fake/chaos-stream.h"

#define MAX_TASKS 5
#define MAX_ITEMS 24

/* ---- What every chaos task shares -------------------------------------------- */

struct world;

struct actor {
	struct ptio_timed_task tt;   /* first */
	struct ptio_waiter w;
	struct ptio_op sleep_op;
	struct ptio_op io_op;        /* pipe: the read or write */
	uint8_t buf[16];             /* pipe: bytes to write, room to read */
	const uint8_t *data;         /* pipe: what fill_buf lent */
	size_t len;
	struct world *wd;
	int id;
	int n;                       /* items to send, rounds to run */
	int i;
	int item;
	uint32_t rng;
	int last[MAX_TASKS];         /* consumer: last seq seen per producer */
	bool has_deadline;
	ptio_tick deadline;          /* of the current wait, if it has one */
};

struct world {
	struct chaos_world cw;
	uint32_t seed;
	uint32_t rng;
	struct ptio_chan ch;
	int ring[4];
	struct ptio_sem sem;
	struct ptio_notify nt;
	unsigned long posted, taken, signals, broadcasts, waits_done;
	struct ptio_pipe pipe;
	uint8_t pipe_ring[16];
	size_t pipe_total;           /* bytes the writer means to send */
	size_t pipe_stop;            /* the reader closes after this many */
	size_t pipe_got;
	bool reader_closed;
	int ntakers;
	size_t units;
	size_t in_use;
	int nprod, ncons;
	int producers_left;
	bool done;                   /* the waker may stop */
	unsigned char seen[MAX_TASKS][MAX_ITEMS];
	unsigned long timeouts, wakes;
	struct actor a[2 * MAX_TASKS];
	int nactors;
	struct ptio_timed_task waker;
	struct ptio_op waker_op;
};

static struct {
	unsigned long timeouts, wakes;
} totals;

static struct actor *actor_of(struct ptio_task *task)
{
	return PTIO_CONTAINER_OF(task, struct actor, tt.task);
}

/* Maybe put a deadline 0-3 ticks ahead on the next wait. */
static void maybe_deadline(struct actor *a)
{
	a->has_deadline = chaos_chance(&a->rng, 250);
	if (a->has_deadline) {
		ptio_task_set_timeout(&a->tt, chaos_below(&a->rng, 4));
		a->deadline = a->tt.deadline;
	} else {
		ptio_task_clear_deadline(&a->tt);
	}
}

/* A wait with a deadline must have ended by then (the clock jumps to the
 * timer's tick exactly, and the round that runs the task reads it). */
static void check_deadline(struct actor *a, ptio_ssize r)
{
	CHAOS_CHECK(!a->has_deadline ||
			    !ptio_tick_before(a->deadline,
					      ptio_loop_now(&a->wd->cw.loop)),
		    "seed %u: a wait ended (%s) %ld ticks after its deadline",
		    a->wd->seed, ptio_strerror(r),
		    (long)ptio_tick_diff(ptio_loop_now(&a->wd->cw.loop),
					 a->deadline));
	if (r == PTIO_ETIMEDOUT)
		a->wd->timeouts++;
}

/* ---- The channel ----------------------------------------------------------------- */

static ptio_ssize producer_fn(struct ptio_task *task)
{
	struct actor *a = actor_of(task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (a->i = 0; a->i < a->n; a->i++) {
		if (chaos_chance(&a->rng, 300)) {
			ptio_task_clear_deadline(&a->tt);
			PTIO_CALL(&task->pt, r, &a->sleep_op, task,
				  ptio_sleep(&a->sleep_op,
					     chaos_below(&a->rng, 3)));
		}
		a->item = a->id * 1000 + a->i;
		do {
			maybe_deadline(a);
			PTIO_AWAIT(&task->pt, r,
				   ptio_chan_send(&a->w, &a->wd->ch, &a->item));
			check_deadline(a, r);
		} while (r == PTIO_ETIMEDOUT);
		CHAOS_CHECK(r == 0, "seed %u: send: %s", a->wd->seed,
			    ptio_strerror(r));
	}
	if (--a->wd->producers_left == 0)
		ptio_chan_close(&a->wd->ch);
	PTIO_END(&task->pt);
}

static void consumer_take(struct actor *a)
{
	struct world *wd = a->wd;
	int p = a->item / 1000, seq = a->item % 1000;

	CHAOS_CHECK(p >= 0 && p < wd->nprod && seq < MAX_ITEMS,
		    "seed %u: item %d was never sent", wd->seed, a->item);
	CHAOS_CHECK(!wd->seen[p][seq], "seed %u: item %d received twice",
		    wd->seed, a->item);
	CHAOS_CHECK(seq > a->last[p],
		    "seed %u: consumer %d got %d after %d from producer %d",
		    wd->seed, a->id, seq, a->last[p], p);
	wd->seen[p][seq] = 1;
	a->last[p] = seq;
}

static ptio_ssize consumer_fn(struct ptio_task *task)
{
	struct actor *a = actor_of(task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		if (chaos_chance(&a->rng, 300)) {
			ptio_task_clear_deadline(&a->tt);
			PTIO_CALL(&task->pt, r, &a->sleep_op, task,
				  ptio_sleep(&a->sleep_op,
					     chaos_below(&a->rng, 3)));
		}
		maybe_deadline(a);
		a->item = -1;
		PTIO_AWAIT(&task->pt, r,
			   ptio_chan_recv(&a->w, &a->wd->ch, &a->item));
		check_deadline(a, r);
		if (r == PTIO_ETIMEDOUT)
			continue;
		if (r == PTIO_ECLOSED)
			break;
		CHAOS_CHECK(r == 0, "seed %u: recv: %s", a->wd->seed,
			    ptio_strerror(r));
		consumer_take(a);
	}
	if (--a->wd->ncons == 0)
		a->wd->done = true;
	PTIO_END(&task->pt);
}

/* ---- The semaphore ---------------------------------------------------------- */

static ptio_ssize holder_fn(struct ptio_task *task)
{
	struct actor *a = actor_of(task);
	struct world *wd = a->wd;
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (a->i = 0; a->i < a->n; a->i++) {
		do {
			maybe_deadline(a);
			PTIO_AWAIT(&task->pt, r, ptio_sem_acquire(&a->w, &wd->sem));
			check_deadline(a, r);
		} while (r == PTIO_ETIMEDOUT);
		CHAOS_CHECK(r == 0, "seed %u: acquire: %s", wd->seed,
			    ptio_strerror(r));
		CHAOS_CHECK(++wd->in_use <= wd->units,
			    "seed %u: %zu holders of %zu units", wd->seed,
			    wd->in_use, wd->units);
		ptio_task_clear_deadline(&a->tt);
		PTIO_CALL(&task->pt, r, &a->sleep_op, task,
			  ptio_sleep(&a->sleep_op, chaos_below(&a->rng, 3)));
		wd->in_use--;
		ptio_sem_release(&wd->sem);
	}
	if (--wd->producers_left == 0)
		wd->done = true;
	PTIO_END(&task->pt);
}

/* ---- The notify ------------------------------------------------------------- */

static ptio_ssize poster_fn(struct ptio_task *task)
{
	struct actor *a = actor_of(task);
	struct world *wd = a->wd;
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (a->i = 0; a->i < a->n; a->i++) {
		ptio_task_clear_deadline(&a->tt);
		PTIO_CALL(&task->pt, r, &a->sleep_op, task,
			  ptio_sleep(&a->sleep_op, chaos_below(&a->rng, 3)));
		wd->posted++;
		if (chaos_chance(&a->rng, 125)) {
			(void)ptio_notify_broadcast(&wd->nt);
			wd->broadcasts++;
		} else {
			ptio_notify_signal(&wd->nt);
			wd->signals++;
		}
	}
	/* The last one out wakes every consumer, so that those asleep see
	 * that no more jobs will come. */
	if (--wd->producers_left == 0) {
		(void)ptio_notify_broadcast(&wd->nt);
		wd->broadcasts++;
	}
	PTIO_END(&task->pt);
}

static ptio_ssize taker_fn(struct ptio_task *task)
{
	struct actor *a = actor_of(task);
	struct world *wd = a->wd;
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		if (wd->taken < wd->posted) {
			wd->taken++;
			if (chaos_chance(&a->rng, 300)) {
				ptio_task_clear_deadline(&a->tt);
				PTIO_CALL(&task->pt, r, &a->sleep_op, task,
					  ptio_sleep(&a->sleep_op,
						     chaos_below(&a->rng, 3)));
			}
			continue;
		}
		if (wd->producers_left == 0)
			break;
		maybe_deadline(a);
		PTIO_AWAIT(&task->pt, r, ptio_notify_wait(&a->w, &wd->nt));
		check_deadline(a, r);
		if (r == PTIO_ETIMEDOUT)
			continue;
		CHAOS_CHECK(r == 0, "seed %u: notify wait: %s", wd->seed,
			    ptio_strerror(r));
		CHAOS_CHECK(++wd->waits_done <= wd->signals + wd->broadcasts *
					(unsigned long)wd->ntakers,
			    "seed %u: %lu waits ended by %lu signals and %lu "
			    "broadcasts", wd->seed, wd->waits_done,
			    wd->signals, wd->broadcasts);
	}
	if (--wd->ncons == 0)
		wd->done = true;
	PTIO_END(&task->pt);
}

/* ---- The pipe -------------------------------------------------------------- */

/* Byte I of seed SEED's stream: no run of 256 repeats. */
static uint8_t pipe_byte(uint32_t seed, size_t i)
{
	return (uint8_t)(i * 7u + (i >> 8) + seed);
}

static ptio_ssize pipe_writer_fn(struct ptio_task *task)
{
	struct actor *a = actor_of(task);
	struct world *wd = a->wd;
	ptio_ssize r = 0;
	size_t k;

	PTIO_BEGIN(&task->pt);
	for (a->i = 0; (size_t)a->i < wd->pipe_total;) {
		if (chaos_chance(&a->rng, 300)) {
			ptio_task_clear_deadline(&a->tt);
			PTIO_CALL(&task->pt, r, &a->sleep_op, task,
				  ptio_sleep(&a->sleep_op,
					     chaos_below(&a->rng, 3)));
		}
		a->len = 1 + chaos_below(&a->rng, 16);
		if (a->len > wd->pipe_total - (size_t)a->i)
			a->len = wd->pipe_total - (size_t)a->i;
		for (k = 0; k < a->len; k++)
			a->buf[k] = pipe_byte(wd->seed, (size_t)a->i + k);
		maybe_deadline(a);
		PTIO_CALL(&task->pt, r, &a->io_op, task,
			  ptio_write(&a->io_op, ptio_pipe_writer(&wd->pipe),
				     a->buf, a->len));
		check_deadline(a, r);
		if (r == PTIO_ETIMEDOUT)
			continue;
		if (r == PTIO_EPIPE && wd->reader_closed)
			break;
		CHAOS_CHECK(r > 0 && (size_t)r <= a->len,
			    "seed %u: write of %zu: %s", wd->seed, a->len,
			    r < 0 ? ptio_strerror(r) : "a wrong count");
		a->i += (int)r;
	}
	ptio_pipe_close_write(&wd->pipe);
	PTIO_END(&task->pt);
}

/* Check the N bytes at P, which come next in the stream. */
static void pipe_take(struct actor *a, const uint8_t *p, size_t n)
{
	struct world *wd = a->wd;
	size_t k;

	for (k = 0; k < n; k++)
		CHAOS_CHECK(p[k] == pipe_byte(wd->seed, wd->pipe_got + k),
			    "seed %u: byte %zu is wrong", wd->seed,
			    wd->pipe_got + k);
	wd->pipe_got += n;
	CHAOS_CHECK(wd->pipe_got <= wd->pipe_total,
		    "seed %u: %zu bytes read, %zu sent", wd->seed,
		    wd->pipe_got, wd->pipe_total);
}

static ptio_ssize pipe_reader_fn(struct ptio_task *task)
{
	struct actor *a = actor_of(task);
	struct world *wd = a->wd;
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	while (wd->pipe_got < wd->pipe_stop) {
		if (chaos_chance(&a->rng, 300)) {
			ptio_task_clear_deadline(&a->tt);
			PTIO_CALL(&task->pt, r, &a->sleep_op, task,
				  ptio_sleep(&a->sleep_op,
					     chaos_below(&a->rng, 3)));
		}
		maybe_deadline(a);
		if (chaos_chance(&a->rng, 500)) {
			PTIO_CALL(&task->pt, r, &a->io_op, task,
				  ptio_fill_buf(&a->io_op,
						ptio_pipe_bufread(&wd->pipe),
						&a->data));
			check_deadline(a, r);
			if (r > 0) {
				a->len = 1 + chaos_below(&a->rng, (uint32_t)r);
				pipe_take(a, a->data, a->len);
				ptio_bufread_consume(
					ptio_pipe_bufread(&wd->pipe), a->len);
			}
		} else {
			a->len = 1 + chaos_below(&a->rng, 16);
			PTIO_CALL(&task->pt, r, &a->io_op, task,
				  ptio_read(&a->io_op,
					    ptio_pipe_reader(&wd->pipe),
					    a->buf, a->len));
			check_deadline(a, r);
			if (r > 0)
				pipe_take(a, a->buf, (size_t)r);
		}
		if (r == PTIO_ETIMEDOUT)
			continue;
		CHAOS_CHECK(r >= 0, "seed %u: read: %s", wd->seed,
			    ptio_strerror(r));
		if (r == 0)
			break;
	}
	if (wd->pipe_got < wd->pipe_total) {
		/* Stopped early: close, so that the writer learns of it. */
		wd->reader_closed = true;
		ptio_pipe_close_read(&wd->pipe);
	} else {
		/* Read to the end: it ended with end of stream (unless it
		 * meant to stop early and the last read took all). */
		CHAOS_CHECK(r == 0 || wd->pipe_stop <= wd->pipe_total,
			    "seed %u: no end of stream", wd->seed);
	}
	wd->done = true;
	PTIO_END(&task->pt);
}

/* ---- The waker, and running a world ---------------------------------------- */

/* Every 0-3 ticks, wake a random actor from outside, until the end. */
static ptio_ssize waker_fn(struct ptio_task *task)
{
	struct world *wd = PTIO_CONTAINER_OF(task, struct world, waker.task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	while (!wd->done) {
		PTIO_CALL(&task->pt, r, &wd->waker_op, task,
			  ptio_sleep(&wd->waker_op, chaos_below(&wd->rng, 4)));
		ptio_task_wake(&wd->a[chaos_below(&wd->rng,
						  (uint32_t)wd->nactors)]
					.tt.task);
		wd->wakes++;
	}
	PTIO_END(&task->pt);
}

static void actor_start(struct world *wd, int id, int n, ptio_task_fn fn)
{
	struct actor *a = &wd->a[wd->nactors++];
	int p;

	a->wd = wd;
	a->id = id;
	a->n = n;
	a->rng = chaos_seed_state(wd->seed, 0x5000u + (uint32_t)wd->nactors);
	for (p = 0; p < MAX_TASKS; p++)
		a->last[p] = -1;
	ptio_waiter_init(&a->w, &a->tt.task);
	ck_assert_int_eq(ptio_timed_task_start(&wd->cw.loop, &a->tt, fn), 0);
}

static void world_run(struct world *wd)
{
	const char *why;

	if (chaos_chance(&wd->rng, 500))
		ptio_timed_task_start(&wd->cw.loop, &wd->waker, waker_fn);
	else
		wd->done = true;
	CHAOS_CHECK(chaos_world_run(&wd->cw, &why) == 0, "seed %u: %s",
		    wd->seed, why);
	chaos_world_destroy(&wd->cw);
	totals.timeouts += wd->timeouts;
	totals.wakes += wd->wakes;
}

/* PTIO_CHAOS_STATS=1: how often the chaos hit, to see that it does. */
static void print_totals(const char *what)
{
	if (getenv("PTIO_CHAOS_STATS") != NULL)
		fprintf(stderr, "%s: %lu timed-out waits, %lu outside wakes\n",
			what, totals.timeouts, totals.wakes);
}

static struct world *world_new(uint32_t seed)
{
	struct world *wd = calloc(1, sizeof(*wd));

	CHAOS_CHECK(wd != NULL, "out of memory");
	wd->seed = seed;
	wd->rng = chaos_seed_state(seed, 0x5C);
	chaos_world_init(&wd->cw, seed, 0);
	return wd;
}

static void chan_one(uint32_t seed)
{
	struct world *wd = world_new(seed);
	int n[MAX_TASKS], p, i, seq;

	ptio_chan_init(&wd->ch, wd->ring, sizeof(int),
		       1 + chaos_below(&wd->rng, 4));
	wd->nprod = 1 + (int)chaos_below(&wd->rng, 4);
	wd->ncons = 1 + (int)chaos_below(&wd->rng, 3);
	wd->producers_left = wd->nprod;
	for (p = 0; p < wd->nprod; p++) {
		n[p] = (int)chaos_below(&wd->rng, MAX_ITEMS + 1);
		actor_start(wd, p, n[p], producer_fn);
	}
	for (i = 0; i < wd->ncons; i++)
		actor_start(wd, i, 0, consumer_fn);
	world_run(wd);
	for (p = 0; p < wd->nprod; p++)
		for (seq = 0; seq < MAX_ITEMS; seq++)
			CHAOS_CHECK(wd->seen[p][seq] == (seq < n[p]),
				    "seed %u: item %d of producer %d %s", seed,
				    seq, p, seq < n[p] ? "lost" : "invented");
	CHAOS_CHECK(wd->ch.senders.next == &wd->ch.senders &&
		    wd->ch.receivers.next == &wd->ch.receivers &&
		    ptio_chan_len(&wd->ch) == 0,
		    "seed %u: channel not empty at the end", seed);
	free(wd);
}

START_TEST(test_chaos_chan)
{
	chaos_run_seeds(chan_one);
	print_totals("channel");
}
END_TEST

static void sem_one(uint32_t seed)
{
	struct world *wd = world_new(seed);
	int i, ntasks;

	wd->units = 1 + chaos_below(&wd->rng, 3);
	ptio_sem_init(&wd->sem, wd->units);
	ntasks = 1 + (int)chaos_below(&wd->rng, MAX_TASKS);
	wd->producers_left = ntasks;
	for (i = 0; i < ntasks; i++)
		actor_start(wd, i, (int)chaos_below(&wd->rng, 16), holder_fn);
	world_run(wd);
	CHAOS_CHECK(ptio_sem_count(&wd->sem) == wd->units && wd->in_use == 0,
		    "seed %u: %zu units at the end, %zu at the start", seed,
		    ptio_sem_count(&wd->sem), wd->units);
	CHAOS_CHECK(wd->sem.waiters.next == &wd->sem.waiters,
		    "seed %u: a waiter left queued", seed);
	free(wd);
}

START_TEST(test_chaos_sem)
{
	chaos_run_seeds(sem_one);
	print_totals("semaphore");
}
END_TEST

static void notify_one(uint32_t seed)
{
	struct world *wd = world_new(seed);
	unsigned long total = 0;
	int i, n;

	ptio_notify_init(&wd->nt);
	wd->nprod = 1 + (int)chaos_below(&wd->rng, 4);
	wd->ncons = 1 + (int)chaos_below(&wd->rng, 3);
	wd->ntakers = wd->ncons;
	wd->producers_left = wd->nprod;
	for (i = 0; i < wd->nprod; i++) {
		n = (int)chaos_below(&wd->rng, MAX_ITEMS + 1);
		total += (unsigned long)n;
		actor_start(wd, i, n, poster_fn);
	}
	for (i = 0; i < wd->ncons; i++)
		actor_start(wd, i, 0, taker_fn);
	world_run(wd);
	CHAOS_CHECK(wd->posted == total && wd->taken == total,
		    "seed %u: %lu jobs posted, %lu taken, %lu meant", seed,
		    wd->posted, wd->taken, total);
	CHAOS_CHECK(wd->nt.waiters.next == &wd->nt.waiters,
		    "seed %u: a waiter left queued", seed);
	free(wd);
}

START_TEST(test_chaos_notify)
{
	chaos_run_seeds(notify_one);
	print_totals("notify");
}
END_TEST

static void pipe_one(uint32_t seed)
{
	struct world *wd = world_new(seed);

	ptio_pipe_init(&wd->pipe, wd->pipe_ring,
		       1 + chaos_below(&wd->rng, sizeof(wd->pipe_ring)));
	wd->pipe_total = chaos_below(&wd->rng, 401);
	wd->pipe_stop = chaos_chance(&wd->rng, 125)
				? chaos_below(&wd->rng,
					      (uint32_t)wd->pipe_total + 1)
				: wd->pipe_total + 1; /* to end of stream */
	actor_start(wd, 0, 0, pipe_writer_fn);
	actor_start(wd, 1, 0, pipe_reader_fn);
	world_run(wd);
	CHAOS_CHECK(wd->reader_closed || wd->pipe_got == wd->pipe_total,
		    "seed %u: %zu of %zu bytes arrived", seed, wd->pipe_got,
		    wd->pipe_total);
	free(wd);
}

START_TEST(test_chaos_pipe)
{
	chaos_run_seeds(pipe_one);
	print_totals("pipe");
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("chaos-sync");
	TCase *tc = tcase_create("sync");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_chaos_chan);
	tcase_add_test(tc, test_chaos_sem);
	tcase_add_test(tc, test_chaos_notify);
	tcase_add_test(tc, test_chaos_pipe);
	suite_add_tcase(s, tc);
	return s;
}
