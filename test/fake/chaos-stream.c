/*
 * test/fake/chaos-stream.c - the chaos stream and its world (see
 * chaos-stream.h).
 *
 * Divided into: PRNG helpers and CRC, the world (the kit's simulated
 * backend, ptio/sim.h) and its stalls, the stream's faults, the Read side, the Write side, the vtables, cases and seeds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#include <sys/resource.h>
#endif
#include <check.h>
#include "test/fake/chaos-stream.h"

/* ---- PRNG helpers and CRC ----------------------------------------------- */

uint32_t chaos_seed_state(uint32_t seed, uint32_t salt)
{
	/* A splitmix-style scramble so neighbouring seeds differ at once. */
	uint32_t x = seed * 0x9E3779B9u + salt * 0x85EBCA6Bu + 0x6A09E667u;

	x ^= x >> 16;
	x *= 0x7FEB352Du;
	x ^= x >> 15;
	x *= 0x846CA68Bu;
	x ^= x >> 16;
	return x != 0 ? x : 0x1234567u;
}

void chaos_fill(uint32_t *rng, uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(chaos_rand(rng) >> 11);
}

size_t chaos_size_random(uint32_t *rng)
{
	uint32_t r = chaos_below(rng, 1000);

	if (r < 5)
		return 65536 + chaos_below(rng, 196609); /* up to 256 KiB */
	if (r < 50)
		return 4096 + chaos_below(rng, 28673);
	if (r < 600)
		return chaos_below(rng, 4097);
	/* Many tiny ones, down to nothing at all. */
	return chaos_below(rng, 1u << chaos_below(rng, 12));
}

void chaos_profile_random(struct chaos_profile *p, uint32_t *rng, size_t size)
{
	bool big = size > 4096, huge = size > 65536;

	/* Small payloads get the hostile profiles (mostly tiny transfers),
	 * large ones milder ones, so a run stays at some hundreds of calls
	 * whatever its size. */
	p->block = chaos_below(rng, big ? 200 : 500);
	p->shortx = 300 + chaos_below(rng, 700);
	p->one = huge ? chaos_below(rng, 20)
		 : big ? chaos_below(rng, 100) : chaos_below(rng, 700);
	p->short_max = huge ? 512 + chaos_below(rng, 16384)
		       : 1 + chaos_below(rng, 1u << chaos_below(rng,
							    big ? 11 : 6));
	p->long_max = big ? 1024 + chaos_below(rng, 65536)
			  : 1 + chaos_below(rng, 1u << chaos_below(rng, 13));
	p->eintr = chaos_below(rng, 4) == 0 ? 0 : chaos_below(rng, 60);
	p->spurious = chaos_below(rng, 500);
	p->scribble = chaos_below(rng, 500);
	p->max_stall = 1 + chaos_below(rng, 4);
}

static uint32_t crc_table[256];

static void crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t chaos_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t i;

	if (crc_table[1] == 0)
		crc_init();
	crc = ~crc;
	for (i = 0; i < len; i++)
		crc = crc_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

/* ---- The world: the kit's simulated backend ------------------------------- */

/* Start a stall of SLOT on S: its readiness comes back when the stall is
 * over (an event of the sim), or, now and then, spuriously before. */
static void stall_start(struct chaos_stream *s, int slot, unsigned bit)
{
	struct ptio_sim *sim = &s->world->sim;
	uint32_t ticks = 1 + chaos_below(&s->rng, s->prof.max_stall);

	s->stalled[slot] = true;
	s->stall_until[slot] = ptio_tick_after(ptio_sim_now(sim), ticks);
	if (ptio_sim_signal(sim, &s->src, bit, ticks) != 0 ||
	    (chaos_chance(&s->rng, s->prof.spurious) &&
	     ptio_sim_signal(sim, &s->src, bit,
			     chaos_below(&s->rng, ticks)) != 0))
		s->violation = "the sim's event array is full";
}

/* True while SLOT of S is stalled. */
static bool stalling(struct chaos_stream *s, int slot)
{
	if (s->stalled[slot] &&
	    ptio_tick_reached(ptio_sim_now(&s->world->sim),
			      s->stall_until[slot]))
		s->stalled[slot] = false;
	return s->stalled[slot];
}

void chaos_world_init(struct chaos_world *w, uint32_t seed,
		      size_t scratch_len)
{
	memset(w, 0, sizeof(*w));
	ptio_loop_init(&w->loop, ptio_sim_init(&w->sim, 0xFFFFFF00u,
					       chaos_seed_state(seed, 0xC0FFEE),
					       w->ev, CHAOS_MAX_EVENTS));
	if (scratch_len > 0) {
		w->scratch = malloc(scratch_len);
		w->scratch_len = scratch_len;
		ptio_loop_set_scratch(&w->loop, w->scratch, scratch_len);
	}
}

