/*
 * test/fuzz/fuzz-lines.c - the line reader: read_until, read_line and the
 * lines loop, through a BufReader over the scripted reader (fuzz.h),
 * against a reference splitter.
 *
 * The input is four header bytes and then the reader's script:
 *
 *   byte 0   bits 0-1: the machine (0 read_until '\n', 1 read_line,
 *            2 lines, 3 read_until on byte 3's delimiter); bit 2: keep
 *            the line buffer from line to line (each line is appended,
 *            so the room left shrinks), else it is reset before each
 *            line; bits 3-7: the BufReader's size less one (1 to 32)
 *   byte 1   the maximum line length, 0 to 255 (for the lines loop,
 *            the size of its buffer, which is its maximum)
 *   byte 2   bits 6-7: bytes in the line buffer before the first line
 *            (0 to 3); bits 0-5: the buffer's room after them
 *   byte 3   the delimiter of machine 3
 *
 * The script may inject PTIO_ECONNRESET before any chunk; the machine
 * must return it, keep what it read of the line, and go on with the same
 * line when called again.  After every call the target checks the result
 * against the reference, the line buffer byte for byte (against a shadow
 * of what it must hold), ptio_op_done, and the stream position: the
 * bytes taken from the BufReader are exactly those of the lines so far
 * (over-long tails included, nothing past a delimiter), so every byte is
 * consumed once.  At the end the whole payload has been consumed, every
 * injected error was returned once, and a further call still says 0.
 */
#include <stdlib.h>
#include <string.h>
#include "test/fuzz/fuzz.h"

#define M_UNTIL 0
#define M_LINE  1
#define M_LINES 2
#define M_DELIM 3

struct lines_case {
	struct fz_reader rd;
	struct ptio_bufreader br;
	uint8_t *brbuf;
	struct ptio_op op;
	int machine;
	bool keep;
	uint8_t delim;
	size_t max;
	/* read_until and read_line: the line buffer and its shadow. */
	struct ptio_readbuf line;
	uint8_t *linebuf, *shadow;
	size_t cap, prefill;
	/* lines. */
	struct ptio_lines lines;
};

/* What the next call must return, from the reference splitter. */
struct expect {
	ptio_ssize result;
	size_t keep;  /* bytes of the line left in the buffer */
	size_t end;   /* where the line (with a dropped tail) ends */
	size_t full;  /* the line's whole length */
};

/* The line of D[0, N) starting at AT, split at DELIM, with LIMIT: its
 * result, as read_until would (TEXT: read_line, checking UTF-8). */
static struct expect ref_next(const uint8_t *d, size_t n, size_t at,
			      uint8_t delim, size_t limit, bool text)
{
	struct expect e;
	const uint8_t *p = at < n ? memchr(d + at, delim, n - at) : NULL;

	e.end = p != NULL ? (size_t)(p - d) + 1 : n;
	e.full = e.end - at;
	if (e.full == 0) {
		e.result = 0;
		e.keep = 0;
	} else if (e.full > limit) {
		e.result = PTIO_ETOOLONG;
		e.keep = limit;
	} else if (text && !fz_utf8_ok(d + at, e.full)) {
		e.result = PTIO_EILSEQ;
		e.keep = 0;
	} else {
		e.result = (ptio_ssize)e.full;
		e.keep = e.full;
	}
	return e;
}

static ptio_ssize call(struct lines_case *c)
{
	struct ptio_bufread b = ptio_bufreader_bufread(&c->br);

	if (c->machine == M_LINE)
		return ptio_read_line(&c->op, b, &c->line, c->max);
	if (c->machine == M_LINES)
		return ptio_lines_next(&c->op, &c->lines);
	return ptio_read_until(&c->op, b, c->delim, &c->line, c->max);
}

/* Bytes the machines have taken from the BufReader. */
static size_t consumed(const struct lines_case *c)
{
	return c->rd.pos - ptio_bufreader_buffered(&c->br);
}

/* A line's length without its "\n" or "\r\n". */
static size_t trimmed(const uint8_t *s, size_t n)
{
	if (n > 0 && s[n - 1] == '\n' && --n > 0 && s[n - 1] == '\r')
		n--;
	return n;
}

/* An injected error came back part-way through the line at AT (E), with
 * BASE bytes in the buffer before it and limit LIMIT: what was read of
 * the line is in the buffer, and the stream stands right after it (or
 * inside the tail of an over-long line, which is at its limit). */
static void check_error(struct lines_case *c, size_t at, struct expect e,
			size_t base, size_t limit)
{
	size_t done = ptio_op_done(&c->op), pos = consumed(c);
	const struct ptio_readbuf *line =
		c->machine == M_LINES ? &c->lines.line : &c->line;

	FZ_CHECK(done <= limit && done <= e.full,
		 "error with %zu bytes done; limit %zu, line %zu", done, limit,
		 e.full);
	FZ_CHECK(line->filled == base + done, "error: %zu bytes in the line "
		 "buffer, %zu expected", line->filled, base + done);
	FZ_CHECK(memcmp(line->buf + base, c->rd.data + at, done) == 0,
		 "error: the line's bytes so far differ");
	FZ_CHECK(pos >= at + done && pos <= e.end,
		 "error: stream at %zu, line %zu..%zu with %zu done", pos, at,
		 e.end, done);
	FZ_CHECK(pos == at + done || done == limit,
		 "error: %zu bytes dropped before the line was at its limit",
		 pos - at - done);
}

