/* The worker's queue of names and ids to read again (reclaim.c): one of each waits, the
 * domains to skip and the flags of two merge, a full queue refuses (its caller falls back on a
 * full refresh), a raced one is queued again a few times only, not counted while a refresh
 * runs, then left to a full refresh; and dirctl cache expire while a complete batch holds a copy of db (cache_expire.c):
 * applied again to the copy once it is db; RECLAIM_FILE: what a dird saves (the local accounts
 * it filtered by, its queue, the one being read) is queued by the next where it is not local any
 * more, with its flags; a damaged file queues what it holds whole and asks for a full refresh. */
#include <check.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileutil.h"

#include "cache_expire.h"
#include "local_accounts.h"
#include "db.h"
#include "protocol.h"
#include "reclaim.h"
#include "run_case.h"

static struct dird d;

static void setup(void)
{
	memset(&d, 0, sizeof(d));
	pthread_cond_init(&d.work_cond, NULL);
	db_init(&d.db);
}

static void teardown(void)
{
	struct reclaim *r;
	while ((r = reclaim_take_locked(&d)))
		reclaim_free(r);
	cache_expire_forget_locked(&d);
	db_free(&d.db);
	pthread_cond_destroy(&d.work_cond);
}

START_TEST(one_of_each_waits)
{
	ck_assert(reclaim_queue_locked(&d, DIR_OP_GETPWNAM, "alice", 0, 1, 0));
	ck_assert(reclaim_queue_locked(&d, DIR_OP_GETPWNAM, "alice", 0, 2, RECLAIM_GROUPS));
	ck_assert(reclaim_queue_locked(&d, DIR_OP_GETPWUID, NULL, 30001, 1, 0));
	ck_assert(reclaim_queue_locked(&d, DIR_OP_GETGRNAM, "alice", 0, 1, 0));
	ck_assert_uint_eq(d.reclaim_len, 3);
	struct reclaim *r = reclaim_take_locked(&d);
	ck_assert_str_eq(r->name, "alice");
	ck_assert_uint_eq(r->op, DIR_OP_GETPWNAM);
	ck_assert_uint_eq(r->skip_domain, SIZE_MAX); /* two domains' removals: ask both */
	ck_assert_uint_eq(r->flags, RECLAIM_GROUPS);
	reclaim_free(r);
	r = reclaim_take_locked(&d);
	ck_assert_ptr_null(r->name);
	ck_assert_uint_eq(r->id, 30001);
	ck_assert_uint_eq(r->skip_domain, 1);
	reclaim_free(r);
	ck_assert_uint_eq(d.reclaim_len, 1);
	reclaim_ask_all_locked(&d); /* a reload: the domains are new */
	r = reclaim_take_locked(&d);
	ck_assert_str_eq(r->name, "alice");
	ck_assert_uint_eq(r->skip_domain, SIZE_MAX);
	reclaim_free(r);
}
END_TEST

START_TEST(a_full_queue_refuses)
{
	for (uint32_t i = 0; i < RECLAIM_MAX; i++)
		ck_assert(reclaim_queue_locked(&d, DIR_OP_GETPWUID, NULL, 20000 + i, SIZE_MAX, 0));
	ck_assert(!reclaim_queue_locked(&d, DIR_OP_GETPWUID, NULL, 1, SIZE_MAX, 0));
	ck_assert(reclaim_queue_locked(&d, DIR_OP_GETPWUID, NULL, 20000, SIZE_MAX, 0)); /* waits */
	ck_assert_uint_eq(d.reclaim_len, RECLAIM_MAX);
}
END_TEST

START_TEST(raced_ones_are_tried_a_few_times)
{
	ck_assert(reclaim_queue_locked(&d, DIR_OP_GETPWNAM, "bob", 0, SIZE_MAX, 0));
	d.refreshing = true; /* not counted */
	for (int i = 0; i < 10; i++)
		ck_assert(!reclaim_retry_locked(&d, reclaim_take_locked(&d)));
	ck_assert_uint_eq(d.reclaim_len, 1);
	d.refreshing = false;
	ck_assert(!reclaim_retry_locked(&d, reclaim_take_locked(&d)));
	ck_assert(!reclaim_retry_locked(&d, reclaim_take_locked(&d)));
	ck_assert_uint_eq(d.reclaim_len, 1);
	/* the third: given up, left to a full refresh (the worker starts it) */
	ck_assert(reclaim_retry_locked(&d, reclaim_take_locked(&d)));
	ck_assert_uint_eq(d.reclaim_len, 0);
	ck_assert_ptr_null(reclaim_take_locked(&d));
}
END_TEST

