/*
 * test/check-bufread.c - BufRead: read_until, read_line and lines against
 * a reference splitter on every chunking of short inputs; BufReader and
 * BufWriter on their edges; the UTF-8 check against an independent
 * decoder.
 *
 * Most tests drive the machines synchronously over a fake BufRead that
 * serves an input in chunks (a composition of its length) and says
 * "would block" before some of them.  Its poll_ready always answers at
 * once, so a machine that would block simply tries again in the same
 * call and no loop is needed; the chaos suite covers real waits.
 *
 * Divided into: the chunked fake and the reference, read_until and
 * read_line exhaustively, lines, BufReader, BufWriter, UTF-8.
 */
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include "test/helpers.h"

/* QUICK_CHECK(cond, fmt, ...) - fail unless COND.  For the hot loops:
 * Check's ck_assert reports every check that passes to the parent
 * process, a system call each. */
#define QUICK_CHECK(cond, ...)                                            \
	do {                                                              \
		if (!(cond))                                              \
			ck_abort_msg(__VA_ARGS__);                        \
	} while (0)

/* ---- The chunked fake ------------------------------------------------------ */

/*
 * CUTS has bit i set when a chunk ends after byte i (i < n - 1), so the
 * 2^(n-1) values of CUTS are all the ways to chunk n bytes (past byte 32,
 * there are no more cuts).  Before each
 * chunk whose index has its bit set in BLOCKS, fill_buf first says
 * PTIO_WOULD_BLOCK once.
 */
struct chunked {
	const uint8_t *data;
	size_t n;
	unsigned cuts;
	unsigned blocks;
	size_t pos;        /* consumed so far */
	size_t end;        /* end of the current chunk */
	unsigned chunk;    /* index of the current chunk */
	bool blocked;      /* the current chunk's block was given */
	unsigned fail_at;  /* chunk index to fail once before (0: never) */
	bool failed;
};

static void chunked_init(struct chunked *ck, const uint8_t *data, size_t n,
			 unsigned cuts, unsigned blocks)
{
	memset(ck, 0, sizeof(*ck));
	ck->data = data;
	ck->n = n;
	ck->cuts = cuts;
	ck->blocks = blocks;
}

static ptio_ssize chunked_fill(void *self, const uint8_t **d)
{
	struct chunked *ck = self;

	/* The failure comes before the end of the stream is told too:
	 * FAIL_AT may be the index one past the last chunk. */
	if (ck->pos == ck->end && ck->fail_at != 0 &&
	    ck->chunk == ck->fail_at && !ck->failed) {
		/* As a wait ending on the task's deadline would. */
		ck->failed = true;
		return PTIO_ETIMEDOUT;
	}
	if (ck->pos == ck->n)
		return 0;
	if (ck->pos == ck->end) {
		if ((ck->blocks >> (ck->chunk % 32) & 1) && !ck->blocked) {
			ck->blocked = true;
			return PTIO_WOULD_BLOCK;
		}
		while (++ck->end < ck->n &&
		       (ck->end > 32 || !(ck->cuts >> (ck->end - 1) & 1)))
			;
		ck->chunk++;
		ck->blocked = false;
	}
	*d = ck->data + ck->pos;
	return (ptio_ssize)(ck->end - ck->pos);
}

static void chunked_consume(void *self, size_t n)
{
	struct chunked *ck = self;

	QUICK_CHECK(n <= ck->end - ck->pos, "consumed past the view");
	ck->pos += n;
}

static ptio_ssize always_readable(void *self, struct ptio_task *task,
				  unsigned interest)
{
	(void)self;
	(void)task;
	(void)interest;
	return PTIO_READABLE;
}

static const struct ptio_bufread_vt chunked_vt = {
	.ready = { .poll_ready = always_readable },
	.nb_fill_buf = chunked_fill,
	.consume = chunked_consume,
};

static struct ptio_bufread chunked_bufread(struct chunked *ck)
{
	struct ptio_bufread b = { ck, &chunked_vt };

	return b;
}

/* A task that is never run: the fake is always ready, so the machines
 * never suspend and only use the task to poll. */
static struct ptio_task idle_task;

