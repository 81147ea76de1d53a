/*
 * ptio/lc-switch.h - local continuations as line numbers in a switch.
 *
 * This is the default, standard-C implementation.  PTIO_LC_RESUME opens a
 * switch on the saved line; PTIO_LC_LABEL plants a case label for the
 * current line and PTIO_LC_SAVE (on the same line) saves it, so the next
 * resume jumps straight back to the label.
 *
 * While the machine runs, its continuation holds PTIO_LC_RUNNING_, so a
 * second machine handed the same continuation (a nested machine given its
 * parent's op) sees it and refuses to run; a line number that is none of
 * this machine's lands on the switch's default label and is refused too.
 * ptio/pt.h says what refusing means.  A foreign line number that happens
 * to equal one of this machine's own await lines cannot be told apart:
 * with line numbers that is the one case no check can see (lc-addrlabels
 * sees it).
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

/* A line number.  Machines live in files of fewer than 65535 lines; the
 * check in PTIO_LC_SAVE turns a longer file into a compile error. */
typedef uint16_t ptio_lc;

/* The value a running machine's continuation holds. */
#define PTIO_LC_RUNNING_ ((ptio_lc)0xFFFFu)

#define PTIO_LC_INIT(lc) ((lc) = 0)

/* Open the machine's body: jump to the saved line, or run FOREIGN (a
 * statement that must leave the function) when the continuation belongs
 * to a running machine or to no await of this one.  FOREIGN finds the
 * continuation as it was. */
#define PTIO_LC_RESUME(lc, foreign)                                      \
	{                                                                \
		ptio_lc ptio_lc_at_ = (lc);                              \
		(lc) = PTIO_LC_RUNNING_;                                 \
		switch (ptio_lc_at_) {                                   \
		default:                                                 \
			(lc) = ptio_lc_at_;                              \
			foreign;                                         \
		case 0:

/* Falling into the case label is the whole point; the attribute says so
 * to -Wimplicit-fallthrough (a comment would not survive macro
 * expansion). */
#if defined(__has_attribute)
#if __has_attribute(fallthrough)
#define PTIO_LC_FALLTHROUGH_ __attribute__((fallthrough))
#endif
#endif
#ifndef PTIO_LC_FALLTHROUGH_
#define PTIO_LC_FALLTHROUGH_ do { } while (0)
#endif

/* A resume point on this line, and saving it (same line). */
#define PTIO_LC_LABEL(lc)                                                \
	PTIO_LC_FALLTHROUGH_;                                            \
	case __LINE__:
#define PTIO_LC_SAVE(lc)                                                 \
	do {                                                             \
		(void)sizeof(char[__LINE__ < 65535 ? 1 : -1]);           \
		(lc) = (ptio_lc)__LINE__;                                \
	} while (0)

#define PTIO_LC_END(lc)                                                  \
		}                                                        \
	}

#define PTIO_LC_NAME "switch"

#endif /* PTIO_LC_SWITCH_H */
