/* The tdb pair a refresh writes (cache/store.c, written front to back by cache/tdb_build.c):
 * tdb itself finds it whole (tdb_check), finds each record under both keys, reads it all back
 * as a restarted dird does, and changes it in a transaction as a change stream does; a write
 * that fails midway leaves the pair installed before it whole. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <tdb.h>
#include <unistd.h>

#include "record_json.h"
#include "run_case.h"
#include "store.h"

enum { N_USERS = 5000, N_GROUPS = 300 };
static char dir[] = "/tmp/dir-test-store-XXXXXX";

static struct dir_user *user(uint32_t i)
{
	char name[32];
	struct dir_user *u = calloc(1, sizeof(*u));
	snprintf(name, sizeof(name), "user%05u", i);
	u->name = strdup(name);
	u->uid = 10000 + i;
	u->gid = 500;
	u->gecos = strdup(i % 2 ? "Some One" : "");
	u->home = strdup("/home/x");
	u->shell = strdup("/bin/sh");
	u->domain = strdup("example");
	return u;
}

static struct dir_group *group(uint32_t i, uint32_t n_members)
{
	char name[32];
	struct dir_group *g = calloc(1, sizeof(*g));
	snprintf(name, sizeof(name), "group%03u", i);
	g->name = strdup(name);
	g->gid = 500 + i;
	g->domain = strdup("example");
	g->members = calloc(n_members + 1, sizeof(char *));
	for (uint32_t m = 0; m < n_members; m++) {
		snprintf(name, sizeof(name), "user%05u", m);
		g->members[m] = strdup(name);
	}
	g->n_members = n_members;
	return g;
}

static int check_whole(const char *file)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	struct tdb_context *t = tdb_open(path, 0, 0, O_RDONLY, 0);
	ck_assert_ptr_nonnull(t);
	int rc = tdb_check(t, NULL, NULL);
	tdb_close(t);
	return rc;
}

/* The JSON under key, as written for the record. */
static void assert_stored(enum store_kind kind, const char *key, const char *json)
{
	char *v = store_fetch(dir, kind, key);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, json);
	free(v);
}

