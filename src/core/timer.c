/*
 * src/core/timer.c - the loop's timers: a top-down splay tree of tasks.
 *
 * Why a splay tree: it needs only two links per task (a binary heap of
 * nodes needs three), no array and no allocation, and insert, remove and
 * find-minimum are O(log n) amortised.  Removing an arbitrary task (a wait
 * that ends before its deadline, the common case) is as cheap as popping
 * the earliest one.
 *
 * Order: by expiry, compared modulo 2^32 (ptio_tick_diff), then by
 * address, so no two nodes compare equal.  The tick comparison is a total
 * order while every armed expiry lies within 2^31 ticks of the others,
 * which holds because delays are clamped to PTIO_TICK_MAX_DELAY and due
 * timers are fired at every iteration of the loop.
 *
 * The splay follows Sleator and Tarjan's top-down formulation: walk from
 * the root towards the key, rotating on zig-zig steps and hanging the
 * passed subtrees on a left and a right assembly tree, then reassemble
 * around the node reached.
 */
#include "core/internal.h"

/* KEY NULL stands for "smaller than every node" (find the minimum). */
static int cmp(const struct ptio_timed_task *key, const struct ptio_timed_task *t)
{
	int32_t d;

	if (key == NULL)
		return -1;
	d = ptio_tick_diff(key->when, t->when);
	if (d != 0)
		return d < 0 ? -1 : 1;
	if (key == t)
		return 0;
	return (uintptr_t)key < (uintptr_t)t ? -1 : 1;
}

static struct ptio_timed_task *splay(struct ptio_timed_task *t, const struct ptio_timed_task *key)
{
	struct ptio_timed_task head, *l = &head, *r = &head, *y;
	int c;

	head.tleft = head.tright = NULL;
	for (;;) {
		c = cmp(key, t);
		if (c < 0) {
			if (t->tleft == NULL)
				break;
			if (cmp(key, t->tleft) < 0) { /* zig-zig: rotate right */
				y = t->tleft;
				t->tleft = y->tright;
				y->tright = t;
				t = y;
				if (t->tleft == NULL)
					break;
			}
			r->tleft = t; /* link right */
			r = t;
			t = t->tleft;
		} else if (c > 0) {
			if (t->tright == NULL)
				break;
			if (cmp(key, t->tright) > 0) { /* zag-zag: rotate left */
				y = t->tright;
				t->tright = y->tleft;
				y->tleft = t;
				t = y;
				if (t->tright == NULL)
					break;
			}
			l->tright = t; /* link left */
			l = t;
			t = t->tright;
		} else {
			break;
		}
	}
	l->tright = t->tleft; /* assemble */
	r->tleft = t->tright;
	t->tleft = head.tright;
	t->tright = head.tleft;
	return t;
}

void ptio__timer_insert(struct ptio_loop *loop, struct ptio_timed_task *task)
{
	struct ptio_timed_task *root = loop->timers;

	if (root == NULL) {
		task->tleft = task->tright = NULL;
	} else {
		root = splay(root, task);
		if (cmp(task, root) < 0) {
			task->tleft = root->tleft;
			task->tright = root;
			root->tleft = NULL;
		} else {
			task->tright = root->tright;
			task->tleft = root;
			root->tright = NULL;
		}
	}
	loop->timers = task;
}

void ptio__timer_remove(struct ptio_loop *loop, struct ptio_timed_task *task)
{
	struct ptio_timed_task *root = splay(loop->timers, task);

	PTIO_ASSERT(root == task);
	if (root->tleft == NULL) {
		root = root->tright;
	} else {
		/* Every node on the left is smaller than TASK, so splaying
		 * for TASK there brings the left side's maximum to its root,
		 * which has no right child. */
		struct ptio_timed_task *x = splay(root->tleft, task);

		x->tright = root->tright;
		root = x;
	}
	loop->timers = root;
	task->tleft = task->tright = NULL;
}

struct ptio_timed_task *ptio__timer_min(struct ptio_loop *loop)
{
	if (loop->timers == NULL)
		return NULL;
	loop->timers = splay(loop->timers, NULL);
	return loop->timers;
}
