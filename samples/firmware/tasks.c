/*
 * samples/firmware/tasks.c - three tasks sharing one UART: two periodic
 * tickers and a writer.
 *
 * "fast" wakes every 20 ms, "slow" every 50 ms starting 5 ms later; each
 * sleeps until an absolute tick (ptio_sleep_until), so neither drifts
 * however late a wake is.  They do not touch the UART: each posts a short
 * record to the writer's queue and wakes the writer task, which formats
 * the records (ptio_format) and writes them out with write_all.  When
 * both tickers are done the writer prints "tasks done", flushes, and
 * main returns 0.
 *
 * The transcript is deterministic.  Each line shows when its wake was
 * due, not when it ran.  And the tickers post in due order whatever the
 * timing: a ticker that is late enough to find its next wake already due
 * (the sleep then returns at once) could otherwise post two records
 * before the other ticker posts an earlier one, so before posting, each
 * ticker waits (PTIO_WAIT_UNTIL) while the other still has an earlier
 * wake to report, and wakes the other after posting.  Both can never
 * wait on each other: that would need each one's record to be due before
 * the other's.  A slow host (or an emulator stalled by its host) only
 * delays lines, never reorders them.
 *
 * Tickers are ptio_timed_task (they sleep); the writer only waits for
 * its queue and the UART, so it is a plain, smaller ptio_task.
 */
#include <ptio.h>
#include <ptio/fmt.h>
#include "port/board.h"

struct ticker {
	struct ptio_timed_task tt;
	struct ptio_op op;
	const char *name;
	struct ticker *other;
	uint32_t offset;     /* first wake: epoch + offset + period */
	uint32_t period;
	unsigned limit;      /* wakes before it finishes */
	unsigned count;
	ptio_tick next;      /* the tick of the next wake to report */
	bool finished;
};

/* One line for the writer: NAME's wake COUNT, due at AT ms (or, with
 * COUNT 0, NAME is done). */
struct record {
	const char *name;
	unsigned count;
	uint32_t at;
};

#define QUEUE_LEN 8u

struct writer {
	struct ptio_task task;
	struct ptio_op op;
	struct ptio_write out;
	struct record q[QUEUE_LEN];
	unsigned head, tail;  /* free-running; head - tail records queued */
	unsigned done;        /* tickers finished */
	char line[48];
	size_t len;
};

static struct ptio_loop loop;
static struct writer writer;
static ptio_tick epoch;
static struct ticker fast = { .name = "fast", .offset = 0, .period = 20,
			      .limit = 10 };
static struct ticker slow = { .name = "slow", .offset = 5, .period = 50,
			      .limit = 4 };

/* Queue a record and wake the writer.  The writer runs in the round after
 * the first post and drains the queue; between two of its runs the
 * tickers post at most one record per wake of "fast" that fits between
 * two of "slow" (three), plus one of "slow": eight records are plenty,
 * and a full queue would be a bug in this sample. */
static void post(const char *name, unsigned count, uint32_t at)
{
	struct record *rec;

	PTIO_ASSERT(writer.head - writer.tail < QUEUE_LEN);
	rec = &writer.q[writer.head % QUEUE_LEN];
	rec->name = name;
	rec->count = count;
	rec->at = at;
	writer.head++;
	ptio_task_wake(&writer.task);
}

/* True unless the other ticker still has a wake to report that is due
 * before T's (on a tie, "fast" goes first). */
static bool ticker_may_post(const struct ticker *t)
{
	const struct ticker *o = t->other;

	if (o->finished || ptio_tick_before(t->next, o->next))
		return true;
	return t->next == o->next && t == &fast;
}

static ptio_ssize ticker_run(struct ptio_task *task)
{
	struct ticker *t = PTIO_CONTAINER_OF(task, struct ticker, tt.task);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	while (t->count < t->limit) {
		PTIO_AWAIT(&task->pt, r, ptio_sleep_until(&t->op, t->next));
		PTIO_TRY(&task->pt, r);
		PTIO_WAIT_UNTIL(&task->pt, ticker_may_post(t));
		t->count++;
		post(t->name, t->count, t->next - epoch);
		t->next += t->period;
		ptio_task_wake(&t->other->tt.task);
	}
	t->finished = true;
	post(t->name, 0, 0);
	ptio_task_wake(&t->other->tt.task);
	PTIO_END(&task->pt);
}

/* Format the oldest record into the writer's line. */
static void writer_format(struct writer *w)
{
	const struct record *rec = &w->q[w->tail % QUEUE_LEN];
	ptio_ssize n;

	if (rec->count == 0) {
		n = ptio_format(w->line, sizeof(w->line), "%s done\n",
				rec->name);
		w->done++;
	} else {
		n = ptio_format(w->line, sizeof(w->line), "%s %u at %lu ms\n",
				rec->name, rec->count, (unsigned long)rec->at);
	}
	w->len = n < 0 ? 0 : (size_t)n;
	w->tail++;
}

static const char header[] =
	"ptio tasks: fast every 20 ms, slow every 50 ms from 5 ms\n";
static const char footer[] = "tasks done\n";

static ptio_ssize writer_run(struct ptio_task *task)
{
	struct writer *w = PTIO_CONTAINER_OF(task, struct writer, task);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	PTIO_AWAIT(&task->pt, r, ptio_write_all(&w->op, w->out, header,
						sizeof(header) - 1));
	PTIO_TRY(&task->pt, r);
	while (w->done < 2) {
		PTIO_WAIT_UNTIL(&task->pt, w->head != w->tail);
		writer_format(w);
		PTIO_AWAIT(&task->pt, r,
			   ptio_write_all(&w->op, w->out, w->line, w->len));
		PTIO_TRY(&task->pt, r);
	}
	PTIO_AWAIT(&task->pt, r, ptio_write_all(&w->op, w->out, footer,
						sizeof(footer) - 1));
	PTIO_TRY(&task->pt, r);
	PTIO_AWAIT(&task->pt, r, ptio_flush(&w->op, w->out));
	PTIO_TRY(&task->pt, r);
	PTIO_END(&task->pt);
}

static void ticker_start(struct ticker *t, struct ticker *other)
{
	t->other = other;
	t->next = epoch + t->offset + t->period;
	ptio_op_init(&t->op, &t->tt.task);
	ptio_timed_task_start(&loop, &t->tt, ticker_run);
}

int main(void)
{
	ptio_loop_init(&loop, ptio_board_backend());
	epoch = ptio_loop_update_time(&loop);
	writer.out = ptio_uart_writer(ptio_board_uart());
	ptio_op_init(&writer.op, &writer.task);
	ptio_task_start(&loop, &writer.task, writer_run);
	ticker_start(&fast, &slow);
	ticker_start(&slow, &fast);
	return ptio_loop_run(&loop, PTIO_RUN_DEFAULT) == 0 &&
			       writer.done == 2 ? 0 : 1;
}
