/*
 * src/sim/sim.c - the simulated backend, its events and generator, and
 * the simulated CPU (ptio/sim.h, sections 1 and 4).
 *
 * Divided into: the generator, events, the backend, interrupt lines, and
 * the port hooks.  Events sit in the caller's array in the order they
 * were scheduled; a test schedules tens of them, so a linear scan is the
 * simplest thing that is fast enough.
 */
#include <ptio/sim.h>

/* ---- The generator (xorshift32) ----------------------------------------- */

uint32_t ptio_sim_rand(struct ptio_sim *sim)
{
	uint32_t x = sim->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return sim->rng = x;
}

uint32_t ptio_sim_below(struct ptio_sim *sim, uint32_t n)
{
	return ptio_sim_rand(sim) % n;
}

bool ptio_sim_chance(struct ptio_sim *sim, unsigned permille)
{
	return permille > 0 && ptio_sim_below(sim, 1000) < permille;
}

/* A generator state from SEED: scrambled so neighbouring seeds differ at
 * once, and never 0 (xorshift's one fixed point). */
static uint32_t seed_state(uint32_t seed)
{
	uint32_t x = seed * 0x9E3779B9u + 0x6A09E667u;

	x ^= x >> 16;
	x *= 0x7FEB352Du;
	x ^= x >> 15;
	x *= 0x846CA68Bu;
	x ^= x >> 16;
	return x != 0 ? x : 0x1234567u;
}

/* ---- Events ----------------------------------------------------------------- */

static ptio_ssize schedule(struct ptio_sim *sim, struct ptio_source *src,
			   struct ptio_sim_irq *irq, unsigned bits,
			   uint32_t delay)
{
	struct ptio_sim_event *e;

	if (sim->nev == sim->maxev) {
		sim->overflows++;
		return PTIO_ENOSPC;
	}
	e = &sim->ev[sim->nev++];
	e->src = src;
	e->irq = irq;
	e->bits = (uint8_t)bits;
	e->when = ptio_tick_after(sim->now, delay);
	return 0;
}

ptio_ssize ptio_sim_signal(struct ptio_sim *sim, struct ptio_source *src,
			   unsigned bits, uint32_t delay)
{
	return schedule(sim, src, NULL, bits, delay);
}

static void event_remove(struct ptio_sim *sim, size_t i)
{
	for (; i + 1 < sim->nev; i++)
		sim->ev[i] = sim->ev[i + 1];
	sim->nev--;
}

/* Drop the events that match SRC or IRQ (both NULL: every event). */
static void forget(struct ptio_sim *sim, const struct ptio_source *src,
		   const struct ptio_sim_irq *irq)
{
	size_t i = 0;
	bool all = src == NULL && irq == NULL;

	while (i < sim->nev) {
		if (all || (src != NULL && sim->ev[i].src == src) ||
		    (irq != NULL && sim->ev[i].irq == irq))
			event_remove(sim, i);
		else
			i++;
	}
}

void ptio_sim_forget(struct ptio_sim *sim, const struct ptio_source *src)
{
	forget(sim, src, NULL);
}

static void irq_fire(struct ptio_sim_irq *irq);

/* Run the due events that were scheduled before this call, oldest first.
 * Each is removed before it runs (running one may schedule others; those
 * wait for the next delivery, so a chain of zero-delay events cannot keep
 * the loop here). */
void ptio_sim_deliver(struct ptio_sim *sim)
{
	size_t i = 0, left = sim->nev;

	while (i < left) {
		struct ptio_sim_event e = sim->ev[i];

		if (!ptio_tick_reached(sim->now, e.when)) {
			i++;
			continue;
		}
		event_remove(sim, i);
		left--;
		if (e.irq != NULL)
			irq_fire(e.irq);
		else
			ptio_source_ready(e.src, e.bits);
	}
}

/* Ticks to the earliest event (0 when one is due); false with none. */
static bool next_event(const struct ptio_sim *sim, uint32_t *ticks)
{
	int32_t best = INT32_MAX;
	size_t i;

	for (i = 0; i < sim->nev; i++) {
		int32_t d = ptio_tick_diff(sim->ev[i].when, sim->now);

		if (d < best)
			best = d;
	}
	*ticks = best < 0 ? 0 : (uint32_t)best;
	return sim->nev > 0;
}

/* Jump the clock to the earlier of the next event and TIMEOUT.  False
 * when there is neither: waiting would never end. */
static bool jump(struct ptio_sim *sim, uint32_t timeout)
{
	uint32_t next;
	bool have = next_event(sim, &next);

	if (!have && timeout == PTIO_WAIT_FOREVER)
		return false;
	if (have && next < timeout)
		timeout = next;
	sim->now = ptio_tick_after(sim->now, timeout);
	return true;
}

void ptio_sim_advance(struct ptio_sim *sim, uint32_t ticks)
{
	sim->now = ptio_tick_after(sim->now, ticks);
}

