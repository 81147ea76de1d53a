#!/bin/sh
# test/echo-test.sh - runs the echo samples, as `make check` does for every
# sample.  Run from the top build directory (srcdir in the environment).
#
# Cases: the demo itself with 50 connections in both modes (every byte
# verified, heap reported, clean exit on SIGTERM); a client that reads late
# while sending more than the socket buffers hold (the scratch server's
# overflow path); --max-conns refusing connections, which the client must
# report as a failure; --exit-after; a client connecting where nobody
# listens; and --backend (a name that is no backend is refused).  The
# server and client say which backend they run on; make check runs this
# once per backend, with PTIO_BACKEND set, and then it must be that one.

set -u

server=samples/echo-server
client=samples/echo-client
demo=${srcdir:-.}/samples/demo.sh

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ptio-echo-test.XXXXXX") || exit 99
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
fail() {
	echo "FAIL: $*"
	for f in "$tmp"/*; do
		[ -s "$f" ] && { echo "--- ${f##*/}"; cat "$f"; }
	done
	failures=$((failures + 1))
}
pass() {
	echo "PASS: $*"
}

# check_backend WHO NAME: as in test/sample-lib.sh.
check_backend() {
	echo "$1 runs on the ${2:-?} backend (PTIO_BACKEND=${PTIO_BACKEND:-})"
	if [ -n "${PTIO_BACKEND:-}" ] && [ "$2" != "$PTIO_BACKEND" ]; then
		fail "$1 runs on '${2:-?}', not on PTIO_BACKEND=$PTIO_BACKEND"
	fi
}

# launch ARGS...: run the server in the background and wait for its
# port; sets pid and port.  Returns 1 if the server ended first (its
# status in status, pid cleared) or said nothing for 10 s.  The last
# server's output is removed first: the new one's redirection truncates
# it only once that process runs, and reading the old port meanwhile
# would send the client to a server that is gone.
launch() {
	rm -f "$tmp/server.out" "$tmp/server.err"
	"$server" --port 0 "$@" >"$tmp/server.out" 2>"$tmp/server.err" &
	pid=$!
	port=
	i=0
	while [ $i -lt 200 ]; do
		alive=yes
		kill -0 "$pid" 2>/dev/null || alive=
		port=$(sed -n '1s/^port \([0-9][0-9]*\)$/\1/p' \
			"$tmp/server.out" 2>/dev/null)
		[ -n "$port" ] && return 0
		if [ -z "$alive" ]; then
			wait "$pid"
			status=$?
			pid=
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# start ARGS...: launch, or fail and give up.  The first server says
# which backend it runs on.
start() {
	launch "$@" || { fail "server $* did not start"; exit 1; }
	if [ -z "${said_backend:-}" ]; then
		check_backend echo-server \
			"$(sed -n 's/^backend //p' "$tmp/server.out")"
		said_backend=yes
	fi
}

# stop: SIGTERM the server and wait; sets status.
stop() {
	kill -TERM "$pid"
	wait "$pid"
	status=$?
	pid=
}

# 1. The demo, scaled down.
if sh "$demo" "$server" "$client" 50 >"$tmp/demo.out" 2>&1; then
	pass "demo with 50 connections"
else
	fail "demo with 50 connections"
fi
rm -f "$tmp/demo.out"

# 2. Back-pressure: each reader starts late while its writer sends 16 MB,
# more than the socket buffers hold, so the echo backs up.  The scratch
# server's writes fall short and go through its overflow block (the stats
# line counts them); the ergonomic one waits inside write_all.
for mode in scratch ergonomic; do
	start --mode "$mode"
	"$client" --port "$port" --conns 2 --msgs 4 --size 4000000 \
		--read-delay 200 --timeout 20000 >"$tmp/client.out" 2>&1
	cstatus=$?
	stop
	[ "$mode" = scratch ] && check_backend echo-client \
		"$(sed -n 's/^echo-client: backend //p' "$tmp/client.out")"
	if [ $cstatus -eq 0 ] && [ $status -eq 0 ] &&
	   grep -q '^stats accepted 2 refused 0 closed 2 failed 0 ' "$tmp/server.out" &&
	   { [ "$mode" = ergonomic ] ||
	     ! grep -q ' overflows 0$' "$tmp/server.out"; }; then
		pass "$mode: back-pressure, 16 MB per connection"
	else
		fail "$mode: back-pressure (client $cstatus, server $status)"
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
wait "$pid"
status=$?
pid=
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
for b in poll epoll; do
	if ! launch --backend "$b" --exit-after 1; then
		if [ "$b" = epoll ] && [ -z "$pid" ] &&
		   grep -q 'backend epoll: operation not supported' \
			"$tmp/server.err"; then
			echo "SKIP: --backend epoll: not on this host"
		else
			fail "--backend $b did not start"
		fi
		continue
	fi
	"$client" --port "$port" --conns 1 --msgs 5 --size 100 \
		>"$tmp/client.out" 2>&1
	cstatus=$?
	# Without its one connection the server would wait for ever.
	[ $cstatus -eq 0 ] || kill -TERM "$pid"
	wait "$pid"
	status=$?
	pid=
	if [ $cstatus -eq 0 ] && [ $status -eq 0 ] &&
	   grep -q "^backend $b\$" "$tmp/server.out"; then
		pass "--backend $b"
	else
		fail "--backend $b (client $cstatus, server $status)"
	fi
done
"$server" --port 0 --backend nosuch >"$tmp/server.out" \
	2>"$tmp/server.err"
status=$?
if [ $status -eq 1 ] && ! grep -q '^port' "$tmp/server.out" &&
   grep -q "backend nosuch: invalid argument" "$tmp/server.err"; then
	pass "--backend nosuch is refused"
else
	fail "--backend nosuch (status $status)"
fi

[ $failures -eq 0 ]
