## test/local.mk - the Check suites and the sample tests.  Every Check
## program links test/runner.c and test/helpers.c:
##
##   check_PROGRAMS += test/check-foo
##   PARALLEL_TESTS += test/check-foo
##   test_check_foo_SOURCES = test/check-foo.c $(TEST_COMMON)
##   test_check_foo_CFLAGS = $(TEST_CC_FLAGS)
##   test_check_foo_LDADD = $(TEST_LIBS)
##
## (The shared variables avoid the _CFLAGS/_LDADD suffixes, which automake
## reserves for per-program variables.)
##
## TESTS (Makefile.am) is PARALLEL_TESTS, which make check runs side by
## side (make -j), then ALONE_TESTS, each of which runs by itself once
## every other test has ended (see the end of this file).

## Every test runs on the host: a freestanding build (the porting kit)
## has none.
if !PTIO_FREESTANDING
TEST_COMMON = test/runner.c test/helpers.c test/helpers.h
TEST_CC_FLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
TEST_LIBS = libptio.la $(CHECK_LIBS)

## ---- the Check suites of the freestanding core, and the fakes
## they run on (a backend with a test-owned clock, a scripted stream).
##
## The programs are linked -no-install, so test/check-loop is the program
## itself rather than a libtool wrapper script, and runs directly under a
## debugger or `CK_FORK=no valgrind --error-exitcode=1 ./test/check-loop`.

FAKE_CORE = \
	test/fake/fake-backend.c test/fake/fake-backend.h \
	test/fake/script-stream.c test/fake/script-stream.h \
	test/fake/op-task.c test/fake/op-task.h

check_PROGRAMS += test/check-err
PARALLEL_TESTS += test/check-err
test_check_err_SOURCES = test/check-err.c $(TEST_COMMON)
test_check_err_CFLAGS = $(TEST_CC_FLAGS)
test_check_err_LDADD = $(TEST_LIBS)
test_check_err_LDFLAGS = $(AM_LDFLAGS) -no-install

check_PROGRAMS += test/check-readbuf
PARALLEL_TESTS += test/check-readbuf
test_check_readbuf_SOURCES = test/check-readbuf.c $(TEST_COMMON)
test_check_readbuf_CFLAGS = $(TEST_CC_FLAGS)
test_check_readbuf_LDADD = $(TEST_LIBS)
test_check_readbuf_LDFLAGS = $(AM_LDFLAGS) -no-install

check_PROGRAMS += test/check-pt
PARALLEL_TESTS += test/check-pt
test_check_pt_SOURCES = test/check-pt.c test/pt-alone.c $(FAKE_CORE) \
	$(TEST_COMMON)
test_check_pt_CFLAGS = $(TEST_CC_FLAGS)
test_check_pt_LDADD = $(TEST_LIBS)
test_check_pt_LDFLAGS = $(AM_LDFLAGS) -no-install

check_PROGRAMS += test/check-loop
PARALLEL_TESTS += test/check-loop
test_check_loop_SOURCES = test/check-loop.c $(FAKE_CORE) $(TEST_COMMON)
test_check_loop_CFLAGS = $(TEST_CC_FLAGS)
test_check_loop_LDADD = $(TEST_LIBS)
test_check_loop_LDFLAGS = $(AM_LDFLAGS) -no-install

check_PROGRAMS += test/check-ops
PARALLEL_TESTS += test/check-ops
test_check_ops_SOURCES = test/check-ops.c $(FAKE_CORE) $(TEST_COMMON)
test_check_ops_CFLAGS = $(TEST_CC_FLAGS)
test_check_ops_LDADD = $(TEST_LIBS)
test_check_ops_LDFLAGS = $(AM_LDFLAGS) -no-install

check_PROGRAMS += test/check-coop
PARALLEL_TESTS += test/check-coop
test_check_coop_SOURCES = test/check-coop.c $(FAKE_CORE) $(TEST_COMMON)
test_check_coop_CFLAGS = $(TEST_CC_FLAGS)
test_check_coop_LDADD = $(TEST_LIBS)
test_check_coop_LDFLAGS = $(AM_LDFLAGS) -no-install

check_PROGRAMS += test/check-compose
PARALLEL_TESTS += test/check-compose
test_check_compose_SOURCES = test/check-compose.c $(FAKE_CORE) \
	$(TEST_COMMON)
