#!/bin/sh
# test/echo-test.sh - runs the echo samples, as `make check` does for every
# sample.  Run from the top build directory (srcdir in the environment).
#
# Cases: the demo itself with 50 connections in both modes (every byte
# verified, heap reported, clean exit on SIGTERM, nothing on stderr); a
# client that reads late while sending more than the socket buffers hold
# (the scratch server's overflow path; the ring mode, on uring, runs
# its pool of buffers dry); peers that send and do not read while another
# is served; --stall-ms ending peers that do not read; --max-conns
# refusing connections,
# which the client must report as a failure; --exit-after; and a client
# connecting where nobody listens; and --backend (a name that is no
# backend is refused).  The echo client bounds itself (--timeout); every
# wait for the server has a deadline.  The server and client say which
# backend they run on; make check runs this once per backend, with
# PTIO_BACKEND set, and then it must be that one.

set -u

server=samples/echo-server
client=samples/echo-client
demo=${srcdir:-.}/samples/demo.sh

sample_test=echo
. "${srcdir:-.}/test/sample-lib.sh"

# start ARGS...: run the server in the background; sets spid and port.
start() {
	spawn server /dev/null "$server" --port 0 "$@"
	spid=$bgpid
	await_port "$spid" "$tmp/server.out" &&
		await_line "$spid" "$tmp/server.out" '/^backend /p' ||
		{ fail "server $* did not start"; exit 1; }
	if [ -z "${said_backend:-}" ]; then
		check_backend echo-server \
			"$(sed -n 's/^backend //p' "$tmp/server.out")"
		said_backend=yes
	fi
}

# stop: SIGTERM the server and wait for it (it drains for 2 s at most);
# sets status.
stop() {
	kill -TERM "$spid"
	wait_pid "$spid" 10
	status=$st
}

# 1. The demo, scaled down.  Its stderr must stay empty: a stray line
# there (a sed that read the server's output file before the server
# made it) is a race in the demo.
if sh "$demo" "$server" "$client" 50 >"$tmp/demo.out" 2>"$tmp/demo.err" &&
   [ ! -s "$tmp/demo.err" ]; then
	pass "demo with 50 connections"
else
	fail "demo with 50 connections"
fi
rm -f "$tmp/demo.out" "$tmp/demo.err"

# 2. Back-pressure: each reader starts late while its writer sends 16 MB,
# more than the socket buffers hold, so the echo backs up.  The scratch
# server's writes fall short and go through its overflow block (the stats
# line counts them); the ergonomic one waits inside write_all.
for mode in scratch ergonomic ring; do
	start --mode "$mode"
	"$client" --port "$port" --conns 2 --msgs 4 --size 4000000 \
		--read-delay 200 --timeout 20000 >"$tmp/client.out" 2>&1
	cstatus=$?
	stop
	[ "$mode" = scratch ] && check_backend echo-client \
		"$(sed -n 's/^echo-client: backend //p' "$tmp/client.out")"
	if [ $cstatus -eq 0 ] && [ $status -eq 0 ] &&
	   grep -q '^stats accepted 2 refused 0 closed 2 failed 0 ' "$tmp/server.out" &&
	   { [ "$mode" != scratch ] ||
	     ! grep -q ' overflows 0 ' "$tmp/server.out"; }; then
		pass "$mode: back-pressure, 16 MB per connection"
	else
		fail "$mode: back-pressure (client $cstatus, server $status)"
	fi
done

# 2b. Peers that send 8 MB each and read nothing for 4 s, so the echo
# backs up and the server stops consuming what they send: another
# connection must still be served meanwhile.  In ring mode on uring the
# flooders' data waits in their sockets once each holds its read-ahead;
# a stream that took whatever arrived would empty the shared pool of
# buffers and starve the newcomer until the flooders read.
start --mode ring
spawn flooders /dev/null "$client" --port "$port" --conns 4 --msgs 1 \
	--size 8000000 --read-delay 4000 --timeout 30000
fpid=$bgpid
sleep 1.5
run 10 probe /dev/null "$client" --port "$port" --conns 5 --msgs 20 \
	--size 1000 --timeout 2000
pstatus=$st
wait_pid "$fpid" 30
fstatus=$st
stop
if [ $pstatus -eq 0 ] && [ $fstatus -eq 0 ] && [ $status -eq 0 ] &&
   grep -q '^stats accepted 9 refused 0 closed 9 failed 0 ' "$tmp/server.out"
then
	pass "ring: peers that do not read hold up nobody else"
else
	fail "ring: flooders that do not read (probe $pstatus," \
	     "flooders $fstatus, server $status)"
