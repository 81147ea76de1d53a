#!/bin/sh
# test/fuzz/run.sh [SECONDS] - run every libFuzzer target for SECONDS
# (default 20) on a copy of its seed corpus.
#
# Run it from the top of a build tree configured with a clang that has
# libFuzzer (configure says "libFuzzer: yes"); it builds the targets
# with `make fuzz` first.  The corpora in the source tree are left as
# they are: each target works on a copy in a temporary directory.
#
# It prints one line per target,
#
#   fuzz-NAME PASS 1234567 executions in 20 s
#
# (FAIL instead of PASS when the target crashed, hung or ran out of
# memory: then libFuzzer's report and the saved input follow on stderr,
# and the temporary directory is kept), and exits 1 if any target
# failed, 77 if the targets cannot be built here.
set -u
secs=${1:-20}
here=$(cd "$(dirname "$0")" && pwd)
targets="lines readbuf writev fmt chat"

case $secs in
''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
if ! make -s fuzz >/dev/null; then
	echo "run.sh: cannot build the fuzz targets here (make fuzz)" >&2
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ptio-fuzz.XXXXXX") || exit 1
failed=0
for t in $targets; do
	mkdir "$tmp/$t" "$tmp/$t-artifacts"
	cp "$here/corpus/$t/"* "$tmp/$t/"
	# chat's lines go up to 1 KiB and beyond: let inputs grow past that.
	maxlen=4096
	[ "$t" = chat ] && maxlen=16384
	./test/fuzz/fuzz-$t -max_total_time="$secs" -print_final_stats=1 \
		-max_len=$maxlen -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$tmp/$t-artifacts/" "$tmp/$t" \
		>"$tmp/$t.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/$t.log")
	if [ $rc -eq 0 ]; then
		echo "fuzz-$t PASS ${execs:-?} executions in $secs s"
	else
		failed=1
		echo "fuzz-$t FAIL ${execs:-?} executions, exit status $rc"
		{
			echo "=== fuzz-$t: libFuzzer's report ($tmp/$t.log)"
			grep -v -E '^#[0-9]+' "$tmp/$t.log" | tail -n 40
			for a in "$tmp/$t-artifacts/"*; do
				[ -f "$a" ] || continue
				echo "=== $a"
				od -A d -t x1 "$a" | head -n 20
			done
		} >&2
	fi
done
if [ $failed -eq 0 ]; then
	rm -rf "$tmp"
else
	echo "run.sh: inputs and logs kept in $tmp" >&2
fi
exit $failed
