/*
 * ptio/fmt.h - printf-style formatting with no C library, and write_fmt.
 *
 * The formatter understands the printf subset firmware and daemons use:
 *
 *   conversions   d i u x X o c s p %
 *   flags         - + space # 0
 *   width         digits or *          (a negative * means '-')
 *   precision     .digits or .*        (integers: minimum digits;
 *                                       strings: maximum bytes)
 *   lengths       hh h l ll z j t
 *
 * Anything else (floating point, %n, wide characters) is PTIO_EINVAL:
 * an unknown conversion is an error, never printed by guess.  On GCC and
 * Clang the functions carry the printf format attribute, so the compiler
 * checks arguments against the format as it does for printf.
 *
 * Divided into: the formatter (to a callback, to a buffer) and the
 * write_fmt machine.
 */
#ifndef PTIO_FMT_H
#define PTIO_FMT_H

#include <stdarg.h>
#include "base.h"
#include "io.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* PTIO_PRINTF(fmt_index, first_arg) - marks a printf-style function so
 * that the compiler checks its format string and arguments where it can. */
#if defined(__GNUC__)
#define PTIO_PRINTF(fmt_index, first_arg) \
	__attribute__((format(printf, fmt_index, first_arg)))
#else
#define PTIO_PRINTF(fmt_index, first_arg)
#endif

/* ---- The formatter ------------------------------------------------------- */

/* Where formatted text goes: N bytes at S (not NUL-terminated).  Return
 * 0 to go on, or a negative value to stop formatting with it. */
typedef ptio_ssize (*ptio_fmt_out)(void *ctx, const char *s, size_t n);

/* Format FMT with AP, giving the text to OUT piece by piece.  Returns the
 * total length of the text, the first negative value OUT returned, or
 * PTIO_EINVAL for a conversion outside the subset above (the text before
 * it has gone to OUT). */
ptio_ssize ptio_vformat(ptio_fmt_out out, void *ctx, const char *fmt,
			va_list ap) PTIO_PRINTF(3, 0);

/* snprintf: format into the CAP bytes at BUF, always NUL-terminated when
 * CAP > 0, cut short if needed.  Returns the full length the text needs
 * (not counting the NUL; >= CAP means it was cut), or PTIO_EINVAL. */
ptio_ssize ptio_format(char *buf, size_t cap, const char *fmt, ...)
	PTIO_PRINTF(3, 4);
ptio_ssize ptio_vformat_buf(char *buf, size_t cap, const char *fmt,
			    va_list ap) PTIO_PRINTF(3, 0);

/* ---- write_fmt ------------------------------------------------------------ */

/*
 * Write::write_fmt: machine writing the formatted text to W, all of it.
 * Returns the text's length, or an error with ptio_op_done(op) bytes
 * written (PTIO_EINVAL for a bad format; PTIO_EWRITEZERO when W accepts
 * nothing).
 *
 * No buffer is held across a suspension: the text is formatted in small
 * pieces on the stack and written at once; when W would block, the
 * machine waits, and then formats again from the start, skipping the
 * ptio_op_done(op) bytes already written.  So the arguments are read on
 * every resume, like any awaited call's: pass values that survive
 * suspensions (fields of your struct, not locals), and do not change
 * them until the machine finishes.  Resuming costs formatting time
 * proportional to the text already written, which is small for the
 * lines and records this is for.
 */
ptio_ssize ptio_write_fmt(struct ptio_op *op, struct ptio_write w,
			  const char *fmt, ...) PTIO_PRINTF(3, 4);
ptio_ssize ptio_write_vfmt(struct ptio_op *op, struct ptio_write w,
			   const char *fmt, va_list ap) PTIO_PRINTF(3, 0);

#ifdef __cplusplus
}
#endif

#endif /* PTIO_FMT_H */
