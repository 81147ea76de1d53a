/*
 * test/check-fmt.c - the freestanding formatter against the C library's
 * snprintf, and write_fmt with partial writes and would-block.
 *
 * The formatter is compared with snprintf over every combination of the
 * flags each conversion defines behaviour for, a spread of widths and
 * precisions (literal and '*'), and the extreme values of every length
 * modifier.  Formats are built at run time here, so the format-string
 * warning is off for the two helpers that pass them on.
 *
 * Divided into: the comparison helpers, the conversions, bad formats,
 * ptio_format's buffer contract, and write_fmt.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <check.h>
#include "test/helpers.h"

/* ---- Comparison ------------------------------------------------------------ */

static unsigned long compared;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void compare_v(const char *fmt, ...)
{
	char want[512], got[512];
	va_list ap, aq;
	int n;
	ptio_ssize r;

	va_start(ap, fmt);
	va_copy(aq, ap);
	n = vsnprintf(want, sizeof(want), fmt, ap);
	r = ptio_vformat_buf(got, sizeof(got), fmt, aq);
	va_end(aq);
	va_end(ap);
	compared++;
	if (r != n || strcmp(want, got) != 0)
		ck_abort_msg("format \"%s\": libc \"%s\" (%d), ptio \"%s\" (%zd)",
			     fmt, want, n, got, r);
}
#pragma GCC diagnostic pop

/* Every subset of FLAGS, as strings, into OUT (up to 32). */
static size_t flag_sets(const char *flags, char out[][8])
{
	size_t n = strlen(flags), k = 0;
	unsigned mask, i;

	for (mask = 0; mask < 1u << n; mask++) {
		char *p = out[k++];

		for (i = 0; i < n; i++)
			if (mask >> i & 1)
				*p++ = flags[i];
		*p = '\0';
	}
	return k;
}

static const char *const widths[] = { "", "0", "1", "3", "7", "12", "*" };
static const char *const precs[] = { "", ".", ".0", ".1", ".4", ".15", ".*" };
static const int star_values[] = { -9, -1, 0, 2, 11 };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Build "%<flags><width><prec><len><conv>" and compare for VALUE,
 * supplying '*' arguments from star_values.  CALL is a statement using
 * `fmt`, `w` and `p`. */
#define FOR_EACH_SPEC(flagset, len, conv, CALL)                           \
	do {                                                              \
		char fl_[32][8], fmt[64];                                 \
		size_t nf_ = flag_sets(flagset, fl_), f_, w_, p_, sw_, sp_; \
		for (f_ = 0; f_ < nf_; f_++)                              \
		for (w_ = 0; w_ < NELEM(widths); w_++)                    \
		for (p_ = 0; p_ < NELEM(precs); p_++)                     \
		for (sw_ = 0; sw_ < NELEM(star_values); sw_++)            \
		for (sp_ = 0; sp_ < NELEM(star_values); sp_++) {          \
			int w = star_values[sw_], p = star_values[sp_];   \
			bool ws_ = strchr(widths[w_], '*') != NULL;       \
			bool ps_ = strchr(precs[p_], '*') != NULL;        \
			if ((!ws_ && sw_ > 0) || (!ps_ && sp_ > 0))       \
				continue;                                 \
			snprintf(fmt, sizeof(fmt), "%%%s%s%s%s%s",        \
				 fl_[f_], widths[w_], precs[p_], len,     \
				 conv);                                   \
			CALL;                                             \
		}                                                         \
	} while (0)

/* Compare FMT (which may hold up to two '*') with one trailing value. */
#define COMPARE_STARS(fmt, w, p, value)                                   \
	do {                                                              \
		const char *s_ = strchr(fmt, '*');                        \
		if (s_ == NULL)                                           \
			compare_v(fmt, value);                            \
		else if (strchr(s_ + 1, '*') != NULL)                     \
			compare_v(fmt, w, p, value);                      \
		else if (s_[-1] == '.')                                   \
			compare_v(fmt, p, value);                         \
		else                                                      \
			compare_v(fmt, w, value);                         \
	} while (0)

