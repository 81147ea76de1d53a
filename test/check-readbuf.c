/*
 * test/check-readbuf.c - struct ptio_readbuf: the cursor API and its
 * invariants (filled <= initialized <= capacity, initialized never
 * shrinks), checked after every call.
 *
 * Divided into: one test per function, then a random sequence of calls
 * checked against a model of the three marks.
 */
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include "test/helpers.h"

/* Fail unless RB is valid and has exactly these marks. */
#define CK_MARKS(rb, cap, fill, init)                                      \
	do {                                                               \
		ck_assert(ptio_readbuf_valid(rb));                         \
		ck_assert_uint_eq((rb)->capacity, (cap));                  \
		ck_assert_uint_eq((rb)->filled, (fill));                   \
		ck_assert_uint_eq((rb)->initialized, (init));              \
	} while (0)

START_TEST(test_init_over_uninitialised_memory)
{
	uint8_t *mem = malloc(64); /* deliberately never written */
	struct ptio_readbuf rb;

	memset(&rb, 0xA5, sizeof(rb)); /* garbage in the struct too */
	ptio_readbuf_init(&rb, mem, 64);
	ck_assert_ptr_eq(rb.buf, mem);
	CK_MARKS(&rb, 64, 0, 0);
	ck_assert_uint_eq(ptio_readbuf_len(&rb), 0);
	ck_assert_uint_eq(ptio_readbuf_remaining(&rb), 64);
	ck_assert(!ptio_readbuf_is_full(&rb));
	ck_assert_ptr_eq(ptio_readbuf_unfilled(&rb), mem);
	ck_assert_ptr_eq(ptio_readbuf_filled(&rb), mem);
	free(mem);
}
END_TEST

START_TEST(test_init_initialized)
{
	uint8_t mem[32] = { 0 };
	struct ptio_readbuf rb;

	memset(&rb, 0x5A, sizeof(rb));
	ptio_readbuf_init_initialized(&rb, mem, sizeof(mem));
	CK_MARKS(&rb, 32, 0, 32);
}
END_TEST

START_TEST(test_advance)
{
	uint8_t mem[16];
	struct ptio_readbuf rb, before;

	ptio_readbuf_init(&rb, mem, sizeof(mem));
	ck_assert_int_eq(ptio_readbuf_advance(&rb, 0), 0);
	CK_MARKS(&rb, 16, 0, 0);
	memset(ptio_readbuf_unfilled(&rb), 'a', 5);
	ck_assert_int_eq(ptio_readbuf_advance(&rb, 5), 5);
	CK_MARKS(&rb, 16, 5, 5);
	ck_assert_ptr_eq(ptio_readbuf_unfilled(&rb), mem + 5);
	ck_assert_uint_eq(ptio_readbuf_remaining(&rb), 11);

	/* Beyond the remaining space: an error that changes nothing. */
	before = rb;
	ck_assert_int_eq(ptio_readbuf_advance(&rb, 12), PTIO_EINVAL);
	ck_assert_mem_eq(&rb, &before, sizeof(rb));
	ck_assert_int_eq(ptio_readbuf_advance(&rb, SIZE_MAX), PTIO_EINVAL);
	ck_assert_mem_eq(&rb, &before, sizeof(rb));

	/* Advancing inside the initialised part keeps `initialized`. */
	ck_assert_int_ge(ptio_readbuf_assume_init(&rb, 9), 0);
	CK_MARKS(&rb, 16, 5, 14);
	ck_assert_int_eq(ptio_readbuf_advance(&rb, 3), 3);
	CK_MARKS(&rb, 16, 8, 14);

	/* Exactly to the end. */
	ck_assert_int_eq(ptio_readbuf_advance(&rb, 8), 8);
	CK_MARKS(&rb, 16, 16, 16);
	ck_assert(ptio_readbuf_is_full(&rb));
	ck_assert_int_eq(ptio_readbuf_advance(&rb, 1), PTIO_EINVAL);
	CK_MARKS(&rb, 16, 16, 16);
}
END_TEST

