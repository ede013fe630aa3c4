/* Which groups of a db name a user as a member: the groups' memberships sorted by a hash of the
 * member's name, with a table of the hashes, so a batch that adds many users finds each one's
 * groups at once instead of reading every membership of the directory once per user
 * (member_index.c). */
#ifndef DIRD_MEMBER_INDEX_H
#define DIRD_MEMBER_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct member_index {
	const struct db *db;
	/* each membership: a hash of the member's name (upper 32 bits) and its ordinal (all groups'
	 * memberships counted in order), sorted by the hash */
	uint64_t *refs;
	size_t n;
	uint32_t *first;	/* the ordinal of each group's first membership */
	uint32_t *bucket;	/* the group of each 256th membership (member_index.c) */
	size_t n_buckets;
	uint32_t *table;	/* 1 + the index of each hash's first ref, 0 empty */
	unsigned shift;		/* 32 - log2 of the table's slots */
	uint32_t seed;		/* of the hash */
};

/* Indexes db's groups as they are now: any group added to or removed from db afterwards
 * makes the index wrong (member_index_free it and build again).  0, or -1 out of memory. */
int member_index_build(struct member_index *ix, const struct db *db);
void member_index_free(struct member_index *ix);

/* Calls add(gid, arg) for each group naming `name` (once a membership); stops at the first
 * nonzero it returns and returns that, else 0. */
int member_index_each_gid(const struct member_index *ix, const char *name,
			  int (*add)(uint32_t gid, void *arg), void *arg);

#endif