/* ---- The backend ----------------------------------------------------------- */

static struct ptio_sim *sim_of(struct ptio_backend *be)
{
	return PTIO_CONTAINER_OF(be, struct ptio_sim, base);
}

static ptio_tick sim_now(struct ptio_backend *be)
{
	return sim_of(be)->now;
}

static ptio_ssize sim_wait(struct ptio_backend *be, uint32_t timeout)
{
	struct ptio_sim *sim = sim_of(be);

	sim->waits++;
	if (!jump(sim, timeout))
		return PTIO_SIM_STALL;
	ptio_sim_deliver(sim);
	return 0;
}

static ptio_ssize sim_update(struct ptio_backend *be, struct ptio_source *src)
{
	(void)be;
	(void)src;
	return 0;
}

const struct ptio_backend_vt ptio_sim_backend_vt = {
	.version = PTIO_BACKEND_VERSION,
	.now = sim_now,
	.wait = sim_wait,
	.update = sim_update,
};

struct ptio_backend *ptio_sim_init(struct ptio_sim *sim, ptio_tick start,
				   uint32_t seed, struct ptio_sim_event *events,
				   size_t maxev)
{
	sim->base.vt = &ptio_sim_backend_vt;
	sim->now = start;
	sim->rng = seed_state(seed);
	sim->ev = events;
	sim->nev = 0;
	sim->maxev = maxev;
	sim->waits = 0;
	sim->overflows = 0;
	sim->irqs = NULL;
	sim->masked = 0;
	sim->in_isr = 0;
	sim->stalled = 0;
	return &sim->base;
}

/* ---- Interrupt lines ------------------------------------------------------- */

/* Run the handlers of pending lines, unless masked or inside one. */
static void take_pending(struct ptio_sim *sim)
{
	struct ptio_sim_irq *irq = sim->irqs;

	while (irq != NULL && !sim->masked && !sim->in_isr) {
		if (!irq->pending) {
			irq = irq->next;
			continue;
		}
		irq->pending = 0;
		irq->taken++;
		sim->in_isr = 1;
		irq->isr(irq->arg);
		sim->in_isr = 0;
		irq = sim->irqs; /* a handler may have raised an earlier line */
	}
}

static void irq_fire(struct ptio_sim_irq *irq)
{
	irq->pending = 1;
	take_pending(irq->sim);
}

void ptio_sim_irq_init(struct ptio_sim_irq *irq, struct ptio_sim *sim,
		       void (*isr)(void *arg), void *arg)
{
	irq->isr = isr;
	irq->arg = arg;
	irq->sim = sim;
	irq->pending = 0;
	irq->taken = 0;
	irq->next = sim->irqs;
	sim->irqs = irq;
}

ptio_ssize ptio_sim_irq_raise(struct ptio_sim_irq *irq, uint32_t delay)
{
	if (delay > 0)
		return schedule(irq->sim, NULL, irq, 0, delay);
	irq_fire(irq);
	return 0;
}

void ptio_sim_irq_close(struct ptio_sim_irq *irq)
{
	struct ptio_sim_irq **link = &irq->sim->irqs;

	forget(irq->sim, NULL, irq);
	while (*link != NULL && *link != irq)
		link = &(*link)->next;
	if (*link == irq)
		*link = irq->next;
	irq->pending = 0;
}

/* ---- The port hooks --------------------------------------------------------- */

/* The simulated CPU the hooks act on: they take no argument. */
static struct ptio_sim *cpu;

static ptio_tick cpu_now(void)
{
	return cpu->now;
}

/* WFI with interrupts masked: return at once if a line is pending;
 * otherwise jump to the next event (a raise there only makes its line
 * pending: the port backend's unmask runs the handler). */
static void cpu_idle(ptio_tick now, uint32_t timeout)
{
	struct ptio_sim_irq *irq;

	(void)now;
	cpu->waits++;
	for (irq = cpu->irqs; irq != NULL; irq = irq->next)
		if (irq->pending)
			return;
	if (!jump(cpu, timeout)) {
		cpu->stalled = 1;
		return;
	}
	ptio_sim_deliver(cpu);
}

static ptio_port_irq_state cpu_irq_save(void)
{
	ptio_port_irq_state old = cpu->masked;

	cpu->masked = 1;
	return old;
}

static void cpu_irq_restore(ptio_port_irq_state state)
{
	cpu->masked = (uint8_t)(state != 0);
	take_pending(cpu);
}

static const struct ptio_port_ops cpu_ops = {
	.version = PTIO_PORT_OPS_VERSION,
	.now = cpu_now,
	.idle = cpu_idle,
	.irq_save = cpu_irq_save,
	.irq_restore = cpu_irq_restore,
};

const struct ptio_port_ops *ptio_sim_port_ops(struct ptio_sim *sim)
{
	cpu = sim;
	return &cpu_ops;
}
