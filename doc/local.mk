## doc/local.mk - the documentation: the tutorial and the porting guide,
## installed in $(docdir), and the test that compiles and runs every code
## example of the tutorial.

dist_doc_DATA = doc/tutorial.md doc/porting.md

## doc/tutorial.md's examples, compiled and run; the test also checks
## that every C block of the tutorial is in test/doc-examples.c as it is,
## reading both from the source tree.
check_PROGRAMS += test/doc-examples
TESTS += test/doc-examples
test_doc_examples_SOURCES = test/doc-examples.c $(TEST_COMMON)
test_doc_examples_CPPFLAGS = $(AM_CPPFLAGS) \
	-DPTIO_DOC_SRCDIR='"$(abs_top_srcdir)"'
test_doc_examples_CFLAGS = $(TEST_CC_FLAGS)
test_doc_examples_LDADD = libptio.la $(CHECK_LIBS)
