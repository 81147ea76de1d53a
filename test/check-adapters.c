/*
 * test/check-adapters.c - take, chain, empty, repeat, sink, copy and
 * copy_buf: their edges in memory, and the copies on real sockets and
 * pipes through the poll loop.
 *
 * Divided into: take, chain, the trivial streams, copy's spill, and
 * copies over sockets.  The in-memory reader is test/fake/mem-read.c.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <check.h>
#include "test/helpers.h"
#include "test/fake/mem-read.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A task that is never run: everything here is always ready, so the
 * machines finish in one call. */
static struct ptio_task idle_task;

/* ---- take ----------------------------------------------------------------------- */

START_TEST(take_never_reads_past_the_limit)
{
	static const char text[] = "0123456789";
	struct mem_read m;
	struct ptio_take t;
	uint8_t out[16];

	ptio_take_init(&t, mem_reader(&m, text, 10, SIZE_MAX), 4);
	ck_assert_int_eq(ptio_nb_read(ptio_take_reader(&t), out, 16), 4);
	ck_assert_uint_eq(m.max_room, 4);   /* the inner saw only 4 of room */
	ck_assert_uint_eq(m.pos, 4);
	ck_assert_int_eq(memcmp(out, "0123", 4), 0);
	ck_assert_int_eq(ptio_nb_read(ptio_take_reader(&t), out, 16), 0);
	ck_assert_uint_eq(m.pos, 4);        /* the rest stays in the inner */
	ck_assert_uint_eq(ptio_take_limit(&t), 0);
	ptio_take_set_limit(&t, 100);
	ck_assert_int_eq(ptio_nb_read(ptio_take_reader(&t), out, 16), 6);
	ck_assert_int_eq(memcmp(out, "456789", 6), 0);
	ck_assert_int_eq(ptio_nb_read(ptio_take_reader(&t), out, 16), 0);
	ck_assert_uint_eq(ptio_take_limit(&t), 94);
}
END_TEST

/* What the caller's readbuf knows to be initialised is passed on, cut at
 * the limit, and what the inner reader initialised comes back. */
START_TEST(take_passes_initialisation)
{
	static const char text[] = "abcdef";
	struct mem_read m;
	struct ptio_take t;
	struct ptio_readbuf rb;
	uint8_t mem[16];

	ptio_take_init(&t, mem_reader(&m, text, 6, SIZE_MAX), 3);
	ptio_readbuf_init_initialized(&rb, mem, sizeof(mem));
	ck_assert_int_eq(ptio_nb_read_buf(ptio_take_reader(&t), &rb), 3);
	ck_assert_uint_eq(m.last_init, 3);
	ck_assert_uint_eq(rb.filled, 3);
	ck_assert_uint_eq(rb.initialized, 16);
	ck_assert(ptio_readbuf_valid(&rb));
}
END_TEST

START_TEST(take_over_bufread)
{
	static const char text[] = "line one\nline two\n";
	struct mem_read m;
	struct ptio_bufreader br;
	struct ptio_take t;
	struct ptio_op op;
	struct ptio_readbuf line;
	uint8_t mem[64], lb[64];
	const uint8_t *d;
	ptio_ssize r;

	ptio_bufreader_init(&br, mem_reader(&m, text, 18, SIZE_MAX), mem,
			    sizeof(mem));
	ptio_take_init_bufread(&t, ptio_bufreader_bufread(&br), 12);
	/* The view is cut at the limit even though more is buffered. */
	ck_assert_int_eq(ptio_nb_fill_buf(ptio_take_bufread(&t), &d), 12);
	ck_assert_uint_eq(ptio_bufreader_buffered(&br), 18);
	ptio_op_init(&op, &idle_task);
	ptio_readbuf_init(&line, lb, sizeof(lb));
	r = ptio_read_line(&op, ptio_take_bufread(&t), &line, 64);
	ck_assert_int_eq(r, 9);
	ptio_readbuf_clear(&line);
	r = ptio_read_line(&op, ptio_take_bufread(&t), &line, 64);
	ck_assert_int_eq(r, 3);           /* "lin", then the limit */
	ck_assert_int_eq(memcmp(lb, "lin", 3), 0);
	ck_assert_uint_eq(ptio_take_limit(&t), 0);
	/* Consuming more than the view allows is clamped. */
	ptio_take_set_limit(&t, 2);
	ptio_bufread_consume(ptio_take_bufread(&t), 10);
	ck_assert_uint_eq(ptio_take_limit(&t), 0);
	ck_assert_uint_eq(ptio_bufreader_buffered(&br), 4);
}
END_TEST

