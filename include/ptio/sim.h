/*
 * ptio/sim.h - the testing kit: virtual time, simulated streams with
 * seeded faults, a seed runner, and a simulated CPU for firmware code.
 *
 * Test a protocol machine on a host without sockets and without waiting:
 *
 *   1. The simulated backend (struct ptio_sim).  A loop over it runs on
 *      virtual time: when no task is ready, wait() jumps the clock straight
 *      to the next timer or scheduled event, so a 30-second idle timeout
 *      takes microseconds and fires at the same tick on every machine.
 *      With nothing left to wait for it returns PTIO_SIM_STALL instead of
 *      hanging (every task is stuck: a deadlock in the code under test).
 *      It also owns the seeded generator everything random draws from.
 *   2. Duplex streams (struct ptio_sim_duplex): two ptio_pipes (ptio/pipe.h)
 *      in opposite directions; each end is Read + Write + BufRead + Ready
 *      on one source.  A fault layer on each end, drawn from the seed,
 *      injects would-block, short transfers down to one byte, spurious
 *      readiness, latency (a stall lasts up to that many virtual ticks),
 *      early end of stream and connection resets; each rate is settable
 *      and ptio_sim_perfect turns them all off.
 *   3. The seed runner (struct ptio_sim_seeds): run a scenario over many
 *      seeds, stop at the first that fails and say how to rerun it alone
 *      (PTIO_SIM_SEED=n).  It returns a message instead of printing, so it
 *      works under Check, another runner, or none.
 *   4. The simulated CPU: port hooks (ptio/port.h) whose clock is the
 *      sim's, whose idle hook jumps to the next event, and whose interrupt
 *      mask is a flag; and fake interrupt lines (struct ptio_sim_irq) a
 *      test raises now or after a delay.  A driver and its task run on
 *      the host under the same port backend as on the board.
 *
 * Same seed, same run: nothing here reads real time or host state, and
 * every choice comes from the sim's generator in the order the code under
 * test makes its calls.  Nothing allocates (events live in an array the
 * caller lends), and the kit is freestanding like the core.
 */
#ifndef PTIO_SIM_H
#define PTIO_SIM_H

#include "base.h"
#include "err.h"
#include "io.h"
#include "loop.h"
#include "bufread.h"
#include "pipe.h"
#include "port.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- 1. The simulated backend ------------------------------------------ */

/* What the sim's wait returns (and ptio_loop_run hands back) when no task
 * can ever be woken: no timer, no event, no interrupt scheduled. */
#define PTIO_SIM_STALL PTIO_ECANCELED

struct ptio_sim_irq;

/* One scheduled happening: ptio_source_ready(src, bits), or the raising
 * of interrupt line IRQ, at tick WHEN. */
struct ptio_sim_event {
	struct ptio_source *src;
	struct ptio_sim_irq *irq;
	ptio_tick when;
	uint8_t bits;
};

struct ptio_sim {
	struct ptio_backend base;     /* first: what the loop holds */
	ptio_tick now;                /* the virtual clock */
	uint32_t rng;                 /* xorshift32 state, never 0 */
	struct ptio_sim_event *ev;    /* scheduled, in the order scheduled */
	size_t nev, maxev;
	unsigned long waits;          /* calls of wait (or idle) */
	unsigned long overflows;      /* events that found the array full */
	/* The simulated CPU (section 4). */
	struct ptio_sim_irq *irqs;    /* lines, linked through next */
	uint8_t masked;               /* interrupts masked */
	uint8_t in_isr;               /* a handler runs (no nesting) */
	uint8_t stalled;              /* idle found nothing to wait for
					 (sticky: a stall is a failure) */
};

/* The backend's vtable: now = sim->now; wait = jump to the earliest of
 * TIMEOUT and the next event, then deliver what is due; update does
 * nothing (no sim source is watched by the backend).  Exposed so a test
 * backend can wrap it (test/fake/fake-backend.c does). */
extern const struct ptio_backend_vt ptio_sim_backend_vt;

/* Initialise SIM with its clock at START and its generator seeded from
 * SEED (any value, 0 included), scheduling into EVENTS (MAXEV entries,
 * the caller's, outliving SIM).  Returns &sim->base for ptio_loop_init. */
struct ptio_backend *ptio_sim_init(struct ptio_sim *sim, ptio_tick start,
				   uint32_t seed, struct ptio_sim_event *events,
				   size_t maxev);

