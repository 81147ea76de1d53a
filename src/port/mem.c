/*
 * src/port/mem.c - the four memory functions a freestanding compiler may
 * call by itself (for struct copies, zero-initialised locals and loops it
 * recognises), for firmware linked with -nostdlib.  Not for hosts.
 *
 * They are plain byte loops: firmware that needs fast copies brings its
 * own.  The "no-tree-loop-distribute-patterns" attribute stops GCC from
 * turning these very loops back into calls to themselves.
 *
 * A freestanding libptio.a holds them, and they are weak: an archive
 * member is linked only when one of its symbols is still missing, and the
 * four come as one member, so a firmware that defines memcpy itself but
 * not memset would otherwise get two memcpy definitions.  A strong one,
 * the program's or a C library's linked before libptio.a, always wins.
 */
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) && !defined(__clang__)
#define PTIO_MEM_FN __attribute__((weak, \
	optimize("no-tree-loop-distribute-patterns")))
#else
#define PTIO_MEM_FN __attribute__((weak))
#endif

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

PTIO_MEM_FN void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n-- > 0)
		*d++ = *s++;
	return dst;
}

PTIO_MEM_FN void *memmove(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if ((uintptr_t)d - (uintptr_t)s >= n) {
		/* No overlap that a forward copy would clobber. */
		while (n-- > 0)
			*d++ = *s++;
	} else {
		while (n-- > 0)
			d[n] = s[n];
	}
	return dst;
}

PTIO_MEM_FN void *memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;

	while (n-- > 0)
		*d++ = (uint8_t)c;
	return dst;
}

PTIO_MEM_FN int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n > 0; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}