test_check_compose_CFLAGS = $(TEST_CC_FLAGS)
test_check_compose_LDADD = $(TEST_LIBS)
test_check_compose_LDFLAGS = $(AM_LDFLAGS) -no-install

## The machines again with label-address continuations, whatever configure
## chose (with the testing kit, which the fake backend is built on).  The
## continuation's size is part of struct ptio_task, so this program links its own copy of the core built the same way instead of
## libptio (and, having no fd, needs none of src/posix but its assertion
## handler).
check_LTLIBRARIES += test/libptio-core-addrlabels.la
test_libptio_core_addrlabels_la_SOURCES = $(PTIO_CORE_SOURCES) \
	$(PTIO_SIM_SOURCES) src/posix/assert.c
test_libptio_core_addrlabels_la_CPPFLAGS = $(AM_CPPFLAGS) \
	-DPTIO_CONF_LC_ADDRLABELS

check_PROGRAMS += test/check-pt-addrlabels
PARALLEL_TESTS += test/check-pt-addrlabels
test_check_pt_addrlabels_SOURCES = test/check-pt.c test/pt-alone.c \
	test/runner.c \
	test/helpers.h $(FAKE_CORE)
test_check_pt_addrlabels_CPPFLAGS = $(AM_CPPFLAGS) -DPTIO_CONF_LC_ADDRLABELS
test_check_pt_addrlabels_CFLAGS = $(TEST_CC_FLAGS)
test_check_pt_addrlabels_LDADD = test/libptio-core-addrlabels.la $(CHECK_LIBS)

check_PROGRAMS += test/check-compose-addrlabels
PARALLEL_TESTS += test/check-compose-addrlabels
test_check_compose_addrlabels_SOURCES = test/check-compose.c test/runner.c \
	test/helpers.h $(FAKE_CORE)
test_check_compose_addrlabels_CPPFLAGS = $(AM_CPPFLAGS) \
	-DPTIO_CONF_LC_ADDRLABELS -DPTIO_TEST_NO_FD
test_check_compose_addrlabels_CFLAGS = $(TEST_CC_FLAGS)
test_check_compose_addrlabels_LDADD = test/libptio-core-addrlabels.la \
	$(CHECK_LIBS)

## The in-memory pipe (core) and the testing kit (src/sim).
check_PROGRAMS += test/check-pipe
PARALLEL_TESTS += test/check-pipe
test_check_pipe_SOURCES = test/check-pipe.c $(TEST_COMMON)
test_check_pipe_CFLAGS = $(TEST_CC_FLAGS)
test_check_pipe_LDADD = $(TEST_LIBS)
test_check_pipe_LDFLAGS = $(AM_LDFLAGS) -no-install

check_PROGRAMS += test/check-sim
PARALLEL_TESTS += test/check-sim
test_check_sim_SOURCES = test/check-sim.c $(TEST_COMMON)
test_check_sim_CFLAGS = $(TEST_CC_FLAGS)
test_check_sim_LDADD = $(TEST_LIBS)
test_check_sim_LDFLAGS = $(AM_LDFLAGS) -no-install

## ---- the Check suites of the hosted POSIX layer: fd streams
## over socketpairs and pipes and the TCP helpers over loopback, on each
## backend (see "Every backend" below), and the select and epoll
## backends' own.

check_PROGRAMS += test/check-fd
test_check_fd_SOURCES = test/check-fd.c $(TEST_COMMON)
test_check_fd_CFLAGS = $(TEST_CC_FLAGS)
test_check_fd_LDADD = $(TEST_LIBS)

check_PROGRAMS += test/check-tcp
test_check_tcp_SOURCES = test/check-tcp.c $(TEST_COMMON)
test_check_tcp_CFLAGS = $(TEST_CC_FLAGS)
test_check_tcp_LDADD = $(TEST_LIBS)

## Wakers and signal sources, on each backend (below); and the same suite
## over a copy of the library both built with ThreadSanitizer, when the
## compiler has it (configure's HAVE_TSAN; never beside
## --enable-sanitizers), on the host's default backend.  TSan runs it
## forked as usual, and a reported race fails the test (exitcode).
check_PROGRAMS += test/check-waker
test_check_waker_SOURCES = test/check-waker.c $(TEST_COMMON)
test_check_waker_CFLAGS = $(TEST_CC_FLAGS) -pthread
test_check_waker_LDFLAGS = $(AM_LDFLAGS) -pthread
test_check_waker_LDADD = $(TEST_LIBS)

