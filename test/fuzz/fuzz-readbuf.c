/*
 * test/fuzz/fuzz-readbuf.c - readbuf operations in any order, against a
 * model.
 *
 * The input is the first buffer's size (a byte) and a sequence of
 * operations, each a byte (its low nibble picks it; 10 to 15 are 2 to 4
 * again) and its arguments:
 *
 *   0 init over fresh memory          (size: a byte, 0 to 255)
 *   1 init_initialized                (size; the memory holds a pattern)
 *   2 write N bytes at the unfilled region, then advance(N)
 *   3 write N bytes at the unfilled region, then assume_init(N)
 *   4 append N bytes from the input
 *   5 clear
 *   6 initialize_unfilled
 *   7 ptio_nb_read_buf through an honest reader (N bytes, sometimes
 *     initialising more than it fills)
 *   8 ptio_nb_read_buf through a reader that lies: it reports a count
 *     other than what it advanced, or shrinks `initialized`; the core
 *     must answer PTIO_EIO
 *   9 advance or assume_init with N where an overflow would hide: near
 *     SIZE_MAX or PTIO_SSIZE_MAX, or just past the room left
 *
 * N is mostly small, sometimes exactly the room left or one more.
 * After every operation: filled <= initialized <= capacity, initialized
 * has not shrunk (except where the lying reader shrank it and the core
 * said PTIO_EIO), the accessors agree with the fields, each call returned
 * what its contract says, and every byte the model knows the content of
 * (the filled part and what was written or zeroed since) is intact.
 */
#include <stdlib.h>
#include <string.h>
#include "test/fuzz/fuzz.h"

struct model {
	struct ptio_readbuf rb;
	uint8_t *mem;
	size_t cap, filled, init;
	uint8_t *shadow;   /* the bytes the model knows */
	uint8_t *known;    /* which ones it knows */
};

static void model_free(struct model *m)
{
	free(m->mem);
	free(m->shadow);
	free(m->known);
}

static void model_init(struct model *m, size_t cap, bool initialized)
{
	model_free(m);
	m->mem = fz_alloc(cap);
	m->shadow = fz_alloc(cap);
	m->known = calloc(cap > 0 ? cap : 1, 1);
	FZ_CHECK(m->known != NULL, "out of memory");
	m->cap = cap;
	m->filled = 0;
	if (initialized) {
		memset(m->mem, 0x5A, cap);
		memset(m->shadow, 0x5A, cap);
		memset(m->known, 1, cap);
		ptio_readbuf_init_initialized(&m->rb, m->mem, cap);
		m->init = cap;
	} else {
		ptio_readbuf_init(&m->rb, m->mem, cap);
		m->init = 0;
	}
}

/* Write the bytes at P into the model's memory at OFF, as a reader
 * would, and remember them. */
static void model_write(struct model *m, size_t off, const uint8_t *p,
			size_t n)
{
	memcpy(m->mem + off, p, n);
	memcpy(m->shadow + off, p, n);
	memset(m->known + off, 1, n);
}

static void check(const struct model *m, const char *op)
{
	const struct ptio_readbuf *rb = &m->rb;
	size_t i;

	FZ_CHECK(ptio_readbuf_valid(rb), "%s: invariants broken: filled %zu "
		 "initialized %zu capacity %zu", op, rb->filled,
		 rb->initialized, rb->capacity);
	FZ_CHECK(rb->buf == m->mem && rb->capacity == m->cap &&
			 rb->filled == m->filled && rb->initialized == m->init,
		 "%s: filled %zu initialized %zu, the model says %zu %zu", op,
		 rb->filled, rb->initialized, m->filled, m->init);
	FZ_CHECK(ptio_readbuf_len(rb) == rb->filled &&
			 ptio_readbuf_remaining(rb) == rb->capacity - rb->filled &&
			 ptio_readbuf_is_full(rb) == (rb->filled == rb->capacity) &&
			 ptio_readbuf_filled(rb) == rb->buf,
		 "%s: accessors disagree with the fields", op);
	for (i = 0; i < m->cap; i++)
		FZ_CHECK(!m->known[i] || m->mem[i] == m->shadow[i],
			 "%s: byte %zu is %#x, not %#x", op, i, m->mem[i],
			 m->shadow[i]);
	for (i = 0; i < m->filled; i++)
		FZ_CHECK(m->known[i], "%s: filled byte %zu never written", op,
			 i);
}

