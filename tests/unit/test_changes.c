/* A change stream's batches (dird/changes.c): puts, renames, deletes by id and by DN, present
 * phases and complete batches, membership changes reaching the members' gid lists, local
 * accounts and min_id's kin refused, sync_groups, members by DN resolved as users come, change
 * and go (nested, after a restart too), a stream of one kind deleting no entry of the other;
 * what the tdb files hold afterwards (read back as a restarted dird reads them) and the
 * position saved with them; a malformed batch or an unexpected position applies nothing; the
 * stream keys' layout before is not read, damaged keys refuse a batch and are not carried on. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "changes.h"
#include "index.h"
#include "nesting.h"
#include "publish.h"
#include "store.h"
#include "stream_keys.h"
#include "run_case.h"

#define MANY_USERS 300

static char dir[] = "/tmp/dir-test-changes-XXXXXX";
static struct dird d;
static bool dirty;

/* What main.c provides to the daemon's library. */
void mark_dirty_locked(struct dird *x)
{
	(void)x;
	dirty = true;
}

void wake_publisher_locked(struct dird *x)
{
	(void)x;
	dirty = true;
}

void test_hook(const char *step)
{
	(void)step;
}

long long now_ms(void)
{
	return 0;
}

static void load_config(const char *extra)
{
	char conf[256], text[1024];
	snprintf(conf, sizeof(conf), "%s/dird.conf", dir);
	snprintf(text, sizeof(text),
		 "[global]\ncache_dir = %s\n[domain/ex]\nuri = ldap://127.0.0.1\n"
		 "base_dn = dc=ex\n%s",
		 dir, extra);
	FILE *f = fopen(conf, "w");
	fputs(text, f);
	fclose(f);
	char err[512] = "";
	ck_assert_msg(dir_config_load(conf, &d.cfg, err, sizeof(err)) == 0, "%s", err);
}

static char extra_conf[256]; /* start's, which restart keeps */

static void start(const char *extra)
{
	if (extra != extra_conf)
		snprintf(extra_conf, sizeof(extra_conf), "%s", extra);
	memset(&d, 0, sizeof(d));
	pthread_mutex_init(&d.store_lock, NULL);
	pthread_mutex_init(&d.lock, NULL);
	d.negative = calloc(1, sizeof(*d.negative));
	load_config(extra);
	d.domains = calloc(d.cfg.n_domains, sizeof(*d.domains)); /* as dird has them */
	db_init(&d.db);
	dirty = false;
}

static void stop(void)
{
	db_free(&d.db);
	publish_free(&d);
	dir_config_free(&d.cfg);
	free(d.domains);
	free(d.negative);
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	start("");
}

static void teardown(void)
{
	stop();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/dir-test-changes-XXXXXX");
}

/* A dird started again on the same files: what it serves is what the files hold. */
static void restart(void)
{
	stop();
	start(extra_conf);
	struct store_contents c;
	char err[256];
	ck_assert_int_eq(store_load(dir, &c, err, sizeof(err)), 0);
	for (size_t i = 0; i < c.n_users; i++)
		ck_assert_int_eq(db_add_user(&d.db, c.users[i]), 0);
	for (size_t i = 0; i < c.n_groups; i++)
		ck_assert_int_eq(db_add_group(&d.db, c.groups[i]), 0);
	free(c.users);
	free(c.groups);
}

static struct dir_user *user(const char *name, uint32_t uid, const char *shell)
{
	struct dir_user *u = calloc(1, sizeof(*u));
	u->name = strdup(name);
	u->uid = uid;
	u->gid = 90000;
	u->gecos = strdup(name);
	u->home = strdup("/home/x");
	u->shell = strdup(shell);
	u->domain = strdup("ex");
	return u;
}

static struct dir_group *group(const char *name, uint32_t gid, const char *members)
{
	struct dir_group *g = calloc(1, sizeof(*g));
	g->name = strdup(name);
	g->gid = gid;
	g->domain = strdup("ex");
	char *copy = strdup(members), *save = NULL;
	size_t n = 2;
	for (const char *p = members; *p; p++)
		n += *p == ' ';
	g->members = calloc(n, sizeof(char *));
	for (char *m = strtok_r(copy, " ", &save); m; m = strtok_r(NULL, " ", &save))
		g->members[g->n_members++] = strdup(m);
	free(copy);
	return g;
}

static char *s(const char *x)
{
	return x ? strdup(x) : NULL;
}

static struct change_batch batch(const char *position, const char *expected)
{
	struct change_batch b = { 0 };
	b.stream = "ex/all";
	b.position = position;
	b.position_len = position ? strlen(position) : 0;
	b.expected = expected;
	b.expected_len = expected ? strlen(expected) : 0;
	return b;
}

static enum changes_result apply(struct change_batch *b)
{
	char err[512] = "";
	enum changes_result r = changes_apply(&d, b, err, sizeof(err));
	change_batch_clear(b);
	free(b->changes);
	b->changes = NULL;
	b->cap = 0;
	return r;
}

