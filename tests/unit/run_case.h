/* The end of every unit test's main: its one test case run as a suite of that name. */
#ifndef TESTS_RUN_CASE_H
#define TESTS_RUN_CASE_H

#include <check.h>
#include <stdlib.h>

/* Runs tc (as suite `suite`), reporting each failure; the exit status: failure if any failed. */
static inline int run_case(const char *suite, TCase *tc)
{
	Suite *s = suite_create(suite);
	suite_add_tcase(s, tc);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
