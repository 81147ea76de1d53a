/*
 * ptio/loop.h - tasks, op state, the loop and the backend interface.
 *
 * The pieces, smallest first:
 *
 *   struct ptio_op     the caller-owned state of one awaited operation: the
 *                      task it runs in, its continuation and its progress.
 *   struct ptio_task   what the loop schedules: a top-level machine plus
 *                      intrusive links.  Users embed it in their own struct
 *                      and get back with PTIO_CONTAINER_OF.
 *   struct ptio_loop   runs ready tasks round-robin, fires timers, and asks
 *                      its backend to wait for readiness.
 *   struct ptio_backend  the one small vtable a backend implements (poll,
 *                      select, epoll, io_uring, a board's idle hook, a test
 *                      fake).
 *
 * Nothing here allocates.  A task holds a registration (a waiter slot on
 * one source, or on each branch's source in a select, and an armed timer)
 * only while it sleeps: every wake clears all of them before the task
 * runs.  So when a task's machine finishes, the loop
 * holds nothing that points at it and its memory may be freed at once.
 * Free it after the machine has returned, not inside it (PTIO_RETURN and
 * PTIO_END reset the continuation, which lives in the task): make the task
 * function a wrapper that calls the machine and, on a final value, frees
 * the struct and returns that value; the loop does not touch it again.
 *
 * Deadlines belong to the (timed) task, like a socket deadline: after
 * ptio_task_set_deadline every wait of that task (on readiness or a sleep)
 * ends with PTIO_ETIMEDOUT once the deadline has passed, leaving no
 * registration behind, until ptio_task_clear_deadline.  One deadline thus
 * covers a whole exchange made of many awaits.
 */
#ifndef PTIO_LOOP_H
#define PTIO_LOOP_H

#include "base.h"
#include "pt.h"
#include "io.h"
#include "time.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ptio_loop;
struct ptio_task;
struct ptio_select; /* ptio/compose.h */

/* ---- Tasks ------------------------------------------------------------ */

/* A task's top-level machine.  It returns PTIO_PENDING while suspended and
 * its final value when finished; the loop ignores that value (keep it in
 * your own struct if you need it). */
typedef ptio_ssize (*ptio_task_fn)(struct ptio_task *task);

/*
 * A task.  It carries no timer, so a task that only ever waits for
 * readiness costs 16 bytes on a 32-bit target (32 on x86-64).  A task that
 * sleeps or has a deadline is a struct ptio_timed_task instead; on a plain
 * task ptio_sleep and ptio_ready_until fail with PTIO_ENOTSUP.
 */
struct ptio_task {
	union {
		struct ptio_task *next;      /* run queue link, while queued */
		struct ptio_source *source;  /* the source waited on, while waiting */
		struct ptio_select *sel;     /* the select waited in, while
						waiting in one (ptio/compose.h) */
	} u;
	struct ptio_loop *loop;   /* the loop it was started on */
	ptio_task_fn fn;          /* the top-level machine */
	ptio_pt pt;               /* the top-level machine's continuation */
	uint8_t flags;            /* the loop's own bookkeeping */
	uint8_t readiness;        /* readiness delivered by the last wake,
				     in the low four bits; the high four
				     are the loop's own bookkeeping */
};

/* The loop's bookkeeping in a task's flags byte and in the high four bits
 * of its readiness byte.  Internal (ptio__): the inline fast paths of
 * ptio/ops.h read them; they may change with any release. */
#define PTIO__TASK_ALIVE    0x01u
#define PTIO__TASK_QUEUED   0x02u
#define PTIO__TASK_TIMER    0x04u /* timed task with its timer armed */
#define PTIO__TASK_DEADLINE 0x08u
#define PTIO__TASK_RUNNING  0x10u
#define PTIO__TASK_CANCEL   0x20u
#define PTIO__TASK_TIMED    0x40u /* a struct ptio_timed_task */
#define PTIO__TASK_WOKEN    0x80u /* woken while running: queued when it
				     suspends */
