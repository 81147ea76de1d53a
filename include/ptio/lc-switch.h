/*
 * ptio/lc-switch.h - local continuations as line numbers in a switch.
 *
 * This is the default, standard-C implementation.  PTIO_LC_RESUME opens a
 * switch on the saved line; PTIO_LC_SET saves the current line and plants a
 * case label for it, so the next resume jumps straight back here.
 *
 * Pitfall: because the whole machine body is one switch, a machine may not
 * contain its own switch statement around an await, yield or wait: the
 * inner switch would capture the case label.  Use if/else there, or build
 * with ./configure --with-lc=addrlabels.
 *
 * Pitfall: two awaits on one source line share __LINE__ and collide (the
 * compiler reports a duplicate case value).
 */
#ifndef PTIO_LC_SWITCH_H
#define PTIO_LC_SWITCH_H

#include <stdint.h>

/* A line number.  Machines live in files of fewer than 65536 lines; the
 * check in PTIO_LC_SET turns a longer file into a compile error. */
typedef uint16_t ptio_lc;

#define PTIO_LC_INIT(lc) ((lc) = 0)

#define PTIO_LC_RESUME(lc) switch (lc) { case 0:

/* Falling from the assignment into the case label is the whole point;
 * the attribute says so to -Wimplicit-fallthrough (a comment would not
 * survive macro expansion). */
#if defined(__has_attribute)
#if __has_attribute(fallthrough)
#define PTIO_LC_FALLTHROUGH_ __attribute__((fallthrough))
#endif
#endif
#ifndef PTIO_LC_FALLTHROUGH_
#define PTIO_LC_FALLTHROUGH_ do { } while (0)
#endif

#define PTIO_LC_SET(lc)                                                  \
	(void)sizeof(char[__LINE__ < 65536 ? 1 : -1]);                   \
	(lc) = (ptio_lc)__LINE__;                                        \
	PTIO_LC_FALLTHROUGH_;                                            \
	case __LINE__:

#define PTIO_LC_END(lc) }

#define PTIO_LC_NAME "switch"

#endif /* PTIO_LC_SWITCH_H */
