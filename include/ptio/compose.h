/*
 * ptio/compose.h - composing awaits in one machine: select (the first of
 * N awaits), child tasks, and join (all of N children).
 *
 * Nothing here allocates: the select, its branches and the children are
 * the caller's memory, usually fields of the struct that holds the task.
 * Aborting a task (ptio_task_abort, ptio/loop.h) reaches it here too: a
 * select or a child wait returns PTIO_ECANCELED.
 *
 * SELECT - the first of N awaits.
 *
 * A select polls N branches, each an await of its own on an op of its
 * own (a read, a write, readiness, a sleep, a child, a machine of yours),
 * all run by one task.  The task waits on every branch at once: a source
 * has one read and one write waiter slot, and the select's task may hold
 * slots on many sources, and the earliest of the branches' timers.  Any
 * of them wakes it, and the wake clears all of them, so the select polls
 * its branches again from the first:
 *
 *     struct conn {
 *             struct ptio_timed_task tt;
 *             struct ptio_select sel;
 *             struct ptio_select_branch br[2];
 *             ...
 *     };
 *
 *     PTIO_SELECT_BEGIN(&t->pt, &c->sel, t, c->br, 2);
 *     PTIO_SELECT_BRANCH(&c->sel, 0, ptio_read(&c->br[0].op, rd, c->buf,
 *                        sizeof c->buf));
 *     PTIO_SELECT_BRANCH(&c->sel, 1, ptio_sleep(&c->br[1].op, 5000));
 *     PTIO_SELECT_END(&t->pt, &c->sel, w);
 *     if (w == 0)
 *             ... ptio_select_result(&c->sel) bytes arrived ...
 *     else if (w == 1)
 *             ... five seconds of silence ...
 *     else
 *             ... w < 0: PTIO_ECANCELED or PTIO_ETIMEDOUT ...
 *
 * The result (W above) is the index of the winner, the first branch in
 * order that finished in the pass that ended the select; its value is
 * ptio_select_result.  A negative result is the select's own: PTIO_ECANCELED
 * when the task was aborted, PTIO_ETIMEDOUT when its deadline passed.
 *
 * The losers: once a branch finishes, the branches after it are not
 * polled in that pass, and before PTIO_SELECT_END lets the machine go on
 * every loser has left its source and its timer.  Nothing a loser did is
 * lost.  A loser that never finished did not consume anything it did not
 * keep: a one-shot read or write either finishes (and wins) or moved no
 * byte, so a read that would have completed in a loser leaves its bytes
 * in the stream for the next read; a read_exact or write_all part-way
 * through keeps its count in ptio_op_done(&br[i].op) and its bytes in its
 * buffer, and awaiting the same call on the same op later goes on where
 * it stopped.
 *
 * PITFALLS of select (and those of ptio/pt.h, which apply):
 *
 *  1. PTIO_SELECT_BEGIN resets every branch's op (ptio_op_init) when the
 *     machine reaches it from above, not on later passes: read a loser's
 *     ptio_op_done before the next select over the same branches, and
 *     keep a deadline meant to span several selects as a moment of your
 *     own (ptio_sleep_until), since a ptio_sleep branch starts over.
 *  2. Each branch's call is evaluated again on every pass, like
 *     PTIO_AWAIT's: the same rules on its arguments apply.
 *  3. Branches are polled in order and the first wins: a branch that is
 *     always ready starves the ones after it.  Put the urgent one first.
 *  4. Nothing may come between PTIO_SELECT_BEGIN and PTIO_SELECT_END but
 *     PTIO_SELECT_BRANCH lines (plain code is fine, awaits are not), and
 *     each branch's op is its own: never the select's machine's op.
 *  5. A branch waits on one thing at a time, as every provided machine
 *     does; a select cannot be a branch of another select in the same
 *     task (start a child task for that).
 *  6. During a pass the task already holds the slots of the branches
 *     polled before: a branch's call must not close or free another
 *     branch's stream (finish the select first).  Between passes it
 *     holds them all, and closing a stream then is fine (the close wakes
 *     the task, which lets go of every slot).
 *
 * CHILD TASKS and JOIN.
 *
 * A child is a timed task (it may sleep and have a deadline) started by
 * a parent task, which it wakes when it finishes; its result is kept for
 * the parent.  The parent awaits it with ptio_child_wait, or all of N
 * with ptio_child_join, or makes it a select branch.  The parent owns
 * the child's memory: it must not finish, or free the child, while the
 * child is alive (abort it and wait for it, or cancel it).
 */
#ifndef PTIO_COMPOSE_H
#define PTIO_COMPOSE_H

#include "base.h"
#include "pt.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Select ------------------------------------------------------------ */

/* One branch: its op (the branch's machine runs on it), and where the
 * select's task waits for it. */
struct ptio_select_branch {
	struct ptio_op op;          /* the branch's own op */
	struct ptio_source *src;    /* the loop's: the source the branch
				       waits on, while the select waits */
};

/* A select over an array of branches.  Its fields are the loop's. */
struct ptio_select {
	struct ptio_task *task;              /* the task that runs it */
	struct ptio_select_branch *branch;   /* the caller's array */
	size_t n;                            /* its length */
	ptio_ssize winner;    /* PTIO_PENDING while polling, then the
				 select's result */
	ptio_ssize result;    /* the winner's result */
	ptio_tick when;       /* the earliest timer a branch armed, */
	uint8_t has_when;     /* if any, in this pass */
};

