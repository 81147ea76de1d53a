#!/bin/sh
# test/firmware-test.sh - runs the firmware under QEMU and compares what it
# prints on its UART with the expected transcript, as `make check` does
# (through the generated test/firmware, which builds the firmware first).
#
# usage: firmware-test.sh BUILDDIR SRCDIR
# environment: QEMU_ARM, QEMU_RISCV (as configure found them; empty or
# missing means skip that board)
#
# Cases, for each board (mps2-an385 Cortex-M3; virt rv32imac):
#   uart-echo  input samples/firmware/uart-echo.in, exit 0, transcript
#              samples/firmware/uart-echo.expected
#   tasks      no input, exit 0, transcript samples/firmware/tasks.expected
#   chan-echo  input samples/firmware/chan-echo.in, exit 0, transcript
#              samples/firmware/chan-echo.expected (the UART's receive
#              handler sends into a channel, a task receives)
#   crash      test/firmware-crash.c fed 'f' (a trap: exit 3) and 'a' (a
#              failed assertion: exit 5): faults never hang a test
# A case whose firmware was not built (no cross compiler) or whose QEMU is
# missing is skipped; the script exits 77 when every case was skipped.
#
# The ARM command line adds -monitor none to the usual
#   qemu-system-arm -M mps2-an385 -nographic \
#     -semihosting-config enable=on,target=native -kernel F
# because with -nographic QEMU puts the monitor and the UART behind one
# multiplexer, and QEMU's CMSDK UART model never asks that multiplexer for
# more input after the guest reads a byte: piped input that arrives before
# the firmware enables its receiver sits in the multiplexer for ever.
# Without the monitor the UART reads stdin directly.

set -u

builddir=$1
srcdir=$2
fw=$builddir/samples/firmware
transcripts=$srcdir/samples/firmware

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ptio-firmware-test.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

limit=
command -v timeout >/dev/null 2>&1 && limit="timeout 20"

passed=0
failed=0
skipped=0

skip() {
	echo "SKIP: $1 ($2)"
	skipped=$((skipped + 1))
}

# run NAME QEMU-ARGS ELF INPUT EXPECTED-STATUS [EXPECTED-TRANSCRIPT | =TEXT]
# The last argument is a file to compare the output with, or "=TEXT": the
# output must contain TEXT.
run() {
	name=$1 qemu_cmd=$2 elf=$3 input=$4 want_status=$5 want=${6:-}

	if [ ! -f "$elf" ]; then
		skip "$name" "${elf##*/} not built: no cross compiler"
		return
	fi
	# shellcheck disable=SC2086 # QEMU-ARGS are words on purpose
	set -- $qemu_cmd
	if [ -z "${1:-}" ] || ! command -v "$1" >/dev/null 2>&1; then
		skip "$name" "no QEMU for it"
		return
	fi
	# shellcheck disable=SC2086 # QEMU-ARGS are words on purpose
	$limit $qemu_cmd -kernel "$elf" <"$input" >"$tmp/out" 2>"$tmp/err"
	status=$?
	ok=yes
	if [ "$status" -ne "$want_status" ]; then
		echo "FAIL: $name: exit status $status, expected $want_status"
		ok=no
	fi
	case $want in
	=*)
		if ! grep -qF -- "${want#=}" "$tmp/out"; then
			echo "FAIL: $name: output lacks '${want#=}'"
			ok=no
		fi ;;
	?*)
		if ! cmp -s "$want" "$tmp/out"; then
			echo "FAIL: $name: transcript differs"
			diff -u "$want" "$tmp/out" | sed -n 1,40p
			ok=no
		fi ;;
	esac
	if [ $ok = yes ]; then
		echo "PASS: $name"
		passed=$((passed + 1))
	else
		echo "--- output"; cat "$tmp/out"
		echo "--- stderr"; cat "$tmp/err"
		failed=$((failed + 1))
	fi
}

arm=
rv32=
if [ -n "${QEMU_ARM:-}" ]; then
	arm="$QEMU_ARM -M mps2-an385 -nographic -monitor none"
	arm="$arm -semihosting-config enable=on,target=native"
fi
if [ -n "${QEMU_RISCV:-}" ]; then
	rv32="$QEMU_RISCV -M virt -bios none -nographic -monitor none"
fi

printf 'f' >"$tmp/in-fault"
printf 'a' >"$tmp/in-assert"

for board in mps2 rv32; do
	if [ $board = mps2 ]; then q=$arm sfx=; else q=$rv32 sfx=-rv32; fi
	run "$board uart-echo" "$q" "$fw/uart-echo$sfx.elf" \
		"$transcripts/uart-echo.in" 0 "$transcripts/uart-echo.expected"
	run "$board tasks" "$q" "$fw/tasks$sfx.elf" /dev/null 0 \
		"$transcripts/tasks.expected"
	run "$board chan-echo" "$q" "$fw/chan-echo$sfx.elf" \
		"$transcripts/chan-echo.in" 0 "$transcripts/chan-echo.expected"
	run "$board fault" "$q" "$builddir/test/firmware-crash$sfx.elf" \
		"$tmp/in-fault" 3 "=ptio: fault:"
	run "$board assertion" "$q" "$builddir/test/firmware-crash$sfx.elf" \
		"$tmp/in-assert" 5 "=ptio: assertion failed:"
done

echo "firmware: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ] || exit 1
[ $passed -gt 0 ] || exit 77
exit 0
