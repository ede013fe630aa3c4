/* Getting the db to the files readers use: the NSS index and the tdb cache.  A change that
 * names its entries costs a delta (cache/index.h) of what changed since nss.idx was written;
 * a refresh, a flush, a change nobody named, a change of the local accounts (local_watch.c) or
 * a delta grown past DELTA_MAX_KEYS rewrite nss.idx whole. */
#include "publish.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dird.h"
#include "fileutil.h"
#include "index.h"
#include "local_accounts.h"
#include "log.h"
#include "store.h"
#include "sync_keep.h"

/* Names and ids changed since nss.idx was written, user and group ones: past this many the
 * delta is folded into a full rewrite (a delta costs readers one more probe per lookup and
 * dird a rewrite of all of it per change). */
#define DELTA_MAX_KEYS 4096

struct key_list {
	struct index_key *keys;	/* names owned */
	size_t n, cap;
};

struct publish_changes {
	bool whole;		/* the next publish rewrites nss.idx */
	struct key_list users, groups;
	uint32_t delta_seq;	/* of the delta in force; 0: none */
	bool locals_known;	/* nss.idx holds the local accounts (they could be read) */
	uint64_t authoritative_until;	/* as written to nss.idx */
};

static void keys_clear(struct key_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free((char *)l->keys[i].name);
	free(l->keys);
	memset(l, 0, sizeof(*l));
}

static struct publish_changes *changes_of(struct dird *d)
{
	if (!d->changes && (d->changes = calloc(1, sizeof(*d->changes))))
		d->changes->whole = true;
	return d->changes;
}

void publish_free(struct dird *d)
{
	if (!d->changes)
		return;
	keys_clear(&d->changes->users);
	keys_clear(&d->changes->groups);
	free(d->changes);
	d->changes = NULL;
}

void publish_whole_locked(struct dird *d)
{
	struct publish_changes *c = changes_of(d);
	if (c)
		c->whole = true;
}

/* Remembers a key for the next delta; past the bound (or out of memory) the next publish is
 * whole. */
static void note(struct dird *d, bool user, const char *name, uint32_t id)
{
	struct publish_changes *c = changes_of(d);
	if (!c)
		return;
	struct key_list *l = user ? &c->users : &c->groups;
	if (c->whole)
		return;
	if (c->users.n + c->groups.n >= DELTA_MAX_KEYS) {
		c->whole = true;
		return;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct index_key *grown = realloc(l->keys, cap * sizeof(*grown));
		if (!grown) {
			c->whole = true;
			return;
		}
		l->keys = grown;
		l->cap = cap;
	}
	char *copy = strdup(name ? name : "");
	if (!copy) {
		c->whole = true;
		return;
	}
	l->keys[l->n++] = (struct index_key){ copy, id };
}

void publish_user_changed_locked(struct dird *d, const struct dir_user *u)
{
	note(d, true, u->name, u->uid);
	wake_publisher_locked(d);
}

void publish_group_changed_locked(struct dird *d, const struct dir_group *g)
{
	note(d, false, g->name, g->gid);
	for (uint32_t i = 0; i < g->n_members; i++)
		note(d, true, g->members[i], INDEX_NO_ID); /* their gid lists */
	wake_publisher_locked(d);
}

static uint32_t names_flag(struct dir_user *const *users, size_t n_users,
			   struct dir_group *const *groups, size_t n_groups)
{
	for (size_t i = 0; i < n_users; i++)
		if (!index_name_lower(users[i]->name))
			return 0;
	for (size_t i = 0; i < n_groups; i++)
		if (!index_name_lower(groups[i]->name))
			return 0;
	return INDEX_NAMES_LOWER;
}

/* Until when every domain's cache holds all it serves (SESSION: in_sync_until), as long as
 * every domain is enumerated and the local accounts are known; 0 when not. */
static uint64_t authoritative_until(const struct dird *d)
{
	const struct publish_changes *c = d->changes;
	if (!c || !c->locals_known || !d->cfg.enumerate || !d->cfg.n_domains)
		return 0;
	time_t until = d->domains[0].in_sync_until;
	for (size_t i = 1; i < d->cfg.n_domains; i++)
		if (d->domains[i].in_sync_until < until)
			until = d->domains[i].in_sync_until;
	return until > time(NULL) ? (uint64_t)until : 0;
}