int chaos_world_run(struct chaos_world *w, const char **why)
{
	ptio_ssize r = ptio_loop_run(&w->loop, PTIO_RUN_DEFAULT);
	size_t i;

	*why = NULL;
	if (r == PTIO_SIM_STALL)
		*why = "the loop hung: every task waits and nothing can come";
	else if (r < 0)
		*why = "the loop failed";
	else if (r > 0)
		*why = "tasks left that nothing can wake";
	else if (ptio_loop_registrations(&w->loop) != 0)
		*why = "registrations left in the loop";
	for (i = 0; *why == NULL && i < w->nstreams; i++)
		if (w->streams[i]->violation != NULL)
			*why = w->streams[i]->violation;
	return *why == NULL ? 0 : -1;
}

void chaos_world_destroy(struct chaos_world *w)
{
	free(w->scratch);
	w->scratch = NULL;
}

/* ---- Faults -------------------------------------------------------------------- */

static void violation(struct chaos_stream *s, const char *what)
{
	if (s->violation == NULL)
		s->violation = what;
}

/*
 * The faults every call may meet before it does anything.  Returns 0 to
 * go on, or what the call must return: PTIO_WOULD_BLOCK (with the cached
 * bit cleared), PTIO_EINTR, or PTIO_EIO when the caller is spinning.
 */
static ptio_ssize chaos_enter(struct chaos_stream *s, int slot)
{
	unsigned bit = slot == PTIO_SLOT_READ ? PTIO_READABLE : PTIO_WRITABLE;

	if (++s->calls > s->call_limit) {
		violation(s, "busy loop: far too many calls");
		return PTIO_EIO;
	}
	if (!stalling(s, slot) && chaos_chance(&s->rng, s->prof.block))
		stall_start(s, slot, bit);
	if (stalling(s, slot)) {
		ptio_source_clear(&s->src, bit);
		s->blocks++;
		return PTIO_WOULD_BLOCK;
	}
	if (chaos_chance(&s->rng, s->prof.eintr)) {
		s->eintrs++;
		return PTIO_EINTR;
	}
	return 0;
}

/* How much of WANT to move this time. */
static size_t chaos_amount(struct chaos_stream *s, size_t want)
{
	if (want > s->prof.long_max)
		want = s->prof.long_max;
	if (want <= 1 || !chaos_chance(&s->rng, s->prof.shortx))
		return want;
	s->shorts++;
	if (chaos_chance(&s->rng, s->prof.one))
		return 1;
	if (want > s->prof.short_max)
		want = s->prof.short_max;
	return 1 + chaos_below(&s->rng, (uint32_t)want);
}

/* ---- Read ------------------------------------------------------------------------ */

static size_t input_left(const struct chaos_stream *s)
{
	size_t end = s->in_len < s->rd_end_at ? s->in_len : s->rd_end_at;

	return end - s->in_pos;
}

/* Move up to *BUDGET bytes into RB, scribbling after them sometimes. */
static size_t read_into(struct chaos_stream *s, struct ptio_readbuf *rb,
			size_t budget)
{
	size_t room = ptio_readbuf_remaining(rb);
	size_t k = budget < room ? budget : room;
	size_t extra = 0;

	if (!ptio_readbuf_valid(rb)) {
		violation(s, "readbuf invariants broken on entry");
		return 0;
	}
	memcpy(ptio_readbuf_unfilled(rb), s->in + s->in_pos, k);
	if (room > k && chaos_chance(&s->rng, s->prof.scribble)) {
		extra = 1 + chaos_below(&s->rng, (uint32_t)(room - k < 16
							   ? room - k : 16));
		memset(ptio_readbuf_unfilled(rb) + k, 0xA5, extra);
		(void)ptio_readbuf_assume_init(rb, k + extra);
	}
	(void)ptio_readbuf_advance(rb, k);
	if (!ptio_readbuf_valid(rb))
		violation(s, "readbuf invariants broken after a read");
	s->in_pos += k;
	return k;
}

