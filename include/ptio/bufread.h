/*
 * ptio/bufread.h - the BufRead trait, its machines, BufReader and BufWriter.
 *
 * The seed leaves an async BufRead as future work; this is it.  A BufRead
 * owns a buffer and lends its filled part out: nb_fill_buf returns a view
 * of the buffered bytes (reading more only when there are none) and
 * consume(n) says the caller is done with the first N.  That is the
 * shape completion-based I/O wants, and it lets line reading and copying
 * work with no buffer of their own.
 *
 * Divided into:
 *   1. The trait and its non-blocking calls.
 *   2. The machines: fill_buf, read_until, read_line, and the lines loop.
 *   3. BufReader: a BufRead (and Read, and Ready) over any Read.
 *   4. BufWriter: a Write over any Write, gathering small writes.
 *
 * Line lengths are always bounded.  read_until and read_line take a
 * mandatory maximum: a longer line is reported once as PTIO_ETOOLONG, its
 * remainder is read and thrown away up to and including the delimiter,
 * and the next call returns the next line.  Memory never grows with what
 * a peer sends (tokio#186 and tokio#3555 are the bugs this avoids).
 *
 * Every machine here follows ptio/ops.h: caller-owned op first, the
 * non-blocking call tried before any wait, progress in op->p.done, the
 * task's deadline honoured, PTIO_EINTR from a stream retried.
 */
#ifndef PTIO_BUFREAD_H
#define PTIO_BUFREAD_H

#include "base.h"
#include "io.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- 1. The trait --------------------------------------------------------- */

/* trait BufRead: Ready. */
struct ptio_bufread_vt {
	struct ptio_ready_vt ready; /* first: a BufRead vtable is a Ready one */
	/* Required.  Point *DATA at the buffered bytes and return how many
	 * there are (> 0), reading from the underlying stream first only if
	 * none are buffered; 0 at end of stream; PTIO_WOULD_BLOCK (clearing
	 * the cached READABLE bit, as for nb_read_buf); or an error.  The
	 * view stays valid until the next consume or fill, and a second call
	 * without a consume in between must return the same bytes at once. */
	ptio_ssize (*nb_fill_buf)(void *self, const uint8_t **data);
	/* Required.  The first N of the bytes the last fill returned are used
	 * up.  N larger than that count is clamped to it. */
	void (*consume)(void *self, size_t n);
};

struct ptio_bufread {
	void *self;
	const struct ptio_bufread_vt *vt;
};

/* Upcast: every BufRead is a Ready. */
static inline struct ptio_ready ptio_bufread_as_ready(struct ptio_bufread b)
{
	struct ptio_ready o;

	o.self = b.self;
	o.vt = &b.vt->ready;
	return o;
}

/* The non-blocking calls.  ptio_nb_fill_buf checks the count it gets
 * (a negative count other than an error, or a NULL view, is PTIO_EIO). */
ptio_ssize ptio_nb_fill_buf(struct ptio_bufread b, const uint8_t **data);
void ptio_bufread_consume(struct ptio_bufread b, size_t n);

/* ---- 2. The machines -------------------------------------------------------- */

/* BufRead::fill_buf: wait until B has buffered bytes; set *DATA to them
 * and return their count, or 0 at end of stream.  *DATA is written in the
 * activation that finishes, so DATA must outlive suspensions (a field of
 * the caller's struct, not a local). */
ptio_ssize ptio_fill_buf(struct ptio_op *op, struct ptio_bufread b,
			 const uint8_t **data);

