## src/posix/local.mk - hosted POSIX support: fd streams, backends (poll,
## select, epoll, uring, and the chooser every program uses, backend.c), TCP,
## wakers and signal sources (waker.c, signals.c), the
## assertion handler that prints, and the realloc-based allocator hook of
## ptio_bytes.  epoll.c is built everywhere; without <sys/epoll.h>
## (configure's HAVE_SYS_EPOLL_H) it holds only an init that says
## PTIO_ENOTSUP.

## A freestanding build (the porting kit) has none of it.
if !PTIO_FREESTANDING
ptioinclude_HEADERS += include/ptio/posix.h

## PTIO_POSIX_SOURCES is the one list: libptio builds it, and
## test/local.mk builds it again with _FORTIFY_SOURCE for check-select.
PTIO_POSIX_SOURCES = \
	src/posix/alloc.c \
	src/posix/assert.c \
	src/posix/backend.c \
	src/posix/clock.c \
	src/posix/epoll.c \
	src/posix/fd.c \
	src/posix/poll.c \
	src/posix/select.c \
	src/posix/signals.c \
	src/posix/tcp.c \
	src/posix/uring.c \
	src/posix/waker.c
libptio_la_SOURCES += $(PTIO_POSIX_SOURCES)

## uring.c is built everywhere; with liburing (configure defines
## HAVE_LIBURING) it is the io_uring backend, without it an init that says
## PTIO_ENOTSUP.  The LIBURING_ variables are empty without it.  Its
## flags go to every compile, not to libptio alone: a per-library CFLAGS
## would rename the library's objects and, in a freestanding build where
## this part is left out, replace AM_CFLAGS (and its -ffreestanding).
AM_CPPFLAGS += $(LIBURING_CFLAGS)
libptio_la_LIBADD = $(LIBURING_LIBS) $(PTHREAD_LIBS)

noinst_HEADERS += src/posix/internal.h
endif
