/*
 * test/check-chaos-write.c - every provided Write machine, write_fmt and
 * BufWriter against the chaos stream, for 10,000 seeds each.
 *
 * The stream takes short writes (often one byte), blocks, returns EINTR,
 * signals spurious readiness, and sometimes fails for good after a chosen
 * number of bytes.  Each test checks that the stream received exactly the
 * payload's start, in order, nothing duplicated or dropped (count and
 * CRC-32), and that every count a machine reported matches what the
 * stream got.  Machines that report PTIO_EINTR are called again from
 * where their progress says they stopped.  Failures print the seed.
 *
 * Divided into: shared set-up, write, write_vectored, write_all,
 * write_all_vectored, write_fmt, flush and BufWriter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include "test/helpers.h"
#include "test/fake/chaos-stream.h"

/* ---- Shared set-up -------------------------------------------------------- */

/* Sometimes make the stream fail for good after a number of bytes.
 * Returns how many it will take. */
static size_t maybe_cut(struct chaos_case *c)
{
	if (chaos_chance(&c->rng, 100))
		c->s.wr_end_at = chaos_below(&c->rng, (uint32_t)c->len + 1);
	return c->len < c->s.wr_end_at ? c->len : c->s.wr_end_at;
}

/* The result a write-everything loop finished with, given that it wrote
 * TOTAL bytes of the payload. */
static void check_write_result(struct chaos_case *c, size_t avail)
{
	if (c->deadline && c->result == PTIO_ETIMEDOUT)
		return;
	if (avail < c->len)
		CHAOS_CHECK(c->result == PTIO_EPIPE,
			    "seed %u: a failing stream gave %s", c->seed,
			    ptio_strerror(c->result));
	else
		CHAOS_CHECK(c->result >= 0, "seed %u: result %s", c->seed,
			    ptio_strerror(c->result));
}

/* Split the N bytes at P into up to MAX slices, some of them empty. */
static size_t split_iov(uint32_t *rng, struct ptio_iovec *iov, size_t max,
			const uint8_t *p, size_t n)
{
	size_t k = 0, take;

	while (k + 1 < max && n > 0) {
		take = chaos_chance(rng, 200) ? 0 : chaos_below(rng, (uint32_t)n + 1);
		iov[k++] = ptio_iovec_make(p, take);
		p += take;
		n -= take;
	}
	iov[k++] = ptio_iovec_make(p, n);
	return k;
}

#define TASK_BEGIN(type, t, task)                                         \
	type *t = (type *)chaos_case_of(task);                            \
	struct chaos_case *c = &t->c;                                     \
	(void)c

struct t_write {
	struct chaos_case c;
	size_t total;
	size_t chunk;
	bool plain;
	struct ptio_iovec iov[6];
	size_t niov;
	struct ptio_bufwriter bw;
	uint8_t *mem;
	int mode;
};

static struct ptio_write subject_writer(struct t_write *t)
{
	return t->plain ? chaos_stream_writer_plain(&t->c.s)
			: chaos_stream_writer(&t->c.s);
}

static void write_begin(struct t_write *t, uint32_t seed)
{
	chaos_case_begin(&t->c, seed, SIZE_MAX);
	t->total = 0;
	t->plain = chaos_chance(&t->c.rng, 300);
	t->mem = NULL;
	t->niov = 0;
}

/* One seed of a machine whose task needs nothing but write_begin: run
 * it over a stream that may cut the payload short, and check what
 * reached the stream and the result. */
static void write_case(uint32_t seed, ptio_task_fn fn)
{
	struct t_write t;
	size_t avail;

	write_begin(&t, seed);
	avail = maybe_cut(&t.c);
	chaos_case_run(&t.c, fn);
	chaos_case_check_write(&t.c, avail);
	check_write_result(&t.c, avail);
	chaos_case_end(&t.c);
}

/* ---- write --------------------------------------------------------------------- */

