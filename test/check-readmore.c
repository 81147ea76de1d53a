/*
 * test/check-readmore.c - the growable byte buffer, read_buf_vectored,
 * read_to_end and read_to_string: edges in memory, and a real socket.
 *
 * Divided into: a counting allocator, ptio_bytes,
 * read_buf_vectored, read_to_end, read_to_string, over a socket.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <check.h>
#include "test/helpers.h"
#include "test/fake/mem-read.h"

/* ---- Helpers ------------------------------------------------------------------ */

/* An allocator hook that counts live blocks and can be told to fail. */
struct count_alloc {
	struct ptio_alloc hook;
	int live;
	int calls;
	int fail_after;    /* calls that succeed; -1 for all */
	size_t last_size;
};

static void *count_resize(void *ctx, void *ptr, size_t old, size_t size)
{
	struct count_alloc *ca = ctx;
	void *p;

	(void)old;
	if (size == 0) {
		ca->live -= ptr != NULL;
		free(ptr);
		return NULL;
	}
	if (ca->fail_after >= 0 && ca->calls >= ca->fail_after)
		return NULL;
	ca->calls++;
	p = realloc(ptr, size);
	if (p != NULL && ptr == NULL)
		ca->live++;
	ca->last_size = size;
	return p;
}

static void count_alloc_init(struct count_alloc *ca, int fail_after)
{
	memset(ca, 0, sizeof(*ca));
	ca->hook.resize = count_resize;
	ca->hook.ctx = ca;
	ca->fail_after = fail_after;
}

/* Never run: the in-memory reader (test/fake/mem-read.c) is always
 * ready, so the machines finish in one call. */
static struct ptio_task idle_task;

/* ---- ptio_bytes ---------------------------------------------------------------------- */

START_TEST(bytes_grow_from_caller_memory)
{
	struct count_alloc ca;
	struct ptio_bytes b;
	uint8_t start[4];
	size_t i;

	count_alloc_init(&ca, -1);
	ptio_bytes_init(&b, start, sizeof(start), &ca.hook);
	ck_assert_int_eq(ptio_bytes_append(&b, "abcd", 4), 4);
	ck_assert_ptr_eq(b.data, start);  /* fits: no allocation */
	ck_assert_int_eq(ca.calls, 0);
	ck_assert_int_eq(ptio_bytes_append(&b, "e", 1), 1);
	ck_assert_ptr_ne(b.data, start);  /* moved out, copied */
	ck_assert_int_eq(memcmp(b.data, "abcde", 5), 0);
	ck_assert_int_eq(ca.live, 1);
	/* Byte by byte to 10000: the capacity doubles, so few calls. */
	for (i = 5; i < 10000; i++)
		ck_assert_int_eq(ptio_bytes_append(&b, "x", 1), 1);
	ck_assert_int_le(ca.calls, 10);
	ck_assert_str_eq(ptio_bytes_cstr(&b) + 9995, "xxxxx");
	ck_assert_uint_eq(b.len, 10000);
	ptio_bytes_free(&b);
	ck_assert_int_eq(ca.live, 0);
	ck_assert_uint_eq(b.cap, 0);
}
END_TEST

START_TEST(bytes_errors_change_nothing)
{
	struct count_alloc ca;
	struct ptio_bytes b;
	uint8_t fixed[4];

	ptio_bytes_init(&b, fixed, sizeof(fixed), NULL);
	ck_assert_int_eq(ptio_bytes_append(&b, "abc", 3), 3);
	ck_assert_int_eq(ptio_bytes_append(&b, "de", 2), PTIO_ENOBUFS);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_str_eq(ptio_bytes_cstr(&b), "abc");
	ck_assert_int_eq(ptio_bytes_append(&b, "d", 1), 1);
	ck_assert_ptr_null(ptio_bytes_cstr(&b)); /* no room for the NUL */
	ck_assert_int_eq(ptio_bytes_reserve(&b, PTIO_SSIZE_MAX),
			 PTIO_EOVERFLOW);
	ptio_bytes_free(&b);                    /* caller memory: kept */

	count_alloc_init(&ca, 1);
	ptio_bytes_init(&b, NULL, 0, &ca.hook);
	ck_assert_int_eq(ptio_bytes_append(&b, "abc", 3), 3);
	ck_assert_int_eq(ptio_bytes_reserve(&b, 1000), PTIO_ENOMEM);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_int_eq(memcmp(b.data, "abc", 3), 0);
	ptio_bytes_free(&b);
	ck_assert_int_eq(ca.live, 0);
}
END_TEST

