#!/bin/sh
# src/port/size-report.sh - what `make size` prints: the flash and RAM cost
# of ptio's core on Cortex-M0 and Cortex-M4, by module, and the sizeof of
# its objects on a 32-bit target.
#
# usage: size-report.sh CC SRCDIR BUILDDIR CORE-SOURCE...
#
# Each core file is compiled on its own at -Os, freestanding, as firmware
# would build it, and `size` reads text (code and read-only data), data and
# bss from the object.  A module's cost is the sum over its files: what
# firmware pays when it uses every function of the module (the linker's
# --gc-sections drops what it does not use).  text* is text again with
# -DPTIO_CONF_NO_ASSERT, i.e. without the internal invariant checks.
# The sizeof values come from src/port/size-check.c (which also locks them
# with static assertions), read back with nm: nothing runs on the target.

set -u

cc=$1
srcdir=$2
builddir=$3
shift 3

tool() {
	t=${cc%gcc}$1
	if command -v "$t" >/dev/null 2>&1; then
		echo "$t"
	else
		"$cc" -print-prog-name="$1"
	fi
}
size_tool=$(tool size)
nm_tool=$(tool nm)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ptio-size.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# -fmacro-prefix-map keeps the assertions' file names (which count in
# text) the same wherever the source tree is.
cflags="-std=gnu11 -ffreestanding -Os -fmacro-prefix-map=$srcdir/="
cflags="$cflags -I$builddir/include -I$srcdir/include -I$srcdir/src"

# The module a core file belongs to; modules print in this order.
# "loop + timers" is the scheduler: the run queue, task life cycle and
# deadlines, the loop's iteration and the timer heap, i.e. what Contiki-NG's
# process.c and etimer.c do, which the target compares it with.  The
# readiness sources (the readiness cache and the two waiter slots of every
# stream) are I/O state Contiki has no counterpart of; they are their own
# row, and the targets also print the sum of both.
modules="loop + timers|readiness sources|budget + op|readbuf"
modules="$modules|provided machines|select + children"
modules="$modules|synchronisation|buffered adapters|formatting"
modules="$modules|errors + helpers"
modules="$modules|port backend|other"
module_of() {
	case ${1##*/} in
	loop.c | timer.c) echo "loop + timers" ;;
	io-source.c) echo "readiness sources" ;;
	loop-coop.c) echo "budget + op" ;;
	readbuf.c) echo "readbuf" ;;
	io.c | ops-*.c) echo "provided machines" ;;
	compose.c) echo "select + children" ;;
	sync*.c) echo "synchronisation" ;;
	bufread*.c | adapters*.c | bytes.c) echo "buffered adapters" ;;
	fmt.c) echo "formatting" ;;
	err.c | base.c) echo "errors + helpers" ;;
	port.c) echo "port backend" ;;
	*) echo "other" ;;
	esac
}

# measure CPU EXTRA-FLAGS FILE...: one line per file,
# "module<TAB>file<TAB>text<TAB>data<TAB>bss".
measure() {
	cpu=$1 extra=$2
	shift 2
	for f in "$@"; do
		o=$tmp/$(basename "$f" .c).o
		# shellcheck disable=SC2086 # flag lists are split on purpose
		if ! $cc -mthumb -mcpu="$cpu" $cflags $extra -c "$f" -o "$o"
		then
			echo "size-report: cannot compile $f for $cpu" >&2
			exit 1
		fi
		printf '%s\t%s\t' "$(module_of "$f")" "${f##*/}"
		$size_tool "$o" | awk 'NR == 2 { print $1 "\t" $2 "\t" $3 }'
	done
}

# table WITH WITHOUT: the per-module table of one CPU.
table() {
	awk -F '\t' -v order="$modules" '
		FNR == NR { nt[$1] += $3; next }
		{
			t[$1] += $3; d[$1] += $4; b[$1] += $5
			f[$1] = f[$1] (f[$1] == "" ? "" : " ") $2
		}
		END {
			fmt = "  %-18s %6s %6s %6s %7s  %s\n"
			printf fmt, "module", "text", "data", "bss", "text*", "files"
			n = split(order, m, "|")
			for (i = 1; i <= n; i++) {
				k = m[i]
				if (!(k in t))
					continue
				printf fmt, k, t[k], d[k], b[k], nt[k], f[k]
				tt += t[k]; td += d[k]; tb += b[k]; tn += nt[k]
			}
			printf fmt, "total", tt, td, tb, tn, ""
		}' "$2" "$1"
}

# module_text MODULE FILE: the text of MODULE in a measure output.
module_text() {
	awk -F '\t' -v m="$1" '$1 == m { t += $3 } END { print t + 0 }' "$2"
}

echo "ptio core, $($cc --version | head -n 1), -Os -ffreestanding, bytes"
for cpu in cortex-m0 cortex-m4; do
	measure "$cpu" "" "$@" >"$tmp/$cpu-with" || exit 1
	measure "$cpu" -DPTIO_CONF_NO_ASSERT "$@" >"$tmp/$cpu-without" ||
		exit 1
	echo
	echo "$cpu (-mcpu=$cpu -mthumb)"
	table "$tmp/$cpu-with" "$tmp/$cpu-without"
done

# sizeof on the 32-bit target, from the symbols of size-check.c.
# shellcheck disable=SC2086
if ! $cc -mthumb -mcpu=cortex-m0 $cflags -DPTIO_SIZE_REPORT \
	-c "$srcdir/src/port/size-check.c" -o "$tmp/size-check.o"; then
	echo "size-report: src/port/size-check.c's static assertions failed" >&2
	exit 1
fi
$nm_tool -S "$tmp/size-check.o" | awk '
	function hex(h,   i, v) {
		v = 0
		for (i = 1; i <= length(h); i++)
			v = v * 16 + index("0123456789abcdef",
					   tolower(substr(h, i, 1))) - 1
		return v
	}
	$4 ~ /^ptio_sizeof_/ { sub(/^ptio_sizeof_/, "", $4); print $4, hex($2) }
' >"$tmp/sizes"
sizeof() {
	awk -v k="$1" '$1 == k { print $2 }' "$tmp/sizes"
}
echo
echo "sizeof on a 32-bit target (locked by src/port/size-check.c)"
for k in task timed_task op source port_source loop port_backend \
	waiter notify sem chan port_chan; do
	printf '  struct ptio_%-13s %3d\n' "$k" "$(sizeof $k)"
done

verdict() {
	if [ "$1" -lt "$2" ]; then echo met; else echo "NOT met"; fi
}
lt=$(module_text "loop + timers" "$tmp/cortex-m0-with")
lt_na=$(module_text "loop + timers" "$tmp/cortex-m0-without")
st=$(module_text "readiness sources" "$tmp/cortex-m0-with")
trio=$(($(sizeof task) + $(sizeof op) + $(sizeof source)))
trio_timed=$(($(sizeof timed_task) + $(sizeof op) + $(sizeof source)))
echo
echo "targets"
echo "  loop + timers text on Cortex-M0: $lt bytes" \
	"($lt_na without assertions), target < 1024: $(verdict "$lt" 1024)"
echo "  (with the readiness sources, loop + timers + sources: $((lt + st))" \
	"bytes)"
echo "  task + op + source: $trio bytes, target < 48: $(verdict "$trio" 48)"
echo "  (a task that sleeps, ptio_timed_task + op + source: $trio_timed bytes)"
