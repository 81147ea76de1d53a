/*
 * test/fuzz/fuzz-chat.c - what a peer can send to samples/line-chat.
 *
 * line-chat's reader takes each client's lines with ptio_read_line, at
 * most 1024 bytes with the "\n", through a 512-byte BufReader into a
 * 1024-byte line buffer cleared before each line.  An over-long line
 * gets "error: line longer than 1024 bytes", a line that is not UTF-8
 * "error: line is not UTF-8"; the end of the stream or an error ends the
 * client; any other line goes to the others as "clientN: TEXT\n", TEXT
 * being the line without its "\n", NUL bytes and all: the prefix is
 * formatted by ptio_format, the text copied by its length.
 * That code is static in the sample, so this target makes the same
 * library calls with the same sizes (and must be kept in step with
 * samples/line-chat.c by hand).
 *
 * The input is the client's number (four bytes) and then the reader's
 * script (fuzz.h), with chunk sizes around the sample's buffer sizes;
 * an injected reset ends the client, as in the sample.  Each reply is
 * checked against a reference built from the payload: the verdict of
 * every line, the relayed text byte for byte (a NUL byte included),
 * the formatter against snprintf, and that a
 * relayed line always fits the sample's message buffer (the sample
 * drops a relay that does not, silently).  At the end of the stream,
 * every byte has been consumed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test/fuzz/fuzz.h"

/* samples/line-chat.c's sizes. */
#define LINE_MAX_BYTES 1024
#define BUFREADER_BYTES 512
#define RELAY_BYTES (LINE_MAX_BYTES + 32)   /* relay_line's msg */
#define SENDF_BYTES (LINE_MAX_BYTES + 64)   /* sendf's buf */

static const size_t chat_sizes[32] = {
	1, 2, 3, 5, 7, 8, 13, 16, 31, 64, 100, 255, 256, 257, 500, 511,
	512, 513, 600, 1000, 1022, 1023, 1024, 1025, 1026, 1500, 2047, 2048,
	2049, 3000, 4096, 65536,
};

struct chat {
	struct fz_reader rd;
	struct ptio_bufreader br;
	struct ptio_op op;
	struct ptio_readbuf line;
	uint8_t *brbuf, *linebuf;
	unsigned id;
};

/* The reply to the line at P (FULL bytes; RESULT its verdict), as the
 * sample means it, into OUT (room for SENDF_BYTES). */
static size_t reference_reply(const struct chat *c, const uint8_t *p,
			      size_t full, ptio_ssize result, char *out)
{
	size_t n = full, k;

	if (result == PTIO_ETOOLONG)
		return (size_t)sprintf(out, "error: line longer than %d "
				       "bytes\n", LINE_MAX_BYTES);
	if (result == PTIO_EILSEQ)
		return (size_t)sprintf(out, "error: line is not UTF-8\n");
	if (n > 0 && p[n - 1] == '\n')
		n--;
	k = (size_t)sprintf(out, "client%u: ", c->id);
	while (n > 0) {
		out[k++] = (char)*p++;
		n--;
	}
	out[k++] = '\n';
	return k;
}

/* The sample's reply to result R, with the library's formatter; also
 * checked against snprintf. */
