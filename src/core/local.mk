## src/core/local.mk - the freestanding core and its public headers.
##
## PTIO_CORE_SOURCES is the one list of the core's files: libptio builds
## it, test/local.mk builds it again with label-address continuations,
## and src/port/local.mk builds it into every firmware image and into the
## freestanding libptio of a cross build.  Every file is freestanding: no
## libc, no malloc.  A file is named after the header it implements
## (io.c and io-source.c implement ptio/io.h, loop.c and loop-coop.c
## ptio/loop.h).

include_HEADERS += include/ptio.h
ptioinclude_HEADERS += \
	include/ptio/adapters.h \
	include/ptio/base.h \
	include/ptio/bufread.h \
	include/ptio/bytes.h \
	include/ptio/compose.h \
	include/ptio/err.h \
	include/ptio/fmt.h \
	include/ptio/io.h \
	include/ptio/lc.h \
	include/ptio/lc-addrlabels.h \
	include/ptio/lc-switch.h \
	include/ptio/loop.h \
	include/ptio/ops.h \
	include/ptio/pipe.h \
	include/ptio/pt.h \
	include/ptio/readbuf.h \
	include/ptio/sync.h \
	include/ptio/time.h

PTIO_CORE_SOURCES = \
	src/core/adapters.c \
	src/core/adapters-copy.c \
	src/core/base.c \
	src/core/bufread.c \
	src/core/bufread-reader.c \
	src/core/bufread-writer.c \
	src/core/bytes.c \
	src/core/compose.c \
	src/core/err.c \
	src/core/fmt.c \
	src/core/io.c \
	src/core/io-source.c \
	src/core/loop.c \
	src/core/loop-coop.c \
	src/core/ops-read.c \
	src/core/ops-ready.c \
	src/core/ops-write.c \
	src/core/pipe.c \
	src/core/readbuf.c \
	src/core/sync.c \
	src/core/timer.c
libptio_la_SOURCES += $(PTIO_CORE_SOURCES)

noinst_HEADERS += src/core/internal.h
