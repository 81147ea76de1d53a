/*
 * test/fuzz/fuzz.h - what the fuzz targets share.
 *
 * Every target is a libFuzzer entry point, LLVMFuzzerTestOneInput, built
 * two ways (test/fuzz/local.mk): with clang's -fsanitize=fuzzer for real
 * fuzzing (`make fuzz`, test/fuzz/run.sh), and with the normal compiler
 * against libptio as a replay program (test/fuzz/replay.c) that runs the
 * target's seed corpus once per `make check`.  A target reports a broken
 * invariant with FZ_CHECK, which prints why and aborts: libFuzzer saves
 * the input, and the replay program fails.
 *
 * The machines are driven by hand, with no loop: they run for a task
 * that no loop owns (fz_idle_task), whose budget is unlimited and which
 * has no deadline.  A stream here answers poll_ready with PTIO_PENDING
 * while it is "not ready" (after it said would-block), registering
 * nothing, so the machine suspends and returns PTIO_PENDING; FZ_DRIVE
 * then makes the stream ready and calls the machine again, as a loop
 * would on the wake-up.  Spinning is bounded twice over: a machine that
 * suspends while its stream is ready, or suspends too often, fails
 * FZ_DRIVE, and a stream called far more often than its data can explain
 * fails its own call limit.
 *
 * Divided into: failing, reading the input, driving machines, the
 * scripted reader, the scripted writer, and the UTF-8 reference.
 */
#ifndef PTIO_TEST_FUZZ_H
#define PTIO_TEST_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <ptio.h>

/* The entry point every target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- Failing ------------------------------------------------------------ */

#if defined(__GNUC__)
__attribute__((noreturn, format(printf, 3, 4)))
#endif
void fz_fail(const char *file, int line, const char *fmt, ...);

/* FZ_CHECK(cond, fmt, ...) - abort with the message unless COND. */
#define FZ_CHECK(cond, ...)                                               \
	do {                                                              \
		if (!(cond))                                              \
			fz_fail(__FILE__, __LINE__, __VA_ARGS__);         \
	} while (0)

/* Allocations that cannot fail (a failure aborts). */
void *fz_alloc(size_t n);

/* ---- Reading the input ---------------------------------------------------- */

/* The fuzz input as a cursor.  Past its end every byte reads as 0, so a
 * short input still makes a complete, if dull, case. */
struct fz_in {
	const uint8_t *p;
	size_t n;
};

uint8_t fz_byte(struct fz_in *in);
/* BYTES (1 to 8) bytes, little-endian. */
uint64_t fz_bits(struct fz_in *in, unsigned bytes);
/* Up to N bytes: points *P at them and returns how many there are. */
size_t fz_take(struct fz_in *in, size_t n, const uint8_t **p);

/* ---- Driving machines ----------------------------------------------------- */

/* The task the machines run for: no loop, no budget, no deadline. */
extern struct ptio_task fz_idle_task;

/* More suspensions of one call than any schedule here can cause. */
#define FZ_MAX_SUSPENDS 100000ul

/*
 * FZ_DRIVE(r, call, ready) - run the machine CALL to completion into R.
 * While it returns PTIO_PENDING, set the bool READY (the stream's
 * readiness, which its would-block cleared) and call it again.  A
 * machine that suspends while READY is already set is spinning.
 */