/* Call a machine that must finish at once. */
#define SYNC(r, call)                                                     \
	do {                                                              \
		(r) = (call);                                             \
		if ((r) == PTIO_PENDING)                                  \
			ck_abort_msg("%s suspended", #call);              \
	} while (0)

/* ---- The reference splitter --------------------------------------------------- */

/* One expected result: a line (its bytes at data[at, at + len)), an
 * over-long line (ETOOLONG, its first `limit` bytes), or the end. */
struct ref_line {
	ptio_ssize result;
	size_t at;
	size_t len;
};

/* Split P[0, N) at DELIM with line limit LIMIT into OUT (room for N + 1
 * results); returns the count, the final 0 included. */
static size_t ref_split(const uint8_t *p, size_t n, uint8_t delim,
			size_t limit, struct ref_line *out)
{
	size_t at = 0, k = 0, len;

	while (at < n) {
		for (len = 0; at + len < n && p[at + len] != delim; len++)
			;
		if (at + len < n)
			len++; /* the delimiter */
		out[k].at = at;
		out[k].len = len <= limit ? len : limit;
		out[k].result = len <= limit ? (ptio_ssize)len : PTIO_ETOOLONG;
		k++;
		at += len;
	}
	out[k].result = 0;
	out[k].at = n;
	out[k].len = 0;
	return k + 1;
}

/* Run read_until (or read_line) over every chunk of P[0, N) as CUTS and
 * BLOCKS say, with MAX and a line buffer of ROOM, against the reference.
 * Returns false (after reporting) on a mismatch. */
static bool check_split(const uint8_t *p, size_t n, uint8_t delim, size_t max,
			size_t room, unsigned cuts, unsigned blocks,
			bool line)
{
	struct ref_line ref[16];
	struct chunked ck;
	struct ptio_op op;
	struct ptio_readbuf rb;
	uint8_t buf[16];
	size_t i, nref, limit = max < room ? max : room;
	ptio_ssize r;

	nref = ref_split(p, n, delim, limit, ref);
	chunked_init(&ck, p, n, cuts, blocks);
	ptio_op_init(&op, &idle_task);
	for (i = 0; i < nref; i++) {
		ptio_readbuf_init(&rb, buf, room);
		if (line)
			SYNC(r, ptio_read_line(&op, chunked_bufread(&ck), &rb,
					       max));
		else
			SYNC(r, ptio_read_until(&op, chunked_bufread(&ck),
						delim, &rb, max));
		if (r != ref[i].result || rb.filled != ref[i].len ||
		    memcmp(buf, p + ref[i].at, ref[i].len) != 0) {
			ck_abort_msg("n %zu max %zu room %zu cuts %#x blocks "
				     "%#x: result %zu is %s (%zu bytes), "
				     "expected %s (%zu bytes)",
				     n, max, room, cuts, blocks, i,
				     ptio_strerror(r), rb.filled,
				     ptio_strerror(ref[i].result), ref[i].len);
			return false;
		}
	}
	/* At the end it stays at the end, and nothing was consumed twice. */
	ptio_readbuf_init(&rb, buf, room);
	SYNC(r, ptio_read_until(&op, chunked_bufread(&ck), delim, &rb, max));
	QUICK_CHECK(r == 0 && ck.pos == n, "not at the end: %s, %zu of %zu",
		    ptio_strerror(r), ck.pos, n);
	return true;
}

/* Every chunking of P[0, N), every max from 1 to N + 1 (so max - 1, max
 * and max + 1 of every line length), blocks before varying chunks. */
static void check_all_chunkings(const uint8_t *p, size_t n, uint8_t delim,
				bool line)
{
	unsigned cuts, ncuts = n > 1 ? 1u << (n - 1) : 1;
	size_t max;

	for (cuts = 0; cuts < ncuts; cuts++)
		for (max = 1; max <= n + 1; max++)
			check_split(p, n, delim, max, 16, cuts,
				    cuts * 0x9E3779B9u >> (max % 8), line);
}

/* ---- read_until and read_line, exhaustively ------------------------------------------- */

/* Inputs of every length up to 12 with the delimiter at every position
 * (and with none), every chunking, every maximum. */
START_TEST(until_delim_every_position)
{
	uint8_t p[12];
	size_t n, at;

	for (n = 0; n <= 12; n++) {
		memset(p, 'x', n);
		check_all_chunkings(p, n, '\n', false);
		for (at = 0; at < n; at++) {
			memset(p, 'x', n);
			p[at] = '\n';
			check_all_chunkings(p, n, '\n', false);
		}
	}
}
END_TEST

/* Every arrangement of delimiters in inputs up to 8 bytes long. */
START_TEST(until_every_pattern)
{
	uint8_t p[8];
	unsigned pattern;
	size_t n, i;

	for (n = 1; n <= 8; n++) {
		for (pattern = 0; pattern < 1u << n; pattern++) {
			for (i = 0; i < n; i++)
				p[i] = (pattern >> i & 1) ? 0 : (uint8_t)('a' + i);
			check_all_chunkings(p, n, 0, false);
		}
	}
}
END_TEST

/* "\r\n" at every position of inputs up to 12 bytes, split across chunks
 * every way: the "\r" stays in the line, whatever the chunking. */
START_TEST(line_crlf_split)
{
	uint8_t p[12];
	size_t n, at;

	for (n = 2; n <= 12; n++) {
		for (at = 0; at + 1 < n; at++) {
			memset(p, 'y', n);
			p[at] = '\r';
			p[at + 1] = '\n';
			check_all_chunkings(p, n, '\n', true);
		}
	}
}
END_TEST

/* The line buffer's room is a limit too, even with a larger maximum. */
START_TEST(until_room_limits)
{
	static const uint8_t p[] = "abcdef\nab\nabcdefgh\n";
	size_t room;

	for (room = 1; room <= 12; room++)
		check_split(p, sizeof(p) - 1, '\n', 1000, room, 0x5A5A, 0x33,
			    false);
}
END_TEST

/* An over-long line is reported once, then the next line comes: the
 * tokio bug where the error repeated forever is not here. */
START_TEST(until_too_long_once)
{
	static const uint8_t p[] = "0123456789\nok\n";
	struct chunked ck;
	struct ptio_op op;
	struct ptio_readbuf rb;
	uint8_t buf[32];
	ptio_ssize r;

	chunked_init(&ck, p, sizeof(p) - 1, 0x15, 0);
	ptio_op_init(&op, &idle_task);
	ptio_readbuf_init(&rb, buf, sizeof(buf));
	SYNC(r, ptio_read_until(&op, chunked_bufread(&ck), '\n', &rb, 5));
	ck_assert_int_eq(r, PTIO_ETOOLONG);
	ck_assert_uint_eq(rb.filled, 5);
	ck_assert_uint_eq(ptio_op_done(&op), 5);
	ck_assert_int_eq(memcmp(buf, "01234", 5), 0);
	ptio_readbuf_clear(&rb);
	SYNC(r, ptio_read_until(&op, chunked_bufread(&ck), '\n', &rb, 5));
	ck_assert_int_eq(r, 3);
	ck_assert_int_eq(memcmp(buf, "ok\n", 3), 0);
	SYNC(r, ptio_read_until(&op, chunked_bufread(&ck), '\n', &rb, 5));
	ck_assert_int_eq(r, 0);
}
END_TEST

/* read_line refuses a line that is not UTF-8, leaves the buffer as it
 * was, and goes on with the next line; a character split across chunks
 * is fine. */
START_TEST(line_utf8)
{
	static const uint8_t p[] = "caf\xC3\xA9\n\xFF\xFE\nok\xE2\x82\xAC\n\xE2\x82";
	struct chunked ck;
	struct ptio_op op;
	struct ptio_readbuf rb;
	uint8_t buf[64];
	ptio_ssize r;
	unsigned cuts;

	for (cuts = 0; cuts < 1u << 12; cuts += 7) {
		chunked_init(&ck, p, sizeof(p) - 1, cuts, cuts >> 3);
		ptio_op_init(&op, &idle_task);
		ptio_readbuf_init(&rb, buf, sizeof(buf));
		(void)ptio_readbuf_append(&rb, "kept", 4);
		SYNC(r, ptio_read_line(&op, chunked_bufread(&ck), &rb, 64));
		ck_assert_int_eq(r, 6);
		ck_assert_int_eq(memcmp(buf, "keptcaf\xC3\xA9\n", 10), 0);
		SYNC(r, ptio_read_line(&op, chunked_bufread(&ck), &rb, 64));
		ck_assert_int_eq(r, PTIO_EILSEQ);
		ck_assert_uint_eq(rb.filled, 10);
		SYNC(r, ptio_read_line(&op, chunked_bufread(&ck), &rb, 64));
		ck_assert_int_eq(r, 6);
		/* The last line is cut inside a character: not text. */
		SYNC(r, ptio_read_line(&op, chunked_bufread(&ck), &rb, 64));
		ck_assert_int_eq(r, PTIO_EILSEQ);
		ck_assert_uint_eq(rb.filled, 16);
		SYNC(r, ptio_read_line(&op, chunked_bufread(&ck), &rb, 64));
		ck_assert_int_eq(r, 0);
	}
}
END_TEST

/* ---- lines -------------------------------------------------------------------------------- */

START_TEST(lines_trim_and_skip)
{
	static const uint8_t p[] =
		"one\r\n\ntwo\rx\n0123456789abcdef\nlast\r";
	struct chunked ck;
	struct ptio_op op;
	struct ptio_lines ln;
	uint8_t buf[8];
	ptio_ssize r;
	unsigned cuts;

	for (cuts = 0; cuts < 1u << 16; cuts += 97) {
		chunked_init(&ck, p, sizeof(p) - 1, cuts, cuts * 3);
		ptio_op_init(&op, &idle_task);
		ptio_lines_init(&ln, chunked_bufread(&ck), buf, sizeof(buf));
		SYNC(r, ptio_lines_next(&op, &ln));
		ck_assert_int_eq(r, 1);
		ck_assert_uint_eq(ptio_lines_len(&ln), 3);
		ck_assert_int_eq(memcmp(ptio_lines_data(&ln), "one", 3), 0);
		SYNC(r, ptio_lines_next(&op, &ln));
		ck_assert_int_eq(r, 1);
		ck_assert_uint_eq(ptio_lines_len(&ln), 0);
		SYNC(r, ptio_lines_next(&op, &ln));
		ck_assert_int_eq(r, 1);
		ck_assert_uint_eq(ptio_lines_len(&ln), 5); /* "two\rx" */
		SYNC(r, ptio_lines_next(&op, &ln));
		ck_assert_int_eq(r, PTIO_ETOOLONG);
		SYNC(r, ptio_lines_next(&op, &ln));
		ck_assert_int_eq(r, 1);
		/* A lone "\r" at the end is not a line end. */
		ck_assert_uint_eq(ptio_lines_len(&ln), 5);
		ck_assert_int_eq(memcmp(ptio_lines_data(&ln), "last\r", 5), 0);
		SYNC(r, ptio_lines_next(&op, &ln));
		ck_assert_int_eq(r, 0);
	}
}
END_TEST

/* An error part-way through a line (a timeout) loses nothing: calling
 * again completes the line, and a character split by the error is
 * checked whole. */
START_TEST(line_resumes_after_error)
{
	/* "€" is E2 82 AC: the error comes between E2 and 82. */
	static const uint8_t p[] = "pay 5\xE2\x82\xAC now\nnext\n";
	struct chunked ck;
	struct ptio_op op;
	struct ptio_lines ln;
	struct ptio_readbuf rb;
	uint8_t buf[32];
	ptio_ssize r;

	/* Chunks: "pay 5\xE2" | "\x82\xAC now\n" | "next\n". */
	chunked_init(&ck, p, sizeof(p) - 1, 1u << 5 | 1u << 15, 0);
	ck.fail_at = 1;
	ptio_op_init(&op, &idle_task);
	ptio_lines_init(&ln, chunked_bufread(&ck), buf, sizeof(buf));
	SYNC(r, ptio_lines_next(&op, &ln));
	ck_assert_int_eq(r, PTIO_ETIMEDOUT);
	SYNC(r, ptio_lines_next(&op, &ln));
	ck_assert_int_eq(r, 1);
	ck_assert_uint_eq(ptio_lines_len(&ln), 12);
	ck_assert_int_eq(memcmp(ptio_lines_data(&ln), "pay 5\xE2\x82\xAC now",
				12), 0);
	SYNC(r, ptio_lines_next(&op, &ln));
	ck_assert_int_eq(r, 1);
	ck_assert_uint_eq(ptio_lines_len(&ln), 4);

	/* The same with read_line called again on the same buffer. */
	chunked_init(&ck, p, sizeof(p) - 1, 1u << 5 | 1u << 15, 0);
	ck.fail_at = 1;
	ptio_readbuf_init(&rb, buf, sizeof(buf));
	SYNC(r, ptio_read_line(&op, chunked_bufread(&ck), &rb, 32));
	ck_assert_int_eq(r, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(rb.filled, 6);
	SYNC(r, ptio_read_line(&op, chunked_bufread(&ck), &rb, 32));
	ck_assert_int_eq(r, 13); /* the whole line's length */
	ck_assert_uint_eq(rb.filled, 13);
}
END_TEST

/* The limit counts the whole line across an error: a 23-byte line with a
 * limit of 16, interrupted after 6 bytes, is still too long, and the
 * line after it comes whole.  With bytes before the line in the buffer,
 * only the line counts. */
START_TEST(until_limit_spans_error)
{
	static const uint8_t p[] = "0123456789abcdefghijkl\nnext\n";
	struct chunked ck;
	struct ptio_op op;
	struct ptio_readbuf rb;
	uint8_t buf[64];
	ptio_ssize r;

	/* Chunks: "012345" | "6789abcdefghijkl\n" | "next\n"; the second
	 * fill fails once. */
	chunked_init(&ck, p, sizeof(p) - 1, 1u << 5 | 1u << 22, 0);
	ck.fail_at = 1;
	ptio_op_init(&op, &idle_task);
	ptio_readbuf_init(&rb, buf, sizeof(buf));
	(void)ptio_readbuf_append(&rb, "kept", 4);
	SYNC(r, ptio_read_until(&op, chunked_bufread(&ck), '\n', &rb, 16));
	ck_assert_int_eq(r, PTIO_ETIMEDOUT);
	ck_assert_uint_eq(ptio_op_done(&op), 6);
	SYNC(r, ptio_read_until(&op, chunked_bufread(&ck), '\n', &rb, 16));
	ck_assert_int_eq(r, PTIO_ETOOLONG);
	ck_assert_uint_eq(rb.filled, 4 + 16);
	ck_assert_uint_eq(ptio_op_done(&op), 16);
	ck_assert_int_eq(memcmp(buf, "kept0123456789abcdef", 20), 0);
	rb.filled = 4;
	SYNC(r, ptio_read_until(&op, chunked_bufread(&ck), '\n', &rb, 16));
	ck_assert_int_eq(r, 5);
	ck_assert_int_eq(memcmp(buf, "keptnext\n", 9), 0);
}
END_TEST

/* An error while the rest of an over-long line is dropped: the next call
 * drops on and reports the line once, never its tail as a line. */
START_TEST(until_drop_resumes_after_error)
{
	static const uint8_t p[] = "0123456789\nok\n";
	struct chunked ck;
	struct ptio_op op;
	struct ptio_readbuf rb;
	uint8_t buf[32];
	ptio_ssize r;

	/* Chunks: "01234567" | "89\nok\n"; the second fill fails once,
	 * after the first five bytes filled the line. */
	chunked_init(&ck, p, sizeof(p) - 1, 1u << 7, 0);
	ck.fail_at = 1;
	ptio_op_init(&op, &idle_task);
	ptio_readbuf_init(&rb, buf, sizeof(buf));
	SYNC(r, ptio_read_until(&op, chunked_bufread(&ck), '\n', &rb, 5));
	ck_assert_int_eq(r, PTIO_ETIMEDOUT);
	SYNC(r, ptio_read_until(&op, chunked_bufread(&ck), '\n', &rb, 5));
	ck_assert_int_eq(r, PTIO_ETOOLONG);
	ck_assert_int_eq(memcmp(buf, "01234", 5), 0);
	ptio_readbuf_clear(&rb);
	SYNC(r, ptio_read_until(&op, chunked_bufread(&ck), '\n', &rb, 5));
	ck_assert_int_eq(r, 3);
	ck_assert_int_eq(memcmp(buf, "ok\n", 3), 0);
}
END_TEST

/*
 * The stream ends right after an error that came while the tail of an
 * over-long line was being dropped (found by test/fuzz/fuzz-lines.c).
 * Calling again must report the line as too long, not its first `limit`
 * bytes as a good last line, nor (with a limit of 0) the end.  Over
 * "abcdef" then ETIMEDOUT then the end, with the limits 3 and 0, by
 * read_until (MODE 0), read_line (1) and the lines loop (2).
 */
static void check_drop_error_eof(int mode, size_t limit)
{
	static const uint8_t p[] = "abcdef";
	struct chunked ck;
	struct ptio_op op;
	struct ptio_lines ln;
	struct ptio_readbuf rb;
	uint8_t buf[8];
	ptio_ssize r;
	int i;

	chunked_init(&ck, p, sizeof(p) - 1, 0, 0);
	ck.fail_at = 1; /* after the one chunk, before the end */
	ptio_op_init(&op, &idle_task);
	ptio_readbuf_init(&rb, buf, limit);
	ptio_lines_init(&ln, chunked_bufread(&ck), buf, limit);
	for (i = 0; i < 3; i++) {
		if (mode == 0)
			SYNC(r, ptio_read_until(&op, chunked_bufread(&ck),
						'\n', &rb, limit));
		else if (mode == 1)
			SYNC(r, ptio_read_line(&op, chunked_bufread(&ck),
					       &rb, limit));
		else
			SYNC(r, ptio_lines_next(&op, &ln));
		if (i == 0) {
			ck_assert_int_eq(r, PTIO_ETIMEDOUT);
			/* The bits that say "dropping" stay hidden. */
			ck_assert_uint_eq(ptio_op_done(&op), limit);
		} else if (i == 1) {
			ck_assert_msg(r == PTIO_ETOOLONG,
				      "mode %d limit %zu: %ld (%s), not "
				      "ETOOLONG", mode, limit, (long)r,
				      ptio_strerror(r));
			ck_assert_uint_eq(ptio_op_done(&op), limit);
			if (mode != 2)
				ck_assert_uint_eq(rb.filled, limit);
			ck_assert_int_eq(memcmp(buf, "abc", limit), 0);
		} else {
			ck_assert_int_eq(r, 0);
		}
	}
	ck_assert_uint_eq(ck.pos, sizeof(p) - 1);
}

START_TEST(until_drop_error_eof)
{
	check_drop_error_eof(0, 3);
	check_drop_error_eof(0, 0);
}
END_TEST

START_TEST(line_drop_error_eof)
{
	check_drop_error_eof(1, 3);
	check_drop_error_eof(1, 0);
}
END_TEST

START_TEST(lines_drop_error_eof)
{
	check_drop_error_eof(2, 3);
	check_drop_error_eof(2, 0);
}
END_TEST

/* The fix must not turn a last line exactly at the limit, cut by an
 * error before the end, into an over-long one: "abc" then ETIMEDOUT
 * then the end, limit 3, is the good last line "abc". */
START_TEST(until_error_eof_at_limit)
{
	static const uint8_t p[] = "abc";
	struct chunked ck;
	struct ptio_op op;
	struct ptio_readbuf rb;
	uint8_t buf[8];
	ptio_ssize r;

	chunked_init(&ck, p, sizeof(p) - 1, 0, 0);
	ck.fail_at = 1;
	ptio_op_init(&op, &idle_task);
	ptio_readbuf_init(&rb, buf, sizeof(buf));
	SYNC(r, ptio_read_until(&op, chunked_bufread(&ck), '\n', &rb, 3));
	ck_assert_int_eq(r, PTIO_ETIMEDOUT);
	SYNC(r, ptio_read_until(&op, chunked_bufread(&ck), '\n', &rb, 3));
	ck_assert_int_eq(r, 3);
	ck_assert_int_eq(memcmp(buf, "abc", 3), 0);
	SYNC(r, ptio_read_until(&op, chunked_bufread(&ck), '\n', &rb, 3));
	ck_assert_int_eq(r, 0);
}
END_TEST

/* ---- BufReader ------------------------------------------------------------------------------ */

/* A Read over memory that records every call's room, for the BufReader
 * tests; always ready; NB_MAX caps each read. */
struct mem_read {
	const uint8_t *data;
	size_t n, pos, nb_max;
	size_t asks[64];
	unsigned nasks;
	bool vectored;
};

static ptio_ssize mem_read_buf(void *self, struct ptio_readbuf *rb)
{
	struct mem_read *m = self;
	size_t k = ptio_readbuf_remaining(rb);

	if (m->nasks < 64)
		m->asks[m->nasks++] = k;
	if (k > m->n - m->pos)
		k = m->n - m->pos;
	if (k > m->nb_max)
		k = m->nb_max;
	(void)ptio_readbuf_append(rb, m->data + m->pos, k);
	m->pos += k;
	return (ptio_ssize)k;
}

static const struct ptio_read_vt mem_read_vt = {
	.ready = { .poll_ready = always_readable },
	.nb_read_buf = mem_read_buf,
};

static struct ptio_read mem_reader(struct mem_read *m, const void *data,
				   size_t n, size_t nb_max)
{
	struct ptio_read r = { m, &mem_read_vt };

	memset(m, 0, sizeof(*m));
	m->data = data;
	m->n = n;
	m->nb_max = nb_max;
	return r;
}

START_TEST(bufreader_small_reads_are_buffered)
{
	static const char text[] = "abcdefghijklmnopqrstuvwxyz";
	struct mem_read m;
	struct ptio_bufreader br;
	uint8_t mem[8], out[4];

	ptio_bufreader_init(&br, mem_reader(&m, text, 26, SIZE_MAX), mem,
			    sizeof(mem));
	ck_assert_int_eq(ptio_nb_read(ptio_bufreader_reader(&br), out, 3), 3);
	ck_assert_int_eq(memcmp(out, "abc", 3), 0);
	ck_assert_uint_eq(m.nasks, 1);
	ck_assert_uint_eq(m.asks[0], 8);  /* filled the whole buffer */
	ck_assert_uint_eq(ptio_bufreader_buffered(&br), 5);
	ck_assert_int_eq(ptio_nb_read(ptio_bufreader_reader(&br), out, 4), 4);
	ck_assert_int_eq(ptio_nb_read(ptio_bufreader_reader(&br), out, 4), 1);
	ck_assert_int_eq(memcmp(out, "h", 1), 0);
	ck_assert_uint_eq(m.nasks, 1);   /* all from the buffer */
}
END_TEST

START_TEST(bufreader_large_read_bypasses)
{
	static const char text[] = "abcdefghijklmnopqrstuvwxyz";
	struct mem_read m;
	struct ptio_bufreader br;
	uint8_t mem[8], out[26];

	ptio_bufreader_init(&br, mem_reader(&m, text, 26, SIZE_MAX), mem,
			    sizeof(mem));
	/* Empty buffer, read of at least its size: straight through. */
	ck_assert_int_eq(ptio_nb_read(ptio_bufreader_reader(&br), out, 10), 10);
	ck_assert_uint_eq(m.asks[0], 10);
	ck_assert_uint_eq(ptio_bufreader_buffered(&br), 0);
	/* A small read fills the buffer; the next large one is served from
	 * it first (order is kept), then bypasses once it is empty. */
	ck_assert_int_eq(ptio_nb_read(ptio_bufreader_reader(&br), out, 2), 2);
	ck_assert_int_eq(memcmp(out, "kl", 2), 0);
	ck_assert_int_eq(ptio_nb_read(ptio_bufreader_reader(&br), out, 20), 6);
	ck_assert_int_eq(memcmp(out, "mnopqr", 6), 0);
	ck_assert_int_eq(ptio_nb_read(ptio_bufreader_reader(&br), out, 20), 8);
	ck_assert_uint_eq(m.asks[2], 20);
	ck_assert_int_eq(ptio_nb_read(ptio_bufreader_reader(&br), out, 20), 0);
}
END_TEST

/* The buffer may start uninitialised and is never zeroed: refills tell
 * the inner reader how much of it is initialised already. */
struct init_read {
	size_t seen_init[8];
	unsigned n;
};

static ptio_ssize init_read_buf(void *self, struct ptio_readbuf *rb)
{
	struct init_read *ir = self;

	ir->seen_init[ir->n++] = rb->initialized;
	/* Initialise more than it fills, as readv into a zeroed tail would. */
	ptio_readbuf_initialize_unfilled(rb);
	return ptio_readbuf_advance(rb, 2);
}

static const struct ptio_read_vt init_read_vt = {
	.ready = { .poll_ready = always_readable },
	.nb_read_buf = init_read_buf,
};

START_TEST(bufreader_tracks_initialised)
{
	struct init_read ir = { { 0 }, 0 };
	struct ptio_read inner = { &ir, &init_read_vt };
	struct ptio_bufreader br;
	uint8_t mem[16], out[2];

	ptio_bufreader_init(&br, inner, mem, sizeof(mem));
	ck_assert_int_eq(ptio_nb_read(ptio_bufreader_reader(&br), out, 2), 2);
	ck_assert_int_eq(ptio_nb_read(ptio_bufreader_reader(&br), out, 2), 2);
	ck_assert_uint_eq(ir.n, 2);
	ck_assert_uint_eq(ir.seen_init[0], 0);
	ck_assert_uint_eq(ir.seen_init[1], 16);
}
END_TEST

/* Ready answers READ at once while bytes are buffered, and otherwise
 * asks the inner reader. */
struct count_ready {
	unsigned polls;
};

static ptio_ssize count_poll(void *self, struct ptio_task *task,
			     unsigned interest)
{
	struct count_ready *cr = self;

	(void)task;
	(void)interest;
	cr->polls++;
	return PTIO_WOULD_BLOCK;
}

static ptio_ssize two_bytes(void *self, struct ptio_readbuf *rb)
{
	(void)self;
	return (ptio_ssize)ptio_readbuf_append(rb, "xy", 2);
}

static const struct ptio_read_vt count_read_vt = {
	.ready = { .poll_ready = count_poll },
	.nb_read_buf = two_bytes,
};

START_TEST(bufreader_ready)
{
	struct count_ready cr = { 0 };
	struct ptio_read inner = { &cr, &count_read_vt };
	struct ptio_bufreader br;
	uint8_t mem[8], out[1];

	ptio_bufreader_init(&br, inner, mem, sizeof(mem));
	ck_assert_int_eq(ptio_poll_ready(ptio_bufreader_ready(&br), NULL,
					 PTIO_READ), PTIO_WOULD_BLOCK);
	ck_assert_uint_eq(cr.polls, 1);
	ck_assert_int_eq(ptio_nb_read(ptio_bufreader_reader(&br), out, 1), 1);
	ck_assert_int_eq(ptio_poll_ready(ptio_bufreader_ready(&br), NULL,
					 PTIO_READ), PTIO_READABLE);
	ck_assert_uint_eq(cr.polls, 1);
	ck_assert_int_eq(ptio_nb_read(ptio_bufreader_reader(&br), out, 1), 1);
	ck_assert_int_eq(ptio_poll_ready(ptio_bufreader_ready(&br), NULL,
					 PTIO_READ), PTIO_WOULD_BLOCK);
	ck_assert_uint_eq(cr.polls, 2);
	/* A writer's interest is never answered from the buffer. */
	ck_assert_int_eq(ptio_poll_ready(ptio_bufreader_ready(&br), NULL,
					 PTIO_WRITE), PTIO_WOULD_BLOCK);
}
END_TEST

/* ---- BufWriter --------------------------------------------------------------------------- */

/* A Write into memory that takes at most NB_MAX bytes per call and
 * blocks when BLOCK is set; records the size of every call. */
struct mem_write {
	uint8_t out[256];
	size_t len, nb_max;
	bool block;
	size_t calls[64];
	unsigned ncalls, flushes;
};

static ptio_ssize mem_write(void *self, const void *buf, size_t len)
{
	struct mem_write *m = self;

	if (m->block)
		return PTIO_WOULD_BLOCK;
	if (len > m->nb_max)
		len = m->nb_max;
	if (m->ncalls < 64)
		m->calls[m->ncalls++] = len;
	memcpy(m->out + m->len, buf, len);
	m->len += len;
	return (ptio_ssize)len;
}

static ptio_ssize mem_flush(void *self)
{
	struct mem_write *m = self;

	if (m->block)
		return PTIO_WOULD_BLOCK;
	m->flushes++;
	return 0;
}

static ptio_ssize mem_write_poll(void *self, struct ptio_task *task,
				 unsigned interest)
{
	struct mem_write *m = self;

	(void)task;
	(void)interest;
	return m->block ? PTIO_WOULD_BLOCK : PTIO_WRITABLE;
}

static const struct ptio_write_vt mem_write_vt = {
	.ready = { .poll_ready = mem_write_poll },
	.nb_write = mem_write,
	.nb_flush = mem_flush,
};

static struct ptio_write mem_writer(struct mem_write *m, size_t nb_max)
{
	struct ptio_write w = { m, &mem_write_vt };

	memset(m, 0, sizeof(*m));
	m->nb_max = nb_max;
	return w;
}

START_TEST(bufwriter_gathers_small_writes)
{
	struct mem_write m;
	struct ptio_bufwriter bw;
	uint8_t mem[8];
	struct ptio_write w;

	ptio_bufwriter_init(&bw, mem_writer(&m, SIZE_MAX), mem, sizeof(mem));
	w = ptio_bufwriter_writer(&bw);
	ck_assert_int_eq(ptio_nb_write(w, "abc", 3), 3);
	ck_assert_int_eq(ptio_nb_write(w, "def", 3), 3);
	ck_assert_uint_eq(m.ncalls, 0);  /* nothing behind the caller's back */
	ck_assert_int_eq(ptio_nb_write(w, "ghi", 3), 3);
	/* That one did not fit: the buffer went out first, in one call. */
	ck_assert_uint_eq(m.ncalls, 1);
	ck_assert_uint_eq(m.calls[0], 6);
	ck_assert_uint_eq(ptio_bufwriter_buffered(&bw), 3);
	ck_assert_int_eq(ptio_nb_flush(w), 0);
	ck_assert_uint_eq(m.flushes, 1);
	ck_assert_uint_eq(m.len, 9);
	ck_assert_int_eq(memcmp(m.out, "abcdefghi", 9), 0);
}
END_TEST

START_TEST(bufwriter_large_write_goes_through)
{
	struct mem_write m;
	struct ptio_bufwriter bw;
	uint8_t mem[8];
	struct ptio_write w;

	ptio_bufwriter_init(&bw, mem_writer(&m, SIZE_MAX), mem, sizeof(mem));
	w = ptio_bufwriter_writer(&bw);
	ck_assert_int_eq(ptio_nb_write(w, "0123456789", 10), 10);
	ck_assert_uint_eq(m.ncalls, 1);
	ck_assert_uint_eq(m.calls[0], 10);
	ck_assert_int_eq(ptio_nb_write(w, "ab", 2), 2);
	/* Buffered bytes go first, then the large write, in order. */
	ck_assert_int_eq(ptio_nb_write(w, "ABCDEFGHIJ", 10), 10);
	ck_assert_uint_eq(m.ncalls, 3);
	ck_assert_int_eq(memcmp(m.out, "0123456789abABCDEFGHIJ", 22), 0);
}
END_TEST

START_TEST(bufwriter_blocked_inner)
{
	struct mem_write m;
	struct ptio_bufwriter bw;
	uint8_t mem[8];
	struct ptio_write w;
	struct ptio_ready rd;

	ptio_bufwriter_init(&bw, mem_writer(&m, 3), mem, sizeof(mem));
	w = ptio_bufwriter_writer(&bw);
	rd = ptio_bufwriter_ready(&bw);
	m.block = true;
	ck_assert_int_eq(ptio_poll_ready(rd, NULL, PTIO_WRITE), PTIO_WRITABLE);
	ck_assert_int_eq(ptio_nb_write(w, "0123456789", 10), 8); /* buffered */
	ck_assert_int_eq(ptio_nb_write(w, "89", 2), PTIO_WOULD_BLOCK);
	/* Full and blocked: readiness is the inner writer's. */
	ck_assert_int_eq(ptio_poll_ready(rd, NULL, PTIO_WRITE),
			 PTIO_WOULD_BLOCK);
	m.block = false;
	ck_assert_int_eq(ptio_poll_ready(rd, NULL, PTIO_WRITE), PTIO_WRITABLE);
	/* Takes 3 at a time: writes out until there is room at the tail. */
	ck_assert_int_eq(ptio_nb_write(w, "89", 2), 2);
	ck_assert_int_eq(ptio_nb_flush(w), 0);
	ck_assert_uint_eq(m.len, 10);
	ck_assert_int_eq(memcmp(m.out, "0123456789", 10), 0);
	/* A flush that blocks makes readiness the inner writer's too, even
	 * with room in the buffer, so a flush never busy-loops. */
	ck_assert_int_eq(ptio_nb_write(w, "x", 1), 1);
	m.block = true;
	ck_assert_int_eq(ptio_nb_flush(w), PTIO_WOULD_BLOCK);
	ck_assert_int_eq(ptio_poll_ready(rd, NULL, PTIO_WRITE),
			 PTIO_WOULD_BLOCK);
	m.block = false;
	ck_assert_int_eq(ptio_nb_flush(w), 0);
	ck_assert_int_eq(ptio_poll_ready(rd, NULL, PTIO_WRITE), PTIO_WRITABLE);
}
END_TEST

START_TEST(bufwriter_vectored)
{
	struct mem_write m;
	struct ptio_bufwriter bw;
	uint8_t mem[8];
	struct ptio_write w;
	struct ptio_iovec iov[3];

	ptio_bufwriter_init(&bw, mem_writer(&m, SIZE_MAX), mem, sizeof(mem));
	w = ptio_bufwriter_writer(&bw);
	ck_assert(ptio_is_write_vectored(w));
	iov[0] = ptio_iovec_make("ab", 2);
	iov[1] = ptio_iovec_make("", 0);
	iov[2] = ptio_iovec_make("cde", 3);
	ck_assert_int_eq(ptio_nb_write_vectored(w, iov, 3), 5);
	ck_assert_uint_eq(m.ncalls, 0);
	ck_assert_int_eq(ptio_nb_write_vectored(w, iov, 3), 5);
	ck_assert_uint_eq(m.ncalls, 1);
	ck_assert_int_eq(ptio_nb_flush(w), 0);
	ck_assert_int_eq(memcmp(m.out, "abcdeabcde", 10), 0);
}
END_TEST

/* ---- UTF-8 ------------------------------------------------------------------------------------ */

/* An independent decoder: 1 valid, 0 invalid, -1 a valid start cut
 * short at the end. */
static int ref_utf8(const uint8_t *s, size_t n)
{
	size_t i = 0, k, len;
	uint32_t cp, min;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xE0) == 0xC0)
			len = 2, cp = s[i] & 0x1F, min = 0x80;
		else if ((s[i] & 0xF0) == 0xE0)
			len = 3, cp = s[i] & 0x0F, min = 0x800;
		else if ((s[i] & 0xF8) == 0xF0)
			len = 4, cp = s[i] & 0x07, min = 0x10000;
		else
			return 0;
		for (k = 1; k < len; k++) {
			if (i + k == n) {
				uint32_t lo = cp, hi = cp;
				size_t m;

				for (m = k; m < len; m++) {
					lo <<= 6;
					hi = (hi << 6) | 0x3F;
				}
				if (hi < min || lo > 0x10FFFF ||
				    (lo >= 0xD800 && hi <= 0xDFFF))
					return 0;
				return -1;
			}
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += len;
	}
	return 1;
}