START_TEST(take_ready_at_its_end)
{
	struct mem_read m;
	struct ptio_take t;

	ptio_take_init(&t, mem_reader(&m, "", 0, SIZE_MAX), 0);
	ck_assert_int_eq(ptio_poll_ready(ptio_read_as_ready(ptio_take_reader(&t)),
					 NULL, PTIO_READ), PTIO_READABLE);
}
END_TEST

/* ---- chain ------------------------------------------------------------------------ */

START_TEST(chain_first_then_second)
{
	struct mem_read a, b;
	struct ptio_chain ch;
	struct ptio_readbuf rb;
	uint8_t out[16];
	struct ptio_read r;

	ptio_chain_init(&ch, mem_reader(&a, "abc", 3, 2),
			mem_reader(&b, "XYZ", 3, SIZE_MAX));
	r = ptio_chain_reader(&ch);
	ck_assert_int_eq(ptio_nb_read(r, out, 16), 2);
	ck_assert_int_eq(ptio_nb_read(r, out + 2, 16), 1);
	/* A read with no room says nothing about the end: stay on A. */
	ptio_readbuf_init(&rb, out, 0);
	ck_assert_int_eq(ptio_nb_read_buf(r, &rb), 0);
	ck_assert(!ch.done_first);
	ck_assert_int_eq(ptio_nb_read(r, out + 3, 16), 3);
	ck_assert(ch.done_first);
	ck_assert_int_eq(ptio_nb_read(r, out + 6, 16), 0);
	ck_assert_int_eq(memcmp(out, "abcXYZ", 6), 0);
}
END_TEST

/* ---- empty, repeat, sink ----------------------------------------------------------- */

START_TEST(trivial_streams)
{
	struct ptio_repeat rp;
	struct ptio_sink sink;
	struct ptio_iovec iov[2];
	uint8_t out[5];
	const uint8_t *d;
	struct ptio_op op;
	struct ptio_bytes b;
	uint8_t one[1];

	ck_assert_int_eq(ptio_nb_read(ptio_empty_reader(), out, 5), 0);
	ck_assert_int_eq(ptio_nb_fill_buf(ptio_empty_bufread(), &d), 0);
	ck_assert_int_eq(ptio_poll_ready(ptio_read_as_ready(ptio_empty_reader()),
					 NULL, PTIO_READ), PTIO_READABLE);
	ptio_repeat_init(&rp, 'z');
	ck_assert_int_eq(ptio_nb_read(ptio_repeat_reader(&rp), out, 5), 5);
	ck_assert_int_eq(memcmp(out, "zzzzz", 5), 0);
	ptio_sink_init(&sink);
	ck_assert_int_eq(ptio_nb_write(ptio_sink_writer(&sink), "abc", 3), 3);
	iov[0] = ptio_iovec_make("de", 2);
	iov[1] = ptio_iovec_make("fgh", 3);
	ck_assert_int_eq(ptio_nb_write_vectored(ptio_sink_writer(&sink), iov, 2),
			 5);
	ck_assert_int_eq(ptio_nb_write(ptio_sink_writer(NULL), "abc", 3), 3);
	ck_assert_uint_eq(sink.count, 8);
	ck_assert_int_eq(ptio_poll_ready(ptio_write_as_ready(
				 ptio_sink_writer(&sink)), NULL, PTIO_WRITE),
			 PTIO_WRITABLE);
	/* read_to_end of empty into a one-byte buffer: nothing, no error. */
	ptio_op_init(&op, &idle_task);
	ptio_bytes_init(&b, one, sizeof(one), NULL);
	ck_assert_int_eq(ptio_read_to_end(&op, ptio_empty_reader(), &b), 0);
}
END_TEST

/* ---- copy's spill ---------------------------------------------------------------------- */

/* A writer that takes up to TAKE bytes, then blocks until TAKE is raised
 * again; ready only when it would take something. */
struct gate_write {
	uint8_t out[4096];
	size_t len, take;
};

static ptio_ssize gate_write(void *self, const void *buf, size_t len)
{
	struct gate_write *g = self;

	if (g->len >= g->take)
		return PTIO_WOULD_BLOCK;
	if (len > g->take - g->len)
		len = g->take - g->len;
	memcpy(g->out + g->len, buf, len);
	g->len += len;
	return (ptio_ssize)len;
}

static ptio_ssize gate_poll(void *self, struct ptio_task *task,
			    unsigned interest)
{
	struct gate_write *g = self;

	(void)interest;
	if (g->len < g->take)
		return PTIO_WRITABLE;
	/* The test itself calls the machine again: nothing to register. */
	return task != NULL ? PTIO_PENDING : PTIO_WOULD_BLOCK;
}

