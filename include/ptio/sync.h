/*
 * ptio/sync.h - synchronisation between tasks, allocation-free: a
 * notification, a counting semaphore and a bounded channel of fixed-size
 * items over caller memory.
 *
 * Divided into:
 *   1. Waiters: the caller-owned state of one wait, and the queue a
 *      primitive keeps them in.
 *   2. Notify: a one-permit signal (tokio's Notify, a binary semaphore).
 *   3. Semaphore: a counting semaphore.
 *   4. Channel: a bounded FIFO of fixed-size items, many producers, many
 *      consumers.
 * Interrupt handlers reach a notify or a channel through the port (see
 * section 4 of ptio/port.h): a handler calls nothing here but
 * ptio_chan_try_put, and that through ptio_port_chan_try_send.
 *
 * What a wait registers, and how it is undone.  Every blocking call here
 * is a machine that runs on a struct ptio_waiter (its op, first in it).
 * When it must wait it registers exactly two things, both in the
 * waiter's own memory: the task's one wait slot, on a source private to
 * the waiter (so the loop counts it in ptio_loop_registrations and undoes
 * it like any readiness wait), and the waiter's link in the primitive's
 * FIFO queue.  The two come and go together: whatever ends the wait (the
 * primitive handing the waiter what it waited for, the task's deadline or
 * a sleep's timer, ptio_task_wake, ptio_task_cancel) clears the slot, and
 * clearing the slot unlinks the waiter from the queue.  So after the
 * machine returns, and after a cancel, nothing points at the waiter or the
 * task; a later select can end the wait the same way.
 *
 * Fairness.  Queues are FIFO and hand over directly: a release, a signal
 * or a send gives the unit, the permit or the item to the first waiter
 * and only then wakes it, so a task that arrives later cannot take it
 * first, and several producers blocked on a full channel all get to send,
 * in the order they blocked.  A waiter woken by anything else (its
 * deadline excepted) tries again and, if it must wait again, queues at
 * the end.
 *
 * One caveat of direct hand-over: cancelling (forgetting) a task after a
 * primitive handed it something and before it ran loses that thing: a
 * semaphore unit, a notification permit, a received item (it is in the
 * task's buffer).  Cancel only tasks whose state you discard anyway.
 *
 * Deadlines.  Waits honour the task's deadline (ptio_task_set_deadline):
 * a wait whose deadline passes returns PTIO_ETIMEDOUT and leaves no
 * registration behind; a hand-over that happened first wins.  Every wait
 * spends from the task's budget (ptio_task_spend), so a task that never
 * has to wait still yields to the others.
 *
 * Context.  Everything here but ptio_chan_try_put runs in thread
 * context (tasks, or code outside the loop), on one loop.  Nothing allocates; every struct is the
 * caller's.  Everything is freestanding.
 */
#ifndef PTIO_SYNC_H
#define PTIO_SYNC_H

#include "base.h"
#include "io.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- 1. Waiters ---------------------------------------------------------- */

/* An intrusive doubly linked, circular list link.  A queue is a link
 * that is its own neighbour when empty; so is an unlinked waiter. */
struct ptio_wait_link {
	struct ptio_wait_link *next;
	struct ptio_wait_link *prev;
};

/*
 * The state of one wait on a primitive: the op its machine runs on, and
 * what the queue needs.  One per concurrent wait (a task that waits for
 * one thing at a time needs one).  About 44 bytes on a 32-bit target.
 */
struct ptio_waiter {
	struct ptio_op op;            /* first: the machine's state */
	struct ptio_source src;       /* holds the task's wait slot */
	struct ptio_wait_link link;   /* its place in a primitive's queue */
	void *item;                   /* channel: what to send, where to
					 receive */
	ptio_ssize result;            /* PTIO_PENDING until handed over */
};

/* Bind W to TASK, unqueued.  Do it once; the machines reset what they
 * need when they start, so W can serve one wait after another. */
void ptio_waiter_init(struct ptio_waiter *w, struct ptio_task *task);

/* True while W is queued on a primitive (its task is waiting). */
static inline bool ptio_waiter_queued(const struct ptio_waiter *w)
{
	return w->link.next != &w->link;
}

/* ---- 2. Notify ----------------------------------------------------------- */

/*
 * A notification: ptio_notify_signal wakes one waiting task, or, when
 * none waits, leaves one permit that the next wait takes at once.
 * Signals while a permit is stored merge (it is a flag, not a count).
 * A broadcast ends every wait that has begun and not ended, including
 * that of a task which another wake (ptio_task_wake, a deadline that
 * its machine retried) had taken out of the queue for a moment.
 */
struct ptio_notify {
	struct ptio_wait_link waiters; /* FIFO of struct ptio_waiter */
	uint8_t permit;                /* 1: signalled, nobody waited yet */
	uint16_t broadcasts;           /* how many so far, wrapping (a wait
					  out of the queue for one round
					  would miss exactly 65,536 of
					  them; 16 bits keep the struct
					  at 12 bytes on 32-bit ports) */
};

void ptio_notify_init(struct ptio_notify *n);

/* Give the permit to the first waiter (it wakes with 0), or store it. */
void ptio_notify_signal(struct ptio_notify *n);

/* End every wait in progress (each returns 0) and store no permit.
 * Returns how many queued waiters woke (a wait that was out of the queue
 * when it came ends at its next poll, and is not counted). */
size_t ptio_notify_broadcast(struct ptio_notify *n);

/* Take the permit if there is one: 0, else PTIO_WOULD_BLOCK. */
ptio_ssize ptio_notify_try_wait(struct ptio_notify *n);