static ptio_ssize write_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_write, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	while (t->total < c->len) {
		t->chunk = 1 + chaos_below(&c->rng, (uint32_t)(c->len - t->total));
		PTIO_AWAIT(&task->pt, r, ptio_write(&c->op, subject_writer(t),
			c->payload + t->total, t->chunk));
		if (r == PTIO_EINTR)
			continue;
		if (r < 0)
			break;
		CHAOS_CHECK(r > 0 && (size_t)r <= t->chunk,
			    "seed %u: write returned %zd of %zu", c->seed, r,
			    t->chunk);
		t->total += (size_t)r;
	}
	CHAOS_CHECK(t->total == c->s.out_len, "seed %u: counts %zu, wrote %zu",
		    c->seed, t->total, c->s.out_len);
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void write_one(uint32_t seed)
{
	write_case(seed, write_task);
}

START_TEST(chaos_write)
{
	chaos_run_seeds(write_one);
}
END_TEST

/* ---- write_vectored ---------------------------------------------------------------- */

static ptio_ssize write_vec_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_write, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	while (t->total < c->len) {
		t->niov = split_iov(&c->rng, t->iov, 6, c->payload + t->total,
				    c->len - t->total);
		PTIO_AWAIT(&task->pt, r, ptio_write_vectored(&c->op,
			subject_writer(t), t->iov, t->niov));
		if (r == PTIO_EINTR)
			continue;
		if (r < 0)
			break;
		CHAOS_CHECK(r > 0, "seed %u: write_vectored wrote nothing",
			    c->seed);
		t->total += (size_t)r;
	}
	CHAOS_CHECK(t->total == c->s.out_len, "seed %u: counts %zu, wrote %zu",
		    c->seed, t->total, c->s.out_len);
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void write_vec_one(uint32_t seed)
{
	write_case(seed, write_vec_task);
}

START_TEST(chaos_write_vectored)
{
	chaos_run_seeds(write_vec_one);
}
END_TEST

/* ---- write_all ------------------------------------------------------------------------ */

static ptio_ssize write_all_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_write, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	while (t->total < c->len) {
		t->chunk = 1 + chaos_below(&c->rng, (uint32_t)(c->len - t->total));
		PTIO_AWAIT(&task->pt, r, ptio_write_all(&c->op, subject_writer(t),
			c->payload + t->total, t->chunk));
		t->total += r >= 0 ? (size_t)r : ptio_op_done(&c->op);
		if (r >= 0)
			CHAOS_CHECK((size_t)r == t->chunk, "seed %u: short %zd",
				    c->seed, r);
		else if (r != PTIO_EINTR)
			break;
	}
	CHAOS_CHECK(t->total == c->s.out_len, "seed %u: counts %zu, wrote %zu",
		    c->seed, t->total, c->s.out_len);
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void write_all_one(uint32_t seed)
{
	write_case(seed, write_all_task);
}

START_TEST(chaos_write_all)
{
	chaos_run_seeds(write_all_one);
}
END_TEST

/* ---- write_all_vectored ------------------------------------------------------------------ */

static ptio_ssize write_all_vec_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_write, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	while (t->total < c->len || t->niov == 0) {
		/* The rest of the payload in slices; after an EINTR, the
		 * slices are cut afresh from where the progress says. */
		t->niov = split_iov(&c->rng, t->iov, 6, c->payload + t->total,
				    c->len - t->total);
		PTIO_AWAIT(&task->pt, r, ptio_write_all_vectored(&c->op,
			subject_writer(t), t->iov, t->niov));
		t->total += r >= 0 ? (size_t)r : ptio_op_done(&c->op);
		if (r < 0 && r != PTIO_EINTR)
			break;
	}
	CHAOS_CHECK(t->total == c->s.out_len, "seed %u: counts %zu, wrote %zu",
		    c->seed, t->total, c->s.out_len);
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void write_all_vec_one(uint32_t seed)
{
	write_case(seed, write_all_vec_task);
}

START_TEST(chaos_write_all_vectored)
{
	chaos_run_seeds(write_all_vec_one);
}
END_TEST

/* ---- write_fmt ------------------------------------------------------------------------------ */

/* The arguments of one record; kept in the test's struct because
 * write_fmt reads them again on every resume. */
struct fmt_args {
	int kind;
	int i1, i2, w, p;
	unsigned u1;
	long l1;
	unsigned long ul;
	long long ll;
	unsigned long long ull;
	size_t z;
	ptrdiff_t t;
	char ch;
	const char *s;
	void *ptr;
};

