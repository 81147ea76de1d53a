#!/bin/sh
# test/netcat-test.sh - runs samples/netcat as `make check` does.  Run from
# the top build directory.
#
# Cases: two netcats exchanging 1 MiB each way at once over one socket;
# half-close (stdin ends, the peer still gets everything and answers);
# the peer closing while stdin is idle; netcat against socat in both roles
# (when socat is installed); a refused connection; -w giving up; a broken
# stdout while the upload is blocked on a peer that stopped reading.  The
# first listener says which backend it runs on; make check runs this once
# per backend, with PTIO_BACKEND set, and then it must be that one.
#
# The listener's output is $tmp/l.out and l.err, the client's c.out and
# c.err (socat's listener: s.out and s.err); each process runs with a
# deadline.

set -u

nc=samples/netcat
[ -x "$nc" ] || { echo "SKIP: $nc not built"; exit 77; }

sample_test=netcat
. "${srcdir:-.}/test/sample-lib.sh"

# listen IN [-v]: a netcat listener on a port of its choosing in the
# background, stdin from IN; sets lpid and port.
listen() {
	spawn l "$1" "$nc" -l ${2:-} 127.0.0.1 0
	lpid=$bgpid
	await_port "$lpid" "$tmp/l.err"
}

head -c 1048576 /dev/urandom >"$tmp/a.in"
head -c 1048576 /dev/urandom >"$tmp/b.in"

# 1. Both directions at once, 1 MiB each, netcat to netcat.  The listener
# says which backend it runs on (-v).
if listen "$tmp/a.in" -v; then
	check_backend netcat "$(sed -n 's/^backend //p' "$tmp/l.err")"
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
# once) but must still receive everything the client sends.  The client
# sees the listener's end of stream while it still has most of its 8 MiB
# file to send: the file is sent to its end all the same (stdin never
# has to be waited for), through many budget-bound rounds of its task.
rm -f "$tmp"/*.out "$tmp"/*.err
head -c 8388608 /dev/urandom >"$tmp/big.in"
if listen /dev/null; then
	run 20 c "$tmp/big.in" "$nc" 127.0.0.1 "$port"
	cst=$st
	wait_pid "$lpid" 20
	if [ $cst -eq 0 ] && [ $st -eq 0 ] &&
	   cmp -s "$tmp/big.in" "$tmp/l.out" && [ ! -s "$tmp/c.out" ]; then
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

# 7. stdout breaks while the peer is still sending, and the upload is
# blocked on a peer that has stopped reading (its stdout is a FIFO nobody
# reads): netcat must still say why and exit with status 1, not hang.
rm -f "$tmp"/*.out "$tmp"/*.err
head -c 33554432 /dev/zero >"$tmp/big" || exit 99
mkfifo "$tmp/stuck" || exit 99
exec 4<>"$tmp/stuck"
"$nc" -l 127.0.0.1 0 <"$tmp/a.in" >"$tmp/stuck" 2>"$tmp/l.err" 3>&- 4>&- &
lpid=$!
pids="$pids $lpid"
if await_port "$lpid" "$tmp/l.err"; then
	# The client's stdout is a pipe to `head -c 1`, which leaves at once.
	sh -c '"$1" 127.0.0.1 "$2" <"$3" 2>"$4" & echo $! >"$5"; wait $!;
	       echo $? >"$6"' sh "$nc" "$port" "$tmp/big" "$tmp/c.err" \
		"$tmp/c.pid" "$tmp/c.st" 3>&- 4>&- | head -c 1 >/dev/null &
	n=0
	while [ ! -s "$tmp/c.st" ] && [ $n -lt 300 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	if [ -s "$tmp/c.st" ]; then
		cst=$(cat "$tmp/c.st")
	else
		cst=124
		[ -s "$tmp/c.pid" ] && kill -KILL "$(cat "$tmp/c.pid")" 2>/dev/null
	fi
	if [ "$cst" -eq 1 ] &&
	   grep -q 'writing stdout: broken pipe' "$tmp/c.err"; then
		pass "broken stdout while the upload is blocked: exit 1"
	else
		fail "broken stdout (client $cst)"
	fi
else
	fail "the listener did not start"
fi
wait_pid "$lpid" 0 >/dev/null  # stuck writing to the FIFO: killed
exec 4>&-
rm -f "$tmp/big"

[ $failures -eq 0 ]