/*
 * BufRead::read_until: append bytes from B to LINE, through the first
 * DELIM (included), as long as the line (delimiter included) is at most
 * MAX bytes and fits in LINE's remaining room: the effective limit is the
 * smaller of the two.  Returns:
 *   the line's length (> 0), with it at the end of LINE's filled part;
 *   the length of a last line with no delimiter, at end of stream;
 *   0 at end of stream with nothing read;
 *   PTIO_ETOOLONG when the line is longer than the limit: LINE holds its
 *     first `limit` bytes (ptio_op_done(op) of them), the rest of the line
 *     through DELIM has been read and dropped, and the next call returns
 *     the next line.  The error comes once per over-long line, after its
 *     end was found, so a peer sending an endless line keeps the call
 *     going (with bounded memory): set a task deadline to stop it;
 *   another error (a timeout, a reset): ptio_op_done(op) bytes of the
 *     line are at the end of LINE, and the stream's position is right
 *     after them.  Calling again with the same op and LINE goes on with
 *     the same line: MAX counts the whole line, the result is the whole
 *     line's length, and a line that was being dropped as over-long goes
 *     on being dropped and ends in PTIO_ETOOLONG, even when the stream
 *     ends right after the error (its first `limit` bytes are never
 *     reported as a good last line, nor, with a limit of 0, as the end).
 *     ptio_op_done(op) is the count of the line's bytes in LINE either
 *     way: the op's marks stay hidden.  (The op remembers this until
 *     another machine runs on it or ptio_op_init; a LINE holding fewer
 *     bytes than the op's count starts a new line.)  A line longer than
 *     PTIO_SSIZE_MAX / 2 bytes is too long, whatever MAX says.
 * Bytes are consumed from B only as they are copied to LINE (or dropped as
 * part of an over-long line), never beyond DELIM.
 */
ptio_ssize ptio_read_until(struct ptio_op *op, struct ptio_bufread b,
			   uint8_t delim, struct ptio_readbuf *line,
			   size_t max);

/*
 * BufRead::read_line: read_until '\n', then check that the line is UTF-8
 * (as Rust's read_line does).  Returns as read_until does, plus
 * PTIO_EILSEQ when the line (complete, or the last one at end of stream)
 * is not UTF-8: then LINE is as it was before the line began and the
 * line has been consumed, so the next call returns the next line.  After
 * an error part-way (a timeout), calling again with the same op and LINE
 * completes the line; it is checked whole.  The "\n" (and a
 * "\r" before it) stays in LINE; see the lines loop for trimmed lines.
 * Use read_until for lines that are bytes, not text.
 */
ptio_ssize ptio_read_line(struct ptio_op *op, struct ptio_bufread b,
			  struct ptio_readbuf *line, size_t max);

/*
 * The lines loop: BufRead::lines with a bounded line.  Each line comes
 * without its "\n" or "\r\n", in caller memory:
 *
 *     ptio_lines_init(&c->lines, br, c->linebuf, sizeof(c->linebuf));
 *     for (;;) {
 *             PTIO_AWAIT(pt, r, ptio_lines_next(&c->op, &c->lines));
 *             if (r == 0 || (r < 0 && r != PTIO_ETOOLONG))
 *                     break;
 *             if (r > 0)
 *                     use(ptio_lines_data(&c->lines), ptio_lines_len(&c->lines));
 *     }
 */
struct ptio_lines {
	struct ptio_bufread src;
	struct ptio_readbuf line; /* the current line, in caller memory */
	size_t len;               /* its length without "\n" / "\r\n" */
	bool spent;               /* LINE must be cleared before the next */
};

/* Read lines from SRC into the CAP bytes at BUF; a line is at most CAP
 * bytes including its "\n". */
void ptio_lines_init(struct ptio_lines *ln, struct ptio_bufread src,
		     void *buf, size_t cap);

/* Machine: the next line.  Returns 1 with the line available from
 * ptio_lines_data/ptio_lines_len until the next call, 0 at end of stream,
 * PTIO_ETOOLONG or PTIO_EILSEQ for a line that was skipped (call again for
 * the next one), or another error (a timeout, a reset: the part of the
 * line read so far is kept, and calling again goes on with it). */
ptio_ssize ptio_lines_next(struct ptio_op *op, struct ptio_lines *ln);

