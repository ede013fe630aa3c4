#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tdb.h>
#include <unistd.h>

#include "fileutil.h"
#include "protocol.h"
#include "record_json.h"
#include "tdb_build.h"
#include "tdb_open.h"
#include "tdb_walk.h"

#define MAX_KEY (DIR_MAX_NAME + 8)
/* The key each record is read back through (it is under ID_<id> too). */
#define RECORD_PREFIX "NAME_"

static int path_of(char *out, size_t len, const char *dir, enum store_kind kind, const char *sfx)
{
	int n = snprintf(out, len, "%s/%s%s", dir, kind == STORE_USERS ? STORE_USER_FILE :
					   STORE_GROUP_FILE, sfx);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static TDB_DATA datum(const char *s, size_t len)
{
	return (TDB_DATA){ .dptr = (unsigned char *)s, .dsize = len };
}

/* Stores one JSON value under ID_<id> and NAME_<name>. */
static int put_pair(struct tdb_context *t, uint32_t id, const char *name, const char *json)
{
	char key[MAX_KEY];
	TDB_DATA val = datum(json, strlen(json));
	int n = snprintf(key, sizeof(key), "ID_%" PRIu32, id);
	if (tdb_store(t, datum(key, (size_t)n), val, TDB_REPLACE) != 0)
		return -1;
	n = snprintf(key, sizeof(key), "NAME_%s", name);
	if (n < 0 || (size_t)n >= sizeof(key))
		return -1;
	return tdb_store(t, datum(key, (size_t)n), val, TDB_REPLACE);
}

static int put_user(struct tdb_context *t, const struct dir_user *u)
{
	char *json = record_user_to_json(u);
	int rc = json ? put_pair(t, u->uid, u->name, json) : -1;
	free(json);
	return rc;
}

static int put_group(struct tdb_context *t, const struct dir_group *g)
{
	char *json = record_group_to_json(g);
	int rc = json ? put_pair(t, g->gid, g->name, json) : -1;
	free(json);
	return rc;
}

/* One JSON value under ID_<id> and NAME_<name>, appended to a new file. */
static int build_pair(struct tdb_build *b, uint32_t id, const char *name, char *json)
{
	char key[MAX_KEY];
	int rc = -1;
	int n = json ? snprintf(key, sizeof(key), "ID_%" PRIu32, id) : -1;
	if (n > 0 && tdb_build_put(b, key, (size_t)n, json, strlen(json)) == 0) {
		n = snprintf(key, sizeof(key), "NAME_%s", name);
		if (n > 0 && (size_t)n < sizeof(key))
			rc = tdb_build_put(b, key, (size_t)n, json, strlen(json));
	}
	free(json);
	return rc;
}

static int write_tmp(const char *dir, enum store_kind kind, const struct store_contents *c)
{
	char tmp[PATH_MAX], v[32];
	if (path_of(tmp, sizeof(tmp), dir, kind, STORE_TMP_SUFFIX) < 0)
		return -1;
	unlink(tmp);
	size_t n = kind == STORE_USERS ? c->n_users : c->n_groups;
	/* Two keys a record, about one to a hash chain, as lookups walk them. */
	uint32_t hash_size = n > 1 << 23 ? 1 << 24 : n < 2048 ? 4099 : (uint32_t)(2 * n) | 1;
	/* Written front to back, with no map of the file (tdb_build.h), synced once at the end. */
	struct tdb_build *b = tdb_build_start(tmp, hash_size);
	if (!b)
		return -1;
	int len = snprintf(v, sizeof(v), "%lld", (long long)c->expires);
	int rc = tdb_build_put(b, STORE_EXPIRATION_KEY, strlen(STORE_EXPIRATION_KEY), v,
			       (size_t)len);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (kind == STORE_USERS)
			rc = build_pair(b, c->users[i]->uid, c->users[i]->name,
					record_user_to_json(c->users[i]));
		else
			rc = build_pair(b, c->groups[i]->gid, c->groups[i]->name,
					record_group_to_json(c->groups[i]));
	}
	for (size_t i = 0; rc == 0 && i < c->n_extra; i++)
		if (c->extra[i].kind == kind)
			rc = tdb_build_put(b, c->extra[i].key, c->extra[i].key_len, c->extra[i].val,
					   c->extra[i].len);
	if (tdb_build_finish(b) < 0)
		return -1;
	if (rc != 0) {
		unlink(tmp);
		errno = ENOMEM; /* a record that could not be encoded */
	}
	return rc;
}

