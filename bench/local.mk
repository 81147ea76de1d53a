## bench/local.mk - measurements.
##
## echo-instr.sh counts the user instructions (callgrind) and system calls
## (perf) that samples/echo-server spends per message of a ping-pong
## driven by echo-pingpong; `make echo-instr` runs it on this build.
##
## run compares samples/echo-server, in both modes and on each backend,
## with echo servers written on other event libraries (the peers below):
## messages per second, instructions and system calls per message, and
## memory per idle connection; it writes bench/RESULTS.md.  `make bench`
## runs it in full, `make bench-quick` with --quick.  Both scripts share
## lib.sh.

## Host programs: a freestanding build has none.
if !PTIO_FREESTANDING
noinst_PROGRAMS += bench/echo-pingpong
bench_echo_pingpong_SOURCES = bench/echo-pingpong.c
EXTRA_DIST += bench/echo-instr.sh bench/lib.sh bench/run bench/report.awk \
	bench/RESULTS.md

PHONY_TARGETS += echo-instr bench bench-quick
echo-instr: samples/echo-server$(EXEEXT) bench/echo-pingpong$(EXEEXT)
	$(SHELL) $(srcdir)/bench/echo-instr.sh .

bench: all
	bash $(srcdir)/bench/run .
bench-quick: all
	bash $(srcdir)/bench/run --quick .

## The peers: one echo server per library, each built only when configure
## found the library (peer.h says what they have in common).
PEER_SOURCES = bench/peer.c bench/peer.h

if HAVE_EPOLL
noinst_PROGRAMS += bench/peer-epoll
bench_peer_epoll_SOURCES = bench/peer-epoll.c $(PEER_SOURCES)
endif

if HAVE_LIBEV
noinst_PROGRAMS += bench/peer-libev
bench_peer_libev_SOURCES = bench/peer-libev.c $(PEER_SOURCES)
bench_peer_libev_LDADD = $(LIBEV_LIBS)
endif

if HAVE_LIBUV
noinst_PROGRAMS += bench/peer-libuv
bench_peer_libuv_SOURCES = bench/peer-libuv.c $(PEER_SOURCES)
bench_peer_libuv_CFLAGS = $(AM_CFLAGS) $(LIBUV_CFLAGS)
bench_peer_libuv_LDADD = $(LIBUV_LIBS)
endif

if HAVE_LIBURING
noinst_PROGRAMS += bench/peer-uring
bench_peer_uring_SOURCES = bench/peer-uring.c $(PEER_SOURCES)
bench_peer_uring_CFLAGS = $(AM_CFLAGS) $(LIBURING_CFLAGS)
bench_peer_uring_LDADD = $(LIBURING_LIBS)
endif
endif
