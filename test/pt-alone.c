/*
 * test/pt-alone.c - a machine written with nothing but ptio/pt.h, so that
 * the header is known to compile on its own (test/check-pt runs it).
 */
#include <ptio/pt.h>

ptio_ssize pt_alone_step(int *n);
ptio_ssize pt_alone(ptio_pt *pt, ptio_pt *child, int *n);

/* Pending until *N reaches 3, counting each call. */
ptio_ssize pt_alone_step(int *n)
{
	return ++*n < 3 ? PTIO_PENDING : *n;
}

/* Awaits pt_alone_step, then waits for *N to be even, then finishes with
 * *N; CHILD is unused but shows a nested continuation is only a pt. */
ptio_ssize pt_alone(ptio_pt *pt, ptio_pt *child, int *n)
{
	ptio_ssize r = 0;

	(void)child;
	PTIO_BEGIN(pt);
	PTIO_AWAIT(pt, r, pt_alone_step(n));
	PTIO_TRY(pt, r);
	PTIO_WAIT_UNTIL(pt, ++*n % 2 == 0);
	PTIO_END_WITH(pt, *n);
}
