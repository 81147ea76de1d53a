# test/sample-lib.sh - what the shell tests of the network samples share.
# Set sample_test to the test's name, then source it:
#     sample_test=netcat
#     . "${srcdir:-.}/test/sample-lib.sh"
# (a POSIX shell passes no arguments to a sourced file).
#
# It makes the scratch directory $tmp, kills the background processes
# listed in $pids and removes $tmp on exit, and defines:
#   pass MSG, fail MSG     report a case (fail also shows the outputs kept
#                          in $tmp/*.err and $tmp/*.out, and counts
#                          $failures)
#   wait_pid PID SECONDS   wait for PID to exit; sets st (124: killed)
#   check_backend WHO NAME say which backend the sample WHO runs on (NAME,
#                          from its "backend NAME" line), and fail unless
#                          it is the one PTIO_BACKEND names, when set

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ptio-$sample_test-test.XXXXXX") || exit 99
pids=
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	exec 3>&- 4>&- 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

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

wait_pid() {
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 20)) ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		kill "$1"
		wait "$1" 2>/dev/null
		st=124
	else
		wait "$1"
		st=$?
	fi
}

check_backend() {
	echo "$1 runs on the ${2:-?} backend (PTIO_BACKEND=${PTIO_BACKEND:-})"
	if [ -n "${PTIO_BACKEND:-}" ] && [ "$2" != "$PTIO_BACKEND" ]; then
		fail "$1 runs on '${2:-?}', not on PTIO_BACKEND=$PTIO_BACKEND"
	fi
}
