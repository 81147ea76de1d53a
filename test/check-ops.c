/*
 * test/check-ops.c - the provided machines of ptio/ops.h against the
 * scripted stream, which would-blocks and transfers a few bytes (often
 * one) at every step: no byte may be lost, duplicated or over-read, and
 * errors must come back with ptio_op_done() telling how much was done.
 *
 * Divided into: the scripts every machine is run under, readiness, Read
 * (read, read_buf, read_exact, read_buf_exact), Write (write,
 * write_vectored, write_all, write_all_vectored, flush), and the dispatch
 * checks on what a stream reports.
 */
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include "test/helpers.h"
#include "test/fake/fake-backend.h"
#include "test/fake/op-task.h"

/* ---- Scripts --------------------------------------------------------------- */

static const struct script_step s_one[] = { SCRIPT_MAX(1) };
static const struct script_step s_block_one[] = { SCRIPT_BLOCK,
						  SCRIPT_MAX(1) };
static const struct script_step s_block2_three[] = {
	SCRIPT_BLOCK, SCRIPT_BLOCK_FOR(0), SCRIPT_MAX(3)
};
static const struct script_step s_mixed[] = {
	SCRIPT_MAX(2), SCRIPT_BLOCK_FOR(0), SCRIPT_MAX(5), SCRIPT_BLOCK_FOR(3),
	SCRIPT_MAX(1), SCRIPT_BLOCK, SCRIPT_MAX(7), SCRIPT_MAX(1)
};

struct script_case {
	const char *name;
	const struct script_step *steps;
	size_t n;
};

#define CASE(a) { #a, a, sizeof(a) / sizeof(a[0]) }
static const struct script_case cases[] = {
	{ "unlimited", NULL, 0 },
	CASE(s_one),
	CASE(s_block_one),
	CASE(s_block2_three),
	CASE(s_mixed),
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static uint8_t input[512];
static uint8_t output[1024];
static uint8_t dest[1024];

static void fill_input(void)
{
	size_t i;

	for (i = 0; i < sizeof(input); i++)
		input[i] = (uint8_t)(i * 131 + 7 + i / 256);
	memset(output, 0, sizeof(output));
	memset(dest, 0xCC, sizeof(dest));
}

static void ops_setup(void)
{
	fake_loop_setup();
	fill_input();
}

/* A fresh stream over INPUT and OUTPUT, its reads and writes scripted by
 * C (cyclic). */
static void stream_for(struct script_stream *s, const struct script_case *c)
{
	script_stream_init(s, &fake_be);
	script_stream_input(s, input, sizeof(input));
	script_stream_output(s, output, sizeof(output));
	script_set(&s->rd, c->steps, c->n, true);
	script_set(&s->wr, c->steps, c->n, true);
	script_set(&s->fl, c->steps, c->n, true);
	memset(output, 0, sizeof(output));
	memset(dest, 0xCC, sizeof(dest));
}

/* Start T awaiting CALL, run the loop until it finishes, and drop any
 * readiness still scheduled for its stream. */
static void run_call(struct op_task *t, op_task_call call)
{
	op_task_start(&fake_loop, t, call);
	fake_loop_run(100000);
	ck_assert(t->finished);
	if (t->s != NULL)
		script_stream_forget(t->s);
}

static void new_task(struct op_task *t, struct script_stream *s)
{
	memset(t, 0, sizeof(*t));
	t->s = s;
}

static uint32_t rng_state;

static uint32_t rng(void)
{
	return ptio_test_xorshift(&rng_state);
}

/* A random cyclic script of 1 to 8 steps, at least one of which moves
 * bytes. */
static size_t random_script(struct script_step *steps)
{
	size_t n = 1 + rng() % 8, i;

	for (i = 0; i < n; i++) {
		struct script_step st = SCRIPT_MAX(1 + rng() % 9);
		struct script_step bl = SCRIPT_BLOCK_FOR(rng() % 4);

		steps[i] = (rng() % 3 == 0 && i > 0) ? bl : st;
	}
	return n;
}

/* ---- Readiness ------------------------------------------------------------- */

static ptio_ssize call_ready(struct op_task *t)
{
	return ptio_ready(&t->op, script_stream_ready(t->s), t->interest);
}

START_TEST(test_ready)
{
	struct script_stream s;
	struct op_task t;

	stream_for(&s, &cases[0]);
	/* Cached readiness answers at once, without a wait. */
	new_task(&t, &s);
	t.interest = PTIO_READ_WRITE;
	run_call(&t, call_ready);
	ck_assert_int_eq(t.result, PTIO_READABLE | PTIO_WRITABLE);
	ck_assert_int_eq(t.runs, 1);
	ck_assert_uint_eq(fake_be.waits, 0);
	/* Otherwise it waits for readiness to be reported. */
	ptio_source_clear(&s.src, PTIO_READABLE | PTIO_WRITABLE);
	fake_backend_signal(&fake_be, &s.src, PTIO_WRITABLE, 4);
	new_task(&t, &s);
	t.interest = PTIO_WRITE;
	run_call(&t, call_ready);
	ck_assert_int_eq(t.result, PTIO_WRITABLE);
	ck_assert_uint_eq(op_task_elapsed(&t), 4);
	ck_assert_uint_eq(t.regs_after, 0);
	/* ERROR answers any interest. */
	ptio_source_clear(&s.src, PTIO_WRITABLE);
	fake_backend_signal(&fake_be, &s.src, PTIO_ERROR, 2);
	new_task(&t, &s);
	t.interest = PTIO_READ;
	run_call(&t, call_ready);
	ck_assert_int_eq(t.result, PTIO_ERROR);
}
END_TEST

/* ---- Read ------------------------------------------------------------------- */

/* Reads everything with ptio_read, T->len bytes at most per call, into
 * DEST; T->count is the total.  Its own state is T->op; ptio_read's is
 * T->sub. */
static ptio_ssize read_loop(struct op_task *t)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->op.pt);
	t->count = 0;
	for (;;) {
		PTIO_CALL(&t->op.pt, r, &t->sub, t->op.task,
			   ptio_read(&t->sub, script_stream_reader(t->s),
				     dest + t->count,
				     t->len < sizeof(dest) - t->count
					     ? t->len
					     : sizeof(dest) - t->count));
		PTIO_TRY(&t->op.pt, r);
		ck_assert_uint_le((size_t)r, t->len);
		if (r == 0)
			break;
		t->count += (size_t)r;
	}
	PTIO_END_WITH(&t->op.pt, (ptio_ssize)t->count);
}

