/* dird's in-memory db: records added, found by name and id, replaced and dropped keep every
 * field (db packs a user's strings into one block, a group's members into another), and all
 * of it is freed (ASan's leak check in the sanitize run); the text pool a batch's strings are
 * kept in. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "run_case.h"
#include "text_pool.h"

static struct dir_user *user(const char *name, uint32_t uid, const char *sid, const char *email)
{
	struct dir_user *u = calloc(1, sizeof(*u));
	ck_assert_ptr_nonnull(u);
	u->name = strdup(name);
	u->uid = uid;
	u->gid = 100;
	u->gecos = strdup("Some One");
	u->home = strdup("/home/x");
	u->shell = strdup("/bin/sh");
	u->email = email ? strdup(email) : NULL;
	u->sid = sid ? strdup(sid) : NULL;
	u->domain = strdup("example");
	return u;
}

START_TEST(packed_users_keep_every_field)
{
	struct db db;
	db_init(&db);
	ck_assert_int_eq(db_add_user(&db, user("alice", 1001, "S-1-5-21-1-2-3-1001", "a@x")), 0);
	ck_assert_int_eq(db_add_user(&db, user("bob", 1002, NULL, NULL)), 0);
	ck_assert_int_eq(db_add_user(&db, user("alice", 1003, NULL, NULL)), 1); /* name taken */
	const struct dir_user *a = db_user_by_uid(&db, 1001), *b = db_user_by_name(&db, "bob");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(a->packed);
	ck_assert_str_eq(a->name, "alice");
	ck_assert_str_eq(a->gecos, "Some One");
	ck_assert_str_eq(a->home, "/home/x");
	ck_assert_str_eq(a->shell, "/bin/sh");
	ck_assert_str_eq(a->email, "a@x");
	ck_assert_str_eq(a->sid, "S-1-5-21-1-2-3-1001");
	ck_assert_str_eq(a->domain, "example");
	ck_assert_ptr_null(b->email);
	ck_assert_ptr_null(b->sid);
	ck_assert_str_eq(b->domain, "example");
	db_remove_user(&db, "alice", 1001);
	ck_assert_ptr_null(db_user_by_name(&db, "alice"));
	ck_assert_str_eq(db_user_by_uid(&db, 1002)->name, "bob");
	db_free(&db);
}
END_TEST

static struct dir_group *group(const char *name, uint32_t gid, uint32_t n)
{
	struct dir_group *g = calloc(1, sizeof(*g));
	ck_assert_ptr_nonnull(g);
	g->name = strdup(name);
	g->gid = gid;
	g->domain = strdup("example");
	g->members = calloc(n + 1, sizeof(char *));
	char m[32];
	for (uint32_t i = 0; i < n; i++) {
		snprintf(m, sizeof(m), "member%u", i);
		g->members[i] = strdup(m);
	}
	g->n_members = n;
	return g;
}

/* A group's members are one block in db; users find their gids through it, and a group that
 * replaces it frees it whole. */
/* A record replaced where it stands by one of the same name and uid, also by a record another db
 * packed (one block with its strings: AD's whole read hands those on): found by both keys, every
 * field the new one's, and nothing freed twice (ASan in the sanitize run). */
START_TEST(replaced_users_take_the_new_record)
{
	struct db from, db;
	db_init(&from);
	db_init(&db);
	ck_assert_int_eq(db_add_user(&from, user("alice", 1001, NULL, "new@x")), 0);
	struct dir_user *taken = db_user_by_name(&from, "alice");
	from.c.users[0] = NULL; /* taken, as ad_poll.c's read_whole takes them */
	from.c.n_users = 0;
	ck_assert_int_eq(db_add_user(&db, user("alice", 1001, NULL, "old@x")), 0);
	ck_assert_int_eq(db_add_user(&db, user("bob", 1002, NULL, NULL)), 0);
	struct dir_user *now = db_replace_user(&db, db_user_by_name(&db, "alice"), taken);
	ck_assert_ptr_nonnull(now);
	ck_assert_ptr_eq(db_user_by_uid(&db, 1001), now);
	ck_assert_str_eq(db_user_by_name(&db, "alice")->email, "new@x");
	now = db_replace_user(&db, now, user("alice", 1001, NULL, "newer@x")); /* not packed */
	ck_assert_str_eq(db_user_by_uid(&db, 1001)->email, "newer@x");
	ck_assert_ptr_null(db_replace_user(&db, now, user("alice", 1003, NULL, NULL))); /* another uid */
	ck_assert_str_eq(db_user_by_name(&db, "alice")->email, "newer@x");
	ck_assert_str_eq(db_user_by_name(&db, "bob")->name, "bob");
	db_free(&from);
	db_free(&db);
}
END_TEST