static bool in_groups(const char *name, uint32_t gid)
{
	const struct dir_user *u = db_user_by_name(&d.db, name);
	ck_assert_ptr_nonnull(u);
	for (uint32_t i = 0; i < u->n_groups; i++)
		if (u->groups[i] == gid)
			return true;
	return false;
}

static char *position(void)
{
	size_t len;
	char *p = changes_position(&d, "ex/all", &len);
	if (p) {
		p = realloc(p, len + 1);
		p[len] = '\0';
	}
	return p;
}

/* A batch from no position: two users (alice with that shell), a group of both. */
static void read_all(const char *position, const char *shell)
{
	struct change_batch b = batch(position, NULL);
	b.complete_users = b.complete_groups = true;
	change_batch_add(&b, CHANGE_PUT, s("u-alice"), s("uid=alice,dc=ex"),
			 user("alice", 100001, shell), NULL);
	change_batch_add(&b, CHANGE_PUT, s("u-bob"), s("uid=bob,dc=ex"),
			 user("bob", 100002, "/bin/sh"), NULL);
	change_batch_add(&b, CHANGE_PUT, s("g-team"), s("cn=team,dc=ex"), NULL,
			 group("team", 95000, "alice bob"));
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
}

/* The first: c1. */
static void fill(void)
{
	read_all("c1", "/bin/sh");
	/* a complete batch is written as a refresh writes: the whole index with the files */
	char idx[PATH_MAX];
	snprintf(idx, sizeof(idx), "%s/%s", dir, DIR_INDEX_FILE);
	ck_assert_int_eq(access(idx, F_OK), 0);
	ck_assert(!d.refreshing);
}

START_TEST(first_batch_and_restart)
{
	fill();
	ck_assert(in_groups("alice", 95000));
	ck_assert(in_groups("bob", 95000));
	restart();
	ck_assert_ptr_nonnull(db_user_by_uid(&d.db, 100001));
	ck_assert(in_groups("bob", 95000));
	char *p = position();
	ck_assert_str_eq(p, "c1");
	free(p);
}
END_TEST

/* A first read of the users alone, after the groups' (as a users stream makes it): each user's
 * gid list comes from the groups db holds, also for a name the batch puts twice; a user in no
 * group gets none.  Enough users for link_user's member index (dird/member_index.c). */
START_TEST(users_alone_get_their_gid_lists)
{
	struct change_batch b = batch("c1", NULL);
	b.complete_groups = true;
	char members[2][2048] = { "", "" }, name[16], id[16];
	for (int i = 0; i < 150; i++) {
		snprintf(name, sizeof(name), "u%03d ", i);
		if (i < 100)
			strcat(members[0], name);
		if (i >= 50)
			strcat(members[1], name);
	}
	change_batch_add(&b, CHANGE_PUT, s("g-one"), NULL, NULL, group("one", 95000, members[0]));
	change_batch_add(&b, CHANGE_PUT, s("g-two"), NULL, NULL, group("two", 95001, members[1]));
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	b = batch("c2", "c1");
	b.complete_users = true;
	for (int i = 0; i <= 200; i++) {
		int n = i == 200 ? 70 : i;
		snprintf(name, sizeof(name), "u%03d", n);
		snprintf(id, sizeof(id), "u-%03d", n);
		change_batch_add(&b, CHANGE_PUT, s(id), NULL, user(name, 100000 + (uint32_t)n,
								 "/bin/sh"), NULL);
	}
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert(in_groups("u000", 95000) && !in_groups("u000", 95001));
	ck_assert(in_groups("u060", 95000) && in_groups("u060", 95001));
	ck_assert(in_groups("u070", 95000) && in_groups("u070", 95001));
	ck_assert_uint_eq(db_user_by_name(&d.db, "u070")->n_groups, 2);
	ck_assert(!in_groups("u120", 95000) && in_groups("u120", 95001));
	ck_assert_uint_eq(db_user_by_name(&d.db, "u180")->n_groups, 0);
	restart();
	ck_assert(in_groups("u060", 95000) && in_groups("u060", 95001));
}
END_TEST

