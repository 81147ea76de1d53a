## test/bufio.mk - the suites of BufRead, the adapters, write_fmt and
## read_to_end, the chaos suites over every provided machine, and the
## README's seed examples.

## The chaos suites: every provided machine and adapter against the
## fault-injecting stream, 10,000 seeds each (PTIO_CHAOS_SEEDS=n to
## change, PTIO_CHAOS_SEED=n to rerun one seed).
FAKE_CHAOS = test/fake/chaos-stream.c test/fake/chaos-stream.h

check_PROGRAMS += test/check-chaos-read
TESTS += test/check-chaos-read
test_check_chaos_read_SOURCES = test/check-chaos-read.c $(FAKE_CHAOS) \
	$(TEST_COMMON)
test_check_chaos_read_CFLAGS = $(TEST_CC_FLAGS)
test_check_chaos_read_LDADD = $(TEST_LIBS)

check_PROGRAMS += test/check-chaos-write
TESTS += test/check-chaos-write
test_check_chaos_write_SOURCES = test/check-chaos-write.c $(FAKE_CHAOS) \
	$(TEST_COMMON)
test_check_chaos_write_CFLAGS = $(TEST_CC_FLAGS)
test_check_chaos_write_LDADD = $(TEST_LIBS)

check_PROGRAMS += test/check-chaos-bufio
TESTS += test/check-chaos-bufio
test_check_chaos_bufio_SOURCES = test/check-chaos-bufio.c $(FAKE_CHAOS) \
	$(TEST_COMMON)
test_check_chaos_bufio_CFLAGS = $(TEST_CC_FLAGS)
test_check_chaos_bufio_LDADD = $(TEST_LIBS)

check_PROGRAMS += test/check-bufread
TESTS += test/check-bufread
test_check_bufread_SOURCES = test/check-bufread.c $(TEST_COMMON)
test_check_bufread_CFLAGS = $(TEST_CC_FLAGS)
test_check_bufread_LDADD = $(TEST_LIBS)

check_PROGRAMS += test/check-fmt
TESTS += test/check-fmt
test_check_fmt_SOURCES = test/check-fmt.c $(TEST_COMMON)
test_check_fmt_CFLAGS = $(TEST_CC_FLAGS)
test_check_fmt_LDADD = $(TEST_LIBS)

check_PROGRAMS += test/check-adapters
TESTS += test/check-adapters
test_check_adapters_SOURCES = test/check-adapters.c \
	test/fake/mem-read.c test/fake/mem-read.h $(TEST_COMMON)
test_check_adapters_CFLAGS = $(TEST_CC_FLAGS)
test_check_adapters_LDADD = $(TEST_LIBS)

check_PROGRAMS += test/check-readmore
TESTS += test/check-readmore
test_check_readmore_SOURCES = test/check-readmore.c \
	test/fake/mem-read.c test/fake/mem-read.h $(TEST_COMMON)
test_check_readmore_CFLAGS = $(TEST_CC_FLAGS)
test_check_readmore_LDADD = $(TEST_LIBS)

## README.md's "From the seed to C" examples, compiled and run.
check_PROGRAMS += test/check-seed
TESTS += test/check-seed
test_check_seed_SOURCES = test/check-seed.c $(TEST_COMMON)
test_check_seed_CFLAGS = $(TEST_CC_FLAGS)
test_check_seed_LDADD = $(TEST_LIBS)
