/*
 * ptio/lc.h - choose the local-continuation implementation.
 *
 * A local continuation is where a machine resumes.  ptio has two:
 * lc-switch.h (line numbers, standard C, the default) and
 * lc-addrlabels.h (label addresses, GCC/Clang).  The choice is made once,
 * here, by PTIO_CONF_LC_ADDRLABELS; ptio/config.h (written by configure)
 * defines it for --with-lc=addrlabels builds.
 */
#ifndef PTIO_LC_H
#define PTIO_LC_H

/* Pick up configure's choice when a configured tree or an installed copy
 * is on the include path; firmware builds without configure get the
 * default, or pass -DPTIO_CONF_LC_ADDRLABELS themselves. */
#if defined(__has_include)
#if __has_include(<ptio/config.h>)
#include <ptio/config.h>
#endif
#endif

#ifdef PTIO_CONF_LC_ADDRLABELS
#include "lc-addrlabels.h"
#else
#include "lc-switch.h"
#endif

#endif /* PTIO_LC_H */
