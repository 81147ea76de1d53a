# test/sample-lib.sh - what the shell tests of the network samples share.
# Set sample_test to the test's name, then source it:
#     sample_test=netcat
#     . "${srcdir:-.}/test/sample-lib.sh"
# (a POSIX shell passes no arguments to a sourced file).
#
# It makes the scratch directory $tmp, kills (SIGKILL) whatever spawn
# started and nobody reaped, and removes $tmp on exit.  It defines:
#   pass MSG, fail MSG     report a case (fail also shows the outputs kept
#                          in $tmp/*.err and $tmp/*.out, and counts
#                          $failures)
#   spawn NAME IN CMD...   start CMD in the background, stdin from IN,
#                          stdout and stderr into new, empty files
#                          $tmp/NAME.out and $tmp/NAME.err; sets bgpid
#   wait_pid PID SECONDS   wait for PID to exit; past the deadline kill it
#                          with SIGKILL; sets st (124: killed)
#   run SECONDS NAME IN CMD...
#                          spawn, then wait_pid: a command in the
#                          foreground that cannot hang the test; sets st
#   await_line PID FILE SED
#                          wait (10 s at most) for a complete line of
#                          FILE on which the sed script prints; sets line
#   await_port PID FILE    await_line for a sample's announcement of the
#                          port it listens on; sets port
#   socat_listen NAME IN OPTS ADDRESS
#                          spawn socat between a free loopback port
#                          (TCP-LISTEN with OPTS appended) and ADDRESS;
#                          sets bgpid and port once it listens
#
# Every wait here has a deadline: a test may fail, but it never hangs.

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ptio-$sample_test-test.XXXXXX") || exit 99
pids=
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

failures=0
fail() {
	echo "FAIL: $*"
	for f in "$tmp"/*.err "$tmp"/*.out; do
		[ -s "$f" ] && { echo "--- ${f##*/}"; head -c 3000 "$f"; echo; }
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
}

# kill -0 also succeeds on a child that has exited but is not reaped yet;
# the shell reaps its children whenever it waits for a foreground command
# (the sleep), so the loop still ends within one step of the exit.
wait_pid() {
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
	else
		wait "$1"
		st=$?
	fi
	# Reaped: drop it, so that cleanup never signals a recycled pid.
	wp_keep=
	for wp_p in $pids; do
		[ "$wp_p" = "$1" ] || wp_keep="$wp_keep $wp_p"
	done
	pids=$wp_keep
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
