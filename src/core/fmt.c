/*
 * src/core/fmt.c - printf-style formatting with no C library, and the
 * write_fmt machine.
 *
 * Divided into: parsing a conversion, emitting padding and pieces,
 * integers, the other conversions, the main loop, formatting to a
 * buffer, and write_fmt.
 *
 * The formatter hands its text to a callback in pieces and keeps no
 * buffer of its own; integers are converted in a small array on the
 * stack.  Nothing here is locale-dependent.
 */
#include <stdarg.h>
#include <ptio/fmt.h>
#include "core/internal.h"

/* ---- A conversion -------------------------------------------------------- */

#define F_LEFT  0x01u /* '-' */
#define F_PLUS  0x02u /* '+' */
#define F_SPACE 0x04u /* ' ' */
#define F_ALT   0x08u /* '#' */
#define F_ZERO  0x10u /* '0' */

enum length { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_J, LEN_T };

struct spec {
	unsigned flags;
	size_t width;
	size_t prec;       /* meaningful when has_prec */
	bool has_prec;
	enum length len;
	char conv;
};

/* The output and the running total. */
struct emitter {
	ptio_fmt_out out;
	void *ctx;
	size_t total;
};

/* Decimal digits at *F, saturating instead of overflowing. */
static size_t parse_num(const char **f)
{
	size_t v = 0;

	while (**f >= '0' && **f <= '9') {
		size_t d = (size_t)(**f - '0');

		v = v > (PTIO_SSIZE_MAX - d) / 10 ? PTIO_SSIZE_MAX : v * 10 + d;
		(*f)++;
	}
	return v;
}

static unsigned parse_flags(const char **f)
{
	unsigned flags = 0;

	for (;; (*f)++) {
		if (**f == '-')
			flags |= F_LEFT;
		else if (**f == '+')
			flags |= F_PLUS;
		else if (**f == ' ')
			flags |= F_SPACE;
		else if (**f == '#')
			flags |= F_ALT;
		else if (**f == '0')
			flags |= F_ZERO;
		else
			return flags;
	}
}

static enum length parse_length(const char **f)
{
	char c = **f;

	if (c == 'h' || c == 'l') {
		(*f)++;
		if (**f == c) {
			(*f)++;
			return c == 'h' ? LEN_HH : LEN_LL;
		}
		return c == 'h' ? LEN_H : LEN_L;
	}
	if (c == 'z' || c == 'j' || c == 't') {
		(*f)++;
		return c == 'z' ? LEN_Z : c == 'j' ? LEN_J : LEN_T;
	}
	return LEN_NONE;
}

/* Parse the conversion after a '%' at *F (moving *F past it), taking
 * '*' widths and precisions from AP. */
static void parse_spec(const char **f, struct spec *sp, va_list *ap)
{
	sp->flags = parse_flags(f);
	if (**f == '*') {
		int w = va_arg(*ap, int);

		(*f)++;
		if (w < 0) {
			sp->flags |= F_LEFT;
			sp->width = (size_t)(-(w + 1)) + 1u; /* INT_MIN too */
		} else {
			sp->width = (size_t)w;
		}
	} else {
		sp->width = parse_num(f);
	}
	sp->has_prec = false;
	sp->prec = 0;
	if (**f == '.') {
		(*f)++;
		sp->has_prec = true;
		if (**f == '*') {
			int p = va_arg(*ap, int);

			(*f)++;
			sp->has_prec = p >= 0; /* negative: as if none */
			sp->prec = p >= 0 ? (size_t)p : 0;
		} else {
			sp->prec = parse_num(f);
		}
	}
	sp->len = parse_length(f);
	sp->conv = **f;
	if (sp->conv != '\0')
		(*f)++;
}

/* ---- Emitting ------------------------------------------------------------- */

static ptio_ssize emit(struct emitter *e, const char *s, size_t n)
{
	ptio_ssize r;

	if (n == 0)
		return 0;
	r = e->out(e->ctx, s, n);
	if (r < 0)
		return r;
	e->total += n;
	return 0;
}

