#!/bin/sh
# test/install/install-test.sh - use an installed ptio as a user would.
#
# usage: install-test.sh PREFIX SRCDIR
#
# PREFIX holds a `make install` of ptio.  test/install/hello.c is built
# with nothing but pkg-config's flags, linked against the shared library
# and again against the static one, and each program is run.  The API
# reference must be installed too: `man 3 ptio_read` finds its page, and
# an alias (ptio_write_all, a `.so` page or a page of its own) resolves.
set -eu
prefix=$1
srcdir=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ptio-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
PKG_CONFIG_PATH=$prefix/lib/pkgconfig
export PKG_CONFIG_PATH
cflags=$(pkg-config --cflags ptio)
libs=$(pkg-config --libs ptio)
libdir=$(pkg-config --variable=libdir ptio)
for h in ptio.h ptio/pt.h ptio/loop.h ptio/posix.h ptio/config.h; do
	[ -f "$prefix/include/$h" ] || { echo "FAIL: $h not installed"; exit 1; }
done
for p in ptio ptio-io ptio_read ptio_write_all PTIO_AWAIT; do
	[ -f "$prefix/share/man/man3/$p.3" ] ||
		{ echo "FAIL: man page $p.3 not installed"; exit 1; }
done
if command -v man >/dev/null 2>&1; then
	page=$(MANPAGER=cat PAGER=cat MANWIDTH=80 \
		man -M "$prefix/share/man" 3 ptio_write_all 2>&1) || {
		echo "FAIL: man -M $prefix/share/man 3 ptio_write_all: $page"
		exit 1
	}
	case $page in
	*ptio_write_all*SYNOPSIS*) ;;
	*) echo "FAIL: man 3 ptio_write_all shows no page: $page"; exit 1 ;;
	esac
fi
cc=${CC:-cc}
# shellcheck disable=SC2086 # flag lists are split on purpose
$cc -std=c99 -Wall -Wextra -Werror $cflags -o "$tmp/hello-shared" \
	"$srcdir/test/install/hello.c" $libs -Wl,-rpath,"$libdir"
# shellcheck disable=SC2086
$cc -std=c99 -Wall -Wextra -Werror $cflags -o "$tmp/hello-static" \
	"$srcdir/test/install/hello.c" "$libdir/libptio.a"
"$tmp/hello-shared"
"$tmp/hello-static"
if ldd "$tmp/hello-static" | grep -q libptio; then
	echo "FAIL: the static program loads libptio"
	exit 1
fi
echo "PASS: installed ptio: pkg-config program linked shared and static; man pages"