static void publish_authoritative(struct dird *d, const char *path)
{
	uint64_t until = authoritative_until(d);
	if (!d->changes || until == d->changes->authoritative_until)
		return;
	if (index_set_authoritative(path, until) < 0) {
		log_warning("cannot mark %s authoritative: %s", path, strerror(errno));
		return;
	}
	d->changes->authoritative_until = until;
}

/* The local accounts as keys of nss.idx: each name, each id.  false when they cannot be read
 * (then nss.idx lists none and misses are never authoritative). */
static bool local_keys(struct local_accounts *local, struct index_key **users, size_t *n_users,
		       struct index_key **groups, size_t *n_groups)
{
	char err[512];
	*users = *groups = NULL;
	*n_users = *n_groups = 0;
	if (local_accounts_load(local, err, sizeof(err)) < 0) {
		memset(local, 0, sizeof(*local));
		return false;
	}
	const struct local_set *sets[] = { &local->users, &local->groups };
	struct index_key **out[] = { users, groups };
	size_t *counts[] = { n_users, n_groups };
	for (int k = 0; k < 2; k++) {
		const struct local_set *s = sets[k];
		struct index_key *keys = calloc(s->n_names + s->n_ids + 1, sizeof(*keys));
		if (!keys) {
			free(*users);
			*users = NULL;
			*n_users = 0;
			local_accounts_free(local);
			return false;
		}
		size_t n = 0;
		for (size_t i = 0; i < s->n_names; i++)
			keys[n++] = (struct index_key){ s->names[i], INDEX_NO_ID };
		for (size_t i = 0; i < s->n_ids; i++)
			keys[n++] = (struct index_key){ "", s->ids[i] };
		*out[k] = keys;
		*counts[k] = n;
	}
	return true;
}

void publish_tick_locked(struct dird *d)
{
	char path[PATH_MAX];
	if (!d->changes)
		return;
	snprintf(path, sizeof(path), "%s/%s", d->cfg.cache_dir, DIR_INDEX_FILE);
	publish_authoritative(d, path);
}

/* Adds p to a set of pointers (a small array: a delta holds few). */
static int add_unique(void ***set, size_t *n, size_t *cap, void *p)
{
	for (size_t i = 0; i < *n; i++)
		if ((*set)[i] == p)
			return 0;
	if (*n == *cap) {
		size_t grown_cap = *cap ? *cap * 2 : 16;
		void **grown = realloc(*set, grown_cap * sizeof(*grown));
		if (!grown)
			return -1;
		*set = grown;
		*cap = grown_cap;
	}
	(*set)[(*n)++] = p;
	return 0;
}

/* For each key noted: the entry that has that name (id) now, or the key as gone. */
static int delta_entries(struct dird *d, bool user, void ***records, size_t *n_records,
			 struct index_key **gone, size_t *n_gone)
{
	const struct key_list *l = user ? &d->changes->users : &d->changes->groups;
	size_t cap = 0;
	*records = NULL;
	*n_records = 0;
	*gone = calloc(2 * l->n + 1, sizeof(**gone));
	*n_gone = 0;
	if (!*gone)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		const struct index_key *k = &l->keys[i];
		for (int by_id = 0; by_id < 2; by_id++) {
			if (by_id ? k->id == INDEX_NO_ID : !k->name[0])
				continue;
			void *r = user ? (void *)(by_id ? db_user_by_uid(&d->db, k->id) :
							  db_user_by_name(&d->db, k->name)) :
					 (void *)(by_id ? db_group_by_gid(&d->db, k->id) :
							  db_group_by_name(&d->db, k->name));
			if (r && add_unique(records, n_records, &cap, r) < 0)
				return -1;
			if (!r)
				(*gone)[(*n_gone)++] = (struct index_key){ by_id ? "" : k->name,
									   by_id ? k->id : INDEX_NO_ID };
		}
	}
	return 0;
}

/* Writes what changed since nss.idx as a new delta and announces it.  0, or -1 (nothing
 * announced: readers keep the delta they have). */