/* Machine: wait for a signal (taking the stored permit at once if there
 * is one).  Returns 0, PTIO_ETIMEDOUT, or PTIO_EBUSY when the task is
 * already waiting elsewhere.  Same on every resume: W, N. */
ptio_ssize ptio_notify_wait(struct ptio_waiter *w, struct ptio_notify *n);

/* ---- 3. Semaphore -------------------------------------------------------- */

/* A counting semaphore.  Units are taken one at a time. */
struct ptio_sem {
	struct ptio_wait_link waiters; /* FIFO of struct ptio_waiter */
	size_t count;                  /* units available; 0 while any
					  task waits */
};

void ptio_sem_init(struct ptio_sem *sem, size_t count);

/* Take a unit: 0, or PTIO_WOULD_BLOCK when there is none. */
ptio_ssize ptio_sem_try_acquire(struct ptio_sem *sem);

/* Machine: take a unit, waiting in FIFO order for one.  Returns 0,
 * PTIO_ETIMEDOUT (no unit taken), or PTIO_EBUSY.  Same on every resume:
 * W, SEM. */
ptio_ssize ptio_sem_acquire(struct ptio_waiter *w, struct ptio_sem *sem);

/* Give a unit back: to the first waiter (which wakes holding it) or to
 * the count.  From any task, not only the one that took it. */
void ptio_sem_release(struct ptio_sem *sem);

/* Units available now. */
static inline size_t ptio_sem_count(const struct ptio_sem *sem)
{
	return sem->count;
}

/* ---- 4. Channel ---------------------------------------------------------- */

/*
 * A bounded channel: a ring of CAP items of SIZE bytes in caller memory,
 * with FIFO queues of blocked senders and receivers.  Items are copied
 * in and out byte by byte; a receiver sees every producer's items in the
 * order that producer sent them, and nothing is lost or duplicated.
 *
 * An interrupt handler may send into a channel through a
 * struct ptio_port_chan (ptio/port.h), which sets irq_save and
 * irq_restore: every access to the ring is then made with interrupts
 * masked.  Leave them NULL otherwise.
 */
struct ptio_chan {
	uint8_t *buf;                  /* cap * size bytes, the caller's */
	size_t size;                   /* bytes per item */
	size_t cap;                    /* items the ring holds */
	size_t head;                   /* index of the oldest item */
	size_t count;                  /* items in the ring */
	struct ptio_wait_link senders;   /* blocked senders (ring full) */
	struct ptio_wait_link receivers; /* blocked receivers (ring empty) */
	uint8_t closed;                /* ptio_chan_close was called */
	/* Interrupt masking, when a handler sends (set by the port). */
	uint32_t (*irq_save)(void);
	void (*irq_restore)(uint32_t state);
};

/* Initialise CH over BUF, which holds CAP items of SIZE bytes (both at
 * least 1; BUF must outlive CH).  Returns 0 or PTIO_EINVAL. */
ptio_ssize ptio_chan_init(struct ptio_chan *ch, void *buf, size_t size,
			  size_t cap);

/* Send a copy of ITEM (SIZE bytes) without waiting: to the first blocked
 * receiver, else into the ring.  0, PTIO_WOULD_BLOCK when the ring is
 * full, or PTIO_ECLOSED.  Thread context (handlers: ptio/port.h). */
ptio_ssize ptio_chan_try_send(struct ptio_chan *ch, const void *item);

/* Receive the oldest item into ITEM (SIZE bytes) without waiting; a
 * blocked sender's item then takes the freed place.  0,
 * PTIO_WOULD_BLOCK when the channel is empty, or PTIO_ECLOSED when it is
 * empty and closed (items sent before the close are still received). */
ptio_ssize ptio_chan_try_recv(struct ptio_chan *ch, void *item);

/* Machine: send ITEM, waiting while the ring is full.  Returns 0,
 * PTIO_ECLOSED (not sent), PTIO_ETIMEDOUT (not sent) or PTIO_EBUSY.
 * ITEM is copied when the item is handed over, so it must stay the same
 * until the call finishes; same on every resume: W, CH, ITEM. */
ptio_ssize ptio_chan_send(struct ptio_waiter *w, struct ptio_chan *ch,
			  const void *item);

/* Machine: receive into ITEM, waiting while the channel is empty.
 * Returns 0, PTIO_ECLOSED (closed and drained), PTIO_ETIMEDOUT or
 * PTIO_EBUSY.  ITEM is written by whoever hands the item over, so it must
 * stay valid until the call finishes; same on every resume: W, CH, ITEM. */
ptio_ssize ptio_chan_recv(struct ptio_waiter *w, struct ptio_chan *ch,
			  void *item);

/* Close CH: later sends fail with PTIO_ECLOSED, and so do blocked ones
 * (their items are not sent); receivers drain what is in the ring and
 * then get PTIO_ECLOSED.  Idempotent. */
void ptio_chan_close(struct ptio_chan *ch);

/* Put a copy of ITEM at the ring's end and nothing else: no waiter is
 * touched, so it is what an interrupt handler calls (through
 * ptio_port_chan_try_send, which then tells the loop), safe there when
 * the irq hooks are set.  0, PTIO_WOULD_BLOCK when full, PTIO_ECLOSED.
 * Blocked receivers get the item only at the next ptio_chan_deliver. */
ptio_ssize ptio_chan_try_put(struct ptio_chan *ch, const void *item);

/* Hand items that an interrupt handler put in the ring to blocked
 * receivers.  The port calls it in thread context after a handler sent;
 * returns how many were handed over. */
size_t ptio_chan_deliver(struct ptio_chan *ch);

/* Items in the ring now (a snapshot when a handler sends). */
size_t ptio_chan_len(const struct ptio_chan *ch);

#ifdef __cplusplus
}
#endif

#endif /* PTIO_SYNC_H */
