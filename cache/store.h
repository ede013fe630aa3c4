/* The persistent cache: two tdb files in cache_dir laid out as TrueNAS's directory-services
 * cache, so tools of that ecosystem can read them.
 *   directoryservice_cache_user.tdb, directoryservice_cache_group.tdb
 *   keys "ID_<uid|gid>" and "NAME_<name>" (no trailing NUL), each the record as JSON
 *   (cache/record_json.h); "CACHE_EXPIRATION": decimal unix time the contents expire.
 * The files are root-only (0600): no other user can take a tdb lock dird would wait for.
 * A full refresh replaces the two as a pair: store_write_tmp writes and syncs both as
 * "<file>.tmp" (the users' first), store_install renames each into place (the users' first),
 * and store_recover, at dird's start, finishes a pair a crash left half installed and removes
 * what else it left, so the users' and the groups' files always come from the same refresh.
 * Single entries are added in a tdb transaction.  Only dird writes; callers serialise their
 * writes (tdb's fcntl locks do not separate threads of one process). */
#ifndef DIR_STORE_H
#define DIR_STORE_H

#include <stddef.h>
#include <time.h>

#include "record.h"

#define STORE_USER_FILE "directoryservice_cache_user.tdb"
#define STORE_GROUP_FILE "directoryservice_cache_group.tdb"
#define STORE_EXPIRATION_KEY "CACHE_EXPIRATION"

enum store_kind { STORE_USERS, STORE_GROUPS };

/* A key of someone else's that store_write_tmp writes into the new files beside the records
 * (a change stream's position and entry ids, dird/sync_keep.c).  Its key never starts as a
 * record's (ID_, NAME_) or CACHE_EXPIRATION does. */
struct store_extra {
	enum store_kind kind;
	const char *key;
	size_t key_len;
	const void *val;
	size_t len;
};

struct store_contents {
	struct dir_user **users;
	size_t n_users;
	struct dir_group **groups;
	size_t n_groups;
	time_t expires;
	const struct store_extra *extra; /* not owned: store_write_tmp's alone */
	size_t n_extra;
};

#define STORE_TMP_SUFFIX ".tmp"

int store_write_tmp(const char *cache_dir, const struct store_contents *c);
int store_install(const char *cache_dir, enum store_kind kind);
void store_recover(const char *cache_dir);
int store_insert_user(const char *cache_dir, const struct dir_user *u);
int store_insert_group(const char *cache_dir, const struct dir_group *g);
/* Removes a record's two keys (an entry the directory no longer has, or renamed). */
int store_delete(const char *cache_dir, enum store_kind kind, const char *name, uint32_t id);
/* Removes both files (a flush). */
int store_remove(const char *cache_dir);

/* Reads everything back.  -1 with err set when a file is unreadable or holds a bad record:
 * the caller discards the cache and rebuilds it. A missing file is an empty cache. */
int store_load(const char *cache_dir, struct store_contents *c, char *err, size_t errlen);
void store_contents_free(struct store_contents *c);
/* store_load record by record: each record read is handed to user() or group(), which own it
 * from then on (non-zero stops the load), with no list of them all built first.  The err of
 * store_load when a file is unreadable or holds a bad record (records before it were handed
 * over). */
int store_load_each(const char *cache_dir, int (*user)(struct dir_user *u, void *arg),
		    int (*group)(struct dir_group *g, void *arg), void *arg, char *err,
		    size_t errlen);

/* The JSON stored under `key` (e.g. "NAME_alice"), malloc'd; NULL when absent. */
char *store_fetch(const char *cache_dir, enum store_kind kind, const char *key);
/* Calls fn with every record's JSON, in tdb order; stops early when fn returns non-zero.  For
 * processes other than dird (dirctl): it holds one hash chain's lock at a time. */
int store_each(const char *cache_dir, enum store_kind kind,
	       int (*fn)(const char *json, size_t len, void *arg), void *arg);
/* The CACHE_EXPIRATION value, or 0. */
time_t store_expiration(const char *cache_dir);

/* Changes to both files at once (a change stream's batch, dird/changes.c): a tdb transaction on
 * each, committed together by store_txn_commit, or neither by store_txn_cancel.  Besides the
 * records, a stream keeps its own keys in them (all beginning "SYNC_", which no reader of
 * records visits); a value both files must agree on (a stream's position) is written to both
 * and read back by store_agreed only when both hold the same. */
struct store_txn;
struct store_txn *store_txn_begin(const char *cache_dir);
/* The same; a file it creates is sized for about `keys` keys (a stream's first read). */
struct store_txn *store_txn_begin_sized(const char *cache_dir, size_t keys);
int store_txn_put_user(struct store_txn *t, const struct dir_user *u);
int store_txn_put_group(struct store_txn *t, const struct dir_group *g);
int store_txn_delete(struct store_txn *t, enum store_kind kind, const char *name, uint32_t id);
/* A stream's own key: value (len bytes) stored, fetched (malloc'd, NULL when absent), removed. */
int store_txn_set(struct store_txn *t, enum store_kind kind, const char *key, const void *val,
		  size_t len);
void *store_txn_get(struct store_txn *t, enum store_kind kind, const char *key, size_t *len);
int store_txn_unset(struct store_txn *t, enum store_kind kind, const char *key);
/* Both files commit, or (a failure before the first commit) neither does; t is freed. */
int store_txn_commit(struct store_txn *t);
void store_txn_cancel(struct store_txn *t);
/* The value under key in both files, malloc'd, when both hold the same; else NULL. */
void *store_agreed(const char *cache_dir, const char *key, size_t *len);
/* Calls fn with every key beginning with prefix (a stream's own keys: "SYNC_"), its length (no
 * NUL) and its value, in tdb order; stops early when fn returns non-zero (that value).  A
 * missing file has no keys. */
int store_each_key(const char *cache_dir, enum store_kind kind, const char *prefix,
		   int (*fn)(const char *key, size_t key_len, const void *val, size_t len, void *arg),
		   void *arg);

#endif