START_TEST(modify_rename_delete)
{
	fill();
	ck_assert_uint_eq(d.domains[0].changes_applied, 1); /* lookup.c reads it */
	char *was = changes_name_of_id(&d, 0, STORE_USERS, "u-bob");
	ck_assert_str_eq(was, "bob"); /* a poll reads a renamed user's old name so */
	free(was);
	struct change_batch b = batch("c2", "c1");
	change_batch_add(&b, CHANGE_PUT, s("u-alice"), s("uid=alice,dc=ex"),
			 user("alice", 100001, "/bin/zsh"), NULL);
	/* bob renamed: the same entry (id), a new name and DN */
	change_batch_add(&b, CHANGE_PUT, s("u-bob"), s("uid=robert,dc=ex"),
			 user("robert", 100002, "/bin/sh"), NULL);
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert_str_eq(db_user_by_name(&d.db, "alice")->shell, "/bin/zsh");
	ck_assert(in_groups("alice", 95000)); /* kept across the modify */
	ck_assert_ptr_null(db_user_by_name(&d.db, "bob"));
	ck_assert_str_eq(db_user_by_uid(&d.db, 100002)->name, "robert");
	was = changes_name_of_id(&d, 0, STORE_USERS, "u-bob");
	ck_assert_str_eq(was, "robert");
	free(was);
	ck_assert_uint_eq(d.domains[0].changes_applied, 2);

	/* by id: DNs are kept only where members go by DN (a_stream_deletes_only_its_kind) */
	b = batch("c3", "c2");
	change_batch_add(&b, CHANGE_DELETE, s("u-alice"), NULL, NULL, NULL);
	change_batch_add(&b, CHANGE_DELETE, s("u-bob"), NULL, NULL, NULL);
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	restart();
	ck_assert_uint_eq(d.db.c.n_users, 0);
	ck_assert_ptr_null(store_fetch(dir, STORE_USERS, "NAME_alice"));
	ck_assert_ptr_null(store_fetch(dir, STORE_USERS, "NAME_robert"));
	ck_assert_ptr_nonnull(db_group_by_name(&d.db, "team"));
}
END_TEST

START_TEST(membership_reaches_gid_lists)
{
	fill();
	struct change_batch b = batch("c2", "c1");
	change_batch_add(&b, CHANGE_PUT, s("g-team"), s("cn=team,dc=ex"), NULL,
			 group("team", 95000, "alice"));
	change_batch_add(&b, CHANGE_PUT, s("g-dev"), s("cn=dev,dc=ex"), NULL,
			 group("dev", 95001, "bob"));
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert(in_groups("alice", 95000));
	ck_assert(!in_groups("bob", 95000));
	ck_assert(in_groups("bob", 95001));
	restart(); /* the members' records were rewritten too */
	ck_assert(!in_groups("bob", 95000));
	ck_assert(in_groups("bob", 95001));
	b = batch("c3", "c2");
	change_batch_add(&b, CHANGE_DELETE, s("g-dev"), NULL, NULL, NULL);
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert(!in_groups("bob", 95001));
	/* a new user already named in a group gets its gid */
	b = batch("c4", "c3");
	change_batch_add(&b, CHANGE_PUT, s("g-ops"), NULL, NULL, group("ops", 95002, "carol"));
	change_batch_add(&b, CHANGE_PUT, s("u-carol"), NULL, user("carol", 100003, "/bin/sh"), NULL);
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert(in_groups("carol", 95002));
}
END_TEST

/* A batch of many new users (a stream's first read) finds each one's groups through the sorted
 * member index (dird/member_index.c) rather than a scan; the gid lists must be the scan's:
 * every group naming the user once, a name listed twice in a group counted once, a user in
 * no group in none, and a group put in the middle of the batch seen by the users after it. */
static struct dir_group *group_of_users(const char *name, uint32_t gid, int every, int offset)
{
	struct dir_group *g = group(name, gid, "");
	free(g->members);
	g->members = calloc(MANY_USERS + 1, sizeof(char *));
	for (int i = offset; i < MANY_USERS; i += every) {
		char n[16];
		snprintf(n, sizeof(n), "m%03d", i);
		g->members[g->n_members++] = strdup(n);
	}
	g->members[g->n_members++] = strdup("m007"); /* twice in one group */
	return g;
}

START_TEST(many_new_users_get_their_groups)
{
	struct change_batch b = batch("c1", NULL);
	b.complete_users = b.complete_groups = true;
	change_batch_add(&b, CHANGE_PUT, s("g-all"), NULL, NULL, group_of_users("all", 95000, 1, 0));
	change_batch_add(&b, CHANGE_PUT, s("g-odd"), NULL, NULL, group_of_users("odd", 95001, 2, 1));
	char id[32], n[16];
	for (int i = 0; i < MANY_USERS; i++) {
		if (i == MANY_USERS / 2)
			change_batch_add(&b, CHANGE_PUT, s("g-late"), NULL, NULL,
					 group_of_users("late", 95002, 3, 0));
		snprintf(id, sizeof(id), "u-%d", i);
		snprintf(n, sizeof(n), "m%03d", i);
		change_batch_add(&b, CHANGE_PUT, s(id), NULL, user(n, 100000 + i, "/bin/sh"), NULL);
	}
	change_batch_add(&b, CHANGE_PUT, s("u-none"), NULL, user("loner", 99999, "/bin/sh"), NULL);
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	for (int i = 0; i < MANY_USERS; i++) {
		snprintf(n, sizeof(n), "m%03d", i);
		const struct dir_user *u = db_user_by_name(&d.db, n);
		ck_assert_ptr_nonnull(u);
		/* a group reaches the users before it too (its members' lists), m007 is in all */
		uint32_t want = 1 + (i % 2 == 1 || i == 7) + (i % 3 == 0 || i == 7);
		ck_assert_uint_eq(u->n_groups, want);
		ck_assert(in_groups(n, 95000));
		ck_assert(in_groups(n, 95001) == (i % 2 == 1 || i == 7));
	}
	ck_assert_uint_eq(db_user_by_name(&d.db, "loner")->n_groups, 0);
}
END_TEST

