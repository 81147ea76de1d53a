/*
 * test/fake/chaos-stream.h - a stream that misbehaves on purpose, driven by
 * a seeded PRNG, and the little world (loop + backend) it lives in.
 *
 * A chaos_stream is a Ready + Read + Write over memory.  Reads serve an
 * input array; writes go to an output array and into a running CRC-32.
 * Every non-blocking call may, as the seed decides:
 *
 *   - return PTIO_WOULD_BLOCK and stall for a few of the world's waits
 *     (clearing the cached readiness bit, as a real stream must);
 *   - move fewer bytes than asked, very often exactly one;
 *   - return PTIO_EINTR having done nothing.  Real streams retry EINTR
 *     themselves (the fd stream does) and never return it; this stream
 *     models one that does not, to prove every provided machine either
 *     retries it or reports it with its progress intact, so that calling
 *     again resumes exactly (profile.eintr = 0 turns it off);
 *   - scribble past the bytes it read into the readbuf's unfilled room and
 *     mark them initialised, so a caller that confuses "initialised" with
 *     "filled" reads garbage and fails the byte check;
 *   - end the input (EOF) or fail (a reset) at a chosen offset, and fail
 *     writes after a chosen number of bytes.
 *
 * The world is the testing kit's simulated backend (ptio/sim.h): a stall
 * lasts a few virtual ticks and its end is an event of the sim that makes
 * the stream ready again; now and then a second event signals readiness
 * while it is still stalled (spurious readiness: the next call just
 * blocks again).  The clock jumps to the next event or timer, so
 * deadlines work, and a run where every task waits for something that
 * cannot come ends with the sim's PTIO_SIM_STALL instead of hanging.
 *
 * The stream checks what it is handed (readbuf invariants on every call)
 * and records the first contract violation it sees, and guards against a
 * caller that spins without waiting.  A test that fails prints the seed;
 * `PTIO_CHAOS_SEED=n` reruns one seed, `PTIO_CHAOS_SEEDS=n` sets how
 * many run (10,000 by default).
 */
#ifndef PTIO_TEST_CHAOS_STREAM_H
#define PTIO_TEST_CHAOS_STREAM_H

#include <check.h>
#include "test/helpers.h"
#include <ptio.h>
#include <ptio/sim.h>

/* CHAOS_CHECK(cond, fmt, ...) - fail the test with the message unless
 * COND.  Check's own ck_assert_msg reports every passing check to the
 * parent process (one write per check), which would dominate the run
 * time of millions of checks; this one costs nothing when it passes. */
#define CHAOS_CHECK(cond, ...)                                            \
	do {                                                              \
		if (!(cond))                                              \
			ck_abort_msg(__VA_ARGS__);                        \
	} while (0)

/* ---- The PRNG (xorshift32) ----------------------------------------------- */

static inline uint32_t chaos_rand(uint32_t *s)
{
	return ptio_test_xorshift(s);
}

/* Uniform in [0, n) (n > 0; the bias is irrelevant here). */
static inline uint32_t chaos_below(uint32_t *s, uint32_t n)
{
	return chaos_rand(s) % n;
}

/* True with probability PERMILLE / 1000. */
static inline bool chaos_chance(uint32_t *s, unsigned permille)
{
	return chaos_below(s, 1000) < permille;
}

/* A seed's PRNG state: never zero, and different seeds spread apart. */
uint32_t chaos_seed_state(uint32_t seed, uint32_t salt);

/* ---- Profiles -------------------------------------------------------------- */

struct chaos_profile {
	unsigned block;     /* per mille of calls that would block */
	unsigned shortx;    /* per mille of transfers cut short */
	unsigned one;       /* per mille of short transfers cut to one byte */
	size_t short_max;   /* the longest a short transfer is */
	size_t long_max;    /* the longest any transfer is (a socket
			       buffer's worth) */
	unsigned eintr;     /* per mille of calls that return PTIO_EINTR */
	unsigned spurious;  /* per mille of stalls that signal early too */
	unsigned scribble;  /* per mille of reads that scribble past the data */
	unsigned max_stall; /* virtual ticks a stall lasts, at most */
};