static void utf8_compare(const uint8_t *s, size_t n)
{
	int ref = ref_utf8(s, n);
	size_t tail = 99;
	ptio_ssize whole = ptio_utf8_check(s, n, NULL);
	ptio_ssize part = ptio_utf8_check(s, n, &tail);

	if ((whole == 0) != (ref == 1) || (part == 0) != (ref != 0) ||
	    (ref == 1 && tail != 0) || (ref == -1 && (tail == 0 || tail > 3)))
		ck_abort_msg("utf8 %02x %02x %02x %02x (n %zu): ref %d, whole "
			     "%zd, part %zd tail %zu", n > 0 ? s[0] : 0,
			     n > 1 ? s[1] : 0, n > 2 ? s[2] : 0,
			     n > 3 ? s[3] : 0, n, ref, whole, part, tail);
}

/* Every string of one and two bytes, every three-byte string whose bytes
 * come from the boundary values, and four-byte ones likewise. */
START_TEST(utf8_against_reference)
{
	static const uint8_t edge[] = { 0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90,
					0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
					0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4,
					0xF5, 0xFF };
	uint8_t s[4];
	unsigned a, b, c, d;

	for (a = 0; a < 256; a++) {
		s[0] = (uint8_t)a;
		utf8_compare(s, 1);
		for (b = 0; b < 256; b++) {
			s[1] = (uint8_t)b;
			utf8_compare(s, 2);
		}
	}
	for (a = 0xC0; a < 256; a++)
		for (b = 0; b < sizeof(edge); b++)
			for (c = 0; c < sizeof(edge); c++) {
				s[0] = (uint8_t)a;
				s[1] = edge[b];
				s[2] = edge[c];
				utf8_compare(s, 3);
				for (d = 0; d < sizeof(edge); d++) {
					s[3] = edge[d];
					utf8_compare(s, 4);
				}
			}
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("bufread");
	TCase *tc = tcase_create("split");
	TCase *tb = tcase_create("buffers");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, until_delim_every_position);
	tcase_add_test(tc, until_every_pattern);
	tcase_add_test(tc, line_crlf_split);
	tcase_add_test(tc, until_room_limits);
	tcase_add_test(tc, until_too_long_once);
	tcase_add_test(tc, line_utf8);
	tcase_add_test(tc, lines_trim_and_skip);
	tcase_add_test(tc, line_resumes_after_error);
	tcase_add_test(tc, until_limit_spans_error);
	tcase_add_test(tc, until_drop_resumes_after_error);
	tcase_add_test(tc, until_drop_error_eof);
	tcase_add_test(tc, line_drop_error_eof);
	tcase_add_test(tc, lines_drop_error_eof);
	tcase_add_test(tc, until_error_eof_at_limit);
	suite_add_tcase(s, tc);
	tcase_add_test(tb, bufreader_small_reads_are_buffered);
	tcase_add_test(tb, bufreader_large_read_bypasses);
	tcase_add_test(tb, bufreader_tracks_initialised);
	tcase_add_test(tb, bufreader_ready);
	tcase_add_test(tb, bufwriter_gathers_small_writes);
	tcase_add_test(tb, bufwriter_large_write_goes_through);
	tcase_add_test(tb, bufwriter_blocked_inner);
	tcase_add_test(tb, bufwriter_vectored);
	tcase_add_test(tb, utf8_against_reference);
	suite_add_tcase(s, tb);
	return s;
}
