/*
 * test/fuzz/fuzz.c - what the fuzz targets share (see fuzz.h).
 *
 * Divided into: failing, reading the input, readiness, the scripted
 * reader, the scripted writer, and the UTF-8 reference.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test/fuzz/fuzz.h"

/* ---- Failing ------------------------------------------------------------ */

void fz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

void *fz_alloc(size_t n)
{
	void *p = malloc(n > 0 ? n : 1);

	FZ_CHECK(p != NULL, "out of memory (%zu bytes)", n);
	return p;
}

/* ---- Reading the input ---------------------------------------------------- */

uint8_t fz_byte(struct fz_in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

uint64_t fz_bits(struct fz_in *in, unsigned bytes)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < bytes && i < 8; i++)
		v |= (uint64_t)fz_byte(in) << (8 * i);
	return v;
}

size_t fz_take(struct fz_in *in, size_t n, const uint8_t **p)
{
	if (n > in->n)
		n = in->n;
	*p = in->p;
	in->p += n;
	in->n -= n;
	return n;
}

struct ptio_task fz_idle_task;

/* ---- Readiness -------------------------------------------------------------- */

/* poll_ready of a stream that is ready for BIT while READY: with a task,
 * "not ready" is PTIO_PENDING and registers nothing (FZ_DRIVE is the
 * wake-up). */
static ptio_ssize fz_poll(bool ready, unsigned bit, struct ptio_task *task)
{
	if (ready)
		return (ptio_ssize)bit;
	return task != NULL ? PTIO_PENDING : PTIO_WOULD_BLOCK;
}

/* ---- The scripted reader ------------------------------------------------------ */

const size_t fz_small_sizes[32] = {
	1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 7,
	8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 24, 31, 32, 33, 64, 65536,
};

/* Make chunk I the one being served, with its events due. */
static void reader_load(struct fz_reader *r, size_t i)
{
	uint8_t before = i < r->nchunks ? r->chunks[i].before : 0;
	unsigned act = before >> 5 & 3;

	r->chunk = i;
	r->left = i < r->nchunks ? r->chunks[i].len : 0;
	r->blocks = act == 1 ? 1 : act == 2 ? 2 : 0;
	r->eintr = act == 3;
	r->fail = r->errors && (before & 0x80);
}

void fz_reader_parse(struct fz_reader *r, struct fz_in *in,
		     const size_t *sizes, bool errors)
{
	const uint8_t *p;
	uint8_t c;
	size_t k;

	memset(r, 0, sizeof(*r));
	r->data = fz_alloc(in->n);
	r->chunks = fz_alloc(sizeof(*r->chunks) * (in->n + 1));
	r->errors = errors;
	r->sizes = sizes;
	while (in->n > 0) {
		c = fz_byte(in);
		k = fz_take(in, sizes[c & 31], &p);
		memcpy(r->data + r->n, p, k);
		r->n += k;
		r->chunks[r->nchunks].len = k;
		r->chunks[r->nchunks].before = c & 0xE0;
		r->nchunks++;
	}
	r->ready = true;
	r->call_limit = 8 * ((unsigned long)r->n + r->nchunks) + 64;
	reader_load(r, 0);
}

void fz_reader_free(struct fz_reader *r)
{
	free(r->data);
	free(r->chunks);
	r->data = NULL;
	r->chunks = NULL;
}

static ptio_ssize reader_poll(void *self, struct ptio_task *task,
			      unsigned interest)
{
	struct fz_reader *r = self;

	return fz_poll(r->ready && (interest & PTIO_READ), PTIO_READABLE, task);
}

static ptio_ssize reader_read_buf(void *self, struct ptio_readbuf *rb)
{
	struct fz_reader *r = self;
	size_t room, k, extra;

	FZ_CHECK(++r->calls <= r->call_limit,
		 "the reader was called %lu times for %zu bytes: a busy loop",
		 r->calls, r->n);
	FZ_CHECK(ptio_readbuf_valid(rb), "a broken readbuf handed to read");
	/* The events due before the current chunk, then the chunk (an
	 * empty one passes on to the next). */
	for (;;) {
		if (r->fail) {
			r->fail = false;
			r->fails++;
			return PTIO_ECONNRESET;
		}
		if (r->blocks > 0) {
			r->blocks--;
			r->ready = false;
			return PTIO_WOULD_BLOCK;
		}
		if (r->eintr) {
			r->eintr = false;
			return PTIO_EINTR;
		}
		if (r->left > 0 || r->chunk >= r->nchunks)
			break;
		reader_load(r, r->chunk + 1);
	}
	room = ptio_readbuf_remaining(rb);
	k = r->left < room ? r->left : room;
	if (k == 0)
		return 0; /* the end of the stream (or no room) */
	memcpy(ptio_readbuf_unfilled(rb), r->data + r->pos, k);
	if ((r->chunk & 1) && room > k) {
		extra = room - k < 7 ? room - k : 7;
		memset(ptio_readbuf_unfilled(rb) + k, 0xA5, extra);
		FZ_CHECK(ptio_readbuf_assume_init(rb, k + extra) ==
				 (ptio_ssize)(k + extra), "assume_init refused");
	}
	FZ_CHECK(ptio_readbuf_advance(rb, k) == (ptio_ssize)k,
		 "advance refused");
	r->pos += k;
	r->left -= k;
	return (ptio_ssize)k;
}

