# test/sample-lib.sh - what the shell tests of the network samples share.
# Set sample_test to the test's name, then source it:
#     sample_test=netcat
#     . "${srcdir:-.}/test/sample-lib.sh"
# (a POSIX shell passes no arguments to a sourced file).
#
# It makes the scratch directory $tmp, kills (SIGKILL) whatever spawn
# started and nobody reaped, and removes $tmp on exit.  It defines:
#   pass MSG, fail MSG     report a case (fail also shows the outputs kept
#                          in $tmp/*.err and $tmp/*.out and the process
#                          log, and counts $failures)
#   spawn NAME IN CMD...   start CMD in the background, stdin from IN,
#                          stdout and stderr into new, empty files
#                          $tmp/NAME.out and $tmp/NAME.err; sets bgpid
#   wait_pid PID SECONDS   wait for PID to exit; past the deadline kill it
#                          with SIGKILL; sets st (124: killed)
#   signal_pid SIG PID     send signal SIG (TERM, INT, ...) to PID
#   run SECONDS NAME IN CMD...
#                          spawn, then wait_pid: a command in the
#                          foreground that cannot hang the test; sets st
#   await_line PID FILE SED
#                          wait (10 s at most) for a complete line of
#                          FILE on which the sed script prints; sets line
#   await_port PID FILE    await_line for a sample's announcement of the
#                          port it listens on; sets port
#   check_backend WHO NAME say which backend the sample WHO runs on (NAME,
#                          from its "backend NAME" line), and fail unless
#                          it is the one PTIO_BACKEND names, when set
#   socat_listen NAME IN OPTS ADDRESS
#                          spawn socat between a free loopback port
#                          (TCP-LISTEN with OPTS appended) and ADDRESS;
#                          sets bgpid and port once it listens
#
# Every wait here has a deadline: a test may fail, but it never hangs.
#
# The process log, $tmp/procs.log, says when each process was started,
# signalled and reaped, with its status; fail shows it, and whether each
# process not reaped yet still runs.  A process that ended when nothing
# here ended it (a server gone before the test stopped it) shows there.

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ptio-$sample_test-test.XXXXXX") || exit 99
pids=
collected=  # PID:STATUS of children fail has reaped
port=
cleanup() {
	for p in $pids; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	exec 3>&- 4>&- 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 99' HUP INT TERM

# proc_log MSG: add MSG to the process log, with the time.
proc_log() {
	echo "$(date '+%H:%M:%S.%N') $*" >>"$tmp/procs.log"
}

failures=0
fail() {
	echo "FAIL: $*"
	for f in "$tmp"/*.err "$tmp"/*.out; do
		[ -s "$f" ] && { echo "--- ${f##*/}"; head -c 3000 "$f"; echo; }
	done
	echo "--- processes"
	cat "$tmp/procs.log" 2>/dev/null
	for fl_p in $pids; do
		# A zombie (which this shell may not have reaped yet) has
		# ended: where /proc says so, it is not taken for running.
		fl_state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$fl_p/stat" \
			2>/dev/null)
		if kill -0 "$fl_p" 2>/dev/null && [ "$fl_state" != Z ]; then
			echo "pid $fl_p: running"
		else
			# Ended on its own: its status is collected now, and
			# kept for wait_pid (the pid may be recycled).
			wait "$fl_p"
			fl_st=$?
			collected="$collected $fl_p:$fl_st"
			forget_pid "$fl_p"
			echo "pid $fl_p: exited, status $fl_st"
		fi
	done
	failures=$((failures + 1))
}
pass() {
	echo "PASS: $*"
}

# The output files are made here, before the fork, and new each time.
# The redirections of a background command are opened by the child,
# which may run only after `&` has returned here and this shell has read
# the file: a file that only the child truncates may still hold the
# previous process's lines then (the previous server's port, where nobody
# listens any more), and the first time it may not exist yet.  A new file
# (a new inode) also takes nothing from a process of an earlier case that
# might still hold the old one open.
#
# A background command's stdin is /dev/null unless the command itself
# redirects it, so IN is an argument rather than a redirection of the
# call.  Descriptors 3 and 4, with which the tests hold FIFOs open, are
# closed in the child: a reader that inherited the writing end of its own
# stdin would never see that stdin end.
spawn() {
	sp_name=$1 sp_in=$2
	shift 2
	rm -f "$tmp/$sp_name.out" "$tmp/$sp_name.err"
	: >"$tmp/$sp_name.out" && : >"$tmp/$sp_name.err" || exit 99
	"$@" <"$sp_in" >"$tmp/$sp_name.out" 2>"$tmp/$sp_name.err" 3>&- 4>&- &
	bgpid=$!
	pids="$pids $bgpid"
	proc_log "pid $bgpid ($sp_name) started: $*"
}