START_TEST(packed_groups_keep_their_members)
{
	struct db db;
	db_init(&db);
	ck_assert_int_eq(db_add_user(&db, user("member2", 1001, NULL, NULL)), 0);
	ck_assert_int_eq(db_add_group(&db, group("staff", 500, 300)), 0);
	ck_assert_int_eq(db_add_group(&db, group("empty", 501, 0)), 0);
	const struct dir_group *g = db_group_by_gid(&db, 500);
	ck_assert(g->members_packed);
	ck_assert_uint_eq(g->n_members, 300);
	ck_assert_str_eq(g->members[0], "member0");
	ck_assert_str_eq(g->members[299], "member299");
	ck_assert_ptr_null(g->members[300]);
	ck_assert_uint_eq(db_group_by_name(&db, "empty")->n_members, 0);
	ck_assert_int_eq(db_link_groups(&db), 0);
	const struct dir_user *u = db_user_by_name(&db, "member2");
	ck_assert_uint_eq(u->n_groups, 1);
	ck_assert_uint_eq(u->groups[0], 500);
	db_remove_group(&db, "staff", 500);
	ck_assert_int_eq(db_add_group(&db, group("staff", 500, 2)), 0);
	ck_assert_str_eq(db_group_by_name(&db, "staff")->members[1], "member1");
	db_free(&db);
}
END_TEST

START_TEST(many_users_found_after_growth)
{
	struct db db;
	db_init(&db);
	char name[32];
	for (uint32_t i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "u%05u", i);
		ck_assert_int_eq(db_add_user(&db, user(name, 10000 + i, NULL, NULL)), 0);
	}
	for (uint32_t i = 0; i < 5000; i += 7) {
		snprintf(name, sizeof(name), "u%05u", i);
		const struct dir_user *u = db_user_by_name(&db, name);
		ck_assert_ptr_nonnull(u);
		ck_assert_uint_eq(u->uid, 10000 + i);
		ck_assert_str_eq(db_user_by_uid(&db, 10000 + i)->name, name);
	}
	db_free(&db);
}
END_TEST

/* The cache read back at the start: appended, then indexed once; a record whose name or id one
 * before it has is dropped as db_add_user drops it (the first one stays), and what is left is
 * found by both keys, also after more records are added the usual way. */
