/* Getting the db to the files readers use: the NSS index and the tdb cache. */
#include "publish.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dird.h"
#include "fileutil.h"
#include "index.h"
#include "log.h"
#include "store.h"

/* The steps of writing a whole new cache (a refresh): between any two of them a dird
 * that is killed leaves files its next start makes whole (recover).  Tests stop it there. */
static void whole_cache_step(bool with_store, const char *step)
{
	if (with_store)
		test_hook(step);
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
	uint64_t generation = ++d->generation;
	pthread_mutex_unlock(&d->lock);
	if (index_write_tmp(stem, db->c.users, db->c.n_users, db->c.groups, db->c.n_groups,
			    d->cfg.entry_ttl, generation, d->refresh_index_tmp,
			    sizeof(d->refresh_index_tmp)) < 0) {
		log_error("cannot write %s/%s: %s", dir, DIR_INDEX_FILE, strerror(errno));
		store_recover(dir);
		return -1;
	}
	whole_cache_step(true, "index-written");
	return 0;
}

int publish_locked(struct dird *d, bool with_store)
{
	char path[PATH_MAX], tmp[PATH_MAX] = "";
	snprintf(path, sizeof(path), "%s/%s", d->cfg.cache_dir, DIR_INDEX_FILE);
	d->db.c.expires = time(NULL) + d->cfg.refresh_interval;
	const char *dir = d->cfg.cache_dir;
	if (with_store) {
		snprintf(tmp, sizeof(tmp), "%s", d->refresh_index_tmp);
		if (store_install(dir, STORE_USERS) < 0)
			goto store_failed;
		whole_cache_step(with_store, "store-half-installed");
		if (store_install(dir, STORE_GROUPS) < 0)
			goto store_failed;
		whole_cache_step(with_store, "store-installed");
	} else if (index_write_tmp(path, d->db.c.users, d->db.c.n_users, d->db.c.groups,
				   d->db.c.n_groups, d->cfg.entry_ttl, ++d->generation, tmp,
				   sizeof(tmp)) < 0) {
		goto index_failed;
	}
	if (index_install(path, tmp) < 0)
		goto index_failed;
	whole_cache_step(with_store, "index-installed");
	d->dirty = false;
	/* Readers of the old file are told; if this fails they are at the next start. */
	if (index_retire_old(path) < 0)
		log_warning("cannot mark the replaced %s stale: %s", path, strerror(errno));
	return 0;
store_failed:
	log_error("cannot write the cache in %s: %s", dir, strerror(errno));
	store_recover(dir);
	unlink(tmp);
	return -1;
index_failed:
	log_error("cannot write %s: %s", path, strerror(errno));
	if (*tmp)
		unlink(tmp);
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
}

void publish_load_cache(struct dird *d)
{
	struct store_contents c;
	char err[512];
	recover(d);
	if (store_load(d->cfg.cache_dir, &c, err, sizeof(err)) < 0) {
		log_error("%s; discarding the cache and rebuilding it", err);
		store_remove(d->cfg.cache_dir);
		memset(&c, 0, sizeof(c));
	}
	size_t dropped = 0;
	for (size_t i = 0; i < c.n_users; i++)
		if (db_add_user(&d->db, c.users[i]) != 0)
			dropped++;
	for (size_t i = 0; i < c.n_groups; i++)
		if (db_add_group(&d->db, c.groups[i]) != 0)
			dropped++;
	free(c.users);
	free(c.groups);
	d->last_refresh = c.expires ? c.expires - (time_t)d->cfg.refresh_interval : 0;
	log_info("loaded %zu users and %zu groups from the cache%s", d->db.c.n_users,
		 d->db.c.n_groups, dropped ? " (dropped duplicates)" : "");
	publish_locked(d, false);
}