/* A count for an operation: mostly small, sometimes the room left or
 * one more; with HUGE, a value where an overflow would hide. */
static size_t pick_count(struct fz_in *in, const struct model *m, bool huge)
{
	uint8_t b = fz_byte(in);
	size_t room = m->cap - m->filled;

	if (huge) {
		static const size_t big[] = {
			SIZE_MAX, SIZE_MAX - 1, PTIO_SSIZE_MAX,
			PTIO_SSIZE_MAX + 1, (size_t)-1 / 2 + 2,
		};

		if (b & 0x80)
			return big[b % (sizeof(big) / sizeof(big[0]))];
		return room + (b & 0x7F);
	}
	if (b >= 0xF0)
		return room + (b & 1);
	return b % 72;
}

/* ---- The readers ------------------------------------------------------------- */

/* What a reader does this call: fill K bytes from P, initialise EXTRA
 * more, and return a count off by LIE (or shrink initialized to
 * SHRINK_TO when SHRINK). */
struct reader {
	const uint8_t *p;
	size_t k, extra;
	ptio_ssize lie;
	bool shrink;
	size_t shrink_to;
	struct model *m;
};

static ptio_ssize reader_read_buf(void *self, struct ptio_readbuf *rb)
{
	struct reader *r = self;
	uint8_t *at = ptio_readbuf_unfilled(rb);
	size_t off = rb->filled;

	FZ_CHECK(rb->buf == r->m->mem && rb->capacity == r->m->cap,
		 "the reader was handed other memory");
	model_write(r->m, off, r->p, r->k);
	if (r->extra > 0) {
		memset(at + r->k, 0xC3, r->extra);
		memset(r->m->shadow + off + r->k, 0xC3, r->extra);
		memset(r->m->known + off + r->k, 1, r->extra);
		FZ_CHECK(ptio_readbuf_assume_init(rb, r->k + r->extra) ==
				 (ptio_ssize)(r->k + r->extra),
			 "assume_init refused");
	}
	FZ_CHECK(ptio_readbuf_advance(rb, r->k) == (ptio_ssize)r->k,
		 "advance refused");
	if (r->shrink)
		rb->initialized = r->shrink_to;
	return (ptio_ssize)r->k + r->lie;
}

static ptio_ssize reader_poll(void *self, struct ptio_task *task,
			      unsigned interest)
{
	(void)self;
	(void)task;
	(void)interest;
	return PTIO_READABLE;
}

static const struct ptio_read_vt reader_vt = {
	.ready = { .poll_ready = reader_poll },
	.nb_read_buf = reader_read_buf,
};

/* Read once through the core's ptio_nb_read_buf; LYING picks a lie. */
static void op_read(struct model *m, struct fz_in *in, bool lying)
{
	struct reader r;
	struct ptio_read rd = { &r, &reader_vt };
	size_t room = m->cap - m->filled, init_before = m->init;
	uint8_t how = fz_byte(in);
	ptio_ssize got, want;

	memset(&r, 0, sizeof(r));
	r.m = m;
	r.k = fz_take(in, pick_count(in, m, false), &r.p);
	if (r.k > room)
		r.k = room;
	r.extra = (how & 7) < room - r.k ? how & 7 : room - r.k;
	if (lying) {
		if (how & 0x80) {
			/* Shrink initialized, keeping it valid. */
			r.shrink = true;
			r.shrink_to = m->filled + r.k + ((how >> 3) & 3);
			if (r.shrink_to > m->init)
				r.shrink_to = m->filled + r.k;
		} else {
			r.lie = (how & 0x40) ? -1 - (how >> 3 & 3) : 1 + (how >> 3 & 3);
			if ((ptio_ssize)r.k + r.lie < 0)
				r.lie = 1;
		}
	}
	got = ptio_nb_read_buf(rd, &m->rb);
	/* The model: the reader's own calls were honest. */
	m->filled += r.k;
	if (m->init < m->filled + r.extra)
		m->init = m->filled + r.extra;
	if (r.shrink) {
		m->init = r.shrink_to;
		want = r.shrink_to < init_before ? PTIO_EIO : (ptio_ssize)r.k;
	} else {
		want = r.lie != 0 ? PTIO_EIO : (ptio_ssize)r.k;
	}
	FZ_CHECK(got == want, "nb_read_buf (k %zu, lie %zd, shrink %d): %zd, "
		 "expected %zd", r.k, r.lie, r.shrink, got, want);
}