int store_write_tmp(const char *cache_dir, const struct store_contents *c)
{
	char path[PATH_MAX];
	/* The groups' file is begun only once the users' is whole: store_recover counts on it. */
	if (write_tmp(cache_dir, STORE_USERS, c) < 0 || write_tmp(cache_dir, STORE_GROUPS, c) < 0 ||
	    path_of(path, sizeof(path), cache_dir, STORE_USERS, "") < 0 || dir_sync(path) < 0) {
		int saved = errno;
		store_recover(cache_dir);
		errno = saved;
		return -1;
	}
	return 0;
}

int store_install(const char *cache_dir, enum store_kind kind)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	if (path_of(path, sizeof(path), cache_dir, kind, "") < 0 ||
	    path_of(tmp, sizeof(tmp), cache_dir, kind, STORE_TMP_SUFFIX) < 0 ||
	    rename(tmp, path) < 0)
		return -1;
	return dir_sync(path);
}

void store_recover(const char *cache_dir)
{
	char users_tmp[PATH_MAX], groups_tmp[PATH_MAX];
	if (path_of(users_tmp, sizeof(users_tmp), cache_dir, STORE_USERS, STORE_TMP_SUFFIX) < 0 ||
	    path_of(groups_tmp, sizeof(groups_tmp), cache_dir, STORE_GROUPS, STORE_TMP_SUFFIX) < 0)
		return;
	/* The users' file went in and the groups' did not: the groups' is whole (both were
	 * written and synced before either went in), so it goes in too and the pair is new. */
	if (access(users_tmp, F_OK) < 0 && errno == ENOENT && access(groups_tmp, F_OK) == 0)
		store_install(cache_dir, STORE_GROUPS);
	/* Anything else left over was never part of the cache. */
	unlink(users_tmp);
	unlink(groups_tmp);
}

/* A file opened to write in transactions is not mapped: libtdb 1.4.8 leaves mapped, after
 * tdb_close, what a transaction grew an existing file by (it unmaps the size the file had when
 * opened), and those pages count in dird's memory as long as it runs: 130 MB after a stream's
 * first read of 100,000 users.  Without the map the transaction's peak is lower too. */
static int writer_flags(int open_flags)
{
	return (open_flags & O_ACCMODE) == O_RDONLY ? 0 : TDB_NOMMAP;
}

static struct tdb_context *open_tdb(const char *dir, enum store_kind kind, int flags,
				    int tdb_flags)
{
	char path[PATH_MAX];
	if (path_of(path, sizeof(path), dir, kind, "") < 0)
		return NULL;
	/* A cache: a crash may lose the last insert (it is fetched again), never the file. */
	return dir_tdb_open(path, 0, TDB_NOSYNC | tdb_flags, flags | O_CLOEXEC, 0600);
}

static struct tdb_context *open_live(const char *dir, enum store_kind kind, int flags)
{
	return open_tdb(dir, kind, flags, writer_flags(flags));
}

static int insert(const char *dir, enum store_kind kind, const void *rec)
{
	struct tdb_context *t = open_live(dir, kind, O_RDWR | O_CREAT);
	if (!t)
		return -1;
	int rc = tdb_transaction_start(t);
	if (rc == 0) {
		rc = kind == STORE_USERS ? put_user(t, rec) : put_group(t, rec);
		rc = rc == 0 ? tdb_transaction_commit(t) : (tdb_transaction_cancel(t), -1);
	}
	dir_tdb_close(t);
	return rc;
}

int store_insert_user(const char *cache_dir, const struct dir_user *u)
{
	return insert(cache_dir, STORE_USERS, u);
}

int store_insert_group(const char *cache_dir, const struct dir_group *g)
{
	return insert(cache_dir, STORE_GROUPS, g);
}