/* ---- read_buf_vectored ---------------------------------------------------------------- */

START_TEST(read_buf_vectored_default_fills_first_with_room)
{
	static const char text[] = "abcdefghij";
	struct mem_read m;
	struct ptio_read r = mem_reader(&m, text, 10, SIZE_MAX);
	struct ptio_readbuf rbs[3];
	uint8_t a[2], b[3], c[8];
	struct ptio_op op;

	ck_assert(!ptio_is_read_vectored(r)); /* no slot: the default */
	ptio_readbuf_init(&rbs[0], a, 0);
	ptio_readbuf_init(&rbs[1], b, sizeof(b));
	ptio_readbuf_init(&rbs[2], c, sizeof(c));
	ptio_op_init(&op, &idle_task);
	ck_assert_int_eq(ptio_read_buf_vectored(&op, r, rbs, 3), 3);
	ck_assert_int_eq(memcmp(b, "abc", 3), 0);
	ck_assert_int_eq(ptio_read_buf_vectored(&op, r, rbs, 3), 7);
	ck_assert_int_eq(memcmp(c, "defghij", 7), 0);
	ck_assert_int_eq(ptio_read_buf_vectored(&op, r, rbs, 3), 0);
	/* Every readbuf full: 0 as well, without a read. */
	ck_assert_int_eq(ptio_read_buf_vectored(&op, r, rbs, 2), 0);
}
END_TEST

START_TEST(read_buf_vectored_over_bufreader_fills_in_order)
{
	static const char text[] = "abcdefghij";
	struct mem_read m;
	struct ptio_bufreader br;
	struct ptio_readbuf rbs[2];
	uint8_t mem[4], a[3], b[5];
	struct ptio_op op;

	ptio_bufreader_init(&br, mem_reader(&m, text, 10, SIZE_MAX), mem,
			    sizeof(mem));
	ck_assert(ptio_is_read_vectored(ptio_bufreader_reader(&br)) == false);
	ptio_readbuf_init(&rbs[0], a, sizeof(a));
	ptio_readbuf_init(&rbs[1], b, sizeof(b));
	ptio_op_init(&op, &idle_task);
	/* 8 bytes of room >= the buffer's 4: straight to the inner reader,
	 * whose default fills the first. */
	ck_assert_int_eq(ptio_read_buf_vectored(&op, ptio_bufreader_reader(&br),
						rbs, 2), 3);
	ptio_readbuf_clear(&rbs[0]);
	ptio_readbuf_init(&rbs[1], b, 0);
	/* 3 of room: through the buffer, which keeps what is left. */
	ck_assert_int_eq(ptio_read_buf_vectored(&op, ptio_bufreader_reader(&br),
						rbs, 2), 3);
	ck_assert_int_eq(memcmp(a, "def", 3), 0);
	ck_assert_uint_eq(ptio_bufreader_buffered(&br), 1);
	/* Buffered bytes come first, alone, whatever the room. */
	ptio_readbuf_clear(&rbs[0]);
	ptio_readbuf_init(&rbs[1], b, sizeof(b));
	ck_assert_int_eq(ptio_read_buf_vectored(&op, ptio_bufreader_reader(&br),
						rbs, 2), 1);
	ck_assert_int_eq(memcmp(a, "g", 1), 0);
	/* Then spread over both, in order, with the buffer bypassed. */
	ptio_readbuf_clear(&rbs[0]);
	ck_assert_int_eq(ptio_read_buf_vectored(&op, ptio_bufreader_reader(&br),
						rbs, 2), 3);
	ck_assert_int_eq(memcmp(a, "hij", 3), 0);
}
END_TEST

/* ---- read_to_end --------------------------------------------------------------------- */