/* PTIO_SELECT_BEGIN(pt, sel, task, branches, n) - open a select in the
 * machine whose continuation is PT, run by TASK, over the N branches at
 * BRANCHES (N >= 1).  SEL and BRANCHES are the caller's and must stay put
 * until PTIO_SELECT_END lets the machine go on.  It declares a hidden
 * local, so the select's lines form one block. */
#define PTIO_SELECT_BEGIN(pt, sel, task, branches, n)                    \
	ptio_select_init((sel), (task), (branches), (n));                \
	PTIO_LC_LABEL((pt)->lc)                                          \
	PTIO_LC_SAVE((pt)->lc);                                          \
	{                                                                \
		ptio_lc ptio_select_at_ = (pt)->lc;                      \
		(pt)->lc = PTIO_LC_RUNNING_;                             \
		ptio_select_pass(sel)

/* PTIO_SELECT_BRANCH(sel, i, call) - branch I of SEL awaits CALL, which
 * runs on sel's branch I op (`ptio_read(&br[i].op, ...)`).  CALL is not
 * evaluated once a branch before it has finished in this pass. */
#define PTIO_SELECT_BRANCH(sel, i, call)                                 \
	do {                                                             \
		if (ptio_select_open(sel))                               \
			ptio_select_polled((sel), (i), (call));          \
	} while (0)

/* PTIO_SELECT_END(pt, sel, result) - close the select: suspend until a
 * branch finishes, then store the winner's index (or the select's error,
 * < 0) in RESULT, an lvalue of type ptio_ssize. */
#define PTIO_SELECT_END(pt, sel, result)                                 \
		(result) = ptio_select_finish(sel);                      \
		if ((result) == PTIO_PENDING) {                          \
			(pt)->lc = ptio_select_at_;                      \
			return PTIO_PENDING;                             \
		}                                                        \
	}

/* The winner's result, after PTIO_SELECT_END gave its index. */
static inline ptio_ssize ptio_select_result(const struct ptio_select *sel)
{
	return sel->result;
}

/* The macros' halves, for a select written by hand:
 * ptio_select_init binds SEL to TASK and BRANCHES and resets every
 * branch's op; ptio_select_pass starts a pass (delivering an abort or a
 * passed deadline as the select's result); ptio_select_open is true
 * while no branch has finished in this pass; ptio_select_polled records
 * what branch I's call R did (its result, what it registered);
 * ptio_select_finish ends the pass: PTIO_PENDING with the task waiting
 * on every branch, or the result after dropping every registration. */
void ptio_select_init(struct ptio_select *sel, struct ptio_task *task,
		      struct ptio_select_branch *branches, size_t n);
void ptio_select_pass(struct ptio_select *sel);
static inline bool ptio_select_open(const struct ptio_select *sel)
{
	return sel->winner == PTIO_PENDING;
}
void ptio_select_polled(struct ptio_select *sel, size_t i, ptio_ssize r);
ptio_ssize ptio_select_finish(struct ptio_select *sel);

/* ---- Child tasks and join ----------------------------------------------- */

/* A child task.  Its machine receives &child->tt.task (get back to the
 * child with ptio_child_of) and returns PTIO_PENDING, then its result. */
struct ptio_child {
	struct ptio_timed_task tt;   /* the child's task (first) */
	ptio_task_fn fn;             /* its machine */
	struct ptio_task *parent;    /* woken when it finishes */
	ptio_ssize result;           /* PTIO_PENDING until it finishes */
};

/* The child whose task is TASK. */
static inline struct ptio_child *ptio_child_of(struct ptio_task *task)
{
	return PTIO_CONTAINER_OF(task, struct ptio_child, tt.task);
}

/* Start CHILD running FN on PARENT's loop, in the loop's next round;
 * PARENT is woken when it finishes.  Returns 0, or PTIO_EALREADY (and
 * changes nothing) if CHILD is alive.  CHILD is the caller's memory
 * (zero it before its first start, as ptio_task_start says). */
ptio_ssize ptio_child_start(struct ptio_task *parent, struct ptio_child *child,
			    ptio_task_fn fn);

/* Await CHILD from TASK, its parent: CHILD's result once it has finished
 * (at once if it already has), PTIO_ECANCELED if TASK is aborted or
 * PTIO_ETIMEDOUT if TASK's deadline passes first (CHILD runs on: abort
 * it, then wait for it).  Not a machine (no state): PTIO_AWAIT it, or
 * make it a select branch. */
ptio_ssize ptio_child_wait(struct ptio_task *task, struct ptio_child *child);

/* Await all N children CHILDREN[0..N) from TASK: 0 once every one has
 * finished (each result in its `result`), or, as ptio_child_wait,
 * PTIO_ECANCELED or PTIO_ETIMEDOUT with some children still running.
 * The array of pointers is the caller's, read on every resume. */
ptio_ssize ptio_child_join(struct ptio_task *task,
			   struct ptio_child *const *children, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* PTIO_COMPOSE_H */