START_TEST(test_read_everything)
{
	static const size_t chunks[] = { 1, 7, 64, 1000 };
	struct script_stream s;
	struct op_task t;
	size_t c, k;

	for (c = 0; c < NCASES; c++) {
		for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
			stream_for(&s, &cases[c]);
			new_task(&t, &s);
			t.len = chunks[k];
			run_call(&t, read_loop);
			ck_assert_msg(t.result == (ptio_ssize)sizeof(input),
				      "%s, chunk %zu: read %ld", cases[c].name,
				      chunks[k], (long)t.result);
			ck_assert_mem_eq(dest, input, sizeof(input));
			ck_assert_uint_eq(dest[sizeof(input)], 0xCC);
			ck_assert_uint_eq(s.in_pos, sizeof(input));
		}
	}
}
END_TEST

static ptio_ssize call_read(struct op_task *t)
{
	return ptio_read(&t->op, script_stream_reader(t->s), t->buf, t->len);
}

START_TEST(test_read_once)
{
	struct script_stream s;
	struct op_task t;

	/* One call, one transfer: a short read is returned as it is. */
	stream_for(&s, &cases[2]); /* block, then 1 byte */
	new_task(&t, &s);
	t.buf = dest;
	t.len = 100;
	run_call(&t, call_read);
	ck_assert_int_eq(t.result, 1);
	ck_assert_uint_eq(dest[0], input[0]);
	ck_assert_uint_eq(dest[1], 0xCC);
	ck_assert_uint_eq(s.rd.blocks, 1);
	/* LEN 0 reads nothing. */
	new_task(&t, &s);
	t.buf = dest;
	t.len = 0;
	run_call(&t, call_read);
	ck_assert_int_eq(t.result, 0);
	ck_assert_uint_eq(s.in_pos, 1);
	/* Errors come back as they are. */
	{
		static const struct script_step err[] = {
			SCRIPT_BLOCK, SCRIPT_ERROR(PTIO_ECONNRESET)
		};
		SCRIPT_SET(&s.rd, err, false);
	}
	new_task(&t, &s);
	t.buf = dest;
	t.len = 10;
	run_call(&t, call_read);
	ck_assert_int_eq(t.result, PTIO_ECONNRESET);
	ck_assert_uint_eq(s.in_pos, 1);
}
END_TEST

/* Like read_loop, with ptio_read_buf into a fresh readbuf over never
 * initialised memory at T->buf for each call, offering T->len bytes. */
static ptio_ssize read_buf_loop(struct op_task *t)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->op.pt);
	t->count = 0;
	for (;;) {
		ptio_readbuf_init(t->rb, (uint8_t *)t->buf + t->count,
				  t->len < t->n - t->count ? t->len
							   : t->n - t->count);
		PTIO_CALL(&t->op.pt, r, &t->sub, t->op.task,
			   ptio_read_buf(&t->sub, script_stream_reader(t->s),
					 t->rb));
		PTIO_TRY(&t->op.pt, r);
		ck_assert(ptio_readbuf_valid(t->rb));
		ck_assert_uint_eq(t->rb->filled, (size_t)r);
		if (r == 0)
			break;
		t->count += (size_t)r;
	}
	PTIO_END_WITH(&t->op.pt, (ptio_ssize)t->count);
}

