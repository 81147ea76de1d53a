#!/bin/sh
# test/netcat-test.sh - runs samples/netcat as `make check` does.  Run from
# the top build directory.
#
# Cases: two netcats exchanging 1 MiB each way at once over one socket;
# half-close (stdin ends, the peer still gets everything and answers);
# the peer closing while stdin is idle; netcat against socat in both roles
# (when socat is installed); a refused connection; -w giving up.  The
# first listener says which backend it runs on; make check runs this once
# per backend, with PTIO_BACKEND set, and then it must be that one.

set -u

nc=samples/netcat
[ -x "$nc" ] || { echo "SKIP: $nc not built"; exit 77; }

sample_test=netcat
. "${srcdir:-.}/test/sample-lib.sh"

# wait_port: read the port a `netcat -l ... 0` started in the background
# (stderr to $tmp/l.err) announced on its "listening on" line.
wait_port() {
	port=
	i=0
	while [ $i -lt 200 ] && [ -z "$port" ]; do
		port=$(sed -n 's/^listening on [^ ]* \([0-9][0-9]*\)$/\1/p' \
			"$tmp/l.err" 2>/dev/null)
		[ -n "$port" ] || sleep 0.05
		i=$((i + 1))
	done
	[ -n "$port" ]
}

head -c 1048576 /dev/urandom >"$tmp/a.in"
head -c 1048576 /dev/urandom >"$tmp/b.in"

# 1. Both directions at once, 1 MiB each, netcat to netcat.  The listener
# says which backend it runs on (-v).
"$nc" -l -v 127.0.0.1 0 <"$tmp/a.in" >"$tmp/b.out" 2>"$tmp/l.err" &
lpid=$!
pids="$lpid"
if wait_port; then
	check_backend netcat "$(sed -n 's/^backend //p' "$tmp/l.err")"
	"$nc" 127.0.0.1 "$port" <"$tmp/b.in" >"$tmp/a.out" 2>"$tmp/c.err"
	cst=$?
	wait_pid "$lpid" 20
	if [ $cst -eq 0 ] && [ $st -eq 0 ] && cmp -s "$tmp/a.in" "$tmp/a.out" &&
	   cmp -s "$tmp/b.in" "$tmp/b.out"; then
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
"$nc" -l 127.0.0.1 0 </dev/null >"$tmp/b.out" 2>"$tmp/l.err" &
lpid=$!
pids="$lpid"
if wait_port; then
	"$nc" 127.0.0.1 "$port" <"$tmp/b.in" >"$tmp/a.out" 2>"$tmp/c.err"
	cst=$?
	wait_pid "$lpid" 20
	if [ $cst -eq 0 ] && [ $st -eq 0 ] && cmp -s "$tmp/b.in" "$tmp/b.out" &&
	   [ ! -s "$tmp/a.out" ]; then
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
"$nc" -l 127.0.0.1 0 <"$tmp/idle" >"$tmp/b.out" 2>"$tmp/l.err" 3>&- &
lpid=$!
pids="$lpid"
if wait_port; then
	printf 'short message\n' | "$nc" 127.0.0.1 "$port" >"$tmp/a.out" \
		2>"$tmp/c.err"
	cst=$?
	wait_pid "$lpid" 5
	if [ $cst -eq 0 ] && [ $st -eq 0 ] &&
	   [ "$(cat "$tmp/b.out")" = "short message" ]; then
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
	"$nc" -l 127.0.0.1 0 <"$tmp/a.in" >"$tmp/b.out" 2>"$tmp/l.err" &
	lpid=$!
	pids="$lpid"
	if wait_port; then
		socat -t 10 - "TCP:127.0.0.1:$port" <"$tmp/b.in" \
			>"$tmp/a.out" 2>"$tmp/c.err"
		cst=$?
		wait_pid "$lpid" 20
		if [ $cst -eq 0 ] && [ $st -eq 0 ] &&
		   cmp -s "$tmp/a.in" "$tmp/a.out" &&
		   cmp -s "$tmp/b.in" "$tmp/b.out"; then
			pass "socat client, netcat listener"
		else
			fail "socat client (socat $cst, netcat $st)"
		fi
	else
		fail "the listener did not start"
	fi

	# socat listens on a port of its choosing; try a few.
	ok=
	for try in 1 2 3 4 5; do
		rm -f "$tmp"/*.out "$tmp"/*.err
		p=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
		socat -t 10 "TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr" - \
			<"$tmp/a.in" >"$tmp/b.out" 2>"$tmp/s.err" &
		spid=$!
		pids="$spid"
		sleep 0.3
		kill -0 "$spid" 2>/dev/null || continue
		"$nc" -w 5000 127.0.0.1 "$p" <"$tmp/b.in" >"$tmp/a.out" \
			2>"$tmp/c.err"
		cst=$?
		wait_pid "$spid" 20
		if [ $cst -eq 0 ] && [ $st -eq 0 ] &&
		   cmp -s "$tmp/a.in" "$tmp/a.out" &&
		   cmp -s "$tmp/b.in" "$tmp/b.out"; then
			ok=yes
		fi
		break
	done
	if [ -n "$ok" ]; then
		pass "netcat client, socat listener"
	else
		fail "netcat client, socat listener"
	fi
else
	echo "SKIP: socat not installed: interoperability not checked"
fi

# 5. Nobody listens: a clear error and a failure status.
rm -f "$tmp"/*.out "$tmp"/*.err
if "$nc" 127.0.0.1 "$port" </dev/null >"$tmp/a.out" 2>"$tmp/c.err"; then
	fail "connecting where nobody listens succeeded"
elif grep -q 'connecting: connection refused' "$tmp/c.err"; then
	pass "refused connection reported"
else
	fail "refused connection: unexpected message"
fi

# 6. -w: nobody comes within 200 ms.
"$nc" -l -w 200 127.0.0.1 0 </dev/null >"$tmp/b.out" 2>"$tmp/l.err" &
lpid=$!
pids="$lpid"
wait_pid "$lpid" 5
if [ $st -eq 1 ] && grep -q 'accepting: timed out' "$tmp/l.err"; then
	pass "-w gives up"
else
	fail "-w (status $st)"
fi

[ $failures -eq 0 ]