static inline ptio_tick ptio_sim_now(const struct ptio_sim *sim)
{
	return sim->now;
}

/* Move the clock by TICKS now (as if the CPU were busy that long); what
 * comes due is delivered at the next wait. */
void ptio_sim_advance(struct ptio_sim *sim, uint32_t ticks);

/* Schedule ptio_source_ready(SRC, BITS) DELAY ticks from now (0: at the
 * next wait, without moving the clock).  Events due at one tick happen
 * in the order scheduled.  Returns 0, or PTIO_ENOSPC when the event array
 * is full (counted in sim->overflows; nothing is scheduled). */
ptio_ssize ptio_sim_signal(struct ptio_sim *sim, struct ptio_source *src,
			   unsigned bits, uint32_t delay);

/* Drop every event scheduled for SRC (NULL: every event). */
void ptio_sim_forget(struct ptio_sim *sim, const struct ptio_source *src);

/* Run every event due now (the backend's wait does this itself). */
void ptio_sim_deliver(struct ptio_sim *sim);

/* The generator: the next 32 random bits; uniform in [0, N) (N > 0); true
 * with probability PERMILLE/1000.  Every draw advances the one sequence,
 * so the order of calls is part of what a seed reproduces. */
uint32_t ptio_sim_rand(struct ptio_sim *sim);
uint32_t ptio_sim_below(struct ptio_sim *sim, uint32_t n);
bool ptio_sim_chance(struct ptio_sim *sim, unsigned permille);

/* ---- 2. Duplex streams with faults ------------------------------------- */

/* Fault rates, per mille of calls (0 to 1000), and the latency bound. */
struct ptio_sim_faults {
	uint16_t block;    /* a call returns PTIO_WOULD_BLOCK (a stall) */
	uint16_t shortx;   /* a transfer is cut short ... */
	uint16_t one;      /* ... and of those, cut to exactly one byte */
	uint16_t spurious; /* a wait is woken while nothing changed */
	uint16_t eof;      /* a read ends the stream early (then 0 always) */
	uint16_t reset;    /* a call resets the connection, both ends */
	uint32_t latency;  /* a stall or a spurious wake-up comes after 0 to
			      LATENCY virtual ticks */
};

/* No faults at all: a stream as well-behaved as an ideal socket. */
extern const struct ptio_sim_faults ptio_sim_perfect;

/* One end of a duplex stream.  Its source carries READABLE for what the
 * peer sent and WRITABLE for room toward the peer. */
struct ptio_sim_end {
	struct ptio_source src;        /* first */
	struct ptio_sim *sim;
	struct ptio_pipe *in;          /* peer -> this end */
	struct ptio_pipe *out;         /* this end -> peer */
	struct ptio_sim_end *peer;
	struct ptio_sim_faults faults;
	size_t view;                   /* what the last fill_buf showed */
	uint8_t state;                 /* early EOF, reset, closed */
	unsigned long calls;           /* non-blocking calls made */
	unsigned long injected;        /* faults injected */
};

struct ptio_sim_duplex {
	struct ptio_pipe ab;           /* a -> b */
	struct ptio_pipe ba;           /* b -> a */
	struct ptio_sim_end a, b;
};

/* Connect D's two ends on SIM, each direction buffering CAP bytes: BUF
 * must hold 2 * CAP bytes, the caller's.  Both ends start perfect. */
void ptio_sim_duplex_init(struct ptio_sim_duplex *d, struct ptio_sim *sim,
			  void *buf, size_t cap);

/* Set E's fault rates (a copy is kept). */
void ptio_sim_end_set_faults(struct ptio_sim_end *e,
			     const struct ptio_sim_faults *f);

/* Draw random but bounded fault rates into F (for chaos runs). */
void ptio_sim_faults_random(struct ptio_sim *sim, struct ptio_sim_faults *f);

/* The trait objects of end E. */
struct ptio_ready ptio_sim_end_ready(struct ptio_sim_end *e);
struct ptio_read ptio_sim_end_reader(struct ptio_sim_end *e);
struct ptio_bufread ptio_sim_end_bufread(struct ptio_sim_end *e);
struct ptio_write ptio_sim_end_writer(struct ptio_sim_end *e);

/* Half-close E, as shutdown(SHUT_WR): the peer reads what was sent, then
 * end of stream; E can still read.  Idempotent. */
