/*
 * test/check-chaos-read.c - every provided Read machine and every reading
 * adapter against the chaos stream, for 10,000 seeds each.
 *
 * Each test runs one seed at a time: a random payload behind a stream
 * that blocks, reads short (often one byte), returns EINTR, signals
 * spurious readiness, scribbles past what it read, and sometimes ends
 * early or resets.  The test checks that what the machine delivered is
 * the payload's start byte for byte (count and CRC-32), that it is all of
 * what the stream held (or what was asked for), and that the stream was
 * not read past what was asked: bytes taken from the stream equal bytes
 * delivered, unless a buffer in between is expected to hold some.
 *
 * Machines that report PTIO_EINTR (Rust's single-shot methods do) are
 * called again, resuming from their progress; the machines that retry it
 * themselves must never return it.  Failures print the seed; rerun one
 * with PTIO_CHAOS_SEED=n.
 *
 * Divided into: shared set-up, then one section per machine or adapter.
 */
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include "test/helpers.h"
#include "test/fake/chaos-stream.h"

/* ---- Shared set-up -------------------------------------------------------- */

/* Sometimes make the stream end early, cleanly or with a reset.  Returns
 * how many bytes it will serve. */
static size_t maybe_cut(struct chaos_case *c)
{
	if (chaos_chance(&c->rng, 100)) {
		c->s.rd_end_at = chaos_below(&c->rng, (uint32_t)c->len + 1);
		if (chaos_chance(&c->rng, 500))
			c->s.rd_end_err = PTIO_ECONNRESET;
	}
	return c->len < c->s.rd_end_at ? c->len : c->s.rd_end_at;
}

/* The result a read-to-the-end loop must finish with. */
static void check_end_result(struct chaos_case *c)
{
	if (c->deadline && c->result == PTIO_ETIMEDOUT)
		return;
	CHAOS_CHECK(c->result == c->s.rd_end_err,
		      "seed %u: ended with %s, expected %s", c->seed,
		      ptio_strerror(c->result), ptio_strerror(c->s.rd_end_err));
}

/* Nothing was taken from the stream that was not delivered. */
static void check_taken(struct chaos_case *c, size_t held)
{
	CHAOS_CHECK(c->s.in_pos == c->got_len + held,
		      "seed %u: %zu bytes taken from the stream, %zu delivered",
		      c->seed, c->s.in_pos, c->got_len);
}

#define TASK_BEGIN(type, t, task)                                         \
	type *t = (type *)chaos_case_of(task);                            \
	struct chaos_case *c = &t->c;                                     \
	(void)c

/* ---- read ------------------------------------------------------------------ */

struct t_read {
	struct chaos_case c;
	size_t chunk;
	uint8_t buf[4096];
};

static ptio_ssize read_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_read, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		PTIO_AWAIT(&task->pt, r, ptio_read(&c->op,
			chaos_stream_reader(&c->s), t->buf, t->chunk));
		if (r == PTIO_EINTR)
			continue;
		if (r <= 0)
			break;
		chaos_case_collect(c, t->buf, (size_t)r);
	}
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void read_one(uint32_t seed)
{
	struct t_read t;
	size_t avail;

	chaos_case_begin(&t.c, seed, SIZE_MAX);
	avail = maybe_cut(&t.c);
	t.chunk = 1 + chaos_below(&t.c.rng, sizeof(t.buf));
	chaos_case_run(&t.c, read_task);
	chaos_case_check_read(&t.c, avail);
	check_end_result(&t.c);
	check_taken(&t.c, 0);
	chaos_case_end(&t.c);
}

START_TEST(chaos_read)
{
	chaos_run_seeds(read_one);
}
END_TEST

/* ---- read_buf ------------------------------------------------------------------ */

struct t_read_buf {
	struct chaos_case c;
	struct ptio_readbuf rb;
	size_t before;
};