#define FMT0 "%d|%i|%u|%x|%X|%o|%5d|%-5d|%05d|%+d|% d|%.3d|%8.3d|%-8.3x|%#x|%#o|%#.0o|\n"
#define FMT1 "%ld %lu %lx %lld %llu %llX %hhd %hhu %hd %hu %zu %zd %zx %td %jd|\n"
#define FMT2 "%s|%10s|%-10s|%.3s|%10.2s|%c|%5c|%-3c|%%|%*d|%-*d|%.*d|%*.*s|%p|\n"
#define FMT3 "plain text with no conversions at all, and 100%% of it literal\n"

static const char *const words[] = {
	"", "a", "chaos", "stream of bytes", "ptio", "0123456789abcdef",
};

static void fmt_random(uint32_t *rng, struct fmt_args *a)
{
	a->kind = (int)chaos_below(rng, 4);
	a->i1 = (int)chaos_rand(rng) >> chaos_below(rng, 31);
	a->i2 = -(int)(chaos_rand(rng) >> (1 + chaos_below(rng, 31)));
	a->u1 = chaos_rand(rng) >> chaos_below(rng, 32);
	a->w = (int)chaos_below(rng, 24) - 12;
	a->p = (int)chaos_below(rng, 12) - 2;
	a->l1 = (long)((uint64_t)chaos_rand(rng) << 32 | chaos_rand(rng));
	a->ul = (unsigned long)a->l1 * 7u;
	a->ll = -(long long)((uint64_t)chaos_rand(rng) << 31);
	a->ull = ((uint64_t)chaos_rand(rng) << 32) | chaos_rand(rng);
	a->z = (size_t)a->ull >> chaos_below(rng, 64);
	a->t = (ptrdiff_t)a->l1 >> 3;
	a->ch = (char)(' ' + chaos_below(rng, 95));
	a->s = words[chaos_below(rng, sizeof(words) / sizeof(words[0]))];
	a->ptr = (void *)(uintptr_t)(1 + chaos_rand(rng));
}

/* The text of a record, from the C library: the reference. */
static int fmt_expect(char *buf, size_t cap, const struct fmt_args *a)
{
	if (a->kind == 0)
		return snprintf(buf, cap, FMT0, a->i1, a->i2, a->u1, a->u1,
				a->u1, a->u1, a->i1, a->i2, a->i1, a->i1, a->i1,
				a->i2, a->i1, a->u1, a->u1, a->u1, 0u);
	if (a->kind == 1)
		return snprintf(buf, cap, FMT1, a->l1, a->ul, a->ul, a->ll,
				a->ull, a->ull, (signed char)a->i1,
				(unsigned char)a->u1, (short)a->i2,
				(unsigned short)a->u1, a->z, (ptrdiff_t)a->z,
				a->z, a->t, (intmax_t)a->ll);
	if (a->kind == 2)
		return snprintf(buf, cap, FMT2, a->s, a->s, a->s, a->s, a->s,
				a->ch, a->ch, a->ch, a->w, a->i1, a->w, a->i2,
				a->p, a->i1, a->w, a->p, a->s, a->ptr);
	return snprintf(buf, cap, FMT3);
}

/* One record through write_fmt; each branch awaits on its own line. */
static ptio_ssize fmt_call(struct ptio_op *op, struct ptio_write w,
			   const struct fmt_args *a)
{
	if (a->kind == 0)
		return ptio_write_fmt(op, w, FMT0, a->i1, a->i2, a->u1, a->u1,
				      a->u1, a->u1, a->i1, a->i2, a->i1, a->i1,
				      a->i1, a->i2, a->i1, a->u1, a->u1, a->u1,
				      0u);
	if (a->kind == 1)
		return ptio_write_fmt(op, w, FMT1, a->l1, a->ul, a->ul, a->ll,
				      a->ull, a->ull, (signed char)a->i1,
				      (unsigned char)a->u1, (short)a->i2,
				      (unsigned short)a->u1, a->z,
				      (ptrdiff_t)a->z, a->z, a->t,
				      (intmax_t)a->ll);
	if (a->kind == 2)
		return ptio_write_fmt(op, w, FMT2, a->s, a->s, a->s, a->s, a->s,
				      a->ch, a->ch, a->ch, a->w, a->i1, a->w,
				      a->i2, a->p, a->i1, a->w, a->p, a->s,
				      a->ptr);
	return ptio_write_fmt(op, w, FMT3);
}

