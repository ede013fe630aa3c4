/* The change streams' own keys of the tdb pair (changes.c: SYNC_*, each entry's server id and
 * DN, each stream's position), held in memory (sync_keys.c): what a complete batch is applied
 * against away from the files, and then written into the new files with the records. */
#ifndef DIRD_SYNC_KEYS_H
#define DIRD_SYNC_KEYS_H

#include <stddef.h>

#include "store.h"

struct sync_key;
struct sync_keys {
	struct sync_key *v;	/* every key set, also those unset since (val NULL) */
	size_t n, cap;
	uint32_t *slots;	/* 1 + index into v, 0 empty; a power of two of them */
	size_t n_slots;
	struct store_extra *extra;	/* sync_keys_extra's */
};

/* Every SYNC_ key of both files, as they are now.  0, or -1 (k empty).  store_lock held. */
int sync_keys_read(struct sync_keys *k, const char *cache_dir);
/* The value under key, NUL-terminated and malloc'd (*len without the NUL), as
 * store_txn_get gives it; NULL when absent. */
void *sync_keys_get(const struct sync_keys *k, enum store_kind kind, const char *key, size_t *len);
int sync_keys_set(struct sync_keys *k, enum store_kind kind, const char *key, const void *val,
		  size_t len);
void sync_keys_unset(struct sync_keys *k, enum store_kind kind, const char *key);
/* The keys set, as store_contents' extra (n set); NULL out of memory. */
const struct store_extra *sync_keys_extra(struct sync_keys *k, size_t *n);
void sync_keys_free(struct sync_keys *k);

#endif
