/*
 * src/posix/internal.h - what the POSIX files share and users never see.
 */
#ifndef PTIO_POSIX_INTERNAL_H
#define PTIO_POSIX_INTERNAL_H

#include <ptio/posix.h>

/* errno as a ptio error code.  On hosts every PTIO_E<NAME> is -E<NAME>
 * (fd.c asserts it at compile time), so the value passes through. */
ptio_ssize ptio__errno(void);

/* Put F in the closed state on LOOP without touching any descriptor, so
 * that a failed open or connect leaves a stream ptio_fd_close ignores. */
void ptio__fd_set_closed(struct ptio_fd *f, struct ptio_loop *loop);

/* A pipe whose two ends (FDS[0] read, FDS[1] write) are non-blocking
 * and close-on-exec; 0 or an error with nothing open.  The self-pipes of
 * wakers (without eventfd) and signal sources. */
ptio_ssize ptio__pipe_nb(int fds[2]);

#endif /* PTIO_POSIX_INTERNAL_H */
