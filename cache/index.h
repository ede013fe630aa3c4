/* The NSS index: `<cache_dir>/nss.idx`, an immutable file libnss_dir maps read-only, and beside
 * it `nss.idx.delta`, a small one with what changed since nss.idx was written.
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
 * A change (a lookup's answer, a stream's entry) costs a delta, not the whole file: dird
 * writes every entry changed since nss.idx was written, and the names and ids that are gone
 * (tombstones), to a new delta file, renames it over nss.idx.delta and then raises
 * `delta_seq` in nss.idx's header.  Readers compare that word with the one they opened and
 * reopen both files when it moved: the same one-word protocol.  A delta is used only with the
 * nss.idx it was written for (its base_generation), so after a crash or a full rewrite an old
 * delta is ignored; its seq is at least the one announced (it is renamed in first).  When it
 * grows past a bound dird folds it into a full rewrite.
 *
 * Layout: the header, then two record areas (users, groups: each record a u32 length and the
 * bytes of cache/record.h), then four open-addressing hash tables (linear probing, a power of
 * two slots, at least twice the entries): user by name, user by uid, group by name, group by
 * gid.  A slot holds 1 + the record's offset in its area, 0 for empty.  Then two key areas
 * (each key a u32 length, str name, u32 id: record_name and record_id read it; "" or
 * INDEX_NO_ID for none) with their four tables: in nss.idx the host's local names and ids
 * (/etc/passwd, /etc/group), which libnss_dir answers NOTFOUND at once so `files` answers them;
 * in a delta the names and ids gone since nss.idx. */
#ifndef DIR_INDEX_H
#define DIR_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define DIR_INDEX_FILE "nss.idx"
#define DIR_INDEX_DELTA_SUFFIX ".delta"
#define DIR_INDEX_MAGIC "DIRIDX1"
#define DIR_INDEX_VERSION 3u /* 2: a group's members as lengths and one block; 3: deltas,
			      * local keys, authoritative_until */
#define INDEX_NO_ID UINT32_MAX

/* header flags */
#define INDEX_DELTA 1u		/* a delta file */
#define INDEX_NAMES_LOWER 2u	/* every name served is lower case (authoritative misses) */
#define INDEX_HASHED 4u		/* contents_hash and body_hash are set (index_matches) */

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
	uint32_t delta_seq;		/* nss.idx: the delta in force (0: none); dird raises it */
	uint32_t flags;
	/* nss.idx: until when (unix time) a name or id in neither file is not in the
	 * directory either: libnss_dir answers NOTFOUND without asking.  dird writes it. */
	uint64_t authoritative_until;
	uint64_t base_generation;	/* a delta: the nss.idx it applies to */
	struct index_area gone_users, gone_groups;	/* keys (local ones, or tombstones) */
	struct index_table gone_user_name, gone_user_uid, gone_group_name, gone_group_gid;
	/* With INDEX_HASHED (readers of version 3 before it stop at the field above, and the
	 * areas are found by their offsets): what index_matches compares. */
	uint64_t contents_hash;	/* of the records and keys as encoded, whatever their order */
	uint64_t body_hash;	/* of every byte after the header, in order */
};

enum index_kind { INDEX_USER, INDEX_GROUP };

struct index_map {
	const uint8_t *base;
	size_t len;
	const struct index_header *hdr;
};

/* nss.idx with its delta, as libnss_dir reads them. */
struct index_view {
	struct index_map base, delta;	/* delta.base NULL: none */
	uint32_t delta_seq;		/* base's delta_seq when opened */
};

/* Opens path and the delta that goes with it.  0, or -1 (errno set) when path is missing or
 * malformed (a delta that is malformed or for another nss.idx is left out). */
int index_view_open(const char *path, struct index_view *v);
void index_view_close(struct index_view *v);
/* False once dird has replaced nss.idx or its delta: reopen. */
bool index_view_current(const struct index_view *v);

/* What a view knows of a name or id. */
enum index_found {
	INDEX_ABSENT,	/* in neither file */
	INDEX_GONE,	/* a tombstone: dird no longer has it */
	INDEX_LOCAL,	/* a local name or id: never served */
	INDEX_FOUND,	/* the record (from the delta if it has one) */
};
enum index_found index_view_find(const struct index_view *v, enum index_kind kind,
				 const char *name, uint32_t id, const void **rec, uint32_t *len);
/* Enumeration of nss.idx's records the delta leaves as they are, then the delta's. */
const void *index_view_next(const struct index_view *v, enum index_kind kind, uint64_t *pos,
			    uint32_t *len);
/* Whether a name is bare (no '@', no '\\') and lower case: INDEX_NAMES_LOWER's test. */
bool index_name_lower(const char *name);
/* Whether a miss of `name` (NULL: an id) is decisive at unix time now. */
bool index_view_authoritative(const struct index_view *v, const char *name, uint64_t now);

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

/* A name or id (the other "" or INDEX_NO_ID) among the keys of a file. */
struct index_key {
	const char *name;
	uint32_t id;
};

/* What a file holds. */
struct index_contents {
	struct dir_user *const *users;
	size_t n_users;
	struct dir_group *const *groups;
	size_t n_groups;
	const struct index_key *gone_users, *gone_groups;
	size_t n_gone_users, n_gone_groups;
	uint32_t ttl;			/* entry_ttl, record.h */
	uint64_t generation;		/* nss.idx: its generation; a delta: its seq */
	uint64_t base_generation;	/* a delta: the nss.idx it is for */
	uint32_t flags;
};
int index_write_contents_tmp(const char *path, const struct index_contents *c, char *tmp,
			     size_t tmplen);
/* Whether the nss.idx at path holds exactly what index_write_contents_tmp would write of c now
 * (but c's generation: *generation gets the file's): current (valid), written with its hashes,
 * no delta in force nor one beside it, the same flags and counts, the records and keys of c
 * as they would be encoded (in any order), and every byte after the header as it was written
 * (a damaged file is not).  Then dird's start keeps it rather than writing it again.  Reads
 * the whole file; false on any doubt (an error included). */
bool index_matches(const char *path, const struct index_contents *c, uint64_t *generation,
		   uint64_t *authoritative_until);
/* Raises path's delta_seq (a delta renamed in) or sets its authoritative_until, in place. */
int index_set_delta_seq(const char *path, uint32_t seq);
int index_set_authoritative(const char *path, uint64_t until);
/* The delta's path beside path. */
int index_delta_path(const char *path, char *out, size_t outlen);

/* dird's side, in three steps a crash may come between (ttl is entry_ttl, record.h):
 * index_write_contents_tmp writes and syncs a new file next to path (its name in tmp); index_install
 * links path to path.old, renames tmp over path and syncs the directory; index_retire_old
 * marks path.old stale (unless it is path itself: the rename never happened) and removes it,
 * and at dird's start finishes what a crash left.  index_write does all three (no keys). */
#define DIR_INDEX_OLD_SUFFIX ".old"
int index_install(const char *path, const char *tmp);
int index_retire_old(const char *path);
int index_write(const char *path, struct dir_user *const *users, size_t n_users,
		struct dir_group *const *groups, size_t n_groups, uint32_t ttl, uint64_t generation);

#endif