static ptio_ssize read_buf_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_read_buf, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		if (ptio_readbuf_is_full(&t->rb)) {
			chaos_case_collect(c, t->rb.buf, t->rb.filled);
			ptio_readbuf_clear(&t->rb);
		}
		t->before = t->rb.filled;
		PTIO_AWAIT(&task->pt, r, ptio_read_buf(&c->op,
			chaos_stream_reader(&c->s), &t->rb));
		CHAOS_CHECK(ptio_readbuf_valid(&t->rb) &&
			      t->rb.filled == t->before + (r > 0 ? (size_t)r : 0),
			      "seed %u: readbuf wrong after read_buf", c->seed);
		if (r == PTIO_EINTR)
			continue;
		if (r <= 0)
			break;
	}
	chaos_case_collect(c, t->rb.buf, t->rb.filled);
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void read_buf_one(uint32_t seed)
{
	struct t_read_buf t;
	size_t avail, cap;

	chaos_case_begin(&t.c, seed, SIZE_MAX);
	avail = maybe_cut(&t.c);
	cap = 1 + chaos_below(&t.c.rng, 8192);
	ptio_readbuf_init(&t.rb, malloc(cap), cap); /* uninitialised */
	chaos_case_run(&t.c, read_buf_task);
	chaos_case_check_read(&t.c, avail);
	check_end_result(&t.c);
	check_taken(&t.c, 0);
	free(t.rb.buf);
	chaos_case_end(&t.c);
}

START_TEST(chaos_read_buf)
{
	chaos_run_seeds(read_buf_one);
}
END_TEST

/* ---- read_exact and read_buf_exact ---------------------------------------------------- */

struct t_exact {
	struct chaos_case c;
	size_t want;
	size_t total;
	uint8_t *dst;
	struct ptio_readbuf rb;
};

static ptio_ssize read_exact_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_exact, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		PTIO_AWAIT(&task->pt, r, ptio_read_exact(&c->op,
			chaos_stream_reader(&c->s), t->dst + t->total,
			t->want - t->total));
		t->total += r >= 0 ? (size_t)r : ptio_op_done(&c->op);
		if (r != PTIO_EINTR)
			break;
	}
	chaos_case_collect(c, t->dst, t->total);
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static ptio_ssize read_buf_exact_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_exact, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		/* The readbuf itself carries the progress across calls. */
		PTIO_AWAIT(&task->pt, r, ptio_read_buf_exact(&c->op,
			chaos_stream_reader(&c->s), &t->rb));
		CHAOS_CHECK(ptio_readbuf_valid(&t->rb), "seed %u: readbuf",
			      c->seed);
		if (r != PTIO_EINTR)
			break;
	}
	chaos_case_collect(c, t->rb.buf, t->rb.filled);
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void exact_one(uint32_t seed, bool readbuf)
{
	struct t_exact t;
	size_t avail, expect;
	ptio_ssize want_result;

	chaos_case_begin(&t.c, seed, SIZE_MAX);
	avail = maybe_cut(&t.c);
	t.want = chaos_below(&t.c.rng, (uint32_t)t.c.len + 1);
	if (chaos_chance(&t.c.rng, 100))
		t.want = t.c.len; /* exactly all */
	t.total = 0;
	t.dst = malloc(t.want + 1);
	ptio_readbuf_init(&t.rb, t.dst, t.want);
	chaos_case_run(&t.c, readbuf ? read_buf_exact_task : read_exact_task);
	expect = t.want <= avail ? t.want : avail;
	chaos_case_check_read(&t.c, expect);
	check_taken(&t.c, 0); /* never a byte past what was asked */
	if (!(t.c.deadline && t.c.result == PTIO_ETIMEDOUT)) {
		/* Success is a count (that of the last call, after EINTR). */
		want_result = t.c.s.rd_end_err != 0 ? t.c.s.rd_end_err
						     : PTIO_EUNEXPECTEDEOF;
		CHAOS_CHECK(t.want <= avail ? t.c.result >= 0
					      : t.c.result == want_result,
			      "seed %u: result %s", seed,
			      ptio_strerror(t.c.result));
	}
	free(t.dst);
	chaos_case_end(&t.c);
}

static void read_exact_one(uint32_t seed)
{
	exact_one(seed, false);
}

static void read_buf_exact_one(uint32_t seed)
{
	exact_one(seed, true);
}

