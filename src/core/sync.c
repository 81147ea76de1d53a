/*
 * src/core/sync.c - notify, semaphore and bounded channel (ptio/sync.h).
 *
 * Divided into: waiters and their queues (the one wait every primitive's
 * machine is built on), notify, the semaphore, and the channel (its ring,
 * then its non-blocking calls, then its machines).
 *
 * Every primitive keeps the same invariant: a task is queued only while
 * what it waits for is unavailable (a notify with waiters holds no
 * permit, a semaphore with waiters has count 0, a channel with blocked
 * senders is full and one with blocked receivers is empty), and whoever
 * makes it available hands it to the first waiter directly.  The one
 * exception is an interrupt handler's send, which only fills the ring:
 * ptio_chan_deliver, run by the port in thread context, restores the
 * invariant, and every thread-side call on the channel runs it first.
 */
#include "core/internal.h"

/* ---- Waiters and queues -------------------------------------------------- */

static void queue_init(struct ptio_wait_link *q)
{
	q->next = q->prev = q;
}

static bool queue_empty(const struct ptio_wait_link *q)
{
	return q->next == q;
}

static struct ptio_waiter *queue_first(struct ptio_wait_link *q)
{
	return PTIO_CONTAINER_OF(q->next, struct ptio_waiter, link);
}

static void queue_push(struct ptio_wait_link *q, struct ptio_waiter *w)
{
	struct ptio_wait_link *l = &w->link;

	l->prev = q->prev;
	l->next = q;
	q->prev->next = l;
	q->prev = l;
}

void ptio_waiter_init(struct ptio_waiter *w, struct ptio_task *task)
{
	ptio_op_init(&w->op, task);
	ptio_source_init(&w->src, 0, PTIO__SOURCE_WAITER);
	queue_init(&w->link);
	w->item = NULL;
	w->result = PTIO_PENDING;
}

/* Hand RESULT to W, which is queued, and wake its task.  The wake clears
 * the task's slot on W's source; W is unlinked first, so the queue is
 * right even while the task is queued to run. */
static void waiter_finish(struct ptio_waiter *w, ptio_ssize result)
{
	ptio__wait_unlink(&w->link);
	w->result = result;
	ptio_task_wake(w->op.task);
}

/* Hand RESULT to every waiter of Q, first to last; returns how many. */
static size_t queue_finish_all(struct ptio_wait_link *q, ptio_ssize result)
{
	size_t n = 0;

	for (; !queue_empty(q); n++)
		waiter_finish(queue_first(q), result);
	return n;
}

/* A waiter's private source, as a Ready object for ptio__wait_until.  It
 * never becomes ready: only a hand-over (a wake) ends the wait. */
static ptio_ssize waiter_poll_ready(void *self, struct ptio_task *task,
				    unsigned interest)
{
	struct ptio_waiter *w = self;

	return ptio_source_poll(&w->src, task, interest);
}

static const struct ptio_ready_vt waiter_ready_vt = {
	.poll_ready = waiter_poll_ready,
};

/* Register W's task (its slot, its deadline's timer) and queue W at the
 * end of Q.  A task that is already queued to run registers nothing and
 * simply tries again next round, so W is queued only when the slot was
 * taken: the slot's release is what unlinks it. */
static ptio_ssize waiter_sleep(struct ptio_waiter *w, struct ptio_wait_link *q)
{
	struct ptio_task *task = w->op.task;
	struct ptio_ready o;
	ptio_ssize r;

	o.self = w;
	o.vt = &waiter_ready_vt;
	r = ptio__wait_until(task, o, PTIO_READ, false, 0);
	if (r == PTIO_PENDING && w->src.waiter[PTIO_SLOT_READ] == task)
		queue_push(q, w);
	return r;
}

typedef ptio_ssize (*try_fn)(void *obj, void *item);

/*
 * One poll of a wait on Q: the hand-over if one came; else spend budget
 * and check the deadline, try TRY_NOW(OBJ, w->item), and queue when it
 * would block.  A poll while W is still queued (the machine called by
 * hand) changes nothing.
 */
static ptio_ssize wait_poll(struct ptio_waiter *w, try_fn try_now, void *obj,
			    struct ptio_wait_link *q)
{
	ptio_ssize r;

	if (w->result != PTIO_PENDING)
		return w->result;
	if (ptio_waiter_queued(w))
		return PTIO_PENDING;
	r = ptio_task_spend(w->op.task);
	if (r == 0)
		r = try_now(obj, w->item);
	if (r == PTIO_WOULD_BLOCK)
		r = waiter_sleep(w, q);
	return r;
}