/* N copies of C (a space or a zero). */
static ptio_ssize emit_fill(struct emitter *e, char c, size_t n)
{
	static const char spaces[16] = "                ";
	static const char zeros[16] = "0000000000000000";
	const char *src = c == '0' ? zeros : spaces;
	ptio_ssize r = 0;

	while (n > 0 && r == 0) {
		size_t k = ptio__min(n, sizeof(spaces));

		r = emit(e, src, k);
		n -= k;
	}
	return r;
}

/*
 * The one layout every conversion shares:
 *   [spaces] PREFIX [zeros] BODY [spaces]
 * ZEROS leading zeros are part of the value (precision); the field is
 * padded to the width with spaces, or with zeros after the prefix when
 * PAD_ZERO.
 */
static ptio_ssize emit_field(struct emitter *e, const struct spec *sp,
			     const char *prefix, size_t plen, size_t zeros,
			     const char *body, size_t blen, bool pad_zero)
{
	size_t used = plen + zeros + blen;
	size_t pad = sp->width > used ? sp->width - used : 0;
	ptio_ssize r = 0;

	if (!(sp->flags & F_LEFT) && !pad_zero)
		r = emit_fill(e, ' ', pad);
	if (r == 0)
		r = emit(e, prefix, plen);
	if (r == 0 && !(sp->flags & F_LEFT) && pad_zero)
		r = emit_fill(e, '0', pad);
	if (r == 0)
		r = emit_fill(e, '0', zeros);
	if (r == 0)
		r = emit(e, body, blen);
	if (r == 0 && (sp->flags & F_LEFT))
		r = emit_fill(e, ' ', pad);
	return r;
}

/* ---- Integers ---------------------------------------------------------------- */

static uintmax_t arg_unsigned(const struct spec *sp, va_list *ap)
{
	if (sp->len == LEN_HH)
		return (unsigned char)va_arg(*ap, unsigned);
	if (sp->len == LEN_H)
		return (unsigned short)va_arg(*ap, unsigned);
	if (sp->len == LEN_L)
		return va_arg(*ap, unsigned long);
	if (sp->len == LEN_LL)
		return va_arg(*ap, unsigned long long);
	if (sp->len == LEN_Z)
		return va_arg(*ap, size_t);
	if (sp->len == LEN_J)
		return va_arg(*ap, uintmax_t);
	if (sp->len == LEN_T)
		return (size_t)va_arg(*ap, ptrdiff_t);
	return va_arg(*ap, unsigned);
}

static intmax_t arg_signed(const struct spec *sp, va_list *ap)
{
	if (sp->len == LEN_HH)
		return (signed char)va_arg(*ap, int);
	if (sp->len == LEN_H)
		return (short)va_arg(*ap, int);
	if (sp->len == LEN_L)
		return va_arg(*ap, long);
	if (sp->len == LEN_LL)
		return va_arg(*ap, long long);
	if (sp->len == LEN_Z)
		return (ptrdiff_t)va_arg(*ap, size_t);
	if (sp->len == LEN_J)
		return va_arg(*ap, intmax_t);
	if (sp->len == LEN_T)
		return va_arg(*ap, ptrdiff_t);
	return va_arg(*ap, int);
}

/* The digits of V in BASE, written backwards from the end of BUF (which
 * holds 24 bytes: enough for 64 bits in octal); returns where they
 * start.  Values that fit in 32 bits are divided as such: on a 32-bit
 * MCU a 64-bit division is a slow library call. */
static char *to_digits(uintmax_t v, unsigned base, bool upper, char *end)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *p = end;
	uint32_t x;

	while (v > UINT32_MAX) {
		*--p = digits[v % base];
		v /= base;
	}
	for (x = (uint32_t)v; x != 0; x /= base)
		*--p = digits[x % base];
	return p;
}

/* An integer conversion: the value's magnitude V, whether it is
 * negative, and its base. */