if HAVE_TSAN
TSAN_FLAGS = -fsanitize=thread -fno-omit-frame-pointer
check_LTLIBRARIES += test/libptio-tsan.la
test_libptio_tsan_la_SOURCES = $(PTIO_CORE_SOURCES) $(PTIO_POSIX_SOURCES)
test_libptio_tsan_la_CFLAGS = $(AM_CFLAGS) $(TSAN_FLAGS) -O1
test_libptio_tsan_la_LIBADD = $(LIBURING_LIBS) $(PTHREAD_LIBS)

check_PROGRAMS += test/check-waker-tsan
PARALLEL_TESTS += test/check-waker-tsan
test_check_waker_tsan_SOURCES = test/check-waker.c $(TEST_COMMON)
test_check_waker_tsan_CFLAGS = $(TEST_CC_FLAGS) $(TSAN_FLAGS) -O1
test_check_waker_tsan_LDFLAGS = $(AM_LDFLAGS) $(TSAN_FLAGS) -no-install
test_check_waker_tsan_LDADD = test/libptio-tsan.la $(CHECK_LIBS)
endif

## Choosing a backend (once: it sets PTIO_BACKEND itself).
check_PROGRAMS += test/check-backend
PARALLEL_TESTS += test/check-backend
test_check_backend_SOURCES = test/check-backend.c $(TEST_COMMON)
test_check_backend_CFLAGS = $(TEST_CC_FLAGS)
test_check_backend_LDADD = $(TEST_LIBS)

## The epoll backend's own suite.  It defines epoll_wait and epoll_ctl, to
## count them and to close a stream between the kernel's answer and its
## report: the program's definitions come before the C library's.
check_PROGRAMS += test/check-epoll
PARALLEL_TESTS += test/check-epoll
test_check_epoll_SOURCES = test/check-epoll.c $(TEST_COMMON)
test_check_epoll_CFLAGS = $(TEST_CC_FLAGS)
test_check_epoll_LDADD = $(TEST_LIBS)

## The select backend's own suite, over a copy of the library: both are
## built with _FORTIFY_SOURCE=2 at -O2, so that glibc checks every FD_SET
## at run time and an out-of-bounds one aborts the test.
FORTIFY_FLAGS = -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
check_LTLIBRARIES += test/libptio-fortify.la
test_libptio_fortify_la_SOURCES = $(PTIO_CORE_SOURCES) $(PTIO_POSIX_SOURCES)
test_libptio_fortify_la_CPPFLAGS = $(AM_CPPFLAGS) $(FORTIFY_FLAGS)
test_libptio_fortify_la_CFLAGS = $(AM_CFLAGS) -O2
test_libptio_fortify_la_LIBADD = $(LIBURING_LIBS) $(PTHREAD_LIBS)

check_PROGRAMS += test/check-select
PARALLEL_TESTS += test/check-select
test_check_select_SOURCES = test/check-select.c $(TEST_COMMON)
test_check_select_CPPFLAGS = $(AM_CPPFLAGS) $(FORTIFY_FLAGS)
test_check_select_CFLAGS = $(TEST_CC_FLAGS) -O2
test_check_select_LDADD = test/libptio-fortify.la $(CHECK_LIBS)

## The io_uring backend's own suite.  It defines
## io_uring_queue_init_params, to play a kernel that refuses io_uring, and
## drives the ring itself (liburing).
check_PROGRAMS += test/check-uring
PARALLEL_TESTS += test/check-uring
test_check_uring_SOURCES = test/check-uring.c $(TEST_COMMON)
test_check_uring_CFLAGS = $(TEST_CC_FLAGS)
test_check_uring_LDADD = $(TEST_LIBS) $(LIBURING_LIBS)

## ---- Fairness on real sockets: a peer that never lets a task block
## must not let that task hold the loop, nor push its deadline back.
## PTIO_FAIR_RUNS sets how often the endless-line case runs (default 100).

check_PROGRAMS += test/check-fair
test_check_fair_SOURCES = test/check-fair.c $(TEST_COMMON)
test_check_fair_CFLAGS = $(TEST_CC_FLAGS) -pthread
test_check_fair_LDFLAGS = $(AM_LDFLAGS) -pthread
test_check_fair_LDADD = $(TEST_LIBS)

## ---- the suites of BufRead, the adapters, write_fmt and
## read_to_end, the chaos suites over every provided machine, and the
## README's seed examples.