int store_delete(const char *cache_dir, enum store_kind kind, const char *name, uint32_t id)
{
	char key[MAX_KEY];
	struct tdb_context *t = open_live(cache_dir, kind, O_RDWR);
	if (!t)
		return errno == ENOENT ? 0 : -1;
	int rc = tdb_transaction_start(t);
	if (rc == 0) {
		int n = snprintf(key, sizeof(key), "ID_%" PRIu32, id);
		tdb_delete(t, datum(key, (size_t)n));
		n = snprintf(key, sizeof(key), "NAME_%s", name);
		if (n > 0 && (size_t)n < sizeof(key))
			tdb_delete(t, datum(key, (size_t)n));
		rc = tdb_transaction_commit(t);
	}
	dir_tdb_close(t);
	return rc;
}

int store_remove(const char *cache_dir)
{
	char path[PATH_MAX];
	int rc = 0;
	for (int k = STORE_USERS; k <= STORE_GROUPS; k++)
		if (path_of(path, sizeof(path), cache_dir, k, "") < 0 ||
		    (unlink(path) < 0 && errno != ENOENT))
			rc = -1;
	return rc;
}

/* fn with every record of t (at least those whose key begins with walk_prefix), until it sets
 * *stop: under one read lock of the whole file (no transaction commits meanwhile), each record
 * as it is in a map of the file (tdb_walk's, with walk_prefix; else tdb's when t has one).  tdb_traverse_read, when that lock cannot be had, takes
 * one a hash chain (two fcntl calls each of some two million chains at 1M users) and copies
 * each record.  With second_arg, where tdb_walk reads the file, the second half of the chains
 * goes to fn with second_arg, on a thread of its own (tdb_walk_split). */
static int traverse_all(struct tdb_context *t, tdb_traverse_func fn, void *arg, const int *stop,
			const char *walk_prefix, void *second_arg)
{
	if (tdb_lockall_read(t) != 0)
		return tdb_traverse_read(t, fn, arg) < 0 ? -1 : 0;
	int rc = !walk_prefix ? TDB_WALK_OTHER :
		 second_arg   ? tdb_walk_split(t, walk_prefix, fn, arg, fn, second_arg) :
				tdb_walk(t, walk_prefix, fn, arg);
	if (rc == TDB_WALK_OTHER) {
		rc = 0;
		for (int i = 0, n = tdb_hash_size(t); rc == 0 && !*stop && i < n; i++)
			if (tdb_traverse_chain(t, (unsigned)i, fn, arg) < 0)
				rc = -1;
	}
	tdb_unlockall_read(t);
	return rc < 0 ? -1 : 0;
}

/* A file opened to be read whole: opened to write, as tdb takes a lock of the whole file only
 * then (nothing is written), with tdb's map unless tdb_flags say TDB_NOMMAP. */
static struct tdb_context *open_to_traverse(const char *dir, enum store_kind kind, int tdb_flags)
{
	return open_tdb(dir, kind, O_RDWR, tdb_flags);
}

struct each_ctx {
	int (*fn)(const char *json, size_t len, void *arg);
	void *arg;
	int rc;
};

static int each_record(struct tdb_context *t, TDB_DATA key, TDB_DATA val, void *p)
{
	(void)t;
	struct each_ctx *ctx = p;
	/* Every record is under both keys: visit it once, through its NAME_ key. */
	if (key.dsize < strlen(RECORD_PREFIX) || memcmp(key.dptr, RECORD_PREFIX, strlen(RECORD_PREFIX)))
		return 0;
	ctx->rc = ctx->fn((const char *)val.dptr, val.dsize, ctx->arg);
	return ctx->rc != 0;
}

/* Another process's read (dirctl users): read-only, a hash chain locked at a time, so that a
 * dird writing meanwhile waits for one chain, never for the whole of what fn does. */
int store_each(const char *cache_dir, enum store_kind kind,
	       int (*fn)(const char *json, size_t len, void *arg), void *arg)
{
	struct tdb_context *t = open_live(cache_dir, kind, O_RDONLY);
	if (!t)
		return errno == ENOENT ? 0 : -1;
	struct each_ctx ctx = { fn, arg, 0 };
	int n = tdb_traverse_read(t, each_record, &ctx);
	dir_tdb_close(t);
	return n < 0 ? -1 : ctx.rc;
}

