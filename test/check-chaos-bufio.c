/*
 * test/check-chaos-bufio.c - the BufRead machines (fill_buf, read_until,
 * read_line, lines) and the copies (copy, copy_buf) against the chaos
 * stream, for 10,000 seeds each.
 *
 * The line machines run over a BufReader of random size on a chaos
 * reader, and every result is compared with a reference splitter run on
 * the same payload: each line, each over-long line (PTIO_ETOOLONG, once,
 * with its first `limit` bytes kept) and each line that is not UTF-8
 * (PTIO_EILSEQ, for read_line and lines).  The copies run from one chaos
 * stream to another; whatever happens, every byte taken from the reader
 * is either written, in order, or still held (in the spill, or in the
 * BufReader), never lost.
 *
 * Divided into: shared set-up and the reference splitter, fill_buf, the
 * line machines, copy, copy_buf.
 */
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include "test/helpers.h"
#include "test/fake/chaos-stream.h"

/* ---- Shared set-up ---------------------------------------------------------- */

static size_t maybe_cut(struct chaos_case *c)
{
	if (chaos_chance(&c->rng, 100)) {
		c->s.rd_end_at = chaos_below(&c->rng, (uint32_t)c->len + 1);
		if (chaos_chance(&c->rng, 500))
			c->s.rd_end_err = PTIO_ECONNRESET;
	}
	return c->len < c->s.rd_end_at ? c->len : c->s.rd_end_at;
}

static bool timed_out(const struct chaos_case *c)
{
	return c->deadline && c->result == PTIO_ETIMEDOUT;
}

#define TASK_BEGIN(type, t, task)                                         \
	type *t = (type *)chaos_case_of(task);                            \
	struct chaos_case *c = &t->c;                                     \
	(void)c

/* The next line of P[0, N) from *AT: its length (delimiter included, if
 * there is one), or 0 at the end. */
static size_t ref_next_line(const uint8_t *p, size_t n, size_t at,
			    uint8_t delim)
{
	size_t i;

	for (i = at; i < n; i++)
		if (p[i] == delim)
			return i + 1 - at;
	return n - at;
}

/* ---- fill_buf ------------------------------------------------------------------ */

struct t_fill {
	struct chaos_case c;
	struct ptio_bufreader br;
	uint8_t *mem;
	const uint8_t *view;
};

static ptio_ssize fill_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_fill, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		PTIO_AWAIT(&task->pt, r, ptio_fill_buf(&c->op,
			ptio_bufreader_bufread(&t->br), &t->view));
		CHAOS_CHECK(r != PTIO_EINTR, "seed %u: EINTR leaked", c->seed);
		if (r <= 0)
			break;
		CHAOS_CHECK((size_t)r == ptio_bufreader_buffered(&t->br) &&
			    t->view == ptio_bufreader_peek(&t->br),
			    "seed %u: the view is not the buffer", c->seed);
		r = 1 + chaos_below(&c->rng, (uint32_t)r);
		chaos_case_collect(c, t->view, (size_t)r);
		ptio_bufread_consume(ptio_bufreader_bufread(&t->br), (size_t)r);
	}
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void fill_one(uint32_t seed)
{
	struct t_fill t;
	size_t avail, cap;

	chaos_case_begin(&t.c, seed, SIZE_MAX);
	avail = maybe_cut(&t.c);
	cap = 1 + chaos_below(&t.c.rng, 4096);
	t.mem = malloc(cap);
	ptio_bufreader_init(&t.br, chaos_stream_reader(&t.c.s), t.mem, cap);
	chaos_case_run(&t.c, fill_task);
	chaos_case_check_read(&t.c, avail);
	if (!timed_out(&t.c))
		CHAOS_CHECK(t.c.result == t.c.s.rd_end_err, "seed %u: %s", seed,
			    ptio_strerror(t.c.result));
	CHAOS_CHECK(t.c.s.in_pos == t.c.got_len + ptio_bufreader_buffered(&t.br),
		    "seed %u: bytes taken and delivered differ", seed);
	free(t.mem);
	chaos_case_end(&t.c);
}

START_TEST(chaos_fill_buf)
{
	chaos_run_seeds(fill_one);
}
END_TEST

/* ---- read_until, read_line, lines --------------------------------------------------- */

enum line_kind { LINE_UNTIL, LINE_LINE, LINE_LINES };

