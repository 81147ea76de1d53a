## test/local.mk - the Check suites.  Each area lists its test programs in
## its own fragment; every program links test/runner.c and test/helpers.c:
##
##   check_PROGRAMS += test/check-foo
##   TESTS += test/check-foo
##   test_check_foo_SOURCES = test/check-foo.c $(TEST_COMMON)
##   test_check_foo_CFLAGS = $(TEST_CC_FLAGS)
##   test_check_foo_LDADD = $(TEST_LIBS)
##
## (The shared variables avoid the _CFLAGS/_LDADD suffixes, which automake
## reserves for per-program variables.)

TEST_COMMON = test/runner.c test/helpers.c test/helpers.h
TEST_CC_FLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
TEST_LIBS = libptio.la $(CHECK_LIBS)

include test/core.mk
include test/posix.mk
include test/bufio.mk
include test/port.mk
include test/samples.mk
