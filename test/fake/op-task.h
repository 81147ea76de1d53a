/*
 * test/fake/op-task.h - a task that awaits one call and records how it
 * ended, for the core suites.
 *
 * An op_task runs one awaited call CALL (usually a provided machine given
 * &t->op) on a loop, as a timed task (or, if asked, a plain one).  Before the call it may set a task deadline; after it
 * it records the result, the loop's time, and how many registrations the
 * loop held at that moment, so a test can check that an await which
 * returned (say, with PTIO_ETIMEDOUT) left nothing behind, before anything
 * else had a chance to clean up.
 *
 * The argument fields are free for CALL to use; each test documents which.
 */
#ifndef PTIO_TEST_OP_TASK_H
#define PTIO_TEST_OP_TASK_H

#include <ptio.h>
#include "test/fake/script-stream.h"

struct op_task;
typedef ptio_ssize (*op_task_call)(struct op_task *t);

struct op_task {
	struct ptio_timed_task tt;  /* a timed task unless PLAIN */
	struct ptio_op op;
	op_task_call call;
	/* Arguments for CALL. */
	struct script_stream *s;
	void *buf;
	size_t len;
	const struct ptio_iovec *iov;
	size_t n;
	struct ptio_readbuf *rb;
	unsigned interest;
	uint32_t ticks;
	ptio_tick when;
	/* Free for CALL's own use, e.g. when CALL is a user machine that
	 * uses OP as its own state and awaits provided machines on SUB. */
	struct ptio_op sub;
	size_t count;
	/* Start a plain task (no timer: sleeps fail with PTIO_ENOTSUP). */
	bool plain;
	/* Set before the call when HAS_DEADLINE: the task's deadline is
	 * DEADLINE_IN ticks after the task first runs. */
	bool has_deadline;
	uint32_t deadline_in;
	/* What happened. */
	int runs;                /* times the task's machine was called */
	bool finished;
	ptio_ssize result;
	ptio_tick started;       /* loop time when the call was first made */
	ptio_tick at;            /* loop time when it returned */
	size_t regs_after;       /* ptio_loop_registrations right after */
};

/* Start T on LOOP to await CALL.  The caller zeroes T and sets the
 * argument and deadline fields first; they are read from T's first run. */
void op_task_start(struct ptio_loop *loop, struct op_task *t,
		   op_task_call call);

/* Ticks from the call to its return. */
static inline uint32_t op_task_elapsed(const struct op_task *t)
{
	return (uint32_t)(t->at - t->started);
}

#endif /* PTIO_TEST_OP_TASK_H */
