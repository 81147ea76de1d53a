/*
 * test/fake/fake-backend.h - a loop backend for tests, with a clock the
 * test owns and readiness delivered from a script, never blocking.
 *
 * It is the testing kit's simulated backend (ptio/sim.h) with a level-
 * triggered backend's bookkeeping added: the clock and the scheduled
 * events are the kit's, so every core suite exercises them.
 *
 * The clock is a plain variable (fake_backend.sim.now) that starts wherever
 * the test wants (near the 32-bit wrap by default) and moves only when
 * the loop waits: wait(timeout) jumps the clock straight to the earliest
 * scheduled readiness event, or by TIMEOUT ticks when no event comes
 * sooner, reports the events that are due with ptio_source_ready, and
 * returns at once.  So a test of a one-hour timer runs in microseconds,
 * and the tick at which anything happens is exact and repeatable.
 *
 * Readiness events are scheduled with fake_backend_signal, typically by
 * the scripted stream (script-stream.h) when it returns would-block.  A
 * wait with no timeout and no event scheduled could only hang: instead it
 * returns FAKE_STALL, which ptio_loop_run hands back, and the test fails.
 *
 * The backend also plays a level-triggered backend's bookkeeping: it
 * remembers which PTIO_SOURCE_BACKEND sources currently have waiters (as
 * the loop reports them through update), and counts them as its
 * registrations, so a leaked waiter shows up in ptio_loop_registrations.
 *
 * And an edge-triggered one's, for a source a test attaches (through the
 * vtable's attach, as ptio_fd_open does): attach flags it
 * PTIO_SOURCE_EDGE and counts it as a registration until detach; the
 * core must then never call update for it (edge_updates counts the calls
 * that break that rule).
 *
 * Divided into: the backend, and the loop fixture the core suites share.
 */
#ifndef PTIO_TEST_FAKE_BACKEND_H
#define PTIO_TEST_FAKE_BACKEND_H

#include <ptio.h>
#include <ptio/sim.h>

/* How many readiness events and watched sources the fake holds. */
#define FAKE_MAX_EVENTS  256
#define FAKE_MAX_WATCHED 64

/* What wait(PTIO_WAIT_FOREVER) returns when nothing is scheduled: every
 * task is stuck and a real backend would sleep for ever. */
#define FAKE_STALL PTIO_SIM_STALL

struct fake_backend {
	struct ptio_sim sim;               /* first: the clock (sim.now,
					      tests may set it) and the
					      scheduled events */
	struct ptio_sim_event ev[FAKE_MAX_EVENTS]; /* lent to sim */
	struct ptio_source *watched[FAKE_MAX_WATCHED]; /* sources with waiters */
	size_t nwatched;
	size_t nattached;                  /* sources attached (edge) */
	unsigned long waits;               /* calls of wait */
	unsigned long updates;             /* calls of update */
	unsigned long bad_updates;         /* update on a non-backend source */
	unsigned long edge_updates;        /* update on an attached source */
	uint32_t last_timeout;             /* the timeout of the last wait */
};

/* Initialise FB with its clock at START; returns &fb->base. */
struct ptio_backend *fake_backend_init(struct fake_backend *fb,
				       ptio_tick start);

/* Schedule ptio_source_ready(SRC, BITS) for DELAY ticks from now (0: at
 * the next wait, without moving the clock).  Events due at the same tick
 * are reported in the order they were scheduled.  Aborts the program if
 * FAKE_MAX_EVENTS are already scheduled. */
void fake_backend_signal(struct fake_backend *fb, struct ptio_source *src,
			 unsigned bits, uint32_t delay);

/* Drop every event scheduled for SRC (NULL: every event). */
void fake_backend_forget(struct fake_backend *fb, struct ptio_source *src);

/* True when SRC is among the sources the backend was told have waiters. */
bool fake_backend_watches(const struct fake_backend *fb,
			  const struct ptio_source *src);

/* ---- The fixture the core suites share --------------------------------- */

/* The start of the fake clock in fake_loop_setup: 256 ticks before the
 * 32-bit wrap, so most tests cross it without trying. */
#define FAKE_START ((ptio_tick)0xFFFFFF00u)

extern struct fake_backend fake_be;
extern struct ptio_loop fake_loop;

/* Checked fixture: a loop over fake_be with its clock at FAKE_START. */
void fake_loop_setup(void);

/* Re-initialise fake_be and fake_loop with the clock at START (only while
 * no task is alive, e.g. at the top of a test). */
void fake_loop_start_at(ptio_tick start);

/* Checked fixture: drop the scripted events (they point at the finished
 * test's streams), then fail unless no task is alive, the loop holds no
 * registration, the backend watches no source, and update never reached
 * an attached source. */
void fake_loop_teardown(void);

/* Run fake_loop one iteration at a time (PTIO_RUN_ONCE) until no task is
 * alive; fail the test on a loop error (FAKE_STALL: every task is stuck)
 * or after MAX_ITERATIONS.  Returns the number of iterations. */
unsigned long fake_loop_run(unsigned long max_iterations);

#endif /* PTIO_TEST_FAKE_BACKEND_H */
