/*
 * test/fuzz/fuzz-fmt.c - the formatter (ptio_vformat, ptio_format) and
 * the write_fmt machine against the C library's snprintf.
 *
 * The input drives a grammar that only builds formats whose output the
 * C standard defines and ptio/fmt.h documents: conversions d i u x X o c
 * s p %, only the flags each conversion defines (- + space 0 # for the
 * integers as they apply; '-' alone for c, s and p), widths and
 * precisions literal or '*' (negative '*' values included), length
 * modifiers hh h l ll z j t on the integer conversions, literal text
 * between them ("%%" for a '%'), strings that end at their precision
 * without a NUL, and pointers that are not NULL (glibc prints "(nil)").
 *
 * A case is one of two kinds (bit 0 of byte 0):
 *
 *   whole   one format of up to eight conversions whose arguments are
 *           all ints (d i c, the unsigned ones on non-negative values,
 *           lengths hh h or none), so one call with 24 int arguments
 *           serves any of them.  It may also hold a conversion outside
 *           the subset (floating point, %n, wide characters, a '%' at
 *           the very end, ...): then the result is PTIO_EINVAL, and the
 *           text before that conversion must have come out exactly.
 *   pieces  up to six formats of one conversion each, of any type and
 *           length, each called with its exact argument types.
 *
 * Byte 1 is the buffer size for ptio_format (0 to 254; 255: 2048).  The
 * grammar reads what follows; what is left is the script of the writer
 * that write_fmt writes to (fuzz.h): short writes, would-block, EINTR,
 * refusals.  Every format goes through ptio_vformat (collected whole),
 * ptio_format into the sized buffer (cut and NUL-terminated as snprintf
 * would; nothing written past it), and write_fmt (every byte once, in
 * order, however the writer splits it).
 *
 * The formats are built at run time, so the format warning is off here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test/fuzz/fuzz.h"

#pragma GCC diagnostic ignored "-Wformat-nonliteral"

/* ASan's snprintf interceptor checks a "%.Ns" argument one byte past N,
 * where C (and glibc) read at most N: with a string of exactly N bytes
 * and no NUL, which is what this target passes on purpose, it reports an
 * overflow that is not there.  Reads past the string by ptio's own
 * formatter are still caught, as ptio is instrumented. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "check_printf=0";
}

#define FMT_MAX 640
#define TEXT_MAX 4096
#define NINTS 24
#define MAX_PIECES 6

enum argt {
	A_INTS,     /* whole: the 24 ints */
	A_INT, A_UINT, A_LONG, A_ULONG, A_LLONG, A_ULLONG, A_SIZE, A_IMAX,
	A_UMAX, A_PTRDIFF, A_STR, A_PTR,
};

/* One format and its arguments. */
struct piece {
	char fmt[FMT_MAX];
	size_t flen;
	size_t good;        /* fmt[0, good) comes before a bad conversion */
	bool bad;
	enum argt type;
	int nstar, star[2];
	uint64_t v;
	char *str;
	int ints[NINTS];
	size_t nints;
	/* What snprintf makes of fmt[0, good). */
	char want[TEXT_MAX];
	size_t wlen;
};

/* ---- Building formats ------------------------------------------------------- */

static void put(struct piece *pc, const char *s, size_t n)
{
	FZ_CHECK(pc->flen + n < FMT_MAX, "format too long");
	memcpy(pc->fmt + pc->flen, s, n);
	pc->flen += n;
	pc->fmt[pc->flen] = '\0';
}

static void put_char(struct piece *pc, char c)
{
	put(pc, &c, 1);
}

static void put_num(struct piece *pc, unsigned v)
{
	char s[16];

	put(pc, s, (size_t)snprintf(s, sizeof(s), "%u", v));
}

/* Up to seven bytes of literal text. */
static void gen_text(struct piece *pc, struct fz_in *in)
{
	const uint8_t *p;
	size_t n = fz_take(in, fz_byte(in) % 8, &p), i;

	for (i = 0; i < n; i++) {
		if (p[i] == '%')
			put(pc, "%%", 2);
		else
			put_char(pc, p[i] != 0 ? (char)p[i] : '.');
	}
}

