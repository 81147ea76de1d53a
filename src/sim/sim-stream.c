/*
 * src/sim/sim-stream.c - duplex streams with seeded faults (ptio/sim.h,
 * section 2).
 *
 * Each end sits on two pipes and one source.  Every non-blocking call
 * first asks the fault layer (closed? reset? stall?), then may have its
 * size cut, and only then reaches the pipe, so the data itself is never
 * altered: a fault changes when and in what pieces bytes move, never
 * which bytes.  A rate of 0 draws nothing from the generator, so a
 * perfect stream leaves the sim's sequence alone.
 *
 * Divided into: faults, Ready, Read and BufRead, Write, setup.
 */
#include <ptio/sim.h>

#define END_EOF    0x1u /* early end of stream injected */
#define END_RESET  0x2u /* the connection was reset */
#define END_CLOSED 0x4u /* closed by its owner */

const struct ptio_sim_faults ptio_sim_perfect = { 0, 0, 0, 0, 0, 0, 0 };

/* ---- Faults ---------------------------------------------------------------- */

/* Reset E and its peer: every later call on either fails.  Both sources
 * report readiness so that their waiters wake and see the error. */
static void end_reset(struct ptio_sim_end *e)
{
	e->state |= END_RESET;
	e->peer->state |= END_RESET;
	ptio_source_ready(&e->src, PTIO_READABLE | PTIO_WRITABLE);
	ptio_source_ready(&e->peer->src, PTIO_READABLE | PTIO_WRITABLE);
}

/* The faults every call may meet.  Returns 0 to go on, or what the call
 * returns instead.  BIT is the readiness a stall takes away. */
static ptio_ssize end_fault(struct ptio_sim_end *e, unsigned bit)
{
	struct ptio_sim *sim = e->sim;

	e->calls++;
	if (e->state & END_CLOSED)
		return PTIO_ECLOSED;
	if (e->state & END_RESET)
		return PTIO_ECONNRESET;
	if (ptio_sim_chance(sim, e->faults.reset)) {
		e->injected++;
		end_reset(e);
		return PTIO_ECONNRESET;
	}
	if (ptio_sim_chance(sim, e->faults.block) &&
	    ptio_sim_signal(sim, &e->src, bit,
			    ptio_sim_below(sim, e->faults.latency + 1)) == 0) {
		e->injected++;
		ptio_source_clear(&e->src, bit);
		return PTIO_WOULD_BLOCK;
	}
	return 0;
}

/* How much of N bytes this transfer may move. */
static size_t end_limit(struct ptio_sim_end *e, size_t n)
{
	struct ptio_sim *sim = e->sim;

	if (n <= 1 || !ptio_sim_chance(sim, e->faults.shortx))
		return n;
	e->injected++;
	if (ptio_sim_chance(sim, e->faults.one))
		return 1;
	return 1 + ptio_sim_below(sim, (uint32_t)(n - 1 < 0xFFFFFFFFu ?
						 n - 1 : 0xFFFFFFFEu));
}

/* Early end of stream, once drawn, is for good. */
static bool end_eof(struct ptio_sim_end *e)
{
	if (!(e->state & END_EOF) && ptio_sim_chance(e->sim, e->faults.eof)) {
		e->injected++;
		e->state |= END_EOF;
	}
	return (e->state & END_EOF) != 0;
}

/* ---- Ready ------------------------------------------------------------------- */

/* A wait may be ended by a spurious wake-up: the task re-polls, its call
 * finds nothing and it waits again, as on a real socket. */
static ptio_ssize end_poll_ready(void *self, struct ptio_task *task,
				 unsigned interest)
{
	struct ptio_sim_end *e = self;
	ptio_ssize r = ptio_source_poll(&e->src, task, interest);

	if (r == PTIO_PENDING && ptio_sim_chance(e->sim, e->faults.spurious)) {
		e->injected++;
		(void)ptio_sim_signal(e->sim, &e->src, interest & PTIO_READ_WRITE,
				      ptio_sim_below(e->sim,
						     e->faults.latency + 1));
	}
	return r;
}

/* ---- Read and BufRead ---------------------------------------------------------- */

static ptio_ssize end_read_buf(void *self, struct ptio_readbuf *rb)
{
	struct ptio_sim_end *e = self;
	struct ptio_readbuf part;
	ptio_ssize r = end_fault(e, PTIO_READABLE);

	if (r != 0)
		return r;
	if (end_eof(e) || ptio_readbuf_remaining(rb) == 0)
		return 0;
	ptio_readbuf_init(&part, ptio_readbuf_unfilled(rb),
			  end_limit(e, ptio_readbuf_remaining(rb)));
	r = ptio_nb_read_buf(ptio_pipe_reader(e->in), &part);
	if (r > 0) {
		(void)ptio_readbuf_advance(rb, (size_t)r);
		e->view = 0; /* a read moved the bytes a fill had shown */
	}
	return r;
}

/* A second fill without a consume must show the same bytes at once, so
 * a view that is still out is returned again with no fault drawn. */
