/* Local accounts added while entries are cached: when /etc/passwd or /etc/group changes, the
 * directory entries that a name or id of theirs now shadows leave the cache at once, not at the
 * next refresh.  Until then libnss_dir would answer for them: initgroups would give a new local
 * account its directory namesake's groups, and a directory group would list it as a member
 * (with `dir` before `files`, it would even answer the name).  This runs while a refresh does
 * too, on the db being served; the refresh's db, filtered by the files as they were when it
 * began, is filtered again once it is in. */
#include "local_watch.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fetch.h"
#include "local_accounts.h"
#include "log.h"
#include "publish.h"
#include "refresh.h"

#define CHECK_EVERY_MS 1000

/* What a file looked like when the cache was last filtered by it (main loop only). */
struct seen {
	bool known;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

static struct seen seen_passwd, seen_group;
/* While a refresh runs: what the db being served was filtered by meanwhile.  The refresh read
 * the files when it began, so seen_* stay as they were: once it is over the files are looked at
 * again and its db filtered by them. */
static struct seen refresh_passwd, refresh_group;
static long long checked_ms;
/* The tdb pair was left to a refresh when db was filtered: it is written once the refresh is
 * over. */
static bool store_behind;
/* The local accounts the cache was last filtered by, and whether one of them went since (a
 * full refresh is due once none runs). */
static struct local_accounts last;
static bool have_last, refresh_behind;

static bool same(const struct seen *s, const struct stat *st)
{
	return s->known && s->dev == st->st_dev && s->ino == st->st_ino && s->size == st->st_size &&
	       s->mtime.tv_sec == st->st_mtim.tv_sec && s->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       s->ctime.tv_sec == st->st_ctim.tv_sec && s->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static void remember(struct seen *s, const struct stat *st)
{
	*s = (struct seen){ true, st->st_dev, st->st_ino, st->st_size, st->st_mtim, st->st_ctim };
}

static bool not_local(const struct dir_user *u, void *arg)
{
	return local_accounts_user_clash(arg, u->name, u->uid, u->gid) == LOCAL_CLASH_NONE;
}

/* Takes out of db what the local accounts now shadow; true when anything changed. */
static bool filter(struct db *db, const struct local_accounts *local)
{
	bool changed = db_keep_users(db, not_local, (void *)local) > 0;
	for (size_t i = 0; i < db->c.n_groups;) {
		struct dir_group *g = db->c.groups[i];
		if (local_accounts_group_clash(local, g->name, g->gid) != LOCAL_CLASH_NONE) {
			db_remove_group(db, g->name, g->gid); /* moves another group to i */
			changed = true;
			continue;
		}
		if (fetch_drop_local_members(local, g)) {
			buf_free(&g->encoded); /* a big group's reply bytes: encoded again */
			g->encoded_ttl = 0;
			changed = true;
		}
		i++;
	}
	for (size_t i = 0; i < db->c.n_users; i++)
		changed |= fetch_drop_local_gids(local, db->c.users[i]);
	return changed;
}

static bool set_lost(const struct local_set *was, const struct local_set *now)
{
	for (size_t i = 0; i < was->n_names; i++)
		if (!local_set_has_name(now, was->names[i]))
			return true;
	for (size_t i = 0; i < was->n_ids; i++)
		if (!local_set_has_id(now, was->ids[i]))
			return true;
	return false;
}

/* A local name or id that went may have shadowed a directory entry, which left the cache (or
 * was never let in), and no change stream sends it again while it does not change: a full
 * refresh reads it (and keeps the streams' positions where the server holds them). */
static void note_lost_locked(struct dird *d, struct local_accounts *now)
{
	if (have_last && (set_lost(&last.users, &now->users) || set_lost(&last.groups, &now->groups))) {
		log_info("a local account went: a full refresh reads the directory entries it "
			 "shadowed");
		refresh_behind = true;
	}
	if (have_last)
		local_accounts_free(&last);
	last = *now;
	have_last = true;
	if (refresh_behind && d->cfg.enumerate && !d->refreshing) {
		refresh_behind = false;
		refresh_start_locked(d);
	}
}

/* d->db filtered by the files as they are now and published, and the files remembered in
 * *sp, *sg.  A full refresh (or a stream's whole read) may be writing its own files meanwhile:
 * publish_locked then writes the index alone, so the local names leave the index at once, and
 * the tdb pair follows once nobody else writes it (store_behind). */
static void apply_locked(struct dird *d, const struct stat *p, const struct stat *g,
			 struct seen *sp, struct seen *sg)
{
	struct local_accounts local;
	char err[512];
	if (local_accounts_load(&local, err, sizeof(err)) < 0) {
		log_debug("%s; the cache is filtered by the local accounts once it can be read", err);
		return;
	}
	size_t users = d->db.c.n_users, groups = d->db.c.n_groups;
	bool changed = filter(&d->db, &local);
	note_lost_locked(d, &local); /* keeps local */
	if (changed)
		log_info("the local accounts changed: %zu directory users and %zu groups they shadow "
			 "are no longer served", users - d->db.c.n_users, groups - d->db.c.n_groups);
	if (changed || (store_behind && !d->refreshing)) {
		store_behind = d->refreshing;
		if (publish_locked(d, true) < 0)
			mark_dirty_locked(d); /* the index, at least, is tried again */
	} else if (seen_passwd.known) {
		/* The index lists the local names and ids (`dir` before `files` leaves them to
		 * `files`): it is written again with the new ones. */
		mark_dirty_locked(d);
	}
	remember(sp, p);
	remember(sg, g);
}

void local_watch_tick_locked(struct dird *d)
{
	long long now = now_ms();
	if (now - checked_ms < CHECK_EVERY_MS)
		return;
	checked_ms = now;
	struct stat p, g;
	if (stat(LOCAL_PASSWD_FILE, &p) < 0 || stat(LOCAL_GROUP_FILE, &g) < 0)
		return;
	if (!d->refreshing) {
		refresh_passwd.known = refresh_group.known = false;
		if (refresh_behind && d->cfg.enumerate) {
			refresh_behind = false;
			refresh_start_locked(d);
		}
		if (!same(&seen_passwd, &p) || !same(&seen_group, &g))
			apply_locked(d, &p, &g, &seen_passwd, &seen_group);
		return;
	}
	/* During a refresh: the db being served, as soon as the files differ from what it was
	 * filtered by last (before the refresh, or during it). */
	bool unchanged = refresh_passwd.known ?
				 same(&refresh_passwd, &p) && same(&refresh_group, &g) :
				 same(&seen_passwd, &p) && same(&seen_group, &g);
	if (!unchanged)
		apply_locked(d, &p, &g, &refresh_passwd, &refresh_group);
}
