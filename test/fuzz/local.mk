## test/fuzz/local.mk - the fuzz targets, two ways.
##
## Each target test/fuzz/fuzz-NAME.c is a libFuzzer entry point.  It is
## built
##
##   as test/fuzz/replay-NAME, with the normal compiler against libptio
##   and test/fuzz/replay.c for main(): it runs the seed corpus
##   test/fuzz/corpus/NAME once, and `make check` runs it, so the corpora
##   are regression tests on every build;
##
##   as test/fuzz/fuzz-NAME, with $(FUZZ_CC) -fsanitize=fuzzer,address,
##   undefined over the core's own sources (PTIO_CORE_SOURCES, so the
##   library is instrumented for coverage too), by `make fuzz`, when
##   configure found a clang with libFuzzer.  test/fuzz/run.sh builds
##   them and runs each for a while on a copy of its corpus.

FUZZ_COMMON = test/fuzz/fuzz.c test/fuzz/fuzz.h
FUZZ_CORPORA = $(abs_top_srcdir)/test/fuzz/corpus

FUZZ_REPLAYS = test/fuzz/replay-lines test/fuzz/replay-readbuf \
	test/fuzz/replay-writev test/fuzz/replay-fmt test/fuzz/replay-chat
check_PROGRAMS += $(FUZZ_REPLAYS)
PARALLEL_TESTS += $(FUZZ_REPLAYS)

test_fuzz_replay_lines_SOURCES = test/fuzz/fuzz-lines.c test/fuzz/replay.c \
	$(FUZZ_COMMON)
test_fuzz_replay_lines_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS='"$(FUZZ_CORPORA)/lines"'
test_fuzz_replay_lines_LDADD = libptio.la
test_fuzz_replay_lines_LDFLAGS = $(AM_LDFLAGS) -no-install

test_fuzz_replay_readbuf_SOURCES = test/fuzz/fuzz-readbuf.c \
	test/fuzz/replay.c $(FUZZ_COMMON)
test_fuzz_replay_readbuf_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS='"$(FUZZ_CORPORA)/readbuf"'
test_fuzz_replay_readbuf_LDADD = libptio.la
test_fuzz_replay_readbuf_LDFLAGS = $(AM_LDFLAGS) -no-install

test_fuzz_replay_writev_SOURCES = test/fuzz/fuzz-writev.c \
	test/fuzz/replay.c $(FUZZ_COMMON)
test_fuzz_replay_writev_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS='"$(FUZZ_CORPORA)/writev"'
test_fuzz_replay_writev_LDADD = libptio.la
test_fuzz_replay_writev_LDFLAGS = $(AM_LDFLAGS) -no-install

test_fuzz_replay_fmt_SOURCES = test/fuzz/fuzz-fmt.c test/fuzz/replay.c \
	$(FUZZ_COMMON)
test_fuzz_replay_fmt_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS='"$(FUZZ_CORPORA)/fmt"'
test_fuzz_replay_fmt_LDADD = libptio.la
test_fuzz_replay_fmt_LDFLAGS = $(AM_LDFLAGS) -no-install

test_fuzz_replay_chat_SOURCES = test/fuzz/fuzz-chat.c test/fuzz/replay.c \
	$(FUZZ_COMMON)
test_fuzz_replay_chat_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS='"$(FUZZ_CORPORA)/chat"'
test_fuzz_replay_chat_LDADD = libptio.la
test_fuzz_replay_chat_LDFLAGS = $(AM_LDFLAGS) -no-install

## The libFuzzer programs: the core, the hosted assertion handler and the
## shared helpers compiled once with $(FUZZ_CC) into an archive, then each
## target linked with it.
FUZZ_BINS = test/fuzz/fuzz-lines test/fuzz/fuzz-readbuf \
	test/fuzz/fuzz-writev test/fuzz/fuzz-fmt test/fuzz/fuzz-chat
FUZZ_LIB = test/fuzz/libptio-fuzz.a
FUZZ_LIB_FILES = $(PTIO_CORE_SOURCES) src/posix/assert.c test/fuzz/fuzz.c
FUZZ_COMPILE = $(FUZZ_CC) $(FUZZ_CFLAGS) $(DEFS) $(DEFAULT_INCLUDES) \
	$(AM_CPPFLAGS) $(CPPFLAGS) -std=gnu11 $(WARN_CFLAGS)

PHONY_TARGETS += fuzz
if HAVE_LIBFUZZER
fuzz: $(FUZZ_BINS)

$(FUZZ_LIB): $(FUZZ_LIB_FILES) $(ptioinclude_HEADERS) include/ptio.h \
		src/core/internal.h include/ptio/config.h test/fuzz/fuzz.h
	$(AM_V_GEN)$(MKDIR_P) test/fuzz && rm -f $@ && \
	for f in $(FUZZ_LIB_FILES); do \
	  o=test/fuzz/fuzz-lib-`basename $$f .c`.o; \
	  $(FUZZ_COMPILE) -c -o $$o $(srcdir)/$$f && $(AR) cr $@ $$o && \
	  rm -f $$o || exit 1; \
	done && $(RANLIB) $@

$(FUZZ_BINS): $(FUZZ_LIB)
	$(AM_V_CCLD)$(FUZZ_COMPILE) -o $@ $(srcdir)/$@.c $(FUZZ_LIB)
test/fuzz/fuzz-lines: test/fuzz/fuzz-lines.c
test/fuzz/fuzz-readbuf: test/fuzz/fuzz-readbuf.c
test/fuzz/fuzz-writev: test/fuzz/fuzz-writev.c
test/fuzz/fuzz-fmt: test/fuzz/fuzz-fmt.c
test/fuzz/fuzz-chat: test/fuzz/fuzz-chat.c
else
fuzz:
	@echo "make fuzz: configure found no clang with libFuzzer" \
	  "(set FUZZ_CC)" >&2; exit 1
endif
CLEANFILES += $(FUZZ_BINS) $(FUZZ_LIB)

EXTRA_DIST += test/fuzz/run.sh test/fuzz/corpus test/fuzz/crashes