#define PTIO__READINESS     0x0Fu /* the readiness bits proper */
#define PTIO__TASK_ABORT    0x40u /* an abort waits to be delivered */
#define PTIO__TASK_SELECT   0x80u /* waiting in the select at u.sel */

/* A task that can sleep and have a deadline: a task plus its node in the
 * loop's timer heap.  Its machine still receives &tt->task. */
struct ptio_timed_task {
	struct ptio_task task;           /* first */
	struct ptio_timed_task *tchild;  /* the loop's timer heap (a pairing */
	struct ptio_timed_task *tnext;   /* heap keyed by `when`), while */
	struct ptio_timed_task *tprev;   /* armed */
	ptio_tick when;                  /* expiry, while the timer is armed */
	ptio_tick deadline;              /* while a deadline is set */
};

/* Start TASK on LOOP running FN; it first runs in the loop's next round.
 * TASK's memory is the caller's and may hold anything (fresh from malloc,
 * a task that finished or was cancelled) but a task that is alive:
 * starting one that was started and has not finished, or is running now,
 * returns PTIO_EALREADY and changes nothing.  Otherwise returns 0.  The
 * check reads TASK's old flags, so memory that was never written (malloc,
 * the stack) makes valgrind report a read of uninitialised memory: zero
 * it first (calloc, `= { 0 }`) to keep valgrind quiet. */
ptio_ssize ptio_task_start(struct ptio_loop *loop, struct ptio_task *task,
			   ptio_task_fn fn);

/* Start the timed task TT; FN receives &tt->task.  As ptio_task_start. */
ptio_ssize ptio_timed_task_start(struct ptio_loop *loop,
				 struct ptio_timed_task *tt, ptio_task_fn fn);

/* The timed task TASK belongs to, or NULL for a plain task. */
struct ptio_timed_task *ptio_task_timed(struct ptio_task *task);

/* Queue TASK to run in the next round, cancelling whatever wait it is in
 * (the awaited call re-polls and, if still not ready, waits again).  Safe
 * on a queued or running task; a no-op on a finished one. */
void ptio_task_wake(struct ptio_task *task);

/* Stop TASK from outside: drop its registrations and forget it.  Its
 * machine is not called again.  On the task that is running now, the stop
 * takes effect when its machine returns. */
void ptio_task_cancel(struct ptio_task *task);

/*
 * Abort TASK from outside so that it cleans up after itself: its current
 * await returns PTIO_ECANCELED at its next resume, and its machine runs
 * its own error path (closes its stream, frees its memory) and then goes
 * on to its end as usual.  Whatever TASK waited on (a source, a timer, a
 * select's branches) is unregistered now and TASK is queued; on a queued
 * or running task the abort waits for its next await.  The awaited op
 * keeps its partial progress: ptio_op_done tells how much a write_all or
 * read_exact had done.  A no-op on a task that is not alive.
 *
 * Who delivers it: ptio_task_spend, i.e. every provided machine,
 * PTIO_NB_AWAIT, ptio_wait_ready, sleeps, child waits and selects
 * (ptio/compose.h), once: the abort is consumed by the await that
 * returns it, so the cleanup may await again (say, a goodbye line under
 * a deadline).  A machine that suspends with PTIO_WAIT_UNTIL on a
 * condition of its own should add ptio_task_aborting(task) to it.
 *
 * Abort or cancel: cancel forgets the task at once and never calls its
 * machine again (for a task whose memory and streams you reclaim
 * yourself); abort lets the task reclaim them.  The code is always
 * PTIO_ECANCELED: a task has no room to carry another (16 bytes on a
 * 32-bit target); keep a reason in your own struct if the task needs one.
 */
void ptio_task_abort(struct ptio_task *task);

/* True while an abort of TASK waits to be delivered. */
bool ptio_task_aborting(const struct ptio_task *task);

