/*
 * test/fake/fake-port.c - the fake microcontroller (see fake-port.h).
 *
 * Divided into: state and the interrupt controller, the port hooks, and
 * the test's controls.  Every field is guarded by `hw`, a recursive mutex
 * (a handler's own irq_save nests inside the lock its raise holds).
 */
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include "test/fake/fake-port.h"

static pthread_mutex_t hw;
static pthread_once_t hw_once = PTHREAD_ONCE_INIT;

static bool primask;       /* interrupts masked */
static bool irq_pending;   /* raised, handler not yet run */
static bool in_isr;        /* a handler is running (no nesting) */
static ptio_tick clock_now;
static unsigned real_wait_ms;
static void (*isr_fn)(void *arg);
static void *isr_arg;
static struct fake_port_stats st;

static void hw_init(void)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&hw, &a);
	pthread_mutexattr_destroy(&a);
}

static void hw_lock(void)
{
	pthread_once(&hw_once, hw_init);
	pthread_mutex_lock(&hw);
}

static void hw_unlock(void)
{
	pthread_mutex_unlock(&hw);
}

/* Run the handler for a pending interrupt if the mask allows; locked.
 * The handler's own irq_save/irq_restore come back here with in_isr set,
 * so it never nests. */
static void take_pending(void)
{
	while (irq_pending && !primask && !in_isr) {
		irq_pending = false;
		in_isr = true;
		st.isr_runs++;
		if (isr_fn != NULL)
			isr_fn(isr_arg);
		in_isr = false;
	}
}

/* ---- The port hooks ------------------------------------------------------ */

static ptio_tick fake_now(void)
{
	ptio_tick t;

	hw_lock();
	t = clock_now;
	hw_unlock();
	return t;
}

static uint64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* WFI: a pending interrupt ends the sleep even while masked.  While it
 * waits for another thread to raise one it lets go of `hw` and yields the
 * host CPU; those threads can raise, but cannot run the handler while
 * primask is set.  (Yielding rather than blocking on a condition variable
 * keeps a sleep far cheaper than a futex round trip: the million-event
 * test sleeps tens of thousands of times.) */
static void fake_idle(ptio_tick now, uint32_t timeout)
{
	uint64_t limit = real_ms() + real_wait_ms;

	hw_lock();
	st.idles++;
	if (!primask)
		st.unmasked_idles++;
	while (!irq_pending && real_wait_ms > 0 && real_ms() < limit) {
		hw_unlock();
		sched_yield();
		hw_lock();
	}
	if (!irq_pending) {
		if (timeout == PTIO_WAIT_FOREVER) {
			st.hangs++;
		} else {
			ptio_tick when = ptio_tick_after(now, timeout);

			if (ptio_tick_before(clock_now, when))
				clock_now = when;
			st.timeouts++;
		}
	}
	hw_unlock();
}

static ptio_port_irq_state fake_irq_save(void)
{
	bool old;

	hw_lock();
	old = primask;
	primask = true;
	hw_unlock();
	return old ? 1u : 0u;
}

static void fake_irq_restore(ptio_port_irq_state state)
{
	hw_lock();
	primask = state != 0;
	take_pending();
	hw_unlock();
}

const struct ptio_port_ops fake_port_ops = {
	.version = PTIO_PORT_OPS_VERSION,
	.now = fake_now,
	.idle = fake_idle,
	.irq_save = fake_irq_save,
	.irq_restore = fake_irq_restore,
};

/* ---- Controls ------------------------------------------------------------ */

void fake_port_reset(ptio_tick start, unsigned wait_ms)
{
	hw_lock();
	primask = false;
	irq_pending = false;
	in_isr = false;
	clock_now = start;
	real_wait_ms = wait_ms;
	isr_fn = NULL;
	isr_arg = NULL;
	st = (struct fake_port_stats){ 0 };
	hw_unlock();
}

void fake_port_set_isr(void (*isr)(void *arg), void *arg)
{
	hw_lock();
	isr_fn = isr;
	isr_arg = arg;
	hw_unlock();
}

void fake_port_raise(void)
{
	hw_lock();
	st.raises++;
	irq_pending = true;
	take_pending();
	hw_unlock();
}

ptio_tick fake_port_now(void)
{
	return fake_now();
}

void fake_port_advance(uint32_t ticks)
{
	hw_lock();
	clock_now += ticks;
	hw_unlock();
}

bool fake_port_masked(void)
{
	bool m;

	hw_lock();
	m = primask;
	hw_unlock();
	return m;
}

struct fake_port_stats fake_port_stats(void)
{
	struct fake_port_stats s;

	hw_lock();
	s = st;
	hw_unlock();
	return s;
}
