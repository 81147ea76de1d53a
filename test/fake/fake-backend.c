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
	return PTIO_CONTAINER_OF(be, struct fake_backend, sim.base);
}

/* ---- Scheduled events (the kit's) ------------------------------------------ */

void fake_backend_signal(struct fake_backend *fb, struct ptio_source *src,
			 unsigned bits, uint32_t delay)
{
	if (ptio_sim_signal(&fb->sim, src, bits, delay) != 0) {
		fprintf(stderr, "fake backend: more than %d events scheduled\n",
			FAKE_MAX_EVENTS);
		abort();
	}
}

void fake_backend_forget(struct fake_backend *fb, struct ptio_source *src)
{
	ptio_sim_forget(&fb->sim, src);
}

/* ---- The backend: the kit's, plus counters and watched sources ------------ */

static ptio_tick fake_now(struct ptio_backend *be)
{
	return ptio_sim_backend_vt.now(be);
}

static ptio_ssize fake_wait(struct ptio_backend *be, uint32_t timeout)
{
	struct fake_backend *fb = fake_of(be);

	fb->waits++;
	fb->last_timeout = timeout;
	return ptio_sim_backend_vt.wait(be, timeout);
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
	ptio_sim_init(&fb->sim, start, 0, fb->ev, FAKE_MAX_EVENTS);
	fb->sim.base.vt = &fake_vt;
	fb->nwatched = 0;
	fb->nattached = 0;
	fb->waits = 0;
	fb->updates = 0;
	fb->bad_updates = 0;
	fb->edge_updates = 0;
	fb->last_timeout = 0;
	return &fb->sim.base;
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
