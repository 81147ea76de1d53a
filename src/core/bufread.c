/*
 * src/core/bufread.c - the BufRead trait's non-blocking calls and its
 * machines: fill_buf, read_until, read_line and the lines loop.
 *
 * read_until is the one that matters.  It copies from the BufRead's view
 * into the caller's line buffer and consumes exactly what it copied, so a
 * wait can come between any two bytes without losing one.  Its progress
 * is op->p.done (bytes of this line in the caller's buffer); whether it
 * is still collecting the line or throwing away the rest of an over-long
 * one is where its continuation stands.
 *
 * An error part-way (a timeout) leaves op->p.done marked PTIO__OP_RESUME,
 * so the next call on the same op and buffer goes on with the same line:
 * its limit counts the whole line, and it returns the whole line's
 * length.  If the error came while the rest of an over-long line was
 * being dropped, the mark PTIO__OP_DROPPING says so too, and the next
 * call goes straight on dropping: the count alone cannot tell a line cut
 * at its limit from a last line exactly that long, and the end of the
 * stream right after would report the first as the second.  Any other
 * machine run on the op in between resets its progress, and with it the
 * marks.
 */
#include <ptio/bufread.h>
#include <ptio/bytes.h>
#include "core/internal.h"

/* ---- The trait's calls ------------------------------------------------------ */

ptio_ssize ptio_nb_fill_buf(struct ptio_bufread b, const uint8_t **data)
{
	ptio_ssize n;

	*data = NULL;
	n = b.vt->nb_fill_buf(b.self, data);
	if (n > 0 && *data == NULL)
		return PTIO_EIO;
	if (n == PTIO_PENDING)
		return PTIO_EIO; /* a non-blocking call never suspends */
	return n;
}

void ptio_bufread_consume(struct ptio_bufread b, size_t n)
{
	b.vt->consume(b.self, n);
}

/* ---- fill_buf ------------------------------------------------------------------ */

ptio_ssize ptio_fill_buf(struct ptio_op *op, struct ptio_bufread b,
			 const uint8_t **data)
{
	ptio_ssize n = 0;

	PTIO_BEGIN(&op->pt);
	PTIO_NB_AWAIT(&op->pt, op->task, n, ptio_nb_fill_buf(b, data),
		      ptio_bufread_as_ready(b), PTIO_READ);
	PTIO_END_WITH(&op->pt, n);
}

/* ---- read_until ---------------------------------------------------------------- */

/* What until_take found. */
#define UNTIL_MORE 0     /* no delimiter yet, room left: read on */
#define UNTIL_LINE 1     /* the line is complete */
#define UNTIL_TOO_LONG 2 /* the limit is reached and more line follows */

/* The index of the first DELIM in D[0, N), or N. */
static size_t find_byte(const uint8_t *d, size_t n, uint8_t delim)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (d[i] == delim)
			break;
	return i;
}

/*
 * Move the next piece of the line from the view D[0, N) into LINE,
 * consuming what was moved.  The line may hold at most MAX bytes and no
 * more than fit in LINE; op->p.done bytes of it are there already.
 */
static int until_take(struct ptio_op *op, struct ptio_bufread b,
		      uint8_t delim, struct ptio_readbuf *line, size_t max,
		      const uint8_t *d, size_t n)
{
	size_t limit = ptio__min(ptio__min(max, PTIO__OP_COUNT_MAX),
				 op->p.done + ptio_readbuf_remaining(line));
	size_t room = limit > op->p.done ? limit - op->p.done : 0;
	size_t want = find_byte(d, n, delim);
	bool found = want < n;
	size_t take;

	if (found)
		want++; /* the delimiter belongs to the line */
	take = ptio__min(want, room);
	(void)ptio_readbuf_append(line, d, take);
	ptio_bufread_consume(b, take);
	op->p.done += take;
	if (take < want)
		return UNTIL_TOO_LONG;
	return found ? UNTIL_LINE : UNTIL_MORE;
}

/* Drop the view D[0, N) up to and including DELIM; true if it was there. */
static bool until_skip(struct ptio_bufread b, uint8_t delim, const uint8_t *d,
		       size_t n)
{
	size_t i = find_byte(d, n, delim);

	ptio_bufread_consume(b, i < n ? i + 1 : n);
	return i < n;
}

/* Where a call starts: the line's bytes already in LINE, when the last
 * call on OP failed part-way through this line, with PTIO__OP_DROPPING
 * if it was dropping the line's tail; otherwise 0. */
static size_t until_resume(const struct ptio_op *op,
			   const struct ptio_readbuf *line)
{
	size_t had = op->p.done & PTIO__OP_COUNT_MAX;

	if ((op->p.done & PTIO__OP_RESUME) && had <= line->filled)
		return op->p.done & ~PTIO__OP_RESUME;
	return 0;
}

/* Fail with ERR, marking the op so that the next call goes on with the
 * line, and goes on dropping it if DROPPING. */
