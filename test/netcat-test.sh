#!/bin/sh
# test/netcat-test.sh - runs samples/netcat as `make check` does.  Run from
# the top build directory.
#
# Cases: two netcats exchanging 1 MiB each way at once over one socket;
# half-close (stdin ends, the peer still gets everything and answers);
# the peer closing while stdin is idle; netcat against socat in both roles
# (when socat is installed); a refused connection; -w giving up.
#
# The listener's output is $tmp/l.out and l.err, the client's c.out and
# c.err (socat's listener: s.out and s.err); each process runs with a
# deadline.

set -u

nc=samples/netcat
[ -x "$nc" ] || { echo "SKIP: $nc not built"; exit 77; }

sample_test=netcat
. "${srcdir:-.}/test/sample-lib.sh"

# listen IN: a netcat listener on a port of its choosing in the
# background, stdin from IN; sets lpid and port.
listen() {
	spawn l "$1" "$nc" -l 127.0.0.1 0
	lpid=$bgpid
	await_port "$lpid" "$tmp/l.err"
}

head -c 1048576 /dev/urandom >"$tmp/a.in"
head -c 1048576 /dev/urandom >"$tmp/b.in"

# 1. Both directions at once, 1 MiB each, netcat to netcat.
if listen "$tmp/a.in"; then
	run 20 c "$tmp/b.in" "$nc" 127.0.0.1 "$port"
	cst=$st
	wait_pid "$lpid" 20
	if [ $cst -eq 0 ] && [ $st -eq 0 ] && cmp -s "$tmp/a.in" "$tmp/c.out" &&
	   cmp -s "$tmp/b.in" "$tmp/l.out"; then
		pass "1 MiB each way at once"
	else
		fail "1 MiB each way (client $cst, listener $st)"
	fi
else
	fail "the listener did not start"
fi

# 2. Half-close: the listener has nothing to say (stdin at its end at
# once) but must still receive everything the client sends.
rm -f "$tmp"/*.out "$tmp"/*.err
if listen /dev/null; then
	run 20 c "$tmp/b.in" "$nc" 127.0.0.1 "$port"
	cst=$st
	wait_pid "$lpid" 20
	if [ $cst -eq 0 ] && [ $st -eq 0 ] && cmp -s "$tmp/b.in" "$tmp/l.out" &&
	   [ ! -s "$tmp/c.out" ]; then
		pass "half-close: stdin ends first, the rest still arrives"
	else
		fail "half-close (client $cst, listener $st)"
	fi
else
	fail "the listener did not start"
fi

# 3. The peer closes while our stdin is idle (a FIFO nobody writes to):
# netcat must not wait for stdin forever.
rm -f "$tmp"/*.out "$tmp"/*.err
mkfifo "$tmp/idle" || exit 99
exec 3<>"$tmp/idle"
printf 'short message\n' >"$tmp/msg"
if listen "$tmp/idle"; then
	run 10 c "$tmp/msg" "$nc" 127.0.0.1 "$port"
	cst=$st
	wait_pid "$lpid" 5
	if [ $cst -eq 0 ] && [ $st -eq 0 ] &&
	   [ "$(cat "$tmp/l.out")" = "short message" ]; then
		pass "the peer closes while stdin is idle"
	else
		fail "peer closes first (client $cst, listener $st)"
	fi
else
	fail "the listener did not start"
fi
exec 3>&-

# 4. Against socat, in both roles.
if command -v socat >/dev/null 2>&1; then
	rm -f "$tmp"/*.out "$tmp"/*.err
	if listen "$tmp/a.in"; then
		run 20 c "$tmp/b.in" socat -t 10 - "TCP:127.0.0.1:$port"
		cst=$st
		wait_pid "$lpid" 20
		if [ $cst -eq 0 ] && [ $st -eq 0 ] &&
		   cmp -s "$tmp/a.in" "$tmp/c.out" &&
		   cmp -s "$tmp/b.in" "$tmp/l.out"; then
			pass "socat client, netcat listener"
		else
			fail "socat client (socat $cst, netcat $st)"
		fi
	else
		fail "the listener did not start"
	fi

	rm -f "$tmp"/*.out "$tmp"/*.err
	if socat_listen s "$tmp/a.in" "" -; then
		spid=$bgpid
		run 20 c "$tmp/b.in" "$nc" -w 5000 127.0.0.1 "$port"
		cst=$st
		wait_pid "$spid" 20
		if [ $cst -eq 0 ] && [ $st -eq 0 ] &&
		   cmp -s "$tmp/a.in" "$tmp/c.out" &&
		   cmp -s "$tmp/b.in" "$tmp/s.out"; then
			pass "netcat client, socat listener"
		else
			fail "socat listener (netcat $cst, socat $st)"
		fi
	else
		fail "socat did not start listening"
	fi
else
	echo "SKIP: socat not installed: interoperability not checked"
fi

# 5. Nobody listens: a clear error and a failure status.
rm -f "$tmp"/*.out "$tmp"/*.err
run 10 c /dev/null "$nc" 127.0.0.1 "$port"
if [ $st -eq 0 ]; then
	fail "connecting where nobody listens succeeded"
elif grep -q 'connecting: connection refused' "$tmp/c.err"; then
	pass "refused connection reported"
else
	fail "refused connection: unexpected message (status $st)"
fi

# 6. -w: nobody comes within 200 ms.
spawn l /dev/null "$nc" -l -w 200 127.0.0.1 0
wait_pid "$bgpid" 5
if [ $st -eq 1 ] && grep -q 'accepting: timed out' "$tmp/l.err"; then
	pass "-w gives up"
else
	fail "-w (status $st)"
fi

[ $failures -eq 0 ]
