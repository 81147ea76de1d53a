#!/bin/sh
# test/echo-idle-test.sh - an idle echo-server makes no system calls: its
# signals come through a signal source and nothing ticks, so it sleeps in
# its backend's wait until something happens.  Counted with strace over
# 2 s, on one thread and with --threads 2; skipped (77) when strace is
# not installed or may not trace (ptrace refused).  Run from the top
# build directory (srcdir in the environment).

set -u

server=samples/echo-server

sample_test=echo-idle
. "${srcdir:-.}/test/sample-lib.sh"

command -v strace >/dev/null 2>&1 || { echo "SKIP: no strace"; exit 77; }

# Allowed over the 2 s: the wait that strace's attach interrupts is
# restarted (1 call), and the wait it returns to at the detach.
limit=3

# idle ARGS...: start the server, let it settle, count its system calls
# (every thread's) for 2 s, stop it; sets calls, or exits 77.
idle() {
	spawn server /dev/null "$server" --port 0 "$@"
	spid=$bgpid
	await_port "$spid" "$tmp/server.out" ||
		{ fail "server $* did not start"; exit 1; }
	sleep 0.5
	spawn strace /dev/null strace -f -c -o "$tmp/counts" -p "$spid"
	sleep 2
	kill -INT "$bgpid"
	wait_pid "$bgpid" 10
	if grep -q 'Operation not permitted' "$tmp/strace.err"; then
		echo "SKIP: strace may not attach here"
		exit 77
	fi
	calls=$(awk '$NF == "total" { print $(NF - 1) + 0 }' "$tmp/counts")
	calls=${calls:-0}
	kill -TERM "$spid"
	wait_pid "$spid" 10
}

idle
if [ "$calls" -le $limit ] && [ $st -eq 0 ]; then
	pass "idle echo-server: $calls system calls in 2 s"
else
	fail "idle echo-server: $calls system calls in 2 s (status $st)"
	cat "$tmp/counts"
fi

idle --threads 2
if [ "$calls" -le $limit ] && [ $st -eq 0 ]; then
	pass "idle echo-server --threads 2: $calls system calls in 2 s"
else
	fail "idle echo-server --threads 2: $calls system calls in 2 s" \
		"(status $st)"
	cat "$tmp/counts"
fi

[ $failures -eq 0 ]