START_TEST(read_to_end_fixed_buffer)
{
	static const char text[] = "0123456789";
	struct mem_read m;
	struct ptio_bytes b;
	uint8_t mem[11];
	struct ptio_op op;

	ptio_op_init(&op, &idle_task);
	/* Exactly the stream's size: full before the end is seen. */
	ptio_bytes_init(&b, mem, 10, NULL);
	ck_assert_int_eq(ptio_read_to_end(&op, mem_reader(&m, text, 10, 3),
					  &b), PTIO_ENOBUFS);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_uint_eq(ptio_op_done(&op), 10);
	ck_assert_uint_eq(m.pos, 10);
	/* Smaller: every byte that fits is kept, none read past it. */
	ptio_bytes_init(&b, mem, 4, NULL);
	ck_assert_int_eq(ptio_read_to_end(&op, mem_reader(&m, text, 10, 3),
					  &b), PTIO_ENOBUFS);
	ck_assert_uint_eq(b.len, 4);
	ck_assert_uint_eq(m.pos, 4);
	/* One byte more: the end is seen. */
	ptio_bytes_init(&b, mem, 11, NULL);
	ck_assert_int_eq(ptio_read_to_end(&op, mem_reader(&m, text, 10, 3),
					  &b), 10);
	ck_assert_int_eq(memcmp(mem, text, 10), 0);
}
END_TEST

START_TEST(read_to_end_grows_and_keeps_on_enomem)
{
	static uint8_t big[100000];
	struct mem_read m;
	struct count_alloc ca;
	struct ptio_bytes b;
	struct ptio_op op;
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13);
	ptio_op_init(&op, &idle_task);
	count_alloc_init(&ca, -1);
	ptio_bytes_init(&b, NULL, 0, &ca.hook);
	ck_assert_int_eq(ptio_bytes_append(&b, "head", 4), 4);
	ck_assert_int_eq(ptio_read_to_end(&op, mem_reader(&m, big, sizeof(big),
							   777), &b),
			 (ptio_ssize)sizeof(big));
	ck_assert_uint_eq(b.len, 4 + sizeof(big));
	ck_assert_int_eq(memcmp(b.data + 4, big, sizeof(big)), 0);
	ptio_bytes_free(&b);
	ck_assert_int_eq(ca.live, 0);

	count_alloc_init(&ca, 3);
	ptio_bytes_init(&b, NULL, 0, &ca.hook);
	ck_assert_int_eq(ptio_read_to_end(&op, mem_reader(&m, big, sizeof(big),
							   777), &b),
			 PTIO_ENOMEM);
	ck_assert_uint_eq(b.len, ptio_op_done(&op));
	ck_assert_uint_eq(b.len, m.pos);
	ck_assert_uint_gt(b.len, 0);
	ck_assert_int_eq(memcmp(b.data, big, b.len), 0);
	ptio_bytes_free(&b);
	ck_assert_int_eq(ca.live, 0);
}
END_TEST

/* ---- read_to_string ---------------------------------------------------------------------- */

START_TEST(read_to_string_split_characters)
{
	/* Two-, three- and four-byte characters read one byte at a time. */
	static const char text[] = "a\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 z";
	struct mem_read m;
	struct ptio_bytes b;
	struct ptio_op op;
	size_t step;

	for (step = 1; step <= 4; step++) {
		ptio_op_init(&op, &idle_task);
		ptio_bytes_init(&b, NULL, 0, &ptio_alloc_heap);
		ck_assert_int_eq(ptio_read_to_string(&op, mem_reader(&m, text,
			sizeof(text) - 1, step), &b), sizeof(text) - 1);
		ck_assert_str_eq(ptio_bytes_cstr(&b), text);
		ptio_bytes_free(&b);
	}
}
END_TEST

START_TEST(read_to_string_invalid_leaves_string_alone)
{
	static const char *const bad[] = {
		"ok \xFF",            /* never valid */
		"ok \xC0\xAF",        /* overlong */
		"ok \xED\xA0\x80",    /* a surrogate */
		"ok \xF4\x90\x80\x80", /* above U+10FFFF */
		"ok \xE2\x82",        /* cut short by the end */
		"\x80",               /* a stray continuation */
	};
	struct mem_read m;
	struct ptio_bytes b;
	struct ptio_op op;
	size_t i, step;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (step = 1; step <= 3; step++) {
			ptio_op_init(&op, &idle_task);
			ptio_bytes_init(&b, NULL, 0, &ptio_alloc_heap);
			ck_assert_int_eq(ptio_bytes_append(&b, "before|", 7), 7);
			ck_assert_int_eq(ptio_read_to_string(&op, mem_reader(&m,
				bad[i], strlen(bad[i]), step), &b),
				PTIO_EILSEQ);
			ck_assert_uint_eq(b.len, 7);
			ck_assert_str_eq(ptio_bytes_cstr(&b), "before|");
			ck_assert_uint_eq(ptio_op_done(&op), 0);
			ptio_bytes_free(&b);
		}
	}
}
END_TEST

