#!/bin/sh
# bench/echo-instr.sh - what one message of a ping-pong costs
# samples/echo-server: user instructions (callgrind) and system calls
# (perf), so that a change to the core can be measured before and after.
#
#   echo-instr.sh [--mode scratch|ergonomic|both] [--conns C] [--size S]
#                 [--msgs N] [--top K] [--keep DIR] [--no-perf] [--no-pin]
#                 [BUILDDIR]
#
# BUILDDIR (default .) is a configured and built ptio tree.  For each mode
# (default both, scratch first) the server runs under callgrind twice,
# while bench/echo-pingpong drives C connections (default 100) each doing
# a ping-pong of S-byte messages (default 64): N messages per connection
# (default 200), then 3N.  Start-up, accepting and shutdown cost the same
# in both runs, so
#
#     instr_per_msg = (Ir_long - Ir_short) / (C * 3N - C * N)
#
# counts the server's steady state only.  The client runs natively and is
# not counted.  System calls per message come the same way from two more
# runs of the server, natively, under `perf stat -e
# raw_syscalls:sys_enter` (skipped with a note when perf cannot count
# them here).  As in the peers' figures of REFERENCES.md, the server runs
# on CPU 0 and the client on CPU 1 when there are two and taskset is
# installed (--no-pin runs them where the system puts them).
#
# Standard output holds only lines like
#
#     instr_per_msg echo-scratch 936.4
#     calls_per_msg echo-scratch read 1.999
#     syscalls_per_msg echo-scratch 3.028
#
# and, with --top K, the K functions that cost the most per message, self
# and inclusive, from the difference of the two callgrind profiles (the
# inclusive list leaves out those that hold the whole count: main, its
# callers, and the loop):
#
#     self_per_msg echo-scratch 126.9 scratch_task
#     incl_per_msg echo-scratch 256.9 ptio_nb_read
#
# The calls_per_msg lines count, in the callgrind runs, the calls to the
# C library's wrappers of the I/O and wait system calls.  How often a read
# finds the next message already there instead of failing with EAGAIN,
# and how many connections one wait reports, depend on timing; these
# lines show when a change in instructions comes from there.
#
# Progress and the raw counts go to standard error.  --keep DIR copies the
# callgrind profiles there (callgrind.MODE.short, callgrind.MODE.long) for
# callgrind_annotate.  Exit status 0 when every run verified every echo
# and every server exited cleanly, 1 otherwise, 2 on a usage error.
#
# BUILDDIR need not contain this script: when BUILDDIR/bench/echo-pingpong
# is missing (a tree from before it existed) the script compiles its own
# echo-pingpong.c with ${CC:-cc}, so one copy measures both trees.
#
# Starting the server, the waits and the arithmetic are bench/lib.sh's,
# shared with bench/run.
#
# Divided into: options, helpers, one server run, one mode, main.

set -u

# ---- Options ---------------------------------------------------------------

usage_text() {
	echo "usage: echo-instr.sh [--mode scratch|ergonomic|both] [--conns C]" \
	     "[--size S] [--msgs N]"
	echo "                     [--top K] [--keep DIR] [--no-perf]" \
	     "[--no-pin] [BUILDDIR]"
}

usage() {
	usage_text >&2
	exit 2
}

# number NAME VALUE: VALUE if it is a positive decimal, else a usage error.
number() {
	case $2 in
	'' | *[!0-9]* | 0) echo "echo-instr: bad value for --$1: '$2'" >&2
			   usage ;;
	esac
	echo "$2"
}

modes="scratch ergonomic"
conns=100
size=64
msgs=200
top=0
keep=
use_perf=yes
pin=yes
builddir=.
while [ $# -gt 0 ]; do
	case $1 in
	--mode)
		[ $# -ge 2 ] || usage
		case $2 in
		scratch | ergonomic) modes=$2 ;;
		both) modes="scratch ergonomic" ;;
		*) usage ;;
		esac
		shift ;;
	--conns) [ $# -ge 2 ] || usage; conns=$(number conns "$2") || exit 2; shift ;;
	--size) [ $# -ge 2 ] || usage; size=$(number size "$2") || exit 2; shift ;;
	--msgs) [ $# -ge 2 ] || usage; msgs=$(number msgs "$2") || exit 2; shift ;;
	--top) [ $# -ge 2 ] || usage; top=$(number top "$2") || exit 2; shift ;;
	--keep) [ $# -ge 2 ] || usage; keep=$2; shift ;;
	--no-perf) use_perf=no ;;
	--no-pin) pin=no ;;
	-h | --help) usage_text; exit 0 ;;
	-*) usage ;;
	*) builddir=$1 ;;
	esac
	shift
