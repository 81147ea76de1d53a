/*
 * src/port/port.c - the bare-metal loop backend (see ptio/port.h).
 *
 * Divided into: the interrupt side (ptio_port_source_ready), delivery in
 * thread context, the backend's vtable, source setup and teardown, and
 * the hooks that carry a handler's notify signal or channel send.
 *
 * Every access to the pending list and to a source's `pending` bits sits
 * between ops->irq_save() and ops->irq_restore(), which the port promises
 * are compiler barriers; that, not `volatile`, is what keeps the compiler
 * from caching them across a handler.
 */
#include "ptio/port.h"

/* ---- The interrupt side -------------------------------------------------- */

void ptio_port_source_ready(struct ptio_port_source *ps, unsigned bits)
{
	struct ptio_port_backend *pb = ps->pb;
	ptio_port_irq_state s;

	/* pb is cleared by close, which runs in thread context with the
	 * device's interrupt already disabled, so a handler never sees it
	 * change under its feet. */
	bits &= 0xFFu;
	if (pb == NULL || bits == 0)
		return;
	s = pb->ops->irq_save();
	if (ps->pending == 0) {
		ps->next = pb->pending;
		pb->pending = ps;
	}
	ps->pending = (uint8_t)(ps->pending | bits);
	pb->ops->irq_restore(s);
}

/* ---- Delivery (thread context) ------------------------------------------- */

static struct ptio_port_hook *port_hook_of(struct ptio_port_source *ps)
{
	return PTIO_CONTAINER_OF(ps, struct ptio_port_hook, ps);
}

size_t ptio_port_backend_deliver(struct ptio_port_backend *pb)
{
	const struct ptio_port_ops *ops = pb->ops;
	struct ptio_port_source *ps, *next;
	ptio_port_irq_state s;
	unsigned bits;
	size_t n = 0;

	/* Take the whole list at once, so that a handler firing all the
	 * time cannot keep this loop going: what it reports from now on
	 * starts a new list, delivered by the next wait. */
	s = ops->irq_save();
	ps = pb->pending;
	pb->pending = NULL;
	ops->irq_restore(s);

	for (; ps != NULL; ps = next) {
		/* A source on the detached list still has pending != 0, so a
		 * handler only ORs into its bits and never relinks it.  Once
		 * its bits are taken (masked, together with its link) a
		 * handler may put it on the new list, overwriting `next`,
		 * which has been read by then. */
		s = ops->irq_save();
		next = ps->next;
		ps->next = NULL;
		bits = ps->pending;
		ps->pending = 0;
		ops->irq_restore(s);
		if (ps->hooked)
			port_hook_of(ps)->deliver(port_hook_of(ps), bits);
		else
			ptio_source_ready(&ps->src, bits);
		n++;
	}
	return n;
}

/* ---- The backend --------------------------------------------------------- */

static struct ptio_port_backend *port_of(struct ptio_backend *be)
{
	return PTIO_CONTAINER_OF(be, struct ptio_port_backend, base);
}

static ptio_tick port_now(struct ptio_backend *be)
{
	return port_of(be)->ops->now();
}

/* The sequence documented at the top of ptio/port.h: check with
 * interrupts masked, sleep masked (a pending interrupt ends the sleep),
 * unmask (the handler runs now), deliver. */
static ptio_ssize port_wait(struct ptio_backend *be, uint32_t timeout)
{
	struct ptio_port_backend *pb = port_of(be);
	const struct ptio_port_ops *ops = pb->ops;
	ptio_port_irq_state s;

	s = ops->irq_save();
	if (pb->pending == NULL && timeout != 0) {
		if (pb->before_idle != NULL)
			pb->before_idle(pb);
		ops->idle(ops->now(), timeout);
	}
	ops->irq_restore(s);
	ptio_port_backend_deliver(pb);
	return 0;
}

/* Interrupts report readiness whether or not a task waits, so a change of
 * waiters needs nothing from the hardware. */
static ptio_ssize port_update(struct ptio_backend *be, struct ptio_source *src)
{
	(void)be;
	(void)src;
	return 0;
}

static size_t port_registrations(struct ptio_backend *be)
{
	return port_of(be)->nsources;
}

const struct ptio_backend_vt ptio_port_backend_vt = {
	.version = PTIO_BACKEND_VERSION,
	.now = port_now,
	.wait = port_wait,
	.update = port_update,
	.registrations = port_registrations,
};

struct ptio_backend *ptio_port_backend_init(struct ptio_port_backend *pb,
					    const struct ptio_port_ops *ops)
{
	PTIO_ASSERT(ops != NULL && ops->version >= 1);
	pb->base.vt = &ptio_port_backend_vt;
	pb->ops = ops;
	pb->pending = NULL;
	pb->nsources = 0;
	pb->before_idle = NULL;
	return &pb->base;
}