/* ---- Conversions ------------------------------------------------------------------ */

START_TEST(fmt_signed)
{
	static const int ints[] = { 0, 1, -1, 7, -42, 1000000, INT_MAX,
				    INT_MIN };
	static const long long lls[] = { 0, -1, LLONG_MAX, LLONG_MIN,
					 1234567890123LL };
	size_t i;

	for (i = 0; i < NELEM(ints); i++) {
		FOR_EACH_SPEC("-+ 0", "", "d", COMPARE_STARS(fmt, w, p, ints[i]));
		FOR_EACH_SPEC("-+ 0", "", "i", COMPARE_STARS(fmt, w, p, ints[i]));
		FOR_EACH_SPEC("-+", "hh", "d", COMPARE_STARS(fmt, w, p, ints[i]));
		FOR_EACH_SPEC("-+", "h", "d", COMPARE_STARS(fmt, w, p, ints[i]));
		FOR_EACH_SPEC("-+", "l", "d",
			      COMPARE_STARS(fmt, w, p, (long)ints[i]));
	}
	for (i = 0; i < NELEM(lls); i++) {
		FOR_EACH_SPEC("-+ 0", "ll", "d", COMPARE_STARS(fmt, w, p, lls[i]));
		FOR_EACH_SPEC("+0", "j", "d",
			      COMPARE_STARS(fmt, w, p, (intmax_t)lls[i]));
		FOR_EACH_SPEC("+0", "t", "d",
			      COMPARE_STARS(fmt, w, p, (ptrdiff_t)lls[i]));
		FOR_EACH_SPEC("+0", "z", "d",
			      COMPARE_STARS(fmt, w, p, (ptrdiff_t)lls[i]));
	}
}
END_TEST

START_TEST(fmt_unsigned)
{
	static const unsigned us[] = { 0, 1, 8, 255, 256, 4095, 0xDEADBEEF,
				       UINT_MAX };
	static const unsigned long long ulls[] = { 0, 1, ULLONG_MAX,
						   0x0123456789ABCDEFULL };
	size_t i;

	for (i = 0; i < NELEM(us); i++) {
		FOR_EACH_SPEC("-0", "", "u", COMPARE_STARS(fmt, w, p, us[i]));
		FOR_EACH_SPEC("-#0", "", "x", COMPARE_STARS(fmt, w, p, us[i]));
		FOR_EACH_SPEC("-#0", "", "X", COMPARE_STARS(fmt, w, p, us[i]));
		FOR_EACH_SPEC("-#0", "", "o", COMPARE_STARS(fmt, w, p, us[i]));
		FOR_EACH_SPEC("#", "hh", "x", COMPARE_STARS(fmt, w, p, us[i]));
		FOR_EACH_SPEC("#", "h", "o", COMPARE_STARS(fmt, w, p, us[i]));
	}
	for (i = 0; i < NELEM(ulls); i++) {
		FOR_EACH_SPEC("-#0", "ll", "x", COMPARE_STARS(fmt, w, p, ulls[i]));
		FOR_EACH_SPEC("#0", "ll", "o", COMPARE_STARS(fmt, w, p, ulls[i]));
		FOR_EACH_SPEC("0", "ll", "u", COMPARE_STARS(fmt, w, p, ulls[i]));
		FOR_EACH_SPEC("#", "l", "X",
			      COMPARE_STARS(fmt, w, p, (unsigned long)ulls[i]));
		FOR_EACH_SPEC("0", "z", "u",
			      COMPARE_STARS(fmt, w, p, (size_t)ulls[i]));
		FOR_EACH_SPEC("#", "j", "x",
			      COMPARE_STARS(fmt, w, p, (uintmax_t)ulls[i]));
	}
}
END_TEST

