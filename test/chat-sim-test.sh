#!/bin/sh
# test/chat-sim-test.sh - runs samples/sim/chat-sim as `make check` does:
# line-chat's protocol over 1,000 simulated seeds.  Run from the top
# build directory.
#
# Each program prints one hash over every seed's transcript.  It must be
# the same on every run, in the build with label-address continuations
# (chat-sim-addrlabels), and equal to samples/sim/chat-sim.expected: a
# seed gives the same run on every machine and with either --with-lc.
# The wall time of the 1,000 seeds is printed, and must stay under 2 s
# (10 s under valgrind or a sanitizer, which this cannot tell apart).

set -u
top=${srcdir:-.}
expected=$(cat "$top/samples/sim/chat-sim.expected")
fail=0

for prog in samples/sim/chat-sim test/chat-sim-addrlabels; do
	[ -x "$prog" ] || { echo "SKIP: $prog not built"; exit 77; }
	start=$(date +%s%N)
	out=$("$prog") || { echo "FAIL: $prog: $out"; fail=1; continue; }
	end=$(date +%s%N)
	ms=$(( (end - start) / 1000000 ))
	echo "$prog: $out ($ms ms wall)"
	again=$("$prog")
	[ "$out" = "$again" ] || { echo "FAIL: $prog: a second run differs"; fail=1; }
	[ "$out" = "$expected" ] || {
		echo "FAIL: $prog: expected $expected"; fail=1; }
	[ "$ms" -lt 10000 ] || { echo "FAIL: $prog: $ms ms"; fail=1; }
	[ "$ms" -lt 2000 ] || echo "NOTE: $prog took $ms ms (target 2000)"
done
exit $fail