/* The users' whole read into a db without a group (the users' stream read before the groups',
 * as after a flush): past the scan's few the index is of no membership at all.  Under UBSan
 * dird died of it (qsort_r given NULL) in test_sync's flush. */
START_TEST(many_new_users_without_groups)
{
	struct change_batch b = batch("c1", NULL);
	b.complete_users = true;
	char id[32], n[16];
	for (int i = 0; i < MANY_USERS; i++) {
		snprintf(id, sizeof(id), "u-%d", i);
		snprintf(n, sizeof(n), "m%03d", i);
		change_batch_add(&b, CHANGE_PUT, s(id), NULL, user(n, 100000 + i, "/bin/sh"), NULL);
	}
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert_uint_eq(d.db.c.n_users, MANY_USERS);
	ck_assert_uint_eq(db_user_by_name(&d.db, "m299")->n_groups, 0);
}
END_TEST

START_TEST(present_phase_drops_the_rest)
{
	fill();
	struct change_batch b = batch("c2", "c1");
	b.complete_users = true;
	change_batch_add(&b, CHANGE_PRESENT, s("u-alice"), NULL, NULL, NULL);
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert_ptr_nonnull(db_user_by_name(&d.db, "alice"));
	ck_assert_ptr_null(db_user_by_name(&d.db, "bob"));
	ck_assert_ptr_nonnull(db_group_by_name(&d.db, "team")); /* groups were not complete */
	restart();
	ck_assert_uint_eq(d.db.c.n_users, 1);
}
END_TEST

START_TEST(refused_entries_go)
{
	fill();
	struct change_batch b = batch("c2", "c1");
	/* root's name and uid are local: never served */
	change_batch_add(&b, CHANGE_PUT, s("u-root"), NULL, user("root", 100009, "/bin/sh"), NULL);
	change_batch_add(&b, CHANGE_PUT, s("u-zero"), NULL, user("zed", 0, "/bin/sh"), NULL);
	/* bob's entry now maps to nothing servable (the stream refused it): his copy goes */
	change_batch_add(&b, CHANGE_PUT, s("u-bob"), NULL, NULL, NULL);
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert_ptr_null(db_user_by_name(&d.db, "root"));
	ck_assert_ptr_null(db_user_by_name(&d.db, "zed"));
	ck_assert_ptr_null(db_user_by_name(&d.db, "bob"));
	ck_assert_ptr_nonnull(db_user_by_name(&d.db, "alice"));
}
END_TEST

START_TEST(malformed_applies_nothing)
{
	fill();
	struct change_batch b = batch("c2", "c1");
	change_batch_add(&b, CHANGE_PUT, s("u-alice"), NULL, user("alice", 100001, "/bin/zsh"), NULL);
	change_batch_add(&b, CHANGE_PUT, NULL, NULL, user("eve", 100005, "/bin/sh"), NULL); /* no id */
	ck_assert_int_eq(apply(&b), CHANGES_REFUSED); /* read whole again, after a wait */
	ck_assert_str_eq(db_user_by_name(&d.db, "alice")->shell, "/bin/sh");
	ck_assert_ptr_null(db_user_by_name(&d.db, "eve"));
	char *p = position();
	ck_assert_ptr_null(p); /* dropped: the stream starts over */

	fill();
	char big[CHANGES_MAX_POSITION + 2];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	b = batch(big, "c1");
	change_batch_add(&b, CHANGE_PUT, s("u-alice"), NULL, user("alice", 100001, "/bin/zsh"), NULL);
	ck_assert_int_eq(apply(&b), CHANGES_REFUSED);
	ck_assert_str_eq(db_user_by_name(&d.db, "alice")->shell, "/bin/sh");
	restart();
	ck_assert_str_eq(db_user_by_name(&d.db, "alice")->shell, "/bin/sh");
}
END_TEST

START_TEST(unexpected_position_applies_nothing)
{
	fill();
	/* a full refresh replaced the files: no position stored any more */
	struct change_batch b = batch("c2", "c0");
	change_batch_add(&b, CHANGE_DELETE, s("u-alice"), NULL, NULL, NULL);
	ck_assert_int_eq(apply(&b), CHANGES_RESYNC);
	ck_assert_ptr_nonnull(db_user_by_name(&d.db, "alice"));
}
END_TEST

