#!/bin/sh
# test/echo-flood-test.sh - a connection that floods samples/echo-server
# must not keep a new one waiting.  Run from the top build directory.
#
# For each mode, ergonomic then scratch (ring, below, has a case of its
# own): test/flood-probe floods the server on one connection (1 MiB writes as fast as the server takes
# them, the echo read as fast as it comes, so the server's reads on it
# never block) and meanwhile times 20 new connections, each sending a
# short message and reading its echo.  Each must take at most 50 ms.  A
# server that gives every connection its turn answers in a millisecond
# or so, and within about 20 ms with other tests running beside it; one
# that does not leaves the probe waiting until the flood happens to
# pause: hundreds of milliseconds, or for ever.  A probe with no echo is
# given up after 500 ms.
#
# When a mode is late, the control: the same probe against test/fair-echo,
# a server fair by construction (one read per ready connection per round
# of poll(), no ptio).  If even that is late, this machine is too busy
# for 50 ms to mean anything, and the test is skipped rather than failed.

set -u

server=samples/echo-server
probe=test/flood-probe
fair=test/fair-echo
[ -x "$probe" ] && [ -x "$fair" ] || { echo "SKIP: helpers not built"; exit 77; }

sample_test=echo-flood
. "${srcdir:-.}/test/sample-lib.sh"

# measure NAME [OPTION...]: flood-probe against $port, with OPTIONs, 30
# s at most, its output in $tmp/NAME.out (all of it shown by fail) and
# its summary shown; sets st (0 all in time, 1 one late, 2 the flood or a
# probe went wrong, 124 killed).
measure() {
	m_name=$1
	shift
	run 30 "$m_name" /dev/null "$probe" -n 20 -l 50 -t 500 "$@" "$port"
	echo "$m_name: $(tail -n 1 "$tmp/$m_name.out")"
}

# probe_server NAME [OPTION...]: measure the server at $spid, and once
# more when a probe was late (a held loop is late every time, a busy
# machine now and then); then stop the server.  Sets pst (the probe's
# status, as measure's) and st (the server's).
probe_server() {
	ps_name=$1
	measure "$@"
	pst=$st
	if [ $pst -eq 1 ]; then
		echo "$ps_name: a probe was late: measuring once more"
		shift
		measure "$ps_name-again" "$@"
		pst=$st
	fi
	kill -TERM "$spid"
	wait_pid "$spid" 10
}

# control: the probe against test/fair-echo; skips the test (exit 77)
# when even that is late.
control() {
	rm -f "$tmp"/*.out "$tmp"/*.err
	spawn fair /dev/null "$fair"
	spid=$bgpid
	if ! await_port "$spid" "$tmp/fair.out"; then
		fail "fair-echo did not start"
		return
	fi
	measure probe-fair
	pst=$st
	kill -TERM "$spid"   # it serves until killed
	wait_pid "$spid" 5
	if [ $pst -eq 1 ]; then
		echo "SKIP: the control too was late: this machine is too busy"
		exit 77
	elif [ $pst -ne 0 ]; then
		fail "the probe against fair-echo (probe $pst)"
	else
		echo "control: fair-echo was in time, the server was not"
	fi
}

# The echo server in both modes; when one is late, the control.
for mode in ergonomic scratch; do
	rm -f "$tmp"/*.out "$tmp"/*.err
	spawn server /dev/null "$server" --port 0 --mode "$mode"
	spid=$bgpid
	if ! await_port "$spid" "$tmp/server.out"; then
		fail "$mode server did not start"
		continue
	fi
	probe_server "probe-$mode"
	if [ $pst -eq 0 ] && [ $st -eq 0 ]; then
		pass "$mode: every probe answered within 50 ms under a flood"
	else
		fail "$mode: probes under a flood (probe $pst, server $st)"
		[ $pst -eq 1 ] && control
	fi
done

# Ring mode, on uring.  Beside the flood, 100 peers send and never read
# their echoes (flood-probe -s), and each holds what ring mode keeps for
# an echo it cannot send: a receive buffer and a send chunk of the pools
# every connection shares.  With --max-conns 200 the pools have a buffer
# for every connection, so nobody else waits.  (Before, 64 such peers
# held every receive buffer, and no probe was answered until --stall-ms
# dropped them.)  The peers fill their sockets in the first 2 s of the
# longer warm-up.
rm -f "$tmp"/*.out "$tmp"/*.err
spawn server /dev/null "$server" --port 0 --mode ring --backend uring \
	--max-conns 200
spid=$bgpid
if await_port "$spid" "$tmp/server.out"; then
	probe_server probe-ring -w 2500 -s 100
	if [ $pst -eq 0 ] && [ $st -eq 0 ]; then
		pass "ring: every probe answered beside 100 peers that never read"
	else
		fail "ring: probes beside peers that never read" \
			"(probe $pst, server $st)"
		[ $pst -eq 1 ] && control
	fi
else
	wait_pid "$spid" 5
	if [ $st -eq 77 ]; then
		echo "SKIP: ring mode: no uring here"
	else
		fail "ring server did not start (status $st)"
	fi
fi

[ $failures -eq 0 ]
