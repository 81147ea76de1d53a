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

#define PTIO_LC_SET(lc)                                                  \
	__extension__({ (lc) = &&PTIO_LC_LABEL_; });                     \
	PTIO_LC_LABEL_:

#define PTIO_LC_END(lc)

#define PTIO_LC_NAME "addrlabels"

#endif /* PTIO_LC_ADDRLABELS_H */
