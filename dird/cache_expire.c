/* dirctl cache expire (as sss_cache -u).  A stream's complete batch is applied to a copy of db
 * taken before it, written with no lock held and installed in db's place (changes.c): an expire
 * meanwhile went into the db that the copy replaces, and is applied again to the copy. */
#include "cache_expire.h"

#include <stdlib.h>
#include <string.h>

#include "protocol.h"

struct cache_expired {
	uint32_t kind;
	char *name;
	uint32_t id;
};

static uint32_t expire_in(struct dird *d, uint32_t kind, const char *name, uint32_t id)
{
	struct db *db = &d->db;
	struct dir_user *u = kind ? NULL : name ? db_user_by_name(db, name) : db_user_by_uid(db, id);
	struct dir_group *g = !kind ? NULL : name ? db_group_by_name(db, name) : db_group_by_gid(db, id);
	if (!u && !g)
		return DIR_NOTFOUND;
	if (d->cfg.entry_ttl && u)
		u->fetched = 1;
	else if (d->cfg.entry_ttl)
		g->fetched = 1;
	else if (u)
		db_remove_user(db, u->name, u->uid);
	else
		db_remove_group(db, g->name, g->gid);
	return DIR_OK;
}

/* Kept for the batch's copy; out of memory, it is not (as before: the copy's entry stays). */
static void keep(struct dird *d, uint32_t kind, const char *name, uint32_t id)
{
	struct cache_expired *p = realloc(d->expired, (d->n_expired + 1) * sizeof(*p));
	if (!p)
		return;
	d->expired = p;
	char *copy = name ? strdup(name) : NULL;
	if (name && !copy)
		return;
	d->expired[d->n_expired++] = (struct cache_expired){ kind, copy, id };
}

uint32_t cache_expire_locked(struct dird *d, uint32_t kind, const char *name, uint32_t id)
{
	uint32_t st = expire_in(d, kind, name, id);
	if (st == DIR_OK && d->refreshing)
		keep(d, kind, name, id);
	return st;
}

void cache_expire_forget_locked(struct dird *d)
{
	for (size_t i = 0; i < d->n_expired; i++)
		free(d->expired[i].name);
	free(d->expired);
	d->expired = NULL;
	d->n_expired = 0;
}

bool cache_expire_replay_locked(struct dird *d)
{
	bool changed = false;
	for (size_t i = 0; i < d->n_expired; i++) {
		const struct cache_expired *e = &d->expired[i];
		changed |= expire_in(d, e->kind, e->name, e->id) == DIR_OK;
	}
	cache_expire_forget_locked(d);
	return changed;
}
