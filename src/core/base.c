/*
 * src/core/base.c - the default assertion failure handler (ptio/base.h).
 */
#include <ptio/base.h>

/* On bare metal the default stops the machine where it stands, which a
 * debugger shows and a watchdog resets; it is weak so that a board can
 * print something first.  A hosted build has no default here: its one
 * definition is in src/posix/assert.c, so a static link cannot pick the
 * silent trap over the one that prints. */
#if !defined(__STDC_HOSTED__) || !__STDC_HOSTED__
__attribute__((weak)) void ptio_assert_fail(const char *file, int line,
					    const char *expr)
{
	(void)file;
	(void)line;
	(void)expr;
	__builtin_trap();
}
#endif