START_TEST(appended_records_indexed_once_first_one_stays)
{
	struct db db;
	db_init(&db);
	char name[32];
	for (uint32_t i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "u%05u", i);
		ck_assert_int_eq(db_append_user(&db, user(name, 10000 + i, NULL, NULL)), 0);
	}
	ck_assert_int_eq(db_append_user(&db, user("u00007", 99999, NULL, "second@x")), 0);
	ck_assert_int_eq(db_append_user(&db, user("other", 10008, NULL, "second@x")), 0);
	ck_assert_int_eq(db_append_user(&db, user("last", 20000, NULL, NULL)), 0);
	ck_assert_int_eq(db_append_group(&db, group("staff", 500, 2)), 0);
	ck_assert_int_eq(db_append_group(&db, group("staff", 501, 0)), 0);
	ck_assert_int_eq(db_append_group(&db, group("admins", 500, 0)), 0);
	ck_assert_int_eq(db_append_group(&db, group("empty", 502, 0)), 0);
	ck_assert_ptr_null(db_user_by_name(&db, "u00001")); /* not indexed yet */
	ck_assert_int_eq(db_index_appended(&db), 4);
	ck_assert_uint_eq(db.c.n_users, 3001);
	ck_assert_uint_eq(db.c.n_groups, 2);
	for (uint32_t i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "u%05u", i);
		const struct dir_user *u = db_user_by_name(&db, name);
		ck_assert_ptr_nonnull(u);
		ck_assert_uint_eq(u->uid, 10000 + i);
		ck_assert_ptr_null(u->email);
		ck_assert_ptr_eq(db_user_by_uid(&db, 10000 + i), u);
	}
	ck_assert_ptr_null(db_user_by_uid(&db, 99999));
	ck_assert_ptr_null(db_user_by_name(&db, "other"));
	ck_assert_uint_eq(db_user_by_name(&db, "last")->uid, 20000);
	ck_assert_uint_eq(db_group_by_name(&db, "staff")->gid, 500);
	ck_assert_uint_eq(db_group_by_name(&db, "staff")->n_members, 2);
	ck_assert_ptr_null(db_group_by_gid(&db, 501));
	ck_assert_ptr_null(db_group_by_name(&db, "admins"));
	ck_assert_str_eq(db_group_by_gid(&db, 502)->name, "empty");
	ck_assert_int_eq(db_add_user(&db, user("u00009", 30000, NULL, NULL)), 1);
	ck_assert_int_eq(db_add_user(&db, user("new", 30000, NULL, NULL)), 0);
	ck_assert_str_eq(db_user_by_uid(&db, 30000)->name, "new");
	db_remove_user(&db, "u00005", 10005);
	ck_assert_ptr_null(db_user_by_name(&db, "u00005"));
	ck_assert_str_eq(db_user_by_uid(&db, 10006)->name, "u00006");
	db_free(&db);
}
END_TEST

/* A user a change stream packed as it read it is the record db keeps: no second copy. */
START_TEST(a_packed_user_is_kept_as_it_is)
{
	struct db db;
	db_init(&db);
	struct dir_user *u = db_pack_user(user("carol", 1004, NULL, "c@x"));
	ck_assert_ptr_nonnull(u);
	ck_assert_ptr_eq(u->packed, (char *)(u + 1));
	ck_assert_ptr_eq(db_pack_user(u), u);
	ck_assert_int_eq(db_add_user(&db, u), 0);
	ck_assert_ptr_eq(db_user_by_name(&db, "carol"), u);
	ck_assert_str_eq(u->email, "c@x");
	ck_assert_str_eq(u->home, "/home/x");
	struct dir_user *copy = db_pack_copy(u);
	ck_assert_ptr_nonnull(copy);
	ck_assert_ptr_ne(copy->name, u->name);
	ck_assert_str_eq(copy->name, "carol");
	ck_assert_ptr_null(copy->sid);
	free(copy); /* its keys were u's (none) */
	db_free(&db);
}
END_TEST

static void set_gids(struct dir_user *u, const uint32_t *gids, uint32_t n)
{
	u->groups = malloc(n * sizeof(*gids));
	ck_assert_ptr_nonnull(u->groups);
	memcpy(u->groups, gids, n * sizeof(*gids));
	u->n_groups = n;
}

static void ck_gids(const struct dir_user *u, const uint32_t *want, uint32_t n)
{
	ck_assert_uint_eq(u->n_groups, n);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_uint_eq(u->groups[i], want[i]);
}

/* A user db packs keeps its gid list, which then grows, shrinks, moves to a replacing record
 * and is copied like one of its own (ASan says if one were freed apart from its record). */
