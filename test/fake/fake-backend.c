/*
 * test/fake/fake-backend.c - the fake backend and the core suites' loop
 * fixture (see fake-backend.h).
 *
 * Divided into: scheduled events, the backend vtable, the fixture.
 */
#include <stdio.h>
#include <stdlib.h>
#include <check.h>
#include "test/fake/fake-backend.h"

struct fake_backend fake_be;
struct ptio_loop fake_loop;

static struct fake_backend *fake_of(struct ptio_backend *be)
{
	return PTIO_CONTAINER_OF(be, struct fake_backend, base);
}

/* ---- Scheduled events --------------------------------------------------- */

void fake_backend_signal(struct fake_backend *fb, struct ptio_source *src,
			 unsigned bits, uint32_t delay)
{
	if (fb->nev == FAKE_MAX_EVENTS) {
		fprintf(stderr, "fake backend: more than %d events scheduled\n",
			FAKE_MAX_EVENTS);
		abort();
	}
	fb->ev[fb->nev].src = src;
	fb->ev[fb->nev].bits = bits;
	fb->ev[fb->nev].when = fb->now + delay;
	fb->nev++;
}

/* Remove event I, keeping the others in the order they were scheduled. */
static void fake_event_remove(struct fake_backend *fb, size_t i)
{
	for (; i + 1 < fb->nev; i++)
		fb->ev[i] = fb->ev[i + 1];
	fb->nev--;
}

void fake_backend_forget(struct fake_backend *fb, struct ptio_source *src)
{
	size_t i = 0;

	while (i < fb->nev) {
		if (src == NULL || fb->ev[i].src == src)
			fake_event_remove(fb, i);
		else
			i++;
	}
}

/* Ticks from now to the earliest event (0 when one is already due); false
 * when nothing is scheduled. */
static bool fake_next_event(const struct fake_backend *fb, uint32_t *ticks)
{
	int32_t best = INT32_MAX;
	size_t i;

	for (i = 0; i < fb->nev; i++) {
		int32_t d = ptio_tick_diff(fb->ev[i].when, fb->now);

		if (d < best)
			best = d;
	}
	*ticks = best < 0 ? 0 : (uint32_t)best;
	return fb->nev > 0;
}

/* Report every event that is due, oldest first.  Each is removed before
 * it is reported, since reporting may make the loop call update. */
static void fake_deliver_due(struct fake_backend *fb)
{
	size_t i = 0;

	while (i < fb->nev) {
		struct fake_event e = fb->ev[i];

		if (!ptio_tick_reached(fb->now, e.when)) {
			i++;
			continue;
		}
		fake_event_remove(fb, i);
		ptio_source_ready(e.src, e.bits);
		i = 0;
	}
}

/* ---- The backend --------------------------------------------------------- */

static ptio_tick fake_now(struct ptio_backend *be)
{
	return fake_of(be)->now;
}

static ptio_ssize fake_wait(struct ptio_backend *be, uint32_t timeout)
{
	struct fake_backend *fb = fake_of(be);
	uint32_t next;
	bool have = fake_next_event(fb, &next);

	fb->waits++;
	fb->last_timeout = timeout;
	if (!have && timeout == PTIO_WAIT_FOREVER)
		return FAKE_STALL;
	if (have && (timeout == PTIO_WAIT_FOREVER || next <= timeout))
		fb->now += next;
	else
		fb->now += timeout;
	fake_deliver_due(fb);
	return 0;
}

static size_t fake_find_watched(const struct fake_backend *fb,
				const struct ptio_source *src)
{
	size_t i;

	for (i = 0; i < fb->nwatched; i++)
		if (fb->watched[i] == src)
			break;
	return i;
}

bool fake_backend_watches(const struct fake_backend *fb,
			  const struct ptio_source *src)
{
	return fake_find_watched(fb, src) < fb->nwatched;
}

static ptio_ssize fake_update(struct ptio_backend *be, struct ptio_source *src)
{
	struct fake_backend *fb = fake_of(be);
	size_t i = fake_find_watched(fb, src);

	fb->updates++;
	if (!(src->flags & PTIO_SOURCE_BACKEND))
		fb->bad_updates++;
	if (src->flags & PTIO_SOURCE_EDGE)
		fb->edge_updates++;
	if (ptio_source_interest(src) != 0 && i == fb->nwatched) {
		if (fb->nwatched == FAKE_MAX_WATCHED)
			return PTIO_ENOSPC;
		fb->watched[fb->nwatched++] = src;
	} else if (ptio_source_interest(src) == 0 && i < fb->nwatched) {
		fb->watched[i] = fb->watched[--fb->nwatched];
	}
	return 0;
}

static size_t fake_registrations(struct ptio_backend *be)
{
	return fake_of(be)->nwatched + fake_of(be)->nattached;
}

/* Watched for its whole life, as by an edge-triggered backend. */
static ptio_ssize fake_attach(struct ptio_backend *be, struct ptio_source *src)
{
	src->flags = (uint8_t)(src->flags | PTIO_SOURCE_EDGE);
	fake_of(be)->nattached++;
	return 0;
}

static void fake_detach(struct ptio_backend *be, struct ptio_source *src)
{
	src->flags = (uint8_t)(src->flags & ~PTIO_SOURCE_EDGE);
	fake_of(be)->nattached--;
	fake_backend_forget(fake_of(be), src);
}

static const struct ptio_backend_vt fake_vt = {
	.version = PTIO_BACKEND_VERSION,
	.now = fake_now,
	.wait = fake_wait,
	.update = fake_update,
	.registrations = fake_registrations,
	.attach = fake_attach,
	.detach = fake_detach,
};

struct ptio_backend *fake_backend_init(struct fake_backend *fb,
				       ptio_tick start)
{
	fb->base.vt = &fake_vt;
	fb->now = start;
	fb->nev = 0;
	fb->nwatched = 0;
	fb->nattached = 0;
	fb->waits = 0;
	fb->updates = 0;
	fb->bad_updates = 0;
	fb->edge_updates = 0;
	fb->last_timeout = 0;
	return &fb->base;
}

/* ---- The fixture ----------------------------------------------------------- */

void fake_loop_start_at(ptio_tick start)
{
	ptio_loop_init(&fake_loop, fake_backend_init(&fake_be, start));
}

void fake_loop_setup(void)
{
	fake_loop_start_at(FAKE_START);
}

void fake_loop_teardown(void)
{
	fake_backend_forget(&fake_be, NULL);
	ck_assert_uint_eq(ptio_loop_alive(&fake_loop), 0);
	ck_assert_uint_eq(ptio_loop_registrations(&fake_loop), 0);
	ck_assert_uint_eq(fake_be.nwatched, 0);
	ck_assert_uint_eq(fake_be.bad_updates, 0);
	ck_assert_uint_eq(fake_be.edge_updates, 0);
}

unsigned long fake_loop_run(unsigned long max_iterations)
{
	unsigned long n = 0;

	while (ptio_loop_alive(&fake_loop) > 0) {
		ptio_ssize r;

		ck_assert_msg(n < max_iterations,
			      "%zu tasks still alive after %lu iterations",
			      ptio_loop_alive(&fake_loop), n);
		r = ptio_loop_run(&fake_loop, PTIO_RUN_ONCE);
		ck_assert_msg(r >= 0, "loop error %s%s", ptio_strerror(r),
			      r == FAKE_STALL ? " (every task is stuck)" : "");
		n++;
	}
	return n;
}
