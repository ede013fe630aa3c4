/* dird's member index (a batch of many new users finds their groups through it): for every
 * name, the gids of the groups naming it, once a membership and in the groups' order, as a scan
 * of every group finds them, with groups of every size (none, one member, thousands) side by
 * side, names sharing a prefix, and a name no group holds. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "member_index.h"
#include "run_case.h"

#define N_NAMES 3000
#define N_GROUPS 2000

struct gids {
	uint32_t v[N_GROUPS * 2];
	size_t n;
};

static int add_gid(uint32_t gid, void *arg)
{
	struct gids *l = arg;
	l->v[l->n++] = gid;
	return 0;
}

static int stop_at_first(uint32_t gid, void *arg)
{
	(void)arg;
	return (int)gid;
}

static void name_of(char *n, size_t len, unsigned i)
{
	snprintf(n, len, "user%u", i);
}

/* Group g's members: sizes from none to a few thousand, so that groups lie on both sides of
 * every few hundred memberships and many fit within a few hundred. */
static struct dir_group *group_at(unsigned g, unsigned *seed)
{
	struct dir_group *x = calloc(1, sizeof(*x));
	ck_assert_ptr_nonnull(x);
	char n[32];
	snprintf(n, sizeof(n), "group%u", g);
	x->name = strdup(n);
	x->gid = 50000 + g;
	unsigned size = g % 97 == 0 ? 0 : g % 401 == 0 ? 2500 + rand_r(seed) % 500 :
			g % 7 == 0 ? 1 : rand_r(seed) % 12;
	x->members = calloc(size + 1, sizeof(char *));
	ck_assert_ptr_nonnull(x->members);
	for (unsigned m = 0; m < size; m++) {
		name_of(n, sizeof(n), (unsigned)rand_r(seed) % N_NAMES);
		x->members[x->n_members++] = strdup(n);
	}
	return x;
}

START_TEST(each_name_finds_the_groups_a_scan_finds)
{
	struct db db;
	db_init(&db);
	unsigned seed = 18;
	for (unsigned g = 0; g < N_GROUPS; g++)
		ck_assert_int_eq(db_add_group(&db, group_at(g, &seed)), 0);
	struct member_index ix;
	ck_assert_int_eq(member_index_build(&ix, &db), 0);
	size_t found = 0;
	for (unsigned i = 0; i <= N_NAMES; i++) { /* the last: in no group */
		char n[32];
		name_of(n, sizeof(n), i);
		struct gids want = { .n = 0 }, got = { .n = 0 };
		for (size_t g = 0; g < db.c.n_groups; g++)
			for (uint32_t m = 0; m < db.c.groups[g]->n_members; m++)
				if (strcmp(db.c.groups[g]->members[m], n) == 0)
					want.v[want.n++] = db.c.groups[g]->gid;
		ck_assert_int_eq(member_index_each_gid(&ix, n, add_gid, &got), 0);
		ck_assert_uint_eq(got.n, want.n);
		ck_assert_int_eq(memcmp(got.v, want.v, want.n * sizeof(*want.v)), 0);
		if (want.n)
			ck_assert_int_eq(member_index_each_gid(&ix, n, stop_at_first, NULL),
					 (int)want.v[0]);
		found += want.n;
	}
	ck_assert_uint_gt(found, 10000);
	member_index_free(&ix);
	db_free(&db);
}
END_TEST

/* Groups without a member: nothing to index, nothing found. */
START_TEST(no_memberships_find_nothing)
{
	struct db db;
	db_init(&db);
	unsigned seed = 0;
	ck_assert_int_eq(db_add_group(&db, group_at(0, &seed)), 0); /* 0 % 97: empty */
	struct member_index ix;
	ck_assert_int_eq(member_index_build(&ix, &db), 0);
	struct gids got = { .n = 0 };
	ck_assert_int_eq(member_index_each_gid(&ix, "user1", add_gid, &got), 0);
	ck_assert_uint_eq(got.n, 0);
	member_index_free(&ix);
	db_free(&db);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = { each_name_finds_the_groups_a_scan_finds,
				       no_memberships_find_nothing, NULL };
	return run_tests("member_index", NULL, NULL, tests);
}