/* Deadlines for every wait of TT; see the top of this file.  Setting a
 * deadline on a task that is waiting wakes it so it re-arms. */
void ptio_task_set_deadline(struct ptio_timed_task *tt, ptio_tick when);
void ptio_task_set_timeout(struct ptio_timed_task *tt, uint32_t ticks);
void ptio_task_clear_deadline(struct ptio_timed_task *tt);

/* True from ptio_task_start until the task finishes or is cancelled,
 * including while its own machine runs. */
bool ptio_task_alive(const struct ptio_task *task);

/*
 * ptio_task_spend(task) - the cooperative budget.  Every activation of a
 * task (each time the loop calls its machine) gets the loop's budget (see
 * ptio_loop_set_budget); every provided machine spends one unit per
 * non-blocking call and per readiness wait, and a machine of your own
 * spends through PTIO_NB_AWAIT or by awaiting this directly.  Returns:
 *   0                one unit spent; go on;
 *   PTIO_PENDING     the budget has run out: TASK is queued behind every
 *                    other ready task, and the budget is full again when
 *                    it next runs (PTIO_AWAIT it, and it returns 0 then);
 *   PTIO_ETIMEDOUT   TASK's deadline has passed (see the top of this
 *                    file), whether or not its I/O would block;
 *   PTIO_ECANCELED   TASK was aborted (ptio_task_abort); this delivers
 *                    the abort, which is not reported again.
 * So a peer that always has data ready, or a stream that claims to be
 * ready and never is, holds the loop for at most one budget, and a
 * deadline fires in time even while data flows: at the latest in the
 * round after it passes (the loop's time is read once per round).  A
 * machine that is not run by the loop (called by hand) is not limited.
 */
ptio_ssize ptio_task_spend(struct ptio_task *task);

/* True when TASK has a deadline and it has passed. */
bool ptio_task_expired(const struct ptio_task *task);

/* ---- Op state --------------------------------------------------------- */

/*
 * The state of one awaited library operation.  Initialise it once with
 * ptio_op_init; a provided machine resets its progress when it starts and
 * its continuation when it finishes, so an op can be reused for the next
 * call (one call at a time).  After an error or ETIMEDOUT, `done` says how
 * much the operation had done (bytes written by write_all, read by
 * read_exact); the operation is finished and may be started again.
 */
struct ptio_op {
	struct ptio_task *task; /* the task awaiting it */
	ptio_pt pt;             /* the provided machine's continuation */
	union {
		size_t done;      /* bytes transferred so far */
		ptio_tick until;  /* sleep/ready_until: the moment to stop */
	} p;
};

/* Bind OP to TASK, with its continuation at the top and no progress.
 * (Declared in ptio/pt.h, for PTIO_CALL.) */
void ptio_op_init(struct ptio_op *op, struct ptio_task *task);

/* How much the last operation on OP did (see above).  The top bit of
 * p.done is the op's own bookkeeping and never part of the count; when
 * it is set, so is the bit below it (read_until's marks, on a count that
 * never reaches that bit). */
static inline size_t ptio_op_done(const struct ptio_op *op)
{
	size_t d = op->p.done;

	if (d > (size_t)PTIO_SSIZE_MAX)
		d &= (size_t)PTIO_SSIZE_MAX >> 1;
	return d;
}

/* ---- Backends --------------------------------------------------------- */

#define PTIO_WAIT_FOREVER 0xFFFFFFFFu

struct ptio_backend;

/* The version of struct ptio_backend_vt this header describes.  Slots
 * are only ever appended, and a backend says which version it was written
 * for: the loop reads a slot only when the backend's version has it. */
#define PTIO_BACKEND_VERSION 1