static inline const uint8_t *ptio_lines_data(const struct ptio_lines *ln)
{
	return ln->line.buf;
}
static inline size_t ptio_lines_len(const struct ptio_lines *ln)
{
	return ln->len;
}

/* ---- 3. BufReader -------------------------------------------------------------- */

/*
 * A buffer in front of any Read.  It is a BufRead (fill from the inner
 * reader only when empty), a Read (served from the buffer; a read into a
 * readbuf at least as large as the buffer, with the buffer empty, goes
 * straight to the inner reader), and a Ready (ready for READ at once while
 * bytes are buffered; otherwise the inner reader's readiness).
 *
 * The buffer is caller memory and may start uninitialised: the BufReader
 * keeps track of how much of it has ever been initialised, so refilling it
 * never requires zeroing.
 */
struct ptio_bufreader {
	struct ptio_read inner;
	uint8_t *buf;
	size_t cap;
	size_t pos;   /* buffered bytes are buf[pos, end) */
	size_t end;
	size_t init;  /* buf[0, init) has been initialised */
};

/* Buffer INNER through the CAP (> 0) bytes at BUF. */
void ptio_bufreader_init(struct ptio_bufreader *br, struct ptio_read inner,
			 void *buf, size_t cap);

/* The trait objects. */
struct ptio_bufread ptio_bufreader_bufread(struct ptio_bufreader *br);
struct ptio_read ptio_bufreader_reader(struct ptio_bufreader *br);
struct ptio_ready ptio_bufreader_ready(struct ptio_bufreader *br);

/* The bytes buffered now (a view; nothing is read). */
static inline size_t ptio_bufreader_buffered(const struct ptio_bufreader *br)
{
	return br->end - br->pos;
}
static inline const uint8_t *ptio_bufreader_peek(const struct ptio_bufreader *br)
{
	return br->buf + br->pos;
}

/* Drop what is buffered (Rust's discard_buffer). */
static inline void ptio_bufreader_discard(struct ptio_bufreader *br)
{
	br->pos = br->end = 0;
}

/* ---- 4. BufWriter --------------------------------------------------------------- */

/*
 * A buffer in front of any Write.  Writes that fit go into the buffer;
 * when one does not, the buffer is written out first, and a write at
 * least as large as the whole buffer, with the buffer empty, goes straight
 * to the inner writer.  nb_flush writes the buffer out and then flushes
 * the inner writer.  Ready for WRITE at once while there is room, unless
 * the last call would block on the inner writer (a flush waiting for it
 * must wait for the inner writer's readiness, not the buffer's).
 *
 * Nothing is written out behind the caller's back: bytes stay buffered
 * until the buffer fills or the caller flushes (ptio_flush), which it must
 * do before it forgets the BufWriter.  A write the inner writer refuses
 * part-way keeps the rest buffered, in order; after an error the buffered
 * bytes stay too (ptio_bufwriter_buffered tells how many).
 */
struct ptio_bufwriter {
	struct ptio_write inner;
	uint8_t *buf;
	size_t cap;
	size_t head;  /* buffered bytes are buf[head, tail) */
	size_t tail;
	bool blocked; /* the last call would block on the inner writer */
};

/* Buffer writes to INNER in the CAP (> 0) bytes at BUF. */
void ptio_bufwriter_init(struct ptio_bufwriter *bw, struct ptio_write inner,
			 void *buf, size_t cap);

/* The trait objects. */
struct ptio_write ptio_bufwriter_writer(struct ptio_bufwriter *bw);
struct ptio_ready ptio_bufwriter_ready(struct ptio_bufwriter *bw);

/* Bytes written to the BufWriter but not yet to the inner writer. */
static inline size_t ptio_bufwriter_buffered(const struct ptio_bufwriter *bw)
{
	return bw->tail - bw->head;
}

#ifdef __cplusplus
}
#endif

#endif /* PTIO_BUFREAD_H */
