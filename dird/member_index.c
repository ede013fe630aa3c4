/* The groups naming a user, found by binary search in the groups' memberships sorted by a hash
 * of the member's name.  Sorting by the names themselves (a strcmp through the group and its
 * member list each step) took 3.5 s of a first sync's 35 at 3,000,000 memberships; the hashes
 * are sorted as numbers, by radix, and a name is compared only with those of its hash. */
#include "member_index.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A membership's ordinal counts the memberships of the groups before its own. */
static uint32_t group_of(const struct member_index *ix, uint32_t ordinal)
{
	size_t lo = 0, hi = ix->db->c.n_groups; /* the last group whose first is not above */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix->first[mid] <= ordinal)
			lo = mid;
		else
			hi = mid;
	}
	return (uint32_t)lo;
}

static const char *member_of(const struct member_index *ix, uint64_t ref, uint32_t *group)
{
	uint32_t ordinal = (uint32_t)ref;
	*group = group_of(ix, ordinal);
	return ix->db->c.groups[*group]->members[ordinal - ix->first[*group]];
}

/* FNV-1a from a seed each index draws: names a directory chose to share one hash would make
 * each lookup of them compare them all. */
static uint32_t hash_of(uint32_t seed, const char *s)
{
	uint32_t h = 2166136261u ^ seed;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h ^ (h >> 15);
}

#define RADIX ((size_t)1 << 16)

/* v sorted by its upper 32 bits (the hash), the order of equal ones kept (their ordinals go up):
 * two stable passes of 16 bits through tmp. */
static void sort_by_hash(uint64_t *v, uint64_t *tmp, size_t *count, size_t n)
{
	for (int shift = 32; shift < 64; shift += 16) {
		memset(count, 0, RADIX * sizeof(*count));
		for (size_t i = 0; i < n; i++)
			count[(v[i] >> shift) & 0xffff]++;
		size_t at = 0;
		for (size_t d = 0; d < RADIX; d++) {
			size_t c = count[d];
			count[d] = at;
			at += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[count[(v[i] >> shift) & 0xffff]++] = v[i];
		memcpy(v, tmp, n * sizeof(*v));
	}
}

int member_index_build(struct member_index *ix, const struct db *db)
{
	size_t n = 0;
	memset(ix, 0, sizeof(*ix));
	ix->db = db;
	for (size_t i = 0; i < db->c.n_groups; i++)
		n += db->c.groups[i]->n_members;
	if (n > UINT32_MAX || db->c.n_groups > UINT32_MAX)
		return -1;
	if (!n) /* no memberships: nothing to find */
		return 0;
	ix->first = malloc(db->c.n_groups * sizeof(*ix->first));
	ix->refs = malloc(n * sizeof(*ix->refs));
	uint64_t *tmp = malloc(n * sizeof(*tmp));
	size_t *count = malloc(RADIX * sizeof(*count));
	if (!ix->first || !ix->refs || !tmp || !count) {
		free(tmp);
		free(count);
		member_index_free(ix);
		return -1;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ix->seed = (uint32_t)ts.tv_nsec ^ (uint32_t)(uintptr_t)ix->refs;
	for (size_t i = 0; i < db->c.n_groups; i++) {
		const struct dir_group *g = db->c.groups[i];
		ix->first[i] = (uint32_t)ix->n;
		for (uint32_t m = 0; m < g->n_members; m++, ix->n++)
			ix->refs[ix->n] = (uint64_t)hash_of(ix->seed, g->members[m]) << 32 | ix->n;
	}
	sort_by_hash(ix->refs, tmp, count, ix->n);
	free(tmp);
	free(count);
	return 0;
}

void member_index_free(struct member_index *ix)
{
	free(ix->refs);
	free(ix->first);
	memset(ix, 0, sizeof(*ix));
}

int member_index_each_gid(const struct member_index *ix, const char *name,
			  int (*add)(uint32_t gid, void *arg), void *arg)
{
	if (!ix->n)
		return 0;
	uint64_t h = hash_of(ix->seed, name);
	size_t lo = 0, hi = ix->n; /* the first ref whose hash is not below name's */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix->refs[mid] >> 32 < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < ix->n && ix->refs[lo] >> 32 == h; lo++) {
		uint32_t group;
		if (strcmp(member_of(ix, ix->refs[lo], &group), name) != 0)
			continue; /* another name of the same hash */
		int rc = add(ix->db->c.groups[group]->gid, arg);
		if (rc)
			return rc;
	}
	return 0;
}