struct t_line {
	struct chaos_case c;
	enum line_kind kind;
	struct ptio_bufreader br;
	uint8_t *mem;
	uint8_t delim;
	size_t max;
	size_t limit;          /* min(max, line buffer) */
	uint8_t linebuf[600];
	struct ptio_readbuf line;
	struct ptio_lines lines;
	size_t at;             /* reference position in the payload */
	size_t avail;          /* bytes the stream serves */
	unsigned long nlines;
};

/* Whether S[0, N) is UTF-8, by the library's check (itself tested
 * against an independent decoder in check-bufread). */
static bool is_text(const uint8_t *s, size_t n)
{
	return ptio_utf8_check(s, n, NULL) == 0;
}

/* Compare one result R (and the line it left) with the reference line
 * at t->at, then step the reference past it. */
static void line_check(struct t_line *t, ptio_ssize r)
{
	struct chaos_case *c = &t->c;
	const uint8_t *ref = c->payload + t->at;
	size_t n = ref_next_line(c->payload, t->avail, t->at, t->delim);
	const uint8_t *got = t->kind == LINE_LINES ? ptio_lines_data(&t->lines)
						   : t->line.buf;
	size_t got_len = t->kind == LINE_LINES ? t->lines.line.filled
					       : t->line.filled;
	ptio_ssize want;

	if (n == 0)
		want = 0;
	else if (n > t->limit)
		want = PTIO_ETOOLONG;
	else if (t->kind != LINE_UNTIL && !is_text(ref, n))
		want = PTIO_EILSEQ;
	else
		want = t->kind == LINE_LINES ? 1 : (ptio_ssize)n;
	CHAOS_CHECK(r == want, "seed %u: line %lu at %zu: got %s (%zd), "
		    "expected %s (%zd)", c->seed, t->nlines, t->at,
		    ptio_strerror(r), r, ptio_strerror(want), want);
	if (want == PTIO_ETOOLONG)
		CHAOS_CHECK(got_len == t->limit && memcmp(got, ref, t->limit) == 0,
			    "seed %u: over-long line kept %zu bytes", c->seed,
			    got_len);
	else if (want == PTIO_EILSEQ)
		CHAOS_CHECK(t->kind == LINE_LINES || got_len == 0,
			    "seed %u: invalid line kept", c->seed);
	else if (want > 0)
		CHAOS_CHECK(got_len == n && memcmp(got, ref, n) == 0,
			    "seed %u: line %lu differs", c->seed, t->nlines);
	if (t->kind == LINE_LINES && want == 1) {
		size_t k = n;

		if (k > 0 && ref[k - 1] == '\n' && --k > 0 && ref[k - 1] == '\r')
			k--;
		CHAOS_CHECK(ptio_lines_len(&t->lines) == k,
			    "seed %u: trimmed length %zu, expected %zu",
			    c->seed, ptio_lines_len(&t->lines), k);
	}
	chaos_case_collect(c, ref, n);
	t->at += n;
	t->nlines++;
}

static ptio_ssize line_call(struct t_line *t)
{
	struct ptio_bufread br = ptio_bufreader_bufread(&t->br);

	if (t->kind == LINE_UNTIL)
		return ptio_read_until(&t->c.op, br, t->delim, &t->line, t->max);
	if (t->kind == LINE_LINE)
		return ptio_read_line(&t->c.op, br, &t->line, t->max);
	return ptio_lines_next(&t->c.op, &t->lines);
}

static ptio_ssize line_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_line, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		ptio_readbuf_clear(&t->line);
		PTIO_AWAIT(&task->pt, r, line_call(t));
		CHAOS_CHECK(r != PTIO_EINTR, "seed %u: EINTR leaked", c->seed);
		/* A timeout or the stream's reset ends the run; ETOOLONG and
		 * EILSEQ are lines like the others. */
		if (r < 0 && r != PTIO_ETOOLONG && r != PTIO_EILSEQ)
			break;
		line_check(t, r);
		if (r == 0)
			break;
	}
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

/* Text lines of random lengths, with "\r\n" now and then, and sometimes
 * a byte that is not UTF-8. */
static void make_lines(uint32_t *rng, uint8_t *p, size_t len, size_t maxline)
{
	static const uint8_t pieces[][4] = {
		{ 'a' }, { 'b' }, { ' ' }, { 0xC3, 0xA9 }, { 0xE2, 0x82, 0xAC },
		{ 0xF0, 0x9F, 0x98, 0x80 }, { 0xFF }, { 0x80 },
	};
	static const size_t piece_len[] = { 1, 1, 1, 2, 3, 4, 1, 1 };
	size_t i = 0, line = 0, k;
	bool dirty = chaos_chance(rng, 300);

	while (i < len) {
		if (chaos_below(rng, (uint32_t)(maxline + 2)) <= line) {
			if (chaos_chance(rng, 300) && i + 1 < len)
				p[i++] = '\r';
			p[i++] = '\n';
			line = 0;
			continue;
		}
		k = chaos_below(rng, dirty ? 8 : 6);
		if (i + piece_len[k] > len)
			k = 0;
		memcpy(p + i, pieces[k], piece_len[k]);
		i += piece_len[k];
		line += piece_len[k];
	}
}