START_TEST(fmt_char_string_pointer)
{
	static const char *const strs[] = { "", "a", "hello", "0123456789abc" };
	static const int chars[] = { 'a', ' ', '%', 0xE9 };
	size_t i;

	for (i = 0; i < NELEM(strs); i++)
		FOR_EACH_SPEC("-", "", "s", COMPARE_STARS(fmt, w, p, strs[i]));
	for (i = 0; i < NELEM(chars); i++) {
		char f[32];

		/* %c takes no precision. */
		snprintf(f, sizeof(f), "[%%c|%%5c|%%-3c|%%*c]");
		compare_v(f, chars[i], chars[i], chars[i], 4, chars[i]);
	}
	compare_v("%p|%20p|%-20p|", (void *)&i, (void *)&i, (void *)&i);
	compare_v("%%|%s%%%d", "x", 3);
	compare_v("no conversions at all");
	compare_v("");
	ck_assert_uint_gt(compared, 900); /* the loops above really ran */
}
END_TEST

/* "%s" of NULL, behind a call the compiler cannot see through (it
 * rightly warns about the literal). */
static ptio_ssize format_null(char *out, size_t cap)
{
	static const char *volatile null_string;

	return ptio_format(out, cap, "%s", null_string);
}

/* A precision bounds how much of a string is read: no NUL needed. */
START_TEST(fmt_string_precision_reads_no_further)
{
	char unterminated[3] = { 'a', 'b', 'c' };
	char out[8];

	ck_assert_int_eq(ptio_format(out, sizeof(out), "%.3s|", unterminated),
			 4);
	ck_assert_str_eq(out, "abc|");
	ck_assert_int_eq(format_null(out, sizeof(out)), 6);
	ck_assert_str_eq(out, "(null)");
}
END_TEST

/* ---- Bad formats ----------------------------------------------------------------------- */

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
static ptio_ssize format_dyn(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	ptio_ssize r;

	va_start(ap, fmt);
	r = ptio_vformat_buf(buf, cap, fmt, ap);
	va_end(ap);
	return r;
}
#pragma GCC diagnostic pop

START_TEST(fmt_refuses_what_it_does_not_know)
{
	static const char *const bad[] = { "%f", "%e", "%g", "%a", "%n", "%q",
					   "%ls", "%lc", "%Lf", "ab%", "%hs",
					   "%zc", "%lp" };
	char out[16];
	size_t i;
	int dummy = 0;

	for (i = 0; i < NELEM(bad); i++)
		ck_assert_msg(format_dyn(out, sizeof(out), bad[i], &dummy) ==
				      PTIO_EINVAL,
			      "\"%s\" accepted", bad[i]);
	/* What came before the bad conversion went out. */
	ck_assert_int_eq(format_dyn(out, sizeof(out), "ok %f", 1.0),
			 PTIO_EINVAL);
	ck_assert_str_eq(out, "ok ");
}
END_TEST

/* ---- ptio_format's buffer --------------------------------------------------------------- */

START_TEST(fmt_buffer_cut_and_nul)
{
	char out[8];

	memset(out, 'z', sizeof(out));
	ck_assert_int_eq(ptio_format(out, 0, "%d", 12345), 5);
	ck_assert_int_eq(out[0], 'z');                /* cap 0: untouched */
	ck_assert_int_eq(ptio_format(out, 1, "%d", 12345), 5);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(ptio_format(out, 6, "%d", 12345), 5);
	ck_assert_str_eq(out, "12345");
	ck_assert_int_eq(ptio_format(out, 4, "%d", 12345), 5);
	ck_assert_str_eq(out, "123");
	ck_assert_int_eq(ptio_format(out, sizeof(out), "%300d", 1), 300);
	ck_assert_int_eq(out[7], '\0');
}
END_TEST

/* ---- write_fmt ----------------------------------------------------------------------------- */

/* A writer that takes STEP bytes per call and says "would block" every
 * other call; always ready (so write_fmt runs to the end in one call). */