START_TEST(chaos_read_exact)
{
	chaos_run_seeds(read_exact_one);
}
END_TEST

START_TEST(chaos_read_buf_exact)
{
	chaos_run_seeds(read_buf_exact_one);
}
END_TEST

/* ---- read_buf_vectored ------------------------------------------------------------------ */

struct t_vec {
	struct chaos_case c;
	struct ptio_readbuf rbs[4];
	size_t n;
	bool plain;
	uint8_t *mem;
};

static ptio_ssize read_vec_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_vec, t, task);
	ptio_ssize r = 0;
	size_t i, sum;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		PTIO_AWAIT(&task->pt, r, ptio_read_buf_vectored(&c->op,
			t->plain ? chaos_stream_reader_plain(&c->s)
				 : chaos_stream_reader(&c->s),
			t->rbs, t->n));
		CHAOS_CHECK(r != PTIO_EINTR, "seed %u: EINTR leaked", c->seed);
		if (r <= 0)
			break;
		for (i = 0, sum = 0; i < t->n; i++) {
			CHAOS_CHECK(ptio_readbuf_valid(&t->rbs[i]),
				    "seed %u: readbuf invariants", c->seed);
			sum += t->rbs[i].filled;
			chaos_case_collect(c, t->rbs[i].buf, t->rbs[i].filled);
			ptio_readbuf_clear(&t->rbs[i]);
		}
		CHAOS_CHECK(sum == (size_t)r, "seed %u: count %zd, filled %zu",
			      c->seed, r, sum);
	}
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void read_vec_one(uint32_t seed)
{
	struct t_vec t;
	size_t avail, i, cap[4], total = 0;

	chaos_case_begin(&t.c, seed, SIZE_MAX);
	avail = maybe_cut(&t.c);
	t.n = 1 + chaos_below(&t.c.rng, 4);
	t.plain = chaos_chance(&t.c.rng, 300);
	for (i = 0; i < t.n; i++) {
		cap[i] = chaos_chance(&t.c.rng, 200)
				 ? 0 : chaos_below(&t.c.rng, 2048);
		total += cap[i];
	}
	if (total == 0)
		total = cap[0] = 1;
	t.mem = malloc(total);
	for (i = 0, total = 0; i < t.n; i++) {
		ptio_readbuf_init(&t.rbs[i], t.mem + total, cap[i]);
		total += cap[i];
	}
	chaos_case_run(&t.c, read_vec_task);
	chaos_case_check_read(&t.c, avail);
	check_end_result(&t.c);
	check_taken(&t.c, 0);
	free(t.mem);
	chaos_case_end(&t.c);
}

START_TEST(chaos_read_buf_vectored)
{
	chaos_run_seeds(read_vec_one);
}
END_TEST

/* ---- read_to_end ------------------------------------------------------------------------ */

/* An allocator hook that fails after a number of calls. */
struct flaky_alloc {
	struct ptio_alloc hook;
	int left;
};

static void *flaky_resize(void *ctx, void *ptr, size_t old, size_t size)
{
	struct flaky_alloc *fa = ctx;

	(void)old;
	if (size == 0) {
		free(ptr);
		return NULL;
	}
	if (fa->left-- <= 0)
		return NULL;
	return realloc(ptr, size);
}

struct t_to_end {
	struct chaos_case c;
	struct ptio_bytes b;
	struct flaky_alloc fa;
	size_t prefix;
	uint8_t start[256]; /* caller memory B may start on */
};