char *store_fetch(const char *cache_dir, enum store_kind kind, const char *key)
{
	struct tdb_context *t = open_live(cache_dir, kind, O_RDONLY);
	if (!t)
		return NULL;
	TDB_DATA v = tdb_fetch(t, datum(key, strlen(key)));
	dir_tdb_close(t);
	if (!v.dptr)
		return NULL;
	char *s = malloc(v.dsize + 1);
	if (s) {
		memcpy(s, v.dptr, v.dsize);
		s[v.dsize] = '\0';
	}
	free(v.dptr);
	return s;
}

time_t store_expiration(const char *cache_dir)
{
	char *v = store_fetch(cache_dir, STORE_USERS, STORE_EXPIRATION_KEY);
	time_t t = v ? (time_t)strtoll(v, NULL, 10) : 0;
	free(v);
	return t;
}

struct load_ctx {
	enum store_kind kind;
	int (*user)(struct dir_user *u, void *arg);
	int (*group)(struct dir_group *g, void *arg);
	void *arg;
};

static int load_one(const char *json, size_t len, void *p)
{
	struct load_ctx *ctx = p;
	if (ctx->kind == STORE_USERS) {
		struct dir_user *u = calloc(1, sizeof(*u));
		if (!u || record_user_from_json(json, len, u) < 0) {
			free(u);
			return -1;
		}
		return ctx->user(u, ctx->arg);
	}
	struct dir_group *g = calloc(1, sizeof(*g));
	if (!g || record_group_from_json(json, len, g) < 0) {
		free(g);
		return -1;
	}
	return ctx->group(g, ctx->arg);
}

/* What the second half of a file's chains gives a load: its records, parsed on a thread of
 * their own while the first half's are, kept in their order until those are handed over. */
struct kept {
	void **recs;
	size_t n, cap;
};

static int keep(void *r, struct kept *k)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 1024;
		void **grown = realloc(k->recs, cap * sizeof(*grown));
		if (!grown)
			return -1;
		k->recs = grown;
		k->cap = cap;
	}
	k->recs[k->n++] = r;
	return 0;
}

static int keep_user(struct dir_user *u, void *k)
{
	int rc = keep(u, k);
	if (rc < 0)
		dir_user_destroy(u);
	return rc;
}

static int keep_group(struct dir_group *g, void *k)
{
	int rc = keep(g, k);
	if (rc < 0)
		dir_group_destroy(g);
	return rc;
}

/* Every record of one file to ctx's user() or group(), in tdb_walk's order, under one lock of
 * the whole file (dird's own load, fast, while nothing writes): the chains' two halves read at
 * once (a million users' JSON is most of a restart), the second's handed over after the
 * first's.  0; -1 when the file is unreadable or malformed; else what user() or group() or
 * the second half's parse returned. */
static int load_whole_file(const char *cache_dir, struct load_ctx *ctx)
{
	struct tdb_context *t = open_to_traverse(cache_dir, ctx->kind, 0);
	if (!t)
		return errno == ENOENT ? 0 : -1;
	struct kept kept = { 0 };
	struct load_ctx second = { ctx->kind, keep_user, keep_group, &kept };
	struct each_ctx first_each = { load_one, ctx, 0 }, second_each = { load_one, &second, 0 };
	int n = traverse_all(t, each_record, &first_each, &first_each.rc, RECORD_PREFIX,
			     &second_each);
	dir_tdb_close(t);
	int rc = n < 0 ? -1 : first_each.rc ? first_each.rc : second_each.rc;
	for (size_t i = 0; i < kept.n; i++) {
		if (rc == 0)
			rc = ctx->kind == STORE_USERS ? ctx->user(kept.recs[i], ctx->arg) :
							ctx->group(kept.recs[i], ctx->arg);
		else if (ctx->kind == STORE_USERS)
			dir_user_destroy(kept.recs[i]);
		else
			dir_group_destroy(kept.recs[i]);
	}
	free(kept.recs);
	return rc;
}

