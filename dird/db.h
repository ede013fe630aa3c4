/* dird's in-memory view of the cache: every user and group it serves, found by name or id. */
#ifndef DIRD_DB_H
#define DIRD_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "store.h"

struct db_map {
	uint32_t *slots; /* 1 + index into the owner's array, 0 empty */
	uint32_t n_slots;
};

struct db {
	struct store_contents c; /* owns the records */
	size_t cap_users, cap_groups;
	struct db_map user_name, user_uid, group_name, group_gid;
};

void db_init(struct db *db);
void db_free(struct db *db);

/* Takes ownership of u (or g): 0 added; 1 when its name or id is already taken (the first one
 * stays, the new one is freed; the caller logs it); -1 out of memory (freed too).  A user not
 * packed already (db_pack_user) is packed into a new allocation and u itself freed whatever
 * the result: the caller finds the record db holds by its name or uid. */
int db_add_user(struct db *db, struct dir_user *u);
int db_add_group(struct db *db, struct dir_group *g);
/* A load of many records at once (the cache read back at the start): each appended, packed,
 * with no look at the maps (0, or -1 out of memory: freed), then db_index_appended builds the
 * maps once at their size, dropping a record whose name or id one appended before it has, as
 * db_add_user and db_add_group would.  It returns how many it dropped, or -1 without the memory
 * (db then finds nothing: the caller frees it).  Until it has run db finds nothing. */
int db_append_user(struct db *db, struct dir_user *u);
int db_append_group(struct db *db, struct dir_group *g);
long db_index_appended(struct db *db);
/* A user as db holds it: the struct, its gid list and its strings in one allocation
 * (dir_user's `packed` points just past the struct; its domain's name and its shell may be one
 * copy many users share, its name the end of its home's bytes), so that a million users are a
 * million allocations, not two to nine million with a malloc header and rounding each.  u is
 * freed (u itself when it is packed so already: one given a gid list since is packed again
 * with it, or, without the memory for that, kept as it is); NULL without the memory (u freed
 * too).  A change stream packs what it reads, a thousand at a time (sync_stream.c): db then
 * keeps those blocks, the batch no second copy. */
struct dir_user *db_pack_user(struct dir_user *u);
/* A packed copy of u's struct, strings and gid list (the list in the same allocation: a
 * million users' lists are not a million more allocations of 32 bytes); its SSH keys are u's
 * (the caller copies or takes them).  NULL out of memory. */
struct dir_user *db_pack_copy(const struct dir_user *u);
/* Puts u where old (a record db holds, of the same name and uid) stands and frees old; takes
 * ownership of u.  The record db now holds, or NULL (u freed; old stays) when old is not db's
 * or u is not its like, or without the memory. */
struct dir_user *db_replace_user(struct db *db, struct dir_user *old, struct dir_user *u);

struct dir_user *db_user_by_name(const struct db *db, const char *name);
struct dir_user *db_user_by_uid(const struct db *db, uint32_t uid);
struct dir_group *db_group_by_name(const struct db *db, const char *name);
struct dir_group *db_group_by_gid(const struct db *db, uint32_t gid);

/* Removes the user (group) with this name, if any, and the one with this id, if any. */
void db_remove_user(struct db *db, const char *name, uint32_t uid);
void db_remove_group(struct db *db, const char *name, uint32_t gid);

/* Drops every user `keep` says no to, in one pass; returns how many. */
size_t db_keep_users(struct db *db, bool (*keep)(const struct dir_user *u, void *arg), void *arg);

/* Builds every user's supplementary gid list from the groups' member lists, each then packed
 * with its record: a user given a list is a new record (db's pointers to it change). */
int db_link_groups(struct db *db);
/* Adds a newly found group's gid to the lists of its members already in db. */
int db_link_group(struct db *db, const struct dir_group *g);
/* One user's supplementary gid list: gid added (not twice, never the primary one), dropped. */
int db_user_add_gid(struct dir_user *u, uint32_t gid);
void db_user_drop_gid(struct dir_user *u, uint32_t gid);
/* u's gid list replaced by groups (n of them, malloc'd: u's now); the old one freed unless it
 * is packed with u. */
void db_user_set_groups(struct dir_user *u, uint32_t *groups, uint32_t n);
/* from's gid list moved to `to` (copied out when it is packed with from), from left with none;
 * -1 out of memory (both as they were). */
int db_user_take_groups(struct dir_user *to, struct dir_user *from);

#endif
