/*
 * test/check-pipe.c - the in-memory pipe (ptio/pipe.h): the ring, its
 * readiness, closing each end, BufRead, and two tasks streaming through
 * a pipe much smaller than what they move (on the simulated backend).
 */
#include <string.h>
#include <check.h>
#include <ptio.h>
#include <ptio/sim.h>
#include "test/helpers.h"

START_TEST(test_ring_wraps)
{
	struct ptio_pipe p;
	uint8_t ring[8], out[16];
	struct ptio_write w;
	struct ptio_read r;

	ptio_pipe_init(&p, ring, sizeof(ring));
	w = ptio_pipe_writer(&p);
	r = ptio_pipe_reader(&p);
	ck_assert_int_eq(ptio_nb_read(r, out, sizeof(out)), PTIO_WOULD_BLOCK);
	ck_assert_uint_eq(p.rs->ready & PTIO_READABLE, 0);
	ck_assert_int_eq(ptio_nb_write(w, "abcde", 5), 5);
	ck_assert_uint_eq(p.rs->ready & PTIO_READABLE, PTIO_READABLE);
	ck_assert_int_eq(ptio_nb_read(r, out, 3), 3);
	ck_assert_mem_eq(out, "abc", 3);
	/* 6 of 7 fit across the end of the ring; then it is full. */
	ck_assert_int_eq(ptio_nb_write(w, "fghijkl", 7), 6);
	ck_assert_uint_eq(ptio_pipe_room(&p), 0);
	ck_assert_int_eq(ptio_nb_write(w, "l", 1), PTIO_WOULD_BLOCK);
	ck_assert_uint_eq(p.ws->ready & PTIO_WRITABLE, 0);
	ck_assert_int_eq(ptio_nb_read(r, out, sizeof(out)), 8);
	ck_assert_mem_eq(out, "defghijk", 8);
	ck_assert_uint_eq(p.ws->ready & PTIO_WRITABLE, PTIO_WRITABLE);
	ck_assert_int_eq(ptio_nb_write(w, "", 0), 0);
}
END_TEST

START_TEST(test_close_each_end)
{
	struct ptio_pipe p;
	uint8_t ring[4], out[4];

	ptio_pipe_init(&p, ring, sizeof(ring));
	ck_assert_int_eq(ptio_nb_write(ptio_pipe_writer(&p), "xy", 2), 2);
	ptio_pipe_close_write(&p);
	ck_assert_int_eq(ptio_nb_write(ptio_pipe_writer(&p), "z", 1),
			 PTIO_ECLOSED);
	/* The buffered bytes first, then end of stream, for good. */
	ck_assert_int_eq(ptio_nb_read(ptio_pipe_reader(&p), out, 4), 2);
	ck_assert_int_eq(ptio_nb_read(ptio_pipe_reader(&p), out, 4), 0);
	ck_assert_int_eq(ptio_nb_read(ptio_pipe_reader(&p), out, 4), 0);

	ptio_pipe_init(&p, ring, sizeof(ring));
	ck_assert_int_eq(ptio_nb_write(ptio_pipe_writer(&p), "xy", 2), 2);
	ptio_pipe_close_read(&p);
	ck_assert_int_eq(ptio_nb_write(ptio_pipe_writer(&p), "z", 1),
			 PTIO_EPIPE);
	ck_assert_int_eq(ptio_nb_read(ptio_pipe_reader(&p), out, 4),
			 PTIO_ECLOSED);
	ptio_pipe_close_read(&p); /* idempotent */
}
END_TEST

START_TEST(test_bufread_pieces)
{
	struct ptio_pipe p;
	uint8_t ring[6];
	const uint8_t *d;
	struct ptio_bufread b;

	ptio_pipe_init(&p, ring, sizeof(ring));
	b = ptio_pipe_bufread(&p);
	ck_assert_int_eq(ptio_nb_fill_buf(b, &d), PTIO_WOULD_BLOCK);
	ck_assert_int_eq(ptio_nb_write(ptio_pipe_writer(&p), "abcd", 4), 4);
	ptio_bufread_consume(b, 3);
	ck_assert_int_eq(ptio_nb_write(ptio_pipe_writer(&p), "efgh", 4), 4);
	/* "defgh" wraps: the view is the contiguous part, and stays put
	 * until consumed. */
	ck_assert_int_eq(ptio_nb_fill_buf(b, &d), 3);
	ck_assert_mem_eq(d, "def", 3);
	ck_assert_int_eq(ptio_nb_fill_buf(b, &d), 3);
	ptio_bufread_consume(b, 100); /* clamped to the view */
	ck_assert_int_eq(ptio_nb_fill_buf(b, &d), 2);
	ck_assert_mem_eq(d, "gh", 2);
	ptio_bufread_consume(b, 2);
	ck_assert_uint_eq(ptio_pipe_len(&p), 0);
}
END_TEST

/* ---- Two tasks through a 7-byte pipe ------------------------------------ */

#define STREAM_LEN 20000

static struct {
	struct ptio_task wt, rt;
	struct ptio_op wop, rop;
	struct ptio_pipe p;
	uint8_t ring[7];
	uint8_t src[STREAM_LEN], dst[STREAM_LEN];
	ptio_ssize wres, rres;
} two;

static ptio_ssize writer(struct ptio_task *task)
{
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	PTIO_AWAIT(&task->pt, r, ptio_write_all(&two.wop, ptio_pipe_writer(&two.p),
						two.src, STREAM_LEN));
	two.wres = r;
	ptio_pipe_close_write(&two.p);
	PTIO_END(&task->pt);
}

static ptio_ssize reader(struct ptio_task *task)
{
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	PTIO_AWAIT(&task->pt, r, ptio_read_exact(&two.rop, ptio_pipe_reader(&two.p),
						 two.dst, STREAM_LEN));
	two.rres = r;
	PTIO_END(&task->pt);
}

START_TEST(test_two_tasks)
{
	struct ptio_sim sim;
	struct ptio_sim_event ev[4];
	struct ptio_loop loop;
	size_t i;

	for (i = 0; i < STREAM_LEN; i++)
		two.src[i] = (uint8_t)(i * 7 + i / 251);
	ptio_loop_init(&loop, ptio_sim_init(&sim, 0, 1, ev, 4));
	ptio_pipe_init(&two.p, two.ring, sizeof(two.ring));
	ptio_op_init(&two.wop, &two.wt);
	ptio_op_init(&two.rop, &two.rt);
	ptio_task_start(&loop, &two.rt, reader);
	ptio_task_start(&loop, &two.wt, writer);
	ck_assert_int_eq(ptio_loop_run(&loop, PTIO_RUN_DEFAULT), 0);
	ck_assert_int_eq(two.wres, STREAM_LEN);
	ck_assert_int_eq(two.rres, STREAM_LEN);
	ck_assert_mem_eq(two.dst, two.src, STREAM_LEN);
	ck_assert_uint_eq(ptio_loop_registrations(&loop), 0);
	/* Only the pipe woke the tasks: no time passed. */
	ck_assert_uint_eq(ptio_sim_now(&sim), 0);
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("pipe");
	TCase *tc = tcase_create("pipe");

	tcase_add_test(tc, test_ring_wraps);
	tcase_add_test(tc, test_close_each_end);
	tcase_add_test(tc, test_bufread_pieces);
	tcase_add_test(tc, test_two_tasks);
	suite_add_tcase(s, tc);
	return s;
}