START_TEST(refresh_files_are_tdbs_tdb_reads_and_changes)
{
	struct store_contents c = { .expires = 1234567890 };
	c.users = calloc(N_USERS, sizeof(*c.users));
	c.groups = calloc(N_GROUPS, sizeof(*c.groups));
	for (uint32_t i = 0; i < N_USERS; i++)
		c.users[c.n_users++] = user(i);
	for (uint32_t i = 0; i < N_GROUPS; i++)
		c.groups[c.n_groups++] = group(i, i == 0 ? 4000 : i % 7);
	/* A change stream's keys, written with the records (dird/sync_keep.c) */
	const struct store_extra extra[] = {
		{ STORE_USERS, "SYNC_POS_d/users", 16, "rid=001,csn=x", 13 },
		{ STORE_GROUPS, "SYNC_POS_d/groups", 17, "", 0 },
	};
	c.extra = extra;
	c.n_extra = 2;
	ck_assert_int_eq(store_write_tmp(dir, &c), 0);
	c.extra = NULL;
	c.n_extra = 0;
	ck_assert_int_eq(store_install(dir, STORE_USERS), 0);
	ck_assert_int_eq(store_install(dir, STORE_GROUPS), 0);
	ck_assert_int_eq(check_whole(STORE_USER_FILE), 0);
	ck_assert_int_eq(check_whole(STORE_GROUP_FILE), 0);
	ck_assert_int_eq(store_expiration(dir), 1234567890);
	for (uint32_t i = 0; i < N_USERS; i += 499) {
		char key[64], *json = record_user_to_json(c.users[i]);
		snprintf(key, sizeof(key), "NAME_%s", c.users[i]->name);
		assert_stored(STORE_USERS, key, json);
		snprintf(key, sizeof(key), "ID_%u", c.users[i]->uid);
		assert_stored(STORE_USERS, key, json);
		free(json);
	}
	char *json = record_group_to_json(c.groups[0]);
	assert_stored(STORE_GROUPS, "ID_500", json);
	free(json);
	assert_stored(STORE_USERS, "SYNC_POS_d/users", "rid=001,csn=x");
	assert_stored(STORE_GROUPS, "SYNC_POS_d/groups", "");

	struct store_contents back;
	char err[256];
	ck_assert_int_eq(store_load(dir, &back, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.n_users, N_USERS);
	ck_assert_uint_eq(back.n_groups, N_GROUPS);
	store_contents_free(&back);

	/* A change stream's batch: one user changed, one gone, one group new. */
	struct store_txn *t = store_txn_begin(dir);
	ck_assert_ptr_nonnull(t);
	free(c.users[7]->shell);
	c.users[7]->shell = strdup("/bin/a-much-longer-shell-than-before");
	ck_assert_int_eq(store_txn_put_user(t, c.users[7]), 0);
	ck_assert_int_eq(store_txn_delete(t, STORE_USERS, c.users[8]->name, c.users[8]->uid), 0);
	struct dir_group *g = group(N_GROUPS, 3);
	ck_assert_int_eq(store_txn_put_group(t, g), 0);
	ck_assert_int_eq(store_txn_commit(t), 0);
	ck_assert_int_eq(check_whole(STORE_USER_FILE), 0);
	ck_assert_int_eq(check_whole(STORE_GROUP_FILE), 0);
	json = record_user_to_json(c.users[7]);
	assert_stored(STORE_USERS, "ID_10007", json);
	free(json);
	ck_assert_ptr_null(store_fetch(dir, STORE_USERS, "NAME_user00008"));
	ck_assert_int_eq(store_load(dir, &back, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.n_users, N_USERS - 1);
	ck_assert_uint_eq(back.n_groups, N_GROUPS + 1);
	store_contents_free(&back);
	dir_group_destroy(g);
	store_contents_free(&c);
}
END_TEST

/* A refresh whose write fails midway (here the file size limit: a full disk is the same to
 * write(2)) leaves no temporary file and the installed pair as it was. */
START_TEST(failed_write_leaves_the_old_pair)
{
	struct store_contents small = { .expires = 1 }, big = { .expires = 2 };
	small.users = calloc(10, sizeof(*small.users));
	for (uint32_t i = 0; i < 10; i++)
		small.users[small.n_users++] = user(i);
	ck_assert_int_eq(store_write_tmp(dir, &small), 0);
	ck_assert_int_eq(store_install(dir, STORE_USERS), 0);
	ck_assert_int_eq(store_install(dir, STORE_GROUPS), 0);
	big.users = calloc(N_USERS, sizeof(*big.users));
	for (uint32_t i = 0; i < N_USERS; i++)
		big.users[big.n_users++] = user(1000 + i);
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit old, limit = { 512 * 1024, 512 * 1024 };
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	limit.rlim_max = old.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &limit), 0);
	int rc = store_write_tmp(dir, &big);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	ck_assert_int_eq(rc, -1);
	char tmp[256];
	snprintf(tmp, sizeof(tmp), "%s/%s%s", dir, STORE_USER_FILE, STORE_TMP_SUFFIX);
	ck_assert_int_ne(access(tmp, F_OK), 0);
	ck_assert_int_eq(check_whole(STORE_USER_FILE), 0);
	struct store_contents back;
	char err[256];
	ck_assert_int_eq(store_load(dir, &back, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.n_users, 10);
	ck_assert_int_eq(store_expiration(dir), 1);
	store_contents_free(&back);
	store_contents_free(&small);
	store_contents_free(&big);
}
END_TEST

/* A group as large as a directory may hold (here 70,000 members with names of 240
 * characters: 17 MB of JSON, as a million members of 16 characters) is written and read back
 * whole: a restarted dird that could not read a record it wrote discarded the whole cache. */
START_TEST(a_huge_group_is_read_back)
{
	struct store_contents c = { .expires = 3 }, back;
	c.groups = calloc(1, sizeof(*c.groups));
	struct dir_group *g = c.groups[c.n_groups++] = group(0, 0);
	enum { N = 70000 };
	free(g->members);
	g->members = calloc(N + 1, sizeof(char *));
	for (uint32_t m = 0; m < N; m++) {
		char name[256];
		snprintf(name, sizeof(name), "%0240u", m);
		g->members[g->n_members++] = strdup(name);
	}
	ck_assert_int_eq(store_write_tmp(dir, &c), 0);
	ck_assert_int_eq(store_install(dir, STORE_USERS), 0);
	ck_assert_int_eq(store_install(dir, STORE_GROUPS), 0);
	char err[256];
	ck_assert_msg(store_load(dir, &back, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(back.n_groups, 1);
	ck_assert_uint_eq(back.groups[0]->n_members, N);
	ck_assert_str_eq(back.groups[0]->members[N - 1], g->members[N - 1]);
	store_contents_free(&back);
	store_contents_free(&c);
}
END_TEST

/* Lines of /proc/self/maps naming a file of dir: a tdb closed is mapped no more. */
static int maps_of_dir(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	int n = 0;
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, dir) != NULL;
	fclose(f);
	return n;
}

static int maps_seen(const char *key, size_t key_len, const void *val, size_t len, void *arg)
{
	(void)key;
	(void)key_len;
	(void)val;
	(void)len;
	ck_assert_int_eq(maps_of_dir(), 0);
	++*(int *)arg;
	return 0;
}

START_TEST(a_transaction_that_grows_a_file_leaves_no_map)
{
	/* a stream's first batch, then one that grows the files many times over (libtdb left
	 * what it grew them by mapped after tdb_close: dird's memory, for good) */
	for (uint32_t round = 0; round < 2; round++) {
		struct store_txn *t = store_txn_begin(dir);
		ck_assert_ptr_nonnull(t);
		for (uint32_t i = 0; i < (round ? N_USERS : 10); i++) {
			struct dir_user *u = user(round * 10 + i);
			ck_assert_int_eq(store_txn_put_user(t, u), 0);
			dir_user_destroy(u);
		}
		ck_assert_int_eq(store_txn_commit(t), 0);
	}
	ck_assert_int_eq(maps_of_dir(), 0);
	/* nor is the file mapped while every record is read for a few keys */
	int seen = 0;
	ck_assert_int_eq(store_each_key(dir, STORE_USERS, "NAME_", maps_seen, &seen), 0);
	ck_assert_int_eq(seen, N_USERS + 10);
	char *v = store_fetch(dir, STORE_USERS, "NAME_user00011");
	ck_assert_ptr_nonnull(v);
	free(v);
	ck_assert_int_eq(maps_of_dir(), 0);
}
END_TEST

/* store_each_key reads the file forward (cache/tdb_scan.c): what it hands over is what tdb holds,
 * in a file that transactions have grown, shrunk and rewritten (free records, a recovery area,
 * values moved). */
struct keys_seen {
	char *key[4000], *val[4000];
	size_t len[4000];
	int n;
};

static int key_seen(const char *key, size_t key_len, const void *val, size_t len, void *arg)
{
	struct keys_seen *s = arg;
	ck_assert_int_lt(s->n, 4000);
	s->key[s->n] = strndup(key, key_len);
	s->val[s->n] = malloc(len + 1);
	memcpy(s->val[s->n], val, len);
	s->len[s->n++] = len;
	return 0;
}

static int count_prefixed(struct tdb_context *t, TDB_DATA key, TDB_DATA val, void *arg)
{
	(void)t;
	(void)val;
	if (key.dsize >= 5 && memcmp(key.dptr, "SYNC_", 5) == 0)
		++*(int *)arg;
	return 0;
}

START_TEST(each_key_reads_what_tdb_holds_after_transactions)
{
	char key[64], val[256];
	for (int round = 0; round < 3; round++) {
		struct store_txn *t = store_txn_begin(dir);
		ck_assert_ptr_nonnull(t);
		for (int i = 0; i < 3000; i++) {
			snprintf(key, sizeof(key), "SYNC_E_example/%d", i);
			if (round == 1 && i % 3 == 0) {
				ck_assert_int_eq(store_txn_unset(t, STORE_GROUPS, key), 0);
				continue;
			}
			int n = snprintf(val, sizeof(val), "%*d", 1 + (round * 97 + i) % 200, i);
			ck_assert_int_eq(store_txn_set(t, STORE_GROUPS, key, val, (size_t)n), 0);
		}
		ck_assert_int_eq(store_txn_commit(t), 0);
	}
	static struct keys_seen s;
	ck_assert_int_eq(store_each_key(dir, STORE_GROUPS, "SYNC_", key_seen, &s), 0);
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, "directoryservice_cache_group.tdb");
	struct tdb_context *t = tdb_open(path, 0, 0, O_RDONLY, 0);
	ck_assert_ptr_nonnull(t);
	int in_tdb = 0;
	ck_assert_int_ge(tdb_traverse_read(t, count_prefixed, &in_tdb), 0);
	ck_assert_int_eq(s.n, in_tdb);
	ck_assert_int_eq(s.n, 2000 + 1000); /* a third unset, then set again */
	for (int i = 0; i < s.n; i++) {
		TDB_DATA v = tdb_fetch(t, (TDB_DATA){ (unsigned char *)s.key[i], strlen(s.key[i]) });
		ck_assert_ptr_nonnull(v.dptr);
		ck_assert_uint_eq(v.dsize, s.len[i]);
		ck_assert_int_eq(memcmp(v.dptr, s.val[i], v.dsize), 0);
		free(v.dptr);
		free(s.key[i]);
		free(s.val[i]);
	}
	tdb_close(t);
}
END_TEST

/* A file tdb takes reads the same with dead space at its end (the 0 or 0x42 bytes a crash after
 * growing it leaves: tdb_check takes them); one whose record length was damaged to take in the
 * next record is never read short (tailers checked). */
static void keys_seen_free(struct keys_seen *s)
{
	for (int i = 0; i < s->n; i++) {
		free(s->key[i]);
		free(s->val[i]);
	}
	s->n = 0;
}

START_TEST(each_key_takes_dead_space_and_no_damaged_length)
{
	char key[64], val[64], path[256];
	struct store_txn *t = store_txn_begin(dir);
	ck_assert_ptr_nonnull(t);
	for (int i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "SYNC_X_example/%d", i);
		int n = snprintf(val, sizeof(val), "value %d", i);
		ck_assert_int_eq(store_txn_set(t, STORE_GROUPS, key, val, (size_t)n), 0);
	}
	ck_assert_int_eq(store_txn_commit(t), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, "directoryservice_cache_group.tdb");
	static struct keys_seen s;
	static unsigned char fill[8192];
	for (int round = 0; round < 2; round++) {
		memset(fill, round ? 0 : 0x42, sizeof(fill));
		int fd = open(path, O_WRONLY | O_APPEND);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, fill, sizeof(fill)), (ssize_t)sizeof(fill));
		close(fd);
		ck_assert_int_eq(store_each_key(dir, STORE_GROUPS, "SYNC_X_", key_seen, &s), 0);
		ck_assert_int_eq(s.n, 500);
		keys_seen_free(&s);
	}
	/* SYNC_X_example/250's length made to cover the record after it */
	FILE *f = fopen(path, "r+b");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	size_t size = (size_t)ftell(f);
	unsigned char *file = malloc(size);
	ck_assert_ptr_nonnull(file);
	rewind(f);
	ck_assert_uint_eq(fread(file, 1, size, f), size);
	const char *k = "SYNC_X_example/250";
	unsigned char *at = memmem(file, size, k, strlen(k));
	ck_assert_ptr_nonnull(at);
	uint32_t rec_len, next_len;
	memcpy(&rec_len, at - 24 + 4, 4);
	memcpy(&next_len, at + rec_len + 4, 4);
	uint32_t damaged = rec_len + 24 + next_len;
	ck_assert_int_eq(fseek(f, (long)(at - 24 + 4 - file), SEEK_SET), 0);
	ck_assert_uint_eq(fwrite(&damaged, 4, 1, f), 1);
	fclose(f);
	free(file);
	int rc = store_each_key(dir, STORE_GROUPS, "SYNC_X_", key_seen, &s);
	ck_assert_msg(rc == -1 || s.n == 500, "rc %d with %d of 500 keys", rc, s.n);
	keys_seen_free(&s);
}
END_TEST

int main(void)
{
	/* one directory for both tests: each installs the pair it then reads */
	if (!mkdtemp(dir))
		return 1;
	TCase *tc = tcase_create("store");
	tcase_add_test(tc, refresh_files_are_tdbs_tdb_reads_and_changes);
	tcase_add_test(tc, failed_write_leaves_the_old_pair);
	tcase_add_test(tc, a_huge_group_is_read_back);
	tcase_add_test(tc, a_transaction_that_grows_a_file_leaves_no_map);
	tcase_add_test(tc, each_key_reads_what_tdb_holds_after_transactions);
	tcase_add_test(tc, each_key_takes_dead_space_and_no_damaged_length);
	int rc = run_case("store", tc);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? rc : 1;
}
