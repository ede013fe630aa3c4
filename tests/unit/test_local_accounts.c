#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "local_accounts.h"
#include "run_case.h"

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

/* Ids as glibc's files module reads them (strtoul, then a range check). */
START_TEST(test_ids_as_glibc_reads_them)
{
	char ids[700];
	snprintf(ids, sizeof(ids), "%s/ids", dir);
	FILE *f = fopen(ids, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "spaced:x: 1005:1::/:/bin/sh\n"
		   "tabbed:x:\t1006:1::/:/bin/sh\n"
		   "plus:x:+1007:1::/:/bin/sh\n"
		   "zeros:x:000000000000001008:1::/:/bin/sh\n"
		   "minuszero:x:-0:1::/:/bin/sh\n"
		   "minus:x:-5:1::/:/bin/sh\n"
		   "trailing:x:1009 :1::/:/bin/sh\n"
		   "over:x:4294968306:1::/:/bin/sh\n"
		   "nodigits:x:+:1::/:/bin/sh\n");
	fclose(f);
	struct local_accounts a;
	char err[512];
	ck_assert_int_eq(local_accounts_load_files(&a, ids, ids, err, sizeof(err)), 0);
	const uint32_t taken[] = { 1005, 1006, 1007, 1008, 0 };
	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++)
		ck_assert_msg(local_set_has_id(&a.users, taken[i]), "uid %u is local", taken[i]);
	ck_assert_int_eq((int)a.users.n_ids, 5); /* -5, "1009 ", 2^32 + 1010 and "+": none */
	ck_assert(local_set_has_id(&a.groups, 1007)); /* the same reader for /etc/group */
	local_accounts_free(&a);
	unlink(ids);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		test_any_line_length, test_one_name, test_unreadable_is_doubt, test_ids_as_glibc_reads_them, NULL
	};
	return run_tests("local_accounts", setup, teardown, tests);
}
