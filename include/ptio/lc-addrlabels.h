/*
 * ptio/lc-addrlabels.h - local continuations as label addresses.
 *
 * GCC and Clang's "labels as values" extension: PTIO_LC_SET stores the
 * address of a label planted at the current line, and PTIO_LC_RESUME jumps
 * to it.  Unlike lc-switch this allows switch statements anywhere in a
 * machine.  Select it with ./configure --with-lc=addrlabels, or by defining
 * PTIO_CONF_LC_ADDRLABELS before including ptio.h (every translation unit
 * that shares a machine must agree).
 *
 * Pitfall: two awaits on one source line share the label name and collide.
 *
 * Pitfall: a computed goto may land on any await, so GCC cannot prove a
 * machine's result variable is set on every path and warns
 * "may be used uninitialized": give such variables an initial value.
 */
#ifndef PTIO_LC_ADDRLABELS_H
#define PTIO_LC_ADDRLABELS_H

#if !defined(__GNUC__)
#error "lc-addrlabels needs the GCC/Clang labels-as-values extension"
#endif

typedef void *ptio_lc;

#define PTIO_LC_CONCAT2_(a, b) a##b
#define PTIO_LC_CONCAT_(a, b) PTIO_LC_CONCAT2_(a, b)
#define PTIO_LC_LABEL_ PTIO_LC_CONCAT_(ptio_lc_line_, __LINE__)

#define PTIO_LC_INIT(lc) ((lc) = (void *)0)

#define PTIO_LC_RESUME(lc)                                               \
	do {                                                             \
		if ((lc) != (void *)0)                                   \
			goto *(lc);                                      \
	} while (0)

/* GCC 12 and later warn (-Wdangling-pointer) when a label's address is
 * stored through a pointer and the function returns right after, as in
 * PTIO_YIELD and PTIO_WAIT_UNTIL.  A label belongs to the function, not
 * to its frame, so the stored address stays valid: silence that store. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#define PTIO_LC_STORE_(lc)                                               \
	_Pragma("GCC diagnostic push")                                   \
	_Pragma("GCC diagnostic ignored \"-Wdangling-pointer\"")         \
	(lc) = &&PTIO_LC_LABEL_;                                         \
	_Pragma("GCC diagnostic pop")
#else
#define PTIO_LC_STORE_(lc) (lc) = &&PTIO_LC_LABEL_;
#endif

#define PTIO_LC_SET(lc)                                                  \
	__extension__({ PTIO_LC_STORE_(lc) });                           \
	PTIO_LC_LABEL_:

#define PTIO_LC_END(lc)

#define PTIO_LC_NAME "addrlabels"

#endif /* PTIO_LC_ADDRLABELS_H */