static int publish_delta(struct dird *d, const char *path)
{
	struct publish_changes *c = d->changes;
	long long start = now_ms();
	char delta[PATH_MAX], tmp[PATH_MAX];
	void **users = NULL, **groups = NULL;
	struct index_key *gone_users = NULL, *gone_groups = NULL;
	struct index_contents ic = { .ttl = d->cfg.entry_ttl, .generation = c->delta_seq + 1,
				     .base_generation = d->generation };
	int rc = -1;
	if (index_delta_path(path, delta, sizeof(delta)) < 0 ||
	    delta_entries(d, true, &users, &ic.n_users, &gone_users, &ic.n_gone_users) < 0 ||
	    delta_entries(d, false, &groups, &ic.n_groups, &gone_groups, &ic.n_gone_groups) < 0)
		goto out;
	ic.users = (struct dir_user *const *)users;
	ic.groups = (struct dir_group *const *)groups;
	ic.gone_users = gone_users;
	ic.gone_groups = gone_groups;
	ic.flags = INDEX_DELTA | names_flag(ic.users, ic.n_users, ic.groups, ic.n_groups);
	if (index_write_contents_tmp(delta, &ic, tmp, sizeof(tmp)) < 0)
		goto out;
	test_hook("delta-written");
	if (index_install(delta, tmp) < 0)
		goto out;
	test_hook("delta-installed");
	if (index_set_delta_seq(path, c->delta_seq + 1) < 0)
		goto out;
	c->delta_seq++;
	index_retire_old(delta);
	rc = 0;
	log_debug("published a delta of %zu users and %zu groups (%zu and %zu gone) in %lld ms",
		  ic.n_users, ic.n_groups, ic.n_gone_users, ic.n_gone_groups, now_ms() - start);
out:
	if (rc < 0)
		log_error("cannot write %s: %s", delta, strerror(errno));
	free(users);
	free(groups);
	free(gone_users);
	free(gone_groups);
	return rc;
}

/* The steps of writing a whole new cache (a refresh, a flush): between any two of them a dird
 * that is killed leaves files its next start makes whole (recover).  Tests stop it there. */
static void whole_cache_step(bool with_store, const char *step)
{
	if (with_store)
		test_hook(step);
}

/* What a whole nss.idx holds: db's records and the local accounts (locals: they could be
 * read). */
struct whole {
	struct index_contents ic;
	struct local_accounts local;
	struct index_key *gone_users, *gone_groups;
	bool locals;
};

static void whole_begin(const struct dird *d, const struct db *db, uint64_t generation,
			struct whole *w)
{
	w->ic = (struct index_contents){ .users = db->c.users, .n_users = db->c.n_users,
					 .groups = db->c.groups, .n_groups = db->c.n_groups,
					 .ttl = d->cfg.entry_ttl, .generation = generation };
	w->locals = local_keys(&w->local, &w->gone_users, &w->ic.n_gone_users, &w->gone_groups,
			       &w->ic.n_gone_groups);
	w->ic.gone_users = w->gone_users;
	w->ic.gone_groups = w->gone_groups;
	w->ic.flags = names_flag(w->ic.users, w->ic.n_users, w->ic.groups, w->ic.n_groups);
}

static void whole_end(struct whole *w)
{
	free(w->gone_users);
	free(w->gone_groups);
	if (w->locals)
		local_accounts_free(&w->local);
}

/* db's index written whole next to `stem` as tmp, with the local accounts (*locals: they
 * could be read). */
static int write_whole_tmp(struct dird *d, const struct db *db, const char *stem,
			   uint64_t generation, char *tmp, size_t tmplen, bool *locals)
{
	struct whole w;
	whole_begin(d, db, generation, &w);
	int rc = index_write_contents_tmp(stem, &w.ic, tmp, tmplen);
	*locals = w.locals;
	whole_end(&w);
	return rc;
}

/* A whole nss.idx written as tmp takes the place of the old one; the delta it replaces is
 * removed. */
static int install_whole(struct dird *d, const char *path, const char *tmp, uint64_t generation,
			 bool locals, bool with_store)
{
	char delta[PATH_MAX];
	if (index_install(path, tmp) < 0)
		return -1;
	whole_cache_step(with_store, "index-installed");
	d->generation = generation;
	struct publish_changes *c = changes_of(d);
	if (c) {
		keys_clear(&c->users);
		keys_clear(&c->groups);
		c->whole = false;
		c->delta_seq = 0;
		c->locals_known = locals;
		c->authoritative_until = 0;
	}
	/* Readers of the old file are told; if this fails they are at the next start. */
	if (index_retire_old(path) < 0)
		log_warning("cannot mark the replaced %s stale: %s", path, strerror(errno));
	/* The old delta is for the old nss.idx: readers already leave it out. */
	if (index_delta_path(path, delta, sizeof(delta)) == 0 && unlink(delta) < 0 &&
	    errno != ENOENT)
		log_warning("cannot remove %s: %s", delta, strerror(errno));
	return 0;
}