START_TEST(a_packed_users_gid_list_works_as_its_own)
{
	struct db db;
	db_init(&db);
	struct dir_user *u = user("dave", 1005, NULL, NULL);
	set_gids(u, (const uint32_t[]){ 501, 502, 503 }, 3);
	ck_assert_int_eq(db_add_user(&db, u), 0);
	u = db_user_by_name(&db, "dave");
	ck_gids(u, (const uint32_t[]){ 501, 502, 503 }, 3);
	ck_assert_str_eq(u->domain, "example");
	struct dir_user *copy = db_pack_copy(u);
	ck_assert_ptr_nonnull(copy);
	ck_assert_ptr_ne(copy->groups, u->groups);
	ck_gids(copy, (const uint32_t[]){ 501, 502, 503 }, 3);
	db_user_drop_gid(u, 501);
	ck_gids(u, (const uint32_t[]){ 503, 502 }, 2);
	ck_gids(copy, (const uint32_t[]){ 501, 502, 503 }, 3);
	ck_assert_int_eq(db_user_add_gid(u, 504), 0);
	ck_assert_int_eq(db_user_add_gid(u, 100), 0); /* the primary one: not added */
	ck_gids(u, (const uint32_t[]){ 503, 502, 504 }, 3);
	ck_assert_int_eq(db_user_add_gid(copy, 505), 0);
	ck_gids(copy, (const uint32_t[]){ 501, 502, 503, 505 }, 4);
	/* a new record of the same name and uid takes the old one's list */
	struct dir_user *next = db_pack_user(user("dave", 1005, NULL, NULL));
	ck_assert_ptr_nonnull(next);
	set_gids(next, (const uint32_t[]){ 9 }, 1);
	ck_assert_int_eq(db_user_take_groups(next, copy), 0);
	ck_assert_uint_eq(copy->n_groups, 0);
	ck_gids(next, (const uint32_t[]){ 501, 502, 503, 505 }, 4);
	dir_user_destroy(copy);
	struct dir_user *packed_next = db_pack_copy(next);
	ck_assert_ptr_nonnull(packed_next);
	dir_user_destroy(next);
	ck_assert_int_eq(db_user_take_groups(u, packed_next), 0); /* copied out of its block */
	dir_user_destroy(packed_next);
	ck_gids(u, (const uint32_t[]){ 501, 502, 503, 505 }, 4);
	ck_assert_str_eq(u->name, "dave");
	ck_assert_str_eq(u->shell, "/bin/sh");
	/* packed as a stream reads it, given its gids, then added */
	struct dir_user *e = db_pack_user(user("erin", 1006, NULL, "e@x"));
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(db_user_add_gid(e, 601), 0);
	ck_assert_int_eq(db_user_add_gid(e, 602), 0);
	ck_assert_int_eq(db_add_user(&db, e), 0);
	e = db_user_by_uid(&db, 1006);
	ck_gids(e, (const uint32_t[]){ 601, 602 }, 2);
	ck_assert_str_eq(e->email, "e@x");
	ck_assert_int_eq(db_user_add_gid(e, 603), 0);
	ck_gids(e, (const uint32_t[]){ 601, 602, 603 }, 3);
	db_free(&db);
}
END_TEST

/* Users keep their domain's name, which those of one domain share; past the names db shares,
 * each user's is its own. */
START_TEST(packed_users_keep_their_domain)
{
	struct db db;
	db_init(&db);
	char name[32];
	for (uint32_t i = 0; i < 100; i++) {
		struct dir_user *u = user("x", 2000 + i, NULL, NULL);
		snprintf(name, sizeof(name), "u%u", i);
		free(u->name);
		u->name = strdup(name);
		free(u->domain);
		snprintf(name, sizeof(name), "domain-%u", i % 80);
		u->domain = strdup(name);
		set_gids(u, (const uint32_t[]){ i }, 1);
		ck_assert_int_eq(db_add_user(&db, u), 0);
	}
	for (uint32_t i = 0; i < 100; i++) {
		const struct dir_user *u = db_user_by_uid(&db, 2000 + i);
		snprintf(name, sizeof(name), "domain-%u", i % 80);
		ck_assert_str_eq(u->domain, name);
		snprintf(name, sizeof(name), "u%u", i);
		ck_assert_str_eq(u->name, name);
		ck_gids(u, (const uint32_t[]){ i }, 1);
	}
	ck_assert_ptr_eq(db_user_by_uid(&db, 2000)->domain, db_user_by_uid(&db, 2080)->domain);
	db_free(&db);
}
END_TEST

/* A user's name read from the end of its home's bytes, its shell shared with the other users
 * of that shell: every field as it was, in db, in a copy of it and with its gid list; a name
 * that is not its home's end, and a shell past those db shares, are the user's own. */
