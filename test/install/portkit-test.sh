#!/bin/sh
# test/install/portkit-test.sh - the porting kit as a firmware author uses
# it: cross-configure ptio, install it into a prefix, and link a firmware
# against the installed libptio.a with nothing but pkg-config's flags, the
# board's files and the program.
#
# usage: portkit-test.sh SRCDIR WORKDIR TARGET
#
# SRCDIR is a ptio source tree with a configure script and no in-tree
# build (configure refuses a VPATH build of a configured tree).  WORKDIR
# gets TARGET's build and prefix.  TARGET is one of:
#   mps2-an385  --host=arm-none-eabi, the default CFLAGS (Cortex-M3); the
#               UART echo sample for QEMU's mps2-an385
#   rv32        --host=riscv64-unknown-elf with rv32imac CFLAGS; the UART
#               echo sample for QEMU's virt board (qemu-virt-rv32)
#   riscv64     --host=riscv64-unknown-elf, the default CFLAGS (the
#               toolchain's rv64): configure, build and install only, as
#               no board in the tree is 64-bit
# The firmware runs under QEMU when QEMU is installed, and its transcript
# must be samples/firmware/uart-echo.expected.  The last line printed is a
# one-line result; the exit status is 0 when everything ran and passed.
set -eu
srcdir=$(cd "$1" && pwd)
work=$2
target=$3
build=$work/$target-build
prefix=$work/$target-prefix
fw=$srcdir/samples/firmware
port=$srcdir/src/port

case $target in
mps2-an385)
	set -- --host=arm-none-eabi
	cc=arm-none-eabi-gcc cpu="-mcpu=cortex-m3 -mthumb"
	qemu="qemu-system-arm -M mps2-an385 -nographic -monitor none"
	qemu="$qemu -semihosting-config enable=on,target=native"
	board="-T $port/mps2-an385/mps2-an385.ld $port/mps2-an385/board.c"
	board="$board $port/mps2-an385/cmsdk-uart.c $port/mps2-an385/startup.c"
	;;
rv32)
	set -- --host=riscv64-unknown-elf \
		CFLAGS="-march=rv32imac -mabi=ilp32 -mcmodel=medany -Os -g"
	cc=riscv64-unknown-elf-gcc
	cpu="-march=rv32imac_zicsr -mabi=ilp32 -mcmodel=medany"
	qemu="qemu-system-riscv32 -M virt -bios none -nographic -monitor none"
	board="-T $port/qemu-virt-rv32/qemu-virt-rv32.ld"
	board="$board $port/qemu-virt-rv32/start.S"
	board="$board $port/qemu-virt-rv32/board.c $port/qemu-virt-rv32/ns16550.c"
	;;
riscv64)
	set -- --host=riscv64-unknown-elf
	cc= ;;
*)
	echo "portkit-test.sh: unknown target '$target'" >&2
	exit 2 ;;
esac

fail() {
	echo "portkit $target: FAIL: $*"
	exit 1
}

rm -rf "$build" "$prefix"
mkdir -p "$build"
(cd "$build" && "$srcdir/configure" -q --prefix="$prefix" "$@" &&
	make -j2 >/dev/null && make install >/dev/null) ||
	fail "configure, make or make install"

# What a board needs is installed, and nothing of the host's.
for f in lib/libptio.a lib/pkgconfig/ptio.pc include/ptio.h \
	include/ptio/config.h include/ptio/port.h include/ptio/uart.h; do
	[ -f "$prefix/$f" ] || fail "$f not installed"
done
[ ! -e "$prefix/include/ptio/posix.h" ] || fail "ptio/posix.h installed"
members=$(ar t "$prefix/lib/libptio.a")
for m in loop.o port.o uart.o mem.o; do
	echo "$members" | grep -qx "$m" || fail "$m not in libptio.a"
done
if echo "$members" | grep -qE '^(fd|poll|tcp|clock|alloc)\.o$'; then
	fail "a posix object is in libptio.a"
fi
nmembers=$(echo "$members" | wc -l)
[ -n "$cc" ] || { echo "portkit $target: PASS: built and installed ($nmembers objects)"; exit 0; }

PKG_CONFIG_PATH=$prefix/lib/pkgconfig
export PKG_CONFIG_PATH
# The rv32 firmware's -march=rv32imac_zicsr makes -lgcc find the 64-bit
# libgcc: it links the one the pc file names instead.
if [ "$target" = rv32 ]; then
	libs="$(pkg-config --libs ptio) $(pkg-config --variable=libgcc ptio)"
else
	libs=$(pkg-config --static --libs ptio)
fi
elf=$work/$target-uart-echo.elf
cflags=$(pkg-config --cflags ptio)
# shellcheck disable=SC2086 # flag lists are split on purpose
$cc $cpu -std=gnu11 -ffreestanding -nostdlib -Os -g -ffunction-sections \
	-fdata-sections -Wl,--gc-sections -Wall -Wextra -Werror \
	$cflags -I"$srcdir/src" -o "$elf" \
	$board "$port/board-common.c" "$fw/uart-echo.c" $libs ||
	fail "linking uart-echo against the installed libptio.a"

# shellcheck disable=SC2086 # the command's first word
set -- $qemu
if ! command -v "$1" >/dev/null 2>&1; then
	echo "portkit $target: PASS: built, installed, uart-echo linked ($1 missing: not run)"
	exit 0
fi
limit=
command -v timeout >/dev/null 2>&1 && limit="timeout 20"
# shellcheck disable=SC2086
$limit $qemu -kernel "$elf" <"$fw/uart-echo.in" >"$work/$target.out" 2>&1 ||
	fail "uart-echo under QEMU: exit status $?"
cmp -s "$fw/uart-echo.expected" "$work/$target.out" || {
	diff -u "$fw/uart-echo.expected" "$work/$target.out" | sed -n 1,20p
	fail "uart-echo transcript differs"
}
echo "portkit $target: PASS: built, installed, uart-echo linked against it and run under QEMU"
