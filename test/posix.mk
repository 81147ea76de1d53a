## test/posix.mk - the Check suites of the hosted POSIX layer: fd streams
## and the poll backend over socketpairs and pipes, and the TCP helpers
## over loopback.

check_PROGRAMS += test/check-fd
TESTS += test/check-fd
test_check_fd_SOURCES = test/check-fd.c $(TEST_COMMON)
test_check_fd_CFLAGS = $(TEST_CC_FLAGS)
test_check_fd_LDADD = $(TEST_LIBS)

check_PROGRAMS += test/check-tcp
TESTS += test/check-tcp
test_check_tcp_SOURCES = test/check-tcp.c $(TEST_COMMON)
test_check_tcp_CFLAGS = $(TEST_CC_FLAGS)
test_check_tcp_LDADD = $(TEST_LIBS)