static ptio_ssize end_fill_buf(void *self, const uint8_t **data)
{
	struct ptio_sim_end *e = self;
	struct ptio_bufread in = ptio_pipe_bufread(e->in);
	ptio_ssize r;

	if (e->view > 0 && !(e->state & (END_CLOSED | END_RESET)))
		return ptio_nb_fill_buf(in, data) > 0 ? (ptio_ssize)e->view
						      : PTIO_EIO;
	r = end_fault(e, PTIO_READABLE);
	if (r != 0)
		return r;
	if (end_eof(e))
		return 0;
	r = ptio_nb_fill_buf(in, data);
	if (r > 0) {
		r = (ptio_ssize)end_limit(e, (size_t)r);
		e->view = (size_t)r;
	}
	return r;
}

static void end_consume(void *self, size_t n)
{
	struct ptio_sim_end *e = self;

	if (n > e->view)
		n = e->view;
	e->view -= n;
	ptio_bufread_consume(ptio_pipe_bufread(e->in), n);
}

/* ---- Write ------------------------------------------------------------------------ */

static ptio_ssize end_write(void *self, const void *buf, size_t len)
{
	struct ptio_sim_end *e = self;
	ptio_ssize r = end_fault(e, PTIO_WRITABLE);

	if (r != 0)
		return r;
	if (len == 0)
		return 0;
	return ptio_nb_write(ptio_pipe_writer(e->out), buf, end_limit(e, len));
}

/* ---- Setup ---------------------------------------------------------------------------- */

static const struct ptio_read_vt end_read_vt = {
	.ready = { .poll_ready = end_poll_ready },
	.nb_read_buf = end_read_buf,
};

static const struct ptio_bufread_vt end_bufread_vt = {
	.ready = { .poll_ready = end_poll_ready },
	.nb_fill_buf = end_fill_buf,
	.consume = end_consume,
};

static const struct ptio_write_vt end_write_vt = {
	.ready = { .poll_ready = end_poll_ready },
	.nb_write = end_write,
};

struct ptio_ready ptio_sim_end_ready(struct ptio_sim_end *e)
{
	struct ptio_ready o = { e, &end_read_vt.ready };

	return o;
}

struct ptio_read ptio_sim_end_reader(struct ptio_sim_end *e)
{
	struct ptio_read o = { e, &end_read_vt };

	return o;
}

struct ptio_bufread ptio_sim_end_bufread(struct ptio_sim_end *e)
{
	struct ptio_bufread o = { e, &end_bufread_vt };

	return o;
}

struct ptio_write ptio_sim_end_writer(struct ptio_sim_end *e)
{
	struct ptio_write o = { e, &end_write_vt };

	return o;
}

void ptio_sim_end_set_faults(struct ptio_sim_end *e,
			     const struct ptio_sim_faults *f)
{
	e->faults = *f;
}

void ptio_sim_faults_random(struct ptio_sim *sim, struct ptio_sim_faults *f)
{
	f->block = (uint16_t)ptio_sim_below(sim, 400);
	f->shortx = (uint16_t)ptio_sim_below(sim, 800);
	f->one = (uint16_t)ptio_sim_below(sim, 700);
	f->spurious = (uint16_t)ptio_sim_below(sim, 300);
	/* Ends and resets cut a run short: only one run in four has them,
	 * and rarely, so most runs still reach their end. */
	f->eof = (uint16_t)(ptio_sim_below(sim, 4) == 0 ?
			    ptio_sim_below(sim, 3) : 0);
	f->reset = (uint16_t)(ptio_sim_below(sim, 4) == 0 ?
			      ptio_sim_below(sim, 3) : 0);
	f->latency = ptio_sim_below(sim, 200);
}

void ptio_sim_end_shutdown(struct ptio_sim_end *e)
{
	ptio_pipe_close_write(e->out);
}

void ptio_sim_end_close(struct ptio_sim_end *e)
{
	if (e->state & END_CLOSED)
		return;
	e->state |= END_CLOSED;
	ptio_pipe_close_write(e->out);
	ptio_pipe_close_read(e->in);
	ptio_sim_forget(e->sim, &e->src);
	ptio_source_close(&e->src);
}

static void end_init(struct ptio_sim_end *e, struct ptio_sim *sim,
		     struct ptio_sim_end *peer)
{
	ptio_source_init(&e->src, 0, 0);
	e->sim = sim;
	e->peer = peer;
	e->faults = ptio_sim_perfect;
	e->view = 0;
	e->state = 0;
	e->calls = 0;
	e->injected = 0;
}

void ptio_sim_duplex_init(struct ptio_sim_duplex *d, struct ptio_sim *sim,
			  void *buf, size_t cap)
{
	uint8_t *b = buf;

	end_init(&d->a, sim, &d->b);
	end_init(&d->b, sim, &d->a);
	ptio_pipe_init_sources(&d->ab, b, cap, &d->b.src, &d->a.src);
	ptio_pipe_init_sources(&d->ba, b + cap, cap, &d->a.src, &d->b.src);
	d->a.in = &d->ba;
	d->a.out = &d->ab;
	d->b.in = &d->ab;
	d->b.out = &d->ba;
}