/* The body of every waiting machine: one await of wait_poll, with the
 * result in R.  A macro because a machine's continuation must live in the
 * function that suspends. */
#define PTIO__WAIT_MACHINE(r, w, try_now, obj, q)                         \
	PTIO_BEGIN(&(w)->op.pt);                                          \
	(w)->result = PTIO_PENDING;                                       \
	PTIO_AWAIT(&(w)->op.pt, r, wait_poll((w), (try_now), (obj), (q))); \
	PTIO_END_WITH(&(w)->op.pt, r)

/* ---- Notify -------------------------------------------------------------- */

void ptio_notify_init(struct ptio_notify *n)
{
	queue_init(&n->waiters);
	n->permit = 0;
	n->broadcasts = 0;
}

void ptio_notify_signal(struct ptio_notify *n)
{
	if (queue_empty(&n->waiters))
		n->permit = 1;
	else
		waiter_finish(queue_first(&n->waiters), 0);
}

size_t ptio_notify_broadcast(struct ptio_notify *n)
{
	n->broadcasts = (uint16_t)(n->broadcasts + 1u);
	return queue_finish_all(&n->waiters, 0);
}

ptio_ssize ptio_notify_try_wait(struct ptio_notify *n)
{
	if (!n->permit)
		return PTIO_WOULD_BLOCK;
	n->permit = 0;
	return 0;
}

/* ITEM is the broadcast count when the wait began (ptio_notify_wait
 * keeps it in the waiter's item, which a notify does not otherwise use):
 * a broadcast since then ends the wait even though it found this waiter
 * out of the queue (woken by something else, about to queue again). */
static ptio_ssize notify_try(void *obj, void *item)
{
	struct ptio_notify *n = obj;

	if ((uint16_t)(uintptr_t)item != n->broadcasts)
		return 0;
	return ptio_notify_try_wait(n);
}

ptio_ssize ptio_notify_wait(struct ptio_waiter *w, struct ptio_notify *n)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&w->op.pt);
	w->result = PTIO_PENDING;
	w->item = (void *)(uintptr_t)n->broadcasts;
	PTIO_AWAIT(&w->op.pt, r,
		   wait_poll(w, notify_try, n, &n->waiters));
	PTIO_END_WITH(&w->op.pt, r);
}

/* ---- Semaphore ----------------------------------------------------------- */

void ptio_sem_init(struct ptio_sem *sem, size_t count)
{
	queue_init(&sem->waiters);
	sem->count = count;
}

ptio_ssize ptio_sem_try_acquire(struct ptio_sem *sem)
{
	if (sem->count == 0)
		return PTIO_WOULD_BLOCK;
	sem->count--;
	return 0;
}

void ptio_sem_release(struct ptio_sem *sem)
{
	if (queue_empty(&sem->waiters))
		sem->count++;
	else
		waiter_finish(queue_first(&sem->waiters), 0);
}

static ptio_ssize sem_try(void *obj, void *item)
{
	(void)item;
	return ptio_sem_try_acquire(obj);
}

ptio_ssize ptio_sem_acquire(struct ptio_waiter *w, struct ptio_sem *sem)
{
	ptio_ssize r = 0;

	PTIO__WAIT_MACHINE(r, w, sem_try, sem, &sem->waiters);
}

/* ---- The channel's ring ---------------------------------------------------
 *
 * Every access to buf, head, count and closed is made between chan_lock
 * and chan_unlock, which mask interrupts when a handler may send (the
 * hooks are compiler barriers, as ptio/port.h requires) and cost a test
 * otherwise.  The queues are thread context only and need no mask. */

static uint32_t chan_lock(const struct ptio_chan *ch)
{
	return ch->irq_save != NULL ? ch->irq_save() : 0;
}

static void chan_unlock(const struct ptio_chan *ch, uint32_t state)
{
	if (ch->irq_restore != NULL)
		ch->irq_restore(state);
}

/* Copy ITEM in at the ring's end.  Masked; the ring has room. */
static void ring_put(struct ptio_chan *ch, const void *item)
{
	size_t i = ch->head + ch->count;

	if (i >= ch->cap)
		i -= ch->cap;
	ptio__copy(ch->buf + i * ch->size, item, ch->size);
	ch->count++;
}

/* Copy the oldest item out to ITEM.  Masked; the ring is not empty. */
static void ring_take(struct ptio_chan *ch, void *item)
{
	ptio__copy(item, ch->buf + ch->head * ch->size, ch->size);
	if (++ch->head == ch->cap)
		ch->head = 0;
	ch->count--;
}