static ptio_ssize until_fail(struct ptio_op *op, ptio_ssize err,
			     bool dropping)
{
	op->p.done |= PTIO__OP_RESUME | (dropping ? PTIO__OP_DROPPING : 0);
	return err;
}

ptio_ssize ptio_read_until(struct ptio_op *op, struct ptio_bufread b,
			   uint8_t delim, struct ptio_readbuf *line,
			   size_t max)
{
	ptio_ssize n = 0;
	const uint8_t *d = NULL;
	int got = UNTIL_MORE;

	PTIO_BEGIN(&op->pt);
	if (!ptio_readbuf_valid(line))
		PTIO_RETURN(&op->pt, PTIO_EINVAL);
	op->p.done = until_resume(op, line);
	/* The mark lives only between calls: while the machine runs, where
	 * its continuation stands says whether it is dropping. */
	got = (op->p.done & PTIO__OP_DROPPING) ? UNTIL_TOO_LONG : UNTIL_MORE;
	op->p.done &= ~PTIO__OP_DROPPING;
	while (got != UNTIL_TOO_LONG) {
		PTIO_NB_AWAIT(&op->pt, op->task, n, ptio_nb_fill_buf(b, &d),
			      ptio_bufread_as_ready(b), PTIO_READ);
		if (n < 0)
			PTIO_RETURN(&op->pt, until_fail(op, n, false));
		if (n == 0)
			PTIO_RETURN(&op->pt, ptio__count(op->p.done));
		got = until_take(op, b, delim, line, max, d, (size_t)n);
		if (got == UNTIL_LINE)
			PTIO_RETURN(&op->pt, ptio__count(op->p.done));
	}
	/* Over-long: throw the rest of the line away, then say so once. */
	for (;;) {
		PTIO_NB_AWAIT(&op->pt, op->task, n, ptio_nb_fill_buf(b, &d),
			      ptio_bufread_as_ready(b), PTIO_READ);
		if (n < 0)
			PTIO_RETURN(&op->pt, until_fail(op, n, true));
		if (n == 0 || until_skip(b, delim, d, (size_t)n))
			break;
	}
	PTIO_END_WITH(&op->pt, PTIO_ETOOLONG);
}

/* ---- read_line ------------------------------------------------------------------ */

/*
 * Not a machine of its own: read_until is, and this only looks at its
 * final result (read_until resets the shared continuation when it
 * finishes, so the next call starts afresh).  The whole line is checked,
 * so a character split between a call that failed part-way and the one
 * that went on is checked whole.
 */
ptio_ssize ptio_read_line(struct ptio_op *op, struct ptio_bufread b,
			  struct ptio_readbuf *line, size_t max)
{
	ptio_ssize n = ptio_read_until(op, b, '\n', line, max);
	size_t start;

	if (n <= 0)
		return n;
	start = line->filled - (size_t)n;
	if (ptio_utf8_check(line->buf + start, (size_t)n, NULL) < 0) {
		line->filled = start;
		op->p.done = 0;
		return PTIO_EILSEQ;
	}
	return n;
}

/* ---- lines ------------------------------------------------------------------------ */

void ptio_lines_init(struct ptio_lines *ln, struct ptio_bufread src,
		     void *buf, size_t cap)
{
	ln->src = src;
	ptio_readbuf_init(&ln->line, buf, cap);
	ln->len = 0;
	ln->spent = false;
}

/* A line's length without its "\n" or "\r\n". */
static size_t trimmed_len(const uint8_t *s, size_t n)
{
	if (n > 0 && s[n - 1] == '\n') {
		n--;
		if (n > 0 && s[n - 1] == '\r')
			n--;
	}
	return n;
}

/*
 * Like read_line, a wrapper that looks at read_until's final result.  The
 * previous line stays readable until this is called again, so the buffer
 * is cleared at the start of the next call, not at the end of this one.
 * A stream error (a timeout, a reset) leaves the part of the line read so
 * far in the buffer, and the next call goes on with it, so nothing is
 * lost; the UTF-8 check is of the whole line, once it is complete.
 */
ptio_ssize ptio_lines_next(struct ptio_op *op, struct ptio_lines *ln)
{
	ptio_ssize n;

	if (ln->spent) {
		ptio_readbuf_clear(&ln->line);
		ln->len = 0;
		ln->spent = false;
	}
	n = ptio_read_until(op, ln->src, '\n', &ln->line, ln->line.capacity);
	if (n == PTIO_PENDING || (n < 0 && n != PTIO_ETOOLONG))
		return n;
	ln->spent = true;
	if (n == PTIO_ETOOLONG || ln->line.filled == 0)
		return n; /* ETOOLONG, or 0: the end */
	if (ptio_utf8_check(ln->line.buf, ln->line.filled, NULL) < 0)
		return PTIO_EILSEQ;
	ln->len = trimmed_len(ln->line.buf, ln->line.filled);
	return 1;
}