/* The whole backend interface.  now, wait and update are required. */
struct ptio_backend_vt {
	/* PTIO_BACKEND_VERSION when the backend was written. */
	unsigned version;
	/* The current time in ticks (monotonic, wrapping). */
	ptio_tick (*now)(struct ptio_backend *be);
	/* Wait at most TIMEOUT ticks (0: just look; PTIO_WAIT_FOREVER: no
	 * limit) for readiness on the sources the backend watches and report
	 * it with ptio_source_ready.  Return 0, or an error code the loop
	 * hands back from ptio_loop_run.  Early returns are fine. */
	ptio_ssize (*wait)(struct ptio_backend *be, uint32_t timeout);
	/* SRC (flagged PTIO_SOURCE_BACKEND) changed its waiters
	 * (ptio_source_interest).  A level-triggered backend asks the system
	 * only for interests with a waiter.  Never called for a source
	 * flagged PTIO_SOURCE_EDGE, which an edge-triggered backend watches
	 * whoever waits.  Return 0 or an error (the poll that registered
	 * fails with it and the registration is undone). */
	ptio_ssize (*update)(struct ptio_backend *be, struct ptio_source *src);
	/* Optional: how many registrations the backend itself holds, for
	 * leak checks in tests.  NULL counts as 0. */
	size_t (*registrations)(struct ptio_backend *be);
	/* Optional: SRC joins the backend.  An edge-triggered backend
	 * registers it with the system once, here, and sets
	 * PTIO_SOURCE_EDGE in its flags, so that the core does not call
	 * update for it.  Return 0 or an error. */
	ptio_ssize (*attach)(struct ptio_backend *be, struct ptio_source *src);
	/* Optional: SRC leaves the backend; after this the backend holds no
	 * reference to it, not even a stale event in a batch being reported
	 * (and it clears the PTIO_SOURCE_EDGE its attach set). */
	void (*detach)(struct ptio_backend *be, struct ptio_source *src);
};

struct ptio_backend {
	const struct ptio_backend_vt *vt;
};

/* ---- The loop --------------------------------------------------------- */

struct ptio_loop {
	struct ptio_backend *backend;
	struct ptio_task *current;   /* the task whose machine runs now */
	struct ptio_task *run_head;  /* tasks queued for the next round */
	struct ptio_task **run_tail; /* the link that ends that list */
	struct ptio_task *round;     /* what is left of the round being run */
	struct ptio_timed_task *timers; /* the timer heap: the earliest */
	ptio_tick now;               /* time at the start of this iteration */
	uint8_t stop;                /* set by ptio_loop_stop */
	uint16_t budget;             /* what the running task has left */
	uint16_t budget_max;         /* what each activation starts with */
	size_t ntasks;               /* tasks alive */
	size_t nwaits;               /* occupied source waiter slots */
	size_t ntimers;              /* armed timers */
	uint8_t *scratch;            /* the shared scratch buffer */
	size_t scratch_len;
};

/* TASK's flags byte, and its readiness byte shifted left by 8: the two
 * adjacent bytes in one word, so that a fast path tests bits of both
 * with one load. */
static inline unsigned ptio__task_bits(const struct ptio_task *task)
{
	return (unsigned)task->flags | (unsigned)task->readiness << 8;
}

/* The common case of ptio_task_spend inline in the caller: the running
 * task, with budget left, no abort pending and no deadline or one not
 * reached yet, spends one unit.  (A deadline is the way to bound a
 * write to a peer that may stop reading, and such a write usually
 * completes at once: its check stays here, one comparison with the
 * loop's time.)  `(ptio_task_spend)` names the function. */
static inline ptio_ssize ptio__task_spend_inline(struct ptio_task *task)
{
	struct ptio_loop *loop = task->loop;

	if (!(task->readiness & PTIO__TASK_ABORT) && loop != NULL &&
	    loop->current == task && loop->budget != 0 &&
	    (!(task->flags & PTIO__TASK_DEADLINE) ||
	     !ptio_tick_reached(loop->now,
				PTIO_CONTAINER_OF(task, struct ptio_timed_task,
						  task)->deadline))) {
		loop->budget--;
		return 0;
	}
	return (ptio_task_spend)(task);
}
#define ptio_task_spend(task) ptio__task_spend_inline(task)