/* nss.idx written whole from d->db and installed. */
static int publish_whole(struct dird *d, const char *path, bool with_store)
{
	char tmp[PATH_MAX];
	bool locals;
	uint64_t generation = ++d->last_generation;
	if (write_whole_tmp(d, &d->db, path, generation, tmp, sizeof(tmp), &locals) < 0)
		return -1;
	whole_cache_step(with_store, "index-written");
	if (install_whole(d, path, tmp, generation, locals, with_store) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Where a refresh writes its index before it takes the locks: not index_write_tmp's name for
 * the index itself, which the main loop's publishes use meanwhile.  recover() removes it too
 * (nss.idx.tmp.*). */
#define REFRESH_INDEX_STEM DIR_INDEX_FILE ".tmp.refresh"

int publish_refresh_write(struct dird *d, struct db *db)
{
	char stem[PATH_MAX];
	const char *dir = d->cfg.cache_dir;
	snprintf(stem, sizeof(stem), "%s/%s", dir, REFRESH_INDEX_STEM);
	db->c.expires = time(NULL) + d->cfg.refresh_interval;
	if (store_write_tmp(dir, &db->c) < 0) {
		log_error("cannot write the cache in %s: %s", dir, strerror(errno));
		return -1;
	}
	whole_cache_step(true, "store-written");
	pthread_mutex_lock(&d->lock);
	uint64_t generation = ++d->last_generation;
	pthread_mutex_unlock(&d->lock);
	bool locals;
	if (write_whole_tmp(d, db, stem, generation, d->refresh_index.tmp,
			    sizeof(d->refresh_index.tmp), &locals) < 0) {
		log_error("cannot write %s/%s: %s", dir, DIR_INDEX_FILE, strerror(errno));
		store_recover(dir);
		return -1;
	}
	d->refresh_index.generation = generation;
	d->refresh_index.locals = locals;
	whole_cache_step(true, "index-written");
	return 0;
}

void publish_refresh_discard(struct dird *d)
{
	store_recover(d->cfg.cache_dir); /* both temporary files there: both removed */
	unlink(d->refresh_index.tmp);
}

int publish_refresh_install_locked(struct dird *d)
{
	char path[PATH_MAX];
	const char *dir = d->cfg.cache_dir;
	snprintf(path, sizeof(path), "%s/%s", dir, DIR_INDEX_FILE);
	if (store_install(dir, STORE_USERS) < 0)
		goto store_failed;
	whole_cache_step(true, "store-half-installed");
	if (store_install(dir, STORE_GROUPS) < 0)
		goto store_failed;
	whole_cache_step(true, "store-installed");
	if (install_whole(d, path, d->refresh_index.tmp, d->refresh_index.generation,
			  d->refresh_index.locals, true) < 0) {
		log_error("cannot write %s: %s", path, strerror(errno));
		unlink(d->refresh_index.tmp);
		return -1;
	}
	d->dirty = false;
	publish_authoritative(d, path);
	return 0;
store_failed:
	log_error("cannot write the cache in %s: %s", dir, strerror(errno));
	store_recover(dir);
	unlink(d->refresh_index.tmp);
	return -1;
}

/* The tdb pair written whole from d->db, with the change streams' keys of the files it
 * replaces where they stay true (sync_keep.h): the streams go on from their positions. */
static int write_store_tmp(struct dird *d)
{
	struct sync_keep keep;
	d->db.c.extra = sync_keep_rewrite_locked(d, &keep, &d->db.c.n_extra);
	int rc = store_write_tmp(d->cfg.cache_dir, &d->db.c);
	d->db.c.extra = NULL; /* keep's, freed with it */
	d->db.c.n_extra = 0;
	sync_keep_free(&keep);
	return rc;
}

int publish_locked(struct dird *d, bool with_store)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", d->cfg.cache_dir, DIR_INDEX_FILE);
	d->db.c.expires = time(NULL) + d->cfg.refresh_interval;
	const char *dir = d->cfg.cache_dir;
	struct publish_changes *c = changes_of(d);
	if (!with_store && c && !c->whole) {
		if (c->users.n + c->groups.n == 0 || publish_delta(d, path) == 0) {
			d->dirty = false;
			publish_authoritative(d, path);
			return 0;
		}
		/* the delta could not be written: the whole file, then */
	}
	/* A refresh writes the tdb pair's temporary files without the lock and installs them: they
	 * are its alone, and what it installs replaces db anyway. */
	if (with_store && d->refreshing)
		with_store = false;
	if (with_store) {
		if (write_store_tmp(d) < 0)
			goto store_failed;
		whole_cache_step(with_store, "store-written");
		if (store_install(dir, STORE_USERS) < 0)
			goto store_failed;
		whole_cache_step(with_store, "store-half-installed");
		if (store_install(dir, STORE_GROUPS) < 0)
			goto store_failed;
		whole_cache_step(with_store, "store-installed");
	}
	if (publish_whole(d, path, with_store) < 0)
		goto index_failed;
	d->dirty = false;
	publish_authoritative(d, path);
	return 0;
store_failed:
	log_error("cannot write the cache in %s: %s", dir, strerror(errno));
	store_recover(dir);
	return -1;
index_failed:
	log_error("cannot write %s: %s", path, strerror(errno));
	return -1;
}

/* What a dird killed while it wrote the cache left: the tdb pair finished or cleaned, a
 * replaced index marked stale (processes that still map it reach the new one), temporary
 * files removed. */
static void recover(struct dird *d)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", d->cfg.cache_dir, DIR_INDEX_FILE);
	store_recover(d->cfg.cache_dir);
	if (index_retire_old(path) < 0)
		log_warning("cannot mark the replaced %s stale: %s", path, strerror(errno));
	file_remove_tmps(path);
	char delta[PATH_MAX];
	if (index_delta_path(path, delta, sizeof(delta)) == 0) {
		index_retire_old(delta);
		file_remove_tmps(delta);
	}
}