/* ---- Sources ------------------------------------------------------------- */

void ptio_port_source_init(struct ptio_port_source *ps,
			   struct ptio_port_backend *pb, unsigned ready)
{
	ptio_source_init(&ps->src, ready, 0);
	ps->next = NULL;
	ps->pending = 0;
	ps->hooked = 0;
	ps->pb = pb;
	pb->nsources++;
}

/* Unlink PS from PB's pending list; interrupts are masked. */
static void port_unlink(struct ptio_port_backend *pb,
			struct ptio_port_source *ps)
{
	struct ptio_port_source **p;

	for (p = &pb->pending; *p != NULL; p = &(*p)->next) {
		if (*p == ps) {
			*p = ps->next;
			break;
		}
	}
	ps->next = NULL;
	ps->pending = 0;
}

void ptio_port_source_close(struct ptio_port_source *ps)
{
	struct ptio_port_backend *pb = ps->pb;
	ptio_port_irq_state s;

	if (pb == NULL)
		return;
	s = pb->ops->irq_save();
	if (ps->pending != 0)
		port_unlink(pb, ps);
	ps->pb = NULL;
	pb->ops->irq_restore(s);
	pb->nsources--;
	ptio_source_close(&ps->src);
}

static ptio_ssize port_source_poll_ready(void *self, struct ptio_task *task,
					 unsigned interest)
{
	struct ptio_port_source *ps = self;

	return ptio_source_poll(&ps->src, task, interest);
}

static const struct ptio_ready_vt port_source_ready_vt = {
	.poll_ready = port_source_poll_ready,
};

struct ptio_ready ptio_port_source_as_ready(struct ptio_port_source *ps)
{
	struct ptio_ready o;

	o.self = ps;
	o.vt = &port_source_ready_vt;
	return o;
}

/* ---- Synchronisation from handlers --------------------------------------- */

void ptio_port_hook_init(struct ptio_port_hook *h,
			 struct ptio_port_backend *pb,
			 void (*deliver)(struct ptio_port_hook *h,
					 unsigned bits))
{
	ptio_port_source_init(&h->ps, pb, 0);
	h->ps.hooked = 1;
	h->deliver = deliver;
}

/* Handlers signalled: give the one (merged) signal, in thread context. */
static void port_notify_deliver(struct ptio_port_hook *h, unsigned bits)
{
	struct ptio_port_notify *pn =
		PTIO_CONTAINER_OF(h, struct ptio_port_notify, hook);

	(void)bits;
	ptio_notify_signal(pn->notify);
}

void ptio_port_notify_init(struct ptio_port_notify *pn,
			   struct ptio_port_backend *pb, struct ptio_notify *n)
{
	ptio_port_hook_init(&pn->hook, pb, port_notify_deliver);
	pn->notify = n;
}

void ptio_port_notify_signal(struct ptio_port_notify *pn)
{
	ptio_port_source_ready(&pn->hook.ps, PTIO_READABLE);
}

void ptio_port_notify_close(struct ptio_port_notify *pn)
{
	ptio_port_source_close(&pn->hook.ps);
}

/* Handlers sent: hand the ring's items to blocked receivers. */
static void port_chan_deliver(struct ptio_port_hook *h, unsigned bits)
{
	struct ptio_port_chan *pc =
		PTIO_CONTAINER_OF(h, struct ptio_port_chan, hook);

	(void)bits;
	(void)ptio_chan_deliver(pc->chan);
}

void ptio_port_chan_init(struct ptio_port_chan *pc,
			 struct ptio_port_backend *pb, struct ptio_chan *ch)
{
	ptio_port_hook_init(&pc->hook, pb, port_chan_deliver);
	pc->chan = ch;
	ch->irq_save = pb->ops->irq_save;
	ch->irq_restore = pb->ops->irq_restore;
}

ptio_ssize ptio_port_chan_try_send(struct ptio_port_chan *pc,
				   const void *item)
{
	ptio_ssize r;

	/* pb is cleared by close, in thread context with the interrupt
	 * disabled, as for ptio_port_source_ready. */
	if (pc->hook.ps.pb == NULL)
		return PTIO_ECLOSED;
	r = ptio_chan_try_put(pc->chan, item);
	if (r == 0)
		ptio_port_source_ready(&pc->hook.ps, PTIO_READABLE);
	return r;
}

void ptio_port_chan_close(struct ptio_port_chan *pc)
{
	ptio_port_source_close(&pc->hook.ps);
}