/* The common case of the deadline setters inline in the caller: the
 * running task sets or clears its own deadline (a message's write under
 * a limit does it twice per message).  Setting one on a task that is not
 * running calls the function, which wakes a waiting task so it re-arms.
 * `(ptio_task_set_deadline)` and the others name the functions. */
static inline void ptio__task_set_deadline_inline(struct ptio_timed_task *tt,
						  ptio_tick when)
{
	if (tt->task.flags & PTIO__TASK_RUNNING) {
		tt->deadline = when;
		tt->task.flags |= PTIO__TASK_DEADLINE;
	} else {
		(ptio_task_set_deadline)(tt, when);
	}
}
#define ptio_task_set_deadline(tt, when) \
	ptio__task_set_deadline_inline(tt, when)

static inline void ptio__task_set_timeout_inline(struct ptio_timed_task *tt,
						 uint32_t ticks)
{
	ptio__task_set_deadline_inline(
		tt, ptio_tick_after(tt->task.loop->now, ticks));
}
#define ptio_task_set_timeout(tt, ticks) \
	ptio__task_set_timeout_inline(tt, ticks)

static inline void ptio__task_clear_deadline_inline(struct ptio_timed_task *tt)
{
	tt->task.flags &= (uint8_t)~PTIO__TASK_DEADLINE;
}
#define ptio_task_clear_deadline(tt) ptio__task_clear_deadline_inline(tt)

/* The common case of ptio_source_ready, inline in a backend's report: the
 * report answers the read slot's task, the source's only waiter, asleep
 * on this one source (not in a select, not in a primitive's queue) with
 * no timer armed.  The task is queued with the readiness, and a
 * level-triggered backend hears of the slot freed (it stops asking for
 * it); false leaves everything untouched for the function, which does
 * every other case.  EDGE says the caller knows SRC is attached to an
 * edge-triggered backend (the check is constant-folded away).  A task in
 * a select holds u.sel, the address of a struct ptio_select, which is
 * never a source's: the u.source test rules it out too. */
static inline bool ptio__source_ready_fast_x(struct ptio_source *src,
					     unsigned bits, bool edge)
{
	struct ptio_task *t = src->waiter[PTIO_SLOT_READ];
	unsigned ready = src->ready | bits;
	struct ptio_loop *loop;

	if (t == NULL || !(bits & PTIO_READABLE) ||
	    src->waiter[PTIO_SLOT_WRITE] != NULL ||
	    (src->flags & PTIO__SOURCE_WAITER) ||
	    t->u.source != src ||
	    (t->flags & (PTIO__TASK_ALIVE | PTIO__TASK_QUEUED |
			 PTIO__TASK_RUNNING | PTIO__TASK_TIMER)) !=
		    PTIO__TASK_ALIVE)
		return false;
	src->ready = (uint8_t)ready;
	src->waiter[PTIO_SLOT_READ] = NULL;
	t->readiness = (uint8_t)((t->readiness & ~PTIO__READINESS) |
				 (ready & PTIO__READINESS));
	loop = t->loop;
	loop->nwaits--;
	t->u.next = NULL;
	*loop->run_tail = t;
	loop->run_tail = &t->u.next;
	t->flags |= PTIO__TASK_QUEUED;
	if (!edge && (src->flags & (PTIO_SOURCE_BACKEND | PTIO_SOURCE_EDGE)) ==
			     PTIO_SOURCE_BACKEND) /* a removal needs no memory */
		(void)loop->backend->vt->update(loop->backend, src);
	return true;
}

static inline bool ptio__source_ready_fast(struct ptio_source *src,
					   unsigned bits)
{
	return ptio__source_ready_fast_x(src, bits, false);
}

