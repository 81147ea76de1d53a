# bench/lib.sh - shell functions shared by bench/echo-instr.sh and
# bench/run: a server started natively, under callgrind or under perf,
# with its port and pid read from fresh files; waits that always end;
# counts per message.  POSIX sh, sourced, never run.
#
# The caller sets, before calling anything here:
#
#   bench_prog  the name its messages begin with ("echo-instr")
#   tmp         a private scratch directory (mktemp -d)
#   libtool     the build's libtool, for bench_resolve
#
# and calls bench_pin_setup once (which sets on_cpu0 and on_cpu1), and
# bench_resolve for each program of the build that is a libtool wrapper
# script.  Its EXIT trap should call bench_kill_all.
#
# Divided into: messages, waiting, CPUs and perf, starting and stopping
# a server, counts.
#
# The variables named here are set and read by the callers:
# shellcheck shell=sh disable=SC2034,SC2154

# ---- Messages --------------------------------------------------------------

note() {
	echo "$bench_prog: $*" >&2
}

# show_outputs [PATTERN]: the last lines of each non-empty output file in
# $tmp whose name matches PATTERN (default every *.out and *.err).
show_outputs() {
	for f in "$tmp"/${1:-*}.out "$tmp"/${1:-*}.err; do
		[ -s "$f" ] && { echo "--- ${f##*/}" >&2; tail -n 20 "$f" >&2; }
	done
}

# die MSG: say what failed, show what the processes wrote, and stop.
die() {
	note "FAILED: $*"
	show_outputs
	exit 1
}

# ---- Waiting ---------------------------------------------------------------

# nap SECONDS: sleep a fraction of a second between two looks.  (bash
# callers may define a faster one that does not start a process.)
nap() {
	sleep "$1"
}