static ptio_ssize chaos_read_vectored(void *self, struct ptio_readbuf *rbs,
				      size_t n)
{
	struct chaos_stream *s = self;
	size_t i, room = 0, budget, got = 0;
	ptio_ssize r;

	for (i = 0; i < n; i++)
		room += ptio_readbuf_remaining(&rbs[i]);
	if (room > s->max_ask)
		s->max_ask = room;
	if (room == 0)
		return 0;
	r = chaos_enter(s, PTIO_SLOT_READ);
	if (r != 0)
		return r;
	if (input_left(s) == 0)
		return s->rd_end_err;
	budget = chaos_amount(s, room < input_left(s) ? room : input_left(s));
	for (i = 0; i < n && budget > got; i++)
		got += read_into(s, &rbs[i], budget - got);
	return (ptio_ssize)got;
}

static ptio_ssize chaos_read_buf(void *self, struct ptio_readbuf *rb)
{
	return chaos_read_vectored(self, rb, 1);
}

/* ---- Write -------------------------------------------------------------------------- */

static void output(struct chaos_stream *s, const void *buf, size_t k)
{
	if (s->out != NULL) {
		if (s->out_len + k > s->out_cap)
			violation(s, "more output than the test expects");
		else
			memcpy(s->out + s->out_len, buf, k);
	}
	s->out_crc = chaos_crc32(s->out_crc, buf, k);
	s->out_len += k;
}

static ptio_ssize chaos_write_vectored(void *self,
				       const struct ptio_iovec *iov, size_t n)
{
	struct chaos_stream *s = self;
	size_t i, total = 0, budget, k, done = 0;
	ptio_ssize r;

	for (i = 0; i < n; i++)
		total += iov[i].len;
	if (total == 0)
		return 0;
	r = chaos_enter(s, PTIO_SLOT_WRITE);
	if (r != 0)
		return r;
	if (s->out_len >= s->wr_end_at)
		return s->wr_end_err;
	budget = chaos_amount(s, total);
	if (budget > s->wr_end_at - s->out_len)
		budget = s->wr_end_at - s->out_len;
	for (i = 0; i < n && done < budget; i++) {
		k = iov[i].len < budget - done ? iov[i].len : budget - done;
		output(s, iov[i].base, k);
		done += k;
	}
	return (ptio_ssize)done;
}

static ptio_ssize chaos_write(void *self, const void *buf, size_t len)
{
	struct ptio_iovec v = ptio_iovec_make(buf, len);

	return chaos_write_vectored(self, &v, 1);
}

static ptio_ssize chaos_flush(void *self)
{
	struct chaos_stream *s = self;
	ptio_ssize r = chaos_enter(s, PTIO_SLOT_WRITE);

	if (r != 0)
		return r;
	if (s->out_len > s->wr_end_at)
		return s->wr_end_err;
	s->flushed = s->out_len;
	return 0;
}

static ptio_ssize chaos_poll_ready(void *self, struct ptio_task *task,
				   unsigned interest)
{
	struct chaos_stream *s = self;

	s->polls++;
	return ptio_source_poll(&s->src, task, interest);
}

/* ---- Vtables and set-up ----------------------------------------------------------- */

static const struct ptio_read_vt chaos_read_vt = {
	.ready = { .poll_ready = chaos_poll_ready },
	.nb_read_buf = chaos_read_buf,
	.nb_read_buf_vectored = chaos_read_vectored,
};

static const struct ptio_read_vt chaos_read_plain_vt = {
	.ready = { .poll_ready = chaos_poll_ready },
	.nb_read_buf = chaos_read_buf,
};

static const struct ptio_write_vt chaos_write_vt = {
	.ready = { .poll_ready = chaos_poll_ready },
	.nb_write = chaos_write,
	.nb_write_vectored = chaos_write_vectored,
	.nb_flush = chaos_flush,
};

static const struct ptio_write_vt chaos_write_plain_vt = {
	.ready = { .poll_ready = chaos_poll_ready },
	.nb_write = chaos_write,
	.nb_flush = chaos_flush,
};

void chaos_stream_init(struct chaos_stream *s, struct chaos_world *w,
		       uint32_t seed, uint32_t salt,
		       const struct chaos_profile *prof)
{
	memset(s, 0, sizeof(*s));
	s->world = w;
	s->rng = chaos_seed_state(seed, salt);
	s->prof = *prof;
	/* Start ready or not (ready at the first wait), as the seed says:
	 * both paths get exercised. */
	ptio_source_init(&s->src, 0, 0);
	if (chaos_chance(&s->rng, 500))
		ptio_source_ready(&s->src, PTIO_READABLE | PTIO_WRITABLE);
	else
		(void)ptio_sim_signal(&w->sim, &s->src,
				      PTIO_READABLE | PTIO_WRITABLE, 0);
	s->rd_end_at = SIZE_MAX;
	s->wr_end_at = SIZE_MAX;
	s->wr_end_err = PTIO_EPIPE;
	s->call_limit = 100000;
	if (w->nstreams < CHAOS_MAX_STREAMS)
		w->streams[w->nstreams++] = s;
}

