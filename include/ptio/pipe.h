/*
 * ptio/pipe.h - an in-memory byte pipe: a ring buffer the caller owns,
 * with a read end and a write end that are ordinary ptio streams.
 *
 * Use it for byte streams between two tasks (a parser task fed by a
 * receiving task in firmware), and in tests, where two of them make a
 * duplex connection (ptio/sim.h does that, with faults on top).
 *
 *   read end    Read + BufRead + Ready (interest PTIO_READ): reads the
 *               oldest bytes; 0 (end of stream) once the write end is
 *               closed and the ring is empty.
 *   write end   Write + Ready (interest PTIO_WRITE): appends as much as
 *               fits; PTIO_EPIPE once the read end is closed.
 *
 * Waiting works as on every stream: each end is backed by a struct
 * ptio_source; a read that finds the ring empty clears READABLE and
 * returns PTIO_WOULD_BLOCK, and the write that puts bytes in reports
 * READABLE, which wakes the reader's task (and the other way round for
 * WRITABLE).  The sources are not watched by any backend, so a pipe works
 * on any loop and holds no registration but its waiters.
 *
 * Closing an end reports readiness on the other end instead of HUP: the
 * reader of a closed pipe stays READABLE (reads return 0) and the writer
 * of a pipe whose reader left stays WRITABLE (writes fail with
 * PTIO_EPIPE), so a task never spins on a HUP it cannot clear.
 *
 * Nothing allocates; the pipe and its buffer are the caller's, and both
 * ends may be used by the same task or by two.  Freestanding.
 */
#ifndef PTIO_PIPE_H
#define PTIO_PIPE_H

#include "base.h"
#include "io.h"
#include "bufread.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Pipe flags. */
#define PTIO_PIPE_WCLOSED 0x1u /* the write end is closed */
#define PTIO_PIPE_RCLOSED 0x2u /* the read end is closed */

struct ptio_pipe {
	uint8_t *buf;            /* the ring, CAP bytes, the caller's */
	size_t cap;
	size_t head;             /* offset of the oldest byte */
	size_t len;              /* bytes in the ring */
	struct ptio_source *rs;  /* the read end's source (READABLE) */
	struct ptio_source *ws;  /* the write end's source (WRITABLE) */
	struct ptio_source own[2]; /* rs and ws unless shared (see below) */
	uint8_t flags;           /* PTIO_PIPE_* */
};

/* Initialise P over BUF (CAP bytes, CAP > 0, owned by the caller and
 * outliving P): empty, both ends open, each end on its own source. */
void ptio_pipe_init(struct ptio_pipe *p, void *buf, size_t cap);

/* As ptio_pipe_init, but report the read end's readiness on RS and the
 * write end's on WS, which the caller initialised and owns.  Two pipes
 * in opposite directions sharing one source per side make a duplex
 * stream whose task can await PTIO_READ_WRITE on one source. */
void ptio_pipe_init_sources(struct ptio_pipe *p, void *buf, size_t cap,
			    struct ptio_source *rs, struct ptio_source *ws);

/* The ends as trait objects. */
struct ptio_read ptio_pipe_reader(struct ptio_pipe *p);
struct ptio_bufread ptio_pipe_bufread(struct ptio_pipe *p);
struct ptio_write ptio_pipe_writer(struct ptio_pipe *p);

/* Close the write end: the reader gets what is buffered, then 0.  Wakes
 * a waiting reader.  Idempotent. */
void ptio_pipe_close_write(struct ptio_pipe *p);

/* Close the read end: the buffered bytes are dropped and every later
 * write fails with PTIO_EPIPE; reads fail with PTIO_ECLOSED.  Wakes a
 * waiting writer.  Idempotent. */
void ptio_pipe_close_read(struct ptio_pipe *p);

/* Bytes buffered, and room left. */
static inline size_t ptio_pipe_len(const struct ptio_pipe *p)
{
	return p->len;
}
static inline size_t ptio_pipe_room(const struct ptio_pipe *p)
{
	return p->cap - p->len;
}

#ifdef __cplusplus
}
#endif

#endif /* PTIO_PIPE_H */
