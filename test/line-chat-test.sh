#!/bin/sh
# test/line-chat-test.sh - runs samples/line-chat as `make check` does,
# with samples/netcat (and socat, when installed) as the clients.  Run
# from the top build directory.
#
# Cases: lines from one client reach another; an over-long line and a
# line that is not UTF-8 are answered with error lines and dropped; an
# idle client is told and hung up on; a client over --max-clients is
# refused; --exit-after ends the server cleanly.  The server says which
# backend it runs on; make check runs this once per backend, with
# PTIO_BACKEND set, and then it must be that one.

set -u

chat=samples/line-chat
nc=samples/netcat
[ -x "$chat" ] && [ -x "$nc" ] || { echo "SKIP: samples not built"; exit 77; }

sample_test=chat
. "${srcdir:-.}/test/sample-lib.sh"

# wait_for FILE PATTERN: until a line of FILE matches (10 s at most).
wait_for() {
	i=0
	while [ $i -lt 200 ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# start ARGS...: the server in the background; sets spid and port.
start() {
	"$chat" --port 0 "$@" >"$tmp/server.out" 2>"$tmp/server.err" &
	spid=$!
	pids="$spid"
	wait_for "$tmp/server.out" '^backend ' || return 1
	port=$(sed -n '1s/^port //p' "$tmp/server.out")
	if [ -z "${said_backend:-}" ]; then
		check_backend line-chat \
			"$(sed -n 's/^backend //p' "$tmp/server.out")"
		said_backend=yes
	fi
}

# 1. Two clients: B listens (its stdin a FIFO that this script holds open
# and silent; B must not inherit the holding descriptor, or its stdin
# could never end), A talks and leaves; then B, idle, is told so and hung
# up on.
if start --idle 2000 --exit-after 2; then
	mkfifo "$tmp/b.in" || exit 99
	exec 3<>"$tmp/b.in"
	"$nc" 127.0.0.1 "$port" <"$tmp/b.in" >"$tmp/b.out" 2>"$tmp/b.err" \
		3>&- &
	bpid=$!
	pids="$spid $bpid"
	wait_for "$tmp/b.out" '^\* welcome client1' || fail "B not welcomed"
	long=$(head -c 1500 /dev/zero | tr '\0' x)
	printf 'hello\n%s\nbad \377 line\nbye\n' "$long" |
		"$nc" 127.0.0.1 "$port" >"$tmp/a.out" 2>"$tmp/a.err"
	ast=$?
	wait_pid "$bpid" 10
	bst=$st
	exec 3>&-
	wait_pid "$spid" 10
	if [ $ast -eq 0 ] && [ $bst -eq 0 ] && [ $st -eq 0 ] &&
	   grep -q '^\* welcome client2, 2 online$' "$tmp/a.out" &&
	   grep -q '^error: line longer than 1024 bytes$' "$tmp/a.out" &&
	   grep -q '^error: line is not UTF-8$' "$tmp/a.out" &&
	   grep -q '^client2: hello$' "$tmp/b.out" &&
	   grep -q '^client2: bye$' "$tmp/b.out" &&
	   ! grep -q 'xxxx' "$tmp/b.out" &&
	   ! grep -q 'bad' "$tmp/b.out" &&
	   grep -q '^\* client2 left$' "$tmp/b.out" &&
	   grep -q '^error: idle for 2000 ms, bye$' "$tmp/b.out" &&
	   grep -q '^leave client2 quit$' "$tmp/server.out" &&
	   grep -q '^leave client1 idle$' "$tmp/server.out"; then
		pass "relay, over-long and invalid lines, idle timeout, exit"
	else
		fail "chat session (A $ast, B $bst, server $st)"
	fi
else
	fail "the server did not start"
fi

# 2. --max-clients 1: the second client is refused with an error line.
rm -f "$tmp"/*.out "$tmp"/*.err "$tmp/b.in"
if start --max-clients 1 --exit-after 2; then
	mkfifo "$tmp/b.in" || exit 99
	exec 4<>"$tmp/b.in"
	"$nc" 127.0.0.1 "$port" <"$tmp/b.in" >"$tmp/b.out" 2>"$tmp/b.err" \
		4>&- &
	bpid=$!
	pids="$spid $bpid"
	wait_for "$tmp/b.out" '^\* welcome client1' || fail "B not welcomed"
	"$nc" 127.0.0.1 "$port" </dev/null >"$tmp/a.out" 2>"$tmp/a.err"
	ast=$?
	exec 4>&-   # B's stdin ends: B leaves, the server exits
	wait_pid "$bpid" 10
	bst=$st
	wait_pid "$spid" 10
	if [ $ast -eq 0 ] && [ $bst -eq 0 ] && [ $st -eq 0 ] &&
	   grep -q '^error: server full$' "$tmp/a.out" &&
	   grep -q '^leave client2 full$' "$tmp/server.out"; then
		pass "--max-clients refuses the one too many"
	else
		fail "--max-clients (A $ast, B $bst, server $st)"
	fi
else
	fail "the server did not start"
fi

# 3. Usable from socat, when installed: a line goes through to netcat.
if command -v socat >/dev/null 2>&1; then
	rm -f "$tmp"/*.out "$tmp"/*.err "$tmp/b.in"
	if start --exit-after 2; then
		mkfifo "$tmp/b.in" || exit 99
		exec 3<>"$tmp/b.in"
		"$nc" 127.0.0.1 "$port" <"$tmp/b.in" >"$tmp/b.out" \
			2>"$tmp/b.err" 3>&- &
		bpid=$!
		pids="$spid $bpid"
		wait_for "$tmp/b.out" '^\* welcome client1' ||
			fail "B not welcomed"
		printf 'from socat\n' | socat -t 5 - "TCP:127.0.0.1:$port" \
			>"$tmp/a.out" 2>"$tmp/a.err"
		ast=$?
		wait_for "$tmp/b.out" '^client2: from socat$'
		exec 3>&-
		wait_pid "$bpid" 10
		bst=$st
		wait_pid "$spid" 10
		if [ $ast -eq 0 ] && [ $bst -eq 0 ] && [ $st -eq 0 ] &&
		   grep -q '^client2: from socat$' "$tmp/b.out"; then
			pass "a socat client"
		else
			fail "socat client (socat $ast, B $bst, server $st)"
		fi
	else
		fail "the server did not start"
	fi
else
	echo "SKIP: socat not installed: not tried as a client"
fi

[ $failures -eq 0 ]
