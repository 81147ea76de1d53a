/*
 * src/posix/assert.c - the hosted assertion failure handler.
 *
 * The core's default handler (a weak symbol) traps silently, which is
 * right for a board with no console.  On a host the message matters more
 * than the last few instructions: print where the invariant broke, then
 * abort so a debugger, a core dump or the test harness takes over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <ptio/base.h>

void ptio_assert_fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "%s:%d: ptio assertion failed: %s\n", file, line,
		expr);
	fflush(stderr);
	abort();
}