/* Flags from BITS among ALLOWED, bit 7 repeating the first one. */
static void gen_flags(struct piece *pc, const char *allowed, uint8_t bits)
{
	size_t i, first = SIZE_MAX;

	for (i = 0; allowed[i] != '\0'; i++) {
		if (bits >> i & 1) {
			put_char(pc, allowed[i]);
			if (first == SIZE_MAX)
				first = i;
		}
	}
	if ((bits & 0x80) && first != SIZE_MAX)
		put_char(pc, allowed[first]);
}

/* A '*' argument: it goes to the ints of a whole case, or to the
 * piece's stars. */
static void add_star(struct piece *pc, bool whole, int v)
{
	if (whole)
		pc->ints[pc->nints++] = v;
	else
		pc->star[pc->nstar++] = v;
}

/* The width: none, 1 to 9, 1 to 64, or '*' (-64 to 64). */
static void gen_width(struct piece *pc, struct fz_in *in, bool whole)
{
	uint8_t b = fz_byte(in);

	if (b % 4 == 1)
		put_num(pc, 1 + (unsigned)(b >> 2) % 9);
	else if (b % 4 == 2)
		put_num(pc, 1 + (unsigned)(b >> 2));
	else if (b % 4 == 3) {
		put_char(pc, '*');
		add_star(pc, whole, (int)(fz_byte(in) % 129) - 64);
	}
}

/* The precision: none, ".", ".N" (0 to 63, sometimes with a leading
 * zero), or ".*" (-5 to 64).  Returns it, or -1 for none. */
static int gen_prec(struct piece *pc, struct fz_in *in, bool whole)
{
	uint8_t b = fz_byte(in);
	int p;

	if (b % 4 == 0)
		return -1;
	put_char(pc, '.');
	if (b % 4 == 1)
		return 0;
	if (b % 4 == 2) {
		if (b & 0x80)
			put_char(pc, '0');
		put_num(pc, (unsigned)(b >> 2) & 0x1F);
		return (b >> 2) & 0x1F;
	}
	put_char(pc, '*');
	p = (int)(fz_byte(in) % 70) - 5;
	add_star(pc, whole, p);
	return p < 0 ? -1 : p;
}

/* The argument type of an integer conversion with length LEN. */
static enum argt int_type(char conv, unsigned len)
{
	static const enum argt sgn[] = { A_INT, A_INT, A_INT, A_LONG, A_LLONG,
					 A_SIZE, A_IMAX, A_PTRDIFF };
	static const enum argt usg[] = { A_UINT, A_UINT, A_UINT, A_ULONG,
					 A_ULLONG, A_SIZE, A_UMAX, A_PTRDIFF };

	return conv == 'd' || conv == 'i' ? sgn[len] : usg[len];
}

/* A string of up to 31 bytes from the input; with a precision no
 * longer than it, exactly that many bytes and no NUL. */