START_TEST(entries_read_otherwise_are_replaced)
{
	/* a full refresh put alice there, without a stream's keys */
	ck_assert_int_eq(db_add_user(&d.db, user("alice", 100001, "/bin/sh")), 0);
	struct change_batch b = batch("c1", NULL);
	b.complete_users = true;
	change_batch_add(&b, CHANGE_PUT, s("u-alice"), NULL, user("alice", 100001, "/bin/zsh"), NULL);
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert_uint_eq(d.db.c.n_users, 1);
	ck_assert_str_eq(db_user_by_name(&d.db, "alice")->shell, "/bin/zsh");
	/* another entry with alice's uid: settled as a refresh settles it (the lower name) */
	b = batch("c2", "c1");
	change_batch_add(&b, CHANGE_PUT, s("u-aaron"), NULL, user("aaron", 100001, "/bin/sh"), NULL);
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert_str_eq(db_user_by_uid(&d.db, 100001)->name, "aaron");
	ck_assert_uint_eq(d.db.c.n_users, 1);
}
END_TEST

START_TEST(sync_groups_follow_membership)
{
	stop();
	start("sync_groups = team\n");
	fill();
	struct change_batch b = batch("c2", "c1");
	change_batch_add(&b, CHANGE_PUT, s("g-team"), NULL, NULL, group("team", 95000, "alice"));
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert_ptr_null(db_user_by_name(&d.db, "bob")); /* left team: not served */
	ck_assert(!b.users_incomplete);
	b = batch("c3", "c2");
	change_batch_add(&b, CHANGE_PUT, s("g-team"), NULL, NULL, group("team", 95000, "alice bob"));
	enum changes_result r = changes_apply(&d, &b, (char[64]){ 0 }, 64);
	ck_assert_int_eq(r, CHANGES_APPLIED);
	ck_assert(b.users_incomplete); /* bob back in team: the users must be read again */
	change_batch_clear(&b);
	free(b.changes);
	restart();
	ck_assert_ptr_null(db_user_by_name(&d.db, "bob"));
}
END_TEST

/* A stream of one kind deletes only entries of that kind: slapd's session log sends a resumed
 * users stream a delete for a group changed while dird was down, by the group's entryUUID
 * (test_sync_bis.sh), and the groups stream deletes for users. */
START_TEST(a_stream_deletes_only_its_kind)
{
	/* members by DN: the entries' DNs are kept, and a delete may name one alone */
	stop();
	start("schema = rfc2307bis\n");
	fill();
	restart();
	struct change_batch b = batch("c2", "c1");
	b.kinds = CHANGES_USERS_ONLY;
	change_batch_add(&b, CHANGE_DELETE, s("g-team"), NULL, NULL, NULL);
	change_batch_add(&b, CHANGE_DELETE, NULL, s("cn=team,dc=ex"), NULL, NULL);
	change_batch_add(&b, CHANGE_PUT, s("g-team"), NULL, NULL, NULL); /* refused as a user */
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert_ptr_nonnull(db_group_by_name(&d.db, "team"));
	ck_assert(in_groups("alice", 95000));
	b = batch("c3", "c2");
	b.kinds = CHANGES_GROUPS_ONLY;
	change_batch_add(&b, CHANGE_DELETE, s("u-alice"), NULL, NULL, NULL);
	change_batch_add(&b, CHANGE_DELETE, NULL, s("uid=bob,dc=ex"), NULL, NULL);
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert_uint_eq(d.db.c.n_users, 2);
	restart();
	ck_assert_uint_eq(d.db.c.n_users, 2);
	ck_assert(in_groups("bob", 95000));
	/* its own kind it deletes, by id or by DN */
	b = batch("c4", "c3");
	b.kinds = CHANGES_GROUPS_ONLY;
	change_batch_add(&b, CHANGE_DELETE, NULL, s("cn=team,dc=ex"), NULL, NULL);
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert_ptr_null(db_group_by_name(&d.db, "team"));
	b = batch("c5", "c4");
	b.kinds = CHANGES_USERS_ONLY;
	change_batch_add(&b, CHANGE_DELETE, s("u-alice"), NULL, NULL, NULL);
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert_ptr_null(db_user_by_name(&d.db, "alice"));
}
END_TEST

/* A complete batch writes new files: the other streams' positions and keys go into them. */
START_TEST(complete_batch_keeps_other_streams)
{
	stop();
	start("schema = rfc2307bis\n"); /* the DNs' keys too */
	fill();
	struct change_batch b = batch("u1", NULL);
	b.stream = "ex/users";
	b.complete_users = true;
	change_batch_add(&b, CHANGE_PUT, s("u-bob"), s("uid=bob,dc=ex"),
			 user("bob", 100002, "/bin/zsh"), NULL);
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	restart();
	char *p = position();
	ck_assert_str_eq(p, "c1");
	free(p);
	ck_assert_ptr_null(db_user_by_name(&d.db, "alice"));
	ck_assert_str_eq(db_user_by_name(&d.db, "bob")->shell, "/bin/zsh");
	/* the group, its keys with it: a delete by DN still finds it */
	b = batch("c2", "c1");
	change_batch_add(&b, CHANGE_DELETE, NULL, s("cn=team,dc=ex"), NULL, NULL);
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert_ptr_null(db_group_by_name(&d.db, "team"));
}
END_TEST

