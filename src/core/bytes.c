/*
 * src/core/bytes.c - the growable byte buffer (ptio/bytes.h), the UTF-8
 * check that read_to_string and read_line use, and the byte helpers the
 * core uses instead of libc.
 *
 * Divided into: growing and freeing a ptio_bytes, UTF-8, byte helpers.
 */
#include <ptio/bytes.h>
#include <ptio/err.h>
#include "core/internal.h"

/* ---- The buffer ----------------------------------------------------------- */

void ptio_bytes_init(struct ptio_bytes *b, void *buf, size_t cap,
		     const struct ptio_alloc *alloc)
{
	b->data = (uint8_t *)buf;
	b->len = 0;
	b->cap = buf != NULL ? cap : 0;
	b->alloc = alloc;
	b->owned = false;
}

void ptio_bytes_free(struct ptio_bytes *b)
{
	if (b->owned && b->data != NULL)
		(void)b->alloc->resize(b->alloc->ctx, b->data, b->cap, 0);
	b->data = NULL;
	b->len = b->cap = 0;
	b->owned = false;
}

/* The capacity to grow to for NEED bytes: at least double, at least 64,
 * so that a byte-by-byte append costs amortised O(1). */
static size_t grown_capacity(size_t cap, size_t need)
{
	size_t next = cap < 32 ? 64 : cap * 2;

	if (cap > PTIO_SSIZE_MAX / 2)
		next = PTIO_SSIZE_MAX;
	return next > need ? next : need;
}

ptio_ssize ptio_bytes_reserve(struct ptio_bytes *b, size_t additional)
{
	size_t need, cap;
	uint8_t *p;

	if (additional <= b->cap - b->len)
		return 0;
	if (additional > PTIO_SSIZE_MAX - b->len)
		return PTIO_EOVERFLOW;
	if (b->alloc == NULL)
		return PTIO_ENOBUFS;
	need = b->len + additional;
	cap = grown_capacity(b->cap, need);
	if (b->owned) {
		p = (uint8_t *)b->alloc->resize(b->alloc->ctx, b->data, b->cap,
						cap);
	} else {
		/* Caller memory is never handed to the hook: copy out of it. */
		p = (uint8_t *)b->alloc->resize(b->alloc->ctx, NULL, 0, cap);
		if (p != NULL)
			ptio__copy(p, b->data, b->len);
	}
	if (p == NULL)
		return PTIO_ENOMEM;
	b->data = p;
	b->cap = cap;
	b->owned = true;
	return 0;
}

ptio_ssize ptio_bytes_append(struct ptio_bytes *b, const void *src, size_t n)
{
	ptio_ssize r = ptio_bytes_reserve(b, n);

	if (r < 0)
		return r;
	ptio__copy(b->data + b->len, src, n);
	b->len += n;
	return (ptio_ssize)n;
}

const char *ptio_bytes_cstr(struct ptio_bytes *b)
{
	if (ptio_bytes_reserve(b, 1) < 0)
		return NULL;
	b->data[b->len] = 0;
	return (const char *)b->data;
}

/* ---- UTF-8 ------------------------------------------------------------------ */

/* The length of the sequence lead byte C starts, or 0 if C cannot start
 * one (a continuation byte, C0, C1, F5-FF). */
static size_t utf8_seq_len(uint8_t c)
{
	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		return 2;
	if (c < 0xF0)
		return 3;
	if (c < 0xF5)
		return 4;
	return 0;
}

/* Whether C may follow LEAD as the first continuation byte: this is where
 * overlong forms (E0, F0), surrogates (ED) and code points above U+10FFFF
 * (F4) are cut off. */
static bool utf8_second_ok(uint8_t lead, uint8_t c)
{
	if (lead == 0xE0)
		return c >= 0xA0 && c <= 0xBF;
	if (lead == 0xED)
		return c >= 0x80 && c <= 0x9F;
	if (lead == 0xF0)
		return c >= 0x90 && c <= 0xBF;
	if (lead == 0xF4)
		return c >= 0x80 && c <= 0x8F;
	return (c & 0xC0) == 0x80;
}

/* Check the sequence at S of which AVAIL bytes are present (AVAIL < its
 * length means it is cut short).  Returns its length, or 0 if invalid. */
static size_t utf8_seq_check(const uint8_t *s, size_t avail)
{
	size_t len = utf8_seq_len(s[0]);
	size_t i;

	if (len == 0)
		return 0;
	for (i = 1; i < len && i < avail; i++) {
		if (i == 1 ? !utf8_second_ok(s[0], s[1])
			   : (s[i] & 0xC0) != 0x80)
			return 0;
	}
	return len;
}

ptio_ssize ptio_utf8_check(const void *sv, size_t n, size_t *tail)
{
	const uint8_t *s = (const uint8_t *)sv;
	size_t i = 0, len;

	if (tail != NULL)
		*tail = 0;
	while (i < n) {
		if (s[i] < 0x80) { /* the common case, kept cheap */
			i++;
			continue;
		}
		len = utf8_seq_check(s + i, n - i);
		if (len == 0)
			return PTIO_EILSEQ;
		if (len > n - i) {
			if (tail == NULL)
				return PTIO_EILSEQ;
			*tail = n - i;
			return 0;
		}
		i += len;
	}
	return 0;
}

size_t ptio__utf8_resume(const uint8_t *s, size_t start, size_t end)
{
	size_t back;

	for (back = 1; back <= 3 && back <= end - start; back++) {
		uint8_t c = s[end - back];

		if ((c & 0xC0) != 0x80)
			return c >= 0xC0 ? end - back : end;
	}
	return end;
}

/* ---- Byte helpers --------------------------------------------------------- */

void ptio__copy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n-- > 0)
		*d++ = *s++;
}

void ptio__zero(void *dst, size_t n)
{
	uint8_t *d = dst;

	while (n-- > 0)
		*d++ = 0;
}