START_TEST(packed_users_share_what_repeats)
{
	struct db db;
	db_init(&db);
	char name[32];
	for (uint32_t i = 0; i < 40; i++) {
		struct dir_user *u = user("x", 3000 + i, NULL, NULL);
		snprintf(name, sizeof(name), "v%u", i);
		free(u->name);
		u->name = strdup(name);
		free(u->home);
		snprintf(name, sizeof(name), i % 2 ? "/home/v%u" : "/srv/other%u", i);
		u->home = strdup(name);
		free(u->shell);
		snprintf(name, sizeof(name), "/bin/sh%u", i % 20);
		u->shell = strdup(name);
		set_gids(u, (const uint32_t[]){ 7, i }, 2);
		ck_assert_int_eq(db_add_user(&db, u), 0);
	}
	for (uint32_t i = 0; i < 40; i++) {
		const struct dir_user *u = db_user_by_uid(&db, 3000 + i);
		struct dir_user *copy = db_pack_copy(u);
		ck_assert_ptr_nonnull(copy);
		for (int c = 0; c < 2; c++, u = copy) {
			snprintf(name, sizeof(name), "v%u", i);
			ck_assert_str_eq(u->name, name);
			snprintf(name, sizeof(name), i % 2 ? "/home/v%u" : "/srv/other%u", i);
			ck_assert_str_eq(u->home, name);
			snprintf(name, sizeof(name), "/bin/sh%u", i % 20);
			ck_assert_str_eq(u->shell, name);
			ck_assert_str_eq(u->gecos, "Some One");
			ck_assert_str_eq(u->domain, "example");
			ck_gids(u, (const uint32_t[]){ 7, i }, 2);
		}
		ck_assert_ptr_eq(copy->groups, (uint32_t *)(copy + 1));
		dir_user_destroy(copy);
	}
	const struct dir_user *odd = db_user_by_uid(&db, 3001), *even = db_user_by_uid(&db, 3000);
	ck_assert_ptr_eq(odd->name, odd->home + strlen("/home/"));
	ck_assert(even->name < even->home || even->name >= even->home + strlen(even->home));
	ck_assert_ptr_eq(db_user_by_uid(&db, 3000)->shell, db_user_by_uid(&db, 3020)->shell);
	ck_assert_ptr_ne(db_user_by_uid(&db, 3019)->shell, db_user_by_uid(&db, 3039)->shell);
	db_free(&db);
}
END_TEST

/* Strings copied into a text pool stay whole across its blocks; those released before a later
 * one go (their blocks unmapped: ASan and the page tables would say if one were still read). */
START_TEST(text_pool_keeps_its_strings_until_released)
{
	struct text_pool p = { 0 };
	char *v[60000];
	char want[32];
	for (int i = 0; i < 60000; i++) {
		snprintf(want, sizeof(want), "entry-%05d", i);
		ck_assert_ptr_nonnull(v[i] = text_pool_copy(&p, want));
	}
	ck_assert_ptr_null(text_pool_copy(&p, NULL));
	text_pool_release_before(&p, v[50000]);
	text_pool_release_before(&p, "not the pool's");
	for (int i = 50000; i < 60000; i++) {
		snprintf(want, sizeof(want), "entry-%05d", i);
		ck_assert_str_eq(v[i], want);
	}
	text_pool_free(&p);
	ck_assert_ptr_null(p.first);
	ck_assert_ptr_nonnull(text_pool_copy(&p, "again"));
	text_pool_free(&p);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = { packed_users_keep_every_field, many_users_found_after_growth,
				       packed_groups_keep_their_members,
				       replaced_users_take_the_new_record, a_packed_user_is_kept_as_it_is,
				       appended_records_indexed_once_first_one_stays,
				       a_packed_users_gid_list_works_as_its_own,
				       packed_users_keep_their_domain, packed_users_share_what_repeats,
				       text_pool_keeps_its_strings_until_released, NULL };
	return run_tests("db", NULL, NULL, tests);
}