static const struct ptio_write_vt gate_vt = {
	.ready = { .poll_ready = gate_poll },
	.nb_write = gate_write,
};

/* Drive the copy machine by hand: the writer blocks with part of a chunk
 * unwritten; those bytes must be in the spill (not in the scratch buffer,
 * which the test then scribbles over, as another task would). */
static void spill_case(bool scratch)
{
	static const char text[] = "0123456789abcdefghij";
	struct mem_read m;
	struct ptio_read rd = mem_reader(&m, text, 20, SIZE_MAX);
	struct gate_write g = { { 0 }, 0, 3 };
	struct ptio_write w = { &g, &gate_vt };
	struct ptio_loop loop;
	struct ptio_task task;
	struct ptio_op op;
	struct ptio_spill spill;
	uint8_t spill_mem[8], scratch_mem[64];
	ptio_ssize r;

	/* The copy never waits here (the test calls it again itself), but
	 * it needs a task on a loop to find the scratch buffer. */
	memset(&loop, 0, sizeof(loop));
	memset(&task, 0, sizeof(task));
	task.loop = &loop;
	if (scratch)
		ptio_loop_set_scratch(&loop, scratch_mem, sizeof(scratch_mem));
	ptio_op_init(&op, &task);
	ptio_spill_init(&spill, spill_mem, sizeof(spill_mem));
	r = ptio_copy(&op, rd, w, &spill);
	ck_assert_int_eq(r, PTIO_PENDING);
	/* One chunk of at most the spill's size was read; 3 bytes went. */
	ck_assert_uint_eq(m.pos, 8);
	ck_assert_uint_eq(g.len, 3);
	ck_assert_uint_eq(ptio_op_done(&op), 3);
	ck_assert_uint_eq(ptio_spill_pending(&spill), 5);
	memset(scratch_mem, '#', sizeof(scratch_mem));
	g.take = 1000;
	r = ptio_copy(&op, rd, w, &spill);
	ck_assert_int_eq(r, 20);
	ck_assert_uint_eq(g.len, 20);
	ck_assert_int_eq(memcmp(g.out, text, 20), 0);
	ck_assert_uint_eq(ptio_spill_pending(&spill), 0);
}

START_TEST(copy_spills_what_the_writer_refused)
{
	spill_case(true);
	spill_case(false);
}
END_TEST

START_TEST(copy_refuses_an_empty_spill)
{
	struct mem_read m;
	struct ptio_sink sink;
	struct ptio_op op;
	struct ptio_spill spill;

	ptio_op_init(&op, &idle_task);
	ptio_spill_init(&spill, NULL, 0);
	ck_assert_int_eq(ptio_copy(&op, mem_reader(&m, "x", 1, 1),
				   ptio_sink_writer(&sink), &spill),
			 PTIO_EINVAL);
}
END_TEST

/* ---- Copies over sockets ------------------------------------------------------------------ */

#define SOCK_BYTES (1u << 20)

/* One writer task feeds a socket with a pattern; one copy task moves it
 * from the other end of that socket to a pipe (copy, through the loop's
 * scratch buffer, or copy_buf, through a BufReader); one reader task
 * checks every byte from the pipe.  Three tasks, two streams each shared
 * by a reading and a writing task. */
struct sock_copy {
	struct ptio_task writer, copier, checker;
	struct ptio_op wop, cop, rop;
	struct ptio_fd a, b, pin, pout;
	struct ptio_spill spill;
	uint8_t spill_mem[4096];
	struct ptio_bufreader br;
	uint8_t br_mem[3000];
	bool buffered;
	uint8_t wbuf[8192];
	uint8_t rbuf[7000];
	size_t sent, checked;
	ptio_ssize copied;
};

static uint8_t pattern_at(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 9));
}

static ptio_ssize sock_writer(struct ptio_task *task)
{
	struct sock_copy *s = PTIO_CONTAINER_OF(task, struct sock_copy, writer);
	ptio_ssize r;
	size_t i;

	PTIO_BEGIN(&task->pt);
	while (s->sent < SOCK_BYTES) {
		for (i = 0; i < sizeof(s->wbuf); i++)
			s->wbuf[i] = pattern_at(s->sent + i);
		PTIO_AWAIT(&task->pt, r, ptio_write_all(&s->wop,
			ptio_fd_writer(&s->a), s->wbuf, sizeof(s->wbuf)));
		ck_assert_int_eq(r, sizeof(s->wbuf));
		s->sent += sizeof(s->wbuf);
	}
	PTIO_CK_OK(ptio_fd_shutdown_write(&s->a));
	PTIO_END(&task->pt);
}