/* At the start: the nss.idx in place kept when it holds exactly what publish_whole would write
 * of the cache just loaded and the local accounts as they are now (index_matches: also no
 * delta, nothing damaged), as it is after a stop with everything published: readers that map
 * it go on, and a restart does not write 160 MB at a million users.  Anything else that
 * changed while dird was stopped (a local account, entry_ttl, a record) is a rewrite; its
 * authoritative_until is cleared, as a new file's would be, until the domains are in sync. */
static bool keep_index_locked(struct dird *d)
{
	char path[PATH_MAX];
	struct whole w;
	uint64_t generation = 0, until = 0;
	struct publish_changes *c = changes_of(d);
	snprintf(path, sizeof(path), "%s/%s", d->cfg.cache_dir, DIR_INDEX_FILE);
	whole_begin(d, &d->db, 0, &w);
	bool keep = c && index_matches(path, &w.ic, &generation, &until) &&
		    (!until || index_set_authoritative(path, 0) == 0);
	if (keep) {
		d->generation = d->last_generation = generation;
		keys_clear(&c->users);
		keys_clear(&c->groups);
		*c = (struct publish_changes){ .locals_known = w.locals };
		d->dirty = false;
		log_info("%s holds what the cache holds: kept", path);
	}
	whole_end(&w);
	return keep;
}

/* The cache's records go into db as they are read: db packs each at once, and no list of a
 * million unpacked records is held first.  Its maps are built once all are in. */
static int load_user(struct dir_user *u, void *db)
{
	return db_append_user(db, u);
}

static int load_group(struct dir_group *g, void *db)
{
	return db_append_group(db, g);
}

void publish_load_cache(struct dird *d)
{
	char err[512];
	recover(d);
	time_t expires = 0;
	long dropped = 0; /* duplicates */
	if (store_load_each(d->cfg.cache_dir, load_user, load_group, &d->db, err, sizeof(err)) < 0 ||
	    (dropped = db_index_appended(&d->db)) < 0) {
		if (dropped < 0)
			snprintf(err, sizeof(err), "out of memory loading the cache");
		log_error("%s; discarding the cache and rebuilding it", err);
		store_remove(d->cfg.cache_dir);
		db_free(&d->db);
		db_init(&d->db);
	} else {
		expires = store_expiration(d->cfg.cache_dir);
	}
	d->last_refresh = expires ? expires - (time_t)d->cfg.refresh_interval : 0;
	log_info("loaded %zu users and %zu groups from the cache%s", d->db.c.n_users,
		 d->db.c.n_groups, dropped > 0 ? " (dropped duplicates)" : "");
	if (!keep_index_locked(d))
		publish_locked(d, false);
	/* each record read was parsed into allocations of its own, then packed: their holes
	 * between the packed ones (20 MB at a million users) go back to the system */
	malloc_trim(0);
}
