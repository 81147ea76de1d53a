/*
 * ptio/pt.h - machines: stackless async functions as protothreads.
 *
 * A machine is an ordinary C function whose body sits between PTIO_BEGIN
 * and PTIO_END.  Where the Rust design says `x = f().await`, a machine says
 * PTIO_AWAIT(pt, x, f(...)): if f is not finished it returns PTIO_PENDING,
 * the machine records where it stopped and returns PTIO_PENDING too, and
 * the next time its task runs the machine jumps straight back to the await
 * and calls f again.  When a machine finishes it returns its result (a
 * value >= 0 or an error code) and resets its continuation, so the same
 * state can run the machine again from the top.
 *
 *     struct greeter {
 *             struct ptio_task task;   (the top-level machine's state)
 *             struct ptio_op op;       (state of one awaited operation)
 *             struct ptio_fd fd;
 *     };
 *
 *     static ptio_ssize greet(struct ptio_task *t)
 *     {
 *             struct greeter *g = PTIO_CONTAINER_OF(t, struct greeter, task);
 *             ptio_ssize r = 0;
 *
 *             PTIO_BEGIN(&t->pt);
 *             ptio_op_init(&g->op, t);
 *             PTIO_AWAIT(&t->pt, r, ptio_write_all(&g->op,
 *                        ptio_fd_writer(&g->fd), "hi\n", 3));
 *             PTIO_END_WITH(&t->pt, r);
 *     }
 *
 * How it works: the continuation (ptio_pt) is a local continuation from
 * ptio/lc.h, either a line number used as a case label of one big switch
 * (the default) or a label address (--with-lc=addrlabels).
 *
 * NESTING - one continuation per machine.
 *
 * Every machine that is suspended keeps its place in a continuation of
 * its own: the task's (task->pt) for the top-level machine, an op's
 * (op->pt) for every machine it awaits.  A machine of your own that takes
 * an op, `ptio_ssize f(struct ptio_op *op, ...)`, uses op->pt for itself,
 * so whatever it awaits needs another op: one op per nesting level.
 * PTIO_CALL starts such a child with a fresh op and awaits it:
 *
 *     struct fetch {                        (the caller owns every level)
 *             struct ptio_op op;            (fetch's own continuation)
 *             struct ptio_op child;         (what fetch awaits)
 *             ...
 *     };
 *
 *     static ptio_ssize fetch(struct fetch *f, struct ptio_read r)
 *     {
 *             ptio_ssize n = 0;
 *
 *             PTIO_BEGIN(&f->op.pt);
 *             PTIO_CALL(&f->op.pt, n, &f->child, f->op.task,
 *                       ptio_read_exact(&f->child, r, f->hdr, 4));
 *             PTIO_TRY(&f->op.pt, n);
 *             ...
 *             PTIO_END_WITH(&f->op.pt, n);
 *     }
 *
 * An array works as well: the machine at depth d runs on ops[d] and
 * hands ops[d + 1] to what it awaits.  Handing a machine a continuation
 * that is not its own is caught, never a silent wrong result: a machine
 * whose continuation belongs to a machine that is running (a child given
 * its parent's op) or, as far as the continuation can tell, to another
 * machine, returns PTIO_EOPSHARED without running and leaves the
 * continuation as it found it.  lc-addrlabels tells every foreign
 * continuation apart; lc-switch all but one that holds a line number the
 * machine also awaits on (see ptio/lc-switch.h).
 *
 * FAIRNESS - every machine yields in bounded time.
 *
 * The loop runs one task at a time, so a task that never suspends holds
 * every other task and timer.  The provided machines (ptio/ops.h) spend
 * from the running task's budget on every non-blocking call and wait, and
 * suspend, re-queued behind the other ready tasks, when it runs out (see
 * ptio_task_spend in ptio/loop.h); so does PTIO_NB_AWAIT, the helper for
 * machines of your own.  A machine that loops without awaiting anything
 * (parsing a large buffer, say) stays fair the same way, by spending on
 * each pass:
 *
 *             for (s->i = 0; s->i < s->n; s->i++) {
 *                     PTIO_AWAIT(pt, r, ptio_task_spend(task));
 *                     PTIO_TRY(pt, r);       (the task's deadline passed)
 *                     step(s, s->i);
 *             }
 *
 * PITFALLS - read these before writing a machine.
 *
 *  1. Local variables do not survive a suspension.  Every await, yield or
 *     wait returns from the function; when the machine resumes its locals
 *     hold garbage.  State that must outlive an await lives in a struct the
 *     caller owns (the op's progress, or the user's own struct).
 *  2. With the default lc-switch, no `switch` statement may enclose an
 *     await, yield or wait (its case labels would be captured by the inner
 *     switch).  Use if/else, or configure --with-lc=addrlabels.
 *  3. One await, yield or wait per source line: two on one line share
 *     __LINE__ and fail to compile.
 *  4. No bare `return` inside a machine: finish with PTIO_RETURN or let the
 *     body reach PTIO_END, so the continuation is reset.  A bare return
 *     leaves the continuation marked running, and the next call of the
 *     machine on it fails with PTIO_EOPSHARED.
 *  5. A machine that returns PTIO_PENDING must have arranged to be woken
 *     (a registered readiness waiter, a timer, a yield, or another task
 *     that will call ptio_task_wake).  The provided machines always do.
 *  6. An abandoned machine (one you stop awaiting half-way) keeps its
 *     continuation: reset its op with ptio_op_init before reusing it.
 *  7. The call in PTIO_AWAIT is evaluated again on every resume, with the
 *     values its arguments have then.  ptio/ops.h says, machine by
 *     machine, which arguments are latched when the call starts and which
 *     must stay the same until it finishes.
 */