#define FZ_DRIVE(r, call, ready)                                          \
	do {                                                              \
		unsigned long fz_suspends_ = 0;                           \
		while (((r) = (call)) == PTIO_PENDING) {                  \
			FZ_CHECK(!(ready), "%s suspended on a ready "     \
				 "stream", #call);                        \
			FZ_CHECK(++fz_suspends_ < FZ_MAX_SUSPENDS,        \
				 "%s keeps suspending", #call);           \
			(ready) = true;                                   \
		}                                                         \
	} while (0)

/* ---- The scripted reader --------------------------------------------------- */

/*
 * A Read that serves a payload in chunks, as the input's script says.
 * fz_reader_parse reads the rest of the input as a sequence of
 *
 *     control byte, then up to SIZE payload bytes
 *
 * where the control byte's low five bits pick SIZE from the caller's
 * table of 32 sizes, and its high bits say what happens before the
 * chunk is served:
 *
 *     bits 5-6   0 nothing; 1 would-block once; 2 would-block twice (the
 *                wake-up in between is spurious); 3 PTIO_EINTR once
 *     bit 7      PTIO_ECONNRESET once, when the reader allows errors
 *
 * The payload is the chunks' bytes end to end.  A chunk is the most one
 * read returns; a read with less room takes part of it and the rest
 * comes next.  Reads on odd chunks also scribble past the bytes they
 * deliver and mark the scribble initialised, as a reader into a reused
 * buffer may, so a caller that confuses "initialised" with "filled"
 * sees garbage.
 */
struct fz_chunk {
	size_t len;
	uint8_t before;   /* the control byte's high bits */
};

struct fz_reader {
	uint8_t *data;          /* the payload */
	size_t n;
	struct fz_chunk *chunks;
	size_t nchunks;
	bool errors;            /* bit 7 injects ECONNRESET */
	const size_t *sizes;
	/* Progress. */
	size_t pos;             /* payload bytes delivered */
	size_t chunk;           /* the chunk being served */
	size_t left;            /* its bytes not yet delivered */
	unsigned blocks;        /* would-blocks still due before it */
	bool eintr, fail;       /* an EINTR, an error still due before it */
	bool ready;             /* poll_ready answers READABLE */
	size_t fails;           /* errors delivered */
	unsigned long calls, call_limit;
};

/* Parse IN's remaining bytes into R (see above); SIZES has 32 entries
 * and must outlive R. */
void fz_reader_parse(struct fz_reader *r, struct fz_in *in,
		     const size_t *sizes, bool errors);
void fz_reader_free(struct fz_reader *r);
struct ptio_read fz_reader_read(struct fz_reader *r);

/* Chunk sizes for short lines: mostly 1 to 16, a few larger, and one
 * that takes the rest of the input. */
extern const size_t fz_small_sizes[32];

/* ---- The scripted writer ---------------------------------------------------- */

/*
 * A Write that takes what the script says, one control byte per call
 * (once the script is used up it takes everything):
 *
 *     0x00-0x7f   take up to (c & 0x7f) + 1 bytes (a short write)
 *     0x80-0x9f   would block
 *     0xa0-0xbf   PTIO_EINTR
 *     0xc0        take nothing (return 0)
 *     0xc1        fail with PTIO_EPIPE
 *     0xc2-0xff   take everything
 *
 * What it takes goes to OUT (CAP bytes; more is a failure).  It checks
 * what callers must never do: write nothing (a zero-length request), or
 * pass an empty slice to a vectored write (write_all_vectored promises
 * to skip them).  PLAIN leaves nb_write_vectored out, so the core's
 * default is used.
 */
struct fz_writer {
	const uint8_t *script;
	size_t nscript, at;
	uint8_t *out;
	size_t len, cap;
	bool ready;
	bool plain;
	ptio_ssize refused;     /* PTIO_EWRITEZERO or PTIO_EPIPE once the
				   script has refused a write, else 0 */
	unsigned long calls, call_limit;
};

/* Set W up to write into the CAP bytes at OUT, following IN's remaining
 * bytes (which must outlive W) as its script. */
void fz_writer_init(struct fz_writer *w, struct fz_in *in, void *out,
		    size_t cap, bool plain);
struct ptio_write fz_writer_write(struct fz_writer *w);

/* ---- UTF-8 ------------------------------------------------------------------ */

/* The reference verdict: is S[0, N) UTF-8 (RFC 3629)?  Written from the
 * RFC's table, independently of the core's ptio_utf8_check. */
bool fz_utf8_ok(const uint8_t *s, size_t n);

#endif /* PTIO_TEST_FUZZ_H */