static struct dir_user *user(const char *name, uint32_t uid)
{
	struct dir_user *u = calloc(1, sizeof(*u));
	ck_assert_ptr_nonnull(u);
	u->name = strdup(name);
	u->uid = uid;
	u->gid = 20000;
	u->domain = strdup("b");
	u->fetched = 1000;
	return u;
}

START_TEST(an_expire_meanwhile_goes_into_the_copy)
{
	ck_assert_int_eq(db_add_user(&d.db, user("bea", 30003)), 0);
	d.refreshing = true; /* a complete batch took its copy */
	ck_assert_uint_eq(cache_expire_locked(&d, 0, "bea", 0), DIR_OK);
	ck_assert_ptr_null(db_user_by_name(&d.db, "bea"));
	ck_assert_uint_eq(cache_expire_locked(&d, 0, "nobody-here", 0), DIR_NOTFOUND);
	db_free(&d.db); /* the batch's copy, taken before the expire, is db now */
	db_init(&d.db);
	ck_assert_int_eq(db_add_user(&d.db, user("bea", 30003)), 0);
	ck_assert_int_eq(db_add_user(&d.db, user("dave", 30002)), 0);
	d.refreshing = false;
	ck_assert(cache_expire_replay_locked(&d));
	ck_assert_ptr_null(db_user_by_name(&d.db, "bea"));
	ck_assert_ptr_nonnull(db_user_by_name(&d.db, "dave"));
	ck_assert(!cache_expire_replay_locked(&d)); /* forgotten once applied */
}
END_TEST

START_TEST(with_entry_ttl_it_is_marked_and_kept_only_while_a_copy_is_held)
{
	d.cfg.entry_ttl = 600;
	ck_assert_int_eq(db_add_user(&d.db, user("bea", 30003)), 0);
	ck_assert_uint_eq(cache_expire_locked(&d, 0, NULL, 30003), DIR_OK);
	ck_assert_uint_eq(db_user_by_uid(&d.db, 30003)->fetched, 1);
	db_user_by_uid(&d.db, 30003)->fetched = 1000;
	ck_assert(!cache_expire_replay_locked(&d)); /* no copy was held: nothing kept */
	d.refreshing = true;
	ck_assert_uint_eq(cache_expire_locked(&d, 0, NULL, 30003), DIR_OK);
	db_user_by_uid(&d.db, 30003)->fetched = 1000; /* as the copy has it */
	cache_expire_forget_locked(&d);	     /* another batch took its copy since */
	ck_assert(!cache_expire_replay_locked(&d));
	ck_assert_uint_eq(db_user_by_uid(&d.db, 30003)->fetched, 1000);
}
END_TEST

static char dir_template[] = "/tmp/test_reclaim_XXXXXX";

static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", d.cfg.cache_dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void load_accounts(struct local_accounts *a, const char *passwd, const char *group)
{
	write_file("passwd", passwd);
	write_file("group", group);
	char p[256], g[256], err[256];
	snprintf(p, sizeof(p), "%s/passwd", d.cfg.cache_dir);
	snprintf(g, sizeof(g), "%s/group", d.cfg.cache_dir);
	ck_assert_int_eq(local_accounts_load_files(a, p, g, err, sizeof(err)), 0);
}

static struct reclaim *next_one(void)
{
	struct reclaim *r = reclaim_take_locked(&d);
	ck_assert_ptr_nonnull(r);
	d.reclaim_reading = NULL;
	return r;
}

static void expect(uint32_t op, const char *name, uint32_t id, unsigned flags)
{
	struct reclaim *r = next_one();
	ck_assert_uint_eq(r->op, op);
	if (name)
		ck_assert_str_eq(r->name, name);
	else
		ck_assert_uint_eq(r->id, id);
	ck_assert_uint_eq(r->flags, flags);
	ck_assert_uint_eq(r->skip_domain, SIZE_MAX);
	reclaim_free(r);
}

