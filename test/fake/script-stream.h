/*
 * test/fake/script-stream.h - an in-memory stream that does what a script
 * says, one step per non-blocking call.
 *
 * A script_stream implements Ready, Read and Write on a struct
 * ptio_source.  Reads take bytes from an input array the test supplies;
 * writes append to an output array the test supplies.  Each call of
 * nb_read_buf, nb_write(_vectored) or nb_flush consumes the next step of
 * that call's script:
 *
 *   SCRIPT_MAX(k)     transfer at most k bytes (as much as the caller asked
 *                     for, the input holds or, for writes, k allows); a read
 *                     with the input used up returns 0, end of stream;
 *                     for nb_flush: succeed
 *   SCRIPT_BLOCK      return PTIO_WOULD_BLOCK, clear the cached readiness
 *                     bit, and have the fake backend report readiness again
 *                     one tick later (SCRIPT_BLOCK_FOR(d): d ticks later),
 *                     so the caller really suspends and resumes
 *   SCRIPT_NEVER      return PTIO_WOULD_BLOCK, and readiness never comes
 *   SCRIPT_ERROR(e)   return the error code e
 *   SCRIPT_EOF        return 0 (for a write: "accepted nothing")
 *   SCRIPT_LIE        claim one byte more than the caller asked for,
 *                     transferring nothing (the dispatch must catch it)
 *
 * When a script runs out it starts again from its first step if it was
 * set as cyclic; otherwise every further call behaves as SCRIPT_MAX
 * without limit.  An empty script is "no limit" from the start.
 *
 * The stream records what a test needs to check that nothing was lost,
 * duplicated or over-read: the input position, the output, the number of
 * calls, and the largest read a caller asked for.
 */
#ifndef PTIO_TEST_SCRIPT_STREAM_H
#define PTIO_TEST_SCRIPT_STREAM_H

#include <ptio.h>
#include "test/fake/fake-backend.h"

enum script_kind {
	SCRIPT_KIND_MAX,
	SCRIPT_KIND_BLOCK,
	SCRIPT_KIND_ERROR,
	SCRIPT_KIND_EOF,
	SCRIPT_KIND_LIE
};

/* "Readiness never comes back" as a SCRIPT_BLOCK delay. */
#define SCRIPT_NO_READINESS 0xFFFFFFFFu

struct script_step {
	enum script_kind kind;
	size_t max;        /* SCRIPT_MAX: the byte limit */
	uint32_t delay;    /* SCRIPT_BLOCK: ticks until readiness returns */
	ptio_ssize err;    /* SCRIPT_ERROR: the code */
};

#define SCRIPT_MAX(k) { SCRIPT_KIND_MAX, (k), 0, 0 }
#define SCRIPT_ALL SCRIPT_MAX(SIZE_MAX)
#define SCRIPT_BLOCK_FOR(d) { SCRIPT_KIND_BLOCK, 0, (d), 0 }
#define SCRIPT_BLOCK SCRIPT_BLOCK_FOR(1)
#define SCRIPT_NEVER SCRIPT_BLOCK_FOR(SCRIPT_NO_READINESS)
#define SCRIPT_ERROR(e) { SCRIPT_KIND_ERROR, 0, 0, (e) }
#define SCRIPT_EOF { SCRIPT_KIND_EOF, 0, 0, 0 }
#define SCRIPT_LIE { SCRIPT_KIND_LIE, 0, 0, 0 }

/* One call kind's script. */
struct script {
	const struct script_step *steps;
	size_t n;
	size_t at;             /* the next step */
	bool cyclic;
	unsigned long calls;   /* calls made with this script */
	unsigned long blocks;  /* of which returned PTIO_WOULD_BLOCK */
};

/* Give SC the N steps at STEPS (borrowed: they must outlive the stream). */
void script_set(struct script *sc, const struct script_step *steps, size_t n,
		bool cyclic);
#define SCRIPT_SET(sc, array, cyclic) \
	script_set((sc), (array), sizeof(array) / sizeof((array)[0]), (cyclic))

struct script_stream {
	struct ptio_source src;      /* first */
	struct fake_backend *be;     /* reports readiness after a block */
	const uint8_t *in;           /* input, borrowed */
	size_t in_len;
	size_t in_pos;               /* bytes read so far */
	uint8_t *out;                /* output, borrowed */
	size_t out_cap;
	size_t out_len;              /* bytes written so far */
	struct script rd;            /* nb_read_buf */
	struct script wr;            /* nb_write and nb_write_vectored */
	struct script fl;            /* nb_flush */
	size_t max_read_ask;         /* largest room a reader offered */
	unsigned long polls;         /* poll_ready calls */
	unsigned long vectored;      /* nb_write_vectored calls */
};

/* Initialise S with no input, no output space, empty scripts and
 * readiness READABLE | WRITABLE.  Its source is flagged
 * PTIO_SOURCE_BACKEND, so the loop reports its waiters to BE. */
void script_stream_init(struct script_stream *s, struct fake_backend *be);

/* Supply the bytes reads return, and the space writes go to. */
void script_stream_input(struct script_stream *s, const void *in, size_t len);
void script_stream_output(struct script_stream *s, void *out, size_t cap);

/* Drop any readiness still scheduled for S (before S goes away while the
 * loop keeps running). */
void script_stream_forget(struct script_stream *s);

/* The trait objects.  The plain writer leaves nb_write_vectored NULL (the
 * dispatch's default is used); the vectored one implements it. */
struct ptio_ready script_stream_ready(struct script_stream *s);
struct ptio_read script_stream_reader(struct script_stream *s);
struct ptio_write script_stream_writer(struct script_stream *s);
struct ptio_write script_stream_writer_vectored(struct script_stream *s);

#endif /* PTIO_TEST_SCRIPT_STREAM_H */