/* A random profile; the larger SIZE (the payload), the milder, to keep
 * the number of calls per run bounded. */
void chaos_profile_random(struct chaos_profile *p, uint32_t *rng, size_t size);

/* A random payload size: mostly small, sometimes up to 256 KiB. */
size_t chaos_size_random(uint32_t *rng);

/* Fill BUF with LEN bytes from RNG. */
void chaos_fill(uint32_t *rng, uint8_t *buf, size_t len);

/* ---- CRC-32 (IEEE, reflected) --------------------------------------------- */

uint32_t chaos_crc32(uint32_t crc, const void *buf, size_t len);

/* ---- The world --------------------------------------------------------------- */

#define CHAOS_MAX_STREAMS 4
/* A stall schedules at most two events per slot (its end, and maybe a
 * spurious wake-up before it). */
#define CHAOS_MAX_EVENTS (CHAOS_MAX_STREAMS * 4 + 4)

struct chaos_stream;

struct chaos_world {
	struct ptio_sim sim;      /* first: the backend, clock and events */
	struct ptio_sim_event ev[CHAOS_MAX_EVENTS];
	struct ptio_loop loop;
	struct chaos_stream *streams[CHAOS_MAX_STREAMS];
	size_t nstreams;
	uint8_t *scratch; /* lent to the loop; owned by the world */
	size_t scratch_len;
};

/* Set up W from SEED, lending the loop SCRATCH_LEN bytes of scratch
 * (0: none).  The clock starts just before the 32-bit wrap. */
void chaos_world_init(struct chaos_world *w, uint32_t seed,
		      size_t scratch_len);

/* Run the loop until no task is left.  Returns 0, or -1 with *WHY set when
 * the loop failed, hung, or kept a registration. */
int chaos_world_run(struct chaos_world *w, const char **why);

void chaos_world_destroy(struct chaos_world *w);

/* ---- The stream ---------------------------------------------------------------- */

struct chaos_stream {
	struct ptio_source src; /* first */
	struct chaos_world *world;
	uint32_t rng;
	struct chaos_profile prof;
	/* Read side: IN[0, min(in_len, rd_end_at)), then end of stream if
	 * RD_END_ERR is 0, else RD_END_ERR on every later call. */
	const uint8_t *in;
	size_t in_len;
	size_t in_pos;
	size_t rd_end_at;
	ptio_ssize rd_end_err;
	/* Write side: accepts WR_END_AT bytes, then fails with WR_END_ERR.
	 * The bytes go to OUT (when not NULL, up to OUT_CAP) and OUT_CRC. */
	uint8_t *out;
	size_t out_cap;
	size_t out_len;
	uint32_t out_crc;
	size_t wr_end_at;
	ptio_ssize wr_end_err;
	size_t flushed;          /* out_len at the last successful flush */
	bool stalled[2];         /* read and write side stalled ... */
	ptio_tick stall_until[2]; /* ... until this tick */
	/* What happened. */
	unsigned long calls, blocks, eintrs, shorts, polls;
	unsigned long call_limit; /* more calls than this is a busy loop */
	size_t max_ask;           /* largest read room a caller offered */
	const char *violation;    /* the first contract breach, or NULL */
};

/* Make S a stream of W with a PRNG from SEED and SALT and profile PROF.
 * Input and output are empty until set. */
void chaos_stream_init(struct chaos_stream *s, struct chaos_world *w,
		       uint32_t seed, uint32_t salt,
		       const struct chaos_profile *prof);

void chaos_stream_input(struct chaos_stream *s, const void *in, size_t len);
void chaos_stream_output(struct chaos_stream *s, void *out, size_t cap);

