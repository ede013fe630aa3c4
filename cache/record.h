/* Users and groups as dird serves them: what NSS needs, plus the domain they came from. */
#ifndef DIR_RECORD_H
#define DIR_RECORD_H

#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

/* TrueNAS's synthetic datastore id: uid or gid + this. */
#define DIR_SYNTHETIC_ID_BASE 100000000ULL

/* A user's SSH public keys: at most this many, each at most this long (an RSA key of 16384
 * bits is about 2.8 KB; certificates with many principals are longer). */
#define DIR_MAX_SSH_KEYS 64
#define DIR_MAX_SSH_KEY_LEN 16384

struct dir_user {
	char *name;
	uint32_t uid;
	uint32_t gid;
	uint64_t fetched; /* unix time it was read from the directory */
	char *gecos;
	char *home;
	char *shell;
	char *email;	/* may be NULL; kept in the tdb cache, not in the NSS index */
	char *sid;	/* AD: S-1-5-21-...; NULL otherwise; kept in the tdb cache only */
	char *domain;
	uint32_t *groups; /* supplementary gids, without the primary one */
	char **ssh_keys;  /* authorized_keys lines (ssh_key_attr); kept in the tdb cache only */
	/* the two counts side by side: no padding after each (dird holds a million of these) */
	uint32_t n_groups;
	uint32_t n_ssh_keys;
	/* NULL, or one block holding name, gecos, home, shell, email, sid and domain, which
	 * then point into it.  dird's db packs what it holds: the block is the struct's own
	 * allocation, just past it (packed == (char *)(u + 1)), one allocation a user, not nine;
	 * its gid list then comes first in that block, before the strings
	 * (dir_user_inline_groups), until a gid is added (the list then is a malloc'd one of its
	 * own); its domain and shell may be copies many users share instead, and its name the
	 * end of its home's bytes ("/home/alice") */
	char *packed;
};

struct dir_group {
	char *name;
	uint32_t gid;
	uint64_t fetched;
	char *sid;
	char *domain;
	char **members;
	uint32_t n_members;
	/* members is one block: the array, then the names it points to (dird's db packs what it
	 * holds: a million memberships are not a million allocations) */
	bool members_packed;
	/* dird: a big group's record as encoded with encoded_ttl (dird/lookup.c); db never
	 * changes a group it holds, so the bytes stay right as long as the group lives */
	struct buf encoded;
	uint32_t encoded_ttl;
};

/* Frees what a record holds and zeroes it (the struct itself is the caller's). */
void dir_user_clear(struct dir_user *u);
void dir_group_clear(struct dir_group *g);
/* Frees a members array as dir_group holds it: one block when packed, else each name too. */
void dir_members_free(char **members, uint32_t n, bool packed);
/* Moves g's members into one block; without the memory for it g stays as it is. */
void dir_group_pack_members(struct dir_group *g);
/* Where a gid list packed into u's own allocation starts (a packed u, see `packed`: just past
 * the struct), else NULL. */
uint32_t *dir_user_inline_groups_at(const struct dir_user *u);
/* Whether u->groups is such a list: it is freed with u, never by itself. */
bool dir_user_inline_groups(const struct dir_user *u);
/* Frees a record made with malloc, what it holds and all; NULL is fine. */
void dir_user_destroy(struct dir_user *u);
void dir_group_destroy(struct dir_group *g);

/* The binary form, shared by the socket protocol and the NSS index:
 *   user:  str name, u32 uid, u32 gid, u64 refresh_at, u64 expires, str gecos, str home,
 *          str shell, u32 n, n x u32 gid
 *   group: str name, u32 gid, u64 refresh_at, u64 expires, u32 n, u32 len, n x u8 member
 *          length, then len bytes: the n member names, each ending with a NUL
 * refresh_at and expires (unix times) come from `fetched` and the entry_ttl given to the
 * encoder: three quarters of it, and all of it; ttl 0 means never. */
void record_encode_user(struct buf *b, const struct dir_user *u, uint32_t ttl);
void record_encode_group(struct buf *b, const struct dir_group *g, uint32_t ttl);
/* A user's SSH public keys, as DIR_OP_SSH_KEYS answers: u32 n, n x str key. */
void record_encode_ssh_keys(struct buf *b, const struct dir_user *u);

enum record_result { RECORD_OK, RECORD_ERANGE, RECORD_BAD };

/* Decoders for NSS: fill the caller's struct and buffer from a bounded record. */
enum record_result record_to_passwd(const void *rec, size_t len, struct passwd *pw, char *buf,
				    size_t buflen);
enum record_result record_to_group(const void *rec, size_t len, struct group *gr, char *buf,
				   size_t buflen);

/* The pieces lookups need without decoding a whole record. */
const char *record_name(const void *rec, size_t len);
int record_id(const void *rec, size_t len, uint32_t *id);
/* When the record should be refreshed, and when it is stale.  -1 if malformed. */
int record_times(const void *rec, size_t len, bool user, uint64_t *refresh_at,
		 uint64_t *expires);
/* A user's supplementary gids: *n set, pointer to n unaligned u32s, or NULL if malformed. */
const void *record_user_groups(const void *rec, size_t len, uint32_t *gid, uint32_t *n);

#endif
