/*
 * test/check-err.c - error codes: values, texts and names.
 *
 * The list of codes is taken from the same X-macros that generate the
 * enum, so a code added to ptio/err.h is checked here without editing
 * this file.
 */
#include <errno.h>
#include <string.h>
#include <check.h>
#include "test/helpers.h"

struct code {
	ptio_ssize value;
	const char *name;   /* "PTIO_E..." */
	int host_errno;     /* 0 for ptio's own codes */
};

#define ERRNO_ENTRY(name, ename, value, text) \
	{ PTIO_##name, "PTIO_" #name, ename },
#define OWN_ENTRY(name, value, text) { PTIO_##name, "PTIO_" #name, 0 },
static const struct code codes[] = {
	PTIO_ERRNO_MAP(ERRNO_ENTRY)
	PTIO_OWN_ERR_MAP(OWN_ENTRY)
};
#undef ERRNO_ENTRY
#undef OWN_ENTRY

#define NCODES (sizeof(codes) / sizeof(codes[0]))

static const char *unknown_text(void)
{
	return ptio_strerror(-123456);
}

START_TEST(test_codes_negative_and_distinct)
{
	size_t i, j;

	ck_assert_uint_gt(NCODES, 30);
	for (i = 0; i < NCODES; i++) {
		ck_assert_msg(codes[i].value < 0, "%s is not negative",
			      codes[i].name);
		ck_assert_msg(codes[i].value != PTIO_PENDING &&
				      codes[i].value != PTIO_WOULD_BLOCK,
			      "%s collides with a reserved value",
			      codes[i].name);
		for (j = i + 1; j < NCODES; j++)
			ck_assert_msg(codes[i].value != codes[j].value,
				      "%s and %s are both %ld", codes[i].name,
				      codes[j].name, (long)codes[i].value);
	}
	ck_assert(PTIO_PENDING != PTIO_WOULD_BLOCK);
	ck_assert(PTIO_PENDING < 0 && PTIO_WOULD_BLOCK < 0);
}
END_TEST

START_TEST(test_codes_equal_host_errno)
{
	size_t i;

	for (i = 0; i < NCODES; i++)
		if (codes[i].host_errno != 0)
			ck_assert_msg(codes[i].value == -codes[i].host_errno,
				      "%s is %ld, not -errno %d", codes[i].name,
				      (long)codes[i].value,
				      codes[i].host_errno);
	/* ptio's own codes lie outside every errno. */
	ck_assert(PTIO_EUNEXPECTEDEOF < -4095);
	ck_assert(PTIO_EWRITEZERO < -4095);
}
END_TEST

START_TEST(test_strerror_known_codes)
{
	const char *unknown = unknown_text();
	size_t i, j;

	ck_assert_str_eq(unknown, "unknown error");
	for (i = 0; i < NCODES; i++) {
		const char *s = ptio_strerror(codes[i].value);

		ck_assert_ptr_nonnull(s);
		ck_assert_msg(strcmp(s, unknown) != 0 && s[0] != '\0',
			      "%s has no text", codes[i].name);
		for (j = 0; j < i; j++)
			ck_assert_msg(strcmp(s, ptio_strerror(codes[j].value)),
				      "%s and %s share the text \"%s\"",
				      codes[i].name, codes[j].name, s);
	}
	ck_assert_str_eq(ptio_strerror(PTIO_ETIMEDOUT), "timed out");
}
END_TEST

START_TEST(test_strerror_reserved_and_success)
{
	const char *unknown = unknown_text();
	const char *pending = ptio_strerror(PTIO_PENDING);
	const char *wb = ptio_strerror(PTIO_WOULD_BLOCK);

	ck_assert_str_ne(pending, unknown);
	ck_assert_str_ne(wb, unknown);
	ck_assert_str_ne(pending, wb);
	ck_assert_str_eq(ptio_strerror(0), "success");
	ck_assert_str_eq(ptio_strerror(4096), "success");
	ck_assert_str_eq(ptio_strerror(-4098), unknown);
	ck_assert_str_eq(ptio_strerror(PTIO_ERRNO_LAST_), unknown);
	ck_assert_str_eq(ptio_strerror(-(ptio_ssize)PTIO_SSIZE_MAX - 1),
			 unknown);
}
END_TEST

START_TEST(test_err_name)
{
	size_t i;

	for (i = 0; i < NCODES; i++) {
		const char *n = ptio_err_name(codes[i].value);

		ck_assert_msg(n != NULL, "%s has no name", codes[i].name);
		ck_assert_str_eq(n, codes[i].name);
	}
	ck_assert_str_eq(ptio_err_name(PTIO_PENDING), "PTIO_PENDING");
	ck_assert_str_eq(ptio_err_name(PTIO_WOULD_BLOCK), "PTIO_WOULD_BLOCK");
	ck_assert_ptr_null(ptio_err_name(0));
	ck_assert_ptr_null(ptio_err_name(7));
	ck_assert_ptr_null(ptio_err_name(-123456));
}
END_TEST

/* Readiness and interest bits as text, every combination. */
START_TEST(test_bit_names)
{
	static const char *const bits[4] = { "READABLE", "WRITABLE", "HUP",
					     "ERROR" };
	char want[64];
	unsigned r, i;

	for (r = 0; r < 16; r++) {
		want[0] = '\0';
		for (i = 0; i < 4; i++) {
			if (!(r >> i & 1u))
				continue;
			if (want[0] != '\0')
				strcat(want, "|");
			strcat(want, bits[i]);
		}
		if (r == 0)
			strcpy(want, "0");
		ck_assert_str_eq(ptio_readiness_name(r), want);
	}
	ck_assert_uint_eq(PTIO_READABLE | PTIO_WRITABLE | PTIO_HUP | PTIO_ERROR,
			  15);
	ck_assert_ptr_null(ptio_readiness_name(16));
	ck_assert_str_eq(ptio_interest_name(PTIO_READ), "READ");
	ck_assert_str_eq(ptio_interest_name(PTIO_WRITE), "WRITE");
	ck_assert_str_eq(ptio_interest_name(PTIO_READ_WRITE), "READ_WRITE");
	ck_assert_ptr_null(ptio_interest_name(0));
	ck_assert_ptr_null(ptio_interest_name(4));
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("err");
	TCase *tc = tcase_create("codes");

	tcase_add_test(tc, test_codes_negative_and_distinct);
	tcase_add_test(tc, test_codes_equal_host_errno);
	tcase_add_test(tc, test_strerror_known_codes);
	tcase_add_test(tc, test_strerror_reserved_and_success);
	tcase_add_test(tc, test_err_name);
	tcase_add_test(tc, test_bit_names);
	suite_add_tcase(s, tc);
	return s;
}