/* ---- The operations ----------------------------------------------------------- */

static void op_advance(struct model *m, struct fz_in *in, bool huge,
		       bool assume)
{
	size_t n = pick_count(in, m, huge), room = m->cap - m->filled;
	size_t k = n < room ? n : room;
	const uint8_t *p;
	ptio_ssize r;

	/* What a reader would have written first (the input's bytes, then
	 * a filler once the input runs out). */
	k = fz_take(in, k, &p);
	model_write(m, m->filled, p, k);
	if (k < (n < room ? n : room)) {
		size_t more = (n < room ? n : room) - k;

		memset(m->mem + m->filled + k, 0x3C, more);
		memset(m->shadow + m->filled + k, 0x3C, more);
		memset(m->known + m->filled + k, 1, more);
	}
	r = assume ? ptio_readbuf_assume_init(&m->rb, n)
		   : ptio_readbuf_advance(&m->rb, n);
	if (n > room) {
		FZ_CHECK(r == PTIO_EINVAL, "%s(%zu) with %zu left: %zd",
			 assume ? "assume_init" : "advance", n, room, r);
		return;
	}
	FZ_CHECK(r == (ptio_ssize)n, "%s(%zu): %zd",
		 assume ? "assume_init" : "advance", n, r);
	if (!assume)
		m->filled += n;
	if (m->init < m->filled + (assume ? n : 0))
		m->init = m->filled + (assume ? n : 0);
}

static void op_append(struct model *m, struct fz_in *in)
{
	const uint8_t *p;
	size_t n = fz_take(in, pick_count(in, m, false), &p);
	size_t room = m->cap - m->filled, want = n < room ? n : room;
	size_t got;

	/* The source is copied so that ASan sees a read past it. */
	uint8_t *src = fz_alloc(n);

	memcpy(src, p, n);
	got = ptio_readbuf_append(&m->rb, src, n);
	free(src);
	FZ_CHECK(got == want, "append(%zu) with %zu left: %zu", n, room, got);
	memcpy(m->shadow + m->filled, p, got);
	memset(m->known + m->filled, 1, got);
	m->filled += got;
	if (m->init < m->filled)
		m->init = m->filled;
}

static void op_initialize(struct model *m)
{
	uint8_t *u = ptio_readbuf_initialize_unfilled(&m->rb);
	size_t i;

	FZ_CHECK(u == m->mem + m->filled, "initialize_unfilled returned the "
		 "wrong place");
	for (i = m->init; i < m->cap; i++) {
		m->shadow[i] = 0;
		m->known[i] = 1;
	}
	m->init = m->cap;
	FZ_CHECK(ptio_readbuf_unfilled(&m->rb) == u, "unfilled moved");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		"init", "init_initialized", "advance", "assume_init", "append",
		"clear", "initialize_unfilled", "read", "lying read",
		"huge counts",
	};
	struct fz_in in = { data, size };
	struct model m;
	size_t init_before;
	uint8_t op;

	memset(&m, 0, sizeof(m));
	model_init(&m, fz_byte(&in), false);
	while (in.n > 0) {
		op = (uint8_t)(fz_byte(&in) & 0x0F);
		if (op >= sizeof(names) / sizeof(names[0]))
			op = 2 + op % 3; /* the common ones, again */
		init_before = m.init;
		if (op == 0 || op == 1)
			model_init(&m, fz_byte(&in), op == 1);
		else if (op == 2 || op == 3)
			op_advance(&m, &in, false, op == 3);
		else if (op == 4)
			op_append(&m, &in);
		else if (op == 5) {
			ptio_readbuf_clear(&m.rb);
			m.filled = 0;
		}
		else if (op == 6)
			op_initialize(&m);
		else if (op == 7 || op == 8)
			op_read(&m, &in, op == 8);
		else
			op_advance(&m, &in, true, fz_byte(&in) & 1);
		check(&m, names[op]);
		FZ_CHECK(op <= 1 || op == 8 || m.rb.initialized >= init_before,
			 "%s: initialized shrank from %zu to %zu", names[op],
			 init_before, m.rb.initialized);
	}
	model_free(&m);
	return 0;
}
