/*
 * test/fake/fake-port.h - a fake microcontroller under the port backend,
 * for the host tests of the bare-metal shim (test/check-port.c).
 *
 * It models one CPU with one interrupt line:
 *
 *   - the interrupt mask (PRIMASK) is a flag; irq_save/irq_restore set and
 *     restore it.  A recursive mutex makes a handler exclusive with every
 *     masked section, as a single core would.
 *   - fake_port_raise() raises the line from any thread.  If interrupts
 *     are not masked the handler runs at once, on the raising thread (the
 *     "interrupted" main thread may keep running meanwhile, which is a
 *     harsher schedule than a real CPU's, never a gentler one).  If they
 *     are masked the interrupt stays pending and its handler runs when
 *     the mask is restored.  Raises while one is pending merge, as on a
 *     real interrupt controller.
 *   - the idle hook is WFI: it returns as soon as an interrupt is pending,
 *     masked or not.  With nothing pending it waits up to `real_wait_ms`
 *     of real time (yielding the host CPU) for another thread to raise
 *     one; then, if still nothing
 *     is pending, it ends the sleep as the hardware would: a finite
 *     timeout moves the clock to the deadline (a timer interrupt), an
 *     infinite one is a hang, which a real CPU would never leave; the fake
 *     counts it and returns so the test can fail instead of hanging.
 *   - the clock is a tick counter the test owns; only fake_port_advance
 *     and the idle hook move it.
 *
 * All of it is global state (one fake CPU per test process; Check runs
 * each test in its own process).
 */
#ifndef PTIO_TEST_FAKE_PORT_H
#define PTIO_TEST_FAKE_PORT_H

#include <ptio.h>
#include <ptio/port.h>

struct fake_port_stats {
	unsigned long idles;          /* calls of the idle hook */
	unsigned long unmasked_idles; /* ... made with interrupts unmasked */
	unsigned long timeouts;       /* sleeps ended by the deadline */
	unsigned long hangs;          /* sleeps no interrupt could end */
	unsigned long raises;         /* fake_port_raise calls */
	unsigned long isr_runs;       /* handler invocations */
};

/* The board hooks. */
extern const struct ptio_port_ops fake_port_ops;

/* Reset the fake: clock at START, nothing pending, no handler, unmasked,
 * stats zeroed; the idle hook waits up to REAL_WAIT_MS for other threads
 * (0: never waits, for single-threaded tests). */
void fake_port_reset(ptio_tick start, unsigned real_wait_ms);

/* The interrupt handler: ISR(ARG) runs for each taken interrupt. */
void fake_port_set_isr(void (*isr)(void *arg), void *arg);

/* Raise the interrupt line; any thread. */
void fake_port_raise(void);

/* The clock. */
ptio_tick fake_port_now(void);
void fake_port_advance(uint32_t ticks);

/* True while interrupts are masked. */
bool fake_port_masked(void);

/* A copy of the counters. */
struct fake_port_stats fake_port_stats(void);

#endif /* PTIO_TEST_FAKE_PORT_H */