/* Only the bytes this call appends are checked (as Rust does), and a
 * fixed buffer that fills keeps its bytes even mid-character. */
START_TEST(read_to_string_checks_only_new_bytes)
{
	static const char text[] = "\xE2\x82\xAC\xE2\x82\xAC";
	struct mem_read m;
	struct ptio_bytes b;
	struct ptio_op op;
	uint8_t mem[8];

	ptio_op_init(&op, &idle_task);
	ptio_bytes_init(&b, mem, sizeof(mem), NULL);
	ck_assert_int_eq(ptio_bytes_append(&b, "\xFF", 1), 1);
	ck_assert_int_eq(ptio_read_to_string(&op, mem_reader(&m, text, 6, 2),
					     &b), 6);
	ptio_bytes_init(&b, mem, 4, NULL);
	ck_assert_int_eq(ptio_read_to_string(&op, mem_reader(&m, text, 6, 2),
					     &b), PTIO_ENOBUFS);
	ck_assert_uint_eq(b.len, 4);
}
END_TEST

/* ---- Over a socket ------------------------------------------------------------------------- */

struct sock_read {
	struct ptio_task task;
	struct ptio_op op;
	struct ptio_fd fd;
	struct ptio_bytes b;
	ptio_ssize result;
};

static ptio_ssize sock_read_task(struct ptio_task *task)
{
	struct sock_read *s = PTIO_CONTAINER_OF(task, struct sock_read, task);
	ptio_ssize r;

	PTIO_BEGIN(&task->pt);
	PTIO_AWAIT(&task->pt, r, ptio_read_to_string(&s->op,
		ptio_fd_reader(&s->fd), &s->b));
	s->result = r;
	PTIO_END(&task->pt);
}

/* The peer writes text in pieces from another process and closes; the
 * task reads it all, waiting on the loop between pieces. */
START_TEST(read_to_string_from_socket)
{
	static struct sock_read s;
	int sv[2], i;
	pid_t pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		for (i = 0; i < 200; i++) {
			if (write(sv[1], "\xC3\xA9t\xC3\xA9 ", 7) != 7)
				_exit(1);
			if (i % 20 == 0)
				usleep(1000);
		}
		_exit(0);
	}
	close(sv[1]);
	memset(&s, 0, sizeof(s));
	PTIO_CK_OK(ptio_fd_open(&s.fd, &ptio_test_loop, sv[0], 0));
	ptio_bytes_init(&s.b, NULL, 0, &ptio_alloc_heap);
	ptio_op_init(&s.op, &s.task);
	ptio_task_start(&ptio_test_loop, &s.task, sock_read_task);
	ptio_test_run(10000);
	ck_assert_int_eq(s.result, 1400);
	ck_assert_uint_eq(s.b.len, 1400);
	ck_assert_int_eq(memcmp(s.b.data + 1393, "\xC3\xA9t\xC3\xA9 ", 7), 0);
	ptio_bytes_free(&s.b);
	PTIO_CK_OK(ptio_fd_close(&s.fd));
	ck_assert_int_eq(waitpid(pid, &i, 0), pid);
	ck_assert(WIFEXITED(i) && WEXITSTATUS(i) == 0);
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create(ptio_test_suite_name("readmore"));
	TCase *tc = tcase_create("memory");
	TCase *ts = tcase_create("socket");

	tcase_add_test(tc, bytes_grow_from_caller_memory);
	tcase_add_test(tc, bytes_errors_change_nothing);
	tcase_add_test(tc, read_buf_vectored_default_fills_first_with_room);
	tcase_add_test(tc, read_buf_vectored_over_bufreader_fills_in_order);
	tcase_add_test(tc, read_to_end_fixed_buffer);
	tcase_add_test(tc, read_to_end_grows_and_keeps_on_enomem);
	tcase_add_test(tc, read_to_string_split_characters);
	tcase_add_test(tc, read_to_string_invalid_leaves_string_alone);
	tcase_add_test(tc, read_to_string_checks_only_new_bytes);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(ts, ptio_test_loop_setup,
				  ptio_test_loop_teardown);
	tcase_add_test(ts, read_to_string_from_socket);
	suite_add_tcase(s, ts);
	return s;
}
