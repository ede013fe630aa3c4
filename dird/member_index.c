/* The groups naming a user: the groups' memberships sorted by a hash of the member's name, and
 * a table from each hash to its first membership.  Sorting by the names themselves (a strcmp
 * through the group and its member list each step) took 3.5 s of a first sync's 35 at 3,000,000
 * memberships; the hashes are sorted as numbers, by radix, and a name is compared only with
 * those of its hash.  A binary search of them, each lookup in another part of the array, was
 * as slow again: the table finds a name's run at once.  Lookups were still 6 s of a first
 * sync's 33 s of CPU at a million users, all in reads far apart: each membership now keeps its
 * hash beside its ordinal (the hashes were taken again from the names: a search for the group,
 * its member list, the name), so only those of the name's own hash are read, and a table of
 * buckets (group_of) narrows the search for their group. */
#include "member_index.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* memberships a bucket: most groups are small, and a bucket's span only a few of them */
#define BUCKET_SHIFT 8

/* The group of the membership with this ordinal (the ordinal counts the memberships of the
 * groups before its own) among groups [lo, hi): the last whose first is not above. */
static uint32_t group_among(const struct member_index *ix, uint32_t ordinal, size_t lo, size_t hi)
{
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix->first[mid] <= ordinal)
			lo = mid;
		else
			hi = mid;
	}
	return (uint32_t)lo;
}

/* Among the groups of its bucket's memberships: a search of the whole list of groups, a
 * hundred thousand, read a dozen places far apart for each membership. */
static uint32_t group_of(const struct member_index *ix, uint32_t ordinal)
{
	size_t b = ordinal >> BUCKET_SHIFT;
	return group_among(ix, ordinal, ix->bucket[b],
			   b + 1 < ix->n_buckets ? ix->bucket[b + 1] + 1 : ix->db->c.n_groups);
}

static const char *member_of(const struct member_index *ix, uint32_t ordinal, uint32_t *group)
{
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

static size_t slot_of(const struct member_index *ix, uint32_t h)
{
	return (size_t)((h * 0x9E3779B1u) >> ix->shift);
}

/* The hash of ref i. */
static uint32_t hash_at(const uint64_t *refs, size_t i)
{
	return (uint32_t)(refs[i] >> 32);
}

/* The slot of hash h: the index + 1 of its first ref, or 0 where it would go. */
static uint32_t *slot_for(const struct member_index *ix, uint32_t h)
{
	size_t mask = ((size_t)1 << (32 - ix->shift)) - 1;
	for (size_t i = slot_of(ix, h);; i = (i + 1) & mask) {
		uint32_t *slot = &ix->table[i];
		if (!*slot || hash_at(ix->refs, *slot - 1) == h)
			return slot;
	}
}

/* The table, at most half full, of each hash's first ref. */
static int build_table(struct member_index *ix)
{
	size_t distinct = 0;
	for (size_t i = 0; i < ix->n; i++)
		distinct += !i || hash_at(ix->refs, i) != hash_at(ix->refs, i - 1);
	unsigned bits = 4;
	while (((size_t)1 << bits) < 2 * distinct)
		bits++;
	if (bits > 32 || !(ix->table = calloc((size_t)1 << bits, sizeof(*ix->table))))
		return -1;
	ix->shift = 32 - bits;
	for (size_t i = 0; i < ix->n; i++) {
		uint32_t *slot = slot_for(ix, hash_at(ix->refs, i));
		if (!*slot)
			*slot = (uint32_t)i + 1;
	}
	return 0;
}

/* Each bucket's first group: that of its first membership. */
static int build_buckets(struct member_index *ix)
{
	ix->n_buckets = ((ix->n - 1) >> BUCKET_SHIFT) + 1;
	if (!(ix->bucket = malloc(ix->n_buckets * sizeof(*ix->bucket))))
		return -1;
	size_t g = 0;
	for (size_t b = 0; b < ix->n_buckets; b++) {
		size_t ordinal = b << BUCKET_SHIFT;
		while (g + 1 < ix->db->c.n_groups && ix->first[g + 1] <= ordinal)
			g++;
		ix->bucket[b] = (uint32_t)g;
	}
	return 0;
}

int member_index_build(struct member_index *ix, const struct db *db)
{
	size_t n = 0;
	memset(ix, 0, sizeof(*ix));
	ix->db = db;
	for (size_t i = 0; i < db->c.n_groups; i++)
		n += db->c.groups[i]->n_members;
	if (n >= UINT32_MAX || db->c.n_groups > UINT32_MAX)
		return -1;
	if (!n) /* no memberships: nothing to find */
		return 0;
	ix->first = malloc(db->c.n_groups * sizeof(*ix->first));
	uint64_t *keys = ix->refs = malloc(n * sizeof(*keys)), *tmp = malloc(n * sizeof(*tmp));
	size_t *count = malloc(RADIX * sizeof(*count));
	int rc = ix->first && keys && tmp && count ? 0 : -1;
	if (rc == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ix->seed = (uint32_t)ts.tv_nsec ^ (uint32_t)(uintptr_t)keys;
		for (size_t i = 0; i < db->c.n_groups; i++) {
			const struct dir_group *g = db->c.groups[i];
			ix->first[i] = (uint32_t)ix->n;
			for (uint32_t m = 0; m < g->n_members; m++, ix->n++)
				keys[ix->n] = (uint64_t)hash_of(ix->seed, g->members[m]) << 32 | ix->n;
		}
		sort_by_hash(keys, tmp, count, ix->n);
	}
	free(tmp);
	free(count);
	if (rc == 0)
		rc = build_buckets(ix);
	if (rc == 0)
		rc = build_table(ix);
	if (rc < 0)
		member_index_free(ix);
	return rc;
}

void member_index_free(struct member_index *ix)
{
	free(ix->refs);
	free(ix->first);
	free(ix->table);
	free(ix->bucket);
	memset(ix, 0, sizeof(*ix));
}

int member_index_each_gid(const struct member_index *ix, const char *name,
			  int (*add)(uint32_t gid, void *arg), void *arg)
{
	if (!ix->n)
		return 0;
	uint32_t h = hash_of(ix->seed, name), *slot = slot_for(ix, h);
	/* h's run: names of another hash sharing its slot lie elsewhere (the table probes on) */
	for (size_t i = *slot ? *slot - 1 : ix->n; i < ix->n && hash_at(ix->refs, i) == h; i++) {
		uint32_t group;
		if (strcmp(member_of(ix, (uint32_t)ix->refs[i], &group), name) == 0) {
			int rc = add(ix->db->c.groups[group]->gid, arg);
			if (rc)
				return rc;
		}
	}
	return 0;
}