/* ptio_source_ready with its common case inline: for a backend's report
 * of a wait's events (every event of every message passes there); other
 * callers call the function, and keep small. */
static inline void ptio__source_ready_inline(struct ptio_source *src,
					     unsigned bits)
{
	if (!ptio__source_ready_fast_x(src, bits, false))
		ptio_source_ready(src, bits);
}

/* The same for an edge-triggered backend's report of a source it
 * attached (and flagged PTIO_SOURCE_EDGE). */
static inline void ptio__source_ready_edge_inline(struct ptio_source *src,
						  unsigned bits)
{
	if (!ptio__source_ready_fast_x(src, bits, true))
		ptio_source_ready(src, bits);
}

/* Modes for ptio_loop_run. */
#define PTIO_RUN_DEFAULT 0 /* until no task is alive, or ptio_loop_stop */
#define PTIO_RUN_ONCE    1 /* one iteration, waiting if nothing is ready */
#define PTIO_RUN_NOWAIT  2 /* one iteration, never waiting */

/* Initialise LOOP over BACKEND (which must outlive it, and whose vtable
 * says version 1 or more). */
void ptio_loop_init(struct ptio_loop *loop, struct ptio_backend *backend);

/* The cooperative budget of each activation of a task (see
 * ptio_task_spend): BUDGET units, 1 to 65535; 0 restores the default,
 * PTIO_CONF_BUDGET (128, as tokio's).  A larger budget costs latency to
 * the other tasks; a smaller one costs more rounds of the loop. */
#ifndef PTIO_CONF_BUDGET
#define PTIO_CONF_BUDGET 128
#endif
void ptio_loop_set_budget(struct ptio_loop *loop, unsigned budget);

/* Lend LOOP a scratch buffer.  Tasks on the memory-sensitive path await
 * readiness holding no buffer, then read into this one and finish with it
 * before they next suspend: ten thousand idle connections hold no buffer
 * at all.  The loop never touches the bytes. */
void ptio_loop_set_scratch(struct ptio_loop *loop, void *buf, size_t len);

/* The scratch buffer and its length (NULL and 0 when none was lent).  Its
 * content does not survive a suspension of the task using it. */
static inline uint8_t *ptio_loop_scratch(struct ptio_loop *loop, size_t *len)
{
	if (len != NULL)
		*len = loop->scratch_len;
	return loop->scratch;
}

/* Run the loop.  Each iteration: fire due timers, run every task that was
 * queued when the round began exactly once (so a task that is always
 * ready cannot starve another), fire the timers that came due meanwhile,
 * then wait in the backend until the next timer or event.  Returns the number of live tasks, or a backend error.
 * PTIO_RUN_DEFAULT returns 0 when no task is left, or the (positive)
 * number of tasks left when none of them can ever be woken again (no task
 * queued, no timer armed, no waiter registered): waiting would hang. */
ptio_ssize ptio_loop_run(struct ptio_loop *loop, int mode);

/* Make ptio_loop_run return after the current round. */
static inline void ptio_loop_stop(struct ptio_loop *loop)
{
	loop->stop = 1;
}

/* Time at the start of the current iteration; ptio_loop_update_time reads
 * the backend's clock again. */
static inline ptio_tick ptio_loop_now(const struct ptio_loop *loop)
{
	return loop->now;
}
ptio_tick ptio_loop_update_time(struct ptio_loop *loop);

/* The number of tasks started on LOOP and not yet finished. */
static inline size_t ptio_loop_alive(const struct ptio_loop *loop)
{
	return loop->ntasks;
}

/* Every registration the loop and its backend hold: occupied waiter
 * slots, armed timers and the backend's own.  Zero once every task has
 * finished and every source is closed: tests assert it. */
size_t ptio_loop_registrations(const struct ptio_loop *loop);

#ifdef __cplusplus
}
#endif

#endif /* PTIO_LOOP_H */