START_TEST(test_read_buf_everything)
{
	static const size_t chunks[] = { 1, 5, 300 };
	struct script_stream s;
	struct op_task t;
	struct ptio_readbuf rb;
	size_t c, k;

	for (c = 0; c < NCASES; c++) {
		for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
			uint8_t *mem = malloc(sizeof(input) + 1);

			stream_for(&s, &cases[c]);
			new_task(&t, &s);
			t.rb = &rb;
			t.buf = mem;
			t.n = sizeof(input) + 1;
			t.len = chunks[k];
			run_call(&t, read_buf_loop);
			ck_assert_int_eq(t.result, sizeof(input));
			ck_assert_mem_eq(mem, input, sizeof(input));
			ck_assert_uint_eq(s.in_pos, sizeof(input));
			ck_assert_uint_le(s.max_read_ask, chunks[k]);
			free(mem);
		}
	}
}
END_TEST

static ptio_ssize call_read_exact(struct op_task *t)
{
	return ptio_read_exact(&t->op, script_stream_reader(t->s), t->buf,
			       t->len);
}

START_TEST(test_read_exact)
{
	static const size_t lens[] = { 0, 1, 2, 9, 100, 511 };
	struct script_stream s;
	struct op_task t;
	size_t c, k;

	for (c = 0; c < NCASES; c++) {
		for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			stream_for(&s, &cases[c]);
			new_task(&t, &s);
			t.buf = dest;
			t.len = lens[k];
			run_call(&t, call_read_exact);
			ck_assert_msg(t.result == (ptio_ssize)lens[k],
				      "%s, len %zu: %ld", cases[c].name,
				      lens[k], (long)t.result);
			ck_assert_mem_eq(dest, input, lens[k]);
			/* Not one byte more was asked for or taken. */
			ck_assert_uint_eq(dest[lens[k]], 0xCC);
			ck_assert_uint_eq(s.in_pos, lens[k]);
			ck_assert_uint_le(s.max_read_ask, lens[k]);
		}
	}
}
END_TEST

/* Two read_exacts one after the other on the same op. */
static ptio_ssize read_exact_twice(struct op_task *t)
{
	ptio_ssize r = 0;

	PTIO_BEGIN(&t->op.pt);
	PTIO_CALL(&t->op.pt, r, &t->sub, t->op.task,
		   ptio_read_exact(&t->sub, script_stream_reader(t->s), dest,
				   t->len));
	PTIO_TRY(&t->op.pt, r);
	PTIO_AWAIT(&t->op.pt, r,
		   ptio_read_exact(&t->sub, script_stream_reader(t->s),
				   dest + t->len, t->n));
	PTIO_TRY(&t->op.pt, r);
	t->count = ptio_op_done(&t->sub);
	PTIO_END_WITH(&t->op.pt, r);
}

START_TEST(test_read_exact_op_reused)
{
	struct script_stream s;
	struct op_task t;

	stream_for(&s, &cases[4]);
	new_task(&t, &s);
	t.len = 13;
	t.n = 29;
	run_call(&t, read_exact_twice);
	ck_assert_int_eq(t.result, 29);
	ck_assert_mem_eq(dest, input, 42);
	ck_assert_uint_eq(dest[42], 0xCC);
	ck_assert_uint_eq(s.in_pos, 42);
}
END_TEST

START_TEST(test_read_exact_eof_and_error)
{
	static const struct script_step err[] = {
		SCRIPT_MAX(3), SCRIPT_BLOCK, SCRIPT_MAX(2),
		SCRIPT_ERROR(PTIO_ECONNRESET)
	};
	struct script_stream s;
	struct op_task t;
	size_t c;

	/* The stream ends after 10 bytes of the 20 wanted. */
	for (c = 0; c < NCASES; c++) {
		stream_for(&s, &cases[c]);
		script_stream_input(&s, input, 10);
		new_task(&t, &s);
		t.buf = dest;
		t.len = 20;
		run_call(&t, call_read_exact);
		ck_assert_int_eq(t.result, PTIO_EUNEXPECTEDEOF);
		ck_assert_uint_eq(ptio_op_done(&t.op), 10);
		ck_assert_mem_eq(dest, input, 10);
		ck_assert_uint_eq(dest[10], 0xCC);
	}
	/* An error after 5 bytes. */
	stream_for(&s, &cases[0]);
	SCRIPT_SET(&s.rd, err, false);
	new_task(&t, &s);
	t.buf = dest;
	t.len = 20;
	run_call(&t, call_read_exact);
	ck_assert_int_eq(t.result, PTIO_ECONNRESET);
	ck_assert_uint_eq(ptio_op_done(&t.op), 5);
	ck_assert_mem_eq(dest, input, 5);
	ck_assert_uint_eq(t.regs_after, 0);
}
END_TEST