static ptio_ssize sock_copier(struct ptio_task *task)
{
	struct sock_copy *s = PTIO_CONTAINER_OF(task, struct sock_copy, copier);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	if (s->buffered)
		PTIO_AWAIT(&task->pt, r, ptio_copy_buf(&s->cop,
			ptio_bufreader_bufread(&s->br), ptio_fd_writer(&s->pin)));
	else
		PTIO_AWAIT(&task->pt, r, ptio_copy(&s->cop,
			ptio_fd_reader(&s->b), ptio_fd_writer(&s->pin),
			&s->spill));
	s->copied = r;
	PTIO_CK_OK(ptio_fd_close(&s->pin)); /* the checker reads the end */
	PTIO_END(&task->pt);
}

static ptio_ssize sock_checker(struct ptio_task *task)
{
	struct sock_copy *s = PTIO_CONTAINER_OF(task, struct sock_copy, checker);
	ptio_ssize r;
	size_t i;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		PTIO_AWAIT(&task->pt, r, ptio_read(&s->rop,
			ptio_fd_reader(&s->pout), s->rbuf, sizeof(s->rbuf)));
		PTIO_CK_OK(r);
		if (r == 0)
			break;
		for (i = 0; i < (size_t)r; i++)
			if (s->rbuf[i] != pattern_at(s->checked + i))
				ck_abort_msg("byte %zu differs", s->checked + i);
		s->checked += (size_t)r;
	}
	PTIO_END(&task->pt);
}

static void sock_copy_run(bool buffered)
{
	static struct sock_copy s;
	int sv[2], pv[2];

	memset(&s, 0, sizeof(s));
	s.buffered = buffered;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(pipe(pv), 0);
	PTIO_CK_OK(ptio_fd_open(&s.a, &ptio_test_loop, sv[0], 0));
	PTIO_CK_OK(ptio_fd_open(&s.b, &ptio_test_loop, sv[1], 0));
	PTIO_CK_OK(ptio_fd_open(&s.pout, &ptio_test_loop, pv[0], 0));
	PTIO_CK_OK(ptio_fd_open(&s.pin, &ptio_test_loop, pv[1], 0));
	ptio_spill_init(&s.spill, s.spill_mem, sizeof(s.spill_mem));
	ptio_bufreader_init(&s.br, ptio_fd_reader(&s.b), s.br_mem,
			    sizeof(s.br_mem));
	ptio_op_init(&s.wop, &s.writer);
	ptio_op_init(&s.cop, &s.copier);
	ptio_op_init(&s.rop, &s.checker);
	ptio_task_start(&ptio_test_loop, &s.writer, sock_writer);
	ptio_task_start(&ptio_test_loop, &s.copier, sock_copier);
	ptio_task_start(&ptio_test_loop, &s.checker, sock_checker);
	ptio_test_run(20000);
	ck_assert_int_eq(s.copied, SOCK_BYTES);
	ck_assert_uint_eq(s.checked, SOCK_BYTES);
	PTIO_CK_OK(ptio_fd_close(&s.a));
	PTIO_CK_OK(ptio_fd_close(&s.b));
	PTIO_CK_OK(ptio_fd_close(&s.pout));
}

START_TEST(copy_socket_to_pipe)
{
	sock_copy_run(false);
}
END_TEST

START_TEST(copy_buf_socket_to_pipe)
{
	sock_copy_run(true);
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create(ptio_test_suite_name("adapters"));
	TCase *tc = tcase_create("memory");
	TCase *ts = tcase_create("sockets");

	tcase_add_test(tc, take_never_reads_past_the_limit);
	tcase_add_test(tc, take_passes_initialisation);
	tcase_add_test(tc, take_over_bufread);
	tcase_add_test(tc, take_ready_at_its_end);
	tcase_add_test(tc, chain_first_then_second);
	tcase_add_test(tc, trivial_streams);
	tcase_add_test(tc, copy_spills_what_the_writer_refused);
	tcase_add_test(tc, copy_refuses_an_empty_spill);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(ts, ptio_test_loop_setup,
				  ptio_test_loop_teardown);
	tcase_set_timeout(ts, 30);
	tcase_add_test(ts, copy_socket_to_pipe);
	tcase_add_test(ts, copy_buf_socket_to_pipe);
	suite_add_tcase(s, ts);
	return s;
}
