/*
 * src/core/timer.c - the loop's timers: a pairing heap of timed tasks.
 *
 * Why a pairing heap: the loop asks for the earliest timer at every
 * iteration, and it is the root, read without any work; inserting is one
 * comparison; removing any timer (a wait that ends before its deadline,
 * the common case) or the earliest one costs O(log n) amortised.  It needs
 * no array and no allocation, and the code is small enough for the flash
 * budget of small targets: three links per timed task, as in libuv's
 * timer heap.
 *
 * Shape: each node keeps its first child (tchild), its next sibling
 * (tnext), and tprev: its previous sibling, or its parent when it is a
 * first child.  A parent expires no later than its children.  The root's
 * tnext and tprev mean nothing; every function here checks for the root
 * before reading them.
 *
 * Order: expiries compare modulo 2^32 (ptio_tick_before), a total order
 * while every armed expiry lies within 2^31 ticks of the others, which
 * holds because delays are clamped to PTIO_TICK_MAX_DELAY and due timers
 * are fired at every iteration of the loop.  Timers due at the same tick
 * fire in no particular order.
 */
#include "core/internal.h"

/* Meld the heaps rooted at A and B (either may be NULL): the root that
 * expires later becomes the other's first child.  Returns the new root,
 * whose own sibling links are the caller's business. */
static struct ptio_timed_task *meld(struct ptio_timed_task *a,
				    struct ptio_timed_task *b)
{
	struct ptio_timed_task *t;

	if (a == NULL)
		return b;
	if (b == NULL)
		return a;
	if (ptio_tick_before(b->when, a->when)) {
		t = a;
		a = b;
		b = t;
	}
	b->tnext = a->tchild;
	if (b->tnext != NULL)
		b->tnext->tprev = b;
	b->tprev = a;
	a->tchild = b;
	return a;
}

/* Meld the sibling list starting at T into one heap, in the two passes
 * that give the pairing heap its amortised bound: pair the siblings left
 * to right, then meld the pairs right to left. */
static struct ptio_timed_task *combine(struct ptio_timed_task *t)
{
	struct ptio_timed_task *pairs = NULL, *a, *b;

	while (t != NULL) {
		a = t;
		b = t->tnext;
		t = b != NULL ? b->tnext : NULL;
		a = meld(a, b);
		a->tnext = pairs; /* a stack of the melded pairs */
		pairs = a;
	}
	while (pairs != NULL) {
		a = pairs;
		pairs = a->tnext;
		t = meld(t, a);
	}
	return t;
}

void ptio__timer_insert(struct ptio_timed_task *tt)
{
	struct ptio_loop *loop = tt->task.loop;

	tt->tchild = NULL;
	loop->timers = meld(loop->timers, tt);
	tt->task.flags |= PTIO__TASK_TIMER;
	loop->ntimers++;
}

void ptio__timer_remove(struct ptio_task *task)
{
	struct ptio_loop *loop = task->loop;
	struct ptio_timed_task *tt, *sub;

	if (!(task->flags & PTIO__TASK_TIMER))
		return;
	tt = PTIO_CONTAINER_OF(task, struct ptio_timed_task, task);
	sub = combine(tt->tchild); /* TT's children, as one heap */
	if (tt == loop->timers) {
		loop->timers = sub;
	} else {
		/* Cut TT out of its sibling list; its children go back into
		 * the heap as SUB. */
		if (tt->tprev->tchild == tt)
			tt->tprev->tchild = tt->tnext;
		else
			tt->tprev->tnext = tt->tnext;
		if (tt->tnext != NULL)
			tt->tnext->tprev = tt->tprev;
		loop->timers = meld(loop->timers, sub);
	}
	task->flags &= (uint8_t)~PTIO__TASK_TIMER;
	loop->ntimers--;
}