START_TEST(test_read_exact_deadline)
{
	static const struct script_step stall[] = { SCRIPT_MAX(3),
						    SCRIPT_NEVER };
	struct script_stream s;
	struct op_task t;

	stream_for(&s, &cases[0]);
	SCRIPT_SET(&s.rd, stall, false);
	new_task(&t, &s);
	t.buf = dest;
	t.len = 20;
	t.has_deadline = true;
	t.deadline_in = 10;
	run_call(&t, call_read_exact);
	ck_assert_int_eq(t.result, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(op_task_elapsed(&t), 10);
	ck_assert_uint_eq(ptio_op_done(&t.op), 3);
	ck_assert_mem_eq(dest, input, 3);
	ck_assert_uint_eq(t.regs_after, 0);
}
END_TEST

/* Data already there costs no wait. */
START_TEST(test_read_exact_no_wait_when_ready)
{
	struct script_stream s;
	struct op_task t;

	stream_for(&s, &cases[1]); /* one byte per call, never blocking */
	new_task(&t, &s);
	t.buf = dest;
	t.len = 50;
	run_call(&t, call_read_exact);
	ck_assert_int_eq(t.result, 50);
	ck_assert_int_eq(t.runs, 1);
	ck_assert_uint_eq(fake_be.waits, 0);
	ck_assert_uint_eq(s.polls, 0);
}
END_TEST

START_TEST(test_read_exact_random)
{
	struct script_step steps[8];
	struct script_stream s;
	struct op_task t;
	int seed;

	for (seed = 1; seed <= 300; seed++) {
		size_t n, len;

		rng_state = (uint32_t)seed * 2654435761u;
		n = random_script(steps);
		len = rng() % sizeof(input);
		stream_for(&s, &cases[0]);
		script_set(&s.rd, steps, n, true);
		new_task(&t, &s);
		t.buf = dest;
		t.len = len;
		run_call(&t, call_read_exact);
		ck_assert_msg(t.result == (ptio_ssize)len, "seed %d", seed);
		ck_assert_mem_eq(dest, input, len);
		ck_assert_uint_eq(dest[len], 0xCC);
		ck_assert_uint_eq(s.in_pos, len);
	}
}
END_TEST

static ptio_ssize call_read_buf_exact(struct op_task *t)
{
	return ptio_read_buf_exact(&t->op, script_stream_reader(t->s), t->rb);
}

START_TEST(test_read_buf_exact)
{
	struct script_stream s;
	struct op_task t;
	struct ptio_readbuf rb;
	size_t c;

	for (c = 0; c < NCASES; c++) {
		/* Three bytes already filled: only the rest is read. */
		stream_for(&s, &cases[c]);
		ptio_readbuf_init(&rb, dest, 40);
		ck_assert_uint_eq(ptio_readbuf_append(&rb, "xyz", 3), 3);
		new_task(&t, &s);
		t.rb = &rb;
		run_call(&t, call_read_buf_exact);
		ck_assert_int_eq(t.result, 37);
		ck_assert(ptio_readbuf_valid(&rb));
		ck_assert(ptio_readbuf_is_full(&rb));
		ck_assert_mem_eq(dest, "xyz", 3);
		ck_assert_mem_eq(dest + 3, input, 37);
		ck_assert_uint_eq(dest[40], 0xCC);
		ck_assert_uint_eq(s.in_pos, 37);

		/* The stream ends first: what came is in the filled part. */
		stream_for(&s, &cases[c]);
		script_stream_input(&s, input, 6);
		ptio_readbuf_init(&rb, dest, 40);
		new_task(&t, &s);
		t.rb = &rb;
		run_call(&t, call_read_buf_exact);
		ck_assert_int_eq(t.result, PTIO_EUNEXPECTEDEOF);
		ck_assert_uint_eq(rb.filled, 6);
		ck_assert(ptio_readbuf_valid(&rb));
		ck_assert_mem_eq(dest, input, 6);
	}
}
END_TEST

/* ---- Write ------------------------------------------------------------------- */

static ptio_ssize call_write(struct op_task *t)
{
	return ptio_write(&t->op, script_stream_writer(t->s), t->buf, t->len);
}

START_TEST(test_write_once)
{
	static const struct script_step err[] = { SCRIPT_BLOCK,
						  SCRIPT_ERROR(PTIO_EPIPE) };
	struct script_stream s;
	struct op_task t;

	stream_for(&s, &cases[3]); /* block, block, 3 bytes */
	new_task(&t, &s);
	t.buf = input;
	t.len = 10;
	run_call(&t, call_write);
	ck_assert_int_eq(t.result, 3);
	ck_assert_uint_eq(s.out_len, 3);
	ck_assert_mem_eq(output, input, 3);
	ck_assert_uint_eq(s.wr.blocks, 2);

	SCRIPT_SET(&s.wr, err, false);
	new_task(&t, &s);
	t.buf = input;
	t.len = 10;
	run_call(&t, call_write);
	ck_assert_int_eq(t.result, PTIO_EPIPE);
	ck_assert_uint_eq(s.out_len, 3);
}
END_TEST

static ptio_ssize call_write_all(struct op_task *t)
{
	return ptio_write_all(&t->op, script_stream_writer(t->s), t->buf,
			      t->len);
}

START_TEST(test_write_all)
{
	static const size_t lens[] = { 0, 1, 2, 17, 512 };
	struct script_stream s;
	struct op_task t;
	size_t c, k;

	for (c = 0; c < NCASES; c++) {
		for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			stream_for(&s, &cases[c]);
			new_task(&t, &s);
			t.buf = input;
			t.len = lens[k];
			run_call(&t, call_write_all);
			ck_assert_msg(t.result == (ptio_ssize)lens[k],
				      "%s, len %zu: %ld", cases[c].name,
				      lens[k], (long)t.result);
			ck_assert_uint_eq(s.out_len, lens[k]);
			ck_assert_mem_eq(output, input, lens[k]);
		}
	}
}
END_TEST