void ptio_sim_end_shutdown(struct ptio_sim_end *e);

/* Hang up E, as closing a socket: the peer reads what was sent, then end
 * of stream, and its writes fail with PTIO_EPIPE.  E's own calls fail
 * with PTIO_ECLOSED; its waiters wake; its scheduled events are dropped.
 * Idempotent.  Close both ends before the sim goes away. */
void ptio_sim_end_close(struct ptio_sim_end *e);

/* ---- 3. Running seeds ---------------------------------------------------- */

/* A scenario: 0 when SEED passed, anything else when it failed. */
typedef int (*ptio_sim_scenario)(uint32_t seed, void *ctx);

struct ptio_sim_seeds {
	uint32_t first, last;    /* the range to run, inclusive */
	uint32_t failed;         /* the seed that failed, after a failure */
	int result;              /* what the scenario returned for it */
	uint32_t ran;            /* seeds run */
	char message[96];        /* "seed N failed (...): rerun with ..." */
};

/* Set the range: seeds 1 to COUNT, unless ONE (the text of an environment
 * variable such as PTIO_SIM_SEED, or NULL) holds a decimal number, which
 * is then the only seed; COUNT_TEXT (e.g. PTIO_SIM_SEEDS, or NULL), when
 * it holds a number, replaces COUNT.  The kit reads no environment
 * itself: pass getenv("PTIO_SIM_SEED"), getenv("PTIO_SIM_SEEDS"). */
void ptio_sim_seeds_init(struct ptio_sim_seeds *s, uint32_t count,
			 const char *one, const char *count_text);

/* Run FN(seed, CTX) for every seed in S's range, stopping at the first
 * failure.  Returns 0 when every seed passed; otherwise -1 with
 * s->failed, s->result and s->message set (the message names the seed
 * and the variable to set to rerun just that one). */
int ptio_sim_seeds_run(struct ptio_sim_seeds *s, ptio_sim_scenario fn,
		       void *ctx);

/* ---- 4. The simulated CPU ------------------------------------------------ */

/* A fake interrupt line.  Its handler runs when the line is raised while
 * interrupts are unmasked, or when they are unmasked after it was raised
 * while masked (raises in between merge, as on a real controller). */
struct ptio_sim_irq {
	void (*isr)(void *arg);
	void *arg;
	struct ptio_sim *sim;
	struct ptio_sim_irq *next;   /* the sim's list of lines */
	uint8_t pending;             /* raised, handler not yet run */
	unsigned long taken;         /* handler runs */
};

/* Make SIM the simulated CPU and return its port hooks, for
 * ptio_port_backend_init: now = the virtual clock; idle = jump to the
 * next scheduled event or the timeout (an event that is a raise makes
 * the line pending, so the port backend's sequence runs its handler on
 * the unmask); irq_save/irq_restore = a mask flag.  The hooks take no
 * argument (that is the port's interface), so there is one simulated CPU
 * at a time: the last SIM given here.  An idle that has nothing to wait
 * for (a hang on a board) sets sim->stalled and returns; run such a loop
 * with PTIO_RUN_ONCE and stop when ptio_sim_stalled() says so. */
const struct ptio_port_ops *ptio_sim_port_ops(struct ptio_sim *sim);

static inline bool ptio_sim_stalled(const struct ptio_sim *sim)
{
	return sim->stalled != 0;
}

/* Attach line IRQ to SIM with handler ISR(ARG). */
void ptio_sim_irq_init(struct ptio_sim_irq *irq, struct ptio_sim *sim,
		       void (*isr)(void *arg), void *arg);

/* Raise IRQ DELAY ticks from now.  DELAY 0 raises it at once: with
 * interrupts unmasked the handler runs before this returns, as if the
 * device interrupted the caller, and otherwise on the unmask.  A later
 * raise is scheduled like an event and happens in the loop's wait (or
 * the simulated CPU's idle).  Returns 0 or PTIO_ENOSPC (event array
 * full). */
ptio_ssize ptio_sim_irq_raise(struct ptio_sim_irq *irq, uint32_t delay);

/* Detach IRQ from its sim and drop its scheduled raises. */
void ptio_sim_irq_close(struct ptio_sim_irq *irq);

#ifdef __cplusplus
}
#endif

#endif /* PTIO_SIM_H */