static char *gen_string(struct fz_in *in, int prec)
{
	const uint8_t *p;
	size_t n = fz_take(in, fz_byte(in) % 32, &p);
	char *s;

	if (prec >= 0 && (size_t)prec <= n) {
		s = fz_alloc((size_t)prec);
		memcpy(s, p, (size_t)prec);
	} else {
		s = fz_alloc(n + 1);
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

/* One conversion: in a whole case, only those that take ints. */
static void gen_conv(struct piece *pc, struct fz_in *in, bool whole)
{
	static const char lens[][3] = { "", "hh", "h", "l", "ll", "z", "j",
					"t" };
	const char *convs = whole ? "diuxXoc%" : "diuxXocsp%";
	char conv = convs[fz_byte(in) % strlen(convs)];
	uint8_t fl = fz_byte(in);
	unsigned len;
	int prec = -1;

	put_char(pc, '%');
	if (conv == '%') {
		put_char(pc, '%');
		pc->type = whole ? A_INTS : A_INT; /* an unused int */
		return;
	}
	if (conv == 'd' || conv == 'i' || conv == 'u')
		gen_flags(pc, "-+ 0", fl);
	else if (conv == 'x' || conv == 'X' || conv == 'o')
		gen_flags(pc, "-+ 0#", fl);
	else
		gen_flags(pc, "-", fl);
	gen_width(pc, in, whole);
	if (conv != 'c' && conv != 'p')
		prec = gen_prec(pc, in, whole);
	pc->v = fz_bits(in, 8);
	if (conv == 'c') {
		pc->type = A_INT;
	} else if (conv == 's') {
		pc->type = A_STR;
		pc->str = gen_string(in, prec);
	} else if (conv == 'p') {
		pc->type = A_PTR;
		pc->v |= 1; /* not NULL */
	} else {
		len = fz_byte(in) % (whole ? 3 : 8);
		put(pc, lens[len], strlen(lens[len]));
		pc->type = int_type(conv, len);
	}
	put_char(pc, conv);
	if (whole) {
		/* Non-negative for the unsigned conversions, so that the
		 * int argument is a valid unsigned one too. */
		pc->ints[pc->nints++] = pc->type == A_UINT
			? (int)(pc->v & 0x7FFFFFFF) : (int)(uint32_t)pc->v;
		pc->type = A_INTS;
	}
}

/* Conversions outside the subset: in the middle of a format, or only
 * at its very end (they run into the NUL). */
static const char *const bad_mid[] = {
	"%f", "%e", "%E", "%g", "%G", "%a", "%A", "%F", "%n", "%lc", "%ls",
	"%hc", "%hs", "%zs", "%jc", "%lp", "%l%", "%Ld", "%Lf", "%q", "%m",
	"%C", "%S", "%'d", "%Id", "%wd", "%hhhd", "%llld", "%zzd", "%jjd",
	"%ttd", "%5.2f", "%-*f", "%.*e", "%b", "%B", "%k", "%!", "%y",
};
static const char *const bad_end[] = { "%", "%-", "%5", "%l", "%.*", "%#0" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A whole case: text and up to eight int conversions; maybe a bad one. */
static void gen_whole(struct piece *pc, struct fz_in *in)
{
	unsigned n = 1 + fz_byte(in) % 8, i, bad_at;
	uint8_t b = fz_byte(in);
	const char *bad;

	pc->type = A_INTS;
	bad_at = (b & 1) ? (unsigned)(b >> 1) % (n + 1) : UINT32_MAX;
	for (i = 0; i <= n; i++) {
		gen_text(pc, in);
		if (i == bad_at) {
			pc->bad = true;
			pc->good = pc->flen;
			if (b & 0x80) {
				bad = bad_end[(b >> 1) % NELEM(bad_end)];
				put(pc, bad, strlen(bad));
				/* The ints the '*' of "%.*" takes. */
				pc->nints = NINTS;
				return;
			}
			bad = bad_mid[(b >> 1) % NELEM(bad_mid)];
			put(pc, bad, strlen(bad));
			pc->nints = NINTS; /* a '*' may take one */
		}
		if (i < n && pc->nints + 3 <= NINTS)
			gen_conv(pc, in, true);
	}
	if (!pc->bad)
		pc->good = pc->flen;
}

/* ---- Calling with the piece's arguments -------------------------------------------- */

#define INTS(a)                                                           \
	a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10],  \
	a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19],      \
	a[20], a[21], a[22], a[23]

#define STARRED(CALL, pc, v)                                              \
	((pc)->nstar == 0 ? CALL(v)                                       \
	 : (pc)->nstar == 1 ? CALL((pc)->star[0], v)                      \
			    : CALL((pc)->star[0], (pc)->star[1], v))

/* R = CALL(the arguments of PC), CALL being a macro that takes them
 * after whatever comes before the format's arguments. */
#define WITH_ARGS(r, pc, CALL)                                            \
	do {                                                              \
		const struct piece *a_ = (pc);                            \
		uint64_t v_ = a_->v;                                      \
		if (a_->type == A_INTS)                                   \
			(r) = CALL(INTS(a_->ints));                       \
		else if (a_->type == A_INT)                               \
			(r) = STARRED(CALL, a_, (int)(uint32_t)v_);       \
		else if (a_->type == A_UINT)                              \
			(r) = STARRED(CALL, a_, (unsigned)v_);            \
		else if (a_->type == A_LONG)                              \
			(r) = STARRED(CALL, a_, (long)v_);                \
		else if (a_->type == A_ULONG)                             \
			(r) = STARRED(CALL, a_, (unsigned long)v_);       \
		else if (a_->type == A_LLONG)                             \
			(r) = STARRED(CALL, a_, (long long)v_);           \
		else if (a_->type == A_ULLONG)                            \
			(r) = STARRED(CALL, a_, (unsigned long long)v_);  \
		else if (a_->type == A_SIZE)                              \
			(r) = STARRED(CALL, a_, (size_t)v_);              \
		else if (a_->type == A_IMAX)                              \
			(r) = STARRED(CALL, a_, (intmax_t)v_);            \
		else if (a_->type == A_UMAX)                              \
			(r) = STARRED(CALL, a_, (uintmax_t)v_);           \
		else if (a_->type == A_PTRDIFF)                           \
			(r) = STARRED(CALL, a_, (ptrdiff_t)v_);           \
		else if (a_->type == A_STR)                               \
			(r) = STARRED(CALL, a_, (const char *)a_->str);   \
		else                                                      \
			(r) = STARRED(CALL, a_, (void *)(uintptr_t)v_);   \
	} while (0)

/* What snprintf makes of the part before a bad conversion. */
static void libc_want(struct piece *pc)
{
	char good[FMT_MAX];
	int n;

	memcpy(good, pc->fmt, pc->good);
	good[pc->good] = '\0';
#define LIBC(...) snprintf(pc->want, sizeof(pc->want), good, __VA_ARGS__)
	WITH_ARGS(n, pc, LIBC);
#undef LIBC
	FZ_CHECK(n >= 0 && (size_t)n < sizeof(pc->want),
		 "snprintf(\"%s\") returned %d", good, n);
	pc->wlen = (size_t)n;
}

/* ptio_vformat's pieces, collected. */
struct collect {
	char text[TEXT_MAX];
	size_t len;
};

static ptio_ssize collect_out(void *ctx, const char *s, size_t n)
{
	struct collect *c = ctx;

	FZ_CHECK(n > 0, "an empty piece of text");
	FZ_CHECK(n <= sizeof(c->text) - c->len, "more text than snprintf's");
	memcpy(c->text + c->len, s, n);
	c->len += n;
	return 0;
}

static ptio_ssize collect_fmt(struct collect *c, const char *fmt, ...)
	PTIO_PRINTF(2, 3);
static ptio_ssize collect_fmt(struct collect *c, const char *fmt, ...)
{
	va_list ap;
	ptio_ssize r;

	va_start(ap, fmt);
	r = ptio_vformat(collect_out, c, fmt, ap);
	va_end(ap);
	return r;
}

static ptio_ssize write_piece(struct ptio_op *op, struct ptio_write w,
			      const struct piece *pc)
{
	ptio_ssize r;

#define WFMT(...) ptio_write_fmt(op, w, pc->fmt, __VA_ARGS__)
	WITH_ARGS(r, pc, WFMT);
#undef WFMT
	return r;
}

/* ---- The checks ---------------------------------------------------------------------- */

/* What the formatter must return for PC. */
static ptio_ssize expected(const struct piece *pc)
{
	return pc->bad ? PTIO_EINVAL : (ptio_ssize)pc->wlen;
}

static void check_vformat(struct piece *pc)
{
	struct collect c;
	ptio_ssize r;

	c.len = 0;
#define COLLECT(...) collect_fmt(&c, pc->fmt, __VA_ARGS__)
	WITH_ARGS(r, pc, COLLECT);
#undef COLLECT
	FZ_CHECK(r == expected(pc), "vformat \"%s\": %zd, expected %zd",
		 pc->fmt, r, expected(pc));
	FZ_CHECK(c.len == pc->wlen && memcmp(c.text, pc->want, c.len) == 0,
		 "vformat \"%s\": \"%.*s\" (%zu), snprintf \"%s\" (%zu)",
		 pc->fmt, (int)c.len, c.text, c.len, pc->want, pc->wlen);
}

#define GUARD 16

static void check_format(struct piece *pc, size_t cap)
{
	char *buf = fz_alloc(cap + GUARD);
	size_t keep = cap == 0 ? 0 : pc->wlen < cap - 1 ? pc->wlen : cap - 1;
	size_t i;
	ptio_ssize r;

	memset(buf, 0xEE, cap + GUARD);
#define FORMAT(...) ptio_format(buf, cap, pc->fmt, __VA_ARGS__)
	WITH_ARGS(r, pc, FORMAT);
#undef FORMAT
	FZ_CHECK(r == expected(pc), "format \"%s\" (cap %zu): %zd, expected "
		 "%zd", pc->fmt, cap, r, expected(pc));
	FZ_CHECK(memcmp(buf, pc->want, keep) == 0 &&
			 (cap == 0 || buf[keep] == '\0'),
		 "format \"%s\" (cap %zu): \"%.*s\", snprintf \"%.*s\"",
		 pc->fmt, cap, (int)keep, buf, (int)keep, pc->want);
	for (i = cap == 0 ? 0 : keep + 1; i < cap + GUARD; i++)
		FZ_CHECK((unsigned char)buf[i] == 0xEE || i < cap,
			 "format \"%s\" (cap %zu): byte %zu written", pc->fmt,
			 cap, i);
	free(buf);
}

/* write_fmt of PC to W, which has written START bytes before it.
 * Returns false once W has refused a write. */
static bool check_write(struct piece *pc, struct fz_writer *w,
			struct ptio_op *op)
{
	size_t start = w->len, went;
	ptio_ssize r, want = expected(pc);

	FZ_DRIVE(r, write_piece(op, fz_writer_write(w), pc), w->ready);
	went = w->len - start;
	if (w->refused != 0)
		want = w->refused;
	FZ_CHECK(r == want, "write_fmt \"%s\": %s (%zd), expected %s (%zd)",
		 pc->fmt, ptio_strerror(r), r, ptio_strerror(want), want);
	FZ_CHECK(ptio_op_done(op) == went, "write_fmt \"%s\": done %zu, "
		 "%zu bytes went", pc->fmt, ptio_op_done(op), went);
	FZ_CHECK(went <= pc->wlen && (r < 0 || went == pc->wlen),
		 "write_fmt \"%s\": %zu bytes of %zu went (%s)", pc->fmt, went,
		 pc->wlen, ptio_strerror(r));
	FZ_CHECK(memcmp(w->out + start, pc->want, went) == 0,
		 "write_fmt \"%s\": \"%.*s\", snprintf \"%s\"", pc->fmt,
		 (int)went, (const char *)w->out + start, pc->want);
	return w->refused == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t b0 = fz_byte(&in), b1 = fz_byte(&in);
	size_t cap = b1 == 0xFF ? 2048 : b1, npieces, i, total = 0;
	struct piece *pcs = calloc(MAX_PIECES, sizeof(*pcs));
	struct fz_writer w;
	struct ptio_op op;
	uint8_t *out;

	FZ_CHECK(pcs != NULL, "out of memory");
	if (b0 & 1) {
		npieces = 1;
		gen_whole(&pcs[0], &in);
	} else {
		npieces = 1 + (size_t)(b0 >> 1) % MAX_PIECES;
		for (i = 0; i < npieces; i++) {
			gen_text(&pcs[i], &in);
			gen_conv(&pcs[i], &in, false);
			pcs[i].good = pcs[i].flen;
		}
	}
	for (i = 0; i < npieces; i++) {
		libc_want(&pcs[i]);
		total += pcs[i].wlen;
		check_vformat(&pcs[i]);
		check_format(&pcs[i], cap);
	}
	out = fz_alloc(total);
	fz_writer_init(&w, &in, out, total, false);
	ptio_op_init(&op, &fz_idle_task);
	for (i = 0; i < npieces && check_write(&pcs[i], &w, &op); i++)
		;
	for (i = 0; i < npieces; i++)
		free(pcs[i].str);
	free(pcs);
	free(out);
	return 0;
}