START_TEST(test_assume_init)
{
	uint8_t mem[16];
	struct ptio_readbuf rb, before;

	ptio_readbuf_init(&rb, mem, sizeof(mem));
	memset(mem, 0, 6);
	ck_assert_int_ge(ptio_readbuf_assume_init(&rb, 6), 0);
	CK_MARKS(&rb, 16, 0, 6);
	/* A smaller claim never shrinks `initialized`. */
	ck_assert_int_ge(ptio_readbuf_assume_init(&rb, 2), 0);
	CK_MARKS(&rb, 16, 0, 6);
	ck_assert_int_ge(ptio_readbuf_assume_init(&rb, 0), 0);
	CK_MARKS(&rb, 16, 0, 6);
	/* Counted from `filled`, not from the start. */
	ck_assert_int_eq(ptio_readbuf_advance(&rb, 4), 4);
	memset(mem + 4, 0, 4);
	ck_assert_int_ge(ptio_readbuf_assume_init(&rb, 4), 0);
	CK_MARKS(&rb, 16, 4, 8);
	/* Too far: an error that changes nothing. */
	before = rb;
	ck_assert_int_eq(ptio_readbuf_assume_init(&rb, 13), PTIO_EINVAL);
	ck_assert_mem_eq(&rb, &before, sizeof(rb));
	memset(mem + 8, 0, 8);
	ck_assert_int_ge(ptio_readbuf_assume_init(&rb, 12), 0);
	CK_MARKS(&rb, 16, 4, 16);
}
END_TEST

START_TEST(test_initialize_unfilled)
{
	uint8_t mem[32];
	struct ptio_readbuf rb;
	uint8_t *u;
	size_t i;

	memset(mem, 0xAA, sizeof(mem)); /* stands for garbage */
	ptio_readbuf_init(&rb, mem, sizeof(mem));
	ck_assert_uint_eq(ptio_readbuf_append(&rb, "abc", 3), 3);
	memcpy(mem + 3, "xy", 2);
	ck_assert_int_ge(ptio_readbuf_assume_init(&rb, 2), 0);
	CK_MARKS(&rb, 32, 3, 5);

	u = ptio_readbuf_initialize_unfilled(&rb);
	ck_assert_ptr_eq(u, mem + 3);
	CK_MARKS(&rb, 32, 3, 32);
	ck_assert_mem_eq(mem, "abcxy", 5); /* filled and initialised kept */
	for (i = 5; i < sizeof(mem); i++)
		ck_assert_msg(mem[i] == 0, "byte %zu not zeroed", i);

	/* Once everything is initialised it writes nothing more. */
	memset(mem + 10, 0x77, 4);
	u = ptio_readbuf_initialize_unfilled(&rb);
	ck_assert_ptr_eq(u, mem + 3);
	ck_assert_uint_eq(mem[10], 0x77);
	CK_MARKS(&rb, 32, 3, 32);
}
END_TEST

START_TEST(test_clear_keeps_initialized)
{
	uint8_t mem[8];
	struct ptio_readbuf rb;

	ptio_readbuf_init(&rb, mem, sizeof(mem));
	ck_assert_uint_eq(ptio_readbuf_append(&rb, "12345", 5), 5);
	ptio_readbuf_clear(&rb);
	CK_MARKS(&rb, 8, 0, 5);
	ck_assert_ptr_eq(ptio_readbuf_unfilled(&rb), mem);
	ck_assert_uint_eq(ptio_readbuf_remaining(&rb), 8);
}
END_TEST

START_TEST(test_append)
{
	uint8_t mem[8];
	struct ptio_readbuf rb;

	memset(mem, '.', sizeof(mem));
	ptio_readbuf_init(&rb, mem, 6);
	ck_assert_uint_eq(ptio_readbuf_append(&rb, "ab", 2), 2);
	ck_assert_uint_eq(ptio_readbuf_append(&rb, "", 0), 0);
	CK_MARKS(&rb, 6, 2, 2);
	/* Only what fits is copied; nothing past the capacity is written. */
	ck_assert_uint_eq(ptio_readbuf_append(&rb, "cdefgh", 6), 4);
	CK_MARKS(&rb, 6, 6, 6);
	ck_assert_mem_eq(mem, "abcdef..", 8);
	ck_assert_mem_eq(ptio_readbuf_filled(&rb), "abcdef", 6);
	ck_assert_uint_eq(ptio_readbuf_append(&rb, "z", 1), 0);
	CK_MARKS(&rb, 6, 6, 6);
	/* Appending inside the initialised region keeps `initialized`. */
	ptio_readbuf_clear(&rb);
	ck_assert_uint_eq(ptio_readbuf_append(&rb, "Q", 1), 1);
	CK_MARKS(&rb, 6, 1, 6);
	ck_assert_mem_eq(mem, "Qbcdef", 6);
}
END_TEST

