/*
 * ptio/time.h - ticks: the loop's notion of time.
 *
 * Time is a 32-bit tick count that wraps.  What a tick is belongs to the
 * clock the loop's backend reads (the POSIX backends count milliseconds;
 * a board counts SysTick interrupts).  Two ticks are compared modulo 2^32:
 * A is before B when the signed 32-bit difference A - B is negative.  That
 * is right across the wrap as long as the two are less than 2^31 ticks
 * apart, so the longest delay anything accepts is PTIO_TICK_MAX_DELAY
 * (24.8 days at 1 kHz); longer delays are clamped to it.
 */
#ifndef PTIO_TIME_H
#define PTIO_TIME_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t ptio_tick;

#define PTIO_TICK_MAX_DELAY ((ptio_tick)0x7FFFFFFFu)

/* The signed distance from B to A, in ticks (wrap-safe). */
static inline int32_t ptio_tick_diff(ptio_tick a, ptio_tick b)
{
	return (int32_t)(uint32_t)(a - b);
}

/* True when A comes strictly before B. */
static inline bool ptio_tick_before(ptio_tick a, ptio_tick b)
{
	return ptio_tick_diff(a, b) < 0;
}

/* True when the moment WHEN has come at time NOW. */
static inline bool ptio_tick_reached(ptio_tick now, ptio_tick when)
{
	return ptio_tick_diff(now, when) >= 0;
}

/* NOW + DELAY with DELAY clamped to PTIO_TICK_MAX_DELAY. */
static inline ptio_tick ptio_tick_after(ptio_tick now, uint32_t delay)
{
	return now + (delay > PTIO_TICK_MAX_DELAY ? PTIO_TICK_MAX_DELAY : delay);
}

#ifdef __cplusplus
}
#endif

#endif /* PTIO_TIME_H */