## The chaos suites: every provided machine and adapter against the
## fault-injecting stream, 10,000 seeds each (PTIO_CHAOS_SEEDS=n to
## change, PTIO_CHAOS_SEED=n to rerun one seed).
FAKE_CHAOS = test/fake/chaos-stream.c test/fake/chaos-stream.h

check_PROGRAMS += test/check-chaos-read
PARALLEL_TESTS += test/check-chaos-read
test_check_chaos_read_SOURCES = test/check-chaos-read.c $(FAKE_CHAOS) \
	$(TEST_COMMON)
test_check_chaos_read_CFLAGS = $(TEST_CC_FLAGS)
test_check_chaos_read_LDADD = $(TEST_LIBS)

check_PROGRAMS += test/check-chaos-write
PARALLEL_TESTS += test/check-chaos-write
test_check_chaos_write_SOURCES = test/check-chaos-write.c $(FAKE_CHAOS) \
	$(TEST_COMMON)
test_check_chaos_write_CFLAGS = $(TEST_CC_FLAGS)
test_check_chaos_write_LDADD = $(TEST_LIBS)

check_PROGRAMS += test/check-chaos-bufio
PARALLEL_TESTS += test/check-chaos-bufio
test_check_chaos_bufio_SOURCES = test/check-chaos-bufio.c $(FAKE_CHAOS) \
	$(TEST_COMMON)
test_check_chaos_bufio_CFLAGS = $(TEST_CC_FLAGS)
test_check_chaos_bufio_LDADD = $(TEST_LIBS)

check_PROGRAMS += test/check-chaos-sync
TESTS += test/check-chaos-sync
test_check_chaos_sync_SOURCES = test/check-chaos-sync.c $(FAKE_CHAOS) \
	$(TEST_COMMON)
test_check_chaos_sync_CFLAGS = $(TEST_CC_FLAGS)
test_check_chaos_sync_LDADD = $(TEST_LIBS)

check_PROGRAMS += test/check-bufread
PARALLEL_TESTS += test/check-bufread
test_check_bufread_SOURCES = test/check-bufread.c $(TEST_COMMON)
test_check_bufread_CFLAGS = $(TEST_CC_FLAGS)
test_check_bufread_LDADD = $(TEST_LIBS)

check_PROGRAMS += test/check-fmt
PARALLEL_TESTS += test/check-fmt
test_check_fmt_SOURCES = test/check-fmt.c $(TEST_COMMON)
test_check_fmt_CFLAGS = $(TEST_CC_FLAGS)
test_check_fmt_LDADD = $(TEST_LIBS)

check_PROGRAMS += test/check-adapters
PARALLEL_TESTS += test/check-adapters
test_check_adapters_SOURCES = test/check-adapters.c \
	test/fake/mem-read.c test/fake/mem-read.h $(TEST_COMMON)
test_check_adapters_CFLAGS = $(TEST_CC_FLAGS)
test_check_adapters_LDADD = $(TEST_LIBS)

check_PROGRAMS += test/check-readmore
PARALLEL_TESTS += test/check-readmore
test_check_readmore_SOURCES = test/check-readmore.c \
	test/fake/mem-read.c test/fake/mem-read.h $(TEST_COMMON)
test_check_readmore_CFLAGS = $(TEST_CC_FLAGS)
test_check_readmore_LDADD = $(TEST_LIBS)

## README.md's "From the seed to C" examples, compiled and run.
check_PROGRAMS += test/check-seed
PARALLEL_TESTS += test/check-seed
test_check_seed_SOURCES = test/check-seed.c $(TEST_COMMON)
test_check_seed_CFLAGS = $(TEST_CC_FLAGS)
test_check_seed_LDADD = $(TEST_LIBS)

## ---- the bare-metal shim on the host (a fake CPU; the UART
## stream of src/port/uart.c over a fake UART), and the firmware under
## QEMU.

check_PROGRAMS += test/check-port
PARALLEL_TESTS += test/check-port
test_check_port_SOURCES = test/check-port.c test/fake/fake-port.c \
	test/fake/fake-port.h src/port/uart.c $(TEST_COMMON)
test_check_port_CFLAGS = $(TEST_CC_FLAGS) -pthread
test_check_port_LDFLAGS = -pthread
test_check_port_LDADD = $(TEST_LIBS)