START_TEST(test_write_all_zero_and_error)
{
	static const struct script_step zero[] = {
		SCRIPT_MAX(3), SCRIPT_BLOCK, SCRIPT_MAX(1), SCRIPT_EOF
	};
	static const struct script_step err[] = {
		SCRIPT_MAX(2), SCRIPT_BLOCK, SCRIPT_MAX(2),
		SCRIPT_ERROR(PTIO_EPIPE)
	};
	static const struct script_step stall[] = { SCRIPT_MAX(6),
						    SCRIPT_NEVER };
	struct script_stream s;
	struct op_task t;

	stream_for(&s, &cases[0]);
	SCRIPT_SET(&s.wr, zero, false);
	new_task(&t, &s);
	t.buf = input;
	t.len = 50;
	run_call(&t, call_write_all);
	ck_assert_int_eq(t.result, PTIO_EWRITEZERO);
	ck_assert_uint_eq(ptio_op_done(&t.op), 4);
	ck_assert_uint_eq(s.out_len, 4);
	ck_assert_mem_eq(output, input, 4);

	stream_for(&s, &cases[0]);
	SCRIPT_SET(&s.wr, err, false);
	new_task(&t, &s);
	t.buf = input;
	t.len = 50;
	run_call(&t, call_write_all);
	ck_assert_int_eq(t.result, PTIO_EPIPE);
	ck_assert_uint_eq(ptio_op_done(&t.op), 4);
	ck_assert_uint_eq(s.out_len, 4);

	stream_for(&s, &cases[0]);
	SCRIPT_SET(&s.wr, stall, false);
	new_task(&t, &s);
	t.buf = input;
	t.len = 50;
	t.has_deadline = true;
	t.deadline_in = 25;
	run_call(&t, call_write_all);
	ck_assert_int_eq(t.result, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(ptio_op_done(&t.op), 6);
	ck_assert_uint_eq(op_task_elapsed(&t), 25);
	ck_assert_uint_eq(t.regs_after, 0);
}
END_TEST

/* For the vectored calls, T->count chooses the writer: 0 the plain one
 * (the dispatch's default writes the first non-empty slice), 1 the one
 * with nb_write_vectored. */
static ptio_ssize call_write_vectored(struct op_task *t)
{
	struct ptio_write w = t->count ? script_stream_writer_vectored(t->s)
				       : script_stream_writer(t->s);

	return ptio_write_vectored(&t->op, w, t->iov, t->n);
}

START_TEST(test_write_vectored)
{
	struct ptio_iovec iov[3];
	struct script_stream s;
	struct op_task t;

	iov[0] = ptio_iovec_make(input, 0);
	iov[1] = ptio_iovec_make(input + 10, 3);
	iov[2] = ptio_iovec_make(input + 20, 2);
	/* Without nb_write_vectored: the first non-empty slice. */
	stream_for(&s, &cases[0]);
	new_task(&t, &s);
	t.iov = iov;
	t.n = 3;
	run_call(&t, call_write_vectored);
	ck_assert_int_eq(t.result, 3);
	ck_assert_mem_eq(output, input + 10, 3);
	ck_assert_uint_eq(s.vectored, 0);
	/* With it: one gathered write, resumed after would-blocks. */
	stream_for(&s, &cases[0]);
	{
		static const struct script_step bl[] = { SCRIPT_BLOCK,
							 SCRIPT_BLOCK };
		SCRIPT_SET(&s.wr, bl, false);
	}
	new_task(&t, &s);
	t.iov = iov;
	t.n = 3;
	t.count = 1;
	run_call(&t, call_write_vectored);
	ck_assert_int_eq(t.result, 5);
	ck_assert_mem_eq(output, input + 10, 3);
	ck_assert_mem_eq(output + 3, input + 20, 2);
	ck_assert_uint_eq(s.vectored, 3);
	ck_assert_uint_eq(s.wr.blocks, 2);
}
END_TEST

static ptio_ssize call_write_all_vectored(struct op_task *t)
{
	struct ptio_write w = t->count ? script_stream_writer_vectored(t->s)
				       : script_stream_writer(t->s);

	return ptio_write_all_vectored(&t->op, w, t->iov, t->n);
}

/* Write MSG's LEN bytes as the N slices IOV with every script and both
 * writers; check every byte arrived once, in order, and IOV is intact. */
static void check_write_all_vectored(const struct ptio_iovec *iov, size_t n,
				     size_t len, const char *what)
{
	struct ptio_iovec copy[64];
	struct script_stream s;
	struct op_task t;
	size_t c;
	int vec;

	ck_assert_uint_le(n, 64);
	memcpy(copy, iov, n * sizeof(*iov));
	for (c = 0; c < NCASES; c++) {
		for (vec = 0; vec < 2; vec++) {
			stream_for(&s, &cases[c]);
			new_task(&t, &s);
			t.iov = iov;
			t.n = n;
			t.count = (size_t)vec;
			run_call(&t, call_write_all_vectored);
			ck_assert_msg(t.result == (ptio_ssize)len,
				      "%s, %s, %s: %ld of %zu", what,
				      cases[c].name,
				      vec ? "writev" : "write", (long)t.result,
				      len);
			ck_assert_msg(s.out_len == len &&
					      memcmp(output, input, len) == 0,
				      "%s, %s: wrong bytes", what,
				      cases[c].name);
			ck_assert_mem_eq(iov, copy, n * sizeof(*iov));
		}
	}
}

START_TEST(test_write_all_vectored_splits)
{
	enum { LEN = 23 };
	struct ptio_iovec iov[6];
	size_t a, b;

	/* Two slices split at every offset, with empty slices around. */
	for (a = 0; a <= LEN; a++) {
		iov[0] = ptio_iovec_make(input, 0);
		iov[1] = ptio_iovec_make(input, a);
		iov[2] = ptio_iovec_make(input + a, 0);
		iov[3] = ptio_iovec_make(input + a, LEN - a);
		iov[4] = ptio_iovec_make(input, 0);
		check_write_all_vectored(iov, 5, LEN, "two slices");
	}
	/* Three slices, every pair of split points. */
	for (a = 0; a <= LEN; a += 2) {
		for (b = a; b <= LEN; b += 3) {
			iov[0] = ptio_iovec_make(input, a);
			iov[1] = ptio_iovec_make(input + a, b - a);
			iov[2] = ptio_iovec_make(input + b, LEN - b);
			check_write_all_vectored(iov, 3, LEN, "three slices");
		}
	}
	/* Nothing at all. */
	iov[0] = ptio_iovec_make(input, 0);
	check_write_all_vectored(iov, 1, 0, "one empty slice");
	check_write_all_vectored(iov, 0, 0, "no slice");
}
END_TEST

/* More slices than one gathered write takes, many of them empty, so the
 * machine must come back for the rest, at every split. */
START_TEST(test_write_all_vectored_many_slices)
{
	struct ptio_iovec iov[64];
	size_t i, at = 0;

	for (i = 0; i < 64; i++) {
		size_t k = i % 3 == 0 ? 0 : 1 + i % 5;

		iov[i] = ptio_iovec_make(input + at, k);
		at += k;
	}
	check_write_all_vectored(iov, 64, at, "64 slices");
}
END_TEST

START_TEST(test_write_all_vectored_random)
{
	struct script_step steps[8];
	struct ptio_iovec iov[8];
	struct script_stream s;
	struct op_task t;
	int seed;

	for (seed = 1; seed <= 300; seed++) {
		size_t n, nsl, i, at = 0;

		rng_state = (uint32_t)seed * 40503u + 1;
		n = random_script(steps);
		nsl = 1 + rng() % 8;
		for (i = 0; i < nsl; i++) {
			size_t k = rng() % 4 == 0 ? 0 : rng() % 40;

			iov[i] = ptio_iovec_make(input + at, k);
			at += k;
		}
		stream_for(&s, &cases[0]);
		script_set(&s.wr, steps, n, true);
		new_task(&t, &s);
		t.iov = iov;
		t.n = nsl;
		t.count = seed & 1;
		run_call(&t, call_write_all_vectored);
		ck_assert_msg(t.result == (ptio_ssize)at, "seed %d", seed);
		ck_assert_uint_eq(s.out_len, at);
		ck_assert_mem_eq(output, input, at);
	}
}
END_TEST

START_TEST(test_write_all_vectored_errors)
{
	static const struct script_step err[] = {
		SCRIPT_MAX(4), SCRIPT_BLOCK, SCRIPT_ERROR(PTIO_EPIPE)
	};
	static const struct script_step zero[] = { SCRIPT_MAX(6), SCRIPT_EOF };
	struct ptio_iovec iov[3];
	struct script_stream s;
	struct op_task t;
	int vec;

	iov[0] = ptio_iovec_make(input, 3);
	iov[1] = ptio_iovec_make(input + 3, 0);
	iov[2] = ptio_iovec_make(input + 3, 10);
	for (vec = 0; vec < 2; vec++) {
		stream_for(&s, &cases[0]);
		SCRIPT_SET(&s.wr, err, false);
		new_task(&t, &s);
		t.iov = iov;
		t.n = 3;
		t.count = (size_t)vec;
		run_call(&t, call_write_all_vectored);
		ck_assert_int_eq(t.result, PTIO_EPIPE);
		ck_assert_uint_eq(ptio_op_done(&t.op), vec ? 4 : 3);
		ck_assert_uint_eq(s.out_len, ptio_op_done(&t.op));

		stream_for(&s, &cases[0]);
		SCRIPT_SET(&s.wr, zero, false);
		new_task(&t, &s);
		t.iov = iov;
		t.n = 3;
		t.count = (size_t)vec;
		run_call(&t, call_write_all_vectored);
		ck_assert_int_eq(t.result, PTIO_EWRITEZERO);
		ck_assert_uint_eq(ptio_op_done(&t.op), vec ? 6 : 3);
		ck_assert_mem_eq(output, input, ptio_op_done(&t.op));
	}
}
END_TEST

/* Lengths whose sum overflows are refused before anything is written. */
START_TEST(test_vectored_overflow)
{
	static uint8_t small[4];
	struct ptio_iovec iov[2];
	struct script_stream s;
	struct op_task t;
	int vec, which;

	for (which = 0; which < 2; which++) {
		if (which == 0) { /* size_t wraps */
			iov[0] = ptio_iovec_make(small, SIZE_MAX);
			iov[1] = ptio_iovec_make(small, 2);
		} else { /* the total would not fit in a ptio_ssize */
			iov[0] = ptio_iovec_make(small, PTIO_SSIZE_MAX);
			iov[1] = ptio_iovec_make(small, 1);
		}
		for (vec = 0; vec < 2; vec++) {
			stream_for(&s, &cases[0]);
			new_task(&t, &s);
			t.iov = iov;
			t.n = 2;
			t.count = (size_t)vec;
			run_call(&t, call_write_all_vectored);
			ck_assert_int_eq(t.result, PTIO_EINVAL);
			ck_assert_uint_eq(s.out_len, 0);
			ck_assert_uint_eq(s.wr.calls, 0);
			if (which == 1)
				continue;
			new_task(&t, &s);
			t.iov = iov;
			t.n = 2;
			t.count = (size_t)vec;
			run_call(&t, call_write_vectored);
			ck_assert_int_eq(t.result, PTIO_EINVAL);
			ck_assert_uint_eq(s.wr.calls, 0);
		}
	}
}
END_TEST

static ptio_ssize call_flush(struct op_task *t)
{
	return ptio_flush(&t->op, script_stream_writer(t->s));
}

START_TEST(test_flush)
{
	static const struct script_step slow[] = {
		SCRIPT_BLOCK, SCRIPT_BLOCK_FOR(5), SCRIPT_MAX(0)
	};
	static const struct script_step err[] = { SCRIPT_BLOCK,
						  SCRIPT_ERROR(PTIO_EIO) };
	struct script_stream s;
	struct op_task t;

	stream_for(&s, &cases[0]);
	SCRIPT_SET(&s.fl, slow, false);
	new_task(&t, &s);
	run_call(&t, call_flush);
	ck_assert_int_eq(t.result, 0);
	ck_assert_uint_eq(s.fl.calls, 3);
	ck_assert_uint_eq(op_task_elapsed(&t), 6);

	stream_for(&s, &cases[0]);
	SCRIPT_SET(&s.fl, err, false);
	new_task(&t, &s);
	run_call(&t, call_flush);
	ck_assert_int_eq(t.result, PTIO_EIO);
	ck_assert_uint_eq(s.fl.calls, 2);
}
END_TEST

/* ---- What the dispatch checks ------------------------------------------------- */

START_TEST(test_dispatch_rejects_overlong_counts)
{
	static const struct script_step lie[] = { SCRIPT_LIE };
	static const struct script_step block_lie[] = { SCRIPT_MAX(2),
							SCRIPT_BLOCK,
							SCRIPT_LIE };
	struct script_stream s;
	struct ptio_readbuf rb;
	struct op_task t;
	const struct ptio_iovec iov = { input, 5 };

	/* The non-blocking calls themselves. */
	stream_for(&s, &cases[0]);
	SCRIPT_SET(&s.rd, lie, true);
	SCRIPT_SET(&s.wr, lie, true);
	ck_assert_int_eq(ptio_nb_read(script_stream_reader(&s), dest, 8),
			 PTIO_EIO);
	ptio_readbuf_init(&rb, dest, 8);
	ck_assert_int_eq(ptio_nb_read_buf(script_stream_reader(&s), &rb),
			 PTIO_EIO);
	ck_assert(ptio_readbuf_valid(&rb));
	ck_assert_uint_eq(rb.filled, 0);
	ck_assert_int_eq(ptio_nb_write(script_stream_writer(&s), input, 8),
			 PTIO_EIO);
	ck_assert_int_eq(ptio_nb_write_vectored(
				 script_stream_writer_vectored(&s), &iov, 1),
			 PTIO_EIO);

	/* And through the machines, after some progress. */
	stream_for(&s, &cases[0]);
	SCRIPT_SET(&s.rd, block_lie, false);
	new_task(&t, &s);
	t.buf = dest;
	t.len = 10;
	run_call(&t, call_read_exact);
	ck_assert_int_eq(t.result, PTIO_EIO);
	ck_assert_uint_eq(ptio_op_done(&t.op), 2);

	stream_for(&s, &cases[0]);
	SCRIPT_SET(&s.wr, block_lie, false);
	new_task(&t, &s);
	t.buf = input;
	t.len = 10;
	run_call(&t, call_write_all);
	ck_assert_int_eq(t.result, PTIO_EIO);
	ck_assert_uint_eq(ptio_op_done(&t.op), 2);
}
END_TEST

START_TEST(test_nb_defaults)
{
	struct script_stream s;
	struct ptio_iovec iov[3];

	stream_for(&s, &cases[0]);
	ck_assert(!ptio_is_write_vectored(script_stream_writer(&s)));
	ck_assert(ptio_is_write_vectored(script_stream_writer_vectored(&s)));
	ck_assert(!ptio_is_read_vectored(script_stream_reader(&s)));
	iov[0] = ptio_iovec_make(input, 0);
	iov[1] = ptio_iovec_make(input + 4, 2);
	iov[2] = ptio_iovec_make(input + 9, 2);
	ck_assert_int_eq(ptio_nb_write_vectored(script_stream_writer(&s), iov,
						3),
			 2);
	ck_assert_mem_eq(output, input + 4, 2);
	ck_assert_int_eq(ptio_nb_write_vectored(script_stream_writer(&s), iov,
						1),
			 0);
	ck_assert_int_eq(ptio_nb_read(script_stream_reader(&s), dest, 4), 4);
	ck_assert_mem_eq(dest, input, 4);
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("ops");
	TCase *tr = tcase_create("read");
	TCase *tw = tcase_create("write");
	TCase *td = tcase_create("dispatch");

	tcase_add_checked_fixture(tr, ops_setup, fake_loop_teardown);
	tcase_set_timeout(tr, 60);
	tcase_add_test(tr, test_ready);
	tcase_add_test(tr, test_read_everything);
	tcase_add_test(tr, test_read_once);
	tcase_add_test(tr, test_read_buf_everything);
	tcase_add_test(tr, test_read_exact);
	tcase_add_test(tr, test_read_exact_op_reused);
	tcase_add_test(tr, test_read_exact_eof_and_error);
	tcase_add_test(tr, test_read_exact_deadline);
	tcase_add_test(tr, test_read_exact_no_wait_when_ready);
	tcase_add_test(tr, test_read_exact_random);
	tcase_add_test(tr, test_read_buf_exact);
	suite_add_tcase(s, tr);

	tcase_add_checked_fixture(tw, ops_setup, fake_loop_teardown);
	tcase_set_timeout(tw, 60);
	tcase_add_test(tw, test_write_once);
	tcase_add_test(tw, test_write_all);
	tcase_add_test(tw, test_write_all_zero_and_error);
	tcase_add_test(tw, test_write_vectored);
	tcase_add_test(tw, test_write_all_vectored_splits);
	tcase_add_test(tw, test_write_all_vectored_many_slices);
	tcase_add_test(tw, test_write_all_vectored_random);
	tcase_add_test(tw, test_write_all_vectored_errors);
	tcase_add_test(tw, test_vectored_overflow);
	tcase_add_test(tw, test_flush);
	suite_add_tcase(s, tw);

	tcase_add_checked_fixture(td, ops_setup, fake_loop_teardown);
	tcase_add_test(td, test_dispatch_rejects_overlong_counts);
	tcase_add_test(td, test_nb_defaults);
	suite_add_tcase(s, td);
	return s;
}
