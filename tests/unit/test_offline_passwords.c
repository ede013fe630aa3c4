/* Passwords for offline logins: a password that worked is accepted offline, others are not,
 * and an old one expires. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tdb.h>
#include <time.h>
#include <unistd.h>

#include "offline_passwords.h"
#include "run_case.h"

static char dir[] = "/tmp/dir-cred-XXXXXX";

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/credentials.tdb", dir);
	unlink(path);
	rmdir(dir);
	strcpy(dir, "/tmp/dir-cred-XXXXXX");
}

START_TEST(stored_password_matches)
{
	offline_password_remember(dir, "alice", "s3cret");
	ck_assert_int_eq(offline_password_check(dir, "alice", "s3cret", 0), OFFLINE_PASSWORD_MATCH);
	ck_assert_int_eq(offline_password_check(dir, "alice", "s3cret ", 0), OFFLINE_PASSWORD_MISMATCH);
	ck_assert_int_eq(offline_password_check(dir, "alice", "", 0), OFFLINE_PASSWORD_MISMATCH);
	ck_assert_int_eq(offline_password_check(dir, "bob", "s3cret", 0), OFFLINE_PASSWORD_NONE);
}
END_TEST

START_TEST(file_is_private_and_hashed)
{
	offline_password_remember(dir, "alice", "s3cret");
	char path[256];
	snprintf(path, sizeof(path), "%s/credentials.tdb", dir);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	char *data = malloc((size_t)st.st_size);
	FILE *f = fopen(path, "r");
	size_t n = fread(data, 1, (size_t)st.st_size, f);
	fclose(f);
	ck_assert_ptr_null(memmem(data, n, "s3cret", 6));
	ck_assert_ptr_nonnull(memmem(data, n, "$y$", 3)); /* yescrypt */
	free(data);
}
END_TEST

START_TEST(new_password_replaces_old)
{
	offline_password_remember(dir, "alice", "old");
	offline_password_remember(dir, "alice", "new");
	ck_assert_int_eq(offline_password_check(dir, "alice", "old", 0), OFFLINE_PASSWORD_MISMATCH);
	ck_assert_int_eq(offline_password_check(dir, "alice", "new", 0), OFFLINE_PASSWORD_MATCH);
	offline_password_forget(dir, "alice");
	ck_assert_int_eq(offline_password_check(dir, "alice", "new", 0), OFFLINE_PASSWORD_NONE);
}
END_TEST

/* Rewrites alice's record as if it were stored `days_ago`. */
static void age_record(int days_ago)
{
	char path[256], rec[512];
	snprintf(path, sizeof(path), "%s/credentials.tdb", dir);
	TDB_CONTEXT *t = tdb_open(path, 0, TDB_DEFAULT, O_RDWR, 0600);
	TDB_DATA key = { (unsigned char *)"alice", 5 };
	TDB_DATA v = tdb_fetch(t, key);
	ck_assert_ptr_nonnull(v.dptr);
	const char *hash = memchr(v.dptr, ' ', v.dsize);
	int n = snprintf(rec, sizeof(rec), "%lld%.*s", (long long)time(NULL) - days_ago * 86400LL,
			 (int)(v.dsize - (size_t)(hash - (char *)v.dptr)), hash);
	TDB_DATA nv = { (unsigned char *)rec, (size_t)n };
	ck_assert_int_eq(tdb_store(t, key, nv, TDB_REPLACE), 0);
	free(v.dptr);
	tdb_close(t);
}

START_TEST(old_credentials_expire)
{
	offline_password_remember(dir, "alice", "s3cret");
	age_record(3);
	ck_assert_int_eq(offline_password_check(dir, "alice", "s3cret", 4), OFFLINE_PASSWORD_MATCH);
	ck_assert_int_eq(offline_password_check(dir, "alice", "s3cret", 2), OFFLINE_PASSWORD_NONE);
	ck_assert_int_eq(offline_password_check(dir, "alice", "s3cret", 0), OFFLINE_PASSWORD_MATCH);
}
END_TEST

START_TEST(damaged_record_is_no_credential)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/credentials.tdb", dir);
	const char *bad[] = { "", "123", "x $y$abc", "123 nothash", "-5", "123 $" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* Closed before the check: tdb allows one opener per process. */
		TDB_CONTEXT *t = tdb_open(path, 0, TDB_DEFAULT, O_RDWR | O_CREAT, 0600);
		TDB_DATA key = { (unsigned char *)"alice", 5 };
		TDB_DATA v = { (unsigned char *)bad[i], strlen(bad[i]) };
		ck_assert_int_eq(tdb_store(t, key, v, TDB_REPLACE), 0);
		tdb_close(t);
		enum offline_password c = offline_password_check(dir, "alice", "x", 0);
		ck_assert_msg(c != OFFLINE_PASSWORD_MATCH, "case %zu matched", i);
	}
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		stored_password_matches, file_is_private_and_hashed, new_password_replaces_old,
		old_credentials_expire, damaged_record_is_no_credential, NULL
	};
	return run_tests("offline_passwords", setup, teardown, tests);
}
