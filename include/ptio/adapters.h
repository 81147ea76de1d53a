/*
 * ptio/adapters.h - Rust's std::io helpers: take, chain, copy, copy_buf,
 * empty, repeat and sink.
 *
 * Each adapter is a small struct the caller owns plus functions that hand
 * out trait objects over it, so an adapter goes wherever a Read, BufRead
 * or Write goes, and adapters stack (take over chain over a BufReader).
 * None allocates.
 *
 * Divided into: take, chain, the copies, and the trivial streams (empty,
 * repeat, sink).
 */
#ifndef PTIO_ADAPTERS_H
#define PTIO_ADAPTERS_H

#include "base.h"
#include "io.h"
#include "loop.h"
#include "bufread.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- take ------------------------------------------------------------------ */

/*
 * Read::take: at most LIMIT bytes of an inner reader, then end of stream.
 * The inner reader is never asked for more than the limit allows, so what
 * follows stays in it.  Over a BufRead the take is a BufRead too (its
 * view is cut at the limit) as well as a Read.  Ready for READ at once
 * when the limit is used up (end of stream is readable).
 */
struct ptio_take {
	struct ptio_read inner;     /* when made with ptio_take_init */
	struct ptio_bufread binner; /* when made with ptio_take_init_bufread */
	uint64_t limit;             /* bytes still allowed */
};

void ptio_take_init(struct ptio_take *t, struct ptio_read inner,
		    uint64_t limit);
void ptio_take_init_bufread(struct ptio_take *t, struct ptio_bufread inner,
			    uint64_t limit);

struct ptio_read ptio_take_reader(struct ptio_take *t);
/* Only for a take made with ptio_take_init_bufread. */
struct ptio_bufread ptio_take_bufread(struct ptio_take *t);

static inline uint64_t ptio_take_limit(const struct ptio_take *t)
{
	return t->limit;
}
static inline void ptio_take_set_limit(struct ptio_take *t, uint64_t limit)
{
	t->limit = limit;
}

/* ---- chain ----------------------------------------------------------------- */

/* Read::chain: FIRST to its end of stream, then SECOND.  Readiness is
 * that of the reader now being read. */
struct ptio_chain {
	struct ptio_read first;
	struct ptio_read second;
	bool done_first;
};

void ptio_chain_init(struct ptio_chain *c, struct ptio_read first,
		     struct ptio_read second);
struct ptio_read ptio_chain_reader(struct ptio_chain *c);

/* ---- The copies ------------------------------------------------------------ */

/*
 * Where ptio_copy keeps the bytes a writer refused.
 *
 * ptio_copy moves bytes through the loop's scratch buffer, which must not
 * hold anything across a suspension (other tasks use it meanwhile).  When
 * the writer takes only part of a chunk and would block, the rest cannot
 * wait in the scratch buffer, and it cannot be given back to the reader.
 * So it moves into the spill, caller memory that does survive, and copy
 * writes it out first when the writer is ready again.  Reading is bounded
 * so that this always fits: no read is larger than the spill.  No byte is
 * ever lost, and between transfers a copy holds nothing in the scratch
 * buffer; the spill is touched only when the writer falls behind.  Size
 * it like a read: 4-16 KiB for sockets.  (copy_buf needs none: the
 * BufRead keeps what the writer has not taken.)
 */
struct ptio_spill {
	uint8_t *buf;
	size_t cap;
	size_t pos;  /* pending bytes are buf[pos, len) */
	size_t len;
};

static inline void ptio_spill_init(struct ptio_spill *s, void *buf, size_t cap)
{
	s->buf = (uint8_t *)buf;
	s->cap = cap;
	s->pos = s->len = 0;
}

/* Bytes read but not yet written. */
static inline size_t ptio_spill_pending(const struct ptio_spill *s)
{
	return s->len - s->pos;
}

/*
 * io::copy: machine copying R to W until R's end of stream.  Returns the
 * bytes written (clamped to PTIO_SSIZE_MAX), or an error with
 * ptio_op_done(op) bytes written and ptio_spill_pending(spill) bytes read
 * but not yet written (calling ptio_copy again with the same spill goes on
 * where it stopped).  Reads use the loop's scratch buffer, each at most
 * min(scratch length, spill capacity) bytes; with no scratch buffer lent
 * to the loop, reads go straight into the spill.  W is not flushed.
 * PTIO_EINVAL when the spill has no room; PTIO_EWRITEZERO when W accepts
 * nothing.
 */
ptio_ssize ptio_copy(struct ptio_op *op, struct ptio_read r,
		     struct ptio_write w, struct ptio_spill *spill);

/*
 * copy_buf: machine copying the BufRead B to W until B's end of stream,
 * writing straight from B's buffer and consuming only what W accepted: no
 * buffer of its own, and nothing lost when W blocks.  Returns the bytes
 * written, or an error with ptio_op_done(op) bytes written.
 */
ptio_ssize ptio_copy_buf(struct ptio_op *op, struct ptio_bufread b,
			 struct ptio_write w);

/* ---- empty, repeat, sink --------------------------------------------------- */

/* io::empty: a Read and BufRead at end of stream, always ready. */
struct ptio_read ptio_empty_reader(void);
struct ptio_bufread ptio_empty_bufread(void);

/* io::repeat: a Read returning BYTE forever, always ready.  Bound it with
 * ptio_take. */
struct ptio_repeat {
	uint8_t byte;
};

static inline void ptio_repeat_init(struct ptio_repeat *rp, uint8_t byte)
{
	rp->byte = byte;
}
struct ptio_read ptio_repeat_reader(struct ptio_repeat *rp);

/* io::sink: a Write that accepts and drops everything, always ready.  It
 * counts what it dropped; pass NULL to ptio_sink_writer to not count. */
struct ptio_sink {
	uint64_t count;
};

static inline void ptio_sink_init(struct ptio_sink *s)
{
	s->count = 0;
}
struct ptio_write ptio_sink_writer(struct ptio_sink *s);

#ifdef __cplusplus
}
#endif

#endif /* PTIO_ADAPTERS_H */
