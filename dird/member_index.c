/* The groups naming a user, found by binary search in the groups' sorted member lists. */
#include "member_index.h"

#include <stdlib.h>
#include <string.h>

static const char *member_of(const struct db *db, uint64_t ref)
{
	return db->c.groups[ref >> 32]->members[(uint32_t)ref];
}

static int by_member(const void *a, const void *b, void *arg)
{
	const struct db *db = arg;
	return strcmp(member_of(db, *(const uint64_t *)a), member_of(db, *(const uint64_t *)b));
}

int member_index_build(struct member_index *ix, const struct db *db)
{
	size_t n = 0;
	for (size_t i = 0; i < db->c.n_groups; i++)
		n += db->c.groups[i]->n_members;
	memset(ix, 0, sizeof(*ix));
	ix->db = db;
	if (n && !(ix->refs = malloc(n * sizeof(*ix->refs))))
		return -1;
	for (size_t i = 0; i < db->c.n_groups; i++)
		for (uint32_t m = 0; m < db->c.groups[i]->n_members; m++)
			ix->refs[ix->n++] = (uint64_t)i << 32 | m;
	if (ix->n) /* no memberships: no array, and qsort_r's may not be NULL */
		qsort_r(ix->refs, ix->n, sizeof(*ix->refs), by_member, (void *)db);
	return 0;
}

void member_index_free(struct member_index *ix)
{
	free(ix->refs);
	memset(ix, 0, sizeof(*ix));
}

int member_index_each_gid(const struct member_index *ix, const char *name,
			  int (*add)(uint32_t gid, void *arg), void *arg)
{
	size_t lo = 0, hi = ix->n; /* the first ref whose member is not below name */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(member_of(ix->db, ix->refs[mid]), name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < ix->n && strcmp(member_of(ix->db, ix->refs[lo]), name) == 0; lo++) {
		int rc = add(ix->db->c.groups[ix->refs[lo] >> 32]->gid, arg);
		if (rc)
			return rc;
	}
	return 0;
}
