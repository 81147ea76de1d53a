## src/core/bufio.mk - the rest of the trait surface (BufRead, adapters,
## write_fmt, read_to_end).
##
## Everything here is freestanding core code, except src/posix/alloc.c:
## the realloc-based allocator hook that hosted builds get.  It is listed
## here because it belongs with read_to_end, but it lives in src/posix and
## only the hosted library links it.

nobase_include_HEADERS += \
	include/ptio/adapters.h \
	include/ptio/bufread.h \
	include/ptio/bytes.h \
	include/ptio/fmt.h

libptio_la_SOURCES += \
	src/core/adapters.c \
	src/core/bufread.c \
	src/core/bufreader.c \
	src/core/bufwriter.c \
	src/core/bytes.c \
	src/core/copy.c \
	src/core/fmt.c \
	src/core/read-more.c \
	src/posix/alloc.c

noinst_HEADERS += src/core/bufio-internal.h
