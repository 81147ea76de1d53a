/*
 * ptio/lc-addrlabels.h - local continuations as label addresses.
 *
 * GCC and Clang's "labels as values" extension: PTIO_LC_LABEL plants a
 * label at the current line, PTIO_LC_SAVE stores where it is, and
 * PTIO_LC_RESUME jumps back to it.  Unlike lc-switch this allows switch
 * statements anywhere in a machine.  Select it with ./configure
 * --with-lc=addrlabels, or by defining PTIO_CONF_LC_ADDRLABELS before
 * including ptio.h (every translation unit that shares a machine must
 * agree).
 *
 * A saved continuation does not point at the label itself but at a
 * static "site" that holds the label and the machine it belongs to (the
 * address of a static object of that machine's own).  So a continuation
 * handed to another machine, running or suspended, is recognised as
 * foreign and refused before any jump: a computed goto never lands in
 * another function.  While the machine runs its continuation holds
 * PTIO_LC_RUNNING_, which no site can equal.
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

#include <stdint.h>

typedef const void *ptio_lc;

/* Where a machine resumes, and which machine that is. */
struct ptio_lc_site {
	const char *owner;
	void *label;
};

/* The value a running machine's continuation holds; sites are aligned,
 * so none is at address 1. */
#define PTIO_LC_RUNNING_ ((ptio_lc)(uintptr_t)1)

#define PTIO_LC_CONCAT2_(a, b) a##b
#define PTIO_LC_CONCAT_(a, b) PTIO_LC_CONCAT2_(a, b)
#define PTIO_LC_LABEL_ PTIO_LC_CONCAT_(ptio_lc_line_, __LINE__)
#define PTIO_LC_SITE_ PTIO_LC_CONCAT_(ptio_lc_site_, __LINE__)

#define PTIO_LC_INIT(lc) ((lc) = (ptio_lc)0)

#define PTIO_LC_RESUME(lc, foreign)                                      \
	{                                                                \
		static const char ptio_lc_owner_ = 0;                    \
		ptio_lc ptio_lc_at_ = (lc);                              \
		(lc) = PTIO_LC_RUNNING_;                                 \
		if (ptio_lc_at_ != (ptio_lc)0) {                         \
			if (ptio_lc_at_ == PTIO_LC_RUNNING_ ||           \
			    ((const struct ptio_lc_site *)ptio_lc_at_)   \
					    ->owner != &ptio_lc_owner_) { \
				(lc) = ptio_lc_at_;                      \
				foreign;                                 \
			}                                                \
			goto *((const struct ptio_lc_site *)ptio_lc_at_) \
				      ->label;                           \
		}

#define PTIO_LC_LABEL(lc) PTIO_LC_LABEL_:

#define PTIO_LC_SAVE(lc)                                                 \
	do {                                                             \
		static const struct ptio_lc_site PTIO_LC_SITE_ = {       \
			&ptio_lc_owner_, &&PTIO_LC_LABEL_ };             \
		(lc) = &PTIO_LC_SITE_;                                   \
	} while (0)

#define PTIO_LC_END(lc) }

#define PTIO_LC_NAME "addrlabels"

#endif /* PTIO_LC_ADDRLABELS_H */