/* While a refresh writes the cache's temporary files, a complete batch goes into the live files
 * under the locks. */
START_TEST(complete_batch_beside_a_refresh)
{
	fill();
	d.refreshing = true;
	dirty = false;
	struct change_batch b = batch("c2", "c1");
	b.complete_users = true;
	change_batch_add(&b, CHANGE_PRESENT, s("u-bob"), NULL, NULL, NULL);
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert(dirty); /* in place: published afterwards */
	ck_assert(d.refreshing);
	ck_assert_ptr_null(db_user_by_name(&d.db, "alice"));
	d.refreshing = false;
	restart();
	ck_assert_uint_eq(d.db.c.n_users, 1);
}
END_TEST

/* Members by DN: a group put with its member DNs, as a stream of an rfc2307bis domain puts it. */
static void put_dn_group(struct change_batch *b, const char *id, const char *dn, const char *name,
			 uint32_t gid, const char *member_dns)
{
	change_batch_add(b, CHANGE_PUT, s(id), s(dn), NULL, group(name, gid, ""));
	struct dn_list *dns = calloc(1, sizeof(*dns));
	char *copy = strdup(member_dns), *save = NULL;
	for (char *m = strtok_r(copy, " ", &save); m; m = strtok_r(NULL, " ", &save))
		ck_assert_int_eq(dn_list_add(dns, m), 0);
	free(copy);
	b->changes[b->n - 1].member_dns = dns;
}

static const char *members_of(const char *group)
{
	static char text[256];
	const struct dir_group *g = db_group_by_name(&d.db, group);
	ck_assert_ptr_nonnull(g);
	text[0] = '\0';
	for (uint32_t i = 0; i < g->n_members; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%s", i ? " " : "",
			 g->members[i]);
	return text;
}

/* Applies b, saying whether it asks for groups to be read again. */
static bool apply_rereads(struct change_batch *b)
{
	ck_assert_int_eq(changes_apply(&d, b, (char[256]){ 0 }, 256), CHANGES_APPLIED);
	bool rereads = b->reread_groups && b->reread_groups->n;
	change_batch_clear(b);
	free(b->changes);
	return rereads;
}

START_TEST(members_by_dn_follow_users)
{
	stop();
	start("schema = rfc2307bis\n");
	/* the groups first, as a stream reads them: their users are not known yet */
	struct change_batch b = batch("c1", NULL);
	b.complete_groups = true;
	put_dn_group(&b, "g-devs", "cn=devs,dc=ex", "devs", 95000, "uid=ann,dc=ex uid=ghost,dc=ex");
	put_dn_group(&b, "g-eng", "cn=eng,dc=ex", "eng", 95001, "cn=devs,dc=ex cn=eng,dc=ex");
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert_str_eq(members_of("devs"), "");
	b = batch("c2", NULL);
	b.complete_users = true;
	change_batch_add(&b, CHANGE_PUT, s("u-ann"), s("uid=ann,dc=ex"), user("ann", 100001, "/bin/sh"),
			 NULL);
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert_str_eq(members_of("devs"), "ann");
	ck_assert_str_eq(members_of("eng"), "ann"); /* nested, and holding itself */
	ck_assert(in_groups("ann", 95000) && in_groups("ann", 95001));
	/* modified in place: no group changes, none to read again */
	b = batch("c3", "c2");
	change_batch_add(&b, CHANGE_PUT, s("u-ann"), s("uid=ann,dc=ex"), user("ann", 100001, "/bin/zsh"),
			 NULL);
	ck_assert(!apply_rereads(&b));
	ck_assert(in_groups("ann", 95001));
	/* renamed: its old DN dangles (the groups are to be read again: refint may rewrite them) */
	b = batch("c4", "c3");
	change_batch_add(&b, CHANGE_PUT, s("u-ann"), s("uid=anna,dc=ex"),
			 user("anna", 100001, "/bin/sh"), NULL);
	ck_assert(apply_rereads(&b));
	ck_assert_str_eq(members_of("devs"), "");
	ck_assert_str_eq(members_of("eng"), "");
	ck_assert(!in_groups("anna", 95000));
	/* after a restart the files still know every DN: the group rewritten reaches its parent */
	restart();
	b = batch("c5", "c4");
	put_dn_group(&b, "g-devs", "cn=devs,dc=ex", "devs", 95000, "uid=anna,dc=ex");
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert_str_eq(members_of("devs"), "anna");
	ck_assert_str_eq(members_of("eng"), "anna");
	ck_assert(in_groups("anna", 95001));
	b = batch("c6", "c5");
	change_batch_add(&b, CHANGE_DELETE, s("u-ann"), NULL, NULL, NULL);
	ck_assert(apply_rereads(&b));
	ck_assert_str_eq(members_of("eng"), "");
}
END_TEST