static ptio_ssize read_to_end_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_to_end, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	PTIO_AWAIT(&task->pt, r, ptio_read_to_end(&c->op,
		chaos_stream_reader(&c->s), &t->b));
	CHAOS_CHECK(r != PTIO_EINTR, "seed %u: EINTR leaked", c->seed);
	CHAOS_CHECK(t->b.len >= t->prefix &&
		      t->b.len - t->prefix == (r >= 0 ? (size_t)r
						   : ptio_op_done(&c->op)),
		      "seed %u: count and buffer disagree", c->seed);
	CHAOS_CHECK((t->prefix == 0 ||
		     memcmp(t->b.data, "prefix:", t->prefix) == 0),
		      "seed %u: the earlier content changed", c->seed);
	chaos_case_collect(c, t->b.data + t->prefix, t->b.len - t->prefix);
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void read_to_end_one(uint32_t seed)
{
	struct t_to_end t;
	size_t avail, room = SIZE_MAX, cap;
	uint32_t kind;

	chaos_case_begin(&t.c, seed, SIZE_MAX);
	avail = maybe_cut(&t.c);
	t.prefix = chaos_chance(&t.c.rng, 300) ? 7 : 0;
	t.fa.hook.resize = flaky_resize;
	t.fa.hook.ctx = &t.fa;
	t.fa.left = 1000;
	kind = chaos_below(&t.c.rng, 4);
	cap = chaos_below(&t.c.rng, sizeof(t.start) + 1);
	if (cap < t.prefix)
		cap = t.prefix;
	if (kind == 0) {
		/* A fixed buffer: room for the payload or not. */
		cap = t.prefix + chaos_below(&t.c.rng, (uint32_t)avail + 2);
		ptio_bytes_init(&t.b, malloc(cap + 1), cap, NULL);
		room = cap - t.prefix;
	} else if (kind == 1) {
		ptio_bytes_init(&t.b, t.start, cap, &ptio_alloc_heap);
	} else if (kind == 2) {
		ptio_bytes_init(&t.b, NULL, 0, &ptio_alloc_heap);
	} else {
		ptio_bytes_init(&t.b, NULL, 0, &t.fa.hook);
	}
	if (t.prefix > 0)
		CHAOS_CHECK(ptio_bytes_append(&t.b, "prefix:", t.prefix) > 0,
			    "seed %u: append", seed);
	if (kind == 3)
		t.fa.left = (int)chaos_below(&t.c.rng, 8);
	chaos_case_run(&t.c, read_to_end_task);
	if (kind == 0 && room <= avail) {
		/* Full before the end: every byte that fit, and no more. */
		chaos_case_check_read(&t.c, room);
		if (!(t.c.deadline && t.c.result == PTIO_ETIMEDOUT))
			CHAOS_CHECK(t.c.result == PTIO_ENOBUFS,
				      "seed %u: %s, expected ENOBUFS", seed,
				      ptio_strerror(t.c.result));
	} else if (t.c.result == PTIO_ENOMEM) {
		CHAOS_CHECK(kind == 3, "seed %u: ENOMEM from the heap", seed);
		chaos_case_check_read(&t.c, t.c.got_len);
	} else {
		chaos_case_check_read(&t.c, avail);
		if (!(t.c.deadline && t.c.result == PTIO_ETIMEDOUT))
			CHAOS_CHECK(t.c.result == (t.c.s.rd_end_err != 0
							     ? t.c.s.rd_end_err
							     : (ptio_ssize)avail),
				      "seed %u: result %s", seed,
				      ptio_strerror(t.c.result));
	}
	check_taken(&t.c, 0);
	if (kind == 0)
		free(t.b.data);
	else
		ptio_bytes_free(&t.b);
	chaos_case_end(&t.c);
}

START_TEST(chaos_read_to_end)
{
	chaos_run_seeds(read_to_end_one);
}
END_TEST

/* ---- read_to_string ------------------------------------------------------------------------ */