START_TEST(the_next_dird_reads_what_is_not_local_any_more)
{
	d.cfg.cache_dir = mkdtemp(dir_template);
	ck_assert_ptr_nonnull(d.cfg.cache_dir);
	struct local_accounts then, now;
	load_accounts(&then, "carol:x:4601:4601::/:/bin/sh\nkeep:x:4700:4700::/:/bin/sh\n",
		      "devs:x:4603:\n");
	ck_assert(reclaim_queue_locked(&d, DIR_OP_GETPWNAM, "reading", 0, 1, RECLAIM_GROUPS));
	ck_assert(reclaim_queue_locked(&d, DIR_OP_GETGRGID, NULL, 20000, 1, 0));
	struct reclaim *reading = reclaim_take_locked(&d); /* the worker's, not settled */
	ck_assert(reclaim_save_locked(&d, &then));
	ck_assert(!d.reclaim_unsaved);
	reclaim_done_locked(&d, reading);
	ck_assert(d.reclaim_unsaved && !d.reclaim_reading);
	struct reclaim *r;
	while ((r = reclaim_take_locked(&d)))
		reclaim_free(r);
	d.reclaim_reading = NULL;

	/* carol, uid 4601 and devs went; keep (4700) and gid 4603 stayed */
	load_accounts(&now, "keep:x:4700:4700::/:/bin/sh\n", "other:x:4603:\n");
	ck_assert(reclaim_load_locked(&d, &now));
	expect(DIR_OP_GETPWNAM, "carol", 0, RECLAIM_GROUPS);
	expect(DIR_OP_GETPWUID, NULL, 4601, RECLAIM_GROUPS);
	expect(DIR_OP_GETGRNAM, "devs", 0, 0);
	expect(DIR_OP_GETPWNAM, "reading", 0, RECLAIM_GROUPS);
	expect(DIR_OP_GETGRGID, NULL, 20000, 0);
	ck_assert_ptr_null(reclaim_take_locked(&d));

	/* cut short: what it holds whole is queued, and a full refresh is asked for */
	char path[256], *data;
	size_t len;
	snprintf(path, sizeof(path), "%s/%s", d.cfg.cache_dir, RECLAIM_FILE);
	ck_assert_int_eq(file_read(path, 1 << 20, &data, &len, NULL), 0);
	ck_assert_int_eq(truncate(path, (off_t)len - 3), 0);
	ck_assert(!reclaim_load_locked(&d, &now));
	ck_assert_uint_eq(d.reclaim_len, 4);
	/* none at all: nothing to read */
	ck_assert_int_eq(unlink(path), 0);
	while ((r = reclaim_take_locked(&d)))
		reclaim_free(r);
	ck_assert(reclaim_load_locked(&d, &now));
	ck_assert_uint_eq(d.reclaim_len, 0);
	/* garbage: refused, nothing queued */
	write_file(RECLAIM_FILE, "carol\n");
	ck_assert(!reclaim_load_locked(&d, &now));
	ck_assert_uint_eq(d.reclaim_len, 0);
	free(data);
	local_accounts_free(&then);
	local_accounts_free(&now);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", d.cfg.cache_dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static char odd_template[] = "/tmp/test_reclaim_odd_XXXXXX";

/* A reclaim.list that is there but cannot be read as a file (a FIFO, which open would wait on
 * for a writer; a directory; a symlink) holds what the last dird left out all the same: a full
 * refresh reads it, and dird does not hang. */
START_TEST(a_file_that_cannot_be_read_asks_for_a_full_refresh)
{
	d.cfg.cache_dir = mkdtemp(odd_template);
	ck_assert_ptr_nonnull(d.cfg.cache_dir);
	struct local_accounts now;
	load_accounts(&now, "keep:x:4700:4700::/:/bin/sh\n", "other:x:4603:\n");
	char path[256], target[300];
	snprintf(path, sizeof(path), "%s/%s", d.cfg.cache_dir, RECLAIM_FILE);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	alarm(3); /* a hang fails the test */
	ck_assert(!reclaim_load_locked(&d, &now));
	alarm(0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert(!reclaim_load_locked(&d, &now));
	ck_assert_int_eq(rmdir(path), 0);
	/* a symlink to a good file: not followed (cache_dir's files are dird's own) */
	struct local_accounts then;
	load_accounts(&then, "carol:x:4601:4601::/:/bin/sh\n", "other:x:4603:\n");
	ck_assert(reclaim_save_locked(&d, &then));
	snprintf(target, sizeof(target), "%s.real", path);
	ck_assert_int_eq(rename(path, target), 0);
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert(!reclaim_load_locked(&d, &now));
	ck_assert_uint_eq(d.reclaim_len, 0);
	local_accounts_free(&then);
	local_accounts_free(&now);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", d.cfg.cache_dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = { one_of_each_waits, a_full_queue_refuses,
				       raced_ones_are_tried_a_few_times,
				       an_expire_meanwhile_goes_into_the_copy,
				       with_entry_ttl_it_is_marked_and_kept_only_while_a_copy_is_held,
				       the_next_dird_reads_what_is_not_local_any_more,
				       a_file_that_cannot_be_read_asks_for_a_full_refresh, NULL };
	return run_tests("reclaim", setup, teardown, tests);
}