static void line_one(uint32_t seed, enum line_kind kind)
{
	struct t_line t;
	size_t cap, room, i;

	chaos_case_begin(&t.c, seed, SIZE_MAX);
	t.kind = kind;
	t.delim = kind == LINE_UNTIL ? (uint8_t)chaos_rand(&t.c.rng) : '\n';
	t.max = 1 + chaos_below(&t.c.rng, 300);
	if (kind == LINE_UNTIL) {
		/* Raw bytes from a small alphabet, so lines come in every
		 * length. */
		uint32_t alpha = 2 + chaos_below(&t.c.rng, 300);

		for (i = 0; i < t.c.len; i++)
			t.c.payload[i] = (uint8_t)(t.delim +
				chaos_below(&t.c.rng, alpha));
	} else {
		make_lines(&t.c.rng, t.c.payload, t.c.len, t.max + 2);
	}
	t.avail = maybe_cut(&t.c);
	room = 1 + chaos_below(&t.c.rng, sizeof(t.linebuf));
	if (kind == LINE_LINES)
		t.max = room; /* a lines loop's limit is its buffer */
	t.limit = t.max < room ? t.max : room;
	ptio_readbuf_init(&t.line, t.linebuf, room);
	cap = 1 + chaos_below(&t.c.rng, 1024);
	t.mem = malloc(cap);
	ptio_bufreader_init(&t.br, chaos_stream_reader(&t.c.s), t.mem, cap);
	ptio_lines_init(&t.lines, ptio_bufreader_bufread(&t.br), t.linebuf,
			room);
	t.at = 0;
	t.nlines = 0;
	chaos_case_run(&t.c, line_task);
	if (!timed_out(&t.c)) {
		/* Every line up to the end was checked; then the stream's
		 * end, or its reset, came through as the result. */
		CHAOS_CHECK(t.c.result == t.c.s.rd_end_err,
			    "seed %u: ended with %s", seed,
			    ptio_strerror(t.c.result));
		CHAOS_CHECK(t.c.s.rd_end_err != 0 || t.at == t.avail,
			    "seed %u: stopped at %zu of %zu", seed, t.at,
			    t.avail);
	}
	free(t.mem);
	chaos_case_end(&t.c);
}

static void until_one(uint32_t seed)
{
	line_one(seed, LINE_UNTIL);
}

static void read_line_one(uint32_t seed)
{
	line_one(seed, LINE_LINE);
}

static void lines_one(uint32_t seed)
{
	line_one(seed, LINE_LINES);
}

START_TEST(chaos_read_until)
{
	chaos_run_seeds(until_one);
}
END_TEST

START_TEST(chaos_read_line)
{
	chaos_run_seeds(read_line_one);
}
END_TEST

START_TEST(chaos_lines)
{
	chaos_run_seeds(lines_one);
}
END_TEST

/* ---- copy and copy_buf ----------------------------------------------------------------- */

struct t_copy {
	struct chaos_case c;
	struct chaos_stream dst;
	struct chaos_profile prof2;
	struct ptio_spill spill;
	uint8_t *spill_mem;
	struct ptio_bufreader br;
	uint8_t *mem;
	bool buffered;
	size_t total;
	int resumes;
};