## Notify, semaphore and channel on the fake backend, and their
## interrupt-side bindings on the fake CPU (a handler thread sends).
check_PROGRAMS += test/check-sync
TESTS += test/check-sync
test_check_sync_SOURCES = test/check-sync.c $(FAKE_CORE) \
	test/fake/fake-port.c test/fake/fake-port.h $(TEST_COMMON)
test_check_sync_CFLAGS = $(TEST_CC_FLAGS) -pthread
test_check_sync_LDFLAGS = $(AM_LDFLAGS) -pthread -no-install
test_check_sync_LDADD = $(TEST_LIBS)

## The firmware samples and the crash firmware under QEMU.  The test is a
## script generated here, so that the test harness, which builds a test
## before running it, builds the firmware first (the images are its
## prerequisites); it runs test/firmware-test.sh with the QEMU binaries
## configure found.  Cases whose compiler or QEMU is missing are skipped.
PARALLEL_TESTS += test/firmware
CLEANFILES += test/firmware
EXTRA_DIST += test/firmware-test.sh
test/firmware: $(PORT_FIRMWARE) Makefile
	$(AM_V_GEN)$(MKDIR_P) test && { \
	  echo '#!/bin/sh'; \
	  echo "QEMU_ARM='$(QEMU_ARM)' QEMU_RISCV='$(QEMU_RISCV)'"; \
	  echo 'export QEMU_ARM QEMU_RISCV'; \
	  echo "exec $(SHELL) '$(abs_top_srcdir)/test/firmware-test.sh'" \
	    "'$(abs_top_builddir)' '$(abs_top_srcdir)'"; \
	} >$@-t && chmod +x $@-t && mv -f $@-t $@

## ---- every sample is built (samples/local.mk) and run here, on
## each backend (below): the echo pair, and netcat and line-chat with
## samples/netcat (and socat, when it is installed) on the other end.

EXTRA_DIST += test/echo-test.sh test/netcat-test.sh test/line-chat-test.sh \
	test/sample-lib.sh

## An idle echo-server makes no system call (strace counts them for 2 s;
## skipped without strace).  echo-server --threads is run per backend
## (echo-threads-test, below).
PARALLEL_TESTS += test/echo-idle-test.sh
EXTRA_DIST += test/echo-idle-test.sh test/echo-threads-test.sh

## The flood test: while one connection floods an echo server (its reads
## never block), a new connection must still get its echo within 50 ms.
## test/flood-probe floods and times the probes; test/fair-echo is the
## control, a server fair by construction.  Both use plain sockets.
check_PROGRAMS += test/flood-probe test/fair-echo
test_flood_probe_SOURCES = test/flood-probe.c
test_fair_echo_SOURCES = test/fair-echo.c
ALONE_TESTS += test/echo-flood-test.sh
EXTRA_DIST += test/echo-flood-test.sh

## .ci/run installs ptio into a prefix and builds hello.c with pkg-config,
## and cross-builds the porting kit and links a firmware against it.
EXTRA_DIST += test/install/hello.c test/install/install-test.sh \
	test/install/portkit-test.sh

## The shared library exports no internal (ptio__) name.
PARALLEL_TESTS += test/exports-test.sh
EXTRA_DIST += test/exports-test.sh

## ---- Every backend.  The fd, TCP and fairness suites and the sample
## tests run once per backend: test/on-BACKEND/NAME is a wrapper written
## here that sets PTIO_BACKEND=BACKEND and runs the Check program
## test/NAME, or the script test/NAME.sh.  The programs choose their
## backend with ptio_posix_backend_init, which reads PTIO_BACKEND, and
## say which (a Check suite's name, a sample's "backend" line), so every
## log shows what ran.  A backend configure did not find on this host
## (PTIO_HOST_BACKENDS) is skipped.  To add a backend, add its wrappers.
## The fairness suites run alone, at the end (below).
BACKEND_TESTS = \
	test/on-poll/check-fd test/on-poll/check-tcp \
	test/on-poll/check-waker \
	test/on-poll/echo-test test/on-poll/netcat-test \
	test/on-poll/echo-threads-test \
	test/on-poll/line-chat-test \
	test/on-select/check-fd test/on-select/check-tcp \
	test/on-select/check-waker \
	test/on-select/echo-test test/on-select/netcat-test \
	test/on-select/echo-threads-test \
	test/on-select/line-chat-test \
	test/on-epoll/check-fd test/on-epoll/check-tcp \
	test/on-epoll/check-waker \
	test/on-epoll/echo-test test/on-epoll/netcat-test \
	test/on-epoll/echo-threads-test \
	test/on-epoll/line-chat-test \
	test/on-uring/check-fd test/on-uring/check-tcp \
	test/on-uring/check-waker \
	test/on-uring/echo-test test/on-uring/netcat-test \
	test/on-uring/echo-threads-test \
	test/on-uring/line-chat-test
