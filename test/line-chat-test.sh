#!/bin/sh
# test/line-chat-test.sh - runs samples/line-chat as `make check` does,
# with samples/netcat (and socat, when installed) as the clients.  Run
# from the top build directory.
#
# Cases: lines from one client reach another; an over-long line and a
# line that is not UTF-8 are answered with error lines and dropped; an
# idle client is told and hung up on; a client over --max-clients is
# refused; --exit-after ends the server cleanly; a client that stops
# reading is dropped even while its writer is blocked; a line with NUL
# bytes is relayed whole; a burst of lines larger than an outbox, from
# one client or two at once, reaches every client that reads, none lost
# and no one kicked.  The server says which backend it runs on; make
# check runs this once per backend, with PTIO_BACKEND set, and then it
# must be that one.
#
# The server's output is $tmp/server.out and server.err, the listening
# client B's b.out and b.err, the talking client A's a.out and a.err;
# each process runs with a deadline.

set -u

chat=samples/line-chat
nc=samples/netcat
[ -x "$chat" ] && [ -x "$nc" ] || { echo "SKIP: samples not built"; exit 77; }

sample_test=chat
. "${srcdir:-.}/test/sample-lib.sh"

# start ARGS...: the server in the background; sets spid and port.
start() {
	spawn server /dev/null "$chat" --port 0 "$@"
	spid=$bgpid
	await_port "$spid" "$tmp/server.out" || return 1
	await_line "$spid" "$tmp/server.out" '/^backend /p' || return 1
	if [ -z "${said_backend:-}" ]; then
		check_backend line-chat "$(sed -n 's/^backend //p' "$tmp/server.out")"
		said_backend=yes
	fi
}

# listener: client B in the background, its stdin the FIFO $tmp/b.in,
# which the caller holds open and silent on descriptor 3 or 4 (spawn
# closes both in B); sets bpid once the server has welcomed B.
listener() {
	spawn b "$tmp/b.in" "$nc" 127.0.0.1 "$port"
	bpid=$bgpid
	await_line "$bpid" "$tmp/b.out" '/^\* welcome client1/p' ||
		fail "B not welcomed"
}