done

here=$(cd "$(dirname "$0")" && pwd) || exit 1
server=$builddir/samples/echo-server
libtool=$builddir/libtool
pingpong=$builddir/bench/echo-pingpong
for f in "$server" "$libtool"; do
	[ -x "$f" ] || { echo "echo-instr: $f: not built" >&2; exit 1; }
done
command -v valgrind >/dev/null || { echo "echo-instr: no valgrind" >&2; exit 1; }
[ -z "$keep" ] || mkdir -p "$keep" || exit 1

# ---- Helpers ---------------------------------------------------------------

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ptio-echo-instr.XXXXXX") || exit 1
bench_prog=echo-instr
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
cleanup() {
	bench_kill_all
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
bench_resolve server "$server" || die "cannot run $server"

# The ping-pong driver: the build's, or compiled here from this script's
# own copy for a tree that has none.
if [ ! -x "$pingpong" ]; then
	pingpong=$tmp/echo-pingpong
	${CC:-cc} -O2 -o "$pingpong" "$here/echo-pingpong.c" ||
		die "cannot compile $here/echo-pingpong.c"
fi

# perf counts system calls only if it may open the tracepoint here.
if [ $use_perf = yes ] && ! bench_perf_usable; then
	note "perf cannot count raw_syscalls:sys_enter here:" \
	     "system calls not counted"
	use_perf=no
fi

# As in the peers' figures of REFERENCES.md: the server on CPU 0, the
# client on CPU 1.
bench_pin_setup $pin

# ---- One server run --------------------------------------------------------

# serve NAME MSGS KIND MODE: start the server (KIND callgrind or perf) with
# its outputs in fresh files $tmp/NAME.*, drive C connections of MSGS
# messages each, stop it with SIGTERM and check it served them all.  Sets
# count to its total Ir or system calls.
serve() {
	name=$1 n=$2 kind=$3 mode=$4
	out=$tmp/$name.out
	bench_start "$kind" "$name" 30 "$server" --port 0 --mode "$mode" ||
		die "$name: the server did not start"

	# shellcheck disable=SC2086
	$on_cpu1 "$pingpong" --port "$port" --conns "$conns" --msgs "$n" \
		--size "$size" --timeout 30000 >"$tmp/$name.client.out" \
		2>"$tmp/$name.client.err"
	cst=$?
	bench_stop 30
	[ $cst -eq 0 ] || die "$name: the client failed"
	[ $st -eq 0 ] || die "$name: the server exited with status $st"
	grep -q "^stats accepted $conns refused 0 closed $conns failed 0 " \
		"$out" || die "$name: the server did not serve every connection"

	if [ "$kind" = callgrind ]; then
		cg_count "$tmp/$name.cg"
	else
		perf_count "$tmp/$name.perf"
	fi
	[ -n "$count" ] || die "$name: no count in the $kind output"
	note "$name: $conns x $n messages" \
	     "$(sed -n 's/.*: ok/ok/p' "$tmp/$name.client.out"), $kind $count"
}

# ---- One mode --------------------------------------------------------------

# per_function MODE INCLUSIVE LABEL: "LABEL echo-MODE COST FUNCTION" for
# the $top functions that cost the most per message, self or inclusive
# (INCLUSIVE no or yes, then without those that hold the whole
# $ir_per_msg),
# from the two profiles' function lists.
# callgrind_annotate lists a function once per source file it has code
# from (a header's inline functions, or the same file named relative and
# absolute), so the lines are merged by function name: the self costs add
# up, and of the inclusive ones, which overlap, the largest is taken.
per_function() {
	for run in short long; do
		callgrind_annotate --inclusive="$2" --threshold=100 --auto=no \
			"$tmp/$1-$run.cg" 2>/dev/null |
		awk -v run=$run '
			/file:function/ { head = 1; next }
			/^-+$/ { if (head == 1) { head = 2; next } }
			head == 2 && /^ *[0-9,]+ *\(/ {
				n = $1; gsub(",", "", n)
				sub(/^ *[0-9,]+ *\( *[0-9.]+%\) +/, "")
				sub(/ \[[^]]*\]$/, "")
				sub(/^.*:/, "")
				print run "\t" n "\t" $0
			}'
	done | awk -F '\t' -v m="$dmsgs" -v incl="$2" -v all="$ir_per_msg" '
		{
			k = $3 SUBSEP $1
			if (incl == "no")
				ir[k] += $2
			else if ($2 > ir[k])
				ir[k] = $2
			fn[$3] = 1
		}
		END {
			for (f in fn) {
				d = (ir[f, "long"] - ir[f, "short"]) / m
				if (incl == "no" || d < all - 0.05)
					printf "%.1f\t%s\n", d, f
			}
		}' | LC_ALL=C sort -t "$(printf '\t')" -k1,1 -n -r |
	head -n "$top" |
	awk -F '\t' -v k="$3" -v m="echo-$1" '{ print k, m, $1, $2 }'
}

# libc_calls FILE: "NAME COUNT" for each C library wrapper of an I/O or
# wait system call that the callgrind profile FILE saw called.  Calls are
# counted on the profile's "calls=" lines, each after the "cfn=" line
# naming its callee; names are given once, as "(id) name", and later by
# their id alone.
libc_calls() {
	awk '
	/^c?fn=\(/ {
		id = $1
		sub(/^c?fn=/, "", id)
		if (NF > 1) {
			nm = $0
			sub(/^[^ ]* /, "", nm)
			name[id] = nm
		}
		if ($1 ~ /^cfn=/)
			callee = id
		next
	}
	/^calls=/ {
		n = $1
		sub(/^calls=/, "", n)
		calls[callee] += n
	}
	END {
		re = "^(read|readv|recv|recvfrom|recvmsg|write|writev|send|" \
		     "sendto|sendmsg|poll|ppoll|epoll_wait|epoll_pwait|" \
		     "select|io_uring_enter)$"
		for (id in calls)
			if (name[id] ~ re)
				print name[id], calls[id]
	}' "$1"
}

# per_call MODE: "calls_per_msg echo-MODE NAME COUNT" for each wrapper
# that libc_calls finds called per message in the profiles of MODE (not
# those called only at start-up or shutdown).
per_call() {
	{
		libc_calls "$tmp/$1-short.cg" | sed 's/^/short /'
		libc_calls "$tmp/$1-long.cg" | sed 's/^/long /'
	} | awk -v m="$dmsgs" -v k="echo-$1" '
		{ c[$2, $1] = $3; fn[$2] = 1 }
		END {
			for (f in fn) {
				d = (c[f, "long"] - c[f, "short"]) / m
				if (d >= 0.0005 || d <= -0.0005)
					printf "calls_per_msg %s %s %.3f\n",
					       k, f, d
			}
		}' | LC_ALL=C sort
}

# measure MODE: both counts for MODE, printed.
measure() {
	mode=$1
	n1=$msgs
	n2=$((3 * msgs))
	dmsgs=$((conns * (n2 - n1)))
	serve "$mode-short" "$n1" callgrind "$mode"
	ir1=$count
	serve "$mode-long" "$n2" callgrind "$mode"
	ir2=$count
	ir_per_msg=$(per_msg "$ir1" "$ir2" "$dmsgs" %.1f)
	echo "instr_per_msg echo-$mode $ir_per_msg"
	per_call "$mode"
	if [ -n "$keep" ]; then
		cp "$tmp/$mode-short.cg" "$keep/callgrind.$mode.short" &&
		cp "$tmp/$mode-long.cg" "$keep/callgrind.$mode.long" || exit 1
	fi
	if [ $use_perf = yes ]; then
		serve "$mode-perf-short" "$n1" perf "$mode"
		sc1=$count
		serve "$mode-perf-long" "$n2" perf "$mode"
		sc2=$count
		echo "syscalls_per_msg echo-$mode" \
		     "$(per_msg "$sc1" "$sc2" "$dmsgs" %.3f)"
	fi
	if [ "$top" -gt 0 ]; then
		per_function "$mode" no self_per_msg
		per_function "$mode" yes incl_per_msg
	fi
}

# ---- Main ------------------------------------------------------------------

note "$conns connections, $size-byte ping-pong, $msgs and $((3 * msgs))" \
     "messages each; server $server${on_cpu0:+ on CPU 0, client on CPU 1}"
for mode in $modes; do
	measure "$mode"
done
exit 0
