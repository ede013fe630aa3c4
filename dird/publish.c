/* Getting the db to the files readers use: the NSS index and the tdb cache. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dird.h"
#include "index.h"
#include "log.h"
#include "store.h"

int publish_locked(struct dird *d, bool with_store)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", d->cfg.cache_dir, DIR_INDEX_FILE);
	d->db.c.expires = time(NULL) + d->cfg.refresh_interval;
	if (with_store && store_write_all(d->cfg.cache_dir, &d->db.c) < 0) {
		log_error("cannot write the cache in %s: %s", d->cfg.cache_dir, strerror(errno));
		return -1;
	}
	if (index_write(path, d->db.c.users, d->db.c.n_users, d->db.c.groups, d->db.c.n_groups,
			d->cfg.entry_ttl, d->generation + 1) < 0) {
		log_error("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	d->generation++;
	d->dirty = false;
	return 0;
}

void publish_load_cache(struct dird *d)
{
	struct store_contents c;
	char err[512];
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
