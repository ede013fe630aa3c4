/* A domain taken out of dird.conf (by a reload, or while dird was stopped): with every domain
 * left streamed no full refresh runs (refresh_due_locked, or streams that all resume at start),
 * and each stream drops only its own domain's entries, so the gone domain's users would be
 * served for good.  They go here (sync_start_locked), as a refresh would leave them out; so do
 * the cached entries below a min_id raised meanwhile. */
#include "gone_domains.h"

#include <string.h>

#include "log.h"
#include "publish.h"
#include "refresh.h"

/* The domain of that name in the configuration, or NULL. */
static const struct dir_domain *configured(const struct dird *d, const char *domain)
{
	for (size_t i = 0; domain && i < d->cfg.n_domains; i++)
		if (strcmp(d->cfg.domains[i].name, domain) == 0)
			return &d->cfg.domains[i];
	return NULL;
}

/* A cached user its domain still serves: with min_ids, also its min_id, which may have been
 * raised while dird was stopped (the streams resume: nothing sends such a user again to be
 * refused). */
struct served {
	const struct dird *d;
	bool min_ids;
};

static bool user_served(const struct dir_user *u, void *arg)
{
	const struct served *s = arg;
	const struct dir_domain *dom = configured(s->d, u->domain);
	return dom && (!s->min_ids || (u->uid >= dom->min_id && u->gid >= dom->min_id));
}

static bool group_served(const struct served *s, const struct dir_group *g)
{
	const struct dir_domain *dom = configured(s->d, g->domain);
	return dom && (!s->min_ids || g->gid >= dom->min_id);
}

/* Whether the min_ids drop most of the cache: then they are kept out as a refresh that would
 * is (test_first_slice.sh), until dirctl cache refresh --accept-shrink. */
static bool min_ids_drop_most(const struct dird *d)
{
	struct served s = { d, true };
	size_t users = 0, groups = 0;
	for (size_t i = 0; i < d->db.c.n_users; i++)
		users += user_served(d->db.c.users[i], &s);
	for (size_t i = 0; i < d->db.c.n_groups; i++)
		groups += group_served(&s, d->db.c.groups[i]);
	return !d->accept_shrink && d->cfg.enumerate &&
	       (refresh_drops_most(d->db.c.n_users, users) ||
		refresh_drops_most(d->db.c.n_groups, groups));
}

void gone_domains_drop_locked(struct dird *d)
{
	struct served s = { d, !min_ids_drop_most(d) };
	if (!s.min_ids)
		log_warning("the min_id in force would take most of the cache out: kept out "
			    "(dirctl cache refresh --accept-shrink takes it)");
	size_t users = db_keep_users(&d->db, user_served, &s), groups = 0;
	for (size_t i = 0; i < d->db.c.n_groups;) {
		struct dir_group *g = d->db.c.groups[i];
		if (group_served(&s, g)) {
			i++;
			continue;
		}
		for (uint32_t m = 0; m < g->n_members; m++) {
			struct dir_user *u = db_user_by_name(&d->db, g->members[m]);
			if (u)
				db_user_drop_gid(u, g->gid);
		}
		db_remove_group(&d->db, g->name, g->gid); /* moves another group to i */
		groups++;
	}
	if (!users && !groups)
		return;
	log_info("%zu users and %zu groups of domains dird.conf no longer names, or below their "
		 "min_id, are no longer served", users, groups);
	mark_dirty_locked(d);
	if (publish_locked(d, true) < 0)
		log_warning("cannot write the cache without them: it is written at the next change");
}