/* Reset the line buffer before a new line: the bytes that were there
 * first, then room. */
static void line_reset(struct lines_case *c)
{
	ptio_readbuf_init(&c->line, c->linebuf, c->cap);
	FZ_CHECK(ptio_readbuf_append(&c->line, c->shadow, c->prefill) ==
			 c->prefill, "append refused");
}

/* Check result R of a call for the line at AT against E. */
static void check_result(struct lines_case *c, ptio_ssize r, size_t at,
			 struct expect e, size_t base, size_t limit)
{
	const uint8_t *d = c->rd.data;

	FZ_CHECK(r == e.result, "line at %zu (%zu bytes, limit %zu): %s "
		 "(%zd), expected %s (%zd)", at, e.full, limit,
		 ptio_strerror(r), r, ptio_strerror(e.result), e.result);
	FZ_CHECK(consumed(c) == e.end, "after the line at %zu the stream is "
		 "at %zu, not %zu", at, consumed(c), e.end);
	if (c->machine == M_LINES) {
		if (r == 1)
			FZ_CHECK(ptio_lines_len(&c->lines) ==
					 trimmed(d + at, e.full) &&
				 memcmp(ptio_lines_data(&c->lines), d + at,
					ptio_lines_len(&c->lines)) == 0,
				 "lines: the line at %zu differs", at);
		return;
	}
	/* The buffer holds what it held before the line and the part of
	 * the line the result keeps. */
	memcpy(c->shadow + base, d + at, e.keep);
	FZ_CHECK(c->line.filled == base + e.keep, "line at %zu: %zu bytes in "
		 "the buffer, %zu expected", at, c->line.filled,
		 base + e.keep);
	FZ_CHECK(memcmp(c->linebuf, c->shadow, c->line.filled) == 0,
		 "line at %zu: the buffer's bytes differ", at);
	FZ_CHECK(ptio_op_done(&c->op) == (r == PTIO_EILSEQ ? 0 : e.keep),
		 "line at %zu: done %zu", at, ptio_op_done(&c->op));
}

static void run(struct lines_case *c)
{
	const uint8_t *d = c->rd.data;
	size_t at = 0, base, limit, errors = 0;
	struct expect e;
	ptio_ssize r;

	line_reset(c);
	for (;;) {
		if (c->machine == M_LINES) {
			base = 0;
			limit = c->cap;
		} else {
			if (!c->keep)
				line_reset(c);
			base = c->line.filled;
			limit = c->max < c->cap - base ? c->max : c->cap - base;
		}
		e = ref_next(d, c->rd.n, at, c->delim, limit,
			     c->machine == M_LINE || c->machine == M_LINES);
		if (c->machine == M_LINES && e.result > 0)
			e.result = 1;
		/* Errors come back before the line is done; the same call
		 * then goes on with it. */
		for (;;) {
			FZ_DRIVE(r, call(c), c->rd.ready);
			if (r != PTIO_ECONNRESET)
				break;
			FZ_CHECK(++errors <= c->rd.fails,
				 "more errors than were injected");
			check_error(c, at, e, base, limit);
		}
		check_result(c, r, at, e, base, limit);
		if (r == 0)
			break;
		at = e.end;
	}
	FZ_DRIVE(r, call(c), c->rd.ready);
	FZ_CHECK(r == 0, "after the end: %s", ptio_strerror(r));
	FZ_CHECK(c->rd.pos == c->rd.n && consumed(c) == c->rd.n,
		 "%zu of %zu bytes consumed at the end", consumed(c), c->rd.n);
	FZ_CHECK(errors == c->rd.fails, "%zu errors injected, %zu returned",
		 c->rd.fails, errors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct lines_case c;
	uint8_t b0 = fz_byte(&in), b1 = fz_byte(&in), b2 = fz_byte(&in);
	uint8_t b3 = fz_byte(&in);
	size_t brcap = (size_t)(b0 >> 3) + 1;

	memset(&c, 0, sizeof(c));
	c.machine = b0 & 3;
	c.keep = (b0 & 4) != 0;
	c.delim = c.machine == M_DELIM ? b3 : '\n';
	c.max = b1;
	if (c.machine == M_LINES) {
		c.prefill = 0;
		c.cap = b1;
	} else {
		c.prefill = b2 >> 6;
		c.cap = c.prefill + (b2 & 0x3F);
	}
	/* Exactly sized, so that ASan sees a write past either buffer. */
	c.linebuf = fz_alloc(c.cap);
	c.shadow = fz_alloc(c.cap);
	memset(c.shadow, 'K', c.cap);
	c.brbuf = fz_alloc(brcap);
	fz_reader_parse(&c.rd, &in, fz_small_sizes, true);
	ptio_bufreader_init(&c.br, fz_reader_read(&c.rd), c.brbuf, brcap);
	ptio_op_init(&c.op, &fz_idle_task);
	ptio_lines_init(&c.lines, ptio_bufreader_bufread(&c.br), c.linebuf,
			c.cap);
	run(&c);
	fz_reader_free(&c.rd);
	free(c.brbuf);
	free(c.shadow);
	free(c.linebuf);
	return 0;
}
