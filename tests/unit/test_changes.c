/* A change stream's batches (dird/changes.c): puts, renames, deletes by id and by DN, present
 * phases and complete batches, membership changes reaching the members' gid lists, local
 * accounts and min_id's kin refused, sync_groups; what the tdb files hold afterwards (read back
 * as a restarted dird reads them) and the position saved with them; a malformed batch or an
 * unexpected position applies nothing. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "changes.h"
#include "index.h"
#include "publish.h"
#include "store.h"
#include "run_case.h"

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

static void start(const char *extra)
{
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
	char extra[256] = "";
	if (d.cfg.domains[0].n_sync_groups)
		snprintf(extra, sizeof(extra), "sync_groups = %s\n", d.cfg.domains[0].sync_groups[0]);
	stop();
	start(extra);
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
	g->members = calloc(16, sizeof(char *));
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

/* A first batch from no position: two users, a group of both. */
static void fill(void)
{
	struct change_batch b = batch("c1", NULL);
	b.complete_users = b.complete_groups = true;
	change_batch_add(&b, CHANGE_PUT, s("u-alice"), s("uid=alice,dc=ex"),
			 user("alice", 100001, "/bin/sh"), NULL);
	change_batch_add(&b, CHANGE_PUT, s("u-bob"), s("uid=bob,dc=ex"),
			 user("bob", 100002, "/bin/sh"), NULL);
	change_batch_add(&b, CHANGE_PUT, s("g-team"), s("cn=team,dc=ex"), NULL,
			 group("team", 95000, "alice bob"));
	ck_assert_int_eq(apply(&b), CHANGES_APPLIED);
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

	b = batch("c3", "c2");
	change_batch_add(&b, CHANGE_DELETE, s("u-alice"), NULL, NULL, NULL);
	change_batch_add(&b, CHANGE_DELETE, NULL, s("uid=robert,dc=ex"), NULL, NULL);
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
	ck_assert_int_eq(apply(&b), CHANGES_RESYNC);
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
	ck_assert_int_eq(apply(&b), CHANGES_RESYNC);
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

/* A complete batch writes new files: the other streams' positions and keys go into them. */
START_TEST(complete_batch_keeps_other_streams)
{
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

int main(void)
{
	const TTest *const tests[] = {
		first_batch_and_restart, modify_rename_delete, membership_reaches_gid_lists,
		present_phase_drops_the_rest, refused_entries_go, malformed_applies_nothing,
		unexpected_position_applies_nothing, entries_read_otherwise_are_replaced,
		sync_groups_follow_membership, complete_batch_keeps_other_streams,
		complete_batch_beside_a_refresh, NULL
	};
	return run_tests("changes", setup, teardown, tests);
}
