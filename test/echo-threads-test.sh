#!/bin/sh
# test/echo-threads-test.sh - echo-server --threads: one loop per thread,
# each with its own listener on one port (SO_REUSEPORT).  Run from the
# top build directory (srcdir in the environment); make check runs it
# once per backend, with PTIO_BACKEND set.
#
# Cases: 2 threads echo 40 connections, every byte verified by the
# client, and SIGTERM stops every loop with exit status 0 within 5 s; SIGINT does
# too, with connections held open while it comes (they are drained);
# and a thread that cannot listen (a port taken without SO_REUSEPORT)
# makes the server exit 1 cleanly.

set -u

server=samples/echo-server
client=samples/echo-client

sample_test=echo-threads
. "${srcdir:-.}/test/sample-lib.sh"

# start ARGS...: run the server in the background; sets spid and port.
start() {
	spawn server /dev/null "$server" --port 0 "$@"
	spid=$bgpid
	await_port "$spid" "$tmp/server.out" &&
		await_line "$spid" "$tmp/server.out" '/^backend /p' ||
		{ fail "server $* did not start"; exit 1; }
	check_backend echo-server \
		"$(sed -n 's/^backend //p' "$tmp/server.out")"
}

# 1. Echo through two loops, then SIGTERM.
start --threads 2
run 30 client /dev/null "$client" --port "$port" --conns 40 --msgs 200 \
	--size 100 --timeout 20000
cstatus=$st
signal_pid TERM "$spid"
wait_pid "$spid" 5
if [ $cstatus -eq 0 ] && [ $st -eq 0 ] &&
   grep -q '^stats accepted 40 refused 0 closed 40 failed 0 ' \
	"$tmp/server.out"; then
	pass "--threads 2: 40 connections echoed, SIGTERM exits 0"
else
	fail "--threads 2 (client $cstatus, server $st)"
fi

# 2. SIGINT while connections are open: they get their drain, every loop
# ends, exit 0.
start --threads 3 --drain-ms 5000
spawn client /dev/null "$client" --port "$port" --conns 6 --msgs 5 \
	--hold-idle 2500 --timeout 20000
cpid=$bgpid
sleep 1
signal_pid INT "$spid"
wait_pid "$spid" 8
sstatus=$st
wait_pid "$cpid" 10
if [ $sstatus -eq 0 ] && [ $st -eq 0 ] &&
   grep -q '^stats accepted 6 refused 0 closed 6 failed 0 ' \
	"$tmp/server.out"; then
	pass "--threads 3: SIGINT drains open connections, exits 0"
else
	fail "--threads 3 and SIGINT (server $sstatus, client $st)"
fi

# 3. A port taken by a listener without SO_REUSEPORT: no thread can bind
# it; the server says so and exits 1 without hanging.
start
taken=$port
spid1=$spid
spawn server2 /dev/null "$server" --port "$taken" --threads 2
wait_pid "$bgpid" 10
if [ $st -eq 1 ] && grep -q 'listen on' "$tmp/server2.err"; then
	pass "--threads 2 on a taken port exits 1"
else
	fail "--threads 2 on a taken port (status $st)"
	# Whether the first server still listens there.
	command -v ss >/dev/null 2>&1 && ss -ltnp "sport = :$taken"
fi
signal_pid TERM "$spid1"
wait_pid "$spid1" 5

[ $failures -eq 0 ]