int store_load_each(const char *cache_dir, int (*user)(struct dir_user *u, void *arg),
		    int (*group)(struct dir_group *g, void *arg), void *arg, char *err,
		    size_t errlen)
{
	for (int k = STORE_USERS; k <= STORE_GROUPS; k++) {
		struct load_ctx ctx = { k, user, group, arg };
		if (load_whole_file(cache_dir, &ctx) != 0) {
			snprintf(err, errlen, "%s/%s: unreadable or holds a malformed record",
				 cache_dir, k == STORE_USERS ? STORE_USER_FILE : STORE_GROUP_FILE);
			return -1;
		}
	}
	return 0;
}

/* store_load's collection: u (or g) appended to c's array, or freed when it cannot be. */
static int collect(struct store_contents *c, struct dir_user *u, struct dir_group *g)
{
	size_t n = u ? c->n_users : c->n_groups;
	void *grown = realloc(u ? (void *)c->users : (void *)c->groups, (n + 1) * sizeof(void *));
	if (!grown) {
		dir_user_destroy(u);
		dir_group_destroy(g);
		return -1;
	}
	if (u) {
		c->users = grown;
		c->users[c->n_users++] = u;
	} else {
		c->groups = grown;
		c->groups[c->n_groups++] = g;
	}
	return 0;
}

static int collect_user(struct dir_user *u, void *c)
{
	return collect(c, u, NULL);
}

static int collect_group(struct dir_group *g, void *c)
{
	return collect(c, NULL, g);
}

int store_load(const char *cache_dir, struct store_contents *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (store_load_each(cache_dir, collect_user, collect_group, c, err, errlen) < 0) {
		store_contents_free(c);
		return -1;
	}
	c->expires = store_expiration(cache_dir);
	return 0;
}

void store_contents_free(struct store_contents *c)
{
	for (size_t i = 0; i < c->n_users; i++) {
		dir_user_destroy(c->users[i]);
	}
	for (size_t i = 0; i < c->n_groups; i++) {
		dir_group_destroy(c->groups[i]);
	}
	free(c->users);
	free(c->groups);
	memset(c, 0, sizeof(*c));
}

struct store_txn {
	struct tdb_context *t[2]; /* STORE_USERS, STORE_GROUPS */
};

void store_txn_cancel(struct store_txn *x)
{
	if (!x)
		return;
	for (int k = STORE_USERS; k <= STORE_GROUPS; k++) {
		if (!x->t[k])
			continue;
		tdb_transaction_cancel(x->t[k]);
		dir_tdb_close(x->t[k]);
	}
	free(x);
}

struct store_txn *store_txn_begin(const char *cache_dir)
{
	return store_txn_begin_sized(cache_dir, 0);
}