# kill -0 also succeeds on a child that has exited but is not reaped yet;
# the shell reaps its children whenever it waits for a foreground command
# (the sleep), so the loop still ends within one step of the exit.
wait_pid() {
	if collected_status "$1"; then
		st=$cs_st
		return
	fi
	wp_n=0
	while kill -0 "$1" 2>/dev/null && [ $wp_n -lt $(($2 * 20)) ]; do
		sleep 0.05
		wp_n=$((wp_n + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		echo "wait_pid: process $1 still running after $2 s:" \
			"killed with SIGKILL"
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		st=124
		proc_log "pid $1 killed (SIGKILL) after $2 s"
	else
		wait "$1"
		st=$?
		proc_log "pid $1 reaped: status $st"
	fi
	# Reaped: drop it, so that cleanup never signals a recycled pid.
	forget_pid "$1"
}

forget_pid() {
	fp_keep=
	for fp_p in $pids; do
		[ "$fp_p" = "$1" ] || fp_keep="$fp_keep $fp_p"
	done
	pids=$fp_keep
}

# collected_status PID: succeed, with cs_st set to its status, when fail
# has reaped PID.
collected_status() {
	for cs_c in $collected; do
		if [ "${cs_c%%:*}" = "$1" ]; then
			cs_st=${cs_c#*:}
			return 0
		fi
	done
	return 1
}

# A process fail has reaped is not signalled: its pid may be another's.
signal_pid() {
	if collected_status "$2"; then
		proc_log "pid $2 not sent SIG$1: it had exited"
		return 0
	fi
	proc_log "pid $2 sent SIG$1"
	kill -"$1" "$2"
}

run() {
	run_secs=$1
	shift
	spawn "$@"
	wait_pid "$bgpid" "$run_secs"
}

# Only lines that end in a newline are read: a line still being written
# could be "port 4" of "port 45678".  Whether PID lives is looked at
# before FILE is read, so a process that wrote its line and exited just
# before the look is not taken for one that died saying nothing.
await_line() {
	al_n=0
	while :; do
		al_alive=
		kill -0 "$1" 2>/dev/null && al_alive=yes
		line=$(head -n $(($(wc -l <"$2"))) "$2" | sed -n "$3" |
			head -n 1)
		[ -n "$line" ] && return 0
		[ -n "$al_alive" ] && [ $al_n -lt 200 ] || return 1
		sleep 0.05
		al_n=$((al_n + 1))
	done
}

# echo-server and line-chat say "port N" on stdout, netcat -l says
# "listening on HOST N" on stderr.
await_port() {
	await_line "$1" "$2" 's/^port \([0-9][0-9]*\)$/\1/p
s/^listening on [^ ]* \([0-9][0-9]*\)$/\1/p' || return 1
	port=$line
}

# socat is given a random port rather than 0: its "listening on" notice
# (-d -d) shows the address it was asked for, which not every version
# fills in with the port 0 got.  When the port is taken, socat exits
# instead of saying the notice, and another port is tried.
socat_listen() {
	for sl_try in 1 2 3 4 5; do
		port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
		spawn "$1" "$2" socat -d -d -t 10 \
			"TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr$3" "$4"
		await_line "$bgpid" "$tmp/$1.err" '/ listening on /p' &&
			return 0
		wait_pid "$bgpid" 5
	done
	return 1
}

check_backend() {
	echo "$1 runs on the ${2:-?} backend (PTIO_BACKEND=${PTIO_BACKEND:-})"
	if [ -n "${PTIO_BACKEND:-}" ] && [ "$2" != "$PTIO_BACKEND" ]; then
		fail "$1 runs on '${2:-?}', not on PTIO_BACKEND=$PTIO_BACKEND"
	fi
}