static ptio_ssize emit_int(struct emitter *e, const struct spec *sp,
			   uintmax_t v, bool neg, unsigned base)
{
	char buf[24], prefix[2];
	char *end = buf + sizeof(buf);
	char *digits = to_digits(v, base, sp->conv == 'X', end);
	size_t nd = (size_t)(end - digits), plen = 0, zeros = 0;
	size_t min_digits = sp->has_prec ? sp->prec : 1;

	if (neg)
		prefix[plen++] = '-';
	else if ((sp->conv == 'd' || sp->conv == 'i') && (sp->flags & F_PLUS))
		prefix[plen++] = '+';
	else if ((sp->conv == 'd' || sp->conv == 'i') && (sp->flags & F_SPACE))
		prefix[plen++] = ' ';
	if ((sp->flags & F_ALT) && base == 16 && v != 0) {
		prefix[plen++] = '0';
		prefix[plen++] = sp->conv == 'X' ? 'X' : 'x';
	}
	/* '#' with octal: the first digit must be a zero (for the value 0,
	 * which has no digits of its own, that is the single "0"). */
	if ((sp->flags & F_ALT) && base == 8 && min_digits <= nd)
		min_digits = nd + 1;
	if (min_digits > nd)
		zeros = min_digits - nd;
	return emit_field(e, sp, prefix, plen, zeros, digits, nd,
			  (sp->flags & F_ZERO) && !sp->has_prec);
}

/* ---- The other conversions -------------------------------------------------------- */

static ptio_ssize emit_string(struct emitter *e, const struct spec *sp,
			      const char *s)
{
	size_t n = 0;

	if (s == NULL)
		s = "(null)";
	/* Never read past the precision: the bytes need not be NUL-ended. */
	while ((!sp->has_prec || n < sp->prec) && s[n] != '\0')
		n++;
	return emit_field(e, sp, "", 0, 0, s, n, false);
}

static ptio_ssize emit_conv(struct emitter *e, struct spec *sp, va_list *ap)
{
	char c;
	intmax_t sv;

	if (sp->conv == 'd' || sp->conv == 'i') {
		sv = arg_signed(sp, ap);
		return emit_int(e, sp, sv < 0 ? -(uintmax_t)sv : (uintmax_t)sv,
				sv < 0, 10);
	}
	if (sp->conv == 'u')
		return emit_int(e, sp, arg_unsigned(sp, ap), false, 10);
	if (sp->conv == 'x' || sp->conv == 'X')
		return emit_int(e, sp, arg_unsigned(sp, ap), false, 16);
	if (sp->conv == 'o')
		return emit_int(e, sp, arg_unsigned(sp, ap), false, 8);
	if (sp->conv == 'c' && sp->len == LEN_NONE) {
		c = (char)(unsigned char)va_arg(*ap, int);
		return emit_field(e, sp, "", 0, 0, &c, 1, false);
	}
	if (sp->conv == 's' && sp->len == LEN_NONE)
		return emit_string(e, sp, va_arg(*ap, const char *));
	if (sp->conv == 'p' && sp->len == LEN_NONE) {
		/* A pointer prints as "%#x" of its address. */
		sp->flags |= F_ALT;
		sp->conv = 'x';
		return emit_int(e, sp, (uintptr_t)va_arg(*ap, void *), false, 16);
	}
	if (sp->conv == '%' && sp->len == LEN_NONE)
		return emit(e, "%", 1);
	return PTIO_EINVAL;
}

/* ---- The main loop ------------------------------------------------------------------ */

ptio_ssize ptio_vformat(ptio_fmt_out out, void *ctx, const char *fmt,
			va_list ap)
{
	struct emitter e = { out, ctx, 0 };
	struct spec sp;
	const char *p;
	ptio_ssize r = 0;
	va_list aq;

	/* Work on a copy reached through a pointer, so the helpers can take
	 * arguments from it in order (a va_list cannot be passed on and used
	 * again portably). */
	va_copy(aq, ap);
	while (*fmt != '\0' && r == 0) {
		for (p = fmt; *p != '\0' && *p != '%'; p++)
			;
		r = emit(&e, fmt, (size_t)(p - fmt));
		fmt = p;
		if (*fmt == '\0' || r != 0)
			break;
		fmt++;
		parse_spec(&fmt, &sp, &aq);
		r = emit_conv(&e, &sp, &aq);
	}
	va_end(aq);
	return r < 0 ? r : ptio__count(e.total);
}