struct store_txn *store_txn_begin_sized(const char *cache_dir, size_t keys)
{
	struct store_txn *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	/* As store_write_tmp sizes its files: about one key to a hash chain. */
	int hash_size = keys > 1 << 23 ? 1 << 24 : keys < 2048 ? 0 : (int)keys | 1;
	for (int k = STORE_USERS; k <= STORE_GROUPS; k++) {
		char path[PATH_MAX];
		x->t[k] = path_of(path, sizeof(path), cache_dir, k, "") < 0 ? NULL :
			  dir_tdb_open(path, hash_size, TDB_NOSYNC | writer_flags(O_RDWR),
				       O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (!x->t[k] || tdb_transaction_start(x->t[k]) != 0) {
			if (x->t[k])
				dir_tdb_close(x->t[k]);
			x->t[k] = NULL;
			store_txn_cancel(x);
			return NULL;
		}
	}
	return x;
}

int store_txn_put_user(struct store_txn *x, const struct dir_user *u)
{
	return put_user(x->t[STORE_USERS], u);
}

int store_txn_put_group(struct store_txn *x, const struct dir_group *g)
{
	return put_group(x->t[STORE_GROUPS], g);
}

/* A key that is not there is no error. */
static int delete_key(struct tdb_context *t, const char *key, size_t len)
{
	if (tdb_delete(t, datum(key, len)) == 0 || tdb_error(t) == TDB_ERR_NOEXIST)
		return 0;
	return -1;
}

int store_txn_delete(struct store_txn *x, enum store_kind kind, const char *name, uint32_t id)
{
	char key[MAX_KEY];
	int n = snprintf(key, sizeof(key), "ID_%" PRIu32, id);
	if (delete_key(x->t[kind], key, (size_t)n) < 0)
		return -1;
	n = snprintf(key, sizeof(key), "NAME_%s", name);
	if (n < 0 || (size_t)n >= sizeof(key))
		return -1;
	return delete_key(x->t[kind], key, (size_t)n);
}

int store_txn_set(struct store_txn *x, enum store_kind kind, const char *key, const void *val,
		  size_t len)
{
	return tdb_store(x->t[kind], datum(key, strlen(key)), datum(val, len), TDB_REPLACE);
}

void *store_txn_get(struct store_txn *x, enum store_kind kind, const char *key, size_t *len)
{
	TDB_DATA v = tdb_fetch(x->t[kind], datum(key, strlen(key)));
	*len = v.dsize;
	return v.dptr;
}

int store_txn_unset(struct store_txn *x, enum store_kind kind, const char *key)
{
	return delete_key(x->t[kind], key, strlen(key));
}

int store_txn_commit(struct store_txn *x)
{
	/* Both prepared first: what can fail fails before either file changes.  A crash between
	 * the two commits leaves files whose agreed values (store_agreed) differ. */
	int rc = 0;
	for (int k = STORE_USERS; rc == 0 && k <= STORE_GROUPS; k++)
		rc = tdb_transaction_prepare_commit(x->t[k]);
	if (rc != 0) {
		store_txn_cancel(x);
		return -1;
	}
	for (int k = STORE_USERS; k <= STORE_GROUPS; k++) {
		if (tdb_transaction_commit(x->t[k]) != 0)
			rc = -1;
		dir_tdb_close(x->t[k]);
	}
	free(x);
	return rc;
}

void *store_agreed(const char *cache_dir, const char *key, size_t *len)
{
	TDB_DATA v[2] = { { NULL, 0 }, { NULL, 0 } };
	for (int k = STORE_USERS; k <= STORE_GROUPS; k++) {
		struct tdb_context *t = open_live(cache_dir, k, O_RDONLY);
		if (t) {
			v[k] = tdb_fetch(t, datum(key, strlen(key)));
			dir_tdb_close(t);
		}
	}
	bool same = v[0].dptr && v[1].dptr && v[0].dsize == v[1].dsize &&
		    memcmp(v[0].dptr, v[1].dptr, v[0].dsize) == 0;
	free(v[1].dptr);
	if (!same) {
		free(v[0].dptr);
		return NULL;
	}
	*len = v[0].dsize;
	return v[0].dptr;
}

struct keys_ctx {
	const char *prefix;
	size_t prefix_len;
	int (*fn)(const char *key, size_t key_len, const void *val, size_t len, void *arg);
	void *arg;
	int rc;
};

static int each_prefixed(struct tdb_context *t, TDB_DATA key, TDB_DATA val, void *p)
{
	(void)t;
	struct keys_ctx *ctx = p;
	if (key.dsize < ctx->prefix_len || memcmp(key.dptr, ctx->prefix, ctx->prefix_len) != 0)
		return 0;
	ctx->rc = ctx->fn((const char *)key.dptr, key.dsize, val.dptr, val.dsize, ctx->arg);
	return ctx->rc != 0;
}

int store_each_key(const char *cache_dir, enum store_kind kind, const char *prefix,
		   int (*fn)(const char *key, size_t key_len, const void *val, size_t len, void *arg),
		   void *arg)
{
	/* Every record is read to find a few keys (a refresh looks for the streams' before it
	 * reads the directory): through a map, all of the file would count in dird's peak. */
	struct tdb_context *t = open_to_traverse(cache_dir, kind, TDB_NOMMAP);
	if (!t)
		return errno == ENOENT ? 0 : -1;
	struct keys_ctx ctx = { prefix, strlen(prefix), fn, arg, 0 };
	int n = traverse_all(t, each_prefixed, &ctx, &ctx.rc, NULL, NULL);
	dir_tdb_close(t);
	return n < 0 ? -1 : ctx.rc;
}