fi

# 2c. --stall-ms: peers that send 8 MB and read nothing for 2 s stall
# the echo; the server must end them (stalled 3, not failures) well
# before they would read, and serve another connection meanwhile.  The
# flooders, cut off, must fail.  In ring mode on uring a stalled stream
# holds its share of the shared pools until it is ended; elsewhere ring
# falls back to ergonomic, whose write carries the same deadline.
for mode in scratch ring; do
	start --mode "$mode" --stall-ms 300
	spawn flooders /dev/null "$client" --port "$port" --conns 3 \
		--msgs 1 --size 8000000 --read-delay 2000 --timeout 20000
	fpid=$bgpid
	sleep 1
	run 10 probe /dev/null "$client" --port "$port" --conns 5 \
		--msgs 20 --size 1000 --timeout 2000
	pstatus=$st
	wait_pid "$fpid" 30
	fstatus=$st
	stop
	if [ $pstatus -eq 0 ] && [ $fstatus -ne 0 ] && [ $status -eq 0 ] &&
	   grep -q '^stats accepted 8 refused 0 closed 8 failed 0 .* stalled 3$' \
		"$tmp/server.out"; then
		pass "$mode: --stall-ms ends peers that do not read"
	else
		fail "$mode: --stall-ms (probe $pstatus, flooders $fstatus," \
		     "server $status)"
	fi
done

# 3. --max-conns: three connections are served, the others are closed at
# once, and the client must say so with a failure status.  Holding the
# verified ones idle keeps the first three open while the rest arrive.
start --mode scratch --max-conns 3
"$client" --port "$port" --conns 6 --msgs 2 --size 100 --hold-idle 200 \
	--timeout 5000 >"$tmp/client.out" 2>&1
cstatus=$?
stop
if [ $cstatus -ne 0 ] && [ $status -eq 0 ] &&
   grep -q '^stats accepted 3 refused 3 ' "$tmp/server.out" &&
   grep -q 'FAILED: 3 of 6' "$tmp/client.out"; then
	pass "--max-conns 3 refuses 3 of 6"
else
	fail "--max-conns 3 (client $cstatus, server $status)"
fi

# 4. --exit-after: the server stops by itself after five connections.
start --mode ergonomic --exit-after 5
"$client" --port "$port" --conns 5 --msgs 10 --size 64 \
	>"$tmp/client.out" 2>&1
cstatus=$?
wait_pid "$spid" 10
status=$st
if [ $cstatus -eq 0 ] && [ $status -eq 0 ]; then
	pass "--exit-after 5"
else
	fail "--exit-after 5 (client $cstatus, server $status)"
fi

# 5. Nobody listens on the port the last server used: connect must fail.
if "$client" --port "$port" --conns 2 --timeout 5000 \
	>"$tmp/client.out" 2>&1; then
	fail "client reported success with no server"
else
	pass "client fails when the connection is refused"
fi

# 6. --backend: every backend the host has serves, whatever PTIO_BACKEND
# says; a name that is no backend is a clear error, never a fallback.
for b in poll select epoll uring; do
	spawn server /dev/null "$server" --port 0 --backend "$b" --exit-after 1
	spid=$bgpid
	if ! await_port "$spid" "$tmp/server.out"; then
		wait_pid "$spid" 5
		if { [ "$b" = epoll ] || [ "$b" = uring ]; } &&
		   grep -q "backend $b: operation not supported" \
			"$tmp/server.err"; then
			echo "SKIP: --backend $b: not on this host"
		else
			fail "--backend $b did not start"
		fi
		continue
	fi
	run 20 client /dev/null "$client" --port "$port" --conns 1 --msgs 5 \
		--size 100 --timeout 10000
	cstatus=$st
	# Without its one connection the server would wait for ever.
	[ $cstatus -eq 0 ] || kill -TERM "$spid"
	wait_pid "$spid" 10
	status=$st
	if [ $cstatus -eq 0 ] && [ $status -eq 0 ] &&
	   grep -q "^backend $b\$" "$tmp/server.out"; then
		pass "--backend $b"
	else
		fail "--backend $b (client $cstatus, server $status)"
	fi
done
run 10 server /dev/null "$server" --port 0 --backend nosuch
if [ $st -eq 1 ] && ! grep -q '^port' "$tmp/server.out" &&
   grep -q "backend nosuch: invalid argument" "$tmp/server.err"; then
	pass "--backend nosuch is refused"
else
	fail "--backend nosuch (status $st)"
fi

[ $failures -eq 0 ]
