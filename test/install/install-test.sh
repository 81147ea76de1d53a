#!/bin/sh
# test/install/install-test.sh - use an installed ptio as a user would.
#
# usage: install-test.sh PREFIX SRCDIR
#
# PREFIX holds a `make install` of ptio.  test/install/hello.c is built
# with nothing but pkg-config's flags, linked against the shared library
# and again against the static one, and each program is run.
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
echo "PASS: installed ptio: pkg-config program linked shared and static"
