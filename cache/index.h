/* The NSS index: `<cache_dir>/nss.idx`, an immutable file libnss_dir maps read-only.
 *
 * dird writes a complete new file, renames it into place and then sets `valid` to 0 in the
 * old file's header.  Readers check that one word on every call (no system call), reopen
 * when it is 0, and otherwise never see a change: no reader takes a lock, so no local user
 * can make dird wait.  The old file stays reachable as `nss.idx.old` (a hard link made before
 * the rename) until it is marked, so a dird killed between the rename and the mark marks it
 * when it starts again (index_retire_old): a reader always reaches the newest file.
 * Everything in the file is bounds-checked before use, so a truncated or garbage file gives
 * "not found", never a crash.
 *
 * Layout: the header, then two record areas (users, groups: each record a u32 length and the
 * bytes of cache/record.h), then four open-addressing hash tables (linear probing, a power of
 * two slots, at least twice the entries): user by name, user by uid, group by name, group by
 * gid.  A slot holds 1 + the record's offset in its area, 0 for empty. */
#ifndef DIR_INDEX_H
#define DIR_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define DIR_INDEX_FILE "nss.idx"
#define DIR_INDEX_MAGIC "DIRIDX1"
#define DIR_INDEX_VERSION 2u /* 2: a group's members as lengths and one block */

struct index_area {
	uint64_t off;
	uint64_t len;
};

struct index_table {
	uint64_t off;
	uint32_t n_slots;
	uint32_t reserved;
};

struct index_header {
	char magic[8];
	uint32_t version;
	uint32_t valid; /* 1 while this file is current; dird sets 0 when it replaces it */
	uint64_t generation;
	uint64_t created;
	uint32_t n_users;
	uint32_t n_groups;
	struct index_area users, groups;
	struct index_table user_name, user_uid, group_name, group_gid;
};

enum index_kind { INDEX_USER, INDEX_GROUP };

struct index_map {
	const uint8_t *base;
	size_t len;
	const struct index_header *hdr;
};

/* Maps and checks a file.  0 on success; -1 (errno set) when missing or malformed. */
int index_open(const char *path, struct index_map *m);
void index_close(struct index_map *m);
/* False once dird has replaced the file: reopen. */
bool index_current(const struct index_map *m);

/* Look-ups return the record and its length, or NULL. */
const void *index_find_name(const struct index_map *m, enum index_kind kind, const char *name,
			    uint32_t *len);
const void *index_find_id(const struct index_map *m, enum index_kind kind, uint32_t id,
			  uint32_t *len);
/* Enumeration: *pos starts at 0; returns the next record or NULL at the end. */
const void *index_next(const struct index_map *m, enum index_kind kind, uint64_t *pos,
		       uint32_t *len);

uint32_t index_hash_name(const char *name);
uint32_t index_hash_id(uint32_t id);

/* dird's side, in three steps a crash may come between (ttl is entry_ttl, record.h):
 * index_write_tmp writes and syncs a new file next to path (its name in tmp); index_install
 * links path to path.old, renames tmp over path and syncs the directory; index_retire_old
 * marks path.old stale (unless it is path itself: the rename never happened) and removes it,
 * and at dird's start finishes what a crash left.  index_write does all three. */
#define DIR_INDEX_OLD_SUFFIX ".old"
int index_write_tmp(const char *path, struct dir_user *const *users, size_t n_users,
		    struct dir_group *const *groups, size_t n_groups, uint32_t ttl,
		    uint64_t generation, char *tmp, size_t tmplen);
int index_install(const char *path, const char *tmp);
int index_retire_old(const char *path);
int index_write(const char *path, struct dir_user *const *users, size_t n_users,
		struct dir_group *const *groups, size_t n_groups, uint32_t ttl, uint64_t generation);

#endif