/* Stream keys of one file whose names begin with prefix ("SYNC_": all). */
struct key_list {
	char *v[64];
	size_t n;
	const char *prefix;
};

static int note_key(const char *key, size_t key_len, const void *val, size_t len, void *arg)
{
	(void)val;
	(void)len;
	struct key_list *l = arg;
	if (strncmp(key, l->prefix, strlen(l->prefix)) == 0 && l->n < 64)
		l->v[l->n++] = strndup(key, key_len);
	return 0;
}

static size_t count_keys(enum store_kind kind, const char *prefix)
{
	struct key_list l = { .prefix = prefix };
	ck_assert_int_eq(store_each_key(dir, kind, "SYNC_", note_key, &l), 0);
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	return l.n;
}

/* Sets (val non-NULL, len bytes) or removes key in the files of kind (both: -1). */
static void put_raw(int kind, const char *key, const char *val, size_t len)
{
	struct store_txn *t = store_txn_begin(dir);
	ck_assert_ptr_nonnull(t);
	for (int k = STORE_USERS; k <= STORE_GROUPS; k++)
		if (kind < 0 || kind == k)
			ck_assert_int_eq(val ? store_txn_set(t, k, key, val, len) :
					       store_txn_unset(t, k, key), 0);
	ck_assert_int_eq(store_txn_commit(t), 0);
}

/* The files' stream keys all removed (each file holds fewer than 64). */
static void drop_stream_keys(void)
{
	for (int k = STORE_USERS; k <= STORE_GROUPS; k++) {
		struct key_list l = { .prefix = "SYNC_" };
		ck_assert_int_eq(store_each_key(dir, k, "SYNC_", note_key, &l), 0);
		for (size_t i = 0; i < l.n; i++) {
			put_raw(k, l.v[i], NULL, 0);
			free(l.v[i]);
		}
	}
}

/* Then the keys work: a delete by id from c2 finds its entry. */
static void deletes_find_entries(void)
{
	struct change_batch b = batch("c3", "c2");
	change_batch_add(&b, CHANGE_DELETE, s("u-alice"), NULL, NULL, NULL);
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
	ck_assert_ptr_null(db_user_by_name(&d.db, "alice"));
	ck_assert_ptr_nonnull(db_user_by_name(&d.db, "bob"));
	char *p = position();
	ck_assert_str_eq(p, "c3");
	free(p);
}

/* A cache the layout before wrote (three keys an entry, ids as text, SYNC_POS_): its position
 * is not read, so the stream reads everything once, and the files written whole then hold
 * none of its keys.  Its keys, read as this layout's, would name alice bob. */
START_TEST(old_layout_reads_everything)
{
	fill();
	drop_stream_keys();
	put_raw(-1, "SYNC_POS_ex/all", "c1", 2);
	put_raw(STORE_USERS, "SYNC_ID_ex/u-alice", "bob", 3);
	put_raw(STORE_USERS, "SYNC_NAME_ex/bob", "u-alice\0uid=bob,dc=ex", 21);
	put_raw(STORE_USERS, "SYNC_DN_ex/uid=bob,dc=ex", "u-alice", 7);
	restart();
	ck_assert_ptr_null(position());
	/* a batch from the old position is not applied */
	struct change_batch b = batch("c2", "c1");
	change_batch_add(&b, CHANGE_DELETE, s("u-alice"), NULL, NULL, NULL);
	ck_assert_int_eq(apply(&b), CHANGES_RESYNC);
	ck_assert_ptr_nonnull(db_user_by_name(&d.db, "alice"));
	read_all("c2", "/bin/zsh");
	restart();
	ck_assert_str_eq(db_user_by_name(&d.db, "alice")->shell, "/bin/zsh");
	ck_assert_uint_eq(count_keys(STORE_USERS, "SYNC_POS_"), 0);
	ck_assert_uint_eq(count_keys(STORE_USERS, "SYNC_ID_"), 0);
	ck_assert_uint_eq(count_keys(STORE_USERS, "SYNC_NAME_"), 0);
	ck_assert_uint_eq(count_keys(STORE_USERS, "SYNC_DN_"), 0);
	ck_assert_uint_eq(count_keys(STORE_USERS, STREAM_KEY_ENTRY), 2);
	ck_assert_uint_eq(count_keys(STORE_USERS, STREAM_KEY_NAME), 2);
	deletes_find_entries();
}
END_TEST

/* A stream key that does not read back as written: a batch from a position is refused with
 * nothing applied and the position dropped (the stream reads everything), the key left out of
 * the files written whole then. */