static const struct ptio_read_vt reader_vt = {
	.ready = { .poll_ready = reader_poll },
	.nb_read_buf = reader_read_buf,
};

struct ptio_read fz_reader_read(struct fz_reader *r)
{
	struct ptio_read o = { r, &reader_vt };

	return o;
}

/* ---- The scripted writer ------------------------------------------------------- */

void fz_writer_init(struct fz_writer *w, struct fz_in *in, void *out,
		    size_t cap, bool plain)
{
	memset(w, 0, sizeof(*w));
	w->nscript = fz_take(in, in->n, &w->script);
	w->out = out;
	w->cap = cap;
	w->ready = true;
	w->plain = plain;
	w->call_limit = 2 * ((unsigned long)w->nscript + cap) + 64;
}

/* What the script says to do with a write of TOTAL bytes: a count to
 * take, or what to return. */
static ptio_ssize writer_step(struct fz_writer *w, size_t total)
{
	uint8_t c = w->at < w->nscript ? w->script[w->at++] : 0xFF;

	FZ_CHECK(++w->calls <= w->call_limit,
		 "the writer was called %lu times: a busy loop", w->calls);
	FZ_CHECK(total > 0, "a write of nothing");
	if (c < 0x80)
		return (ptio_ssize)((size_t)(c & 0x7F) + 1 < total
				    ? (size_t)(c & 0x7F) + 1 : total);
	if (c < 0xA0) {
		w->ready = false;
		return PTIO_WOULD_BLOCK;
	}
	if (c < 0xC0)
		return PTIO_EINTR;
	if (c == 0xC0 || c == 0xC1) {
		if (w->refused == 0)
			w->refused = c == 0xC0 ? PTIO_EWRITEZERO : PTIO_EPIPE;
		return c == 0xC0 ? 0 : PTIO_EPIPE;
	}
	return (ptio_ssize)total;
}

static void writer_out(struct fz_writer *w, const void *p, size_t k)
{
	FZ_CHECK(k <= w->cap - w->len, "%zu bytes written beyond the %zu "
		 "expected", w->len + k - w->cap, w->cap);
	memcpy(w->out + w->len, p, k);
	w->len += k;
}

static ptio_ssize writer_write(void *self, const void *buf, size_t len)
{
	struct fz_writer *w = self;
	ptio_ssize r = writer_step(w, len);

	if (r > 0)
		writer_out(w, buf, (size_t)r);
	return r;
}

static ptio_ssize writer_write_vectored(void *self,
					const struct ptio_iovec *iov, size_t n)
{
	struct fz_writer *w = self;
	size_t i, total = 0, k, left;
	ptio_ssize r;

	FZ_CHECK(n <= 1024, "%zu slices in one vectored write", n);
	for (i = 0; i < n; i++) {
		FZ_CHECK(iov[i].len > 0, "an empty slice passed on (%zu of %zu)",
			 i, n);
		total += iov[i].len;
	}
	r = writer_step(w, total);
	for (i = 0, left = r > 0 ? (size_t)r : 0; left > 0; i++) {
		k = iov[i].len < left ? iov[i].len : left;
		writer_out(w, iov[i].base, k);
		left -= k;
	}
	return r;
}

static ptio_ssize writer_poll(void *self, struct ptio_task *task,
			      unsigned interest)
{
	struct fz_writer *w = self;

	return fz_poll(w->ready && (interest & PTIO_WRITE), PTIO_WRITABLE,
		       task);
}

static const struct ptio_write_vt writer_vt = {
	.ready = { .poll_ready = writer_poll },
	.nb_write = writer_write,
	.nb_write_vectored = writer_write_vectored,
};

static const struct ptio_write_vt writer_plain_vt = {
	.ready = { .poll_ready = writer_poll },
	.nb_write = writer_write,
};

struct ptio_write fz_writer_write(struct fz_writer *w)
{
	struct ptio_write o = { w, w->plain ? &writer_plain_vt : &writer_vt };

	return o;
}

/* ---- UTF-8 ------------------------------------------------------------------------ */

bool fz_utf8_ok(const uint8_t *s, size_t n)
{
	size_t i = 0, len, k;
	uint32_t cp, least;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		/* The lead byte gives the length and the smallest code
		 * point that may use it (anything less is overlong). */
		if (s[i] >= 0xC0 && s[i] < 0xE0)
			len = 2, cp = s[i] & 0x1Fu, least = 0x80;
		else if (s[i] >= 0xE0 && s[i] < 0xF0)
			len = 3, cp = s[i] & 0x0Fu, least = 0x800;
		else if (s[i] >= 0xF0 && s[i] < 0xF8)
			len = 4, cp = s[i] & 0x07u, least = 0x10000;
		else
			return false;
		if (n - i < len)
			return false;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3Fu);
		}
		if (cp < least || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}
