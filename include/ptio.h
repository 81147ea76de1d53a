/*
 * ptio.h - the umbrella header.
 *
 * ptio brings the async Read / Write / Ready traits to C: machines
 * (stackless async functions, ptio/pt.h) await the provided operations
 * (ptio/ops.h) over trait objects (ptio/io.h), scheduled by a loop
 * (ptio/loop.h) that a backend feeds with readiness.
 *
 * The core headers are freestanding.  On a hosted POSIX build this header
 * also brings in ptio/posix.h (fd streams, the poll backend, TCP helpers);
 * define PTIO_NO_POSIX to leave it out.
 */
#ifndef PTIO_H
#define PTIO_H

#include "ptio/base.h"
#include "ptio/err.h"
#include "ptio/time.h"
#include "ptio/pt.h"
#include "ptio/readbuf.h"
#include "ptio/io.h"
#include "ptio/loop.h"
#include "ptio/ops.h"
#include "ptio/compose.h"
#include "ptio/bytes.h"
#include "ptio/bufread.h"
#include "ptio/adapters.h"
#include "ptio/fmt.h"
#include "ptio/pipe.h"
#include "ptio/port.h"

#if defined(__STDC_HOSTED__) && __STDC_HOSTED__ && defined(__unix__) && \
	!defined(PTIO_NO_POSIX)
#include "ptio/sync.h"
#include "ptio/posix.h"
#endif

#endif /* PTIO_H */