/* An independent UTF-8 check for the expectations: decode each character
 * and test its value.  Returns 1 valid, 0 invalid, -1 valid but cut
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
		if ((s[i] & 0xE0) == 0xC0) {
			len = 2, cp = s[i] & 0x1F, min = 0x80;
		} else if ((s[i] & 0xF0) == 0xE0) {
			len = 3, cp = s[i] & 0x0F, min = 0x800;
		} else if ((s[i] & 0xF8) == 0xF0) {
			len = 4, cp = s[i] & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		for (k = 1; k < len; k++) {
			if (i + k == n) {
				/* Cut short: valid if some completion could be. */
				uint32_t lo = cp, hi = cp;
				size_t m;

				for (m = k; m < len; m++) {
					lo = lo << 6;
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

/* Random text of exactly LEN bytes, with characters of every length. */
static void make_text(uint32_t *rng, uint8_t *p, size_t len)
{
	size_t i = 0;
	uint32_t cp;

	while (i < len) {
		uint32_t kind = chaos_below(rng, 10);

		if (kind < 5 || len - i < 4) {
			p[i++] = (uint8_t)(0x20 + chaos_below(rng, 0x5F));
		} else if (kind < 7) {
			cp = 0x80 + chaos_below(rng, 0x780);
			p[i++] = (uint8_t)(0xC0 | (cp >> 6));
			p[i++] = (uint8_t)(0x80 | (cp & 0x3F));
		} else if (kind < 9) {
			do
				cp = 0x800 + chaos_below(rng, 0xF800);
			while (cp >= 0xD800 && cp <= 0xDFFF);
			p[i++] = (uint8_t)(0xE0 | (cp >> 12));
			p[i++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
			p[i++] = (uint8_t)(0x80 | (cp & 0x3F));
		} else {
			cp = 0x10000 + chaos_below(rng, 0x100000);
			p[i++] = (uint8_t)(0xF0 | (cp >> 18));
			p[i++] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
			p[i++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
			p[i++] = (uint8_t)(0x80 | (cp & 0x3F));
		}
	}
}

static ptio_ssize read_to_string_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_to_end, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	PTIO_AWAIT(&task->pt, r, ptio_read_to_string(&c->op,
		chaos_stream_reader(&c->s), &t->b));
	CHAOS_CHECK((t->prefix == 0 ||
		     memcmp(t->b.data, "prefix:", t->prefix) == 0) &&
		      t->b.len >= t->prefix,
		      "seed %u: the earlier content changed", c->seed);
	chaos_case_collect(c, t->b.data + t->prefix, t->b.len - t->prefix);
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void read_to_string_one(uint32_t seed)
{
	struct t_to_end t;
	size_t avail, bad;
	int valid;
	static const uint8_t poison[] = { 0xFF, 0x80, 0xC0, 0xED, 0xF5, 0xE0 };

	chaos_case_begin(&t.c, seed, SIZE_MAX);
	make_text(&t.c.rng, t.c.payload, t.c.len);
	if (t.c.len > 0 && chaos_chance(&t.c.rng, 200)) {
		bad = chaos_below(&t.c.rng, (uint32_t)t.c.len);
		t.c.payload[bad] = poison[chaos_below(&t.c.rng, sizeof(poison))];
	}
	avail = maybe_cut(&t.c);
	t.prefix = chaos_chance(&t.c.rng, 300) ? 7 : 0;
	ptio_bytes_init(&t.b, NULL, 0, &ptio_alloc_heap);
	if (t.prefix > 0)
		CHAOS_CHECK(ptio_bytes_append(&t.b, "prefix:", t.prefix) > 0,
			    "seed %u: append", seed);
	chaos_case_run(&t.c, read_to_string_task);
	valid = ref_utf8(t.c.payload, avail);
	if (t.c.deadline && t.c.result == PTIO_ETIMEDOUT) {
		chaos_case_check_read(&t.c, avail);
		CHAOS_CHECK(ref_utf8(t.c.got, t.c.got_len) != 0,
			    "seed %u: invalid text kept", seed);
	} else if (valid == 0 ||
		   (valid == -1 && t.c.s.rd_end_err == 0)) {
		CHAOS_CHECK(t.c.result == PTIO_EILSEQ && t.c.got_len == 0,
			      "seed %u: invalid text gave %s, %zu bytes kept",
			      seed, ptio_strerror(t.c.result), t.c.got_len);
	} else {
		chaos_case_check_read(&t.c, avail);
		CHAOS_CHECK(t.c.result == (t.c.s.rd_end_err != 0
						     ? t.c.s.rd_end_err
						     : (ptio_ssize)avail),
			      "seed %u: result %s", seed,
			      ptio_strerror(t.c.result));
	}
	ptio_bytes_free(&t.b);
	chaos_case_end(&t.c);
}

START_TEST(chaos_read_to_string)
{
	chaos_run_seeds(read_to_string_one);
}
END_TEST

/* ---- ready: the memory-sensitive path ------------------------------------------------------ */

struct t_ready {
	struct chaos_case c;
	uint8_t own[512];
};

/* The seed's read_stream with continue_on_block, over the scratch
 * buffer (or a small array when the loop has none). */
static ptio_ssize ready_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_ready, t, task);
	ptio_ssize r = 0;
	size_t len;
	uint8_t *buf;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		PTIO_AWAIT(&task->pt, r, ptio_ready(&c->op,
			chaos_stream_ready(&c->s), PTIO_READ));
		if (r < 0)
			break;
		CHAOS_CHECK(ptio_readiness_readable((unsigned)r),
			    "seed %u: ready without READABLE", c->seed);
		buf = ptio_loop_scratch(task->loop, &len);
		if (buf == NULL) {
			buf = t->own;
			len = sizeof(t->own);
		}
		PTIO_CONTINUE_ON_BLOCK(r, ptio_nb_read(
			chaos_stream_reader(&c->s), buf, len));
		if (r == PTIO_EINTR)
			continue;
		if (r <= 0)
			break;
		chaos_case_collect(c, buf, (size_t)r);
	}
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void ready_one(uint32_t seed)
{
	struct t_ready t;
	size_t avail;

	chaos_case_begin(&t.c, seed, SIZE_MAX);
	avail = maybe_cut(&t.c);
	chaos_case_run(&t.c, ready_task);
	chaos_case_check_read(&t.c, avail);
	check_end_result(&t.c);
	check_taken(&t.c, 0);
	chaos_case_end(&t.c);
}

START_TEST(chaos_ready)
{
	chaos_run_seeds(ready_one);
}
END_TEST

/* ---- BufReader as a Read -------------------------------------------------------------------- */

struct t_bufreader {
	struct chaos_case c;
	struct ptio_bufreader br;
	uint8_t *mem;
	uint8_t *dst;
	size_t piece;
	size_t total;
};

static ptio_ssize bufreader_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_bufreader, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (;;) {
		/* Pieces smaller and larger than the buffer (the latter go
		 * around it when it is empty). */
		t->piece = 1 + chaos_below(&c->rng, (uint32_t)(2 * t->br.cap));
		PTIO_AWAIT(&task->pt, r, ptio_read_exact(&c->op,
			ptio_bufreader_reader(&t->br), t->dst, t->piece));
		chaos_case_collect(c, t->dst,
				   r >= 0 ? (size_t)r : ptio_op_done(&c->op));
		if (r == PTIO_EINTR)
			continue;
		if (r < 0)
			break;
	}
	c->result = r == PTIO_EUNEXPECTEDEOF ? 0 : r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void bufreader_one(uint32_t seed)
{
	struct t_bufreader t;
	size_t avail, cap;

	chaos_case_begin(&t.c, seed, SIZE_MAX);
	avail = maybe_cut(&t.c);
	cap = 1 + chaos_below(&t.c.rng, 4096);
	t.mem = malloc(cap);
	t.dst = malloc(2 * cap + 1);
	ptio_bufreader_init(&t.br, chaos_stream_reader(&t.c.s), t.mem, cap);
	chaos_case_run(&t.c, bufreader_task);
	chaos_case_check_read(&t.c, avail);
	check_end_result(&t.c);
	check_taken(&t.c, ptio_bufreader_buffered(&t.br));
	free(t.mem);
	free(t.dst);
	chaos_case_end(&t.c);
}

START_TEST(chaos_bufreader)
{
	chaos_run_seeds(bufreader_one);
}
END_TEST

/* ---- take --------------------------------------------------------------------------------------- */

struct t_take {
	struct chaos_case c;
	struct ptio_take take;
	struct ptio_bufreader br;
	uint8_t *mem;
	struct ptio_bytes b;
	bool over_bufread;
	bool use_fill;
	const uint8_t *view;
};

static ptio_ssize take_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_take, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	if (t->use_fill) {
		/* As a BufRead: take views, consume some of each. */
		for (;;) {
			PTIO_AWAIT(&task->pt, r, ptio_fill_buf(&c->op,
				ptio_take_bufread(&t->take), &t->view));
			if (r <= 0)
				break;
			r = 1 + chaos_below(&c->rng, (uint32_t)r);
			chaos_case_collect(c, t->view, (size_t)r);
			ptio_bufread_consume(ptio_take_bufread(&t->take),
					     (size_t)r);
		}
	} else {
		PTIO_AWAIT(&task->pt, r, ptio_read_to_end(&c->op,
			ptio_take_reader(&t->take), &t->b));
		chaos_case_collect(c, t->b.data, t->b.len);
		if (r > 0)
			r = 0;
	}
	CHAOS_CHECK(r != PTIO_EINTR, "seed %u: EINTR leaked", c->seed);
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void take_one(uint32_t seed, bool over_bufread)
{
	struct t_take t;
	size_t avail, cap = 0, expect;
	uint64_t limit;

	chaos_case_begin(&t.c, seed, SIZE_MAX);
	avail = maybe_cut(&t.c);
	limit = chaos_below(&t.c.rng, (uint32_t)t.c.len + 16);
	t.over_bufread = over_bufread;
	t.use_fill = over_bufread && chaos_chance(&t.c.rng, 500);
	t.mem = NULL;
	ptio_bytes_init(&t.b, NULL, 0, &ptio_alloc_heap);
	if (over_bufread) {
		cap = 1 + chaos_below(&t.c.rng, 4096);
		t.mem = malloc(cap);
		ptio_bufreader_init(&t.br, chaos_stream_reader(&t.c.s), t.mem,
				    cap);
		ptio_take_init_bufread(&t.take, ptio_bufreader_bufread(&t.br),
				       limit);
	} else {
		ptio_take_init(&t.take, chaos_stream_reader(&t.c.s), limit);
	}
	chaos_case_run(&t.c, take_task);
	expect = limit < avail ? (size_t)limit : avail;
	chaos_case_check_read(&t.c, expect);
	if (!(t.c.deadline && t.c.result == PTIO_ETIMEDOUT))
		CHAOS_CHECK(t.c.result == (limit <= avail ? 0 : t.c.s.rd_end_err),
			      "seed %u: result %s", seed,
			      ptio_strerror(t.c.result));
	CHAOS_CHECK(ptio_take_limit(&t.take) == limit - t.c.got_len,
		      "seed %u: limit left %llu", seed,
		      (unsigned long long)ptio_take_limit(&t.take));
	/* The inner reader is never read past the limit; a BufReader in
	 * between may hold some of what follows. */
	check_taken(&t.c, over_bufread ? ptio_bufreader_buffered(&t.br) : 0);
	ptio_bytes_free(&t.b);
	free(t.mem);
	chaos_case_end(&t.c);
}

static void take_read_one(uint32_t seed)
{
	take_one(seed, false);
}

static void take_bufread_one(uint32_t seed)
{
	take_one(seed, true);
}

START_TEST(chaos_take)
{
	chaos_run_seeds(take_read_one);
}
END_TEST

START_TEST(chaos_take_bufread)
{
	chaos_run_seeds(take_bufread_one);
}
END_TEST

/* ---- chain ---------------------------------------------------------------------------------------- */

struct t_chain {
	struct chaos_case c;
	struct chaos_stream s2;
	struct chaos_profile prof2;
	struct ptio_chain chain;
	struct ptio_bytes b;
};

static ptio_ssize chain_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_chain, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	PTIO_AWAIT(&task->pt, r, ptio_read_to_end(&c->op,
		ptio_chain_reader(&t->chain), &t->b));
	chaos_case_collect(c, t->b.data, t->b.len);
	c->result = r > 0 ? 0 : r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void chain_one(uint32_t seed)
{
	struct t_chain t;
	size_t split;

	chaos_case_begin(&t.c, seed, SIZE_MAX);
	split = chaos_below(&t.c.rng, (uint32_t)t.c.len + 1);
	chaos_profile_random(&t.prof2, &t.c.rng, t.c.len);
	chaos_stream_init(&t.s2, &t.c.w, seed, 2, &t.prof2);
	chaos_stream_input(&t.c.s, t.c.payload, split);
	chaos_stream_input(&t.s2, t.c.payload + split, t.c.len - split);
	ptio_chain_init(&t.chain, chaos_stream_reader(&t.c.s),
			chaos_stream_reader_plain(&t.s2));
	ptio_bytes_init(&t.b, NULL, 0, &ptio_alloc_heap);
	chaos_case_run(&t.c, chain_task);
	chaos_case_check_read(&t.c, t.c.len);
	if (!(t.c.deadline && t.c.result == PTIO_ETIMEDOUT))
		CHAOS_CHECK(t.c.result == 0, "seed %u: %s", seed,
			      ptio_strerror(t.c.result));
	CHAOS_CHECK(t.c.s.in_pos + t.s2.in_pos == t.c.got_len,
		      "seed %u: taken and delivered differ", seed);
	CHAOS_CHECK(t.s2.violation == NULL, "seed %u: %s", seed,
		      t.s2.violation);
	ptio_bytes_free(&t.b);
	chaos_case_end(&t.c);
}

START_TEST(chaos_chain)
{
	chaos_run_seeds(chain_one);
}
END_TEST

/* ---- empty, repeat, sink ------------------------------------------------------------------------- */

struct t_trivial {
	struct chaos_case c;
	struct ptio_repeat rp;
	struct ptio_take take;
	struct ptio_sink sink;
	struct ptio_spill spill;
	uint8_t spill_mem[512];
	uint8_t one[1];
	struct ptio_bytes b;
	ptio_ssize empty_result;
};

static ptio_ssize trivial_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_trivial, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	PTIO_AWAIT(&task->pt, r, ptio_read_to_end(&c->op, ptio_empty_reader(),
						  &t->b));
	t->empty_result = r;
	PTIO_AWAIT(&task->pt, r, ptio_copy(&c->op,
		ptio_take_reader(&t->take), ptio_sink_writer(&t->sink),
		&t->spill));
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void trivial_one(uint32_t seed)
{
	struct t_trivial t;

	chaos_case_begin(&t.c, seed, SIZE_MAX);
	ptio_repeat_init(&t.rp, (uint8_t)seed);
	ptio_take_init(&t.take, ptio_repeat_reader(&t.rp), t.c.len);
	ptio_sink_init(&t.sink);
	ptio_spill_init(&t.spill, t.spill_mem,
			1 + chaos_below(&t.c.rng, sizeof(t.spill_mem)));
	/* A fixed buffer sees the end of stream if it has a byte of room. */
	ptio_bytes_init(&t.b, t.one, sizeof(t.one), NULL);
	chaos_case_run(&t.c, trivial_task);
	CHAOS_CHECK(t.empty_result == 0 && t.b.len == 0,
		      "seed %u: empty read %s", seed,
		      ptio_strerror(t.empty_result));
	if (!(t.c.deadline && t.c.result == PTIO_ETIMEDOUT))
		CHAOS_CHECK(t.c.result == (ptio_ssize)t.c.len &&
				      t.sink.count == t.c.len,
			      "seed %u: copied %s, sink counted %llu of %zu",
			      seed, ptio_strerror(t.c.result),
			      (unsigned long long)t.sink.count, t.c.len);
	chaos_case_end(&t.c);
}

START_TEST(chaos_empty_repeat_sink)
{
	chaos_run_seeds(trivial_one);
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("chaos-read");
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
	tcase_add_test(tc, chaos_read);
	tcase_add_test(tc, chaos_read_buf);
	tcase_add_test(tc, chaos_read_exact);
	tcase_add_test(tc, chaos_read_buf_exact);
	tcase_add_test(tc, chaos_read_buf_vectored);
	tcase_add_test(tc, chaos_read_to_end);
	tcase_add_test(tc, chaos_read_to_string);
	tcase_add_test(tc, chaos_ready);
	tcase_add_test(tc, chaos_bufreader);
	tcase_add_test(tc, chaos_take);
	tcase_add_test(tc, chaos_take_bufread);
	tcase_add_test(tc, chaos_chain);
	tcase_add_test(tc, chaos_empty_repeat_sink);
	suite_add_tcase(s, tc);
	return s;
}