static size_t sample_reply(const struct chat *c, ptio_ssize r, char *out)
{
	char libc[SENDF_BYTES];
	size_t n = c->line.filled;
	ptio_ssize k;
	int want;

	if (r == PTIO_ETOOLONG) {
		k = ptio_format(out, SENDF_BYTES, "error: line longer than %d "
				"bytes\n", LINE_MAX_BYTES);
		want = snprintf(libc, sizeof(libc), "error: line longer than "
				"%d bytes\n", LINE_MAX_BYTES);
	} else if (r == PTIO_EILSEQ) {
		k = ptio_format(out, SENDF_BYTES, "error: line is not UTF-8\n");
		want = snprintf(libc, sizeof(libc), "error: line is not "
				"UTF-8\n");
	} else {
		if (n > 0 && c->linebuf[n - 1] == '\n')
			n--;
		k = ptio_format(out, RELAY_BYTES, "client%u: ", c->id);
		want = snprintf(libc, sizeof(libc), "client%u: ", c->id);
		/* relay_line drops what does not fit, without a word. */
		FZ_CHECK(k > 0 && (size_t)k + n + 1 <= RELAY_BYTES, "a "
			 "%zu-byte line makes a %zu-byte relay", n,
			 (size_t)k + n + 1);
	}
	FZ_CHECK(k == want && memcmp(out, libc, (size_t)k) == 0,
		 "ptio_format \"%s\" (%zd), snprintf \"%s\" (%d)", out, k,
		 libc, want);
	if (r < 0)
		return (size_t)k;
	/* relay_line: the text by its length, then the "\n". */
	memcpy(out + k, c->linebuf, n);
	out[(size_t)k + n] = '\n';
	return (size_t)k + n + 1;
}

/* The line of D[0, N) at AT: its end, its length, and the sample's
 * verdict on it. */
static ptio_ssize verdict(const uint8_t *d, size_t n, size_t at,
			  size_t *end)
{
	const uint8_t *p = at < n ? memchr(d + at, '\n', n - at) : NULL;
	size_t full;

	*end = p != NULL ? (size_t)(p - d) + 1 : n;
	full = *end - at;
	if (full == 0)
		return 0;
	if (full > LINE_MAX_BYTES)
		return PTIO_ETOOLONG;
	return fz_utf8_ok(d + at, full) ? (ptio_ssize)full : PTIO_EILSEQ;
}

static void run(struct chat *c)
{
	char got[SENDF_BYTES], want[SENDF_BYTES];
	const uint8_t *d = c->rd.data;
	size_t at = 0, end, gn, wn;
	ptio_ssize r, v;

	for (;;) {
		ptio_readbuf_clear(&c->line);
		FZ_DRIVE(r, ptio_read_line(&c->op, ptio_bufreader_bufread(&c->br),
					   &c->line, LINE_MAX_BYTES),
			 c->rd.ready);
		if (r == PTIO_ECONNRESET)
			return; /* the client leaves */
		v = verdict(d, c->rd.n, at, &end);
		FZ_CHECK(r == v, "line at %zu (%zu bytes): %s, expected %s", at,
			 end - at, ptio_strerror(r), ptio_strerror(v));
		FZ_CHECK(c->rd.pos - ptio_bufreader_buffered(&c->br) == end,
			 "line at %zu: the stream is not at its end %zu", at,
			 end);
		if (r == 0)
			break;
		gn = sample_reply(c, r, got);
		wn = reference_reply(c, d + at, end - at, r, want);
		FZ_CHECK(gn == wn && memcmp(got, want, gn) == 0,
			 "line at %zu: the reply \"%.*s\" should be \"%.*s\"",
			 at, (int)gn, got, (int)wn, want);
		at = end;
	}
	FZ_CHECK(c->rd.pos == c->rd.n && ptio_bufreader_buffered(&c->br) == 0,
		 "the end came with %zu of %zu bytes read", c->rd.pos, c->rd.n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct chat c;

	memset(&c, 0, sizeof(c));
	c.id = (unsigned)fz_bits(&in, 4);
	c.brbuf = fz_alloc(BUFREADER_BYTES);
	c.linebuf = fz_alloc(LINE_MAX_BYTES);
	fz_reader_parse(&c.rd, &in, chat_sizes, true);
	ptio_bufreader_init(&c.br, fz_reader_read(&c.rd), c.brbuf,
			    BUFREADER_BYTES);
	ptio_readbuf_init(&c.line, c.linebuf, LINE_MAX_BYTES);
	ptio_op_init(&c.op, &fz_idle_task);
	run(&c);
	fz_reader_free(&c.rd);
	free(c.linebuf);
	free(c.brbuf);
	return 0;
}
