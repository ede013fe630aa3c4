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
#include "protocol.h"
#include "publish.h"
#include "reclaim.h"
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
/* The local accounts the cache was last filtered by, and whether a full refresh is due once
 * none runs (too many of them went to read what they shadowed one by one). */
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

/* What of `was` is not in `now`, each queued for the worker to read from the domains (op_name
 * for its names, op_id for its ids).  false when the queue is full. */
static bool queue_lost_locked(struct dird *d, const struct local_set *was,
			      const struct local_set *now, uint32_t op_name, uint32_t op_id,
			      unsigned flags_name, unsigned flags_id, size_t *n)
{
	for (size_t i = 0; i < was->n_names; i++) {
		if (local_set_has_name(now, was->names[i]))
			continue;
		(*n)++;
		if (!reclaim_queue_locked(d, op_name, was->names[i], 0, SIZE_MAX, flags_name))
			return false;
	}
	for (size_t i = 0; i < was->n_ids; i++) {
		if (local_set_has_id(now, was->ids[i]))
			continue;
		(*n)++;
		if (!reclaim_queue_locked(d, op_id, NULL, was->ids[i], SIZE_MAX, flags_id))
			return false;
	}
	return true;
}

/* A local name or id that went may have shadowed a directory entry, which left the cache (or
 * was never let in), and no change stream sends it again while it does not change: the worker
 * reads each name and id that went from the domains, as a miss would (reclaim.c), a user with
 * the groups naming it, a gid with the users whose primary gid it is.  A full refresh reads
 * them only when that queue is full, or those users cannot be read one by one (lookup.c).  At
 * dird's start, what went is what the last dird's RECLAIM_FILE lists and is not local now:
 * the local accounts it filtered the cache by and what its queue held (reclaim.h). */
static void note_lost_locked(struct dird *d, struct local_accounts *now)
{
	size_t n = 0;
	/* dird's start: what the last dird left out for them (reclaim.h) is what went since */
	if (!have_last && !reclaim_load_locked(d, now)) {
		log_info("a full refresh reads what the last dird left out for local accounts");
		refresh_behind = true;
	}
	if (have_last &&
	    !(queue_lost_locked(d, &last.users, &now->users, DIR_OP_GETPWNAM, DIR_OP_GETPWUID,
				RECLAIM_GROUPS, RECLAIM_GROUPS, &n) &&
	      queue_lost_locked(d, &last.groups, &now->groups, DIR_OP_GETGRNAM, DIR_OP_GETGRGID, 0,
				RECLAIM_PRIMARY, &n))) {
		log_info("too many local accounts went to read what they shadowed one by one: a full "
			 "refresh reads the directory entries they shadowed");
		refresh_behind = true;
	} else if (n) {
		log_info("local accounts went: the directory's entries of their %zu names and ids are "
			 "read again", n);
	}
	if (have_last)
		local_accounts_free(&last);
	last = *now;
	have_last = true;
	reclaim_save_locked(d, &last);
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
	d->local_changes++;
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

/* The files looked at, and the cache filtered by them if they changed. */
static void look_locked(struct dird *d)
{
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

void local_watch_tick_locked(struct dird *d)
{
	long long now = now_ms();
	if (now - checked_ms < CHECK_EVERY_MS)
		return;
	checked_ms = now;
	look_locked(d);
	/* the queue changed since (a name read back, a clash's winner gone): written again, once
	 * the local accounts the cache was filtered by are known (until then the file is the last
	 * dird's) */
	if (have_last && d->reclaim_unsaved)
		reclaim_save_locked(d, &last);
}

void local_watch_stop_locked(struct dird *d)
{
	if (have_last && d->reclaim_unsaved)
		reclaim_save_locked(d, &last);
}
