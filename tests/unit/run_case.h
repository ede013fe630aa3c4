/* The end of every unit test's main: its tests gathered into one test case and run as a suite. */
#ifndef TESTS_RUN_CASE_H
#define TESTS_RUN_CASE_H

#include <check.h>
#include <stddef.h>
#include <stdlib.h>

/* A test case named `name` holding tests (a NULL-terminated list), each run between setup and teardown
 * (either may be NULL). START_TEST's names are pointers to TTest, so the list is built inside main. */
static inline TCase *test_case(const char *name, void (*setup)(void), void (*teardown)(void),
			       const TTest *const tests[])
{
	TCase *tc = tcase_create(name);
	if (setup || teardown)
		tcase_add_checked_fixture(tc, setup, teardown);
	for (size_t i = 0; tests[i]; i++)
		tcase_add_test(tc, tests[i]);
	return tc;
}

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

/* test_case and run_case in one, for a suite of plain tests. */
static inline int run_tests(const char *suite, void (*setup)(void), void (*teardown)(void),
			    const TTest *const tests[])
{
	return run_case(suite, test_case(suite, setup, teardown, tests));
}

#endif
