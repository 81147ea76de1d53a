#!/bin/sh
# samples/demo.sh - the echo demo behind `make demo`.
#
#   demo.sh SERVER CLIENT [CONNS]
#
# For each server mode, scratch first (the memory-sensitive path), then
# ergonomic (a buffer per connection): start echo-server on an ephemeral
# loopback port, run echo-client with CONNS connections (default 1000)
# that verifies every echoed byte and then holds its connections idle,
# collect the server's heap bytes per idle connection, stop the server
# with SIGTERM.  Finally print both modes side by side.  Any failure
# (client error, missing report, server exit status) fails the demo.
#
# Divided into: settings, helpers, one run per mode, the summary.

set -u

server=${1:?usage: demo.sh SERVER CLIENT [CONNS]}
client=${2:?usage: demo.sh SERVER CLIENT [CONNS]}
conns=${3:-1000}
msgs=20
size=512

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ptio-demo.XXXXXX") || exit 1
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then
		kill -KILL "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "demo: FAILED: $*" >&2
	for f in "$tmp"/*; do
		[ -s "$f" ] && { echo "--- ${f##*/}" >&2; cat "$f" >&2; }
	done
	exit 1
}

# wait_port FILE PID: print the port from the server's first line, waiting
# up to 10 s for it; empty if the server died or said nothing.  FILE is
# made empty before the server starts (see run_mode).  Only a complete
# line counts: one still being written could be "port 4" of "port 45678".
# Whether the server lives is looked at before FILE is read, so a server
# that said its line and exited at once is not taken for a silent one.
wait_port() {
	i=0
	while [ $i -lt 200 ]; do
		alive=
		kill -0 "$2" 2>/dev/null && alive=yes
		p=$(head -n $(($(wc -l <"$1"))) "$1" |
			sed -n '1s/^port \([0-9][0-9]*\)$/\1/p')
		if [ -n "$p" ]; then
			echo "$p"
			return
		fi
		[ -n "$alive" ] || return
		sleep 0.05
		i=$((i + 1))
	done
}

# stop_server: SIGTERM the server and wait for it, 10 s at most (it drains
# for 2 s at most), then SIGKILL it; sets status (124 when killed).
stop_server() {
	kill -TERM "$server_pid"
	i=0
	while kill -0 "$server_pid" 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if kill -0 "$server_pid" 2>/dev/null; then
		kill -KILL "$server_pid"
		wait "$server_pid"
		status=124
	else
		wait "$server_pid"
		status=$?
	fi
	server_pid=
}

# field FILE NAME: the value after NAME on the server's report line.
field() {
	awk -v k="$2" '$1 == "heap_per_conn" {
		for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit }
	}' "$1"
}

# run_mode MODE: one server run; leaves heap_MODE and size_MODE set.
run_mode() {
	mode=$1
	out=$tmp/server-$mode.out
	# The files are made here, before the server starts: its redirections
	# are opened in the child after `&` has returned, and wait_port must
	# not look for a file that is not there yet.
	: >"$out"
	: >"$tmp/server-$mode.err"
	# glibc's mallinfo2 counts chunks parked in its per-thread cache as
	# in use although they are free; with the cache off, the count is
	# exactly the live chunks.
	GLIBC_TUNABLES=glibc.malloc.tcache_count=0 \
	"$server" --port 0 --mode "$mode" --report-at "$conns" \
		>"$out" 2>"$tmp/server-$mode.err" &
	server_pid=$!
	port=$(wait_port "$out" "$server_pid")
	[ -n "$port" ] || fail "$mode server did not start"

	echo "== $mode mode: $conns connections, $msgs messages of $size bytes each"
	"$client" --port "$port" --conns "$conns" --msgs "$msgs" \
		--size "$size" --seed 42 --hold-idle 300 --timeout 20000 \
		>"$tmp/client-$mode.out" 2>"$tmp/client-$mode.err"
	status=$?
	cat "$tmp/client-$mode.out"
	[ $status -eq 0 ] || fail "$mode client exited with status $status"

	stop_server
	grep '^stats' "$out" | sed 's/^/echo-server: /'
	[ $status -eq 0 ] || fail "$mode server exited with status $status"
	grep -q "^stats accepted $conns refused 0 closed $conns failed 0 " \
		"$out" || fail "$mode server did not serve every connection"

	heap=$(field "$out" heap_per_conn)
	size_conn=$(field "$out" sizeof_conn)
	source=$(field "$out" heap)
	[ -n "$heap" ] && [ "$heap" -gt 0 ] ||
		fail "$mode server reported no heap bytes per connection"
	eval "heap_$mode=\$heap size_$mode=\$size_conn"
}

run_mode scratch
run_mode ergonomic

echo
echo "Heap bytes per idle connection ($conns connections open, counted by $source):"
printf '  %-10s %12s %22s\n' mode heap/conn 'sizeof(struct conn)'
printf '  %-10s %12s %22s\n' scratch "$heap_scratch" "$size_scratch"
printf '  %-10s %12s %22s\n' ergonomic "$heap_ergonomic" "$size_ergonomic"
exit 0
