## doc/local.mk - the documentation: the tutorial and the porting guide,
## installed in $(docdir), and the test that compiles and runs every code
## example of the tutorial.

dist_doc_DATA = doc/tutorial.md doc/porting.md

## A host test: a freestanding build has none.
if !PTIO_FREESTANDING
## doc/tutorial.md's examples, compiled and run; the test also checks
## that every C block of the tutorial is in test/doc-examples.c as it is,
## reading both from the source tree.
check_PROGRAMS += test/doc-examples
PARALLEL_TESTS += test/doc-examples
test_doc_examples_SOURCES = test/doc-examples.c $(TEST_COMMON)
test_doc_examples_CPPFLAGS = $(AM_CPPFLAGS) \
	-DPTIO_DOC_SRCDIR='"$(abs_top_srcdir)"'
test_doc_examples_CFLAGS = $(TEST_CC_FLAGS)
test_doc_examples_LDADD = libptio.la $(CHECK_LIBS)
endif

## The API reference: doc/gen-man.pl turns the contract comments of every
## installed header into man pages, one per header (ptio/io.h is
## ptio-io(3), ptio.h is ptio(3), the index) and one per documented
## function or macro, with `.so` pages for the other names it declares.
## The set of pages follows the headers, so it is not known to automake:
## doc/man/pages.list names them, and install-data-local and
## uninstall-local install and remove exactly those.  A header gets its
## pages by being in include_HEADERS or ptioinclude_HEADERS, nothing else.
## The same text, every header on one page, goes to
## $(docdir)/reference.html.
## test/man-test.sh checks that every exported name and every macro users
## call has a page and that the pages render without warnings.
EXTRA_DIST += doc/gen-man.pl
REF_INPUTS = $(include_HEADERS) $(ptioinclude_HEADERS) \
	$(nodist_ptioinclude_HEADERS)

if HAVE_PERL
noinst_DATA = doc/man/pages.list
nodist_doc_DATA = doc/man/reference.html
endif
doc/man/reference.html: doc/man/pages.list
	@test -f $@

## Headers in the build tree (config.h) or, under VPATH, the source tree.
doc/man/pages.list: $(REF_INPUTS) doc/gen-man.pl
	$(AM_V_GEN)rm -rf doc/man doc/man.tmp && \
	hs= && for h in $(REF_INPUTS); do \
	  if test -f "$$h"; then hs="$$hs $$h"; \
	  else hs="$$hs $(srcdir)/$$h"; fi; \
	done && \
	$(PERL) $(srcdir)/doc/gen-man.pl -o doc/man.tmp \
	  -v '$(PACKAGE_VERSION)' $$hs && \
	mv doc/man.tmp doc/man

install-data-local:
	@$(NORMAL_INSTALL)
	if test -f doc/man/pages.list; then \
	  $(MKDIR_P) '$(DESTDIR)$(mandir)/man3' && \
	  $(INSTALL_DATA) `sed 's|^|doc/man/man3/|' doc/man/pages.list` \
	    '$(DESTDIR)$(mandir)/man3'; \
	fi

uninstall-local:
	@$(NORMAL_UNINSTALL)
	if test -f doc/man/pages.list; then \
	  test ! -d '$(DESTDIR)$(mandir)/man3' || { cd '$(DESTDIR)$(mandir)/man3' && \
	    rm -f `cat '$(abs_builddir)/doc/man/pages.list'`; }; \
	fi

clean-local:
	-rm -rf doc/man doc/man.tmp

## The reference covers the API (a host test: it reads libptio.so).
if !PTIO_FREESTANDING
PARALLEL_TESTS += test/man-test.sh
endif
EXTRA_DIST += test/man-test.sh