struct stutter {
	char out[8192];
	size_t len, step;
	unsigned calls;
};

static ptio_ssize stutter_write(void *self, const void *buf, size_t len)
{
	struct stutter *s = self;

	if (s->calls++ % 2 == 1)
		return PTIO_WOULD_BLOCK;
	if (len > s->step)
		len = s->step;
	memcpy(s->out + s->len, buf, len);
	s->len += len;
	return (ptio_ssize)len;
}

static ptio_ssize stutter_poll(void *self, struct ptio_task *task,
			       unsigned interest)
{
	(void)self;
	(void)task;
	(void)interest;
	return PTIO_WRITABLE;
}

static const struct ptio_write_vt stutter_vt = {
	.ready = { .poll_ready = stutter_poll },
	.nb_write = stutter_write,
};

START_TEST(write_fmt_resumes_exactly)
{
	static struct ptio_task idle;
	struct stutter s;
	struct ptio_write w = { &s, &stutter_vt };
	struct ptio_op op;
	char want[8192];
	ptio_ssize r;
	int n;
	size_t step;

	/* Long enough to need many chunks and many resumes. */
	n = snprintf(want, sizeof(want), "%s=%-40d|%#llx|%300s|%c%%\n", "key",
		     -12345, 0xFEEDFACEULL, "right", 'Z');
	for (step = 1; step <= 70; step++) {
		memset(&s, 0, sizeof(s));
		s.step = step;
		ptio_op_init(&op, &idle);
		r = ptio_write_fmt(&op, w, "%s=%-40d|%#llx|%300s|%c%%\n", "key",
				   -12345, 0xFEEDFACEULL, "right", 'Z');
		ck_assert_int_eq(r, n);
		ck_assert_uint_eq(s.len, (size_t)n);
		ck_assert_int_eq(memcmp(s.out, want, (size_t)n), 0);
		ck_assert_uint_eq(ptio_op_done(&op), (size_t)n);
	}
}
END_TEST

/* A writer that accepts nothing, then one that fails part-way. */
static ptio_ssize zero_write(void *self, const void *buf, size_t len)
{
	(void)self;
	(void)buf;
	(void)len;
	return 0;
}

static const struct ptio_write_vt zero_vt = {
	.ready = { .poll_ready = stutter_poll },
	.nb_write = zero_write,
};

START_TEST(write_fmt_errors)
{
	static struct ptio_task idle;
	struct ptio_write zw = { NULL, &zero_vt };
	struct ptio_sink sink;
	struct ptio_op op;

	ptio_op_init(&op, &idle);
	ck_assert_int_eq(ptio_write_fmt(&op, zw, "%d", 5), PTIO_EWRITEZERO);
	ck_assert_uint_eq(ptio_op_done(&op), 0);
	/* Nothing to write: the writer is not even called. */
	ck_assert_int_eq(ptio_write_fmt(&op, zw, "%s", ""), 0);
	ptio_sink_init(&sink);
	ck_assert_int_eq(ptio_write_fmt(&op, ptio_sink_writer(&sink), "%d-%x",
					10, 255), 5);
	ck_assert_uint_eq(sink.count, 5);
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("fmt");
	TCase *tc = tcase_create("format");
	TCase *tw = tcase_create("write_fmt");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, fmt_signed);
	tcase_add_test(tc, fmt_unsigned);
	tcase_add_test(tc, fmt_char_string_pointer);
	tcase_add_test(tc, fmt_string_precision_reads_no_further);
	tcase_add_test(tc, fmt_refuses_what_it_does_not_know);
	tcase_add_test(tc, fmt_buffer_cut_and_nul);
	suite_add_tcase(s, tc);
	tcase_add_test(tw, write_fmt_resumes_exactly);
	tcase_add_test(tw, write_fmt_errors);
	suite_add_tcase(s, tw);
	return s;
}