# wait_pid PID SECONDS: wait for PID (a child of this shell) to exit,
# killing it after SECONDS; sets st (124 when it had to be killed).
wait_pid() {
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 10)) ]; do
		nap 0.1
		i=$((i + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		st=124
	else
		wait "$1"
		st=$?
	fi
}

# wait_port FILE PID SECONDS: set port to the port of the server's first
# line in FILE ("port N"); fail if PID died first or SECONDS passed.
# FILE must be new for each server: an old one would still hold the
# previous server's port.  (Builtins only: starting a process can take
# tens of milliseconds on a loaded machine.)
wait_port() {
	port=
	i=0
	while [ $i -lt $(($3 * 20)) ]; do
		# read succeeds only on a whole line.
		if [ -f "$1" ] && read -r line <"$1"; then
			case ${line#port } in
			"$line" | '' | *[!0-9]*) return 1 ;;
			esac
			port=${line#port }
			return 0
		fi
		kill -0 "$2" 2>/dev/null || return 1
		nap 0.05
		i=$((i + 1))
	done
	return 1
}

# ---- CPUs and perf ---------------------------------------------------------

# bench_pin_setup yes|no: set on_cpu0 and on_cpu1, the command words that
# put the server on CPU 0 and the client on CPU 1 (empty: anywhere, when
# asked, or when there is one CPU or no taskset).  They are expanded
# unquoted: taskset's path and its arguments hold no blanks.
bench_pin_setup() {
	on_cpu0=
	on_cpu1=
	if [ "$1" = yes ] && command -v taskset >/dev/null &&
	   taskset -c 1 true 2>/dev/null; then
		on_cpu0="taskset -c 0"
		on_cpu1="taskset -c 1"
	fi
}

# bench_perf_usable: succeed if perf may count the raw_syscalls:sys_enter
# tracepoint here (not every kernel or container lets it).
bench_perf_usable() {
	perf stat -x, -o "$tmp/perf-probe" -e raw_syscalls:sys_enter \
		-- true >/dev/null 2>&1 &&
	grep -q '^[0-9][0-9]*,.*raw_syscalls:sys_enter' "$tmp/perf-probe"
}

# ---- Starting and stopping a server ----------------------------------------

# bench_resolve VAR PROGRAM: set VAR to the binary that runs when PROGRAM
# runs, and export the LD_LIBRARY_PATH it needs.  For a libtool wrapper
# script that is the real binary in .libs and the build's library
# directory; anything else stays as it is.  Asking libtool once, instead
# of starting every run through `libtool --mode=execute`, saves a second
# and more per run on a slow machine.
bench_resolve() {
	r=$("$libtool" --mode=execute sh -c \
		'printf "%s\n%s" "$0" "${LD_LIBRARY_PATH-}"' "$2") || return 1
	nl='
'
	eval "$1=\${r%%\"\$nl\"*}"
	LD_LIBRARY_PATH=${r#*"$nl"}
	export LD_LIBRARY_PATH
}

pid=
spid=
bench_callgrind_opts=
bench_perf_opts=

# bench_start KIND NAME SECONDS CMD...: start the server CMD in the
# background, on CPU 0, natively (KIND native), under callgrind or under
# perf stat counting system calls and page faults, with its outputs in
# fresh files $tmp/NAME.out and $tmp/NAME.err (and $tmp/NAME.cg or
# $tmp/NAME.perf).  Waits up to SECONDS for its "port N" line.  On
# success sets port, pid (the process to wait for) and spid (the server
# itself, to signal).  The words of $bench_callgrind_opts or
# $bench_perf_opts (unquoted: no blanks in them) go to valgrind or perf.
# On failure returns 1 with st set to the server's exit status (124 if it
# had to be killed) and nothing left running.
#
# CMD must be a binary, not a libtool wrapper script (see bench_resolve):
# taskset execs it, or valgrind, which runs it in the same process, so
# the process started is the server.  perf stat forks its command: there
# a small shell writes its pid to $tmp/NAME.pid and execs the server.
bench_start() {
	kind=$1 name=$2 secs=$3
	shift 3
	rm -f "$tmp/$name.out" "$tmp/$name.err" "$tmp/$name.pid" \
	      "$tmp/$name.cg" "$tmp/$name.cg".* "$tmp/$name.perf"
	case $kind in
	native)
		# shellcheck disable=SC2086
		$on_cpu0 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" & ;;
	callgrind)
		# shellcheck disable=SC2086
		$on_cpu0 valgrind -q --tool=callgrind --collect-atstart=yes \
			--callgrind-out-file="$tmp/$name.cg" \
			$bench_callgrind_opts \
			"$@" >"$tmp/$name.out" 2>"$tmp/$name.err" & ;;
	perf)
		# shellcheck disable=SC2086
		$on_cpu0 perf stat -x, -o "$tmp/$name.perf" \
			-e raw_syscalls:sys_enter,page-faults \
			$bench_perf_opts -- \
			sh -c 'echo $$ >"$0"; exec "$@"' "$tmp/$name.pid" \
			"$@" >"$tmp/$name.out" 2>"$tmp/$name.err" & ;;
	esac
	pid=$!
	spid=
	if ! wait_port "$tmp/$name.out" "$pid" "$secs"; then
		kill -TERM "$pid" 2>/dev/null
		wait_pid "$pid" 5
		pid=
		return 1
	fi
	spid=$pid
	[ "$kind" != perf ] || read -r spid <"$tmp/$name.pid"
	return 0
}

# bench_stop SECONDS: stop the server with SIGTERM, killing it if it has
# not ended SECONDS later; sets st to its exit status.
bench_stop() {
	kill -TERM "$spid" 2>/dev/null
	wait_pid "$pid" "$1"
	pid=
	spid=
}

# bench_kill_all [PID...]: kill the server and the given processes (the
# EXIT trap's work).
bench_kill_all() {
	for p in "$@" $spid $pid; do
		kill -KILL "$p" 2>/dev/null
	done
}

# ---- Counts ------------------------------------------------------------------

# cg_count FILE: set count to the instructions callgrind counted in FILE
# (a profile or a dump); empty if it has none.
cg_count() {
	count=
	[ -f "$1" ] || return
	while IFS= read -r line; do
		case $line in
		"summary: "*) count=${line#summary: }; return ;;
		esac
	done <"$1"
}

# perf_count FILE [EVENT]: set count to the count of EVENT (default
# raw_syscalls:sys_enter) in FILE, the output of perf stat -x,; empty if
# it has none.
perf_count() {
	count=
	[ -f "$1" ] || return
	while IFS=, read -r c unit event rest; do
		[ "$event" = "${2:-raw_syscalls:sys_enter}" ] &&
			{ count=$c; return; }
	done <"$1"
}

# per_msg A_SHORT A_LONG MSGS FORMAT: (A_LONG - A_SHORT) / MSGS, the cost
# of one message from two runs that differ by MSGS messages.
per_msg() {
	awk -v a="$1" -v b="$2" -v m="$3" -v f="$4" \
		'BEGIN { printf f "\n", (b - a) / m }'
}