START_TEST(damaged_keys_refuse_the_batch)
{
	char *alice = stream_key_entry("ex", "u-alice"), long_name[300];
	memset(long_name, 'a', sizeof(long_name));
	const struct {
		const char *key, *val;
		size_t len;
	} damage[] = {
		{ alice, "", 0 },				/* no name */
		{ alice, long_name, sizeof(long_name) },	/* a name too long */
		{ alice, "bob", 3 },				/* another entry's name */
		{ alice, "alice\0", 6 },			/* an empty DN */
		{ "SYNC_N_ex/alice", "t", 1 },			/* no id */
		{ "SYNC_N_ex/alice", "tu-al\001ice", 9 },	/* a bad escape */
		{ "SYNC_N_ex/alice", "u12345", 6 },		/* a uuid too short */
	};
	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		fill();
		put_raw(STORE_USERS, damage[i].key, damage[i].val, damage[i].len);
		restart();
		struct change_batch b = batch("c2", "c1");
		change_batch_add(&b, CHANGE_DELETE, s("u-bob"), NULL, NULL, NULL);
		change_batch_add(&b, CHANGE_PUT, s("u-alice"), s("uid=alice,dc=ex"),
				 user("alice", 100001, "/bin/zsh"), NULL);
		ck_assert_msg(apply(&b) == CHANGES_REFUSED, "damage %zu", i);
		ck_assert_ptr_null(position());
		ck_assert_ptr_nonnull(db_user_by_name(&d.db, "bob"));
		ck_assert_str_eq(db_user_by_name(&d.db, "alice")->shell, "/bin/sh");
		restart();
		ck_assert_ptr_nonnull(db_user_by_name(&d.db, "bob"));
		read_all("c2", "/bin/zsh");
		restart();
		ck_assert_str_eq(db_user_by_name(&d.db, "alice")->shell, "/bin/zsh");
		ck_assert_uint_eq(count_keys(STORE_USERS, STREAM_KEY_ENTRY), 2);
		deletes_find_entries();
		teardown();
		setup();
	}
	free(alice);
}
END_TEST

/* An entryUUID packs into its 16 bytes (escaped: no NUL), any other id into its text; what is
 * read back is checked; the layout before's keys are not carried on. */
START_TEST(ids_packed)
{
	char *a = stream_id_pack("0c1e5d9a-7b3f-4e2a-9c8d-112233445566");
	char *zeros = stream_id_pack("00010203-0000-0101-0001-000000000000");
	char *upper = stream_id_pack("0C1E5D9A-7B3F-4E2A-9C8D-112233445566");
	char *sid = stream_id_pack("S-1-5-21-1-2-3-1104");
	ck_assert_uint_eq(strlen(a), 17);
	ck_assert_uint_eq(strlen(zeros), 1 + 16 + 14); /* 14 bytes of 0 or 1 */
	ck_assert_str_ne(a, upper);
	ck_assert_str_eq(sid, "tS-1-5-21-1-2-3-1104");
	const char *all[] = { a, zeros, upper, sid };
	for (size_t i = 0; i < 4; i++)
		ck_assert(stream_id_ok(all[i], strlen(all[i])));
	ck_assert(!stream_id_ok("", 0));
	ck_assert(!stream_id_ok("t", 1));
	ck_assert(!stream_id_ok("x123", 4));
	ck_assert(!stream_id_ok(a, 16));	  /* 15 bytes */
	ck_assert(!stream_id_ok("u\001\003aaaaaaaaaaaaaaa", 18)); /* no such escape */
	ck_assert(!stream_id_ok("ta\0b", 4));
	ck_assert(stream_key_kept("SYNC_POSITION_ex/all", 20, "c1", 2));
	ck_assert(stream_key_kept("SYNC_MDN_ex/cn=x", 16, "", 0));
	ck_assert(!stream_key_kept("SYNC_POS_ex/all", 15, "c1", 2));
	ck_assert(!stream_key_kept("SYNC_ID_ex/u-alice", 18, "alice", 5));
	ck_assert(!stream_key_kept("SYNC_NAME_ex/alice", 18, "tu-alice", 8));
	ck_assert(stream_key_kept("SYNC_N_ex/alice", 15, "tu-alice", 8));
	ck_assert(!stream_key_kept("SYNC_N_ex/alice", 15, "u-alice", 7));
	free(a);
	free(zeros);
	free(upper);
	free(sid);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		first_batch_and_restart, users_alone_get_their_gid_lists, modify_rename_delete,
		membership_reaches_gid_lists, many_new_users_get_their_groups, many_new_users_without_groups,
		present_phase_drops_the_rest, refused_entries_go, malformed_applies_nothing,
		unexpected_position_applies_nothing, entries_read_otherwise_are_replaced,
		sync_groups_follow_membership, a_stream_deletes_only_its_kind,
		complete_batch_keeps_other_streams,
		complete_batch_beside_a_refresh, members_by_dn_follow_users,
		old_layout_reads_everything, damaged_keys_refuse_the_batch, ids_packed, NULL
	};
	return run_tests("changes", setup, teardown, tests);
}
