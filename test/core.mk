## test/core.mk - the Check suites of the freestanding core, and the fakes
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
TESTS += test/check-err
test_check_err_SOURCES = test/check-err.c $(TEST_COMMON)
test_check_err_CFLAGS = $(TEST_CC_FLAGS)
test_check_err_LDADD = $(TEST_LIBS)
test_check_err_LDFLAGS = $(AM_LDFLAGS) -no-install

check_PROGRAMS += test/check-readbuf
TESTS += test/check-readbuf
test_check_readbuf_SOURCES = test/check-readbuf.c $(TEST_COMMON)
test_check_readbuf_CFLAGS = $(TEST_CC_FLAGS)
test_check_readbuf_LDADD = $(TEST_LIBS)
test_check_readbuf_LDFLAGS = $(AM_LDFLAGS) -no-install

check_PROGRAMS += test/check-pt
TESTS += test/check-pt
test_check_pt_SOURCES = test/check-pt.c $(FAKE_CORE) $(TEST_COMMON)
test_check_pt_CFLAGS = $(TEST_CC_FLAGS)
test_check_pt_LDADD = $(TEST_LIBS)
test_check_pt_LDFLAGS = $(AM_LDFLAGS) -no-install

check_PROGRAMS += test/check-loop
TESTS += test/check-loop
test_check_loop_SOURCES = test/check-loop.c $(FAKE_CORE) $(TEST_COMMON)
test_check_loop_CFLAGS = $(TEST_CC_FLAGS)
test_check_loop_LDADD = $(TEST_LIBS)
test_check_loop_LDFLAGS = $(AM_LDFLAGS) -no-install

check_PROGRAMS += test/check-ops
TESTS += test/check-ops
test_check_ops_SOURCES = test/check-ops.c $(FAKE_CORE) $(TEST_COMMON)
test_check_ops_CFLAGS = $(TEST_CC_FLAGS)
test_check_ops_LDADD = $(TEST_LIBS)
test_check_ops_LDFLAGS = $(AM_LDFLAGS) -no-install

## The machines again with label-address continuations, whatever configure
## chose.  The continuation's size is part of struct ptio_task, so this
## program links its own copy of the core built the same way instead of
## libptio (and, having no fd, needs none of src/posix but its assertion
## handler).
check_LTLIBRARIES += test/libptio-core-addrlabels.la
test_libptio_core_addrlabels_la_SOURCES = $(PTIO_CORE_SOURCES) \
	src/posix/assert.c
test_libptio_core_addrlabels_la_CPPFLAGS = $(AM_CPPFLAGS) \
	-DPTIO_CONF_LC_ADDRLABELS

check_PROGRAMS += test/check-pt-addrlabels
TESTS += test/check-pt-addrlabels
test_check_pt_addrlabels_SOURCES = test/check-pt.c test/runner.c \
	test/helpers.h $(FAKE_CORE)
test_check_pt_addrlabels_CPPFLAGS = $(AM_CPPFLAGS) -DPTIO_CONF_LC_ADDRLABELS
test_check_pt_addrlabels_CFLAGS = $(TEST_CC_FLAGS)
test_check_pt_addrlabels_LDADD = test/libptio-core-addrlabels.la $(CHECK_LIBS)
