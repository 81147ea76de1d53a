/*
 * src/posix/clock.c - the hosted tick source: CLOCK_MONOTONIC in
 * milliseconds, truncated to the loop's wrapping 32-bit ticks.
 *
 * CLOCK_MONOTONIC never jumps when the wall clock is set, which is what
 * deadlines need.  The count wraps every 49.7 days; the core compares
 * ticks modulo 2^32, so the wrap is harmless.
 */
#include <time.h>
#include <ptio/posix.h>

ptio_tick ptio_posix_now_ms(void)
{
	struct timespec ts;
	uint64_t ms;

	/* CLOCK_MONOTONIC is mandatory on every host ptio supports, so the
	 * call cannot fail with valid arguments. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	return (ptio_tick)ms;
}