void chaos_stream_input(struct chaos_stream *s, const void *in, size_t len)
{
	s->in = in;
	s->in_len = len;
	s->in_pos = 0;
	s->call_limit += 8 * (unsigned long)len;
}

void chaos_stream_output(struct chaos_stream *s, void *out, size_t cap)
{
	s->out = out;
	s->out_cap = cap;
	s->call_limit += 8 * (unsigned long)cap;
}

struct ptio_ready chaos_stream_ready(struct chaos_stream *s)
{
	return ptio_read_as_ready(chaos_stream_reader(s));
}

struct ptio_read chaos_stream_reader(struct chaos_stream *s)
{
	struct ptio_read r = { s, &chaos_read_vt };

	return r;
}

struct ptio_read chaos_stream_reader_plain(struct chaos_stream *s)
{
	struct ptio_read r = { s, &chaos_read_plain_vt };

	return r;
}

struct ptio_write chaos_stream_writer(struct chaos_stream *s)
{
	struct ptio_write w = { s, &chaos_write_vt };

	return w;
}

struct ptio_write chaos_stream_writer_plain(struct chaos_stream *s)
{
	struct ptio_write w = { s, &chaos_write_plain_vt };

	return w;
}

/* ---- Running seeds ------------------------------------------------------------------ */

void chaos_seed_range(uint32_t *first, uint32_t *last)
{
	struct ptio_sim_seeds s;

	ptio_sim_seeds_init(&s, 10000, getenv("PTIO_CHAOS_SEED"),
			    getenv("PTIO_CHAOS_SEEDS"));
	*first = s.first;
	*last = s.last;
}

/* SECS for 10,000 seeds: more in proportion to more seeds, and times
 * CK_TIMEOUT_MULTIPLIER; at least 1. */
static double chaos_scale(unsigned secs)
{
	const char *mult = getenv("CK_TIMEOUT_MULTIPLIER");
	uint32_t first, last;
	double t = secs;

	chaos_seed_range(&first, &last);
	if (last > 10000)
		t = t * last / 10000;
	if (mult != NULL && strtod(mult, NULL) > 0)
		t *= strtod(mult, NULL);
	return t < 1 ? 1 : t > 100000 ? 100000 : t;
}

static unsigned chaos_cpu_secs;

/* A checked fixture: it runs in each test's own process (fork mode). */
static void chaos_cpu_limit(void)
{
	const char *fork = getenv("CK_FORK");
	struct rlimit rl;

	if (fork != NULL && strcmp(fork, "no") == 0)
		return;
	if (getrlimit(RLIMIT_CPU, &rl) != 0)
		return;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > chaos_cpu_secs)
		rl.rlim_cur = chaos_cpu_secs;
	(void)setrlimit(RLIMIT_CPU, &rl);
}

void chaos_tcase_limits(TCase *tc, unsigned cpu_secs, unsigned wall_secs)
{
	const char *mult = getenv("CK_TIMEOUT_MULTIPLIER");

	chaos_cpu_secs = (unsigned)(chaos_scale(cpu_secs) + 0.5);
	tcase_add_checked_fixture(tc, chaos_cpu_limit, NULL);
	/* Check multiplies by CK_TIMEOUT_MULTIPLIER itself. */
	tcase_set_timeout(tc, chaos_scale(wall_secs) /
			  (mult != NULL && strtod(mult, NULL) > 0 ?
			   strtod(mult, NULL) : 1));
}

/* ---- Cases ---------------------------------------------------------------------------- */

void chaos_case_begin(struct chaos_case *c, uint32_t seed, size_t size)
{
	size_t scratch = 0;

	memset(c, 0, sizeof(*c));
	c->seed = seed;
	c->rng = chaos_seed_state(seed, 0xCA5E);
	c->len = size != SIZE_MAX ? size : chaos_size_random(&c->rng);
	c->payload = malloc(c->len + 1);
	c->got = malloc(c->len + 1);
	CHAOS_CHECK(c->payload != NULL && c->got != NULL, "out of memory");
	chaos_fill(&c->rng, c->payload, c->len);
	chaos_profile_random(&c->prof, &c->rng, c->len);
	if (chaos_below(&c->rng, 4) != 0)
		scratch = 1 + chaos_below(&c->rng, 1u << chaos_below(&c->rng, 17));
	chaos_world_init(&c->w, seed, scratch);
	chaos_stream_init(&c->s, &c->w, seed, 1, &c->prof);
	chaos_stream_input(&c->s, c->payload, c->len);
	chaos_stream_output(&c->s, malloc(c->len + 1), c->len);
}