FAIR_TESTS = test/on-poll/check-fair test/on-select/check-fair \
	test/on-epoll/check-fair test/on-uring/check-fair
PARALLEL_TESTS += $(BACKEND_TESTS)
ALONE_TESTS += $(FAIR_TESTS)
CLEANFILES += $(BACKEND_TESTS) $(FAIR_TESTS)
$(BACKEND_TESTS) $(FAIR_TESTS): Makefile
	$(AM_V_GEN)b=$(@D); b=$${b##*/on-}; n=$(@F); \
	case $$n in \
	check-*) run="exec '$(abs_top_builddir)/test/$$n'" ;; \
	*) run="exec $(SHELL) '$(abs_top_srcdir)/test/$$n.sh'" ;; \
	esac; \
	$(MKDIR_P) $(@D) && { \
	  echo '#!/bin/sh'; \
	  echo "# test/$$n on the $$b backend (written by make)."; \
	  echo "case ' $(PTIO_HOST_BACKENDS) ' in *' $$b '*) ;; *)"; \
	  echo "  echo 'SKIP: this host has no $$b backend'; exit 77 ;;"; \
	  echo 'esac'; \
	  echo "PTIO_BACKEND=$$b; export PTIO_BACKEND"; \
	  echo "echo 'PTIO_BACKEND=$$b'"; \
	  echo "$$run"; \
	} >$@-t && chmod +x $@-t && mv -f $@-t $@

## ---- Alone.  The flood test (above) and the fairness suite measure
## time.  The fairness suite measures what share of the machine a
## loop gets while a peer thread floods it: beside other tests (two of
## its own copies, a sample test's server and clients) a fair loop looks
## starved on a small machine.  So it runs after every other test, on one
## backend after another.  (The targets are named through variables:
## automake writes the .log rules itself and would take literal ones for
## overrides.  `make check TESTS=test/on-poll/check-fair` therefore runs
## every other test first; run the wrapper itself to run it alone.)
FAIR_POLL_LOG = test/on-poll/check-fair.log
FAIR_SELECT_LOG = test/on-select/check-fair.log
FAIR_EPOLL_LOG = test/on-epoll/check-fair.log
$(FAIR_POLL_LOG): $(PARALLEL_TESTS:=.log)
$(FAIR_SELECT_LOG): $(FAIR_POLL_LOG)
$(FAIR_EPOLL_LOG): $(FAIR_SELECT_LOG)
FAIR_URING_LOG = test/on-uring/check-fair.log
$(FAIR_URING_LOG): $(FAIR_EPOLL_LOG)
FLOOD_LOG = test/echo-flood-test.sh.log
$(FLOOD_LOG): $(FAIR_URING_LOG)

## The testing kit's examples (samples/sim): line-chat's protocol over
## 1,000 simulated seeds, built twice (the second with label-address
## continuations, over the core built that way): both must print the
## transcript hash in samples/sim/chat-sim.expected.
check_PROGRAMS += test/chat-sim-addrlabels
test_chat_sim_addrlabels_SOURCES = samples/sim/chat-sim.c
test_chat_sim_addrlabels_CPPFLAGS = $(AM_CPPFLAGS) -DPTIO_CONF_LC_ADDRLABELS
test_chat_sim_addrlabels_LDADD = test/libptio-core-addrlabels.la
PARALLEL_TESTS += test/chat-sim-test.sh
EXTRA_DIST += test/chat-sim-test.sh

## The uart-echo firmware on the host against a simulated UART, 200
## seeds of input timing.
PARALLEL_TESTS += samples/sim/uart-echo-sim

## The fuzz targets' corpora, replayed (test/fuzz/local.mk).
include test/fuzz/local.mk

## .ci/run's second builds (sanitizers, label-address continuations) and
## its distcheck run a part of these (see there): `make print-tests`
## lists them all.
PHONY_TARGETS += print-tests
print-tests:
	@echo $(TESTS)
endif