#ifndef PTIO_PT_H
#define PTIO_PT_H

#include "base.h"
#include "err.h"
#include "lc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A continuation: where a machine resumes.  Zero means "at the top". */
typedef struct ptio_pt {
	ptio_lc lc;
} ptio_pt;

struct ptio_task;
struct ptio_op;
/* Declared here for the macros below; see ptio/loop.h. */
void ptio_task_wake(struct ptio_task *task);
ptio_ssize ptio_task_spend(struct ptio_task *task);
void ptio_op_init(struct ptio_op *op, struct ptio_task *task);

/* PTIO_PT_INIT(pt) - reset a continuation to the top of its machine. */
#define PTIO_PT_INIT(pt) PTIO_LC_INIT((pt)->lc)

/* PTIO_BEGIN(pt) - open a machine body; PT is a ptio_pt pointer.  A
 * continuation that is not this machine's makes it return PTIO_EOPSHARED
 * at once (see NESTING above).  It declares hidden locals, so it must
 * come after the machine's declarations. */
#define PTIO_BEGIN(pt)                                                   \
	{                                                                \
		int ptio_yield_flag_ = 1;                                \
		(void)ptio_yield_flag_;                                  \
		PTIO_LC_RESUME((pt)->lc, return PTIO_EOPSHARED)

/* PTIO_END(pt) - close a machine body; reaching it finishes the machine
 * with result 0.  PTIO_END_WITH(pt, value) finishes with VALUE. */
#define PTIO_END_WITH(pt, value)                                         \
		PTIO_LC_END((pt)->lc);                                   \
		PTIO_LC_INIT((pt)->lc);                                  \
		return (value);                                          \
	}
#define PTIO_END(pt) PTIO_END_WITH(pt, 0)

/* PTIO_RETURN(pt, value) - finish the machine now with VALUE (>= 0 or an
 * error code, never PTIO_PENDING) and reset its continuation. */
#define PTIO_RETURN(pt, value)                                           \
	do {                                                             \
		PTIO_LC_INIT((pt)->lc);                                  \
		return (value);                                          \
	} while (0)

/* PTIO_AWAIT(pt, result, call) - the C spelling of `result = call.await`.
 * CALL is evaluated now and again on every resume until it returns
 * something other than PTIO_PENDING, which is stored in RESULT (an lvalue
 * of type ptio_ssize that need not survive suspensions). */
#define PTIO_AWAIT(pt, result, call)                                     \
	do {                                                             \
		PTIO_LC_LABEL((pt)->lc)                                  \
		(result) = (call);                                       \
		if ((result) == PTIO_PENDING) {                          \
			PTIO_LC_SAVE((pt)->lc);                          \
			return PTIO_PENDING;                             \
		}                                                        \
	} while (0)

/* PTIO_TRY(pt, result) - finish the machine with RESULT if it is an error
 * (negative).  The C spelling of Rust's `?`. */
#define PTIO_TRY(pt, result)                                             \
	do {                                                             \
		if ((result) < 0)                                        \
			PTIO_RETURN(pt, (result));                       \
	} while (0)

/* PTIO_WAIT_UNTIL(pt, cond) - suspend until COND is true.  COND is checked
 * each time the task runs; something must wake the task when COND may
 * have changed (ptio_task_wake from another task, a timer, or readiness;
 * an interrupt handler must go through ptio_port_source_ready, never
 * ptio_task_wake, which touches the run queue).
 * PTIO_WAIT_WHILE(pt, cond) is the negation. */
#define PTIO_WAIT_UNTIL(pt, cond)                                        \
	do {                                                             \
		PTIO_LC_LABEL((pt)->lc)                                  \
		if (!(cond)) {                                           \
			PTIO_LC_SAVE((pt)->lc);                          \
			return PTIO_PENDING;                             \
		}                                                        \
	} while (0)
#define PTIO_WAIT_WHILE(pt, cond) PTIO_WAIT_UNTIL(pt, !(cond))

/* PTIO_YIELD(pt, task) - let every other ready task run once, then go on.
 * TASK is the task running this machine (op->task inside a sub-machine). */
#define PTIO_YIELD(pt, task)                                             \
	do {                                                             \
		ptio_yield_flag_ = 0;                                    \
		ptio_task_wake(task);                                    \
		PTIO_LC_LABEL((pt)->lc)                                  \
		if (ptio_yield_flag_ == 0) {                             \
			PTIO_LC_SAVE((pt)->lc);                          \
			return PTIO_PENDING;                             \
		}                                                        \
	} while (0)

/* PTIO_CALL(pt, result, child, task, call) - await a machine that runs on
 * the op CHILD, which is reset and bound to TASK when the call starts
 * (not on resumes): `PTIO_CALL(pt, r, &s->child, task, f(&s->child, ...))`.
 * CHILD must be an op no running machine uses (see NESTING above). */
#define PTIO_CALL(pt, result, child, task, call)                         \
	do {                                                             \
		ptio_op_init((child), (task));                           \
		PTIO_AWAIT(pt, result, call);                            \
	} while (0)

#ifdef __cplusplus
}
#endif

#endif /* PTIO_PT_H */
