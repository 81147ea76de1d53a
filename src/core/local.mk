## src/core/local.mk - the freestanding core and the public headers.

nobase_include_HEADERS += \
	include/ptio.h \
	include/ptio/base.h \
	include/ptio/err.h \
	include/ptio/io.h \
	include/ptio/lc.h \
	include/ptio/lc-addrlabels.h \
	include/ptio/lc-switch.h \
	include/ptio/loop.h \
	include/ptio/ops.h \
	include/ptio/pt.h \
	include/ptio/readbuf.h \
	include/ptio/time.h

## The machines, loop and provided machines, also built on their own for
## test/check-pt-addrlabels (test/core.mk).
PTIO_CORE_SOURCES = \
	src/core/assert.c \
	src/core/dispatch.c \
	src/core/err.c \
	src/core/loop.c \
	src/core/ops-read.c \
	src/core/ops-ready.c \
	src/core/ops-write.c \
	src/core/readbuf.c \
	src/core/source.c \
	src/core/timer.c
libptio_la_SOURCES += $(PTIO_CORE_SOURCES)

noinst_HEADERS += src/core/internal.h