static ptio_ssize copy_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_copy, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		if (t->buffered) {
			PTIO_AWAIT(&task->pt, r, ptio_copy_buf(&c->op,
				ptio_bufreader_bufread(&t->br),
				chaos_stream_writer(&t->dst)));
		} else {
			PTIO_AWAIT(&task->pt, r, ptio_copy(&c->op,
				chaos_stream_reader(&c->s),
				chaos_stream_writer_plain(&t->dst), &t->spill));
		}
		CHAOS_CHECK(r != PTIO_EINTR, "seed %u: EINTR leaked", c->seed);
		t->total += r >= 0 ? (size_t)r : ptio_op_done(&c->op);
		/* After a deadline, go on: nothing may have been lost. */
		if (r != PTIO_ETIMEDOUT || t->resumes++ > 0)
			break;
		ptio_task_clear_deadline(&c->tt);
	}
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void copy_one(uint32_t seed, bool buffered)
{
	struct t_copy t;
	size_t avail, wavail, held, cap;

	chaos_case_begin(&t.c, seed, SIZE_MAX);
	avail = maybe_cut(&t.c);
	chaos_profile_random(&t.prof2, &t.c.rng, t.c.len);
	chaos_stream_init(&t.dst, &t.c.w, seed, 3, &t.prof2);
	chaos_stream_output(&t.dst, malloc(t.c.len + 1), t.c.len);
	if (chaos_chance(&t.c.rng, 100))
		t.dst.wr_end_at = chaos_below(&t.c.rng, (uint32_t)t.c.len + 1);
	wavail = t.dst.wr_end_at;
	t.buffered = buffered;
	t.total = 0;
	t.resumes = 0;
	cap = 1 + chaos_below(&t.c.rng, 1u << (1 + chaos_below(&t.c.rng, 14)));
	t.spill_mem = malloc(cap);
	t.mem = malloc(cap);
	ptio_spill_init(&t.spill, t.spill_mem, cap);
	ptio_bufreader_init(&t.br, chaos_stream_reader(&t.c.s), t.mem, cap);
	chaos_case_run(&t.c, copy_task);

	/* Written: the payload's start, exactly what the counts say. */
	CHAOS_CHECK(memcmp(t.dst.out, t.c.payload, t.dst.out_len) == 0 &&
		    t.dst.out_crc == chaos_crc32(0, t.c.payload, t.dst.out_len),
		    "seed %u: the copy differs from the payload", seed);
	CHAOS_CHECK(t.total == t.dst.out_len, "seed %u: counted %zu, wrote %zu",
		    seed, t.total, t.dst.out_len);
	/* Taken but not written: still held, never lost. */
	held = buffered ? ptio_bufreader_buffered(&t.br)
			: ptio_spill_pending(&t.spill);
	CHAOS_CHECK(t.c.s.in_pos == t.dst.out_len + held,
		    "seed %u: read %zu, wrote %zu, held %zu", seed,
		    t.c.s.in_pos, t.dst.out_len, held);
	if (!timed_out(&t.c)) {
		/* The writer fails first if it fails at all: the reader is
		 * read further only once everything read before is written. */
		ptio_ssize want = wavail < avail ? PTIO_EPIPE
				  : t.c.s.rd_end_err != 0 ? t.c.s.rd_end_err
				  : 0;

		CHAOS_CHECK(t.c.result >= 0 ? want == 0 && t.total == avail
					    : t.c.result == want,
			    "seed %u: %s (%zu bytes), expected %s", seed,
			    ptio_strerror(t.c.result), t.total,
			    ptio_strerror(want));
	}
	CHAOS_CHECK(t.dst.violation == NULL, "seed %u: %s", seed,
		    t.dst.violation);
	free(t.dst.out);
	free(t.spill_mem);
	free(t.mem);
	chaos_case_end(&t.c);
}

static void copy_plain_one(uint32_t seed)
{
	copy_one(seed, false);
}

static void copy_buf_one(uint32_t seed)
{
	copy_one(seed, true);
}

START_TEST(chaos_copy)
{
	chaos_run_seeds(copy_plain_one);
}
END_TEST

START_TEST(chaos_copy_buf)
{
	chaos_run_seeds(copy_buf_one);
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("chaos-bufio");
	TCase *tc = tcase_create("chaos");

	/*
	 * A hung case fails fast: after 10 s of processor time, or 120 s
	 * on the clock (it was 300 s).  The slowest test here needs at most
	 * 3.5 s of processor time for 10,000 seeds in the ASan+UBSan build
	 * (make check), about 1 s natively; on the clock, on 2 cores with a
	 * load average of 11 to 24, up to 12 s, and over 30 s once, when
	 * the test suite ran beside it.  CK_TIMEOUT_MULTIPLIER=n multiplies
	 * both bounds, for a slower machine.  See chaos_tcase_limits.
	 */
	chaos_tcase_limits(tc, 10, 120);
	tcase_add_test(tc, chaos_fill_buf);
	tcase_add_test(tc, chaos_read_until);
	tcase_add_test(tc, chaos_read_line);
	tcase_add_test(tc, chaos_lines);
	tcase_add_test(tc, chaos_copy);
	tcase_add_test(tc, chaos_copy_buf);
	suite_add_tcase(s, tc);
	return s;
}