#define FMT_RECORDS 8

struct t_fmt {
	struct chaos_case c;
	struct fmt_args a[FMT_RECORDS];
	size_t len[FMT_RECORDS];
	size_t n;
	size_t i;
	size_t total;
	bool plain;
};

static ptio_ssize fmt_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_fmt, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	for (t->i = 0; t->i < t->n; t->i++) {
		PTIO_AWAIT(&task->pt, r, fmt_call(&c->op, t->plain
			? chaos_stream_writer_plain(&c->s)
			: chaos_stream_writer(&c->s), &t->a[t->i]));
		CHAOS_CHECK(r != PTIO_EINTR, "seed %u: EINTR leaked", c->seed);
		t->total += r >= 0 ? (size_t)r : ptio_op_done(&c->op);
		if (r < 0)
			break;
		CHAOS_CHECK((size_t)r == t->len[t->i],
			    "seed %u: record %zu: %zd bytes, expected %zu",
			    c->seed, t->i, r, t->len[t->i]);
	}
	CHAOS_CHECK(t->total == c->s.out_len, "seed %u: counts %zu, wrote %zu",
		    c->seed, t->total, c->s.out_len);
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void fmt_one(uint32_t seed)
{
	struct t_fmt t;
	char text[FMT_RECORDS * 512];
	size_t avail, i, len = 0;

	chaos_case_begin(&t.c, seed, sizeof(text));
	t.n = 1 + chaos_below(&t.c.rng, FMT_RECORDS);
	for (i = 0; i < t.n; i++) {
		fmt_random(&t.c.rng, &t.a[i]);
		t.len[i] = (size_t)fmt_expect(text + len, sizeof(text) - len,
					      &t.a[i]);
		len += t.len[i];
	}
	/* The payload is what the C library printed. */
	memcpy(t.c.payload, text, len);
	t.c.len = len;
	t.total = 0;
	t.plain = chaos_chance(&t.c.rng, 300);
	avail = maybe_cut(&t.c);
	chaos_case_run(&t.c, fmt_task);
	chaos_case_check_write(&t.c, avail);
	check_write_result(&t.c, avail);
	chaos_case_end(&t.c);
}

START_TEST(chaos_write_fmt)
{
	chaos_run_seeds(fmt_one);
}
END_TEST

/* ---- flush and BufWriter ---------------------------------------------------------------------- */

/* Through a BufWriter of random size: a random mix of write, write_all
 * and write_vectored, flushes now and then, and a flush at the end. */
