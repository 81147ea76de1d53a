/*
 * ptio/base.h - the few types and macros every other ptio header uses.
 *
 * It holds the signed size type that every machine and non-blocking call
 * returns, the two reserved "not an error, not a result" values
 * (PTIO_PENDING and PTIO_WOULD_BLOCK), container_of, and a static assertion.
 * It includes only freestanding headers, so it is safe on bare metal.
 */
#ifndef PTIO_BASE_H
#define PTIO_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The return type of every machine and every non-blocking call.
 *
 *   >= 0                 success; the value is the result (often a count)
 *   PTIO_PENDING         a machine has suspended; call it again when its
 *                        task is next run (PTIO_AWAIT does this)
 *   PTIO_WOULD_BLOCK     a non-blocking call could not make progress now
 *   any other negative   an error code PTIO_E* (see ptio/err.h)
 *
 * Both reserved values lie just below -4095, the most negative errno value
 * Linux can report, so they never collide with an error code on any host.
 */
typedef ptrdiff_t ptio_ssize;

#define PTIO_PENDING     ((ptio_ssize)-4096)
#define PTIO_WOULD_BLOCK ((ptio_ssize)-4097)

/* The largest count a ptio_ssize can carry. */
#define PTIO_SSIZE_MAX   ((size_t)PTRDIFF_MAX)

/*
 * PTIO_CONTAINER_OF(ptr, type, member) - the struct of TYPE whose MEMBER
 * PTR points at.  Tasks, sources and backends are embedded in the user's
 * own structs; this gets the user's struct back without allocation.
 */
#define PTIO_CONTAINER_OF(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* PTIO_STATIC_ASSERT(cond, msg) - a compile-time check, usable anywhere a
 * declaration is. */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define PTIO_STATIC_ASSERT(cond, msg) static_assert(cond, #msg)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define PTIO_STATIC_ASSERT(cond, msg) _Static_assert(cond, #msg)
#else
#define PTIO_STATIC_ASSERT(cond, msg) \
	typedef char ptio_static_assert_##msg[(cond) ? 1 : -1]
#endif

/*
 * PTIO_ASSERT(cond) - an internal invariant check.  It is on by default
 * (the invariants are cheap) and compiled out with -DPTIO_CONF_NO_ASSERT.
 * A failed check calls ptio_assert_fail(), which a port may replace (it is
 * a weak symbol in the core) and which must not return.
 */
void ptio_assert_fail(const char *file, int line, const char *expr);
#ifdef PTIO_CONF_NO_ASSERT
#define PTIO_ASSERT(cond) ((void)0)
#else
#define PTIO_ASSERT(cond) \
	((cond) ? (void)0 : ptio_assert_fail(__FILE__, __LINE__, #cond))
#endif

#ifdef __cplusplus
}
#endif

#endif /* PTIO_BASE_H */
