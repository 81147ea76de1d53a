#!/bin/sh
# test/man-test.sh - the API reference (doc/man, made by doc/gen-man.pl)
# covers the API.  Run from the top build directory by `make check`
# (srcdir in the environment); skipped (77) when configure found no perl.
#
# Checked: every name the library exports has a page; so does every
# function-like PTIO_ macro of the public headers (users call them: the
# PTIO_LC_ ones are the continuations' insides and are left out); every
# public header has its page; every `.so` page leads to a page that
# exists; and every page renders without a warning under groff -ww (and
# mandoc -Tlint, where installed); reference.html has every exported
# name.  A name whose contract comment is missing gets no page, so
# deleting a comment fails this test.

set -u
srcdir=${srcdir:-.}
man=doc/man
[ -f "$man/pages.list" ] || { echo "SKIP: no $man/pages.list (no perl?)"; exit 77; }
fail=0
checked=0

has_page() {
	checked=$((checked + 1))
	[ -f "$man/man3/$1.3" ] && return 0
	echo "FAIL: no page for $1 ($2)"
	fail=1
}

# 1. Every exported name: from the shared library, or from the static one
#    in a --disable-shared build.
lib=.libs/libptio.so
[ -f "$lib" ] || lib=.libs/libptio.a
if [ -f "$lib" ]; then
	nmflags=-D
	case $lib in *.a) nmflags=-g ;; esac
	syms=$(${NM:-nm} $nmflags --defined-only "$lib" 2>/dev/null |
		awk '$2 ~ /^[TDBR]$/ && $3 ~ /^ptio_[^_]/ { print $3 }' | sort -u)
	[ -n "$syms" ] || { echo "FAIL: no exported name found in $lib"; exit 1; }
	for s in $syms; do
		has_page "$s" "exported by $lib"
		grep -q "id=\"$s\"" "$man/reference.html" ||
			{ echo "FAIL: $s is not in $man/reference.html"; fail=1; }
	done
else
	echo "SKIP (part): no library to list exported names from"
fi

# 2. Every function-like macro a user calls.
macros=$(sed -n 's/^[ 	]*#[ 	]*define[ 	]\{1,\}\(PTIO_[A-Za-z0-9_]*\)(.*/\1/p' \
	"$srcdir"/include/ptio.h "$srcdir"/include/ptio/*.h |
	grep -v -e '^PTIO_LC_' -e '_$' | sort -u)
for m in $macros; do has_page "$m" "a macro of the public headers"; done

# 3. Every public header (a new header must be in ptioinclude_HEADERS).
has_page ptio "include/ptio.h"
# ptio/uart.h is the porting kit's: installed, and documented, only by a
# freestanding build (src/port/local.mk), which runs no tests.
for h in "$srcdir"/include/ptio/*.h; do
	b=$(basename "$h" .h)
	[ "$b" = uart ] && continue
	has_page "ptio-$b" "include/ptio/$b.h"
done

# 4. Aliases lead somewhere; every page in the list is there.
while read -r p; do
	[ -f "$man/man3/$p" ] || { echo "FAIL: $p is listed, not built"; fail=1; continue; }
	target=$(sed -n 's/^\.so //p' "$man/man3/$p")
	if [ -n "$target" ] && [ ! -f "$man/$target" ]; then
		echo "FAIL: $p leads to $target, which does not exist"
		fail=1
	fi
done <"$man/pages.list"

# 5. The pages render without warnings (aliases are rendered through the
#    page they lead to).
pages=$(cd "$man" && grep -L '^\.so ' man3/*.3)
if command -v groff >/dev/null 2>&1; then
	for p in $pages; do
		out=$(cd "$man" && groff -man -ww -z "$p" 2>&1)
		[ -z "$out" ] || { echo "FAIL: groff -ww on $p:"; echo "$out"; fail=1; }
	done
	echo "groff -man -ww: $(echo "$pages" | wc -l) pages rendered"
else
	echo "SKIP (part): groff is not installed; pages not rendered"
fi
if command -v mandoc >/dev/null 2>&1; then
	for p in $pages; do
		out=$(cd "$man" && mandoc -Tlint -W warning "$p" 2>&1)
		[ -z "$out" ] || { echo "FAIL: mandoc -Tlint on $p:"; echo "$out"; fail=1; }
	done
else
	echo "SKIP (part): mandoc is not installed; no lint"
fi

[ "$fail" -eq 0 ] || exit 1
echo "PASS: $checked names and headers have pages; $(wc -l <"$man/pages.list") pages"