static ptio_ssize bufwriter_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_write, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	while (t->total < c->len) {
		t->mode = (int)chaos_below(&c->rng, 4);
		t->chunk = 1 + chaos_below(&c->rng, (uint32_t)(c->len - t->total));
		if (t->chunk > 2 * t->bw.cap && chaos_chance(&c->rng, 700))
			t->chunk = 1 + chaos_below(&c->rng, (uint32_t)(2 * t->bw.cap));
		if (t->mode == 0) {
			PTIO_AWAIT(&task->pt, r, ptio_write(&c->op,
				ptio_bufwriter_writer(&t->bw),
				c->payload + t->total, t->chunk));
			t->total += r > 0 ? (size_t)r : 0;
		} else if (t->mode == 1) {
			t->niov = split_iov(&c->rng, t->iov, 6,
					    c->payload + t->total, t->chunk);
			PTIO_AWAIT(&task->pt, r, ptio_write_vectored(&c->op,
				ptio_bufwriter_writer(&t->bw), t->iov,
				t->niov));
			t->total += r > 0 ? (size_t)r : 0;
		} else if (t->mode == 2) {
			PTIO_AWAIT(&task->pt, r, ptio_write_all(&c->op,
				ptio_bufwriter_writer(&t->bw),
				c->payload + t->total, t->chunk));
			t->total += r >= 0 ? (size_t)r : ptio_op_done(&c->op);
		} else {
			PTIO_AWAIT(&task->pt, r, ptio_flush(&c->op,
				ptio_bufwriter_writer(&t->bw)));
			if (r == 0)
				CHAOS_CHECK(c->s.out_len == t->total &&
					    c->s.flushed == t->total,
					    "seed %u: flush left bytes behind",
					    c->seed);
		}
		if (r < 0 && r != PTIO_EINTR)
			break;
	}
	while (r >= 0 || r == PTIO_EINTR) {
		PTIO_AWAIT(&task->pt, r, ptio_flush(&c->op,
			ptio_bufwriter_writer(&t->bw)));
		if (r == 0)
			break;
	}
	if (r == 0)
		CHAOS_CHECK(ptio_bufwriter_buffered(&t->bw) == 0 &&
			    c->s.flushed == c->len,
			    "seed %u: the final flush left bytes behind",
			    c->seed);
	/* Every byte accepted is either written or still buffered. */
	CHAOS_CHECK(t->total == c->s.out_len + ptio_bufwriter_buffered(&t->bw),
		    "seed %u: accepted %zu, wrote %zu, buffered %zu", c->seed,
		    t->total, c->s.out_len, ptio_bufwriter_buffered(&t->bw));
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void bufwriter_one(uint32_t seed)
{
	struct t_write t;
	size_t avail, cap;

	write_begin(&t, seed);
	avail = maybe_cut(&t.c);
	cap = 1 + chaos_below(&t.c.rng, 1u << (1 + chaos_below(&t.c.rng, 13)));
	t.mem = malloc(cap);
	ptio_bufwriter_init(&t.bw, subject_writer(&t), t.mem, cap);
	chaos_case_run(&t.c, bufwriter_task);
	/* What reached the stream is a prefix; after a clean run, all. */
	chaos_case_check_write(&t.c, t.c.result == 0 ? avail : t.c.s.out_len);
	check_write_result(&t.c, avail);
	free(t.mem);
	chaos_case_end(&t.c);
}

START_TEST(chaos_bufwriter)
{
	chaos_run_seeds(bufwriter_one);
}
END_TEST

/* flush alone, on a stream whose flush blocks and fails like its writes. */
static ptio_ssize flush_task(struct ptio_task *task)
{
	TASK_BEGIN(struct t_write, t, task);
	ptio_ssize r = 0;

	PTIO_BEGIN(&task->pt);
	while (t->total < c->len) {
		t->chunk = 1 + chaos_below(&c->rng, (uint32_t)(c->len - t->total));
		PTIO_AWAIT(&task->pt, r, ptio_write_all(&c->op,
			subject_writer(t), c->payload + t->total, t->chunk));
		t->total += r >= 0 ? (size_t)r : ptio_op_done(&c->op);
		if (r < 0 && r != PTIO_EINTR)
			break;
		do {
			PTIO_AWAIT(&task->pt, r, ptio_flush(&c->op,
				subject_writer(t)));
		} while (r == PTIO_EINTR);
		if (r < 0)
			break;
		CHAOS_CHECK(c->s.flushed == t->total,
			    "seed %u: flushed %zu of %zu", c->seed,
			    c->s.flushed, t->total);
	}
	c->result = r;
	c->finished = true;
	PTIO_END(&task->pt);
}

static void flush_one(uint32_t seed)
{
	write_case(seed, flush_task);
}

START_TEST(chaos_flush)
{
	chaos_run_seeds(flush_one);
}
END_TEST

Suite *ptio_test_suite(void)
{
	Suite *s = suite_create("chaos-write");
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
	tcase_add_test(tc, chaos_write);
	tcase_add_test(tc, chaos_write_vectored);
	tcase_add_test(tc, chaos_write_all);
	tcase_add_test(tc, chaos_write_all_vectored);
	tcase_add_test(tc, chaos_write_fmt);
	tcase_add_test(tc, chaos_flush);
	tcase_add_test(tc, chaos_bufwriter);
	suite_add_tcase(s, tc);
	return s;
}