# with_b ARGS...: afresh, the server (start ARGS) and client B listening,
# its stdin the FIFO $tmp/b.in held open and silent on descriptor 3.
# Returns 1 when the server did not start.
with_b() {
	rm -f "$tmp"/*.out "$tmp"/*.err "$tmp/b.in"
	start "$@" || return 1
	mkfifo "$tmp/b.in" || exit 99
	exec 3<>"$tmp/b.in"
	listener
}

# a_talks: client A (netcat) sends $tmp/a.in and leaves; once B has
# heard so, B's stdin (the FIFO held on descriptor 3) ends: B leaves and
# the server exits.  Sets ast, bst and st (A's, B's and the server's
# status).
a_talks() {
	run 10 a "$tmp/a.in" "$nc" 127.0.0.1 "$port"
	ast=$st
	await_line "$bpid" "$tmp/b.out" '/^\* client2 left$/p'
	exec 3>&-
	wait_pid "$bpid" 10
	bst=$st
	wait_pid "$spid" 10
}

# 1. Two clients: B listens, A talks and leaves, then B leaves.  No idle
# timeout here: one would start with B, and a busy machine can be slow
# enough starting A that B is hung up on before A says anything.
if with_b --idle 0 --exit-after 2; then
	long=$(head -c 1500 /dev/zero | tr '\0' x)
	printf 'hello\n%s\nbad \377 line\nbye\n' "$long" >"$tmp/a.in"
	a_talks
	if [ $ast -eq 0 ] && [ $bst -eq 0 ] && [ $st -eq 0 ] &&
	   grep -q '^\* welcome client2, 2 online$' "$tmp/a.out" &&
	   grep -q '^error: line longer than 1024 bytes$' "$tmp/a.out" &&
	   grep -q '^error: line is not UTF-8$' "$tmp/a.out" &&
	   grep -q '^client2: hello$' "$tmp/b.out" &&
	   grep -q '^client2: bye$' "$tmp/b.out" &&
	   ! grep -q 'xxxx' "$tmp/b.out" &&
	   ! grep -q 'bad' "$tmp/b.out" &&
	   grep -q '^\* client2 left$' "$tmp/b.out" &&
	   grep -q '^leave client2 quit$' "$tmp/server.out" &&
	   grep -q '^leave client1 quit$' "$tmp/server.out"; then
		pass "relay, over-long and invalid lines, exit"
	else
		fail "chat session (A $ast, B $bst, server $st)"
	fi
else
	fail "the server did not start"
fi

# 2. An idle client is told and hung up on.
if with_b --idle 300 --exit-after 1; then
	wait_pid "$bpid" 10
	bst=$st
	exec 3>&-
	wait_pid "$spid" 10
	if [ $bst -eq 0 ] && [ $st -eq 0 ] &&
	   grep -q '^error: idle for 300 ms, bye$' "$tmp/b.out" &&
	   grep -q '^leave client1 idle$' "$tmp/server.out"; then
		pass "idle timeout"
	else
		fail "idle timeout (B $bst, server $st)"
	fi
else
	fail "the server did not start"
fi

# 3. --max-clients 1: the second client is refused with an error line.
rm -f "$tmp"/*.out "$tmp"/*.err "$tmp/b.in"
if start --max-clients 1 --exit-after 2; then
	mkfifo "$tmp/b.in" || exit 99
	exec 4<>"$tmp/b.in"
	listener
	run 10 a /dev/null "$nc" 127.0.0.1 "$port"
	ast=$st
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

# 4. Usable from socat, when installed: a line goes through to netcat.
if command -v socat >/dev/null 2>&1; then
	rm -f "$tmp"/*.out "$tmp"/*.err "$tmp/b.in"
	if start --exit-after 2; then
		mkfifo "$tmp/b.in" || exit 99
		exec 3<>"$tmp/b.in"
		listener
		printf 'from socat\n' >"$tmp/a.in"
		run 10 a "$tmp/a.in" socat -t 5 - "TCP:127.0.0.1:$port"
		ast=$st
		await_line "$bpid" "$tmp/b.out" '/^client2: from socat$/p'
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

# 5. A client that stops reading (its stdout is a FIFO nobody reads)
# while another floods short lines: each round adds little to its outbox,
# so its socket fills up first (some MB) and its writer blocks in
# write_all; then the outbox fills.  It must still be dropped, for being
# slow or at its idle deadline, and the server exit.  (Merely waking the
# blocked writer, as kicking it once did, left it waiting on the socket
# for good, most runs.)
rm -f "$tmp"/*.out "$tmp"/*.err "$tmp/b.in"
if start --idle 3000 --exit-after 2; then
	mkfifo "$tmp/b.in" "$tmp/stuck" || exit 99
	exec 3<>"$tmp/b.in"
	exec 4<>"$tmp/stuck"
	"$nc" 127.0.0.1 "$port" <"$tmp/b.in" >"$tmp/stuck" 2>"$tmp/b.err" \
		3>&- 4>&- &
	bpid=$!
	pids="$pids $bpid"
	await_line "$spid" "$tmp/server.out" '/^join client1$/p' ||
		fail "the stuck client did not join"
	yes x | head -n 3000000 >"$tmp/a.in"
	run 60 a "$tmp/a.in" "$nc" 127.0.0.1 "$port"
	ast=$st
	wait_pid "$spid" 20
	if [ $ast -eq 0 ] && [ $st -eq 0 ] &&
	   grep -Eq '^leave client1 (slow|idle)$' "$tmp/server.out"; then
		pass "a client that stops reading is dropped"
	else
		fail "stuck client (A $ast, server $st)"
	fi
	wait_pid "$bpid" 0 >/dev/null  # stuck writing to the FIFO: killed
	exec 3>&- 4>&-
	rm -f "$tmp/a.in"
else
	fail "the server did not start"
fi

# 6. A line with NUL bytes in it reaches B whole, every byte, from a
# real client (samples/netcat).  It used to be cut at the first NUL.
rm -f "$tmp"/*.out "$tmp"/*.err "$tmp/b.in"
# hex FILE: FILE's bytes as one line of hex digits.
hex() {
	od -An -v -tx1 "$1" | tr -d ' \n'
}
if with_b --idle 0 --exit-after 2; then
	printf 'a\000b\000\000c\000\n\000\n' >"$tmp/a.in"
	printf 'client2: a\000b\000\000c\000\nclient2: \000\n' >"$tmp/want"
	a_talks
	case $(hex "$tmp/b.out") in
	*"$(hex "$tmp/want")"*) got=yes ;;
	*) got=no ;;
	esac
	if [ $ast -eq 0 ] && [ $bst -eq 0 ] && [ $st -eq 0 ] &&
	   [ $got = yes ]; then
		pass "a line with NUL bytes, relayed whole"
	else
		fail "NUL bytes (A $ast, B $bst, server $st): B got" \
			"$(hex "$tmp/b.out"), not $(hex "$tmp/want")"
	fi
else
	fail "the server did not start"
fi

# 7. A burst: A's 200 lines of 700 bytes (140 KB, far more than an
# outbox holds) reach the server faster than one round of its loop.  B
# reads all the while and must get every line, in order, and not be
# kicked as slow: the relaying reader gives the writers their turn.
if with_b --idle 0 --exit-after 2; then
	pad=$(head -c 690 /dev/zero | tr '\0' p)
	i=0
	: >"$tmp/a.in"
	: >"$tmp/want"
	while [ $i -lt 200 ]; do
		printf 'm%04d %s\n' $i "$pad" >>"$tmp/a.in"
		printf 'client2: m%04d %s\n' $i "$pad" >>"$tmp/want"
		i=$((i + 1))
	done
	a_talks
	grep '^client2: m' "$tmp/b.out" >"$tmp/got"
	if [ $ast -eq 0 ] && [ $bst -eq 0 ] && [ $st -eq 0 ] &&
	   cmp -s "$tmp/want" "$tmp/got" &&
	   grep -q '^leave client1 quit$' "$tmp/server.out"; then
		pass "a burst of 140 KB of lines, every line to a reading client"
	else
		fail "burst (A $ast, B $bst, server $st): B got" \
			"$(wc -l <"$tmp/got") of 200 lines;" \
			"$(grep '^leave' "$tmp/server.out" | tr '\n' ' ')"
	fi
else
	fail "the server did not start"
fi

# 8. Two bursts at once: A and C each send 1000 lines of 1000 bytes, both
# starting together, while B reads.  Every client reads (A and C write
# what they get to their stdout until they leave), so no one may be
# kicked, and B must get every line of both, each sender's in order.
# (A reader that only yielded to the writers once was not enough: the
# other sender's lines filled the outboxes meanwhile.)
if with_b --idle 0 --exit-after 3; then
	pad=$(head -c 990 /dev/zero | tr '\0' q)
	: >"$tmp/a.in"
	: >"$tmp/c.in"
	i=0
	while [ $i -lt 1000 ]; do
		printf 'A%04d %s\n' $i "$pad" >>"$tmp/a.in"
		printf 'C%04d %s\n' $i "$pad" >>"$tmp/c.in"
		i=$((i + 1))
	done
	spawn a "$tmp/a.in" "$nc" 127.0.0.1 "$port"
	apid=$bgpid
	spawn c "$tmp/c.in" "$nc" 127.0.0.1 "$port"
	cpid=$bgpid
	wait_pid "$apid" 20
	ast=$st
	wait_pid "$cpid" 20
	cst=$st
	n=0
	while [ "$(grep -c '^\* client[23] left$' "$tmp/b.out")" -lt 2 ] &&
	      [ $n -lt 200 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	exec 3>&-
	wait_pid "$bpid" 10
	bst=$st
	wait_pid "$spid" 10
	# got FILE LETTER: the lines of sender LETTER in FILE, unprefixed.
	got() {
		sed -n "s/^client[0-9]*: \($2[0-9]\{4\} \)/\1/p" "$1"
	}
	ok=yes
	got "$tmp/b.out" A | cmp -s - "$tmp/a.in" || ok=no
	got "$tmp/b.out" C | cmp -s - "$tmp/c.in" || ok=no
	if [ $ast -eq 0 ] && [ $cst -eq 0 ] && [ $bst -eq 0 ] &&
	   [ $st -eq 0 ] && [ $ok = yes ] &&
	   ! grep -q 'slow$' "$tmp/server.out"; then
		pass "two bursts at once, every line to every reading client"
	else
		fail "two bursts (A $ast, C $cst, B $bst, server $st):" \
			"B got $(got "$tmp/b.out" A | wc -l) and" \
			"$(got "$tmp/b.out" C | wc -l) of 1000 lines each;" \
			"$(grep '^leave' "$tmp/server.out" | tr '\n' ' ')"
	fi
else
	fail "the server did not start"
fi

[ $failures -eq 0 ]
