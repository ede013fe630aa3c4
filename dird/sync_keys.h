/* The change streams' own keys of the tdb pair (stream_keys.h: each entry's server id, name and
 * DN, each stream's position), held in memory (sync_keys.c): what a complete batch is applied
 * against away from the files, and then written into the new files with the records. */
#ifndef DIRD_SYNC_KEYS_H
#define DIRD_SYNC_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Keys and values copied one after another into large blocks, never moved: a million of them
 * cost their bytes, not a million allocations.  Freed all at once. */
struct sync_bytes {
	char **blocks;
	size_t n_blocks, cap_blocks;
	size_t used, room;	/* of the last block */
};
/* A copy of key (key_len bytes), a NUL, then of val (len bytes) and a NUL; NULL out of memory. */
char *sync_bytes_add(struct sync_bytes *b, const char *key, size_t key_len, const void *val,
		     size_t len);
void sync_bytes_free(struct sync_bytes *b);

struct sync_key;
struct sync_keys {
	struct sync_key *v;	/* every key set, also those unset since */
	size_t n, cap;
	struct sync_bytes bytes;
	uint32_t *slots;	/* 1 + index into v, 0 empty; a power of two of them */
	size_t n_slots;
	struct store_extra *extra;	/* sync_keys_extra's */
};

/* Every stream key of both files, as they are now, but those stream_key_kept leaves out (the
 * layout before's, damaged ones).  0, or -1 (k empty).  store_lock held. */
int sync_keys_read(struct sync_keys *k, const char *cache_dir);
/* The value under key, NUL-terminated and malloc'd (*len without the NUL), as
 * store_txn_get gives it; NULL when absent. */
void *sync_keys_get(const struct sync_keys *k, enum store_kind kind, const char *key, size_t *len);
int sync_keys_set(struct sync_keys *k, enum store_kind kind, const char *key, const void *val,
		  size_t len);
void sync_keys_unset(struct sync_keys *k, enum store_kind kind, const char *key);
/* The keys set, as store_contents' extra (n set); NULL out of memory.  Once called, k can only
 * be freed (it keeps just what the extra points to). */
const struct store_extra *sync_keys_extra(struct sync_keys *k, size_t *n);
void sync_keys_free(struct sync_keys *k);

#endif