START_TEST(test_zero_capacity)
{
	struct ptio_readbuf rb;

	ptio_readbuf_init(&rb, NULL, 0);
	CK_MARKS(&rb, 0, 0, 0);
	ck_assert(ptio_readbuf_is_full(&rb));
	ck_assert_int_eq(ptio_readbuf_advance(&rb, 0), 0);
	ck_assert_int_eq(ptio_readbuf_advance(&rb, 1), PTIO_EINVAL);
	ck_assert_int_eq(ptio_readbuf_assume_init(&rb, 1), PTIO_EINVAL);
	ck_assert_uint_eq(ptio_readbuf_append(&rb, "x", 1), 0);
	CK_MARKS(&rb, 0, 0, 0);
}
END_TEST

/* A random walk through the API, each call checked against a model. */
START_TEST(test_random_calls_keep_invariants)
{
	enum { CAP = 40 };
	uint8_t mem[CAP], src[CAP];
	struct ptio_readbuf rb;
	size_t fill = 0, init = 0, i;
	uint32_t x = 2463534242u;
	int step;

	for (i = 0; i < CAP; i++)
		src[i] = (uint8_t)(i * 7 + 1);
	ptio_readbuf_init(&rb, mem, CAP);
	for (step = 0; step < 20000; step++) {
		size_t n;

		ptio_test_xorshift(&x);
		n = (x >> 8) % (CAP + 4);
		switch (x % 6) {
		case 0:
			if (n <= CAP - fill) {
				memset(mem + fill, 1, n);
				ck_assert_int_eq(ptio_readbuf_advance(&rb, n),
						 (ptio_ssize)n);
				fill += n;
				init = init > fill ? init : fill;
			} else {
				ck_assert_int_eq(ptio_readbuf_advance(&rb, n),
						 PTIO_EINVAL);
			}
			break;
		case 1:
			if (n <= CAP - fill) {
				ck_assert_int_ge(ptio_readbuf_assume_init(&rb, n),
						 0);
				init = init > fill + n ? init : fill + n;
			} else {
				ck_assert_int_eq(ptio_readbuf_assume_init(&rb, n),
						 PTIO_EINVAL);
			}
			break;
		case 2:
			ck_assert_uint_eq(ptio_readbuf_append(&rb, src, n),
					  n < CAP - fill ? n : CAP - fill);
			fill += n < CAP - fill ? n : CAP - fill;
			init = init > fill ? init : fill;
			break;
		case 3:
			ptio_readbuf_clear(&rb);
			fill = 0;
			break;
		case 4:
			ck_assert_ptr_eq(ptio_readbuf_initialize_unfilled(&rb),
					 mem + fill);
			init = CAP;
			break;
		default:
			if (x & 0x100)
				ptio_readbuf_init(&rb, mem, CAP);
			else
				ptio_readbuf_init_initialized(&rb, mem, CAP);
			fill = 0;
			init = (x & 0x100) ? 0 : CAP;
			break;
		}
		CK_MARKS(&rb, CAP, fill, init);
		ck_assert_uint_eq(ptio_readbuf_len(&rb), fill);
		ck_assert_uint_eq(ptio_readbuf_remaining(&rb), CAP - fill);
	}
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("readbuf");
	TCase *tc = tcase_create("api");

	tcase_add_test(tc, test_init_over_uninitialised_memory);
	tcase_add_test(tc, test_init_initialized);
	tcase_add_test(tc, test_advance);
	tcase_add_test(tc, test_assume_init);
	tcase_add_test(tc, test_initialize_unfilled);
	tcase_add_test(tc, test_clear_keeps_initialized);
	tcase_add_test(tc, test_append);
	tcase_add_test(tc, test_zero_capacity);
	tcase_add_test(tc, test_random_calls_keep_invariants);
	suite_add_tcase(s, tc);
	return s;
}