struct ptio_ready chaos_stream_ready(struct chaos_stream *s);
struct ptio_read chaos_stream_reader(struct chaos_stream *s);
/* Read without nb_read_buf_vectored (the provided default is used). */
struct ptio_read chaos_stream_reader_plain(struct chaos_stream *s);
struct ptio_write chaos_stream_writer(struct chaos_stream *s);
/* Write without nb_write_vectored (the provided default is used). */
struct ptio_write chaos_stream_writer_plain(struct chaos_stream *s);

/* ---- Running seeds ------------------------------------------------------------- */

/* The seeds to run: PTIO_CHAOS_SEED=n runs only n; otherwise 1 ..
 * PTIO_CHAOS_SEEDS (default 10000). */
void chaos_seed_range(uint32_t *first, uint32_t *last);

/*
 * Bound every test of TC, whose slowest test needs at most CPU_SECS of
 * processor time for 10,000 seeds, so that a hung test fails fast: a
 * test that spins (a timer that fires a tick early, a machine that never
 * finishes) is killed by SIGXCPU after CPU_SECS of processor time,
 * however loaded the machine; one that sleeps, by Check's timeout after
 * WALL_SECS.  Both grow in proportion when PTIO_CHAOS_SEEDS asks for more
 * seeds, and both are multiplied by CK_TIMEOUT_MULTIPLIER (for a slower
 * machine).  With CK_FORK=no (under valgrind) there is neither: Check
 * enforces no timeout without fork, and a processor limit would count
 * every test of the run.
 */
void chaos_tcase_limits(TCase *tc, unsigned cpu_secs, unsigned wall_secs);

/* ---- A case: one seed's run of one machine --------------------------------- */

/*
 * What every chaos test needs for one seed: a world, one stream (more can
 * be added by the test), a random payload the stream serves, a buffer
 * that collects what the machine under test delivered, and the timed task
 * that runs it.  A test embeds this first in its own struct and gets it
 * back in its task function with chaos_case_of().
 */
struct chaos_case {
	struct ptio_timed_task tt;   /* first */
	struct ptio_op op;
	struct chaos_world w;
	struct chaos_stream s;
	struct chaos_profile prof;
	uint32_t seed;
	uint32_t rng;                /* the test's own choices */
	uint8_t *payload;            /* what the stream serves */
	size_t len;
	uint8_t *got;                /* what the machine delivered */
	size_t got_len;
	bool deadline;               /* a task deadline was set */
	bool finished;               /* the task reached its end */
	ptio_ssize result;           /* the machine's last result */
};

static inline struct chaos_case *chaos_case_of(struct ptio_task *task)
{
	return PTIO_CONTAINER_OF(task, struct chaos_case, tt.task);
}

/* Set C up for SEED: payload of a random size (or SIZE when not
 * SIZE_MAX), a profile, the stream serving the payload and writing to an
 * output buffer of the payload's size, a scratch buffer of random size. */
void chaos_case_begin(struct chaos_case *c, uint32_t seed, size_t size);

/* Append N delivered bytes (failing the test if more arrive than the
 * payload holds). */
void chaos_case_collect(struct chaos_case *c, const void *data, size_t n);

/* Start FN as C's task (with a task deadline now and then), run the world
 * to the end, and fail the test, naming the seed, if the loop hung,
 * kept a registration or the stream saw a contract breach. */
void chaos_case_run(struct chaos_case *c, ptio_task_fn fn);

/* The checks every reading test ends with: what was delivered is the
 * start of the payload, byte for byte (count and CRC-32), and it is
 * exactly EXPECT bytes unless the run ended early on a deadline. */
void chaos_case_check_read(struct chaos_case *c, size_t expect);

/* The same for writing tests: the stream's output is the payload's first
 * EXPECT bytes (count and CRC-32), or, after a deadline, a prefix. */
void chaos_case_check_write(struct chaos_case *c, size_t expect);

void chaos_case_end(struct chaos_case *c);

/* Run ONE for every seed in the range, printing the seed on failure. */
void chaos_run_seeds(void (*one)(uint32_t seed));

#endif /* PTIO_TEST_CHAOS_STREAM_H */
