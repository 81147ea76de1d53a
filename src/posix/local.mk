## src/posix/local.mk - hosted POSIX support: fd streams, backends, TCP.

nobase_include_HEADERS += include/ptio/posix.h

libptio_la_SOURCES += \
	src/posix/assert.c \
	src/posix/clock.c \
	src/posix/fd.c \
	src/posix/poll.c \
	src/posix/tcp.c

noinst_HEADERS += src/posix/internal.h
