#!/bin/sh
# test/exports-test.sh - the shared library exports ptio's public names
# and none of its internal ptio__ ones.  Run from the top build directory
# by `make check`; skipped (77) where no shared library was built.

set -u
lib=.libs/libptio.so
[ -f "$lib" ] || { echo "SKIP: no $lib"; exit 77; }
nm=${NM:-nm}
syms=$($nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ { print $3 }')
internal=$(printf '%s\n' "$syms" | grep '^ptio__' || true)
if [ -n "$internal" ]; then
	echo "FAIL: internal names exported:"
	printf '%s\n' "$internal"
	exit 1
fi
for name in ptio_loop_run ptio_task_start ptio_task_spend ptio_read_exact \
	ptio_readiness_name ptio_fd_open; do
	printf '%s\n' "$syms" | grep -qx "$name" ||
		{ echo "FAIL: $name is not exported"; exit 1; }
done
other=$(printf '%s\n' "$syms" | grep -v '^ptio_' || true)
if [ -n "$other" ]; then
	echo "FAIL: names outside ptio_ exported:"
	printf '%s\n' "$other"
	exit 1
fi
echo "PASS: $(printf '%s\n' "$syms" | wc -l) public names, no internal one"