void chaos_case_collect(struct chaos_case *c, const void *data, size_t n)
{
	if (n == 0)
		return; /* DATA may be NULL then (an empty ptio_bytes) */
	CHAOS_CHECK(c->got_len + n <= c->len,
		      "seed %u: %zu bytes delivered of a %zu-byte payload",
		      c->seed, c->got_len + n, c->len);
	memcpy(c->got + c->got_len, data, n);
	c->got_len += n;
}

void chaos_case_run(struct chaos_case *c, ptio_task_fn fn)
{
	const char *why;

	ptio_timed_task_start(&c->w.loop, &c->tt, fn);
	ptio_op_init(&c->op, &c->tt.task);
	if (chaos_chance(&c->rng, 50)) {
		c->deadline = true;
		ptio_task_set_deadline(&c->tt, ptio_loop_now(&c->w.loop) + 1 +
						       chaos_below(&c->rng, 60));
	}
	CHAOS_CHECK(chaos_world_run(&c->w, &why) == 0, "seed %u: %s", c->seed,
		      why);
	CHAOS_CHECK(c->finished, "seed %u: the task did not finish", c->seed);
	CHAOS_CHECK(c->result != PTIO_ETIMEDOUT || c->deadline,
		      "seed %u: timed out with no deadline", c->seed);
}

/* Whether a run may have stopped short: on its deadline. */
static bool cut_short(const struct chaos_case *c)
{
	return c->deadline && c->result == PTIO_ETIMEDOUT;
}

void chaos_case_check_read(struct chaos_case *c, size_t expect)
{
	CHAOS_CHECK(memcmp(c->got, c->payload, c->got_len) == 0 &&
			      chaos_crc32(0, c->got, c->got_len) ==
				      chaos_crc32(0, c->payload, c->got_len),
		      "seed %u: delivered bytes differ from the payload",
		      c->seed);
	CHAOS_CHECK(c->got_len == expect || (cut_short(c) && c->got_len < expect),
		      "seed %u: %zu bytes delivered, %zu expected (result %s)",
		      c->seed, c->got_len, expect, ptio_strerror(c->result));
}

void chaos_case_check_write(struct chaos_case *c, size_t expect)
{
	struct chaos_stream *s = &c->s;

	CHAOS_CHECK(s->out_len <= c->len &&
			      memcmp(s->out, c->payload, s->out_len) == 0 &&
			      s->out_crc == chaos_crc32(0, c->payload, s->out_len),
		      "seed %u: written bytes differ from the payload", c->seed);
	CHAOS_CHECK(s->out_len == expect || (cut_short(c) && s->out_len < expect),
		      "seed %u: %zu bytes written, %zu expected (result %s)",
		      c->seed, s->out_len, expect, ptio_strerror(c->result));
}

/* Totals over a run of seeds, printed with PTIO_CHAOS_STATS=1. */
static struct {
	unsigned long long bytes, calls, blocks, eintrs, shorts, waits;
	unsigned long deadlines, timeouts;
} stats;

void chaos_case_end(struct chaos_case *c)
{
	stats.bytes += c->len;
	stats.calls += c->s.calls;
	stats.blocks += c->s.blocks;
	stats.eintrs += c->s.eintrs;
	stats.shorts += c->s.shorts;
	stats.waits += c->w.sim.waits;
	stats.deadlines += c->deadline;
	stats.timeouts += c->deadline && c->result == PTIO_ETIMEDOUT;
	free(c->payload);
	free(c->got);
	free(c->s.out);
	chaos_world_destroy(&c->w);
}

void chaos_run_seeds(void (*one)(uint32_t seed))
{
	uint32_t seed, first, last;

	chaos_seed_range(&first, &last);
#ifdef M_MMAP_THRESHOLD
	/* Every seed allocates and frees buffers of up to 256 KiB; keep
	 * them on the heap instead of an mmap and munmap each time. */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
	memset(&stats, 0, sizeof(stats));
	for (seed = first; seed <= last && seed >= first; seed++)
		one(seed);
	if (getenv("PTIO_CHAOS_STATS") != NULL)
		fprintf(stderr, "%u seeds: %llu payload bytes, %llu calls, "
			"%llu blocks, %llu EINTR, %llu short, %llu waits, "
			"%lu deadlines (%lu hit)\n", last - first + 1,
			stats.bytes, stats.calls, stats.blocks, stats.eintrs,
			stats.shorts, stats.waits, stats.deadlines,
			stats.timeouts);
}