/* Take the oldest item into ITEM: true, or false when the ring is empty. */
static bool ring_take_locked(struct ptio_chan *ch, void *item)
{
	uint32_t s = chan_lock(ch);
	bool ok = ch->count > 0;

	if (ok)
		ring_take(ch, item);
	chan_unlock(ch, s);
	return ok;
}

ptio_ssize ptio_chan_init(struct ptio_chan *ch, void *buf, size_t size,
			  size_t cap)
{
	if (buf == NULL || size == 0 || cap == 0 ||
	    cap > PTIO_SSIZE_MAX / size)
		return PTIO_EINVAL;
	ch->buf = buf;
	ch->size = size;
	ch->cap = cap;
	ch->head = ch->count = 0;
	queue_init(&ch->senders);
	queue_init(&ch->receivers);
	ch->closed = 0;
	ch->irq_save = NULL;
	ch->irq_restore = NULL;
	return 0;
}

size_t ptio_chan_len(const struct ptio_chan *ch)
{
	uint32_t s = chan_lock(ch);
	size_t n = ch->count;

	chan_unlock(ch, s);
	return n;
}

/* ---- The channel's non-blocking calls ------------------------------------ */

/* A place was freed: move blocked senders' items into the ring, oldest
 * sender first, while there is room. */
static void chan_refill(struct ptio_chan *ch)
{
	struct ptio_waiter *w;

	while (!queue_empty(&ch->senders)) {
		w = queue_first(&ch->senders);
		if (ptio_chan_try_put(ch, w->item) != 0)
			break;
		waiter_finish(w, 0);
	}
}

ptio_ssize ptio_chan_try_put(struct ptio_chan *ch, const void *item)
{
	uint32_t s = chan_lock(ch);
	ptio_ssize r = 0;

	if (ch->closed)
		r = PTIO_ECLOSED;
	else if (ch->count == ch->cap)
		r = PTIO_WOULD_BLOCK;
	else
		ring_put(ch, item);
	chan_unlock(ch, s);
	return r;
}

size_t ptio_chan_deliver(struct ptio_chan *ch)
{
	struct ptio_waiter *w;
	size_t n = 0;

	while (!queue_empty(&ch->receivers)) {
		w = queue_first(&ch->receivers);
		if (!ring_take_locked(ch, w->item))
			break;
		waiter_finish(w, 0);
		n++;
	}
	if (n != 0)
		chan_refill(ch);
	return n;
}

ptio_ssize ptio_chan_try_send(struct ptio_chan *ch, const void *item)
{
	ptio_ssize r;

	/* Items a handler left come before this one, and blocked receivers
	 * get them before the ring is judged full. */
	ptio_chan_deliver(ch);
	r = ptio_chan_try_put(ch, item);
	if (r == 0)
		ptio_chan_deliver(ch);
	return r;
}

ptio_ssize ptio_chan_try_recv(struct ptio_chan *ch, void *item)
{
	uint32_t s;
	bool closed;

	/* Receivers that already wait come first. */
	ptio_chan_deliver(ch);
	if (ring_take_locked(ch, item)) {
		chan_refill(ch);
		return 0;
	}
	s = chan_lock(ch);
	closed = ch->closed != 0;
	chan_unlock(ch, s);
	return closed ? PTIO_ECLOSED : PTIO_WOULD_BLOCK;
}

void ptio_chan_close(struct ptio_chan *ch)
{
	uint32_t s = chan_lock(ch);

	ch->closed = 1;
	chan_unlock(ch, s);
	/* Receivers take what the ring holds before they hear of the close;
	 * blocked senders' items are not sent. */
	ptio_chan_deliver(ch);
	(void)queue_finish_all(&ch->senders, PTIO_ECLOSED);
	(void)queue_finish_all(&ch->receivers, PTIO_ECLOSED);
}

/* ---- The channel's machines ---------------------------------------------- */

static ptio_ssize chan_send_try(void *obj, void *item)
{
	return ptio_chan_try_send(obj, item);
}

static ptio_ssize chan_recv_try(void *obj, void *item)
{
	return ptio_chan_try_recv(obj, item);
}

ptio_ssize ptio_chan_send(struct ptio_waiter *w, struct ptio_chan *ch,
			  const void *item)
{
	ptio_ssize r = 0;

	/* The item is the waiter's until a receiver copies it; the machine
	 * never writes through it. */
	w->item = (void *)(uintptr_t)item;
	PTIO__WAIT_MACHINE(r, w, chan_send_try, ch, &ch->senders);
}

ptio_ssize ptio_chan_recv(struct ptio_waiter *w, struct ptio_chan *ch,
			  void *item)
{
	ptio_ssize r = 0;

	w->item = item;
	PTIO__WAIT_MACHINE(r, w, chan_recv_try, ch, &ch->receivers);
}