/* ---- Formatting to a buffer ----------------------------------------------------------- */

struct buf_ctx {
	char *buf;
	size_t cap; /* room for text: the buffer's size less the NUL */
	size_t pos;
};

static ptio_ssize buf_out(void *ctx, const char *s, size_t n)
{
	struct buf_ctx *b = (struct buf_ctx *)ctx;
	size_t k = ptio__min(n, b->cap - b->pos);

	ptio__copy(b->buf + b->pos, s, k);
	b->pos += k;
	return 0;
}

ptio_ssize ptio_vformat_buf(char *buf, size_t cap, const char *fmt,
			    va_list ap)
{
	struct buf_ctx b = { buf, cap > 0 ? cap - 1 : 0, 0 };
	ptio_ssize r = ptio_vformat(buf_out, &b, fmt, ap);

	if (cap > 0)
		buf[b.pos] = '\0';
	return r;
}

ptio_ssize ptio_format(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	ptio_ssize r;

	va_start(ap, fmt);
	r = ptio_vformat_buf(buf, cap, fmt, ap);
	va_end(ap);
	return r;
}

/* ---- write_fmt ------------------------------------------------------------------------- */

#define WFMT_CHUNK 64

/* One pass of write_fmt: format from the start, skip what earlier passes
 * wrote, and write the rest in chunks until done or the writer blocks. */
struct wfmt {
	struct ptio_op *op;
	struct ptio_write w;
	size_t skip;
	size_t used;
	char chunk[WFMT_CHUNK];
};

static ptio_ssize wfmt_flush(struct wfmt *c)
{
	size_t i, off = 0;
	ptio_ssize k = ptio__write_some(c->w, (const uint8_t *)c->chunk,
					c->used, &off);

	c->op->p.done += off;
	/* What was not written stays for the caller to see; the next pass
	 * formats it again, so only what went needs dropping here. */
	for (i = off; i < c->used; i++)
		c->chunk[i - off] = c->chunk[i];
	c->used -= off;
	return k;
}

static ptio_ssize wfmt_out(void *ctx, const char *s, size_t n)
{
	struct wfmt *c = (struct wfmt *)ctx;
	size_t k;

	if (c->skip > 0) {
		k = ptio__min(c->skip, n);
		c->skip -= k;
		s += k;
		n -= k;
	}
	while (n > 0) {
		k = ptio__min(n, WFMT_CHUNK - c->used);
		ptio__copy(c->chunk + c->used, s, k);
		c->used += k;
		s += k;
		n -= k;
		if (c->used == WFMT_CHUNK) {
			ptio_ssize r = wfmt_flush(c);

			if (r < 0)
				return r;
		}
	}
	return 0;
}

static ptio_ssize wfmt_pass(struct ptio_op *op, struct ptio_write w,
			    const char *fmt, va_list ap) PTIO_PRINTF(3, 0);
static ptio_ssize wfmt_pass(struct ptio_op *op, struct ptio_write w,
			    const char *fmt, va_list ap)
{
	struct wfmt c;
	ptio_ssize total, r;

	c.op = op;
	c.w = w;
	c.skip = op->p.done;
	c.used = 0;
	total = ptio_vformat(wfmt_out, &c, fmt, ap);
	if (total < 0)
		return total;
	r = wfmt_flush(&c);
	return r < 0 ? r : total;
}

ptio_ssize ptio_write_vfmt(struct ptio_op *op, struct ptio_write w,
			   const char *fmt, va_list ap)
{
	ptio_ssize n = 0;

	PTIO_BEGIN(&op->pt);
	op->p.done = 0;
	PTIO_NB_AWAIT(&op->pt, op->task, n, wfmt_pass(op, w, fmt, ap),
		      ptio_write_as_ready(w), PTIO_WRITE);
	PTIO_END_WITH(&op->pt, n);
}

ptio_ssize ptio_write_fmt(struct ptio_op *op, struct ptio_write w,
			  const char *fmt, ...)
{
	va_list ap;
	ptio_ssize r;

	va_start(ap, fmt);
	r = ptio_write_vfmt(op, w, fmt, ap);
	va_end(ap);
	return r;
}
