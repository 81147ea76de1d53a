/*
 * test/runner.c - the one Check runner every test program links.
 *
 * Each test/check-<module>.c defines ptio_test_suite(), returning its
 * Check suite; this main runs it and exits non-zero on any failure, which
 * is what automake's test driver reads.  CK_FORK, CK_RUN_CASE and the rest
 * of Check's environment variables work as usual.
 */
#include <stdlib.h>
#include <check.h>
#include "test/helpers.h"

int main(void)
{
	SRunner *sr = srunner_create(ptio_test_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
