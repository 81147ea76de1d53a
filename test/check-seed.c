/*
 * test/check-seed.c - the seed's three read_stream examples, in C, exactly
 * as README.md's "From the seed to C" shows them, run on a socket.
 *
 * The struct and the three machines between the README markers are
 * copied into the README verbatim; keeping them here means the README's
 * code compiles and works.  Each reads what a peer sent.
 */
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <check.h>
#include "test/helpers.h"

/* README: struct */
struct reader {
	struct ptio_task task;
	struct ptio_op op;       /* the state of the call being awaited */
	struct ptio_fd *stream;  /* a TCP socket, say */
	uint8_t buf[1024];       /* the easy path's buffer */
	ptio_ssize bytes_read;
};
/* README: end */

/* README: easy path */
static ptio_ssize read_stream(struct ptio_task *task)
{
	struct reader *rd = PTIO_CONTAINER_OF(task, struct reader, task);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	PTIO_AWAIT(&task->pt, r, ptio_read(&rd->op, ptio_fd_reader(rd->stream),
					   rd->buf, sizeof(rd->buf)));
	PTIO_TRY(&task->pt, r);
	rd->bytes_read = r;
	/* we've read bytes_read bytes: do something with rd->buf */
	PTIO_END(&task->pt);
}
/* README: end */

/* README: memory-sensitive path */
static ptio_ssize read_stream_lean(struct ptio_task *task)
{
	struct reader *rd = PTIO_CONTAINER_OF(task, struct reader, task);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		PTIO_AWAIT(&task->pt, r, ptio_ready(&rd->op,
			ptio_fd_ready(rd->stream), PTIO_READ));
		PTIO_TRY(&task->pt, r);
		/* The buffer exists only from here to the next await. */
		uint8_t buf[1024];

		r = ptio_nb_read(ptio_fd_reader(rd->stream), buf, sizeof(buf));
		if (r >= 0) {
			rd->bytes_read = r;
			/* we've read bytes_read bytes: do something with buf */
			PTIO_RETURN(&task->pt, 0);
		} else if (r == PTIO_WOULD_BLOCK) {
			/* readiness was stale: wait again */
		} else {
			PTIO_RETURN(&task->pt, r);
		}
	}
	PTIO_END(&task->pt);
}
/* README: end */

/* README: continue_on_block */
static ptio_ssize read_stream_cob(struct ptio_task *task)
{
	struct reader *rd = PTIO_CONTAINER_OF(task, struct reader, task);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		PTIO_AWAIT(&task->pt, r, ptio_ready(&rd->op,
			ptio_fd_ready(rd->stream), PTIO_READ));
		PTIO_TRY(&task->pt, r);
		uint8_t buf[1024];

		PTIO_CONTINUE_ON_BLOCK(r, ptio_nb_read(
			ptio_fd_reader(rd->stream), buf, sizeof(buf)));
		PTIO_TRY(&task->pt, r);
		rd->bytes_read = r;
		/* we've read bytes_read bytes: do something with buf */
		PTIO_RETURN(&task->pt, 0);
	}
	PTIO_END(&task->pt);
}
/* README: end */

/* Start FN reading from a socket the peer writes "hello, seed" into
 * after the task has had to wait, and check that it read all of it (and
 * for the easy path, whose buffer outlives the machine, what). */
static void run_example(ptio_task_fn fn)
{
	static struct reader rd;
	static struct ptio_fd fd;
	int sv[2];
	char rest[4];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(&rd, 0, sizeof(rd));
	PTIO_CK_OK(ptio_fd_open(&fd, &ptio_test_loop, sv[0], 0));
	rd.stream = &fd;
	ptio_op_init(&rd.op, &rd.task);
	ptio_task_start(&ptio_test_loop, &rd.task, fn);
	/* Let it reach its wait first, so the wakeup path is taken. */
	ck_assert_int_ge(ptio_loop_run(&ptio_test_loop, PTIO_RUN_NOWAIT), 0);
	ck_assert_int_eq(write(sv[1], "hello, seed", 11), 11);
	ptio_test_run(5000);
	ck_assert_int_eq(rd.bytes_read, 11);
	if (fn == read_stream)
		ck_assert_int_eq(memcmp(rd.buf, "hello, seed", 11), 0);
	/* Nothing was left unread. */
	ck_assert_int_eq(ptio_nb_read(ptio_fd_reader(&fd), rest, sizeof(rest)),
			 PTIO_WOULD_BLOCK);
	PTIO_CK_OK(ptio_fd_close(&fd));
	close(sv[1]);
}

START_TEST(seed_easy_path)
{
	run_example(read_stream);
}
END_TEST

START_TEST(seed_memory_sensitive_path)
{
	run_example(read_stream_lean);
}
END_TEST

START_TEST(seed_continue_on_block)
{
	run_example(read_stream_cob);
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create(ptio_test_suite_name("seed"));
	TCase *tc = tcase_create("read_stream");

	tcase_add_checked_fixture(tc, ptio_test_loop_setup,
				  ptio_test_loop_teardown);
	tcase_add_test(tc, seed_easy_path);
	tcase_add_test(tc, seed_memory_sensitive_path);
	tcase_add_test(tc, seed_continue_on_block);
	suite_add_tcase(s, tc);
	return s;
}
