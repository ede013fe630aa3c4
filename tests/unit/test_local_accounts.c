#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "local_accounts.h"

static char dir[] = "/tmp/dir-test-local-XXXXXX";
static char passwd[600], group[600];

/* A gecos field of n letters. */
static char *long_gecos(size_t n)
{
	char *s = malloc(n + 1);
	ck_assert_ptr_nonnull(s);
	memset(s, 'g', n);
	s[n] = '\0';
	return s;
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(passwd, sizeof(passwd), "%s/passwd", dir);
	snprintf(group, sizeof(group), "%s/group", dir);
	char *g5 = long_gecos(5000), *g20 = long_gecos(20000), *g100 = long_gecos(100000);
	FILE *f = fopen(passwd, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "root:x:0:0:root:/root:/bin/bash\n"
		   "five:x:1001:1001:%s:/home/five:/bin/sh\n"
		   "twenty:x:1002:1002:%s:/home/twenty:/bin/sh\n"
		   "hundred:x:1003:1003:%s:/home/hundred:/bin/sh\n"
		   "# comment:x:1:1::/:/bin/sh\n"
		   "\n"
		   "  indented:x:1004:1004::/:/bin/sh\n"
		   "+compat::::::\n"
		   "+\n"
		   "noid:x:abc:1005::/:/bin/sh\n"
		   "last:x:4242:4242:after the long lines:/home/last:/bin/sh", g5, g20, g100);
	fclose(f);
	f = fopen(group, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "root:x:0:\nsudo:x:27:%s\nstaff:x:3000:\n", g20);
	fclose(f);
	free(g5);
	free(g20);
	free(g100);
}

static void teardown(void)
{
	unlink(passwd);
	unlink(group);
	rmdir(dir);
	strcpy(dir + strlen(dir) - 6, "XXXXXX");
}

START_TEST(test_any_line_length)
{
	struct local_accounts a;
	char err[512];
	ck_assert_int_eq(local_accounts_load_files(&a, passwd, group, err, sizeof(err)), 0);
	const char *names[] = { "root", "five", "twenty", "hundred", "indented", "compat", "noid", "last" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ck_assert_msg(local_set_has_name(&a.users, names[i]), "%s is local", names[i]);
	ck_assert(!local_set_has_name(&a.users, "# comment"));
	ck_assert(!local_set_has_name(&a.users, "alice"));
	ck_assert(local_set_has_id(&a.users, 4242));
	ck_assert(local_set_has_id(&a.users, 0));
	ck_assert(!local_set_has_id(&a.users, 1)); /* the comment's */
	ck_assert(local_set_has_name(&a.groups, "staff")); /* after a 20,000-byte member list */
	ck_assert(local_set_has_id(&a.groups, 3000));
	ck_assert_int_eq(local_accounts_user_clash(&a, "last", 20001, 20000), LOCAL_CLASH_NAME);
	ck_assert_int_eq(local_accounts_user_clash(&a, "alice", 4242, 20000), LOCAL_CLASH_ID);
	ck_assert_int_eq(local_accounts_user_clash(&a, "alice", 20001, 27), LOCAL_CLASH_ID);
	ck_assert_int_eq(local_accounts_user_clash(&a, "alice", 20001, 20000), LOCAL_CLASH_NONE);
	ck_assert_int_eq(local_accounts_group_clash(&a, "wheel", 3000), LOCAL_CLASH_ID);
	ck_assert_int_eq(local_accounts_group_clash(&a, "sudo", 5000), LOCAL_CLASH_NAME);
	local_accounts_free(&a);
}
END_TEST

START_TEST(test_one_name)
{
	char err[512];
	ck_assert_int_eq(local_user_lookup(passwd, "last", err, sizeof(err)), 1);
	ck_assert_int_eq(local_user_lookup(passwd, "hundred", err, sizeof(err)), 1);
	ck_assert_int_eq(local_user_lookup(passwd, "alice", err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_unreadable_is_doubt)
{
	char err[512] = "", missing[700];
	snprintf(missing, sizeof(missing), "%s/none", dir);
	ck_assert_int_eq(local_user_lookup(missing, "alice", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot read"));
	struct local_accounts a;
	ck_assert_int_eq(local_accounts_load_files(&a, passwd, missing, err, sizeof(err)), -1);
	ck_assert_int_eq((int)a.users.n_names, 0);
	/* a directory reads as an error, not as an empty file */
	ck_assert_int_eq(local_user_lookup(dir, "alice", err, sizeof(err)), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("local_accounts");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_any_line_length);
	tcase_add_test(tc, test_one_name);
	tcase_add_test(tc, test_unreadable_is_doubt);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
